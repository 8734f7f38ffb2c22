"""Logs and metrics: one JSON line per turn and per notice delivery, a request id through each
request, and Prometheus metrics at `GET /metrics`.

Log lines carry ids (request, conversation, tenant) and outcomes, never message text, tokens or
names: the JSON formatter writes a fixed set of fields, and only the whitelisted `extra` keys
(`EXTRA_FIELDS`). Both formatters scrub what callers pass (`scrubbed`): an exception, as an
argument or in a traceback, is written as its class and, for a database error, its table, never
its message (SQLAlchemy's and the drivers' quote the statement's values: names, card payloads);
and every value is capped in length (`MAX_ARGUMENT`, `MAX_MESSAGE`, `MAX_FIELD`,
`MAX_EXCEPTION`), so no request can make a line longer than a few kilobytes. The request id is taken from a sane incoming `X-Request-Id` (else generated),
returned in the response, and kept in a context variable that `RequestContextFilter` stamps on
every record logged while the request is handled.

Metrics live in a `CollectorRegistry` per app (several apps in one process, as in the tests,
do not collide). Delivery outcomes are read from the delivery worker's counters at scrape time,
the queue depth with one COUNT of pending rows; 429s are counted by `ObservedTransport`, which
wraps the Bot Connector transport and logs each send.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import time
import traceback
import uuid
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.activities import consistent_tenant
from bot.broadcast import RETRYABLE, DeliveryWorker, SendError, Transport
from bot.http_input import BadJson, parse_json
from bot.operator_auth import failed_logins, refusal
from dialogs.model import Reply
from storage.db import describe_error
from storage.delivery import PENDING
from storage.limits import cap, without_surrogates
from storage.models import NoticeDelivery

REQUEST_ID_HEADER = "X-Request-Id"
MESSAGES_PATH = "/api/messages"
METRICS_PATH = "/metrics"
# The classic text format, which every Prometheus version reads.
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

turn_log = logging.getLogger("klikbot.turn")
delivery_log = logging.getLogger("klikbot.delivery")
request_log = logging.getLogger("klikbot.http")
log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# The request context and logging

# Record attributes (from `extra=` or the request context) that the JSON formatter writes.
# Anything else a caller passes is left out: a log line never carries text, tokens or names.
EXTRA_FIELDS = (
    "conversation_id",
    "tenant_id",
    "activity_type",
    "outcome",
    "status",
    "duration_ms",
    "delivery_kind",
    "method",
    "path",
)

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:=+/-]{1,128}")

# Characters: one argument of a message, the message, one field, an exception with its traceback.
MAX_ARGUMENT = 200
MAX_MESSAGE = 1000
MAX_FIELD = 256
MAX_EXCEPTION = 8000


@dataclass
class RequestContext:
    """What every log line emitted while handling one request carries."""

    request_id: str
    conversation_id: str | None = None
    tenant_id: str | None = None
    activity_type: str | None = None


request_context: ContextVar[RequestContext | None] = ContextVar("klikbot_request_context", default=None)


def current_request_id() -> str | None:
    context = request_context.get()
    return context.request_id if context is not None else None


def request_id_from(header: str | None) -> str:
    """The caller's request id when it is sane (1-128 characters of letters, digits and
    `._:=+/-`), else a new one."""
    if header is not None:
        header = header.strip()
        if _REQUEST_ID.fullmatch(header):
            return header
    return uuid.uuid4().hex


class RequestContextFilter(logging.Filter):
    """Stamps the current request's id (and, during a turn, its conversation, tenant and
    activity type) on every record. Attach it to handlers: a logger's filters do not see
    records propagated from its children."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = request_context.get()
        if not hasattr(record, "request_id"):
            record.request_id = context.request_id if context is not None else None
        if context is not None:
            for name in ("conversation_id", "tenant_id", "activity_type"):
                value = getattr(context, name)
                if value is not None and not hasattr(record, name):
                    setattr(record, name, value)
        return True


def _text(value: str, limit: int) -> str:
    return cap(without_surrogates(value), limit)


def _argument(value: object) -> object:
    """A message argument as it may be logged: an exception by its class (and table), text
    capped; numbers and the like as they are (the message as a whole is capped too)."""
    if isinstance(value, BaseException):
        return describe_error(value)
    if isinstance(value, str):
        return _text(value, MAX_ARGUMENT)
    return value


