"""A turn's cost in-process, against another checkout side by side.

    .venv/bin/python -m bench.turn_cpu                      # this checkout: ms per turn
    .venv/bin/python -m bench.turn_cpu --against ../before  # alternating rounds, paired ratio

The turn is `Conversation.handle` over the demo database (SQLite), `bench.turns`' ten everyday
questions round-robin, without HTTP, so that the understanding and the answers weigh what they
weigh. `--against DIR` runs this same script with DIR's packages first on the path (a
`git worktree` of an earlier commit) and with this checkout's, in alternating order, and prints
each side's median and the median of the paired ratios (this checkout / DIR): on a shared,
noisy machine the ratio of runs made side by side is the figure to trust.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bench.turns import QUESTIONS  # the same everyday questions as the HTTP benchmark

NOW = "2019-01-23T10:00:00+01:00"
VEJLE_TENANT = "00000000-0000-4000-8000-000000000630"


async def _measure(turns: int) -> dict[str, float]:
    # Imported here: with --against, the packages come from the other checkout.
    from bot.runtime import open_runtime
    from bot.settings import Settings
    from dialogs.model import Incoming, Memory, Sender

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        settings = Settings(database_url=url, now=datetime.fromisoformat(NOW), demo=True)
        async with open_runtime(settings) as runtime:
            conversation = runtime.conversation

            def incoming(text: str) -> Incoming:
                return Incoming(
                    text=text,
                    conversation_id="c1",
                    sender=Sender("u", "Mette"),
                    tenant_id=VEJLE_TENANT,
                    locale="da-DK",
                )

            for text in QUESTIONS * 5:  # warm: caches, the vocabulary, dateparser
                await conversation.handle(incoming(text), Memory())
            wall, cpu = time.perf_counter(), time.process_time()
            for i in range(turns):
                await conversation.handle(incoming(QUESTIONS[i % len(QUESTIONS)]), Memory())
            return {
                "wall_ms": (time.perf_counter() - wall) / turns * 1000,
                "cpu_ms": (time.process_time() - cpu) / turns * 1000,
            }


def _run(tree: Path, turns: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree), "KLIKBOT_NOW": NOW}
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--turns", str(turns), "--json"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--against", type=Path, help="another checkout to compare with, side by side")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.against is None:
        os.environ.setdefault("KLIKBOT_NOW", NOW)
        result = asyncio.run(_measure(args.turns))
        print(
            json.dumps(result)
            if args.json
            else f"per turn: {result['wall_ms']:.3f} ms, cpu {result['cpu_ms']:.3f} ms"
        )
        return
    here = Path(__file__).resolve().parent.parent
    other = args.against.resolve()
    ours: list[dict[str, float]] = []
    theirs: list[dict[str, float]] = []
    for i in range(args.rounds):
        # Alternate who goes first, so that neither always runs on a warmer or busier machine.
        for tree in (here, other) if i % 2 == 0 else (other, here):
            (ours if tree == here else theirs).append(_run(tree, args.turns))
    for key in ("wall_ms", "cpu_ms"):
        ratio = statistics.median(a[key] / b[key] for a, b in zip(ours, theirs, strict=True))
        print(
            f"{key}: this checkout {statistics.median(a[key] for a in ours):.3f},"
            f" {other.name} {statistics.median(b[key] for b in theirs):.3f},"
            f" paired ratio {ratio:.3f} over {args.rounds} rounds"
        )


if __name__ == "__main__":
    main()
