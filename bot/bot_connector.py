"""An async Bot Connector REST client on one shared aiohttp session.

Stock botbuilder 4.17 sends every reply through msrest's *requests* pipeline in a thread pool,
and builds a new client (with its retry policies) on every turn. This client speaks the same
Bot Connector API (`POST /v3/conversations/{id}/activities/{replyToId}` and friends) with the
credentials the adapter's own authentication created, without threads or per-turn setup.
It has the shape of botframework-connector's ConnectorClient that CloudAdapter uses
(`client.conversations.reply_to_activity(...)` etc.), so the adapter itself is unchanged.
"""

from __future__ import annotations

import asyncio
import enum
import json
import random
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import aiohttp
from botbuilder.schema import Activity, ResourceResponse
from msrest.serialization import Model

from bot.pacing import Pacing

# Every call to the Bot Connector ends within REQUEST_TIMEOUT seconds (connecting included), so
# a connector that hangs fails the turn instead of holding it. A turn's replies are retried
# through throttling and blips within the turn's budget (ReplyBudget); proactive sends are
# retried by the delivery worker, through its queue. Read at each call: tests shorten it.
REQUEST_TIMEOUT = 12.0
CONNECT_TIMEOUT = 3.0
TIMEOUT = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT, connect=CONNECT_TIMEOUT)
# Bot Framework tokens live an hour or more; fetch a fresh one well before that.
TOKEN_REFRESH_SECONDS = 20 * 60


class ConnectorError(Exception):
    """The Bot Connector answered with an error status."""

    def __init__(self, status: int, body: str, retry_after: float | None = None) -> None:
        super().__init__(f"Bot Connector answered {status}: {body[:200]}")
        self.status = status
        self.body = body
        self.retry_after = retry_after


class ConnectorTimeoutError(TimeoutError):
    """The Bot Connector did not answer within the request timeout (still a TimeoutError)."""


# What Teams answers when it throttles (429) or has a blip (502, 503, 504): worth another try.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
BACKOFF_BASE = 0.5  # seconds before the first retry when Teams gives no Retry-After


class ReplyNotDelivered(Exception):
    """Teams kept throttling or failing a reply until the turn's budget ran out (the caller
    queues it for the delivery worker)."""


@dataclass
class ReplyBudget:
    """A turn's replies: paced with every other send of the process (`pacing`), and retried
    after 429, 502, 503, 504 or a dropped connection until `deadline` (time.monotonic())."""

    pacing: Pacing
    tenant: str
    deadline: float
    retried: Callable[[], None] = field(default=lambda: None)


# Set for the length of a turn (bot/reply_delivery.py); proactive sends run without one.
reply_budget: ContextVar[ReplyBudget | None] = ContextVar("klikbot_reply_budget", default=None)


def _retryable(error: BaseException) -> bool:
    if isinstance(error, ConnectorError):
        return error.status in RETRY_STATUSES
    # A reset or refused connection: nothing was taken. A timeout is not retried: the reply
    # may have arrived, and a second one would show twice.
    return isinstance(error, aiohttp.ClientConnectionError) and not isinstance(error, TimeoutError)


