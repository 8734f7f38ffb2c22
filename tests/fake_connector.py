"""A fake Bot Connector service: an aiohttp server on loopback that receives what the bot
sends, as Teams' Bot Connector would (same paths and payloads)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
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
    at: float = 0.0  # time.monotonic() when it arrived
    response_id: str = ""  # the activity id the connector answered with

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
    # Scripted answers per conversation id: each request takes the next status (then 2xx);
    # a status in `always` answers every request. (status, Retry-After seconds or None).
    script: dict[str, list[tuple[int, float | None]]] = field(default_factory=dict)
    always: dict[str, int] = field(default_factory=dict)
    # Every request with its answer: (method, conversation id, status, time.monotonic()).
    attempts: list[tuple[str, str, int, float]] = field(default_factory=list)
    # Teams' limits, enforced as Teams does (429 with Retry-After) when set: per conversation
    # 7 a second, 8 in 2 s, 60 in 30 s, 1,800 an hour, and `app_per_second` across all.
    teams_limits: bool = False
    app_per_second: int | None = None
    throttled: int = 0  # 429s answered because a limit was exceeded
    _taken_at: dict[str, list[float]] = field(default_factory=dict)
    _app_taken_at: list[float] = field(default_factory=list)
    # While set to an unset Event, sends wait on it (to hold a broadcast mid-flight).
    gate: asyncio.Event | None = None
    waiting: int = 0  # requests that have waited at the gate
    _waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = field(default_factory=list)

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

    async def wait_for(self, predicate: Callable[[], bool], limit: float = 10.0) -> None:
        """Wait until `predicate()` holds (checked after every request), or fail."""
        if predicate():
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, waiter))
        try:
            await asyncio.wait_for(waiter, limit)
        finally:
            self._waiters = [w for w in self._waiters if w[1] is not waiter]

    def _notify(self) -> None:
        """Wake the waiters whose condition now holds (synchronously: no extra await in a reply)."""
        for predicate, waiter in self._waiters:
            if not waiter.done() and predicate():
                waiter.set_result(None)

    def take(self) -> list[Received]:
        taken, self.received = self.received, []
        return taken

    async def _record(self, request: web.Request, method: str) -> web.Response:
        body = await request.json()
        conversation_id = request.match_info["conversation_id"]
        if self.gate is not None and not self.gate.is_set():
            self.waiting += 1
            self._notify()
            await self.gate.wait()
        status, retry_after = 200, None
        if self.teams_limits and self._over_limit(conversation_id):
            self.throttled += 1
            status, retry_after = 429, 1.0
        elif conversation_id in self.always:
            status = self.always[conversation_id]
        elif self.script.get(conversation_id):
            status, retry_after = self.script[conversation_id].pop(0)
        self.attempts.append((method, conversation_id, status, time.monotonic()))
        if status >= 400:
            self._notify()
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            return web.json_response(
                {"error": {"code": "Scripted", "message": f"scripted {status}"}}, status=status, headers=headers
            )
        if self.teams_limits:
            now = time.monotonic()
            self._taken_at.setdefault(conversation_id.split(";messageid=", 1)[0], []).append(now)
            self._app_taken_at.append(now)
        received = Received(
            method=method,
            path=request.path,
            conversation_id=request.match_info["conversation_id"],
            activity=body,
            reply_to_id=request.match_info.get("activity_id") if method == "reply" else None,
            activity_id=request.match_info.get("activity_id") if method == "update" else None,
            authorization=request.headers.get("Authorization"),
            at=time.monotonic(),
            response_id=uuid.uuid4().hex,
        )
        self.received.append(received)
        if received.card is not None and (errors := card_errors(received.card)):
            self.invalid_cards.append((received.card, errors))
        self._notify()
        return web.json_response({"id": received.response_id})

    def _over_limit(self, conversation_id: str) -> bool:
        now = time.monotonic()
        taken = self._taken_at.get(conversation_id.split(";messageid=", 1)[0], [])
        for count, seconds in ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0)):
            if sum(1 for t in taken if now - t < seconds) >= count:
                return True
        return self.app_per_second is not None and (
            sum(1 for t in self._app_taken_at if now - t < 1.0) >= self.app_per_second
        )

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
