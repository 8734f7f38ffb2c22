"""The CLI's catalogue commands: `import FILE [--dry-run]` and `import-statuses FILE.csv`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bot.settings import Settings, SettingsError

CATALOGUE_COMMANDS = frozenset({"import", "import-statuses"})


def add_catalogue_commands(commands: Any) -> None:
    catalogue = commands.add_parser(
        "import",
        help="import the catalogue (programmes, tasks, events, municipalities, tenants) from YAML or JSON",
        description="Validate the whole file, then create, update, close (tasks) or cancel (events) by id, "
        "in one transaction. The format: docs/catalogue.md.",
    )
    catalogue.add_argument("file", metavar="FILE", type=Path, help="the catalogue (YAML or JSON)")
    catalogue.add_argument(
        "--dry-run", action="store_true", help="check and report what would change, change nothing"
    )
    statuses = commands.add_parser(
        "import-statuses",
        help="import statuses from a KLIK export (CSV)",
        description="Columns: municipality code, task id, status, changed at (ISO 8601), changed by. "
        "A row older than the bot's own change is skipped.",
    )
    statuses.add_argument("file", metavar="FILE.csv", type=Path)


def _read(path: Path) -> bytes:
    from storage.catalogue import MAX_FILE_BYTES

    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise SettingsError(
                f"{path}: the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; nothing was changed"
            )
        return path.read_bytes()
    except OSError as error:
        raise SettingsError(f"cannot read {path}: {error.strerror or error}") from error


def run_catalogue_command(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_run(args, settings))


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runtime import prepare_database
    from storage.catalogue import FILE_PARSE_SECONDS, CatalogueError, in_worker, read_catalogue
    from storage.catalogue_import import import_catalogue
    from storage.db import create_engine, session_factory
    from storage.status_import import import_statuses, parse_status_csv

    raw = await asyncio.to_thread(_read, args.file)
    json_only = args.file.suffix.lower() == ".json"
    engine = create_engine(settings.database_url)
    try:
        await prepare_database(settings, engine, session_factory(engine))
        # Read in a worker thread, within a time limit, as the operator API does.
        if args.command == "import":
            catalogue = await in_worker(
                lambda budget: read_catalogue(raw, json_only=json_only, budget=budget), FILE_PARSE_SECONDS
            )
            report = await import_catalogue(engine, catalogue, settings.clock()(), dry_run=args.dry_run)
            lines = report.lines()
        else:
            rows = await in_worker(lambda budget: parse_status_csv(raw, budget=budget), FILE_PARSE_SECONDS)
            lines = (await import_statuses(engine, rows)).lines()
    except CatalogueError as error:
        print(
            f"klikbot: {args.file}: intet blev importeret / nothing was imported:\n{error}",
            file=sys.stderr,
        )
        return 1
    finally:
        await engine.dispose()
    print("\n".join(lines))
    return 0
