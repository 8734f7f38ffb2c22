"""The delivery worker against the fake Bot Connector: exactly once across workers, a crashed
worker's broadcast finished by another, retries by status, Teams' rate limits."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.broadcast import DeliveryWorker, WorkerConfig
from bot.connector import create_authentication
from bot.notice_transport import BotConnectorTransport
from bot.ratelimit import conversation_limiter, tenant_limiter
from storage.delivery import delivery_counts
from storage.incidents import NewIncident, add_update, announce
from storage.models import ConversationRef, NoticeDelivery
from storage.subscriptions import ConversationInfo, remember
from tests.fake_connector import FakeConnector

FAST = WorkerConfig(poll=0.05, backoff_base=0.05, backoff_cap=0.2, lease=30.0, flush_interval=0.01)
NEW = NewIncident(
    title="Nedbrud på Adgangsstyring",
    description="BBR, DAR og SAPA er utilgængelige.",
    affected_systems=("ADGANGSSTYRING", "SAPA"),
    started_at=datetime.fromisoformat("2018-12-10T02:21:00+01:00"),
    severity="A",
)


@dataclass
class Setup:
    engine: AsyncEngine
    connector: FakeConnector
    http: aiohttp.ClientSession
    transport: BotConnectorTransport

    def worker(self, config: WorkerConfig = FAST, worker_id: str | None = None) -> DeliveryWorker:
        return DeliveryWorker(self.engine, self.transport, config, worker_id=worker_id)


@pytest.fixture
async def setup(engine: AsyncEngine) -> AsyncIterator[Setup]:
    connector = FakeConnector()
    await connector.start()
    http = aiohttp.ClientSession()
    authentication = create_authentication("", "", "MultiTenant", "", http)
    try:
        yield Setup(engine, connector, http, BotConnectorTransport(authentication, ""))
    finally:
        await http.close()
        await connector.close()
    assert connector.invalid_cards == []


async def conversations(setup: Setup, tenants: dict[str, int]) -> list[str]:
    ids = []
    now = datetime.now(UTC)
    async with setup.engine.begin() as db:
        for tenant, count in tenants.items():
            for i in range(count):
                conversation_id = f"a:{tenant}-{i:04d}"
                ids.append(conversation_id)
                await remember(
                    db,
                    ConversationInfo(conversation_id, setup.connector.url + "/", tenant, "personal"),
                    now,
                )
    return ids


async def finished(setup: Setup, incident: int, limit: float = 20.0) -> None:
    async def check() -> None:
        while True:
            async with setup.engine.connect() as db:
                if (await delivery_counts(db, incident)).pending == 0:
                    return
            await asyncio.sleep(0.02)

    try:
        await asyncio.wait_for(check(), limit)
    except TimeoutError:
        async with setup.engine.connect() as db:
            rows = (await db.execute(select(NoticeDelivery.__table__))).all()
        print(
            "STUCK",
            datetime.now(UTC),
            [
                (r.id, r.state, r.claimed_by, r.lease_until, r.available_at, r.attempts)
                for r in rows
                if r.state == "pending"
            ],
        )
        raise


async def test_two_workers_share_a_broadcast_with_no_duplicate(setup: Setup) -> None:
    ids = await conversations(setup, {"t1": 60, "t2": 60, "t3": 30})
    config = WorkerConfig(**{**FAST.__dict__, "batch": 4, "lane_concurrency": 2})
    first, second = setup.worker(config, "first"), setup.worker(config, "second")
    first.start()
    second.start()
    try:
        incident, queued = await announce(setup.engine, NEW, datetime.now(UTC), datetime.now(UTC))
        assert queued == len(ids)
        first.wake()
        second.wake()
        await finished(setup, incident)
    finally:
        await first.stop()
        await second.stop()
    got = Counter(r.conversation_id for r in setup.connector.received)
    assert set(got) == set(ids) and set(got.values()) == {1}
    assert first.sent + second.sent == len(ids)
    async with setup.engine.connect() as db:
        counts = await delivery_counts(db, incident)
    assert (counts.sent, counts.pending, counts.failed) == (len(ids), 0, 0)


async def test_a_tenant_is_served_by_one_worker_at_a_time(setup: Setup) -> None:
    """So the tenant's ceiling holds across processes: another worker skips a tenant whose rows
    a live worker holds, and takes the other tenants."""
    await conversations(setup, {"t1": 5, "t2": 5})
    await announce(setup.engine, NEW, datetime.now(UTC), datetime.now(UTC))
    a, b = setup.worker(worker_id="a").queue, setup.worker(worker_id="b").queue
    now = datetime.now(UTC)
    assert len(await a.claim("t1", 2, now)) == 2
    assert await b.claim("t1", 2, now) == []
    assert set(await b.due_lanes(now)) == {"t2"}
    assert len(await b.claim("t2", 10, now)) == 5
    assert len(await a.claim("t1", 10, now)) == 3  # the holder goes on


async def test_a_killed_workers_broadcast_is_finished_by_another(setup: Setup) -> None:
    ids = await conversations(setup, {"t1": 40, "t2": 40})
    connector = setup.connector
    incident, _ = await announce(setup.engine, NEW, datetime.now(UTC), datetime.now(UTC))
    url = setup.engine.url.render_as_string(hide_password=False)
    doomed = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.crash_worker", url, "1.0", stdout=asyncio.subprocess.PIPE
    )
    try:
        await connector.wait_for(lambda: len(connector.received) >= 20)
        connector.gate = asyncio.Event()  # the next sends hang: they are in flight at the kill
        await connector.wait_for(lambda: connector.waiting >= 1)
    finally:
        doomed.kill()  # SIGKILL: nothing handed back, nothing more recorded
        await doomed.wait()
    in_flight = connector.waiting
    delivered_before = len(connector.received)
    assert delivered_before < len(ids)
    connector.gate.set()

    rescuer = setup.worker(worker_id="rescuer")
    rescuer.start()
    try:
        await finished(setup, incident)
    finally:
        await rescuer.stop()
    got = Counter(r.conversation_id for r in connector.received)
    assert set(got) == set(ids)  # no conversation missed
    duplicates = sum(n - 1 for n in got.values())
    # Only sends in flight at the kill, or sent but not yet recorded (one flush interval).
    assert duplicates <= in_flight + FAST.flush_size
    assert rescuer.sent > 0
    async with setup.engine.connect() as db:
        states = set((await db.execute(select(NoticeDelivery.state))).scalars())
    assert states == {"sent"}


async def test_a_stopping_worker_hands_its_claims_back(setup: Setup) -> None:
    """SIGTERM: the worker stops claiming, gives sends in flight a grace period, records what
    was sent and hands the rest back at once (no waiting for leases)."""
    ids = await conversations(setup, {"t1": 30})
    connector = setup.connector
    connector.gate = asyncio.Event()
    worker = setup.worker(WorkerConfig(**{**FAST.__dict__, "lease": 300.0, "shutdown_grace": 0.2}))
    worker.start()
    incident, _ = await announce(setup.engine, NEW, datetime.now(UTC), datetime.now(UTC))
    worker.wake()
    await connector.wait_for(lambda: connector.waiting >= 1)
    await worker.stop()
    async with setup.engine.connect() as db:
        held = (
            await db.execute(select(NoticeDelivery.id).where(NoticeDelivery.lease_until.is_not(None)))
        ).all()
    assert held == []  # nothing waits for a 300 s lease
    connector.gate.set()
    successor = setup.worker()
    successor.start()
    try:
        await finished(setup, incident, limit=10.0)
    finally:
        await successor.stop()
    assert {r.conversation_id for r in connector.received} == set(ids)


async def test_retries_by_status_and_a_failing_conversation_holds_up_no_one(setup: Setup) -> None:
    ids = await conversations(setup, {"t1": 20})
    connector = setup.connector
    throttled, flaky, gone, broken = ids[0], ids[1], ids[2], ids[3]
    connector.script[throttled] = [(429, 0.4)]
    connector.script[flaky] = [(503, None), (502, None), (412, None)]
    connector.always[gone] = 403
    connector.always[broken] = 504  # keeps failing
    # A high tenant ceiling: this test is about retries, not spacing.
    worker = setup.worker(WorkerConfig(**{**FAST.__dict__, "max_attempts": 4, "tenant_rate": 1000.0}))
    worker.start()
    try:
        incident, _ = await announce(setup.engine, NEW, datetime.now(UTC), datetime.now(UTC))
        worker.wake()
        await finished(setup, incident)
    finally:
        await worker.stop()
    attempts = [a for a in connector.attempts if a[0] == "send"]
    delivered = {r.conversation_id for r in connector.received}
    assert delivered == set(ids) - {gone, broken}
    tries = Counter(a[1] for a in attempts)
    assert tries[gone] == 1  # 403: not retried
    assert tries[broken] == 4  # gave up after max_attempts
    assert tries[flaky] == 4
    first_429, retry = [a[3] for a in attempts if a[1] == throttled]
    assert retry - first_429 >= 0.4  # Retry-After honoured
    # The others did not wait for the throttled and failing ones.
    others = [r.at for r in connector.received if r.conversation_id not in (throttled, flaky)]
    assert max(others) < retry
    async with setup.engine.connect() as db:
        counts = await delivery_counts(db, incident)
        refs = {
            r.conversation_id: r
            for r in (await db.execute(select(ConversationRef.conversation_id, ConversationRef.active))).all()
        }
    assert (counts.sent, counts.failed) == (18, 2)
    reasons = {c: e for c, _, e in counts.failures}
    assert reasons[gone].startswith("403") and "gave up after 4 attempts" in reasons[broken]
    assert not refs[gone].active and refs[broken].active

    # An update goes to the conversations the notice reached, not the gone one.
    connector.always.pop(broken)
    await add_update(
        setup.engine, incident, "identified", "Fundet.", None, datetime.now(UTC), datetime.now(UTC)
    )
    worker = setup.worker()
    worker.start()
    try:
        worker.wake()
        await finished(setup, incident)
    finally:
        await worker.stop()
    updated = {r.conversation_id for r in connector.received if r.method == "update"}
    assert updated == set(ids) - {gone, broken}


async def test_tenants_are_limited_separately_and_proceed_in_parallel(setup: Setup) -> None:
    rate = 20.0
    ids = await conversations(setup, {"t1": 40, "t2": 40})
    worker = setup.worker(WorkerConfig(**{**FAST.__dict__, "tenant_rate": rate}))
    worker.start()
    try:
        incident, _ = await announce(setup.engine, NEW, datetime.now(UTC), datetime.now(UTC))
        worker.wake()
        await finished(setup, incident)
    finally:
        await worker.stop()
    received = setup.connector.received
    assert len(received) == len(ids)
    for tenant in ("t1", "t2"):
        times = sorted(r.at for r in received if r.conversation_id.startswith(f"a:{tenant}-"))
        # No second holds more than the ceiling.
        gaps = [times[i + int(rate)] - times[i] for i in range(len(times) - int(rate))]
        # (Arrival times here carry the event loop's jitter, shared with the fake connector.)
        assert min(gaps) >= 0.9, min(gaps)
    span = max(r.at for r in received) - min(r.at for r in received)
    assert span < 40 / rate + 1.0  # both tenants at once, not one after the other (4 s)


def test_conversation_limits_follow_teams() -> None:
    now = [0.0]
    limiter = conversation_limiter(pad=0.0)
    limiter._clock = lambda: now[0]  # a manual clock
    sent = []
    for _ in range(200):
        wait = limiter.delay("c")
        now[0] += wait
        limiter._record("c")
        sent.append(now[0])
    for count, seconds in ((7, 1.0), (8, 2.0), (60, 30.0)):
        assert all(sent[i + count] - sent[i] >= seconds - 1e-9 for i in range(len(sent) - count))
    assert sent[7] >= 1.0 and sent[8] >= 2.0


def test_tenant_ceiling_is_a_sliding_second() -> None:
    now = [0.0]
    limiter = tenant_limiter(30.0, pad=0.0)
    limiter._clock = lambda: now[0]
    sent = []
    for _ in range(300):
        now[0] += limiter.delay("t")
        limiter._record("t")
        sent.append(now[0])
    assert all(sent[i + 30] - sent[i] >= 1.0 - 1e-9 for i in range(len(sent) - 30))
    assert sent[-1] == pytest.approx(299 / 30)  # 300 requests at 30/s, evenly: the rate is met


async def test_a_refused_service_url_fails_at_once_without_retries(setup: Setup) -> None:
    """The transport refusing a send (a service URL no authenticated activity came from) is a
    permanent failure: no retry, no deactivation, the rest of the broadcast goes on."""
    ids = await conversations(setup, {"t1": 3})
    refused = ids[0]

    class Refusing:
        def __init__(self, inner: BotConnectorTransport) -> None:
            self.inner = inner
            self.tries: Counter[str] = Counter()

        async def post(self, service_url: str, conversation_id: str, reply: object) -> str | None:
            self.tries[conversation_id] += 1
            if conversation_id == refused:
                raise PermissionError("no authenticated activity came from that service URL")
            return await self.inner.post(service_url, conversation_id, reply)  # type: ignore[arg-type]

    transport = Refusing(setup.transport)
    worker = DeliveryWorker(setup.engine, transport, FAST)  # type: ignore[arg-type]
    worker.start()
    try:
        incident, _ = await announce(setup.engine, NEW, datetime.now(UTC), datetime.now(UTC))
        worker.wake()
        await finished(setup, incident)
    finally:
        await worker.stop()
    async with setup.engine.connect() as db:
        counts = await delivery_counts(db, incident)
        active = (
            await db.execute(select(ConversationRef.active).where(ConversationRef.conversation_id == refused))
        ).scalar_one()
    assert (counts.sent, counts.failed) == (2, 1)
    assert transport.tries[refused] == 1
    assert counts.failures[0][2].startswith("refused:")
    assert active


async def test_lanes_share_a_few_database_slots(setup: Setup) -> None:
    """Many tenants claiming at once must not take the whole connection pool (chat turns share
    it): at most `db_slots` claims run at the same time, and everything is still delivered."""
    ids = await conversations(setup, {f"t{i}": 3 for i in range(12)})
    worker = setup.worker(WorkerConfig(**{**FAST.__dict__, "db_slots": 2}))
    claim = worker.queue.claim
    running = peak = 0

    async def counting_claim(lane: str, limit: int, now: datetime) -> Any:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        try:
            await asyncio.sleep(0.01)  # hold the slot a moment, as a slow database would
            return await claim(lane, limit, now)
        finally:
            running -= 1

    worker.queue.claim = counting_claim  # type: ignore[method-assign]
    worker.start()
    try:
        incident, _ = await announce(setup.engine, NEW, datetime.now(UTC), datetime.now(UTC))
        worker.wake()
        await finished(setup, incident)
    finally:
        await worker.stop()
    assert {r.conversation_id for r in setup.connector.received} == set(ids)
    assert 1 <= peak <= 2


async def test_a_message_whose_cached_body_was_dropped_is_read_again(setup: Setup) -> None:
    """The worker's cache of message bodies is cleared when it grows; a row claimed before that
    and sent after is read from the database again instead of failing."""
    from bot.broadcast import MESSAGE
    from dialogs.model import Reply
    from storage.delivery import Claimed, Sent, add_message

    [conversation] = await conversations(setup, {"t1": 1})
    async with setup.engine.begin() as db:
        message_id = await add_message(
            db, "reminder:1", Reply(text="Påmindelse").to_json(), datetime.now(UTC)
        )
    worker = setup.worker()
    row = Claimed(
        1, None, 1, MESSAGE, 1, conversation, setup.connector.url + "/", "t1", "da", 0, message_id=message_id
    )
    outcome = await worker._attempt_message(row, "t1")
    assert isinstance(outcome, Sent)
    [received] = setup.connector.received
    assert received.conversation_id == conversation and received.text == "Påmindelse"