def scrubbed_message(record: logging.LogRecord) -> str:
    """The record's message with its arguments scrubbed (`_argument`), capped."""
    message = describe_error(record.msg) if isinstance(record.msg, BaseException) else str(record.msg)
    args = record.args
    if args:
        safe: object
        if isinstance(args, Mapping):
            safe = {key: _argument(value) for key, value in args.items()}
        else:
            safe = tuple(_argument(value) for value in args)
        try:
            message = message % safe
        except (TypeError, ValueError, KeyError):
            message = f"{message} (arguments that do not fit the message)"
    return _text(message, MAX_MESSAGE)


def scrubbed_exception(error: BaseException) -> str:
    """A traceback as Python prints it, each exception of the chain shown by `describe_error`
    instead of its message (no statement values), capped at MAX_EXCEPTION characters."""
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = error
    link = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = (
                current.__cause__,
                "The above exception was the direct cause of the following exception:",
            )
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = (
                current.__context__,
                "During handling of the above exception, another exception occurred:",
            )
        else:
            current = None
    parts: list[str] = []
    for index, (exception, _) in enumerate(reversed(chain)):
        if index:
            # The link printed before an exception is the one from the exception that follows it.
            parts.append(f"\n{chain[len(chain) - index][1]}\n\n")
        frames = "".join(traceback.format_tb(exception.__traceback__))
        if frames:
            parts.append("Traceback (most recent call last):\n" + frames)
        module = type(exception).__module__
        parts.append(
            describe_error(exception) if module == "builtins" else f"{module}.{describe_error(exception)}"
        )
    text = without_surrogates("".join(parts))
    if len(text) > MAX_EXCEPTION:
        head = MAX_EXCEPTION // 4
        text = text[:head] + "\n…\n" + text[-(MAX_EXCEPTION - head - 3) :]
    return text


def _scrubbed_copy(record: logging.LogRecord) -> logging.LogRecord:
    """A copy of the record whose message and exception are scrubbed (the original is left as
    it is for other handlers)."""
    copy = logging.makeLogRecord(record.__dict__)
    copy.msg, copy.args = scrubbed_message(record), None
    error = record.exc_info[1] if record.exc_info else None
    copy.exc_info = None
    copy.exc_text = scrubbed_exception(error) if error is not None else None
    return copy


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, request_id and the whitelisted
    fields that are set; `exception` holds the traceback when there is one. Everything is
    scrubbed and capped (see the module's doc)."""

    def format(self, record: logging.LogRecord) -> str:
        scrubbed = _scrubbed_copy(record)
        request_id = getattr(record, "request_id", None) or current_request_id()
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": _text(record.name, MAX_FIELD),
            "message": scrubbed.msg,
            "request_id": _text(str(request_id), MAX_FIELD) if request_id is not None else None,
        }
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is None:
                continue
            if isinstance(value, int | float | bool):
                entry[name] = value
            else:
                entry[name] = _text(str(value), MAX_FIELD)
        if scrubbed.exc_text:
            entry["exception"] = scrubbed.exc_text
        if record.stack_info:
            entry["stack"] = _text(self.formatStack(record.stack_info), MAX_EXCEPTION)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Readable lines for a terminal, with the request id when there is one; scrubbed and
    capped as the JSON lines are."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(_scrubbed_copy(record))
        request_id = getattr(record, "request_id", None)
        return f"{line} [request {_text(str(request_id), MAX_FIELD)}]" if request_id else line


