"""Benchmark of a turn at the HTTP boundary: klikbot on the demo dataset against a stock
botbuilder echo bot, side by side in one run, both talking to the same fake Bot Connector.

    .venv/bin/python bench/turns.py            # figures as in the README
    .venv/bin/python bench/turns.py --quick    # a shorter run

1. Latency: one question at a time (a mix of real questions), klikbot's p50 and p99.
   Targets: p50 < 15 ms, p99 < 50 ms.
2. Throughput: 16 conversations at once; turns per second of klikbot and of the echo bot,
   alternating in rounds so both see the same machine; the ratio of the medians.
   Target: klikbot >= 2x the echo bot.
Each server runs in its own process; this process sends the load and plays the Bot Connector.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.common import (
    ROOT,
    CountingConnector,
    activity,
    free_port,
    median,
    percentile,
    start_server,
    wait_healthy,
)

QUESTIONS = [
    "hvilke opgaver mangler vi?",
    "frister i næste uge",
    "fortæl om kontaktpunkt",
    "hvornår er næste programledermøde?",
    "kommende arrangementer",
    "what is due by the end of February?",
    "hvad har frist inden 1. februar?",
    "er der driftsforstyrrelser?",
    "hjælp",
    "events in March",
]


async def one_turn(http: aiohttp.ClientSession, url: str, body: dict[str, object]) -> float:
    start = time.perf_counter()
    async with http.post(url, json=body) as response:
        await response.read()
        if response.status not in (200, 201):
            raise RuntimeError(f"{url} answered {response.status}")
    return time.perf_counter() - start


async def latencies(
    http: aiohttp.ClientSession, base: str, connector: CountingConnector, turns: int
) -> list[float]:
    out = []
    for i in range(turns):
        body = activity(connector.url, "bench-sequential", QUESTIONS[i % len(QUESTIONS)])
        out.append(await one_turn(http, f"{base}/api/messages", body))
    return out


async def throughput(
    http: aiohttp.ClientSession, base: str, connector: CountingConnector, conversations: int, turns: int
) -> float:
    per_worker = turns // conversations
    before = connector.count

    async def worker(n: int) -> None:
        for i in range(per_worker):
            body = activity(connector.url, f"bench-conv-{n}", QUESTIONS[(n + i) % len(QUESTIONS)])
            await one_turn(http, f"{base}/api/messages", body)

    start = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(conversations)))
    elapsed = time.perf_counter() - start
    replies = connector.count - before
    if replies != per_worker * conversations:
        raise RuntimeError(f"expected {per_worker * conversations} replies, the connector got {replies}")
    return per_worker * conversations / elapsed


async def run(args: argparse.Namespace) -> dict[str, object]:
    connector = CountingConnector()
    await connector.start()
    workdir = Path(tempfile.mkdtemp(prefix="klikbot-bench-"))
    klik_port, echo_port = free_port(), free_port()
    klik = start_server(
        ["-m", "bot.cli", "serve", "--demo", "--port", str(klik_port)],
        workdir / "klikbot.log",
        {"KLIKBOT_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'bench.db'}"},
    )
    echo = start_server(["bench/echo_bot.py", "--port", str(echo_port)], workdir / "echo.log")
    print(f"server logs in {workdir}")
    klik_base, echo_base = f"http://127.0.0.1:{klik_port}", f"http://127.0.0.1:{echo_port}"
    connector_limit = aiohttp.TCPConnector(limit=args.conversations * 2)
    try:
        async with aiohttp.ClientSession(connector=connector_limit) as http:
            await wait_healthy(http, klik_base, klik)
            await wait_healthy(http, echo_base, echo)
            # Warm both: first turns build caches, connections and dateparser's tables.
            await latencies(http, klik_base, connector, 50)
            await latencies(http, echo_base, connector, 50)

            klik_latency = await latencies(http, klik_base, connector, args.turns)
            echo_latency = await latencies(http, echo_base, connector, args.turns)

            klik_rates, echo_rates = [], []
            for _ in range(args.rounds):
                echo_rates.append(
                    await throughput(http, echo_base, connector, args.conversations, args.concurrent_turns)
                )
                klik_rates.append(
                    await throughput(http, klik_base, connector, args.conversations, args.concurrent_turns)
                )
    finally:
        for process in (klik, echo):
            process.terminate()
            process.wait(timeout=30)
        await connector.close()

    result = {
        "sequential_turns": args.turns,
        "klikbot_p50_ms": round(percentile(klik_latency, 0.50) * 1000, 2),
        "klikbot_p99_ms": round(percentile(klik_latency, 0.99) * 1000, 2),
        "echo_p50_ms": round(percentile(echo_latency, 0.50) * 1000, 2),
        "echo_p99_ms": round(percentile(echo_latency, 0.99) * 1000, 2),
        "conversations": args.conversations,
        "rounds": args.rounds,
        "klikbot_turns_per_s": [round(r, 1) for r in klik_rates],
        "echo_turns_per_s": [round(r, 1) for r in echo_rates],
        "ratio_of_medians": round(median(klik_rates) / median(echo_rates), 2),
    }
    result["targets_met"] = bool(
        result["klikbot_p50_ms"] < 15 and result["klikbot_p99_ms"] < 50 and result["ratio_of_medians"] >= 2  # type: ignore[operator]
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=1000, help="sequential turns per bot")
    parser.add_argument("--conversations", type=int, default=16)
    parser.add_argument("--concurrent-turns", type=int, default=1600, help="turns per throughput round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.turns, args.concurrent_turns, args.rounds = 200, 320, 2
    result = asyncio.run(run(args))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "turns.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
