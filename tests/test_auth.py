"""Bot Framework authentication with credentials, offline.

A local identity service stands in for login.botframework.com (OpenID metadata and JWKS on
loopback, with the tests' own RSA key); the bot is pointed at it with KLIKBOT_OPENID_METADATA_URL
and KLIKBOT_TOKEN_ISSUER. Its own tokens for the Bot Connector come from an injected credentials
factory instead of Microsoft Entra ID, so nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import functools
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
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

from bot.app import RUNTIME
from bot.connector import UntrustedServiceUrl, create_authentication
from bot.notice_transport import BotConnectorTransport
from bot.settings import Settings, SettingsError
from dialogs.model import Reply
from storage import subscriptions
from storage.db import create_engine
from storage.subscriptions import ConversationInfo
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


class IdentityService:
    """OpenID metadata and the channel's signing keys on loopback, as login.botframework.com
    publishes them. It runs on its own event loop in a thread: botbuilder fetches the keys with
    blocking `requests` calls on the bot's loop, which would wait forever on a server sharing it."""

    def __init__(self) -> None:
        jwk = RSAAlgorithm.to_jwk(channel_key().public_key(), as_dict=True)
        jwk.update({"kid": KEY_ID, "use": "sig", "endorsements": ["msteams"]})
        self._jwks = {"keys": [jwk]}
        self.requests: list[str] = []
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._run, name="identity-service", daemon=True)
        self.base = ""

    @property
    def metadata_url(self) -> str:
        return f"{self.base}/v1/.well-known/openidconfiguration"

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

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", self._metadata)
        app.router.add_get("/v1/.well-known/keys", self._keys)
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
    expires_in: int = 3600,
    key_id: str = KEY_ID,
) -> str:
    """A token as the Bot Framework channel signs it for an activity it sends the bot."""
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": audience,
        "serviceurl": service_url,
        "nbf": min(now, now + expires_in) - 300,
        "exp": now + expires_in,
    }
    return jwt.encode(claims, key or channel_key(), algorithm="RS256", headers={"kid": key_id})


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


@pytest.fixture
async def secured(database_url: str, identity: IdentityService) -> AsyncIterator[CredentialedBot]:
    """The bot with Bot Framework credentials, trusting the local identity service's keys."""
    tokens = LocalTokenFactory()
    bot, connector = await start_bot(
        database_url,
        now=DEMO_NOW,
        app_id=APP_ID,
        app_password="test-secret",
        openid_metadata_url=identity.metadata_url,
        token_issuer=ISSUER,
        credentials_factory=tokens,
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
                ConversationInfo(f"a:{uuid.uuid4().hex}", region.url + "/", VEJLE, "personal"),
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
        for override in ({}, {"openid_metadata_url": "http://127.0.0.1:1/openid", "token_issuer": ISSUER}):
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
