"""The delivery worker: sends queued incident notices, task news and reminders at the rate
Teams allows.

Per lane (tenant) a task claims rows in small batches and starts their sends, each waiting for
its conversation's and its tenant's limits; tenants proceed in parallel. A send that fails
goes back to the queue with a later `available_at` (Retry-After for 429, else exponential
backoff with jitter), so a conversation that keeps failing holds up nothing. Outcomes are
written in batches; while a row is held its lease is renewed, and at shutdown unfinished rows
are handed back.

Plain Python: the Bot Connector is behind the `Transport` protocol (bot/notice_transport.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.pacing import Pacing
from dialogs.incident_cards import notice_reply, resolution_text
from dialogs.model import Reply
from storage.db import database_unavailable
from storage.delivery import (
    MESSAGE,
    POST,
    REPLY,
    UPDATE,
    Claimed,
    DeliveryQueue,
    Failed,
    Outcome,
    Retry,
    Sent,
    message_bodies,
)
from storage.incidents import NoticeView, notice

log = logging.getLogger(__name__)

RETRYABLE = frozenset({412, 429, 500, 502, 503, 504})
GONE = frozenset({403, 404})


class SendError(Exception):
    """A send failed: `status` is the HTTP status (None: timeout or no connection)."""

    def __init__(self, status: int | None, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class Transport(Protocol):
    async def post(self, service_url: str, conversation_id: str, reply: Reply) -> str | None: ...

    async def update(
        self, service_url: str, conversation_id: str, activity_id: str, reply: Reply
    ) -> None: ...

    async def reply(self, service_url: str, conversation_id: str, activity_id: str, text: str) -> None: ...


@dataclass(frozen=True)
class WorkerConfig:
    lease: float = 60.0  # seconds a claim is held without renewal before others may take it
    tenant_rate: float = 30.0  # requests per second per tenant
    batch: int = 64  # rows claimed at a time per tenant
    lane_concurrency: int = 32  # sends in flight per tenant
    max_in_flight: int = 512  # sends in flight in all
    # Lanes that may use the database at once (claims, loading notices): with ~100 tenants
    # claiming together the pool ran dry and chat turns waited seconds for a connection.
    db_slots: int = 4
    poll: float = 0.2  # seconds between looks for due rows while busy
    idle_poll: float = 2.0  # at most this long between looks when idle (other processes' notices)
    backoff_base: float = 1.0
    backoff_cap: float = 300.0
    max_attempts: int = 10
    flush_interval: float = 0.05
    flush_size: int = 200
    limiter_pad: float = 0.01  # seconds added to each counting window, for network jitter
    shutdown_grace: float = 5.0


def default_worker_id() -> str:
    return f"{socket.gethostname()[:40]}-{uuid.uuid4().hex[:8]}"


def utcnow() -> datetime:
    return datetime.now(UTC)


class DeliveryWorker:
    def __init__(
        self,
        engine: AsyncEngine,
        transport: Transport,
        config: WorkerConfig | None = None,
        *,
        worker_id: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        pacing: Pacing | None = None,
    ) -> None:
        self.config = config or WorkerConfig()
        self._engine = engine
        self._transport = transport
        self._clock = clock
        self.queue = DeliveryQueue(
            engine, worker_id or default_worker_id(), timedelta(seconds=self.config.lease)
        )
        # Shared with the chat's replies (bot/pacing.py), so that together they keep Teams' limits.
        self.pacing = pacing or Pacing(self.config.tenant_rate, self.config.limiter_pad)
        self._wake = asyncio.Event()
        self._stopping = False
        self._closing = asyncio.Event()  # the recorder and heartbeat end
        self._retries_due_by = datetime.min.replace(tzinfo=UTC)  # poll briskly until then
        self._lanes: dict[str, asyncio.Task[None]] = {}
        self._sends: set[asyncio.Task[None]] = set()
        self._held: set[int] = set()
        self._outcomes: list[Outcome] = []
        self._flushed = asyncio.Event()
        self._in_flight = asyncio.Semaphore(self.config.max_in_flight)
        self._db_slots = asyncio.Semaphore(self.config.db_slots)
        self._notices: dict[tuple[int, str], tuple[int, Reply]] = {}
        self._views: dict[int, NoticeView] = {}
        self._messages: dict[int, Reply] = {}  # outbox messages by id (task news, reminders)
        self._helpers: list[asyncio.Task[None]] = []
        self._main: asyncio.Task[None] | None = None
        self.sent = 0  # counters for logs and the benchmark
        self.retried = 0
        self.failed = 0
        self.throttled = 0  # 429s from Teams

    @property
    def worker_id(self) -> str:
        return self.queue.worker_id

    def wake(self) -> None:
        """Something was queued: look now instead of at the next poll."""
        self._wake.set()

    def start(self) -> asyncio.Task[None]:
        self._main = asyncio.create_task(self.run(), name=f"delivery-{self.worker_id}")
        return self._main

    async def run(self) -> None:
        self._helpers = [
            asyncio.create_task(self._recorder(), name="delivery-recorder"),
            asyncio.create_task(self._heartbeat(), name="delivery-heartbeat"),
        ]
        try:
            interval = self.config.poll
            while not self._stopping:
                try:
                    due = await self.queue.due_lanes(self._clock())
                except Exception as error:
                    if database_unavailable(error):  # an outage: one line per poll, no traceback
                        log.warning("could not look for due notices (database unavailable); trying again")
                    else:
                        log.exception("could not look for due notices; trying again")
                    due = {}
                for lane in due:
                    task = self._lanes.get(lane)
                    if task is None or task.done():
                        self._lanes[lane] = asyncio.create_task(self._lane(lane), name=f"lane-{lane}")
                # Idle (nothing due, nothing held): look less often, up to idle_poll; a wake()
                # from this process (operator API) or any work found brings it back at once.
                idle = not due and not self._held and self._clock() > self._retries_due_by
                interval = min(interval * 2, self.config.idle_poll) if idle else self.config.poll
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), interval)
                if self._wake.is_set():
                    interval = self.config.poll
        finally:
            # Cancelled without stop(): a crash as far as the queue knows. Stop every task and
            # write nothing; the leases run out and another worker takes the rows.
            if not self._stopping:
                tasks = self._cancel_all()
                await asyncio.gather(*tasks, return_exceptions=True)

    def _cancel_all(self) -> list[asyncio.Task[None]]:
        tasks = [*self._lanes.values(), *self._sends, *self._helpers]
        for task in tasks:
            task.cancel()
        return tasks

    async def stop(self) -> None:
        """Graceful stop (SIGTERM): claim nothing more, let sends in flight finish for a few
        seconds, record their outcomes and hand every unfinished claim back."""
        self._stopping = True
        self._wake.set()
        if self._main is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._main
        # Lanes notice the flag between claims and sends; cancelling one inside a database
        # call could leave its transaction open (and, on SQLite, the file locked).
        lanes = [t for t in self._lanes.values() if not t.done()]
        if lanes:
            _, stuck = await asyncio.wait(lanes, timeout=self.config.shutdown_grace)
            for task in stuck:
                task.cancel()
            await asyncio.gather(*stuck, return_exceptions=True)
        if self._sends:
            _, pending = await asyncio.wait(set(self._sends), timeout=self.config.shutdown_grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        self._closing.set()
        await asyncio.gather(*self._helpers, return_exceptions=True)
        try:
            await self._flush()
            unfinished = sorted(self._held)
            await self.queue.release(unfinished)
            self._held.clear()
            if unfinished:
                log.info("handed %d unsent notices back to the queue", len(unfinished))
        except Exception:
            log.exception("could not hand the unsent notices back; their leases will run out")

    async def _lane(self, lane: str) -> None:
        limit = asyncio.Semaphore(self.config.lane_concurrency)
        while not self._stopping:
            try:
                async with self._db_slots:
                    rows = await self.queue.claim(lane, self.config.batch, self._clock())
            except Exception:
                log.exception("could not claim notices for tenant %s", lane)
                return
            if not rows:
                return
            self._held.update(r.id for r in rows)
            try:
                async with self._db_slots:
                    await self._load_notices({r.incident_id for r in rows if r.incident_id is not None})
                    await self._load_messages({r.message_id for r in rows if r.message_id is not None})
            except Exception:
                log.exception("could not load the notices to send; handing the rows back")
                ids = [r.id for r in rows]
                self._held.difference_update(ids)  # not renewed: their leases run out at worst
                with contextlib.suppress(Exception):
                    await self.queue.release(ids)
                return
            for row in rows:
                if self._stopping:
                    return
                await limit.acquire()
                await self._in_flight.acquire()
                if self._stopping:
                    _release(limit, self._in_flight)
                    return
                task = asyncio.create_task(self._send(row, lane))
                self._sends.add(task)
                task.add_done_callback(self._sends.discard)
                task.add_done_callback(lambda _t: _release(limit, self._in_flight))

    async def _load_notices(self, incident_ids: set[int]) -> None:
        async with self._engine.connect() as db:
            for incident_id in incident_ids:
                view = await notice(db, incident_id)
                if view is not None:
                    self._views[incident_id] = view

    async def _load_messages(self, message_ids: set[int]) -> None:
        wanted = message_ids - self._messages.keys()
        if not wanted:
            return
        if len(self._messages) > 4096:  # bodies of finished runs; reloaded if still needed
            self._messages.clear()
        async with self._engine.connect() as db:
            bodies = await message_bodies(db, sorted(wanted))
        for message_id, body in bodies.items():
            self._messages[message_id] = Reply.from_json(body)

    def _rendered(self, incident_id: int, lang: str) -> tuple[int, Reply] | None:
        view = self._views.get(incident_id)
        if view is None:
            return None
        key = (incident_id, lang)
        cached = self._notices.get(key)
        if cached is None or cached[0] != view.version:
            cached = (view.version, notice_reply(view, "en" if lang == "en" else "da"))
            self._notices[key] = cached
        return cached

    async def _send(self, row: Claimed, lane: str) -> None:
        try:
            outcome = await self._attempt(row, lane)
        except asyncio.CancelledError:
            raise
        except PermissionError as error:  # e.g. a service URL no authenticated activity came from
            log.warning("notice row %d refused: %s", row.id, error)
            outcome = Failed(row.id, row.attempts + 1, f"refused: {error}")
        except Exception as error:  # a bug must not stop the broadcast: retry later
            log.exception("sending notice row %d failed unexpectedly", row.id)
            outcome = self._retry_or_fail(row, None, f"unexpected error: {error}")
        if isinstance(outcome, Sent):
            self.sent += 1
        elif isinstance(outcome, Retry):
            self.retried += 1
        else:
            self.failed += 1
        self._outcomes.append(outcome)
        if len(self._outcomes) >= self.config.flush_size:
            self._flushed.set()

    async def _attempt(self, row: Claimed, lane: str) -> Outcome:
        if row.kind == MESSAGE:
            return await self._attempt_message(row, lane)
        if row.incident_id is None:
            return Failed(row.id, row.attempts, f"a {row.kind} row without its incident")
        rendered = self._rendered(row.incident_id, row.lang)
        if rendered is None:
            return Failed(row.id, row.attempts, "the incident no longer exists")
        version, reply = rendered
        if row.kind != POST:
            if row.post_failed or not row.post_activity_id:
                return Failed(row.id, row.attempts, "the notice itself was not delivered")
            if row.kind == UPDATE and (row.post_rendered_version or 0) >= version:
                return Sent(row.id, None, version, self._clock(), "the posted card already shows it")
        await self.pacing.acquire(row.conversation_id, lane)
        try:
            activity_id: str | None = None
            if row.kind == POST:
                activity_id = await self._transport.post(row.service_url, row.conversation_id, reply)
            elif row.kind == UPDATE:
                assert row.post_activity_id is not None
                await self._transport.update(
                    row.service_url, row.conversation_id, row.post_activity_id, reply
                )
            elif row.kind == REPLY:
                assert row.post_activity_id is not None
                view = self._views[row.incident_id]
                text = resolution_text(view, "en" if row.lang == "en" else "da")
                await self._transport.reply(row.service_url, row.conversation_id, row.post_activity_id, text)
            else:
                return Failed(row.id, row.attempts, f"unknown kind {row.kind}")
        except SendError as error:
            return self._classify(row, error)
        return Sent(row.id, activity_id, version, self._clock())

    async def _attempt_message(self, row: Claimed, lane: str) -> Outcome:
        if row.message_id is None:
            return Failed(row.id, row.attempts, "a message row without its message")
        message = self._messages.get(row.message_id)
        if message is None:  # the cache was cleared since the claim: read it again
            await self._load_messages({row.message_id})
            message = self._messages.get(row.message_id)
        if message is None:
            return Failed(row.id, row.attempts, "the message no longer exists")
        await self.pacing.acquire(row.conversation_id, lane)
        try:
            activity_id = await self._transport.post(row.service_url, row.conversation_id, message)
        except SendError as error:
            return self._classify(row, error)
        return Sent(row.id, activity_id, None, self._clock())

    def _classify(self, row: Claimed, error: SendError) -> Outcome:
        status = error.status
        if status in GONE:
            return Failed(
                row.id,
                row.attempts + 1,
                f"{status}: the bot is no longer in the conversation",
                row.conversation_ref_id,
            )
        if status is None or status in RETRYABLE:
            delay = None
            if status == 429:
                self.throttled += 1
                delay = error.retry_after
                self.pacing.block(row.conversation_id, delay if delay is not None else 1.0)
            return self._retry_or_fail(row, delay, f"{status or 'timeout'}: {error}")
        return Failed(row.id, row.attempts + 1, f"{status}: {error}")

    def _retry_or_fail(self, row: Claimed, delay: float | None, why: str) -> Outcome:
        attempts = row.attempts + 1
        if attempts >= self.config.max_attempts:
            return Failed(row.id, attempts, f"gave up after {attempts} attempts; last: {why}")
        if delay is None:
            # Exponential backoff with full jitter.
            ceiling = min(self.config.backoff_cap, self.config.backoff_base * 2 ** (attempts - 1))
            delay = random.uniform(ceiling / 2, ceiling)
        return Retry(row.id, attempts, self._clock() + timedelta(seconds=delay), why)

    async def _recorder(self) -> None:
        while not self._closing.is_set():
            self._flushed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._flushed.wait(), self.config.flush_interval)
            try:
                await self._flush()
            except Exception:
                log.exception("could not record notice outcomes; trying again")
                await asyncio.sleep(1)

    async def _flush(self) -> None:
        if not self._outcomes:
            return
        batch, self._outcomes = self._outcomes, []
        try:
            await self.queue.record(batch)
        except BaseException:
            self._outcomes[:0] = batch
            raise
        retried = any(isinstance(o, Retry) for o in batch)
        for outcome in batch:
            if isinstance(outcome, Retry) and outcome.available_at > self._retries_due_by:
                self._retries_due_by = outcome.available_at
        self._held.difference_update(o.id for o in batch)
        if retried:
            self._wake.set()

    async def _heartbeat(self) -> None:
        while not self._closing.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), self.config.lease / 3)
            if self._closing.is_set():
                return
            try:
                await self.queue.renew(sorted(self._held), self._clock())
            except Exception:
                log.exception("could not renew the leases on claimed notices")


def _release(*semaphores: asyncio.Semaphore) -> None:
    for semaphore in semaphores:
        semaphore.release()