def connector_fault(error: BaseException) -> bool:
    """Whether `error` (or an error it was raised from) is the Bot Connector failing: an error
    status, no answer in time, or no connection. Telling the user through it would fail too."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectorError | ConnectorTimeoutError | aiohttp.ClientError):
            return True
        current = current.__cause__ or current.__context__
    return False


class _Config:
    """What code reading `client.config` of a botbuilder ConnectorClient expects."""

    def __init__(self, credentials: Any, base_url: str) -> None:
        self.credentials = credentials
        self.base_url = base_url


class BotConnectorClient:
    def __init__(self, http: aiohttp.ClientSession, service_url: str, credentials: Any) -> None:
        self._http = http
        self._base = service_url.rstrip("/")
        self.config = _Config(credentials, service_url)
        self.conversations = _Conversations(self)
        self._token: str | None = None
        self._token_at = 0.0
        self._token_lock = asyncio.Lock()

    async def _headers(self) -> dict[str, str]:
        credentials = self.config.credentials
        if credentials is None or not getattr(credentials, "microsoft_app_id", None):
            return {}  # no-auth mode (local development, the Emulator)
        if self._token is None or time.monotonic() - self._token_at > TOKEN_REFRESH_SECONDS:
            async with self._token_lock:
                if self._token is None or time.monotonic() - self._token_at > TOKEN_REFRESH_SECONDS:
                    # MSAL's call is blocking (network on the first call): keep it off the loop.
                    self._token = await asyncio.to_thread(credentials.get_access_token)
                    self._token_at = time.monotonic()
        return {"Authorization": f"Bearer {self._token}"}

    async def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | bytes | None = None,
        *,
        conversation_id: str | None = None,
    ) -> Any:
        """Call the API; `body` is an activity as JSON, or already encoded (a broadcast sends the
        same bytes to every conversation). A send into `conversation_id` during a turn is paced
        and retried within the turn's budget."""
        budget = reply_budget.get()
        if budget is None or conversation_id is None:
            return await self._request_once(method, path, body)
        attempt = 0
        while True:
            wait = budget.pacing.delay(conversation_id, budget.tenant)
            if time.monotonic() + wait > budget.deadline:
                raise ReplyNotDelivered(f"no room to send into {conversation_id} before the turn's budget ran out")
            await budget.pacing.acquire(conversation_id, budget.tenant)
            try:
                return await self._request_once(method, path, body)
            except Exception as error:
                if not _retryable(error):
                    raise
                retry_after = error.retry_after if isinstance(error, ConnectorError) else None
                if isinstance(error, ConnectorError) and error.status == 429:
                    budget.pacing.block(conversation_id, retry_after if retry_after is not None else 1.0)
                # Retry-After when Teams gives one, else exponential backoff with jitter.
                delay = retry_after if retry_after is not None else BACKOFF_BASE * 2**attempt * random.uniform(0.5, 1.0)
                if time.monotonic() + delay > budget.deadline:
                    raise ReplyNotDelivered(f"{method} {path} still failing when the turn's budget ran out") from error
                budget.retried()
                attempt += 1
                await asyncio.sleep(delay)

    async def _request_once(self, method: str, path: str, body: dict[str, Any] | bytes | None) -> Any:
        headers = await self._headers()
        data: bytes | None
        if isinstance(body, bytes) or body is None:
            data = body
        else:
            data = json.dumps(body, ensure_ascii=False).encode()
        if data is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        try:
            async with self._http.request(
                method, f"{self._base}{path}", data=data, headers=headers, timeout=TIMEOUT
            ) as response:
                text = await response.text()
                if response.status >= 400:
                    raise ConnectorError(
                        response.status, text, _retry_after(response.headers.get("Retry-After"))
                    )
                if not text:
                    return None
                try:
                    return await response.json(content_type=None)
                except ValueError:
                    return None
        except TimeoutError as error:
            if isinstance(error, ConnectorTimeoutError | aiohttp.ClientError):
                raise
            raise ConnectorTimeoutError(
                f"the Bot Connector did not answer {method} {path} within {TIMEOUT.total} s"
            ) from error

    async def close(self) -> None:
        """The session is shared and closed by its owner."""


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def activity_json(value: Any) -> Any:
    """An activity as Bot Framework JSON. msrest's serializer walks every node of an Adaptive
    Card's content against its type map, which cost more than the rest of a turn; the models'
    attribute maps give the wire names directly, and card content is JSON already."""
    if isinstance(value, Model):
        out: dict[str, Any] = {}
        for attribute, info in type(value)._attribute_map.items():
            item = getattr(value, attribute, None)
            if item is not None and attribute != "additional_properties":
                out[info["key"]] = activity_json(item)
        extra = getattr(value, "additional_properties", None)
        if isinstance(extra, dict):
            for key, item in extra.items():
                out.setdefault(key, activity_json(item))
        return out
    if isinstance(value, list | tuple):
        return [activity_json(item) for item in value]
    if isinstance(value, dict):
        return {str(k): activity_json(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Exception):
        # botbuilder answers a malformed Action.Execute with `value=Exception(code, message)`,
        # meant as the error object {"code", "message"} of an application/vnd.microsoft.error.
        args = [str(arg) for arg in value.args]
        return {"code": args[0], "message": args[1]} if len(args) == 2 else {"message": str(value)}
    return value


def _path(*parts: str) -> str:
    return "/" + "/".join(quote(part, safe="") for part in parts)


def _resource(result: Any) -> ResourceResponse:
    identifier = result.get("id") if isinstance(result, dict) else None
    return ResourceResponse(id=str(identifier) if identifier else "")


class _Conversations:
    def __init__(self, client: BotConnectorClient) -> None:
        self._client = client

    async def reply_to_activity(
        self, conversation_id: str, activity_id: str, activity: Activity
    ) -> ResourceResponse:
        path = _path("v3", "conversations", conversation_id, "activities", activity_id)
        return _resource(
            await self._client.request("POST", path, activity_json(activity), conversation_id=conversation_id)
        )

    async def send_to_conversation(
        self, conversation_id: str, activity: Activity | bytes
    ) -> ResourceResponse:
        path = _path("v3", "conversations", conversation_id, "activities")
        body = activity if isinstance(activity, bytes) else activity_json(activity)
        return _resource(await self._client.request("POST", path, body, conversation_id=conversation_id))

    async def update_activity(
        self, conversation_id: str, activity_id: str, activity: Activity
    ) -> ResourceResponse:
        path = _path("v3", "conversations", conversation_id, "activities", activity_id)
        return _resource(
            await self._client.request("PUT", path, activity_json(activity), conversation_id=conversation_id)
        )

    async def delete_activity(self, conversation_id: str, activity_id: str) -> None:
        await self._client.request(
            "DELETE", _path("v3", "conversations", conversation_id, "activities", activity_id)
        )


async def team_member_count(client: BotConnectorClient, team_id: str) -> int | None:
    """The size of a team (`GET /v3/teams/{id}`), asynchronously: botbuilder's TeamsInfo does
    this with a synchronous client that blocks the event loop."""
    details = await client.request("GET", _path("v3", "teams", team_id))
    count = details.get("memberCount") if isinstance(details, dict) else None
    return count if isinstance(count, int) else None
