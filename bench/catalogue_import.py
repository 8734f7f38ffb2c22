"""Catalogue import at scale: 2,000 tasks, 500 events (2 slots each), 98 municipalities.

Each run imports a generated YAML catalogue into a fresh, migrated, empty database: reading and
validating the file, then the one-transaction upsert (1,800 active tasks x 98 municipalities =
176,400 "Ikke påbegyndt" status rows, and 1,800 news rows). Then the same file again (everything
unchanged). Median of 3 runs, on SQLite and PostgreSQL. Target: under 10 s.

    .venv/bin/python -m bench.catalogue_import [--runs 3] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import yaml

from bench.common import ROOT
from storage.catalogue import read_catalogue
from storage.catalogue_import import import_catalogue
from storage.db import create_engine
from storage.demo import load_demo_yaml
from storage.migrate import upgrade

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
TARGET_SECONDS = 10.0


def generate(tasks: int = 2000, events: int = 500) -> bytes:
    municipalities = load_demo_yaml()["municipalities"]
    programmes = [{"id": f"p{i}", "name": f"Program {i}", "short_name": f"P{i}"} for i in range(10)]
    start = date(2019, 2, 1)
    task_rows: list[dict[str, Any]] = []
    for i in range(tasks):
        row: dict[str, Any] = {
            "id": f"task-{i:05d}",
            "title": f"KLIK-opgave nummer {i} om noget vigtigt",
            "programme": f"p{i % 10}",
            "state": "announced" if i % 10 == 9 else "active",
            "description": "Beskrivelse af opgaven. " * 10,
            "mandatory": i % 3 == 0,
            "critical_path": i % 7 == 0,
            "contact": "KDI@kombit.dk",
            "keywords": [f"ord{i}", f"emne{i % 50}", "klik"],
        }
        if i % 5 == 4:
            row["deadline_rule"] = "Kommunen fastsætter selv deadline."
        else:
            row["deadline"] = start + timedelta(days=i % 300)
        task_rows.append(row)
    event_rows = []
    for i in range(events):
        day = datetime(2019, 2, 1, 10, 0) + timedelta(days=i % 365)
        event_rows.append(
            {
                "id": f"event-{i:04d}",
                "title": f"Programledermøde {i}",
                "kind": "programledermoede",
                "description": "Understøttelse af kommunens KOMBIT-programleder",
                "audience": "KOMBIT-programledere",
                "location": "Skype",
                "online": True,
                "registration_url": f"https://www.kombit.dk/content/event-{i}",
                "slots": [
                    {
                        "start": day.isoformat(timespec="minutes"),
                        "end": (day + timedelta(hours=1)).isoformat(timespec="minutes"),
                    },
                    {
                        "start": (day + timedelta(days=1, hours=3)).isoformat(timespec="minutes"),
                        "end": (day + timedelta(days=1, hours=4)).isoformat(timespec="minutes"),
                    },
                ],
            }
        )
    data = {
        "format": "klikbot-catalogue/1",
        "programmes": programmes,
        "municipalities": municipalities,
        "tasks": task_rows,
        "events": event_rows,
    }
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode()


async def _fresh(backend: str, directory: Path) -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{directory / f'{uuid.uuid4().hex}.db'}", None
    name = f"klikbot_bench_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(PG_ADMIN)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return PG_URL.format(name=name), name


async def _drop(name: str | None) -> None:
    if name is None:
        return
    connection = await asyncpg.connect(PG_ADMIN)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def run_once(backend: str, raw: bytes, directory: Path) -> tuple[float, float]:
    url, name = await _fresh(backend, directory)
    try:
        await asyncio.to_thread(upgrade, url)
        engine = create_engine(url)
        try:
            now = datetime.now(UTC)
            started = time.perf_counter()
            report = await import_catalogue(engine, read_catalogue(raw), now)
            first = time.perf_counter() - started
            assert report.tasks.created == 2000 and report.events.created == 500, report.as_dict()
            assert report.statuses_created == 1800 * 98, report.statuses_created
            started = time.perf_counter()
            again = await import_catalogue(engine, read_catalogue(raw), now)
            second = time.perf_counter() - started
            assert not again.changed, again.as_dict()
        finally:
            await engine.dispose()
    finally:
        await _drop(name)
    return first, second


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    raw = generate()
    print(f"catalogue: 2000 tasks, 500 events, 98 municipalities, {len(raw) / 1024 / 1024:.1f} MB of YAML")
    results: dict[str, Any] = {"file_bytes": len(raw), "runs": args.runs, "target_seconds": TARGET_SECONDS}
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
            firsts, seconds = [], []
            for _ in range(args.runs):
                first, second = await run_once(backend, raw, Path(tmp))
                firsts.append(first)
                seconds.append(second)
            median_first, median_second = statistics.median(firsts), statistics.median(seconds)
            ok = ok and median_first < TARGET_SECONDS
            results[backend] = {
                "first_import_s": [round(v, 3) for v in firsts],
                "first_import_median_s": round(median_first, 3),
                "reimport_unchanged_s": [round(v, 3) for v in seconds],
                "reimport_unchanged_median_s": round(median_second, 3),
            }
            print(
                f"{backend}: first import median {median_first:.2f} s (runs {', '.join(f'{v:.2f}' for v in firsts)}); "
                f"same file again {median_second:.2f} s"
            )
    out = ROOT / "bench" / "results" / "catalogue_import.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"{'PASS' if ok else 'FAIL'}: target < {TARGET_SECONDS:.0f} s; results in {out.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
