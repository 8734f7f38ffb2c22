"""Settings from the environment (a .env file in the working directory may supply them)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from bot.operator_auth import MIN_TOKEN_LENGTH
from storage.db import DEFAULT_DATABASE_URL
from storage.demo import KOMBIT_TENANT_ID, demo_clock


class SettingsError(ValueError):
    """A setting has a value the bot cannot run with; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    now: datetime | None = None  # KLIKBOT_NOW: a fixed clock for the demo and tests
    public_url: str | None = None
    admin_token: str | None = None
    admin_tenant_ids: frozenset[str] = field(default_factory=frozenset)
    app_id: str = ""
    app_password: str = ""
    app_type: str = "MultiTenant"
    app_tenant_id: str = ""
    demo: bool = False
    # Incident notices: requests per second per tenant (KLIKBOT_TENANT_RATE), and the delivery
    # worker's tuning (tests shorten leases and backoff); None: bot.broadcast.WorkerConfig().
    tenant_rate: float = 30.0
    delivery: Any = None
    # Bot Framework authentication with credentials: where the channel's token signing keys are
    # published (KLIKBOT_OPENID_METADATA_URL) and who issues its tokens (KLIKBOT_TOKEN_ISSUER);
    # None: the public Azure cloud's (login.botframework.com, https://api.botframework.com).
    # For tests and private Bot Framework deployments.
    openid_metadata_url: str | None = None
    token_issuer: str | None = None
    # Tokens issued for the Bot Framework Emulator (botbuilder checks neither their audience nor
    # a `serviceurl` claim): refused with credentials unless KLIKBOT_ALLOW_EMULATOR_TOKENS is on,
    # for local development only. Where the Emulator's token signing keys are published
    # (KLIKBOT_EMULATOR_OPENID_METADATA_URL; None: Microsoft Entra ID's, for tests).
    allow_emulator_tokens: bool = False
    emulator_openid_metadata_url: str | None = None
    # `serve --admin-port`: the operator API and /metrics on a listener of their own (only
    # there), the chat's endpoint only on the main one. None: everything on the main listener.
    admin_port: int | None = None
    # Tests: a botbuilder ServiceClientCredentialsFactory for the bot's own tokens instead of
    # MSAL with MicrosoftAppPassword; None: the one built from the MicrosoftApp* settings.
    credentials_factory: Any = None

    @property
    def has_credentials(self) -> bool:
        return bool(self.app_id)

    def clock(self) -> Callable[[], datetime]:
        fixed = self.now
        if fixed is not None:
            return lambda: fixed
        return lambda: datetime.now(UTC)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, demo: bool = False) -> Settings:
        env = os.environ if env is None else env
        now_text = env.get("KLIKBOT_NOW", "").strip()
        now: datetime | None = None
        if now_text:
            try:
                now = datetime.fromisoformat(now_text)
            except ValueError as error:
                raise SettingsError(f"KLIKBOT_NOW is not an ISO 8601 time: {now_text!r}") from error
            if now.tzinfo is None:
                raise SettingsError(
                    f"KLIKBOT_NOW needs a UTC offset, e.g. 2019-01-23T10:00:00+01:00: {now_text!r}"
                )
        elif demo:
            now = demo_clock()
        admins_text = env.get("KLIKBOT_ADMIN_TENANT_IDS")
        if admins_text is None:
            admins = frozenset({KOMBIT_TENANT_ID}) if demo else frozenset()
        else:
            admins = frozenset(t.strip().lower() for t in admins_text.split(",") if t.strip())
        return cls(
            database_url=env.get("KLIKBOT_DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL,
            now=now,
            public_url=env.get("KLIKBOT_PUBLIC_URL", "").strip() or None,
            admin_token=_admin_token(env.get("KLIKBOT_ADMIN_TOKEN", "")),
            admin_tenant_ids=admins,
            app_id=env.get("MicrosoftAppId", "").strip(),
            app_password=env.get("MicrosoftAppPassword", "").strip(),
            app_type=env.get("MicrosoftAppType", "").strip() or "MultiTenant",
            app_tenant_id=env.get("MicrosoftAppTenantId", "").strip(),
            demo=demo,
            tenant_rate=_positive(env.get("KLIKBOT_TENANT_RATE", ""), "KLIKBOT_TENANT_RATE", 30.0),
            openid_metadata_url=_metadata_url(
                env.get("KLIKBOT_OPENID_METADATA_URL", ""), "KLIKBOT_OPENID_METADATA_URL"
            ),
            token_issuer=env.get("KLIKBOT_TOKEN_ISSUER", "").strip() or None,
            allow_emulator_tokens=_flag(
                env.get("KLIKBOT_ALLOW_EMULATOR_TOKENS", ""), "KLIKBOT_ALLOW_EMULATOR_TOKENS"
            ),
            emulator_openid_metadata_url=_metadata_url(
                env.get("KLIKBOT_EMULATOR_OPENID_METADATA_URL", ""), "KLIKBOT_EMULATOR_OPENID_METADATA_URL"
            ),
        )


def _admin_token(text: str) -> str | None:
    token = text.strip()
    if token and len(token) < MIN_TOKEN_LENGTH:
        raise SettingsError(
            f"KLIKBOT_ADMIN_TOKEN is {len(token)} characters: it must be at least {MIN_TOKEN_LENGTH}, "
            "random (e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
        )
    return token or None


def _positive(text: str, name: str, default: float) -> float:
    if not text.strip():
        return default
    try:
        value = float(text)
    except ValueError as error:
        raise SettingsError(f"{name} is not a number: {text!r}") from error
    if not 0 < value <= 10_000:
        raise SettingsError(f"{name} must be a positive number of requests per second: {text!r}")
    return value


_TRUE = frozenset({"1", "true", "yes", "on", "ja"})
_FALSE = frozenset({"", "0", "false", "no", "off", "nej"})


def _flag(text: str, name: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name} skal være true eller false / must be true or false: {text!r}")


def _metadata_url(text: str, name: str) -> str | None:
    """An OpenID metadata URL is a root of trust for incoming tokens: https, or http only on
    loopback (a test's own key server)."""
    url = text.strip()
    if not url:
        return None
    parts = urlsplit(url)
    loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
        raise SettingsError(
            f"{name} skal være en https-URL / must be an https URL (http only on loopback): {url!r}"
        )
    return url
