"""Periodic jobs that queue proactive messages (task news, reminders) for the delivery worker.

Each job looks in the database for what has become due, queues it in one transaction and says
how many deliveries it queued; the worker is woken when there are any. Several bot processes
may run the same jobs: the jobs claim their rows (FOR UPDATE SKIP LOCKED on PostgreSQL), so each
thing is queued once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from dialogs.conversation import Conversation
from dialogs.news import queue_news
from dialogs.reminders import plan_reminders
from storage.housekeeping import prune

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[], Awaitable[int]]  # returns how many deliveries it queued


class Scheduler:
    def __init__(self, jobs: list[Job], wake_delivery: Callable[[], None], interval: float = 5.0) -> None:
        self._jobs = jobs
        self._wake_delivery = wake_delivery
        self._interval = interval
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self.runs = 0  # completed rounds, for tests and logs

    def wake(self) -> None:
        """Something may have become due (a catalogue import): look now."""
        self._wake.set()

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self._loop(), name="scheduler")
        return self._task

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def run_once(self) -> int:
        queued = 0
        for job in self._jobs:
            if self._stopping:
                break
            try:
                queued += await job.run()
            except Exception:
                log.exception("scheduled job %s failed; it runs again at the next round", job.name)
        if queued:
            self._wake_delivery()
        self.runs += 1
        return queued

    async def _loop(self) -> None:
        while not self._stopping:
            self._wake.clear()
            queued = await self.run_once()
            if queued or self._stopping:
                continue  # there may be more than one batch waiting
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)


SCHEDULER = web.AppKey("scheduler", Scheduler)
PRUNE_EVERY = timedelta(hours=1)


def standard_jobs(
    engine: AsyncEngine, conversation: Conversation, clock: Callable[[], datetime]
) -> list[Job]:
    """The bot's jobs: task news, reminders, and pruning what they leave behind (hourly). `clock` is the bot's clock (fixed in the demo), used for what
    the messages say; rows are queued at the real time."""

    async def news() -> int:
        return await queue_news(engine, conversation.status_flow, clock(), queued_at=datetime.now(UTC))

    async def reminders() -> int:
        return await plan_reminders(engine, clock(), queued_at=datetime.now(UTC))

    pruned_at: list[datetime] = []

    async def housekeeping() -> int:
        real_now = datetime.now(UTC)
        if pruned_at and real_now - pruned_at[-1] < PRUNE_EVERY:
            return 0
        pruned_at[:] = [real_now]
        async with engine.begin() as db:
            pruned = await prune(db, real_now)
        if pruned.total:
            log.info("pruned %s", pruned)
        return 0

    return [Job("task news", news), Job("reminders", reminders), Job("housekeeping", housekeeping)]
