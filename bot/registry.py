"""The conversation registry at the Teams edge: install, uninstall, team deleted, bot removed."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from botbuilder.schema import Activity
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.activities import to_incoming
from dialogs import subscriptions as subscription_commands
from dialogs.model import Incoming
from dialogs.understanding import Language
from storage import subscriptions
from storage.subscriptions import ConversationInfo

log = logging.getLogger(__name__)


def conversation_info(incoming: Incoming) -> ConversationInfo:
    """An install or removal has no words to go by: the client's locale decides the language."""
    lang: Language = "en" if (incoming.locale or "").lower().startswith("en") else "da"
    return subscription_commands.conversation_info(incoming, lang)


async def remember(db: AsyncConnection, activity: Activity) -> None:
    """The bot was installed (or added) here: remember the conversation for notices."""
    incoming = to_incoming(activity)
    if not incoming.conversation_id or not incoming.service_url:
        return
    await subscriptions.remember(db, conversation_info(incoming), datetime.now(UTC))
    await db.commit()


async def forget(db: AsyncConnection, activity: Activity, reason: str) -> None:
    incoming = to_incoming(activity)
    if incoming.conversation_id:
        await subscriptions.forget(db, incoming.conversation_id, reason, datetime.now(UTC))
        await db.commit()


async def forget_team(db: AsyncConnection, team_id: str | None, reason: str) -> None:
    if team_id:
        await subscriptions.forget_team(db, team_id, reason, datetime.now(UTC))
        await db.commit()
