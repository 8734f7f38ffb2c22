"""A fake Bot Connector service: an aiohttp server on loopback that receives what the bot
sends, as Teams' Bot Connector would (same paths and payloads)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.card_schema import card_errors


@dataclass
class Received:
    method: str
    path: str
    conversation_id: str
    activity: dict[str, Any]
    reply_to_id: str | None = None
    activity_id: str | None = None
    authorization: str | None = None

    @property
    def card(self) -> dict[str, Any] | None:
        for attachment in self.activity.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                content = attachment.get("content")
                return content if isinstance(content, dict) else None
        return None

    @property
    def text(self) -> str:
        """What a reader sees: the text, or the card's text rendering."""
        card = self.card
        if card is not None:
            return str(card.get("fallbackText", ""))
        return str(self.activity.get("text") or "")


@dataclass
class FakeConnector:
    received: list[Received] = field(default_factory=list)
    # Every card the bot sent that is not a valid Adaptive Card 1.5: the tests fail on any.
    invalid_cards: list[tuple[dict[str, Any], list[str]]] = field(default_factory=list)
    team_member_count: int = 12
    server: TestServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation_id}/activities/{activity_id}", self._reply)
        app.router.add_post("/v3/conversations/{conversation_id}/activities", self._send)
        app.router.add_put("/v3/conversations/{conversation_id}/activities/{activity_id}", self._update)
        app.router.add_get("/v3/teams/{team_id}", self._team)
        return app

    async def start(self) -> None:
        self.server = TestServer(self.app(), host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    def take(self) -> list[Received]:
        taken, self.received = self.received, []
        return taken

    async def _record(self, request: web.Request, method: str) -> web.Response:
        body = await request.json()
        received = Received(
            method=method,
            path=request.path,
            conversation_id=request.match_info["conversation_id"],
            activity=body,
            reply_to_id=request.match_info.get("activity_id") if method == "reply" else None,
            activity_id=request.match_info.get("activity_id") if method == "update" else None,
            authorization=request.headers.get("Authorization"),
        )
        self.received.append(received)
        if received.card is not None and (errors := card_errors(received.card)):
            self.invalid_cards.append((received.card, errors))
        return web.json_response({"id": uuid.uuid4().hex})

    async def _reply(self, request: web.Request) -> web.Response:
        return await self._record(request, "reply")

    async def _send(self, request: web.Request) -> web.Response:
        return await self._record(request, "send")

    async def _update(self, request: web.Request) -> web.Response:
        return await self._record(request, "update")

    async def _team(self, request: web.Request) -> web.Response:
        team_id = request.match_info["team_id"]
        return web.json_response(
            {
                "id": team_id,
                "name": "Digitalisering",
                "aadGroupId": str(uuid.uuid4()),
                "memberCount": self.team_member_count,
            }
        )
