"""Bot Framework authentication with credentials, offline.

A local identity service stands in for login.botframework.com (OpenID metadata and JWKS on
loopback, with the tests' own RSA key); the bot is pointed at it with KLIKBOT_OPENID_METADATA_URL
and KLIKBOT_TOKEN_ISSUER. It stands in for the Bot Framework Emulator's token issuer (Microsoft
Entra ID's botframework.com tenant) too, with another key, through
KLIKBOT_EMULATOR_OPENID_METADATA_URL, so botbuilder's Emulator branch really runs. The bot's own
tokens for the Bot Connector come from an injected credentials factory instead of Microsoft Entra
ID, so nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import functools
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
import requests
from aiohttp import ClientSession, web
from botframework.connector.auth import (
    AppCredentials,
    ClaimsIdentity,
    MicrosoftAppCredentials,
    PasswordServiceClientCredentialFactory,
)
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import select

from bot.app import RUNTIME
from bot.connector import TrustedServiceUrls, UntrustedServiceUrl, create_authentication
from bot.notice_transport import BotConnectorTransport
from bot.settings import Settings, SettingsError
from dialogs.model import Reply
from storage import subscriptions
from storage.db import create_engine
from storage.models import ConversationRef
from storage.subscriptions import CHANNEL, NOAUTH, TERMINAL, UNKNOWN, ConversationInfo
from tests.conftest import DEMO_NOW
from tests.fake_connector import FakeConnector
from tests.harness import VEJLE, BotUnderTest, raw_status, start_bot

APP_ID = "6f1c1e64-7a7e-4c4f-9a59-0a4b2f1f2a10"
OTHER_APP_ID = "0b7e2f0e-3d55-4a8e-b7a5-5f3f1d2c9e44"
ISSUER = "https://api.botframework.test"
KEY_ID = "klikbot-test-signing-key"
# What the bot's own tokens are for (the Bot Connector), and who issues them in these tests.
BOT_CONNECTOR_SCOPE = "https://api.botframework.com"
ENTRA_ISSUER = "https://login.microsoftonline.test/botframework.com/v2.0"
# The issuers botbuilder takes for the Bot Framework Emulator's (EmulatorValidation): tokens of
# the botframework.com tenant, v1.0 and v2.0. The bot's own tokens for the Bot Connector look
# the same.
EMULATOR_ISSUER_V1 = "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/"
EMULATOR_ISSUER_V2 = "https://login.microsoftonline.com/d6d49420-f39b-4df7-a1dc-d59a935871db/v2.0"
EMULATOR_KEY_ID = "klikbot-test-emulator-key"


@functools.cache
def _key(name: str) -> rsa.RSAPrivateKey:
    """One RSA key per role, made once per test session: the channel's signing key, an
    attacker's key, and the key of the stand-in for Microsoft Entra ID."""
    del name
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def channel_key() -> rsa.RSAPrivateKey:
    return _key("channel")


def attacker_key() -> rsa.RSAPrivateKey:
    return _key("attacker")


def entra_key() -> rsa.RSAPrivateKey:
    return _key("entra")


def emulator_key() -> rsa.RSAPrivateKey:
    return _key("emulator")


