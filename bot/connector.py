"""Bot Framework authentication that reuses one connector client per service URL, and sends
only to service URLs that authenticated activities came from.

Stock botbuilder 4.17 builds a fresh msrest ConnectorClient (and a TokenApiClient) on every
turn, and building their retry policies dominates the cost of a turn; its replies then go
through `requests` in a thread pool. Here authentication is botbuilder's own
(ConfigurationBotFrameworkAuthentication), but each (service URL, audience) gets one
BotConnectorClient on the process's shared aiohttp session, with the credentials botbuilder
created for it.

With credentials, the bot sends its token only where Teams told it to: to a service URL that
came in on an activity whose token was valid (its `serviceurl` claim matches, which botbuilder
checks), in this process or in another (table conversation_ref, written only from
authenticated turns). Any other URL is refused before a client exists, so a crafted
`serviceUrl` cannot make the bot send its token or messages elsewhere.

Before botbuilder sees a token, the bot refuses the ones botbuilder would let through too
easily (`token_refusal`): any token without an expiry (PyJWT checks `exp` only when present),
a skill's (the bot takes no skill calls), and, unless KLIKBOT_ALLOW_EMULATOR_TOKENS is on, a
token botbuilder would check as the Bot Framework Emulator's. That branch checks neither the
audience nor a `serviceurl` claim, so the bot's own token for the Bot Connector, replayed, would
pass it and make any service URL trusted.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import jwt
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import CallerIdConstants
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    EmulatorValidation,
    ServiceClientCredentialsFactory,
    SkillValidation,
    UserTokenClient,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.activities import turn_origin
from bot.bot_connector import BotConnectorClient
from storage.models import ConversationRef
from storage.subscriptions import CHANNEL, NOAUTH, UNKNOWN

log = logging.getLogger(__name__)


class UntrustedServiceUrl(PermissionError):
    """The bot was asked to send to a service URL that no authenticated activity came from."""

    def __init__(self, service_url: str) -> None:
        super().__init__(
            f"refusing to send to {service_url!r}: no authenticated activity came from that service URL"
        )
        self.service_url = service_url


# Where Teams' Bot Connector lives (the public cloud, GCC, GCC High, DoD). A conversation_ref
# row older than its `origin` column is trusted only at one of these hosts.
MICROSOFT_SERVICE_HOSTS = (
    "smba.trafficmanager.net",
    "smba.infra.gcc.teams.microsoft.com",
    "smba.infra.gov.teams.microsoft.us",
    "smba.infra.dod.teams.microsoft.us",
)


def microsoft_service_url(url: str) -> bool:
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    return parts.scheme.lower() == "https" and (
        host in MICROSOFT_SERVICE_HOSTS or host.endswith(".botframework.com")
    )


def token_refusal(auth_header: str, *, app_id: str, allow_emulator: bool) -> str | None:
    """Why the bot refuses the token in an Authorization header before botbuilder checks it
    (None: botbuilder decides). Only the unverified claims are read here: botbuilder verifies the
    signature of whatever passes, and a payload without `exp` has none once verified either."""
    if not auth_header:
        return None  # botbuilder: 401 with credentials, the anonymous caller without
    scheme, _, token = auth_header.partition(" ")
    if scheme != "Bearer" or not token:
        return "the Authorization header is not a bearer token"
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return "the token is not a JWT"
    expiry = claims.get("exp")
    if not isinstance(expiry, int | float) or isinstance(expiry, bool):
        return "the token has no expiry (exp)"
    # The branches in botbuilder's order (JwtTokenValidation.validate_auth_header).
    if SkillValidation.is_skill_claim(claims):
        return "a skill's token: the bot takes no skill calls"
    if claims.get("iss") in EmulatorValidation.TO_BOT_FROM_EMULATOR_TOKEN_VALIDATION_PARAMETERS.issuer:
        if not allow_emulator:
            return "a Bot Framework Emulator token, and KLIKBOT_ALLOW_EMULATOR_TOKENS is off"
        if claims.get("aud") != app_id:
            # The Emulator's token is for this app ({app id}/.default). One for the Bot Connector
            # is the bot's own, replayed; botbuilder would trust its service URL and fail after.
            return "an Emulator token that is not for this app"
    return None


def normalized_service_url(url: str) -> str:
    """A service URL as compared for trust: scheme and host lower-cased, no trailing slash."""
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query, ""))


class TrustedServiceUrls:
    """The service URLs the bot may send to with credentials: those of activities authenticated
    in this process, and those stored in conversation_ref (by any process, from authenticated
    turns), looked up again when a URL is not known here."""

    def __init__(self, engine: AsyncEngine | None = None) -> None:
        self._engine = engine
        self._urls: set[str] = set()

    def add(self, service_url: str) -> None:
        self._urls.add(normalized_service_url(service_url))

    async def contains(self, service_url: str) -> bool:
        wanted = normalized_service_url(service_url)
        if wanted in self._urls:
            return True
        if self._engine is None:
            return False
        # Teams uses a handful of service URLs, so the distinct ones are few. Only rows that an
        # authenticated channel activity wrote count: not no-auth mode's, not `klikbot chat`'s.
        ref = ConversationRef.__table__.c
        async with self._engine.connect() as db:
            rows = (await db.execute(select(ref.service_url, ref.origin).distinct())).all()
        self._urls.update(
            normalized_service_url(row.service_url)
            for row in rows
            if row.origin == CHANNEL or (row.origin == UNKNOWN and microsoft_service_url(row.service_url))
        )
        return wanted in self._urls


class SharedConnectorFactory(ConnectorFactory):  # type: ignore[misc]
    def __init__(
        self,
        inner: ConnectorFactory,
        cache: dict[tuple[str, str | None], BotConnectorClient],
        http: aiohttp.ClientSession,
        trusted: TrustedServiceUrls | None = None,
    ) -> None:
        self._inner = inner
        self._cache = cache
        self._http = http
        self._trusted = trusted

    async def create(self, service_url: str, audience: str | None = None) -> BotConnectorClient:
        key = (service_url, audience)
        client = self._cache.get(key)
        if client is None:
            # A cached client's URL was trusted when it was made; trust is never withdrawn.
            if self._trusted is not None and not await self._trusted.contains(service_url):
                raise UntrustedServiceUrl(service_url)
            # botbuilder's factory picks the credentials for this cloud and audience; its msrest
            # client is built once here only to carry them.
            template = await self._inner.create(service_url, audience)
            client = BotConnectorClient(self._http, service_url, template.config.credentials)
            self._cache[key] = client
        return client


class SharedClientsAuthentication(BotFrameworkAuthentication):  # type: ignore[misc]
    """Wraps botbuilder's ConfigurationBotFrameworkAuthentication; client creation changes, and
    every way a request fails authentication becomes a PermissionError (HTTP 401)."""

    def __init__(
        self,
        inner: BotFrameworkAuthentication,
        http: aiohttp.ClientSession,
        trusted: TrustedServiceUrls | None = None,
        *,
        app_id: str = "",
        allow_emulator_tokens: bool = False,
    ) -> None:
        self._inner = inner
        self._http = http
        self._app_id = app_id
        self._allow_emulator_tokens = allow_emulator_tokens
        # None: no-auth mode (loopback only), where the bot sends wherever an activity says.
        self.trusted = trusted
        # Keyed by (service URL, audience): one app's clients per Bot Connector endpoint.
        self._connectors: dict[tuple[str, str | None], BotConnectorClient] = {}
        self._user_token_clients: dict[str, UserTokenClient] = {}

    def _factory(self, inner: ConnectorFactory) -> SharedConnectorFactory:
        return SharedConnectorFactory(inner, self._connectors, self._http, self.trusted)

    def _refuse_odd_tokens(self, auth_header: str | None) -> None:
        refusal = token_refusal(
            auth_header or "", app_id=self._app_id, allow_emulator=self._allow_emulator_tokens
        )
        if refusal is not None:
            log.info("refused an activity: %s", refusal)
            raise PermissionError(f"the request's token is not accepted: {refusal}")

    async def authenticate_request(self, activity: Any, auth_header: str) -> AuthenticateRequestResult:
        self._refuse_odd_tokens(auth_header)
        try:
            result = await self._inner.authenticate_request(activity, auth_header)
        except PermissionError as error:
            log.info("refused an activity: %s", error)
            raise
        except OSError:
            # The OpenID metadata could not be fetched (requests' errors are OSErrors): the
            # fault is on this side, not the caller's.
            raise
        except Exception as error:
            # botbuilder lets some bad tokens through as PyJWT's errors (a bad signature, an
            # expired token), IndexError (an unknown key id), KeyError (no issuer) or a bare
            # Exception (a key not endorsed for the channel): each is a refusal.
            log.info("refused an activity: %s: %s", type(error).__name__, error)
            raise PermissionError(f"the request's token is not valid: {type(error).__name__}") from error
        if self.trusted is not None and activity.service_url:
            # The token was valid for this service URL (its `serviceurl` claim matched); an
            # Emulator token (only with KLIKBOT_ALLOW_EMULATOR_TOKENS) vouches for no URL, so its
            # conversations are recorded as no-auth mode's, trusted for this process's replies only.
            self.trusted.add(activity.service_url)
            emulator = EmulatorValidation.is_token_from_emulator(auth_header)
            turn_origin.set(NOAUTH if emulator else CHANNEL)
        else:
            turn_origin.set(NOAUTH)
        if result.connector_factory is not None:
            result.connector_factory = self._factory(result.connector_factory)
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        self._refuse_odd_tokens(auth_header)
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self._factory(self._inner.create_connector_factory(claims_identity))

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        app_id = ""
        for claim in ("aud", "appid", "azp"):
            value = claims_identity.claims.get(claim) if claims_identity and claims_identity.claims else None
            if value:
                app_id = str(value)
                break
        client = self._user_token_clients.get(app_id)
        if client is None:
            client = await self._inner.create_user_token_client(claims_identity)
            self._user_token_clients[app_id] = client
        return client

    def create_bot_framework_client(self) -> Any:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return str(self._inner.get_originating_audience())

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        self._refuse_odd_tokens(auth_header)
        return await self._inner.authenticate_channel_request(auth_header)

    async def close(self) -> None:
        """Forget the clients; the shared session is closed by its owner."""
        self._connectors.clear()
        self._user_token_clients.clear()


class _Config:
    """The attribute bag ConfigurationBotFrameworkAuthentication reads its settings from."""

    def __init__(
        self,
        app_id: str,
        password: str,
        app_type: str,
        tenant_id: str,
        openid_metadata_url: str | None = None,
        token_issuer: str | None = None,
        emulator_openid_metadata_url: str | None = None,
    ) -> None:
        self.APP_ID = app_id
        self.APP_PASSWORD = password
        self.APP_TYPE = app_type
        self.APP_TENANTID = tenant_id
        if openid_metadata_url or token_issuer or emulator_openid_metadata_url:
            # Any TO_BOT_FROM_* attribute makes botbuilder's BotFrameworkAuthenticationFactory
            # build a _ParameterizedBotFrameworkAuthentication, which takes every endpoint from this
            # bag: the public Azure cloud's, as _PublicCloudBotFrameworkAuthentication has them,
            # except where the channel's (or the Emulator's) signing keys are published and who
            # issues the channel's tokens.
            self.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = (
                openid_metadata_url or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
            )
            self.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = (
                token_issuer or AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
            )
            self.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = (
                emulator_openid_metadata_url
                or AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
            )
            self.TO_CHANNEL_FROM_BOT_LOGIN_URL = AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX
            self.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
            self.OAUTH_URL = AuthenticationConstants.OAUTH_URL
            self.CALLER_ID = CallerIdConstants.public_azure_channel
            self.VALIDATE_AUTHORITY = True


def create_authentication(
    app_id: str,
    password: str,
    app_type: str,
    tenant_id: str,
    http: aiohttp.ClientSession,
    *,
    openid_metadata_url: str | None = None,
    token_issuer: str | None = None,
    emulator_openid_metadata_url: str | None = None,
    allow_emulator_tokens: bool = False,
    credentials_factory: ServiceClientCredentialsFactory | None = None,
    engine: AsyncEngine | None = None,
) -> SharedClientsAuthentication:
    """botbuilder's authentication for these credentials (none: no-auth mode). The channel's
    OpenID metadata URL and token issuer may be overridden (tests, a private Bot Framework
    deployment), and the Emulator's metadata URL (tests); Emulator tokens are refused unless
    `allow_emulator_tokens` (local development); `credentials_factory` replaces the one made from
    the app id and password (tests: tokens without Microsoft Entra ID); `engine` holds
    conversation_ref, whose service URLs are trusted."""
    configuration = _Config(
        app_id,
        password,
        app_type,
        tenant_id,
        openid_metadata_url if app_id else None,
        token_issuer if app_id else None,
        emulator_openid_metadata_url if app_id else None,
    )
    inner = ConfigurationBotFrameworkAuthentication(configuration, credentials_factory=credentials_factory)
    trusted = TrustedServiceUrls(engine) if app_id else None
    return SharedClientsAuthentication(
        inner, http, trusted, app_id=app_id, allow_emulator_tokens=allow_emulator_tokens
    )
