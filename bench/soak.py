"""Soak benchmark: the real bot under a steady mix of load for ten minutes, on loopback.

    .venv/bin/python -m bench.soak                        # 10 minutes on PostgreSQL
    .venv/bin/python -m bench.soak --duration 20          # a quick check
    .venv/bin/python -m bench.soak --database sqlite --json /tmp/soak.json

The bot's aiohttp app (`bot.app.create_app`, demo dataset and clock, production JSON logging to
a file, the delivery worker and scheduler running) is served in this process on loopback, so
its memory is this process's memory. A fake Bot Connector runs in a separate process: it takes
every reply, notice, edit and thread reply, checks every card against the Adaptive Card 1.5
schema (tests/card_schema.py; once per card shape, see `card_shape`) and counts
"Beklager"/"Sorry" apologies.

Load (open loop, seeded): `--rate` operations per second at fixed intervals, at most
`--concurrency` in flight (an arrival over the bound is not sent and counts as an error), each
request with a timeout; no conversation gets a second turn while one is in flight:

- 70% questions in Danish and English (bench/turns.py's list and a few more);
- 25% status changes: 15% by text ("sæt kontaktpunkt til fuldført"), 10% by card (the task's
  card is asked for, then one of its status buttons pressed: an `adaptiveCard/action` invoke;
  two turns);
- 5% subscription and reminder commands (`abonnement`, `påmind os om frister`, ...).

Turns go to `--conversations` personal chats (default 1,000) spread over the demo's 98
municipality tenants, registered up front with `installationUpdate` activities. Every
`--broadcast-every` seconds (the first at an eighth of that, inside the warm-up) an incident is
announced through the operator API to all of them, then updated and resolved (each step once
the previous one is delivered), so every cycle sends 4 requests per conversation.

Measured: operations and turns per second, turn latency p50/p99 overall, per minute, per kind
and for turns due while a broadcast step was being delivered vs the others (from the moment a
turn was due, so a stalled loop shows), errors (non-2xx, timeouts,
client errors, shed arrivals, apologies, invalid cards, message turns without a reply, refused
card presses, operator API failures, undelivered or failed notices, errors logged by the bot),
deliveries and their rate per broadcast step, and memory: this process's RSS (and allocated
blocks, threads) every `--sample-every` seconds; after the `--warmup` the start and end RSS and
the slope of a least-squares fit (MB/min). Growth over the window beyond 10 MB or 5% of the
start is flagged. At the end, once everything settled, the RSS again after glibc's
`malloc_trim(0)`: what is left of the growth then is held by live allocations, not by free
memory the allocator kept. `--tracemalloc` traces every allocation from the start and diffs two
snapshots (the end of the warm-up, and the end once settled: top 10 lines); it slows the bot, so
its latency figures are not comparable.

Writes the result as JSON (`--json`, default bench/results/soak_<database>.json) and exits 1 when
there was any error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import dataclasses
import gc
import hashlib
import json
import logging
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from array import array
from collections import Counter, OrderedDict
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # also as `python bench/soak.py`

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from bench.broadcast import create_database, drop_database, wait_ready  # noqa: E402
from bench.common import activity, free_port, percentile  # noqa: E402
from bench.turns import QUESTIONS  # noqa: E402

TOKEN = "soak-operator-token"
TURN_PREFIX = "soak"  # activity ids of the load's turns; the connector tells their replies apart
MESSAGE, CARD_VIEW, REGISTRATION = "soakt-", "soakc-", "soakr-"
APOLOGY = re.compile(r"^(Beklager|Sorry),")

ENGLISH = {"what is due by the end of February?", "events in March", "what's outstanding?",
           "tell me about the contact point task", "upcoming events", "deadlines this month",
           "when is the next programme leader meeting?"}  # fmt: skip
QUESTION_TEXTS = [
    *QUESTIONS,
    *sorted(ENGLISH - set(QUESTIONS)),
    "hvilke arrangementer er der i marts?",
    "hvad er status på it-miljø?",
]
# (text, language of the client that sends it)
QUESTION_MIX = [(text, "en" if text in ENGLISH else "da") for text in QUESTION_TEXTS]
# (task as a Dane writes it, as an English speaker does); the demo's three active tasks.
TASKS = [("kontaktpunkt", "the contact point task"), ("underskriftberettiget", "the signatory task"),
         ("it-miljø", "the IT environment task")]  # fmt: skip
STATUSES = [("påbegyndt", "started"), ("fuldført", "completed"), ("ikke påbegyndt", "not started")]
COMMANDS = [
    ("abonnement", "da"), ("subscription", "en"), ("abonner", "da"), ("subscribe", "en"),
    ("påmindelser", "da"), ("reminders", "en"), ("påmind os om frister", "da"),
    ("remind us about deadlines", "en"), ("ugentligt overblik mandag kl. 8", "da"),
    ("weekly digest on Friday at 9", "en"), ("stop ugentligt overblik", "da"), ("stop påmindelser", "da"),
    ("afmeld nyheder", "da"), ("abonner på nyheder", "da"),
]  # fmt: skip
MIX = (("question", 0.70), ("status_text", 0.15), ("status_card", 0.10), ("command", 0.05))


# ---------------------------------------------------------------- the fake Bot Connector


# Properties the Adaptive Card 1.5 schema allows any string in (no enum, pattern or format):
# a card is valid exactly when the same card with placeholders in them is.
FREE_TEXT = frozenset(
    {"text", "fallbackText", "title", "altText", "placeholder", "label", "errorMessage", "speak", "tooltip",
     "id", "value"}
)  # fmt: skip


def card_shape(node: Any) -> Any:
    """The card with every free string replaced by "x" and every Action's `data` (any string or
    object) by an empty one of its type: what decides the card's validity, minus its size."""
    if isinstance(node, list):
        return [card_shape(item) for item in node]
    if not isinstance(node, dict):
        return node
    shape: dict[str, Any] = {}
    for key, value in node.items():
        if isinstance(value, str) and (key in FREE_TEXT or key == "data"):
            shape[key] = "x"
        elif key == "data" and isinstance(value, dict):
            shape[key] = {}
        else:
            shape[key] = card_shape(value)
    return shape


