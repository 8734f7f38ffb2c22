"""Everything a running bot needs, built once per process and closed at the end."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from botbuilder.core import ConversationState
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.connector import SharedClientsAuthentication, create_authentication
from bot.pacing import Pacing
from bot.reply_delivery import ReplyDelivery
from bot.settings import Settings, SettingsError
from bot.state_storage import SqlStorage
from bot.teams_bot import KlikBot
from dialogs.card_signing import CardSigner
from dialogs.conversation import Conversation
from dialogs.understanding import warm_up
from storage.db import SessionFactory, create_engine, session_factory
from storage.demo import database_is_empty, ensure_municipalities, load_demo
from storage.migrate import alembic_config, upgrade_async
from storage.secrets import shared_secret
from storage.state_store import StateStore

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: SessionFactory
    conversation: Conversation
    conversation_state: ConversationState
    bot: KlikBot
    authentication: SharedClientsAuthentication
    http: aiohttp.ClientSession  # one session for every outbound call the bot makes itself
    pacing: Pacing  # Teams' limits, shared by the chat's replies and the delivery worker


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def prepare_database(settings: Settings, engine: AsyncEngine, sessions: SessionFactory) -> None:
    """Migrate an embedded SQLite database (or any database in demo mode) automatically; a
    PostgreSQL database in production must be migrated with `klikbot db upgrade` first."""
    embedded = make_url(settings.database_url).get_backend_name() == "sqlite"
    if embedded or settings.demo:
        await upgrade_async(settings.database_url)
    else:
        head = ScriptDirectory.from_config(alembic_config(settings.database_url)).get_current_head()
        async with engine.connect() as connection:
            current = await connection.run_sync(_current_revision)
        if current != head:
            raise SettingsError(
                f"the database is at schema revision {current or 'none'}, the bot needs {head}: "
                "run `klikbot db upgrade` first"
            )
    async with sessions() as session, session.begin():
        if settings.demo and await database_is_empty(session):
            summary = await load_demo(session)
            log.info("loaded the demo dataset: %s", summary)
        elif added := await ensure_municipalities(session):
            log.info("added the %d municipalities", added)


# MicrosoftAppType (lower-cased) -> (needs MicrosoftAppPassword, needs MicrosoftAppTenantId),
# as botbuilder's ConfigurationServiceClientCredentialFactory reads them.
_APP_TYPES = {
    "multitenant": (True, False),
    "singletenant": (True, True),
    "userassignedmsi": (False, True),
}


def check_credentials(settings: Settings) -> None:
    """Refuse Bot Framework credentials the bot cannot authenticate with, before anything starts
    (botbuilder would fail later with a bare Exception, or reject every request)."""
    if not settings.has_credentials:
        return
    app_type = settings.app_type.strip()
    needs = _APP_TYPES.get(app_type.lower())
    if needs is None:
        raise SettingsError(
            f"MicrosoftAppType {app_type!r} kendes ikke / is not known: "
            "use MultiTenant, SingleTenant or UserAssignedMSI"
        )
    needs_password, needs_tenant = needs
    if needs_password and not settings.app_password and settings.credentials_factory is None:
        raise SettingsError(
            f"MicrosoftAppPassword mangler / is missing: MicrosoftAppId is set and MicrosoftAppType "
            f"{app_type} needs the app registration's client secret"
        )
    if needs_tenant and not settings.app_tenant_id:
        raise SettingsError(
            f"MicrosoftAppTenantId mangler / is missing: MicrosoftAppType {app_type} needs the "
            "app registration's tenant id"
        )


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


async def check_database(settings: Settings, engine: AsyncEngine) -> None:
    """Fail at once, in one line, when the database does not answer."""
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (OSError, DBAPIError) as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()
        raise SettingsError(
            f"kan ikke nå databasen / cannot reach the database {_safe_url(settings.database_url)}: "
            f"{reason[0] if reason else type(error).__name__}"
        ) from error


@asynccontextmanager
async def open_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    check_credentials(settings)
    engine = create_engine(settings.database_url)
    authentication: SharedClientsAuthentication | None = None
    http: aiohttp.ClientSession | None = None
    try:
        sessions = session_factory(engine)
        await check_database(settings, engine)
        await prepare_database(settings, engine, sessions)
        warm_up()
        signer = CardSigner(await shared_secret(engine, "card-signing"))
        conversation = Conversation(
            engine, settings.clock(), settings.admin_tenant_ids, signer, public_url=settings.public_url
        )
        conversation_state = ConversationState(SqlStorage(StateStore(engine)))
        http = aiohttp.ClientSession()
        pacing = Pacing(settings.tenant_rate)
        bot = KlikBot(conversation, conversation_state, ReplyDelivery(engine, pacing))
        authentication = create_authentication(
            settings.app_id,
            settings.app_password,
            settings.app_type,
            settings.app_tenant_id,
            http,
            openid_metadata_url=settings.openid_metadata_url,
            token_issuer=settings.token_issuer,
            emulator_openid_metadata_url=settings.emulator_openid_metadata_url,
            allow_emulator_tokens=settings.allow_emulator_tokens,
            credentials_factory=settings.credentials_factory,
            engine=engine,
        )
        yield Runtime(
            settings, engine, sessions, conversation, conversation_state, bot, authentication, http, pacing
        )
    finally:
        if http is not None:
            await http.close()
        if authentication is not None:
            await authentication.close()
        await engine.dispose()