def configure_logging(json: bool, level: int, stream: IO[str] | None = None) -> logging.Handler:
    """Log to standard error (or `stream`): JSON lines or text, with the request context on
    every record. Replaces the root logger's handlers; returns the new handler."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if json else TextFormatter())
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # The middleware logs every request (without the client's address); aiohttp's access log
    # would repeat it.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # msrest warns about every field botbuilder's models do not know, e.g. the "trigger" Teams
    # sends with each card button press: one useless warning per press.
    logging.getLogger("msrest.serialization").setLevel(logging.ERROR)
    return handler


# ---------------------------------------------------------------------------------------------
# Metrics

TURN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)
# Activity types label the turn metrics; anything else a caller sends counts as "other".
ACTIVITY_TYPES = frozenset(
    {
        "message",
        "messageUpdate",
        "messageDelete",
        "messageReaction",
        "conversationUpdate",
        "installationUpdate",
        "invoke",
        "event",
        "typing",
        "endOfConversation",
        "contactRelationUpdate",
        "deleteUserData",
        "command",
        "commandResult",
        "suggestion",
        "trace",
        "handoff",
    }
)
QUEUE_DEPTH_TIMEOUT = 2.0  # seconds; a scrape must not hang on a slow database


def outcome_of(status: int) -> str:
    if status == 499:
        return "cancelled"  # the client went away first
    if status < 400:
        return "ok"
    if status in (401, 403):
        return "unauthorized"
    if status < 500:
        return "rejected"
    return "error"


class _DeliveryCollector:
    """Delivery outcomes (the worker's counters) and the queue depth, at scrape time."""

    def __init__(self, observability: Observability) -> None:
        self._observability = observability

    def describe(self) -> Iterable[Metric]:
        return [_deliveries_family(), _queue_depth_family()]

    def collect(self) -> Iterable[Metric]:
        worker = self._observability.worker
        deliveries = _deliveries_family()
        for outcome, attribute in (("sent", "sent"), ("retry", "retried"), ("failed", "failed")):
            deliveries.add_metric([outcome], float(getattr(worker, attribute, 0) if worker else 0))
        yield deliveries
        depth = self._observability.queue_depth
        if depth is not None:  # None: the database did not answer; no value beats a wrong one
            family = _queue_depth_family()
            family.add_metric([], float(depth))
            yield family


def _deliveries_family() -> CounterMetricFamily:
    return CounterMetricFamily(
        "klikbot_deliveries",
        "Notice deliveries by outcome (sent; retry: queued again; failed: given up) since start",
        labels=["outcome"],
    )


def _queue_depth_family() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "klikbot_delivery_queue_depth",
        "Pending rows in notice_delivery (due or waiting for a retry), read at scrape time",
        labels=[],
    )


class Observability:
    """The app's metrics (own registry) and what the scrape reads: the engine and the worker."""

    def __init__(self, *, token: str | None, open_without_token: bool) -> None:
        self.token = token
        self.open_without_token = open_without_token
        self.registry = CollectorRegistry(auto_describe=True)
        self.turns = Counter(
            "klikbot_turns",
            "Requests to /api/messages by activity type and outcome",
            ["activity_type", "outcome"],
            registry=self.registry,
        )
        self.turn_seconds = Histogram(
            "klikbot_turn_duration_seconds",
            "Time to answer a request to /api/messages, replies included",
            ["activity_type"],
            buckets=TURN_BUCKETS,
            registry=self.registry,
        )
        self.connector_requests = Counter(
            "klikbot_notice_requests",
            "Bot Connector requests for incident notices by kind and answer (2xx, 429, 4xx, 5xx, timeout)",
            ["kind", "status"],
            registry=self.registry,
        )
        self.throttled = Counter(
            "klikbot_teams_throttled",
            "429 Too Many Requests answers from Teams (Bot Connector) to notice sends",
            registry=self.registry,
        )
        self.replies = Counter(
            "klikbot_replies",
            "Replies in turns that Teams throttled or failed: retried (each retry), queued for the"
            " delivery worker when the turn's budget ran out, or lost (neither sent nor queued)",
            ["outcome"],
            registry=self.registry,
        )
        for outcome in ("retried", "queued", "lost"):
            self.replies.labels(outcome)  # shown at 0 from the start
        self.engine: AsyncEngine | None = None
        self.worker: DeliveryWorker | None = None
        self.queue_depth: int | None = None
        self.registry.register(_DeliveryCollector(self))

    def watch(self, engine: AsyncEngine, worker: DeliveryWorker | None) -> None:
        """What the scrape reads: the queue's database and the worker's counters."""
        self.engine = engine
        self.worker = worker

    def observed(self, transport: Transport) -> ObservedTransport:
        return ObservedTransport(transport, self)

    def count_turn(self, activity_type: str, status: int, seconds: float) -> None:
        self.turns.labels(activity_type, outcome_of(status)).inc()
        self.turn_seconds.labels(activity_type).observe(seconds)

    def count_reply(self, outcome: str) -> None:
        self.replies.labels(outcome).inc()

    def count_send(self, kind: str, status: int | None) -> None:
        if status is None:
            answer = "timeout"
        elif status == 429:
            answer = "429"
            self.throttled.inc()
        else:
            answer = f"{status // 100}xx"
        self.connector_requests.labels(kind, answer).inc()

    async def read_queue_depth(self) -> int | None:
        """Pending rows in notice_delivery, or None when the database does not answer."""
        engine = self.engine
        if engine is None:
            return None
        table = NoticeDelivery.__table__
        statement = select(func.count()).select_from(table).where(table.c.state == PENDING)
        try:
            async with asyncio.timeout(QUEUE_DEPTH_TIMEOUT):
                async with engine.connect() as db:
                    count = await db.scalar(statement)
        except Exception as error:  # a scrape must answer even when the database does not
            log.warning("could not read the delivery queue depth: %s", type(error).__name__)
            return None
        return int(count or 0)

    def allowed(self, request: web.Request) -> web.Response | None:
        """None when the scrape may proceed, else the refusal."""
        if not self.token:
            if self.open_without_token:
                return None
            return web.json_response(
                {"error": "metrics are off: set KLIKBOT_ADMIN_TOKEN and scrape with it as a bearer token"},
                status=404,
            )
        return refusal(request, self.token, failed_logins(request.app))


