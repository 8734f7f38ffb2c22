"""Benchmark: broadcast one incident notice to many Teams conversations.

The bot's delivery worker (bot/broadcast.py, sending through BotConnectorClient exactly as in
production, no-auth mode) runs in this process against PostgreSQL (or SQLite). A fake Bot
Connector runs in a separate process on loopback; it enforces Teams' limits (per conversation
7/1 s, 8/2 s, 60/30 s, 1800/h; per tenant a ceiling, 30/s) by answering 429 when they are
exceeded, and injects 5% 429s (Retry-After: 1) and 2% 503s at random.

Reported: deliveries/s, the rate the limits allow (the busiest tenant's deliveries, and its
requests including the injected failures' retries, at the tenant ceiling), their ratios, peak
memory of the worker process (ru_maxrss), lost and duplicated notices, limit violations.

    .venv/bin/python bench/broadcast.py                      # 10,000 conversations in 100 tenants
    .venv/bin/python bench/broadcast.py --tenants 1 --conversations 900   # one large tenant
    .venv/bin/python bench/broadcast.py --conversations 1000  # memory does not grow with N
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict, deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.broadcast import DeliveryWorker, WorkerConfig  # noqa: E402
from bot.connector import create_authentication  # noqa: E402
from bot.notice_transport import BotConnectorTransport  # noqa: E402
from bot.ratelimit import TEAMS_CONVERSATION_LIMITS  # noqa: E402
from storage.db import create_engine  # noqa: E402
from storage.delivery import delivery_counts  # noqa: E402
from storage.incidents import NewIncident, announce  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import ConversationRef  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


# ---------------------------------------------------------------- the fake Bot Connector


class LimitedConnector:
    def __init__(self, tenant_ceiling: float, p429: float, p503: float, seed: int) -> None:
        self.tenant_ceiling = tenant_ceiling
        self.p429, self.p503 = p429, p503
        self.random = random.Random(seed)
        self.conversation_log: dict[str, deque[float]] = defaultdict(deque)
        self.tenant_log: dict[str, deque[float]] = defaultdict(deque)
        self.delivered: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()  # per tenant
        self.injected = Counter[str]()
        self.violations = 0
        self.delivery_times: list[float] = []

    @staticmethod
    def tenant_of(conversation_id: str) -> str:
        return conversation_id.split("-", 1)[0]

    def _within(self, log: deque[float], limits: tuple[tuple[int, float], ...], now: float) -> bool:
        longest = max(s for _, s in limits)
        while log and log[0] <= now - longest:
            log.popleft()
        return all(len(log) < count or log[-count] <= now - seconds for count, seconds in limits)

    async def send(self, request: web.Request) -> web.Response:
        await request.read()
        conversation_id = request.match_info["cid"]
        tenant = self.tenant_of(conversation_id)
        now = time.monotonic()
        self.requests[tenant] += 1
        tenant_limit = ((int(self.tenant_ceiling), 1.0),)
        if not self._within(self.tenant_log[tenant], tenant_limit, now) or not self._within(
            self.conversation_log[conversation_id], TEAMS_CONVERSATION_LIMITS, now
        ):
            self.violations += 1
            return web.json_response({"error": "limit"}, status=429, headers={"Retry-After": "1"})
        self.tenant_log[tenant].append(now)
        self.conversation_log[conversation_id].append(now)
        roll = self.random.random()
        if roll < self.p429:
            self.injected["429"] += 1
            return web.json_response({"error": "throttled"}, status=429, headers={"Retry-After": "1"})
        if roll < self.p429 + self.p503:
            self.injected["503"] += 1
            return web.json_response({"error": "unavailable"}, status=503)
        self.delivered[conversation_id] += 1
        self.delivery_times.append(now)
        return web.json_response({"id": uuid.uuid4().hex})

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "delivered": dict(self.delivered),
                "requests": dict(self.requests),
                "injected": dict(self.injected),
                "violations": self.violations,
                "delivery_times": self.delivery_times,
            }
        )


def serve_fake(port: int, tenant_ceiling: float, p429: float, p503: float, seed: int) -> None:
    connector = LimitedConnector(tenant_ceiling, p429, p503, seed)
    app = web.Application()
    app.router.add_post("/v3/conversations/{cid}/activities", connector.send)
    app.router.add_get("/stats", connector.stats)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# ---------------------------------------------------------------- the run


async def create_database(backend: str) -> tuple[str, str | None]:
    if backend == "sqlite":
        path = Path("/tmp") / f"klikbench-{uuid.uuid4().hex[:8]}.db"
        return f"sqlite+aiosqlite:///{path}", None
    name = f"klikbench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", name


async def drop_database(name: str | None) -> None:
    if name is None:
        return
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def wait_ready(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(url + "stats") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError("the fake connector did not start")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    port = args.port
    fake_url = f"http://127.0.0.1:{port}/"
    fake = subprocess.Popen(  # noqa: ASYNC220 (started once, before the measurement)
        [
            sys.executable,
            __file__,
            "--serve-fake",
            str(port),
            "--ceiling",
            str(args.ceiling),
            "--seed",
            str(args.seed),
        ]
    )
    url, pg_name = await create_database(args.backend)
    try:
        await wait_ready(fake_url)
        await asyncio.to_thread(upgrade, url)
        engine = create_engine(url)
        per_tenant = args.conversations // args.tenants
        now = datetime.now(UTC)
        table = ConversationRef.__table__
        rows = []
        async with engine.begin() as db:
            for t in range(args.tenants):
                for c in range(per_tenant):
                    rows.append(
                        {
                            "conversation_id": f"t{t:03d}-c{c:05d}",
                            "service_url": fake_url,
                            "tenant_id": f"tenant-{t:03d}",
                            "conversation_type": "personal",
                            "team_id": None,
                            "channel": "msteams",
                            "lang": "da",
                            "active": True,
                            "inactive_reason": "",
                            "subscribed": True,
                            "systems": "",
                            "updated_at": now,
                        }
                    )
                    if len(rows) == 1000:
                        await db.execute(table.insert(), rows)
                        rows = []
            if rows:
                await db.execute(table.insert(), rows)
        total = per_tenant * args.tenants
        config = WorkerConfig(tenant_rate=args.ceiling, limiter_pad=args.pad, db_slots=args.db_slots)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            transport = BotConnectorTransport(create_authentication("", "", "MultiTenant", "", http), "")
            workers = [DeliveryWorker(engine, transport, config) for _ in range(args.workers)]
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            started = time.perf_counter()
            incident, queued = await announce(
                engine,
                NewIncident(
                    title="Nedbrud på Adgangsstyring",
                    description="BBR, DAR, SAPA og tokenbaserede services på Serviceplatformen er utilgængelige.",
                    affected_systems=("ADGANGSSTYRING", "BBR", "DAR", "SAPA"),
                    started_at=datetime.fromisoformat("2018-12-10T02:21:00+01:00"),
                    severity="A",
                ),
                now,
                datetime.now(UTC),
            )
            assert queued == total, (queued, total)
            for worker in workers:
                worker.start()
            while True:
                async with engine.connect() as db:
                    counts = await delivery_counts(db, incident)
                if counts.pending == 0:
                    break
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - started
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            for worker in workers:
                await worker.stop()
            async with http.get(fake_url + "stats") as response:
                stats = await response.json()
        await engine.dispose()
    finally:
        fake.terminate()
        fake.wait()
        await drop_database(pg_name)
    delivered: dict[str, int] = stats["delivered"]
    lost = total - len(delivered)
    duplicated = sum(n - 1 for n in delivered.values() if n > 1)
    busiest_deliveries = per_tenant
    busiest_requests = max(stats["requests"].values())
    bound_pure = total / (busiest_deliveries / args.ceiling)
    bound_requests = total / (busiest_requests / args.ceiling)
    rate = total / elapsed
    times = sorted(stats["delivery_times"])
    first = times[0] if times else 0.0
    progress = {
        f"p{int(q * 100)}": round(times[min(len(times) - 1, int(q * len(times)))] - first, 2)
        for q in (0.5, 0.9, 0.99, 1.0)
        if times
    }
    return {
        "backend": args.backend,
        "workers": args.workers,
        "conversations": total,
        "tenants": args.tenants,
        "tenant_ceiling_per_s": args.ceiling,
        "elapsed_s": round(elapsed, 2),
        "deliveries_per_s": round(rate, 1),
        "limit_bound_per_s": round(bound_pure, 1),
        "ratio_to_limit_bound": round(rate / bound_pure, 3),
        "limit_bound_with_retries_per_s": round(bound_requests, 1),
        "ratio_to_limit_bound_with_retries": round(rate / bound_requests, 3),
        "seconds_to_deliver_share": progress,
        "requests": sum(stats["requests"].values()),
        "injected": stats["injected"],
        "limit_violations": stats["violations"],
        "sent": counts.sent,
        "failed": counts.failed,
        "lost": lost,
        "duplicated": duplicated,
        # Peak resident memory of the worker's process before and at the end of the broadcast.
        "peak_rss_mb_before": round(rss_before, 1),
        "peak_rss_mb_after": round(rss_after, 1),
        "peak_rss_growth_mb": round(rss_after - rss_before, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--ceiling", type=float, default=30.0, help="requests per second per tenant")
    parser.add_argument("--pad", type=float, default=0.01, help="seconds added to the limiter's windows")
    parser.add_argument(
        "--db-slots", type=int, default=WorkerConfig().db_slots, help="tenants claiming from the database at once"
    )
    parser.add_argument("--workers", type=int, default=1, help="delivery workers sharing the queue")
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--port", type=int, default=38_931)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--output", type=Path, help="append the result as JSON to this file")
    parser.add_argument("--serve-fake", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake:
        serve_fake(args.serve_fake, args.ceiling, 0.05, 0.02, args.seed)
        return
    result = asyncio.run(run(args))
    print(json.dumps(result, indent=2))
    if args.output:
        with args.output.open("a", encoding="utf-8") as out:
            out.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
