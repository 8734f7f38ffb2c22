"""Drive the real bot over HTTP on loopback, with the fake Bot Connector receiving its replies."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import ClientResponse, ClientSession
from aiohttp.test_utils import TestServer

from bot.app import create_app
from bot.settings import Settings
from storage.demo import KOMBIT_TENANT_ID, demo_tenant_id
from tests.fake_connector import FakeConnector, Received

VEJLE = demo_tenant_id(630)
KOMBIT = KOMBIT_TENANT_ID
UNKNOWN_TENANT = "11111111-2222-4333-8444-555555555555"
BOT_ID = "28:klikbot-test"


class BotUnderTest:
    def __init__(self, server: TestServer, connector: FakeConnector, http: ClientSession) -> None:
        self.server = server
        self.connector = connector
        self.http = http

    @property
    def url(self) -> str:
        return str(self.server.make_url("/api/messages"))

    def activity(
        self,
        text: str | None = "",
        *,
        tenant: str | None = VEJLE,
        conversation_type: str = "personal",
        conversation_id: str | None = None,
        locale: str | None = "da-DK",
        mention: bool = False,
        value: dict[str, Any] | None = None,
        tenant_in: str = "channelData",
        user_name: str = "Mette Vinther",
        activity_type: str = "message",
        **extra: Any,
    ) -> dict[str, Any]:
        conversation: dict[str, Any] = {
            "id": conversation_id or f"a:{conversation_type}-{uuid.uuid4().hex[:10]}",
            "conversationType": conversation_type,
        }
        channel_data: dict[str, Any] = {}
        if tenant is not None:
            if tenant_in == "conversation":
                conversation["tenantId"] = tenant
            else:
                channel_data["tenant"] = {"id": tenant}
        if conversation_type == "channel":
            channel_data["team"] = {"id": "19:team@thread.tacv2"}
            channel_data["channel"] = {"id": conversation["id"]}
        entities = []
        if mention and text is not None:
            tag = "<at>klikbot</at>"
            entities.append({"type": "mention", "text": tag, "mentioned": {"id": BOT_ID, "name": "klikbot"}})
            text = f"{tag} {text}"
        body: dict[str, Any] = {
            "type": activity_type,
            "id": uuid.uuid4().hex,
            "timestamp": "2019-01-23T09:00:00.000Z",
            "serviceUrl": self.connector.url + "/",
            "channelId": "msteams",
            "from": {"id": "29:user-1", "name": user_name, "aadObjectId": "aad-user-1"},
            "recipient": {"id": BOT_ID, "name": "klikbot"},
            "conversation": conversation,
            "channelData": channel_data,
            "entities": entities,
        }
        if text is not None:
            body["text"] = text
        if locale is not None:
            body["locale"] = locale
        if value is not None:
            body["value"] = value
        body.update(extra)
        return body

    async def post(self, body: Any, headers: dict[str, str] | None = None) -> ClientResponse:
        # Always a JSON body, even for `None` (the JSON literal null).
        return await self.http.post(
            self.url, data=json.dumps(body), headers={"Content-Type": "application/json", **(headers or {})}
        )

    async def ask(self, text: str, **kwargs: Any) -> list[Received]:
        """Send a message; return what the bot sent to the connector during that turn."""
        response = await self.post(self.activity(text, **kwargs))
        assert response.status in (200, 201), await response.text()
        return self.connector.take()

    async def ask_one(self, text: str, **kwargs: Any) -> Received:
        replies = await self.ask(text, **kwargs)
        assert len(replies) == 1, [r.text for r in replies]
        return replies[0]


async def raw_status(
    bot: BotUnderTest, method: str, path: str, authorization: bytes, body: bytes = b""
) -> int:
    """Send a request whose Authorization header is exactly these bytes (an HTTP client would
    refuse or re-encode them); return the status."""
    url = bot.server.make_url("/")
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        writer.write(
            f"{method} {path} HTTP/1.1\r\nHost: {url.host}\r\nContent-Type: application/json\r\n".encode()
            + b"Authorization: "
            + authorization
            + f"\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        status_line = await reader.readline()
        await reader.read()
    finally:
        writer.close()
    return int(status_line.split()[1])


async def start_bot(database_url: str, **settings: Any) -> tuple[BotUnderTest, FakeConnector]:
    connector = FakeConnector()
    await connector.start()
    config = Settings(
        database_url=database_url,
        now=settings.pop("now", None),
        admin_tenant_ids=frozenset(settings.pop("admin_tenant_ids", {KOMBIT})),
        **settings,
    )
    server = TestServer(create_app(config), host="127.0.0.1")
    await server.start_server()
    http = ClientSession()
    return BotUnderTest(server, connector, http), connector


@asynccontextmanager
async def running_bot(database_url: str, **settings: Any) -> AsyncIterator[BotUnderTest]:
    """The bot on loopback for the `async with` block; afterwards, every card the fake
    connector received must have been a valid Adaptive Card 1.5."""
    bot, connector = await start_bot(database_url, **settings)
    try:
        yield bot
    finally:
        await bot.http.close()
        await bot.server.close()
        await connector.close()
    assert connector.invalid_cards == [], "the bot sent cards that are not valid Adaptive Cards 1.5"