OBSERVABILITY = web.AppKey("observability", Observability)


async def metrics_view(request: web.Request) -> web.Response:
    observability = request.app[OBSERVABILITY]
    refused = observability.allowed(request)
    if refused is not None:
        return refused
    depth = await observability.read_queue_depth()
    # No await between setting the depth and rendering: concurrent scrapes do not mix.
    observability.queue_depth = depth
    body = generate_latest(observability.registry)
    return web.Response(body=body, headers={"Content-Type": METRICS_CONTENT_TYPE})


metrics_view.klikbot_operator = True  # type: ignore[attr-defined]  # served on the admin listener


# ---------------------------------------------------------------------------------------------
# The request middleware

_QUIET_PATHS = frozenset({METRICS_PATH, "/healthz"})  # scraped and probed every few seconds


def _clip(value: object, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip()[:limit] or None


def _activity_facts(body: object, context: RequestContext) -> None:
    """The activity's type, conversation id and tenant (as bot.activities.tenant_of finds it:
    `conversation.tenantId`, `conversation.tenantID` and `channelData.tenant.id` name the same
    one, else none), from the raw JSON body."""
    if not isinstance(body, dict):
        return
    kind = body.get("type")
    if isinstance(kind, str):
        context.activity_type = kind if kind in ACTIVITY_TYPES else "other"
    conversation = body.get("conversation")
    places: list[tuple[str, object]] = []
    if isinstance(conversation, dict):
        context.conversation_id = _clip(conversation.get("id"), 256)
        places += [(key, conversation.get(key)) for key in ("tenantId", "tenantID")]
    channel_data = body.get("channelData")
    inner = channel_data.get("tenant") if isinstance(channel_data, dict) else None
    if isinstance(inner, dict):
        places.append(("channelData.tenant.id", inner.get("id")))
    context.tenant_id = _clip(consistent_tenant(places), 64)


async def _read_activity(request: web.Request, context: RequestContext, max_body: int) -> None:
    """Read the activity's ids before the handler runs, so every line of the turn has them.
    The body is read only when its declared size is within the limit (the handler reports a
    larger one), and aiohttp keeps it for the handler's own read."""
    if "application/json" not in request.headers.get("Content-Type", ""):
        return
    size = request.content_length
    if size is None or size > max_body:
        return
    try:
        body = parse_json(await request.read())
    except BadJson:  # the handler answers 400
        return
    _activity_facts(body, context)


def observability_middleware(max_body: int) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        observability = request.app[OBSERVABILITY]
        context = RequestContext(request_id_from(request.headers.get(REQUEST_ID_HEADER)))
        reset = request_context.set(context)
        started = time.perf_counter()
        status = 500
        turn = request.method == "POST" and request.path == MESSAGES_PATH
        try:
            if turn:
                await _read_activity(request, context, max_body)
            response = await handler(request)
            status = response.status
            if not response.prepared:
                response.headers[REQUEST_ID_HEADER] = context.request_id
            return response
        except web.HTTPException as error:
            status = error.status
            error.headers[REQUEST_ID_HEADER] = context.request_id
            raise
        except asyncio.CancelledError:
            status = 499
            raise
        finally:
            seconds = time.perf_counter() - started
            try:
                if turn:
                    _log_turn(observability, context, status, seconds)
                elif request.path not in _QUIET_PATHS:
                    request_log.info(
                        "request",
                        extra={
                            "method": request.method,
                            "path": request.path[:200],
                            "status": status,
                            "outcome": outcome_of(status),
                            "duration_ms": round(seconds * 1000, 2),
                        },
                    )
            finally:
                request_context.reset(reset)

    return middleware


def _log_turn(observability: Observability, context: RequestContext, status: int, seconds: float) -> None:
    activity_type = context.activity_type or "none"
    observability.count_turn(activity_type, status, seconds)
    turn_log.log(
        logging.ERROR if status >= 500 else logging.INFO,
        "turn",
        extra={
            "activity_type": activity_type,
            "outcome": outcome_of(status),
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
        },
    )


def add_observability(
    app: web.Application, *, token: str | None, open_without_token: bool, max_body: int
) -> None:
    """The metrics registry, the request middleware (outermost) and `GET /metrics`.

    `/metrics` takes the operator's bearer token when one is set; without a token it is open
    only when `open_without_token` (no-auth mode, where `serve` binds to loopback only), else
    it answers 404."""
    app[OBSERVABILITY] = Observability(token=token, open_without_token=open_without_token)
    app.middlewares.insert(0, observability_middleware(max_body))
    app.router.add_get(METRICS_PATH, metrics_view)


# ---------------------------------------------------------------------------------------------
# Deliveries


class ObservedTransport:
    """A Transport that logs one line per send (kind, conversation id, outcome, HTTP status,
    time taken) and counts the Bot Connector's answers, 429s among them."""

    def __init__(self, inner: Transport, observability: Observability) -> None:
        self._inner = inner
        self._observability = observability

    async def post(self, service_url: str, conversation_id: str, reply: Reply) -> str | None:
        started = time.perf_counter()
        try:
            activity_id = await self._inner.post(service_url, conversation_id, reply)
        except Exception as error:
            self._failed("post", conversation_id, error, started)
            raise
        self._sent("post", conversation_id, started)
        return activity_id

    async def update(self, service_url: str, conversation_id: str, activity_id: str, reply: Reply) -> None:
        started = time.perf_counter()
        try:
            await self._inner.update(service_url, conversation_id, activity_id, reply)
        except Exception as error:
            self._failed("update", conversation_id, error, started)
            raise
        self._sent("update", conversation_id, started)

    async def reply(self, service_url: str, conversation_id: str, activity_id: str, text: str) -> None:
        started = time.perf_counter()
        try:
            await self._inner.reply(service_url, conversation_id, activity_id, text)
        except Exception as error:
            self._failed("reply", conversation_id, error, started)
            raise
        self._sent("reply", conversation_id, started)

    def _sent(self, kind: str, conversation_id: str, started: float) -> None:
        self._observability.count_send(kind, 200)
        delivery_log.info("notice %s sent", kind, extra=_fields(kind, conversation_id, "sent", 200, started))

    def _failed(self, kind: str, conversation_id: str, error: Exception, started: float) -> None:
        status = error.status if isinstance(error, SendError) else None
        self._observability.count_send(kind, status)
        # As the worker decides: timeouts and RETRYABLE statuses go back to the queue (until
        # its attempts run out), anything else fails the row.
        outcome = "retry" if status is None or status in RETRYABLE else "failed"
        delivery_log.warning(
            "notice %s not sent: %s",
            kind,
            status if status is not None else "no answer",
            extra=_fields(kind, conversation_id, outcome, status, started),
        )


def _fields(
    kind: str, conversation_id: str, outcome: str, status: int | None, started: float
) -> Mapping[str, object]:
    return {
        "delivery_kind": kind,
        "conversation_id": conversation_id[:256],
        "outcome": outcome,
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
    }