class SoakConnector:
    """Takes what the bot sends, like the Bot Connector, and keeps only counters and what the
    load generator asks for, so it runs for any time in bounded memory."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.apologies = 0
        self.invalid_cards = 0
        self.samples: list[str] = []  # the first problems seen, for the report
        self.replied: list[str] = []  # turn activity ids answered since the last /stats
        self.cards: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()  # status buttons per card view
        self._checked: OrderedDict[bytes, list[str]] = OrderedDict()  # card digest -> its errors

    def card_errors(self, card: dict[str, Any]) -> list[str]:
        """tests/card_schema.py's verdict, computed once per card shape: validating every card
        (5-40 ms each) would make this process, not the bot, the bottleneck."""
        from tests.card_schema import MAX_CARD_BYTES, card_errors  # jsonschema: this process only

        shape = card_shape(card)
        digest = hashlib.blake2b(json.dumps(shape, sort_keys=True).encode(), digest_size=16).digest()
        errors = self._checked.get(digest)
        if errors is None:
            errors = card_errors(shape)
            self.counts["card_shapes_validated"] += 1
            self._checked[digest] = errors
            if len(self._checked) > 4096:
                self._checked.popitem(last=False)
        self.counts["cards_checked"] += 1
        size = len(json.dumps(card, ensure_ascii=False).encode())
        if size > MAX_CARD_BYTES:
            return [*errors, f"card is {size} bytes, over {MAX_CARD_BYTES}"]
        return errors

    def _problem(self, what: str) -> None:
        if len(self.samples) < 20:
            self.samples.append(what[:300])

    def inspect(self, body: dict[str, Any], where: str) -> None:
        """Count an apology or an invalid card in a message or an invoke's answer."""
        from tests.fake_connector import Received

        received = Received(method="", path="", conversation_id="", activity=body)
        if APOLOGY.match(received.text):
            self.apologies += 1
            self._problem(f"apology in {where}: {received.text[:120]!r}")
        card = received.card
        if card is not None and (errors := self.card_errors(card)):
            self.invalid_cards += 1
            self._problem(f"invalid card in {where}: {errors[:3]}")

    async def _take(self, request: web.Request, method: str) -> web.Response:
        body = await request.json()
        activity_id = request.match_info.get("aid", "")
        if method == "reply" and activity_id.startswith(TURN_PREFIX):
            self.counts["turn_reply"] += 1
            if not activity_id.startswith(REGISTRATION):
                self.replied.append(activity_id)
            if activity_id.startswith(CARD_VIEW):
                self._keep_buttons(activity_id, body)
        else:
            self.counts[{"send": "post", "update": "update", "reply": "thread_reply"}[method]] += 1
        self.inspect(body, f"{method} to {request.match_info['cid']}")
        return web.json_response({"id": uuid.uuid4().hex})

    def _keep_buttons(self, activity_id: str, body: dict[str, Any]) -> None:
        from tests.card_actions import iter_actions

        buttons = [
            action["data"]
            for _, action in iter_actions(body.get("attachments") or [])
            if action.get("type") == "Action.Execute" and action.get("verb") == "setStatus"
        ]
        self.cards[activity_id] = buttons
        while len(self.cards) > 1000:  # views nobody asked for (a timed-out turn)
            self.cards.popitem(last=False)

    async def send(self, request: web.Request) -> web.Response:
        return await self._take(request, "send")

    async def reply(self, request: web.Request) -> web.Response:
        return await self._take(request, "reply")

    async def update(self, request: web.Request) -> web.Response:
        return await self._take(request, "update")

    async def buttons(self, request: web.Request) -> web.Response:
        return web.json_response(self.cards.pop(request.match_info["aid"], []))

    async def check(self, request: web.Request) -> web.Response:
        """Check an invoke's answer (the load generator got it; the rules are the same)."""
        self.inspect(await request.json(), "an invoke's answer")
        return web.json_response({})

    async def stats(self, request: web.Request) -> web.Response:
        replied, self.replied = self.replied, []
        return web.json_response(
            {
                "counts": dict(self.counts),
                "apologies": self.apologies,
                "invalid_cards": self.invalid_cards,
                "samples": self.samples,
                "replied": replied,
            }
        )


def serve_connector(port: int) -> None:
    connector = SoakConnector()
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_post("/v3/conversations/{cid}/activities/{aid}", connector.reply)
    app.router.add_post("/v3/conversations/{cid}/activities", connector.send)
    app.router.add_put("/v3/conversations/{cid}/activities/{aid}", connector.update)
    app.router.add_get("/buttons/{aid}", connector.buttons)
    app.router.add_post("/check", connector.check)
    app.router.add_get("/stats", connector.stats)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# ---------------------------------------------------------------- measurements