class IdentityService:
    """OpenID metadata and the channel's signing keys on loopback, as login.botframework.com
    publishes them; and the Emulator's, as Microsoft Entra ID publishes them for the
    botframework.com tenant (another key, endorsed for no channel). It runs on its own event loop
    in a thread: botbuilder fetches the keys with blocking `requests` calls on the bot's loop,
    which would wait forever on a server sharing it."""

    def __init__(self) -> None:
        jwk = RSAAlgorithm.to_jwk(channel_key().public_key(), as_dict=True)
        jwk.update({"kid": KEY_ID, "use": "sig", "endorsements": ["msteams"]})
        self._jwks = {"keys": [jwk]}
        emulator_jwk = RSAAlgorithm.to_jwk(emulator_key().public_key(), as_dict=True)
        emulator_jwk.update({"kid": EMULATOR_KEY_ID, "use": "sig"})
        self._emulator_jwks = {"keys": [emulator_jwk]}
        self.requests: list[str] = []
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._run, name="identity-service", daemon=True)
        self.base = ""

    @property
    def metadata_url(self) -> str:
        return f"{self.base}/v1/.well-known/openidconfiguration"

    @property
    def emulator_metadata_url(self) -> str:
        return f"{self.base}/botframework.com/v2.0/.well-known/openid-configuration"

    async def _metadata(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        return web.json_response(
            {
                "issuer": ISSUER,
                "authorization_endpoint": f"{self.base}/v1/.well-known/authorize",
                "jwks_uri": f"{self.base}/v1/.well-known/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        return web.json_response(self._jwks)

    async def _emulator_metadata(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        return web.json_response(
            {
                "issuer": EMULATOR_ISSUER_V2,
                "jwks_uri": f"{self.base}/botframework.com/discovery/v2.0/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def _emulator_keys(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        return web.json_response(self._emulator_jwks)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", self._metadata)
        app.router.add_get("/v1/.well-known/keys", self._keys)
        app.router.add_get("/botframework.com/v2.0/.well-known/openid-configuration", self._emulator_metadata)
        app.router.add_get("/botframework.com/discovery/v2.0/keys", self._emulator_keys)
        runner = web.AppRunner(app)
        self._runner = runner
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        host, port = runner.addresses[0][:2]
        self.base = f"http://{host}:{port}"
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.close()

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the identity service did not start")

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)


def channel_token(
    service_url: str,
    *,
    key: rsa.RSAPrivateKey | None = None,
    audience: str = APP_ID,
    issuer: str = ISSUER,
    expires_in: int | None = 3600,
    key_id: str = KEY_ID,
) -> str:
    """A token as the Bot Framework channel signs it for an activity it sends the bot
    (`expires_in` None: without `exp`)."""
    now = int(time.time())
    claims: dict[str, Any] = {"iss": issuer, "aud": audience, "serviceurl": service_url}
    if expires_in is None:
        claims["nbf"] = now - 300
    else:
        claims["nbf"] = min(now, now + expires_in) - 300
        claims["exp"] = now + expires_in
    return jwt.encode(claims, key or channel_key(), algorithm="RS256", headers={"kid": key_id})


def emulator_token(
    *,
    version: str = "2.0",
    app_id: str = APP_ID,
    key: rsa.RSAPrivateKey | None = None,
    expires_in: int | None = 3600,
    **extra: Any,
) -> str:
    """A token as Microsoft Entra ID issues it to the Bot Framework Emulator: the botframework.com
    tenant's, for the app (the Emulator asks for `{app id}/.default` with the app's secret),
    naming the app in `appid` (v1.0) or `azp` (v2.0), and no `serviceurl` claim. With
    `aud=BOT_CONNECTOR_SCOPE` it is the bot's own token for the Bot Connector. `expires_in`
    None: without `exp`."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": EMULATOR_ISSUER_V1 if version == "1.0" else EMULATOR_ISSUER_V2,
        "aud": app_id,
        "ver": version,
        "appid" if version == "1.0" else "azp": app_id,
        "nbf": now - 300,
    }
    if expires_in is not None:
        claims["exp"] = now + expires_in
    claims.update(extra)
    return jwt.encode(claims, key or emulator_key(), algorithm="RS256", headers={"kid": EMULATOR_KEY_ID})


class _IssuedCredentials(AppCredentials):  # type: ignore[misc]
    """The bot's credentials for the Bot Connector: a token from the stand-in for Entra ID."""

    def __init__(self, factory: LocalTokenFactory, app_id: str, oauth_scope: str) -> None:
        super().__init__(app_id=app_id, oauth_scope=oauth_scope)
        self._factory = factory

    def get_access_token(self, force_refresh: bool = False) -> str:
        self._factory.issued.append(self.oauth_scope)
        now = int(time.time())
        claims = {
            "iss": ENTRA_ISSUER,
            "aud": self.oauth_scope,
            "appid": self.microsoft_app_id,
            "nbf": now - 60,
            "exp": now + 3600,
        }
        return jwt.encode(claims, entra_key(), algorithm="RS256")


class LocalTokenFactory(PasswordServiceClientCredentialFactory):  # type: ignore[misc]
    """botbuilder's password credentials factory (app id checks included), whose credentials
    get their tokens here instead of from login.microsoftonline.com."""

    def __init__(self) -> None:
        super().__init__(APP_ID, "test-secret")
        self.issued: list[str] = []  # the scope of every token handed out

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> AppCredentials:
        if not await self.is_valid_app_id(app_id):
            raise PermissionError(f"no credentials for app {app_id}")
        return _IssuedCredentials(self, app_id, oauth_scope)


@pytest.fixture(scope="module")
def identity() -> Iterator[IdentityService]:
    service = IdentityService()
    service.start()
    yield service
    service.stop()


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """botbuilder fetches OpenID metadata with `requests.get`: fail any fetch that would leave
    the machine (login.botframework.com) instead of letting it try."""
    real_get = requests.get

    def get(url: str, *args: Any, **kwargs: Any) -> requests.Response:
        assert urlsplit(url).hostname == "127.0.0.1", f"the test tried to reach {url}"
        return real_get(url, *args, **kwargs)

    monkeypatch.setattr(requests, "get", get)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")


class CredentialedBot:
    def __init__(self, bot: BotUnderTest, tokens: LocalTokenFactory) -> None:
        self.bot = bot
        self.connector = bot.connector
        self.tokens = tokens
        self.others: list[FakeConnector] = []

    async def other_connector(self) -> FakeConnector:
        """Another Bot Connector endpoint (an attacker's, or another Teams region)."""
        connector = FakeConnector()
        await connector.start()
        self.others.append(connector)
        return connector

    async def post(self, body: dict[str, Any], token: str | None) -> int:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        response = await self.bot.post(body, headers)
        return response.status

    def transport(self) -> BotConnectorTransport:
        runtime = self.bot.server.app[RUNTIME]
        return BotConnectorTransport(runtime.authentication, APP_ID)


@asynccontextmanager
async def credentialed_bot(
    database_url: str, identity: IdentityService, **settings: Any
) -> AsyncIterator[CredentialedBot]:
    """The bot with Bot Framework credentials, trusting the local identity service's keys (the
    channel's, and the Emulator's where Emulator tokens are allowed)."""
    tokens = LocalTokenFactory()
    bot, connector = await start_bot(
        database_url,
        now=DEMO_NOW,
        app_id=APP_ID,
        app_password="test-secret",
        openid_metadata_url=identity.metadata_url,
        token_issuer=ISSUER,
        emulator_openid_metadata_url=identity.emulator_metadata_url,
        credentials_factory=tokens,
        **settings,
    )
    secured = CredentialedBot(bot, tokens)
    try:
        yield secured
    finally:
        await bot.http.close()
        await bot.server.close()
        await connector.close()
        for other in secured.others:
            await other.close()
    assert connector.invalid_cards == []


@pytest.fixture
async def secured(database_url: str, identity: IdentityService) -> AsyncIterator[CredentialedBot]:
    """With credentials, as in production: Emulator tokens are not allowed."""
    async with credentialed_bot(database_url, identity) as bot:
        yield bot


@pytest.fixture
async def emulator_allowed(database_url: str, identity: IdentityService) -> AsyncIterator[CredentialedBot]:
    """With credentials and KLIKBOT_ALLOW_EMULATOR_TOKENS (local development)."""
    async with credentialed_bot(database_url, identity, allow_emulator_tokens=True) as bot:
        yield bot


def assert_bot_token(authorization: str | None) -> None:
    """A reply's Authorization header carries the bot's token for the Bot Connector."""
    assert authorization is not None and authorization.startswith("Bearer "), authorization
    claims = jwt.decode(
        authorization.removeprefix("Bearer "),
        entra_key().public_key(),
        algorithms=["RS256"],
        audience=BOT_CONNECTOR_SCOPE,
        issuer=ENTRA_ISSUER,
    )
    assert claims["appid"] == APP_ID


async def test_a_signed_activity_is_answered_with_the_bots_token(
    secured: CredentialedBot, identity: IdentityService
) -> None:
    body = secured.bot.activity("hjælp")
    status = await secured.post(body, channel_token(body["serviceUrl"]))
    assert status in (200, 201)
    replies = secured.connector.take()
    assert len(replies) == 1 and "Det kan jeg hjælpe med" in replies[0].text
    assert_bot_token(replies[0].authorization)
    assert secured.tokens.issued and set(secured.tokens.issued) == {BOT_CONNECTOR_SCOPE}
    # The keys came from the local identity service, as configured.
    assert "/v1/.well-known/keys" in identity.requests


RefusedCase = Callable[[str], str | None]

REFUSED: dict[str, RefusedCase] = {
    "no token": lambda url: None,
    "signed with another key": lambda url: channel_token(url, key=attacker_key()),
    "another key under an unknown key id": lambda url: channel_token(url, key=attacker_key(), key_id="k2"),
    "expired": lambda url: channel_token(url, expires_in=-3600),
    "for another app": lambda url: channel_token(url, audience=OTHER_APP_ID),
    "from another issuer": lambda url: channel_token(url, issuer="https://sts.attacker.example/"),
    "the public cloud's issuer": lambda url: channel_token(url, issuer="https://api.botframework.com"),
    "without an expiry": lambda url: channel_token(url, expires_in=None),
    "a skill's token": lambda url: emulator_token(aud=APP_ID, azp=OTHER_APP_ID),
    "not a JWT": lambda url: "not-a-token",
    "unsigned": lambda url: jwt.encode(
        {"iss": ISSUER, "aud": APP_ID, "serviceurl": url, "exp": int(time.time()) + 600},
        key="",
        algorithm="none",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
async def test_a_request_without_a_valid_token_gets_401_and_no_answer(
    secured: CredentialedBot, case: str
) -> None:
    body = secured.bot.activity("hjælp")
    status = await secured.post(body, REFUSED[case](body["serviceUrl"]))
    assert status == 401
    assert secured.connector.received == [] and secured.connector.attempts == []


@pytest.mark.parametrize("odd", ["€".encode(), b"\xff\xfe", "ø".encode("latin-1")])
async def test_a_token_with_bytes_outside_latin_1_gets_401_and_no_answer(
    secured: CredentialedBot, odd: bytes
) -> None:
    body = secured.bot.activity("hjælp")
    token = channel_token(body["serviceUrl"]).encode()
    for header in (b"Bearer " + token + odd, b"Bearer " + odd + token, odd):
        status = await raw_status(secured.bot, "POST", "/api/messages", header, json.dumps(body).encode())
        assert status == 401
    assert secured.connector.received == [] and secured.connector.attempts == []


async def test_a_key_not_endorsed_for_the_channel_is_refused(secured: CredentialedBot) -> None:
    """The signing key is endorsed for msteams only, as the Bot Framework's keys are per channel."""
    body = secured.bot.activity("hjælp", channelId="webchat")
    assert await secured.post(body, channel_token(body["serviceUrl"])) == 401
    assert secured.connector.attempts == []


async def test_a_service_url_that_does_not_match_the_token_gets_401_and_nothing_is_sent_there(
    secured: CredentialedBot,
) -> None:
    crafted = await secured.other_connector()
    # A genuine token, issued for the real connector's service URL...
    token = channel_token(secured.connector.url + "/")
    body = secured.bot.activity("hjælp", serviceUrl=crafted.url + "/")
    assert await secured.post(body, token) == 401
    assert crafted.received == [] and crafted.attempts == []
    assert secured.connector.received == []
    # ...which is accepted with the service URL it was issued for.
    body = secured.bot.activity("hjælp", serviceUrl=secured.connector.url + "/")
    assert await secured.post(body, token) in (200, 201)
    assert len(secured.connector.take()) == 1
    # The crafted URL did not become trusted: a proactive send there is refused too.
    with pytest.raises(UntrustedServiceUrl, match="no authenticated activity came from"):
        await secured.transport().post(crafted.url + "/", "a:crafted", Reply(text="hej"))
    assert crafted.attempts == []


EMULATOR_TOKENS: dict[str, Callable[[], str]] = {
    "the Emulator's, v1.0": lambda: emulator_token(version="1.0"),
    "the Emulator's, v2.0": lambda: emulator_token(version="2.0"),
    "the bot's own token for the Bot Connector": lambda: emulator_token(aud=BOT_CONNECTOR_SCOPE),
}


@pytest.mark.parametrize("case", list(EMULATOR_TOKENS))
async def test_an_emulator_token_is_refused_with_credentials_and_its_service_url_not_trusted(
    secured: CredentialedBot, case: str
) -> None:
    """botbuilder's Emulator branch checks neither the token's audience nor a `serviceurl` claim:
    a token of the botframework.com tenant naming this app (the Emulator's, or the bot's own
    token for the Bot Connector, replayed) would make any serviceUrl trusted. With credentials it
    is refused unless KLIKBOT_ALLOW_EMULATOR_TOKENS is on."""
    crafted = await secured.other_connector()
    body = secured.bot.activity("hjælp", serviceUrl=crafted.url + "/", channelId="emulator")
    assert await secured.post(body, EMULATOR_TOKENS[case]()) == 401
    assert crafted.received == [] and crafted.attempts == []
    assert secured.connector.received == [] and secured.connector.attempts == []
    with pytest.raises(UntrustedServiceUrl):
        await secured.transport().post(crafted.url + "/", "a:crafted", Reply(text="hej"))
    assert crafted.attempts == []


async def test_emulator_tokens_are_accepted_with_the_setting_after_botbuilders_emulator_checks(
    emulator_allowed: CredentialedBot, identity: IdentityService
) -> None:
    """KLIKBOT_ALLOW_EMULATOR_TOKENS (local development): the Emulator's token is checked by
    botbuilder's Emulator branch against the Emulator's signing keys, and then answered."""
    bot = emulator_allowed
    for version in ("1.0", "2.0"):
        body = bot.bot.activity("hjælp", channelId="emulator")
        assert await bot.post(body, emulator_token(version=version)) in (200, 201)
        [reply] = bot.connector.take()
        assert "Det kan jeg hjælpe med" in reply.text
        assert_bot_token(reply.authorization)
    # The keys came from the Emulator's metadata, not the channel's.
    assert "/botframework.com/discovery/v2.0/keys" in identity.requests
    refused = {
        "signed with another key": emulator_token(key=attacker_key()),
        "signed with the channel's key": emulator_token(key=channel_key()),
        "for another app": emulator_token(app_id=OTHER_APP_ID),
        "naming another app": emulator_token(azp=OTHER_APP_ID, aud=BOT_CONNECTOR_SCOPE),
        "the bot's own token for the Bot Connector": emulator_token(aud=BOT_CONNECTOR_SCOPE),
        "expired": emulator_token(expires_in=-3600),
        "without an expiry": emulator_token(expires_in=None),
    }
    crafted = await bot.other_connector()
    for case, token in refused.items():
        body = bot.bot.activity("hjælp", channelId="emulator", serviceUrl=crafted.url + "/")
        assert await bot.post(body, token) == 401, case
    assert bot.connector.received == [] and crafted.attempts == []
    with pytest.raises(UntrustedServiceUrl):
        await bot.transport().post(crafted.url + "/", "a:crafted", Reply(text="hej"))


@pytest.mark.parametrize("branch", ["channel", "emulator", "skill"])
async def test_a_token_without_an_expiry_is_refused_in_every_branch(
    emulator_allowed: CredentialedBot, branch: str
) -> None:
    """PyJWT checks `exp` only when a token has one; the bot requires it. The same tokens with
    an expiry are accepted (the skill's is refused anyway: the bot takes no skill calls)."""
    bot = emulator_allowed
    url = bot.connector.url + "/"
    tokens: dict[str, Callable[[int | None], str]] = {
        "channel": lambda expires_in: channel_token(url, expires_in=expires_in),
        "emulator": lambda expires_in: emulator_token(expires_in=expires_in),
        "skill": lambda expires_in: emulator_token(aud=APP_ID, azp=OTHER_APP_ID, expires_in=expires_in),
    }
    assert await bot.post(bot.bot.activity("hjælp"), tokens[branch](None)) == 401
    assert bot.connector.received == [] and bot.connector.attempts == []
    status = await bot.post(bot.bot.activity("hjælp"), tokens[branch](3600))
    if branch == "skill":
        assert status == 401
    else:
        assert status in (200, 201)
        assert len(bot.connector.take()) == 1


async def test_proactive_sends_go_only_to_service_urls_of_authenticated_activities(
    secured: CredentialedBot,
) -> None:
    transport = secured.transport()
    crafted = await secured.other_connector()
    # Before any activity, the bot knows no service URL but those stored (the demo has none).
    with pytest.raises(UntrustedServiceUrl):
        await transport.post(secured.connector.url + "/", "a:personal-1", Reply(text="hej"))
    body = secured.bot.activity("hjælp")
    assert await secured.post(body, channel_token(body["serviceUrl"])) in (200, 201)
    secured.connector.take()
    # The same URL with or without its trailing slash.
    for url in (secured.connector.url + "/", secured.connector.url):
        assert await transport.post(url, "a:personal-1", Reply(text="Driftsmeddelelse")) is not None
    sent = secured.connector.take()
    assert [r.text for r in sent] == ["Driftsmeddelelse"] * 2
    for received in sent:
        assert_bot_token(received.authorization)
    with pytest.raises(UntrustedServiceUrl):
        await transport.post(crafted.url + "/", "a:personal-1", Reply(text="hej"))
    with pytest.raises(UntrustedServiceUrl):
        await transport.update(crafted.url + "/", "a:personal-1", "1", Reply(text="hej"))
    assert crafted.attempts == []


async def test_service_urls_stored_from_authenticated_turns_are_trusted(
    secured: CredentialedBot, database_url: str
) -> None:
    """Another instance of the bot recorded a conversation from an authenticated turn: this
    one may send there without having seen that service URL itself."""
    region = await secured.other_connector()
    engine = create_engine(database_url)
    try:
        async with engine.begin() as db:
            await subscriptions.remember(
                db,
                ConversationInfo(
                    f"a:{uuid.uuid4().hex}", region.url + "/", VEJLE, "personal", origin=CHANNEL
                ),
                datetime.now(UTC),
            )
    finally:
        await engine.dispose()
    transport = secured.transport()
    assert await transport.post(region.url + "/", "a:elsewhere", Reply(text="Driftsmeddelelse")) is not None
    [received] = region.take()
    assert received.text == "Driftsmeddelelse"
    assert_bot_token(received.authorization)
    crafted = await secured.other_connector()
    with pytest.raises(UntrustedServiceUrl):
        await transport.post(crafted.url + "/", "a:elsewhere", Reply(text="hej"))
    assert crafted.attempts == []


async def _store(database_url: str, *infos: ConversationInfo) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as db:
            for info in infos:
                await subscriptions.remember(db, info, datetime.now(UTC))
    finally:
        await engine.dispose()


@pytest.mark.parametrize("origin", [NOAUTH, TERMINAL, UNKNOWN])
async def test_stored_service_urls_not_from_an_authenticated_channel_are_not_trusted(
    secured: CredentialedBot, database_url: str, origin: str
) -> None:
    """A row written by `klikbot chat`, by the bot in no-auth mode, or before rows said where
    they came from: with credentials the bot's token does not go to its service URL."""
    elsewhere = await secured.other_connector()
    await _store(
        database_url, ConversationInfo("a:elsewhere", elsewhere.url + "/", VEJLE, "personal", origin=origin)
    )
    with pytest.raises(UntrustedServiceUrl):
        await secured.transport().post(elsewhere.url + "/", "a:elsewhere", Reply(text="Driftsmeddelelse"))
    assert elsewhere.attempts == []


async def test_rows_from_before_the_origin_column_stay_trusted_at_microsofts_teams_hosts(
    database_url: str,
) -> None:
    await _store(
        database_url,
        ConversationInfo(
            "a:emea", "https://smba.trafficmanager.net/emea/", VEJLE, "personal", origin=UNKNOWN
        ),
        ConversationInfo(
            "a:fake", "https://smba.trafficmanager.net.attacker.example/", VEJLE, "personal", origin=UNKNOWN
        ),
        ConversationInfo("a:http", "http://smba.trafficmanager.net/emea/", VEJLE, "personal", origin=UNKNOWN),
    )
    engine = create_engine(database_url)
    try:
        trusted = TrustedServiceUrls(engine)
        assert await trusted.contains("https://smba.trafficmanager.net/emea")
        assert not await trusted.contains("https://smba.trafficmanager.net.attacker.example/")
        assert not await trusted.contains("http://smba.trafficmanager.net/emea/")
    finally:
        await engine.dispose()


async def test_each_conversation_records_who_vouched_for_its_service_url(
    secured: CredentialedBot, database_url: str
) -> None:
    """An install with the channel's token is recorded as the channel's; in no-auth mode, as
    no-auth mode's (and no longer trusted once credentials are set)."""
    body = secured.bot.activity(
        None, activity_type="installationUpdate", action="add", conversation_id="a:signed"
    )
    assert await secured.post(body, channel_token(body["serviceUrl"])) in (200, 201)
    secured.connector.take()
    bot, connector = await start_bot(database_url, now=DEMO_NOW)
    try:
        body = bot.activity(
            None, activity_type="installationUpdate", action="add", conversation_id="a:noauth"
        )
        assert (await bot.post(body)).status in (200, 201)
    finally:
        await bot.http.close()
        await bot.server.close()
        await connector.close()
    engine = create_engine(database_url)
    try:
        async with engine.connect() as db:
            rows = await db.execute(select(ConversationRef.conversation_id, ConversationRef.origin))
            origins = {row.conversation_id: row.origin for row in rows}
    finally:
        await engine.dispose()
    assert origins["a:signed"] == CHANNEL and origins["a:noauth"] == NOAUTH


async def test_no_auth_mode_sends_where_the_activity_says(database_url: str) -> None:
    """Without credentials (loopback only) there is no token and no service URL check."""
    bot, connector = await start_bot(database_url, now=DEMO_NOW)
    try:
        reply = await bot.ask_one("hjælp")
        assert reply.authorization is None
        assert bot.server.app[RUNTIME].authentication.trusted is None
    finally:
        await bot.http.close()
        await bot.server.close()
        await connector.close()


def test_the_openid_metadata_url_must_be_https_off_loopback() -> None:
    env = {"MicrosoftAppId": APP_ID, "KLIKBOT_TOKEN_ISSUER": ISSUER}
    local = "http://127.0.0.1:8000/v1/.well-known/openidconfiguration"
    settings = Settings.from_env({**env, "KLIKBOT_OPENID_METADATA_URL": local})
    assert settings.openid_metadata_url == local and settings.token_issuer == ISSUER
    secure = "https://login.botframework.example/v1/.well-known/openidconfiguration"
    assert Settings.from_env({**env, "KLIKBOT_OPENID_METADATA_URL": secure}).openid_metadata_url == secure
    for bad in ("http://keys.example.com/openid", "ftp://127.0.0.1/x", "not a url"):
        with pytest.raises(SettingsError, match="KLIKBOT_OPENID_METADATA_URL"):
            Settings.from_env({**env, "KLIKBOT_OPENID_METADATA_URL": bad})
    assert Settings.from_env({}).openid_metadata_url is None


def test_emulator_tokens_are_off_unless_set() -> None:
    assert Settings.from_env({}).allow_emulator_tokens is False
    for on in ("1", "true", "True", "yes", "on"):
        assert Settings.from_env({"KLIKBOT_ALLOW_EMULATOR_TOKENS": on}).allow_emulator_tokens is True
    for off in ("", "0", "false", "no", "off"):
        assert Settings.from_env({"KLIKBOT_ALLOW_EMULATOR_TOKENS": off}).allow_emulator_tokens is False
    with pytest.raises(SettingsError, match="KLIKBOT_ALLOW_EMULATOR_TOKENS"):
        Settings.from_env({"KLIKBOT_ALLOW_EMULATOR_TOKENS": "maybe"})
    local = "http://127.0.0.1:8000/botframework.com/v2.0/.well-known/openid-configuration"
    env = {"KLIKBOT_EMULATOR_OPENID_METADATA_URL": local}
    assert Settings.from_env(env).emulator_openid_metadata_url == local
    with pytest.raises(SettingsError, match="KLIKBOT_EMULATOR_OPENID_METADATA_URL"):
        Settings.from_env({"KLIKBOT_EMULATOR_OPENID_METADATA_URL": "http://keys.example.com/openid"})


@pytest.mark.parametrize(
    ("app_type", "tenant", "authority"),
    [
        ("MultiTenant", "", "https://login.microsoftonline.com/botframework.com"),
        (
            "SingleTenant",
            "11111111-2222-4333-8444-555555555555",
            "https://login.microsoftonline.com/11111111-2222-4333-8444-555555555555",
        ),
    ],
)
async def test_the_metadata_url_changes_only_how_incoming_tokens_are_checked(
    app_type: str, tenant: str, authority: str
) -> None:
    """With or without the override, the bot gets its own tokens from Microsoft Entra ID for the
    Bot Connector, exactly as botbuilder's public cloud setup does (nothing is fetched here)."""
    url = "https://smba.trafficmanager.net/emea/"
    async with ClientSession() as http:
        overrides: list[dict[str, Any]] = [
            {},
            {"openid_metadata_url": "http://127.0.0.1:1/openid", "token_issuer": ISSUER},
            {"emulator_openid_metadata_url": "http://127.0.0.1:1/emulator", "allow_emulator_tokens": True},
        ]
        for override in overrides:
            authentication = create_authentication(APP_ID, "test-secret", app_type, tenant, http, **override)
            assert authentication.get_originating_audience() == BOT_CONNECTOR_SCOPE
            assert authentication.trusted is not None
            authentication.trusted.add(url)
            identity = ClaimsIdentity({"aud": APP_ID, "appid": APP_ID}, True)
            client = await authentication.create_connector_factory(identity).create(url, BOT_CONNECTOR_SCOPE)
            credentials = client.config.credentials
            assert type(credentials) is MicrosoftAppCredentials, (override, type(credentials))
            assert credentials.oauth_endpoint == authority
            assert credentials.oauth_scope == BOT_CONNECTOR_SCOPE
            assert credentials.microsoft_app_id == APP_ID
