"""Bot Framework authentication that reuses one connector client per service URL.

Stock botbuilder 4.17 builds a fresh msrest ConnectorClient (and a TokenApiClient) on every
turn, and building their retry policies dominates the cost of a turn; its replies then go
through `requests` in a thread pool. Here authentication is botbuilder's own
(ConfigurationBotFrameworkAuthentication), but each (service URL, audience) gets one
BotConnectorClient on the process's shared aiohttp session, with the credentials botbuilder
created for it.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)

from bot.bot_connector import BotConnectorClient

log = logging.getLogger(__name__)


class SharedConnectorFactory(ConnectorFactory):  # type: ignore[misc]
    def __init__(
        self,
        inner: ConnectorFactory,
        cache: dict[tuple[str, str | None], BotConnectorClient],
        http: aiohttp.ClientSession,
    ) -> None:
        self._inner = inner
        self._cache = cache
        self._http = http

    async def create(self, service_url: str, audience: str | None = None) -> BotConnectorClient:
        key = (service_url, audience)
        client = self._cache.get(key)
        if client is None:
            # botbuilder's factory picks the credentials for this cloud and audience; its msrest
            # client is built once here only to carry them.
            template = await self._inner.create(service_url, audience)
            client = BotConnectorClient(self._http, service_url, template.config.credentials)
            self._cache[key] = client
        return client


class SharedClientsAuthentication(BotFrameworkAuthentication):  # type: ignore[misc]
    """Wraps botbuilder's ConfigurationBotFrameworkAuthentication; only client creation changes."""

    def __init__(self, inner: BotFrameworkAuthentication, http: aiohttp.ClientSession) -> None:
        self._inner = inner
        self._http = http
        # Keyed by (service URL, audience): one app's clients per Bot Connector endpoint.
        self._connectors: dict[tuple[str, str | None], BotConnectorClient] = {}
        self._user_token_clients: dict[str, UserTokenClient] = {}

    async def authenticate_request(self, activity: Any, auth_header: str) -> AuthenticateRequestResult:
        result = await self._inner.authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = SharedConnectorFactory(
                result.connector_factory, self._connectors, self._http
            )
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return SharedConnectorFactory(
            self._inner.create_connector_factory(claims_identity), self._connectors, self._http
        )

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
        return await self._inner.authenticate_channel_request(auth_header)

    async def close(self) -> None:
        """Forget the clients; the shared session is closed by its owner."""
        self._connectors.clear()
        self._user_token_clients.clear()


class _Config:
    """The attribute bag ConfigurationBotFrameworkAuthentication reads its settings from."""

    def __init__(self, app_id: str, password: str, app_type: str, tenant_id: str) -> None:
        self.APP_ID = app_id
        self.APP_PASSWORD = password
        self.APP_TYPE = app_type
        self.APP_TENANTID = tenant_id


def create_authentication(
    app_id: str, password: str, app_type: str, tenant_id: str, http: aiohttp.ClientSession
) -> SharedClientsAuthentication:
    inner = ConfigurationBotFrameworkAuthentication(_Config(app_id, password, app_type, tenant_id))
    return SharedClientsAuthentication(inner, http)