class LogCounter(logging.Handler):
    """Counts the bot's log records at WARNING and above (ERROR and above are errors)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()
        self.samples: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[f"{record.levelname} {record.name}"] += 1
        if record.levelno >= logging.ERROR and len(self.samples) < 10:
            self.samples.append(f"{record.name}: {record.getMessage()[:200]}")

    @property
    def errors(self) -> int:
        return sum(n for key, n in self.counts.items() if not key.startswith("WARNING "))


@dataclasses.dataclass
class Recorder:
    """Latencies and errors of the load, in compact arrays (the recorder lives in the measured
    process: 8 bytes per turn)."""

    start: float
    latencies: array[float] = dataclasses.field(default_factory=lambda: array("d"))
    dues: array[float] = dataclasses.field(default_factory=lambda: array("d"))  # seconds into the run
    lags: array[float] = dataclasses.field(default_factory=lambda: array("d"))
    by_minute: dict[int, array[float]] = dataclasses.field(default_factory=dict)
    by_ten_seconds: dict[int, array[float]] = dataclasses.field(default_factory=dict)
    by_kind: dict[str, array[float]] = dataclasses.field(default_factory=dict)
    errors: Counter[str] = dataclasses.field(default_factory=Counter)
    errors_by_minute: Counter[int] = dataclasses.field(default_factory=Counter)
    samples: list[str] = dataclasses.field(default_factory=list)
    operations: Counter[str] = dataclasses.field(default_factory=Counter)

    def minute(self, at: float) -> int:
        return int((at - self.start) // 60)

    def turn(self, kind: str, since: float, at: float) -> None:
        seconds = time.perf_counter() - since
        self.latencies.append(seconds)
        self.dues.append(at - self.start)
        self.by_minute.setdefault(self.minute(at), array("d")).append(seconds)
        self.by_ten_seconds.setdefault(int((at - self.start) // 10), array("d")).append(seconds)
        self.by_kind.setdefault(kind, array("d")).append(seconds)

    def error(self, kind: str, detail: str, at: float | None = None) -> None:
        self.errors[kind] += 1
        self.errors_by_minute[self.minute(time.perf_counter() if at is None else at)] += 1
        if len(self.samples) < 20:
            self.samples.append(f"{kind}: {detail[:200]}")


def rss_mb() -> float:
    """This process's resident set size (VmRSS), in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def malloc_trim_rss() -> float:
    """RSS after glibc's malloc_trim(0) hands the allocator's free memory back (or plain RSS)."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return rss_mb()


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) of this process, or of another one from /proc."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def least_squares_slope(points: list[tuple[float, float]]) -> float:
    n = len(points)
    if n < 2:
        return 0.0
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0


def ms(values: array[float] | list[float], fraction: float) -> float | None:
    return round(percentile(values, fraction) * 1000, 1) if len(values) else None


# ---------------------------------------------------------------- the load


@dataclasses.dataclass
class Conversation:
    id: str
    tenant: str
    user: int


class Soak:
    def __init__(
        self, args: argparse.Namespace, http: aiohttp.ClientSession, bot_url: str, connector_url: str
    ) -> None:
        self.args = args
        self.http = http
        self.bot_url = bot_url
        self.connector_url = connector_url  # with a trailing slash, as serviceUrl
        # The arrivals' kinds and each operation's own generator come from `random`, in arrival
        # order, so a seed gives the same operations whatever the timing; which conversation
        # gets one depends on which are busy, so it draws from its own generator.
        self.random = random.Random(args.seed)
        self.picker = random.Random(args.seed + 1)
        self.record = Recorder(start=time.perf_counter())
        self.conversations: list[Conversation] = []
        self.busy: set[str] = set()
        self.in_flight = 0
        self.awaiting: set[str] = set()  # message turns answered 2xx whose reply was not seen yet
        self.replied: set[str] = set()  # replies seen before their turn finished
        self.connector: dict[str, Any] = {}
        self.connector_before: dict[str, Any] = {}
        self.broadcasts: list[dict[str, Any]] = []
        self.memory: list[dict[str, float]] = []
        self.load_over = asyncio.Event()
        self.snapshots: list[tracemalloc.Snapshot] = []
        self.objects: list[int] = []
        self.connector_pid: int | None = None
        self.cpu: dict[str, float] = {}  # CPU seconds during the load, and the load's wall time
        self.rss_settled = (0.0, 0.0)  # RSS at the end once settled, and then after malloc_trim

    # ------------------------------------------------------------ turns

    def body(self, conversation: Conversation, prefix: str, text: str | None, lang: str) -> dict[str, Any]:
        body = activity(self.connector_url, conversation.id, text or "", conversation.tenant)
        body["id"] = f"{prefix}{uuid.uuid4().hex}"
        body["from"] = {
            "id": f"29:soak-user-{conversation.user}",
            "name": f"Soak Bruger {conversation.user}",
            "aadObjectId": f"aad-soak-{conversation.user}",
        }
        body["locale"] = "da-DK" if lang == "da" else "en-US"
        if text is None:
            del body["text"]
        return body

    async def post_turn(self, kind: str, body: dict[str, Any], since: float, at: float) -> Any:
        """Send one activity; record its latency; return the answer's JSON (or None on an error)."""
        try:
            async with self.http.post(f"{self.bot_url}/api/messages", json=body) as response:
                text = await response.text()
                status = response.status
        except TimeoutError:
            self.record.error("timeout", f"{kind} {body.get('text')!r}", at)
            return None
        except aiohttp.ClientError as error:
            self.record.error("client_error", f"{kind}: {error!r}", at)
            return None
        self.record.turn(kind, since, at)
        if status not in (200, 201):
            self.record.error("http_status", f"{kind} {body.get('text')!r} -> {status} {text[:100]}", at)
            return None
        if body["type"] == "message":
            if body["id"] in self.replied:
                self.replied.discard(body["id"])
            else:
                self.awaiting.add(body["id"])
        return json.loads(text) if text else {}

    async def message(
        self, kind: str, conversation: Conversation, text: str, lang: str, due: float, prefix: str = MESSAGE
    ) -> str | None:
        body = self.body(conversation, prefix, text, lang)
        answered = await self.post_turn(kind, body, due, due)
        return None if answered is None else str(body["id"])

    async def card_change(self, conversation: Conversation, due: float, rng: random.Random) -> None:
        """Ask for a task's card, then press one of its status buttons (Action.Execute)."""
        task_da, task_en = rng.choice(TASKS)
        lang = rng.choice(("da", "en"))
        text = f"fortæl om {task_da}" if lang == "da" else f"tell me about {task_en}"
        view = await self.message("card_view", conversation, text, lang, due, CARD_VIEW)
        if view is None:
            return
        try:
            async with self.http.get(f"{self.connector_url}buttons/{view}") as response:
                buttons = await response.json()
        except (TimeoutError, aiohttp.ClientError) as error:
            self.record.error("client_error", f"the connector's buttons: {error!r}", due)
            return
        if not buttons:
            self.record.error("no_buttons", f"no status buttons on the card for {text!r}", due)
            return
        data = rng.choice(buttons)
        body = self.body(conversation, MESSAGE, None, lang)
        body.update(
            type="invoke",
            name="adaptiveCard/action",
            value={
                "action": {"type": "Action.Execute", "verb": "setStatus", "data": data},
                "trigger": "manual",
            },
        )
        start = time.perf_counter()
        answer = await self.post_turn("status_card", body, start, due)
        if answer is None:
            return
        card = answer.get("value") if isinstance(answer, dict) else None
        if not isinstance(card, dict) or answer.get("statusCode") != 200:
            self.record.error("invoke_answer", f"{json.dumps(answer)[:200]}", due)
            return
        if card.get("body", [{}])[0].get("text") == "Det kan jeg ikke gøre":
            self.record.error("card_refused", json.dumps(card, ensure_ascii=False)[:200], due)
        # Apologies and the schema are checked by the connector's rules, in its process.
        answer_activity = {"type": "message", "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}]}  # fmt: skip
        try:
            async with self.http.post(f"{self.connector_url}check", json=answer_activity) as response:
                await response.read()
        except (TimeoutError, aiohttp.ClientError) as error:
            self.record.error("client_error", f"the connector's check: {error!r}", due)

    async def operation(self, kind: str, conversation: Conversation, due: float, rng: random.Random) -> None:
        try:
            if kind == "question":
                text, lang = rng.choice(QUESTION_MIX)
                await self.message(kind, conversation, text, lang, due)
            elif kind == "status_text":
                (task_da, task_en), (status_da, status_en) = rng.choice(TASKS), rng.choice(STATUSES)
                if rng.random() < 0.5:
                    await self.message(kind, conversation, f"sæt {task_da} til {status_da}", "da", due)
                else:
                    await self.message(kind, conversation, f"set {task_en} to {status_en}", "en", due)
            elif kind == "status_card":
                await self.card_change(conversation, due, rng)
            else:
                text, lang = rng.choice(COMMANDS)
                await self.message(kind, conversation, text, lang, due)
        except Exception as error:  # a bug in the load generator must not end the soak silently
            self.record.error("exception", repr(error), due)
        finally:
            self.busy.discard(conversation.id)
            self.in_flight -= 1

    def pick_conversation(self) -> Conversation | None:
        for _ in range(20):
            conversation = self.picker.choice(self.conversations)
            if conversation.id not in self.busy:
                return conversation
        return None

    async def drive(self) -> tuple[float, int]:
        """Arrivals at fixed intervals for the duration; returns (seconds, operations started)."""
        interval = 1 / self.args.rate
        kinds = [k for k, _ in MIX]
        weights = [w for _, w in MIX]
        tasks: set[asyncio.Task[None]] = set()
        start = self.record.start
        n = 0
        while True:
            due = start + n * interval
            if due >= start + self.args.duration:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            self.record.lags.append(max(0.0, time.perf_counter() - due))
            n += 1
            kind = self.random.choices(kinds, weights)[0]
            rng = random.Random(self.random.getrandbits(64))
            conversation = self.pick_conversation()
            if self.in_flight >= self.args.concurrency or conversation is None:
                self.record.error("shed", f"{self.in_flight} operations in flight", due)
                continue
            self.in_flight += 1
            self.busy.add(conversation.id)
            self.record.operations[kind] += 1
            task = asyncio.create_task(self.operation(kind, conversation, due, rng))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        seconds = time.perf_counter() - start
        if tasks:
            await asyncio.wait(tasks, timeout=self.args.timeout * 3)
        return seconds, n

    # ------------------------------------------------------------ setup

    async def register(self, count: int, codes: list[int]) -> None:
        """Install the bot in `count` personal chats across the municipalities' tenants."""
        from storage.demo import demo_tenant_id

        self.conversations = [
            Conversation(f"a:soak-{i:05d}", demo_tenant_id(codes[i % len(codes)]), i) for i in range(count)
        ]
        semaphore = asyncio.Semaphore(16)

        async def install(conversation: Conversation) -> None:
            body = self.body(conversation, REGISTRATION, None, "da")
            body.update(type="installationUpdate", action="add")
            async with semaphore, self.http.post(f"{self.bot_url}/api/messages", json=body) as response:
                if response.status not in (200, 201):
                    raise RuntimeError(
                        f"installing in {conversation.id}: {response.status} {await response.text()}"
                    )

        await asyncio.gather(*(install(c) for c in self.conversations))

    async def connector_stats(self) -> dict[str, Any]:
        async with self.http.get(f"{self.connector_url}stats") as response:
            stats: dict[str, Any] = await response.json()
        for activity_id in stats["replied"]:
            if activity_id in self.awaiting:
                self.awaiting.discard(activity_id)
            else:
                self.replied.add(activity_id)
        self.connector = stats
        return stats

    async def watch_connector(self) -> None:
        while not self.load_over.is_set():
            try:
                await self.connector_stats()
            except (TimeoutError, aiohttp.ClientError) as error:
                self.record.error("client_error", f"the connector's stats: {error!r}")
            await self.sleep_unless_over(2.0)

    async def sleep_unless_over(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.load_over.wait(), seconds)

    # ------------------------------------------------------------ memory

    def sample_memory(self) -> None:
        at = time.perf_counter() - self.record.start
        sample = {
            "t_s": round(at, 1),
            "rss_mb": round(rss_mb(), 2),
            "allocated_blocks": float(sys.getallocatedblocks()),
            "cpu_s": round(cpu_seconds(), 2),
            "threads": float(threading.active_count()),
        }
        if tracemalloc.is_tracing():
            sample["tracemalloc_mb"] = round(tracemalloc.get_traced_memory()[0] / 2**20, 2)
        self.memory.append(sample)

    def window_edge(self) -> None:
        """The start or end of the measured window: object count and tracemalloc snapshot."""
        gc.collect()
        self.objects.append(len(gc.get_objects()))
        if tracemalloc.is_tracing():
            self.snapshots.append(tracemalloc.take_snapshot())

    async def watch_memory(self) -> None:
        warmup, every = self.warmup, self.sample_every
        edge_done = False
        n = 0
        while True:
            due = self.record.start + n * every
            if due > self.record.start + self.args.duration:
                break
            await self.sleep_unless_over(max(0.0, due - time.perf_counter()))
            if self.load_over.is_set():
                break
            if not edge_done and due - self.record.start >= warmup:
                self.window_edge()
                edge_done = True
            self.sample_memory()
            n += 1
        self.sample_memory()  # the end of the load

    @property
    def warmup(self) -> float:
        return min(float(self.args.warmup), float(self.args.duration) / 4)

    @property
    def sample_every(self) -> float:
        return max(0.5, min(float(self.args.sample_every), float(self.args.duration) / 10))

    # ------------------------------------------------------------ broadcasts

    async def operator(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with self.http.request(method, f"{self.bot_url}{path}", json=body, headers=headers) as response:
            return response.status, await response.json()

    async def delivered(self, incident: int) -> dict[str, Any]:
        """Poll the operator API until nothing of the incident is pending."""
        deadline = time.perf_counter() + self.args.broadcast_timeout
        while True:
            status, report = await self.operator("GET", f"/api/incidents/{incident}")
            if status != 200:
                raise RuntimeError(f"GET /api/incidents/{incident}: {status} {report}")
            if report["pending"] == 0:
                return dict(report)
            if time.perf_counter() > deadline:
                raise TimeoutError(f"incident {incident}: {report['pending']} still pending")
            await asyncio.sleep(0.1)

    async def broadcast(self, cycle: int) -> None:
        """Announce an incident, update it, resolve it: each step once the last was delivered."""
        gap = min(10.0, self.args.broadcast_every / 8, self.args.duration / 10)
        steps: list[tuple[str, str, dict[str, Any]]] = [
            ("announce", "/api/incidents", {
                "title": f"Soak {cycle + 1}: nedbrud på Adgangsstyring",
                "description": "BBR, DAR og SAPA er utilgængelige. Vi undersøger sagen.",
                "affected_systems": ["Adgangsstyring", "BBR", "DAR", "SAPA"],
                "started_at": "2019-01-23T09:00:00+01:00",
                "severity": "A" if cycle % 2 == 0 else "B",
            }),
            ("update", "/api/incidents/{id}/updates",
             {"status": "identified", "message": "Årsagen er fundet; en rettelse er på vej."}),
            ("resolve", "/api/incidents/{id}/updates",
             {"status": "resolved", "message": "Løst: alle systemer svarer igen.",
              "resolved_at": "2019-01-23T09:55:00+01:00"}),
        ]  # fmt: skip
        incident: int | None = None
        sent_before = 0
        for step, path, payload in steps:
            if incident is not None:
                await asyncio.sleep(gap)
            started = time.perf_counter()
            record: dict[str, Any] = {
                "cycle": cycle + 1,
                "step": step,
                "at_s": round(started - self.record.start, 1),
            }
            self.broadcasts.append(record)
            try:
                status, answer = await self.operator("POST", path.format(id=incident), payload)
                if status != 201:
                    self.record.error("operator_api", f"{step}: {status} {answer}", started)
                    return
                incident = int(answer["id"])
                record["incident"], record["queued"] = incident, int(answer["queued"])
                report = await self.delivered(incident)
            except (TimeoutError, aiohttp.ClientError, RuntimeError) as error:
                self.record.error("broadcast", f"{step}: {error!r}", started)
                return
            seconds = time.perf_counter() - started
            record["seconds"] = round(seconds, 2)
            record["sent"] = report["sent"] - sent_before
            record["per_s"] = round(record["sent"] / seconds, 1)
            sent_before = report["sent"]
            if record["sent"] != record["queued"] or report["failed"]:
                self.record.error(
                    "delivery",
                    f"{step} of incident {incident}: queued {record['queued']}, sent "
                    f"{record['sent']}, failed {report['failed']} {report['delivery']['failures'][:2]}",
                    started,
                )

    async def broadcasts_loop(self) -> None:
        every = self.args.broadcast_every
        if every <= 0:
            return
        at = min(every / 8, self.args.duration / 4)
        cycle = 0
        while at < self.args.duration:
            await asyncio.sleep(max(0.0, self.record.start + at - time.perf_counter()))
            await self.broadcast(cycle)
            cycle += 1
            at += every

    # ------------------------------------------------------------ the run

    async def run(self) -> None:
        self.connector_before = await self.connector_stats()
        self.record.start = time.perf_counter() + 0.05
        watchers = [
            asyncio.create_task(self.watch_connector()),
            asyncio.create_task(self.watch_memory()),
        ]
        broadcasts = asyncio.create_task(self.broadcasts_loop())
        cpu_before = cpu_seconds(), cpu_seconds(self.connector_pid) if self.connector_pid else 0.0
        self.load_seconds, self.arrivals = await self.drive()
        self.cpu = {
            "wall_s": round(self.load_seconds, 1),
            "bot_process_s": round(cpu_seconds() - cpu_before[0], 1),
            "connector_process_s": round(
                (cpu_seconds(self.connector_pid) if self.connector_pid else 0.0) - cpu_before[1], 1
            ),
        }
        self.load_over.set()
        await asyncio.gather(*watchers)
        # A broadcast still under way finishes (each of its waits is bounded).
        await broadcasts
        await self.connector_stats()
        await asyncio.sleep(1)  # nothing in flight: the end of the window
        self.window_edge()
        self.rss_settled = (rss_mb(), malloc_trim_rss())


# ---------------------------------------------------------------- the report


def summarise(
    soak: Soak, logs: LogCounter, metrics: dict[str, float], args: argparse.Namespace
) -> dict[str, Any]:
    record = soak.record
    stats, before = soak.connector, soak.connector_before
    counts = Counter(stats["counts"])
    counts.subtract(before["counts"])
    apologies = stats["apologies"] - before["apologies"]
    invalid_cards = stats["invalid_cards"] - before["invalid_cards"]
    errors = Counter(record.errors)
    errors["apology"] += apologies
    errors["invalid_card"] += invalid_cards
    errors["no_reply"] += len(soak.awaiting)
    errors["logged_error"] += logs.errors
    errors = Counter({k: v for k, v in errors.items() if v})
    turns = len(record.latencies)
    deliveries = counts["post"] + counts["update"] + counts["thread_reply"]
    sent_by_api = sum(int(b.get("sent", 0)) for b in soak.broadcasts)
    broadcast_seconds = sum(float(b.get("seconds", 0)) for b in soak.broadcasts)

    warmup = soak.warmup
    window = [s for s in soak.memory if s["t_s"] >= warmup]
    slope = least_squares_slope([(s["t_s"] / 60, s["rss_mb"]) for s in window])
    minutes = (window[-1]["t_s"] - window[0]["t_s"]) / 60 if len(window) > 1 else 0.0
    start_rss = window[0]["rss_mb"] if window else 0.0
    end_rss = window[-1]["rss_mb"] if window else 0.0
    fit_growth = slope * minutes
    threshold = min(10.0, 0.05 * start_rss)
    memory: dict[str, Any] = {
        "warmup_s": warmup,
        "sample_every_s": soak.sample_every,
        "rss_start_mb": start_rss,
        "rss_end_mb": end_rss,
        "rss_growth_mb": round(end_rss - start_rss, 2),
        "slope_mb_per_min": round(slope, 3),
        "fit_growth_mb": round(fit_growth, 2),
        "threshold_mb": round(threshold, 2),
        "grows_beyond_noise": fit_growth > threshold or end_rss - start_rss > threshold,
        # Two minutes after the warm-up at least: before that, caches still filling look like a leak.
        "verdict": (
            "too short to judge"
            if minutes < 2
            else "GROWS beyond noise"
            if fit_growth > threshold or end_rss - start_rss > threshold
            else "flat (within noise)"
        ),
        "window_min": round(minutes, 2),
        "peak_rss_mb": max((s["rss_mb"] for s in soak.memory), default=0.0),
        "allocated_blocks_start": int(window[0]["allocated_blocks"]) if window else None,
        "allocated_blocks_end": int(window[-1]["allocated_blocks"]) if window else None,
        "gc_objects_start_end": soak.objects,
        "samples": soak.memory,
    }
    memory["rss_settled_mb"] = round(soak.rss_settled[0], 2)
    memory["rss_settled_after_malloc_trim_mb"] = round(soak.rss_settled[1], 2)
    if len(soak.snapshots) == 2:
        diff = soak.snapshots[1].compare_to(soak.snapshots[0], "lineno")
        diff.sort(key=lambda stat: stat.size_diff, reverse=True)  # what grew most first
        memory["tracemalloc_total_diff_kb"] = round(sum(stat.size_diff for stat in diff) / 1024, 1)
        memory["tracemalloc_top10"] = [
            {
                "where": str(stat.traceback),
                "size_diff_kb": round(stat.size_diff / 1024, 1),
                "count_diff": stat.count_diff,
            }
            for stat in diff[:10]
        ]
    per_minute = [
        {
            "minute": minute + 1,
            "turns": len(values),
            "turns_per_s": round(len(values) / min(60.0, args.duration - minute * 60), 1),
            "p50_ms": ms(values, 0.5),
            "p99_ms": ms(values, 0.99),
            "errors": record.errors_by_minute.get(minute, 0),
        }
        for minute, values in sorted(record.by_minute.items())
    ]
    # Turns due while a broadcast step was being delivered, and the others.
    steps = [(b["at_s"], b["at_s"] + b["seconds"]) for b in soak.broadcasts if "seconds" in b]
    during: list[float] = []
    outside: list[float] = []
    for due, seconds in zip(record.dues, record.latencies, strict=True):
        (during if any(a <= due <= b for a, b in steps) else outside).append(seconds)
    timeline = [
        {"from_s": ten * 10, "turns": len(values), "p50_ms": ms(values, 0.5), "p99_ms": ms(values, 0.99)}
        for ten, values in sorted(record.by_ten_seconds.items())
    ]
    return {
        "database": args.database,
        "duration_s": args.duration,
        "rate_per_s": args.rate,
        "concurrency": args.concurrency,
        "conversations": args.conversations,
        "broadcast_every_s": args.broadcast_every,
        "seed": args.seed,
        "tracemalloc": args.tracemalloc,
        "when": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "machine": f"{os.cpu_count()} CPUs, {os.uname().sysname} {os.uname().release}",
        "operations": sum(record.operations.values()),
        "operations_by_kind": dict(record.operations),
        "arrivals": soak.arrivals,
        "operations_per_s": round(sum(record.operations.values()) / soak.load_seconds, 2),
        "turns": turns,
        "turns_per_s": round(turns / soak.load_seconds, 2),
        "p50_ms": ms(record.latencies, 0.5),
        "p99_ms": ms(record.latencies, 0.99),
        "max_ms": round(max(record.latencies) * 1000, 1) if turns else None,
        "schedule_lag_p99_ms": ms(record.lags, 0.99),
        "while_broadcasting": {"turns": len(during), "p50_ms": ms(during, 0.5), "p99_ms": ms(during, 0.99)},
        "outside_broadcasts": {
            "turns": len(outside),
            "p50_ms": ms(outside, 0.5),
            "p99_ms": ms(outside, 0.99),
        },
        "by_kind": {
            kind: {"turns": len(v), "p50_ms": ms(v, 0.5), "p99_ms": ms(v, 0.99)}
            for kind, v in sorted(record.by_kind.items())
        },
        "per_minute": per_minute,
        "timeline_10s": timeline,
        "cpu": soak.cpu,
        "errors": {"total": sum(errors.values()), **dict(errors)},
        "error_samples": record.samples + stats["samples"] + logs.samples,
        "log_warnings": {k: v for k, v in logs.counts.items() if k.startswith("WARNING ")},
        "turn_replies": counts["turn_reply"],
        "cards_checked": counts["cards_checked"],
        "card_shapes_validated": counts["card_shapes_validated"],
        "deliveries": deliveries,
        "deliveries_by_kind": {
            "post": counts["post"],
            "update": counts["update"],
            "thread_reply": counts["thread_reply"],
        },
        "deliveries_sent_per_operator_api": sent_by_api,
        "deliveries_per_s_while_broadcasting": round(sent_by_api / broadcast_seconds, 1)
        if broadcast_seconds
        else None,
        "broadcasts": soak.broadcasts,
        "metrics": metrics,
        "memory": memory,
    }


def print_summary(result: dict[str, Any]) -> None:
    memory, errors, cpu = result["memory"], result["errors"], result["cpu"]
    out, dur = result["outside_broadcasts"], result["while_broadcasting"]
    rows = [
        ("database", result["database"]),
        ("duration", f"{result['duration_s']} s, {result['conversations']} conversations, seed {result['seed']}"),
        ("operations/s (target)", f"{result['operations_per_s']} ({result['rate_per_s']})"),
        ("turns, turns/s", f"{result['turns']}, {result['turns_per_s']}"),
        ("turn latency p50 / p99 / max", f"{result['p50_ms']} / {result['p99_ms']} / {result['max_ms']} ms"),
        ("p50 / p99 outside broadcasts", f"{out['p50_ms']} / {out['p99_ms']} ms ({out['turns']} turns)"),
        ("p50 / p99 while broadcasting", f"{dur['p50_ms']} / {dur['p99_ms']} ms ({dur['turns']} turns)"),
        ("schedule lag p99", f"{result['schedule_lag_p99_ms']} ms"),
        ("CPU s: bot process / connector / wall", f"{cpu['bot_process_s']} / {cpu['connector_process_s']} / {cpu['wall_s']}"),
        ("errors (target 0)", " ".join(f"{k}={v}" for k, v in errors.items())),
        ("deliveries (connector / API)", f"{result['deliveries']} / {result['deliveries_sent_per_operator_api']}"),
        ("deliveries/s while broadcasting", f"{result['deliveries_per_s_while_broadcasting']}"),
        ("RSS start -> end (peak)", f"{memory['rss_start_mb']} -> {memory['rss_end_mb']} MB ({memory['peak_rss_mb']} MB)"),
        ("RSS slope, fit growth", f"{memory['slope_mb_per_min']} MB/min, {memory['fit_growth_mb']} MB over "
                                  f"{memory['window_min']} min (threshold {memory['threshold_mb']} MB)"),
        ("allocated blocks start -> end", f"{memory['allocated_blocks_start']} -> {memory['allocated_blocks_end']}"),
        ("RSS settled, after malloc_trim", f"{memory['rss_settled_mb']} MB, {memory['rss_settled_after_malloc_trim_mb']} MB"),
        ("gc objects start -> end", " -> ".join(map(str, memory["gc_objects_start_end"]))),
        ("tracemalloc diff, settled", f"{memory.get('tracemalloc_total_diff_kb', '-')} KB"),
        ("memory", memory["verdict"]),
    ]  # fmt: skip
    width = max(len(k) for k, _ in rows)
    print()
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    print("\nminute  turns  turns/s  p50 ms  p99 ms  errors")
    for m in result["per_minute"]:
        print(
            f"{m['minute']:>6}  {m['turns']:>5}  {m['turns_per_s']:>7}  {m['p50_ms']:>6}  {m['p99_ms']:>6}  {m['errors']:>6}"
        )
    print("\nkind          turns  p50 ms  p99 ms")
    for kind, k in result["by_kind"].items():
        print(f"{kind:<12}  {k['turns']:>5}  {k['p50_ms']:>6}  {k['p99_ms']:>6}")
    print("\ncycle  step      at s  queued  sent  seconds  per s")
    for b in result["broadcasts"]:
        print(f"{b['cycle']:>5}  {b['step']:<8}  {b['at_s']:>4}  {b.get('queued', '-'):>6}  {b.get('sent', '-'):>4}  "
              f"{b.get('seconds', '-'):>7}  {b.get('per_s', '-'):>5}")  # fmt: skip
    for top in memory.get("tracemalloc_top10", []):
        print(f"  {top['size_diff_kb']:>9} KB {top['count_diff']:>7}  {top['where']}")
    for sample in result["error_samples"][:10]:
        print("  error:", sample)


# ---------------------------------------------------------------- main


def parse_metrics(text: str) -> dict[str, float]:
    """The counters worth keeping from /metrics: deliveries by outcome, throttling, turns."""
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(
            ("klikbot_deliveries_total", "klikbot_teams_throttled_total", "klikbot_turns_total")
        ):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


@dataclasses.dataclass
class Started:
    runner: web.AppRunner
    url: str


async def start_bot(database_url: str, port: int) -> Started:
    from bot.app import create_app
    from bot.settings import Settings
    from storage.demo import KOMBIT_TENANT_ID, demo_clock

    settings = Settings(
        database_url=database_url,
        now=demo_clock(),
        demo=True,  # migrate and load the demo dataset into the empty database
        admin_token=TOKEN,
        admin_tenant_ids=frozenset({KOMBIT_TENANT_ID}),
        public_url=f"http://127.0.0.1:{port}",
    )
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return Started(runner, f"http://127.0.0.1:{port}")


def configure_logs(path: Path) -> tuple[LogCounter, TextIO]:
    """Production logging (JSON lines at INFO, bot/observability.py) into a file, and a counter."""
    from bot.observability import configure_logging

    stream = path.open("w", encoding="utf-8")
    configure_logging(json=True, level=logging.INFO, stream=stream)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    counter = LogCounter()
    logging.getLogger().addHandler(counter)
    return counter, stream


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from storage.demo import load_demo_yaml

    workdir = args.logs or Path(tempfile.mkdtemp(prefix="klikbot-soak-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"logs in {workdir}", flush=True)
    connector_port, bot_port = free_port(), free_port()
    connector_url = f"http://127.0.0.1:{connector_port}/"
    with (workdir / "connector.log").open("wb") as out:
        connector = subprocess.Popen(  # noqa: ASYNC220 (started once, before the measurement)
            [sys.executable, "-m", "bench.soak", "--serve-connector", str(connector_port)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    logs, log_stream = configure_logs(workdir / "klikbot.log")
    started: Started | None = None
    database_url, pg_name = "", None
    try:
        database_url, pg_name = await create_database(args.database)
        await wait_ready(connector_url)
        started = await start_bot(database_url, bot_port)
        timeout = aiohttp.ClientTimeout(total=args.timeout)
        limit = aiohttp.TCPConnector(limit=args.concurrency + 16)
        async with aiohttp.ClientSession(connector=limit, timeout=timeout) as http:
            soak = Soak(args, http, started.url, connector_url)
            soak.connector_pid = connector.pid
            codes = [int(m["code"]) for m in load_demo_yaml()["municipalities"]]
            began = time.perf_counter()
            await soak.register(args.conversations, codes)
            print(f"registered {args.conversations} conversations in {time.perf_counter() - began:.1f} s; "
                  f"soaking for {args.duration} s", flush=True)  # fmt: skip
            await soak.run()
            async with http.get(
                f"{started.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
            ) as response:
                metrics = parse_metrics(await response.text())
    finally:
        if started is not None:
            await started.runner.cleanup()
        connector.terminate()
        await asyncio.to_thread(connector.wait, 30)
        await drop_database(pg_name)
        if database_url.startswith("sqlite"):
            sqlite_file = database_url.removeprefix("sqlite+aiosqlite:///")
            for suffix in ("", "-wal", "-shm"):
                await asyncio.to_thread(Path(sqlite_file + suffix).unlink, missing_ok=True)
        log_stream.close()
    return summarise(soak, logs, metrics, args)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--duration", type=float, default=600, help="seconds of load")
    parser.add_argument(
        "--rate", type=float, default=20, help="operations per second (a card change is 2 turns)"
    )
    parser.add_argument("--concurrency", type=int, default=64, help="operations in flight at most")
    parser.add_argument("--timeout", type=float, default=10, help="seconds per request")
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument(
        "--broadcast-every", type=float, default=120, help="seconds between incidents (0: none)"
    )
    parser.add_argument(
        "--broadcast-timeout", type=float, default=120, help="seconds for one step's delivery"
    )
    parser.add_argument(
        "--warmup", type=float, default=60, help="seconds before memory counts (at most 1/4 of the run)"
    )
    parser.add_argument("--sample-every", type=float, default=10, help="seconds between memory samples")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="diff tracemalloc snapshots (slows the bot)"
    )
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument(
        "--json", type=Path, help="where to write the result (default bench/results/soak_<database>.json)"
    )
    parser.add_argument(
        "--logs", type=Path, help="directory for the bot's and the connector's logs (default: a new one)"
    )
    parser.add_argument("--serve-connector", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_connector:
        serve_connector(args.serve_connector)
        return
    if args.tracemalloc:
        tracemalloc.start(1)  # before the bot starts: everything it allocates is traced
    result = asyncio.run(run(args))
    print_summary(result)
    path: Path = args.json or ROOT / "bench" / "results" / f"soak_{args.database}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"\nwritten to {path}")
    sys.exit(1 if result["errors"]["total"] else 0)


if __name__ == "__main__":
    main()
