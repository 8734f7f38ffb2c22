"""Benchmark: 200 status changes from 50 concurrent users across municipalities, on PostgreSQL,
through the bot's HTTP boundary. Checks that no update is lost and reports latency.

    .venv/bin/python -m bench.status_changes [--pg postgresql://postgres@127.0.0.1:5432/test]

Two users per municipality (25 municipalities) change the same two tasks at the same time, so
changes collide. Users behave like people: they start within the first second and think
0.5-2 s between changes (seeded, so every run is the same); `--closed-loop` drops the thinking
(50 requests always in flight: a stress figure, reported separately in the README), and
`--sequential` sends one change at a time (the latency floor). Afterwards, for every (municipality, task): the history holds exactly the
changes the bot confirmed, the row's version counts them all, and its status is the last one.
Target: no lost update, p99 < 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import aiohttp
import asyncpg

from bench.common import ROOT, CountingConnector, activity, free_port, percentile, start_server, wait_healthy

TASKS = {"mbp-kontaktpunkt-incident": "kontaktpunkt", "mbp-underskriftberettiget-skat": "underskriftberettiget"}
STATUSES = ("påbegyndt", "fuldført", "ikke påbegyndt")


async def run(args: argparse.Namespace) -> dict[str, object]:
    admin = await asyncpg.connect(args.pg)
    database = f"klikbot_bench_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{database}"')
    url = args.pg.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{database}"
    connector = CountingConnector(record_text=True)
    await connector.start()
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="klikbot-bench-"))
    server = start_server(
        ["-m", "bot.cli", "serve", "--demo", "--port", str(port)],
        workdir / "klikbot.log",
        {"KLIKBOT_DATABASE_URL": url},
    )
    base = f"http://127.0.0.1:{port}"
    codes = [101, 147, 151, 153, 155, 157, 159, 161, 163, 165, 167, 169, 173, 175, 183, 185, 187, 190, 201, 210,
             217, 219, 223, 230, 630]  # fmt: skip
    latencies: list[float] = []
    confirmed: Counter[tuple[int, str]] = Counter()
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as http:
            await wait_healthy(http, base, server)

            async def user(n: int) -> None:
                pause = random.Random(n)
                think = not (args.closed_loop or args.sequential)
                if think:
                    await asyncio.sleep(pause.uniform(0, 1.0))
                code = codes[n % len(codes)]
                tenant = f"00000000-0000-4000-8000-{code:012d}"
                for i in range(args.changes_per_user):
                    task_id = list(TASKS)[(n + i) % len(TASKS)]
                    status = STATUSES[(n + i) % len(STATUSES)]
                    body = activity(connector.url, f"bench-user-{n}", f"sæt {TASKS[task_id]} til {status}", tenant)
                    body["from"] = {"id": f"29:user-{n}", "name": f"Bruger {n}", "aadObjectId": f"aad-{n}"}
                    before = connector.count
                    start = time.perf_counter()
                    async with http.post(f"{base}/api/messages", json=body) as response:
                        await response.read()
                        assert response.status in (200, 201), response.status
                    latencies.append(time.perf_counter() - start)
                    assert connector.count > before
                    if "Status ændret" in connector.last_text.get(f"bench-user-{n}", ""):
                        confirmed[(code, task_id)] += 1
                    if think:
                        await asyncio.sleep(pause.uniform(0.5, 2.0))

            started = time.perf_counter()
            if args.sequential:
                for n in range(args.users):
                    await user(n)
            else:
                await asyncio.gather(*(user(n) for n in range(args.users)))
            elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
        await connector.close()
    # Check the database: every confirmed change is in the history and counted in the version.
    db = await asyncpg.connect(args.pg.rsplit("/", 1)[0] + f"/{database}")
    lost = 0
    try:
        for (code, task_id), count in confirmed.items():
            history = await db.fetch(
                "SELECT new_status FROM status_change WHERE municipality_code=$1 AND task_id=$2 ORDER BY id", code, task_id
            )
            row = await db.fetchrow(
                "SELECT status, version FROM task_status WHERE municipality_code=$1 AND task_id=$2", code, task_id
            )
            if len(history) != count or row["version"] != 1 + count or row["status"] != history[-1]["new_status"]:
                lost += 1
    finally:
        await db.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()
    total = args.users * args.changes_per_user
    return {
        "mode": "sequential" if args.sequential else "closed loop" if args.closed_loop else "users with think time",
        "changes": total,
        "users": args.users,
        "confirmed_changes": sum(confirmed.values()),
        "lost_updates": lost,
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "changes_per_s": round(total / elapsed, 1),
        "targets_met": lost == 0 and percentile(latencies, 0.99) < 0.150,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test", help="an admin DSN")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--changes-per-user", type=int, default=4)
    parser.add_argument("--sequential", action="store_true", help="one user at a time (the latency floor)")
    parser.add_argument("--closed-loop", action="store_true", help="no think time: every user always waiting")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"status_changes_{str(result['mode']).replace(' ', '_')}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
