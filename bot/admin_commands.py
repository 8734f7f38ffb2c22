"""The CLI's operator commands: `tenants add|list|remove` and `export statuses`."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import sys
from pathlib import Path
from typing import Any

from bot.settings import Settings, SettingsError

ADMIN_COMMANDS = frozenset({"tenants", "export"})

EXPORT_HEADER = (
    "kommunekode",
    "kommune",
    "opgave_id",
    "opgave",
    "program",
    "status",
    "senest_aendret",
    "aendret_af",
    "ansvarlig",
)


def add_admin_commands(commands: Any) -> None:
    tenants = commands.add_parser("tenants", help="map Teams tenants to municipalities")
    tenant_commands = tenants.add_subparsers(dest="tenants_command", required=True)
    add = tenant_commands.add_parser("add", help="let a tenant's users speak for a municipality")
    add.add_argument("tenant_id", metavar="TENANT_ID", help="the Azure AD tenant id (a GUID)")
    add.add_argument(
        "municipality", metavar="MUNICIPALITY", help="the municipality's name or code, e.g. Vejle or 630"
    )
    remove = tenant_commands.add_parser("remove", help="forget a tenant's mapping")
    remove.add_argument("tenant_id", metavar="TENANT_ID")
    tenant_commands.add_parser("list", help="every mapped tenant")

    export = commands.add_parser("export", help="export data for KOMBIT")
    export_commands = export.add_subparsers(dest="export_command", required=True)
    statuses = export_commands.add_parser(
        "statuses", help="every municipality's status on every task, with the time of the last change"
    )
    statuses.add_argument(
        "--output", "-o", type=Path, help="the file to write (default: standard output, CSV)"
    )
    statuses.add_argument(
        "--format",
        choices=("csv", "xlsx"),
        help="csv or xlsx (default: from the output file's ending, else csv)",
    )


def run_admin_command(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_run(args, settings))


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runtime import prepare_database
    from storage.db import create_engine, session_factory

    engine = create_engine(settings.database_url)
    try:
        await prepare_database(settings, engine, session_factory(engine))
        if args.command == "tenants":
            return await _tenants(args, engine)
        return await _export(args, engine)
    finally:
        await engine.dispose()


async def _tenants(args: argparse.Namespace, engine: Any) -> int:
    from storage.queries import find_municipality
    from storage.tenants import TenantError, add_tenant, list_tenants, remove_tenant

    try:
        if args.tenants_command == "list":
            async with engine.connect() as db:
                mappings = await list_tenants(db)
            if not mappings:
                print("no tenants are mapped yet: klikbot tenants add TENANT_ID MUNICIPALITY")
            for m in mappings:
                print(f"{m.tenant_id}  {m.municipality_code:>3}  {m.municipality}")
            return 0
        if args.tenants_command == "remove":
            async with engine.begin() as db:
                removed = await remove_tenant(db, args.tenant_id)
            print(f"removed {args.tenant_id}" if removed else f"{args.tenant_id} was not mapped")
            return 0 if removed else 1
        async with engine.begin() as db:
            municipality = await find_municipality(db, args.municipality)
            if municipality is None:
                raise TenantError(
                    f"no municipality is called {args.municipality!r} (give its name or 3-digit code)"
                )
            result = await add_tenant(db, args.tenant_id, municipality.code)
    except TenantError as error:
        raise SettingsError(str(error)) from error
    mapping = result.mapping
    if result.previous:
        print(
            f"{mapping.tenant_id} now speaks for {mapping.municipality} ({mapping.municipality_code}), not {result.previous}"
        )
    else:
        print(f"{mapping.tenant_id} speaks for {mapping.municipality} ({mapping.municipality_code})")
    return 0


def _rows(export: list[Any]) -> list[tuple[object, ...]]:
    return [
        (
            r.municipality_code,
            r.municipality,
            r.task_id,
            r.task,
            r.programme,
            r.status.danish,
            r.changed_at.isoformat() if r.changed_at else "",
            r.changed_by,
            r.responsible,
        )
        for r in export
    ]


async def _export(args: argparse.Namespace, engine: Any) -> int:
    from storage.status_overview import export_rows

    async with engine.connect() as db:
        rows = _rows(await export_rows(db))
    output: Path | None = args.output
    kind = args.format or ("xlsx" if output is not None and output.suffix.lower() == ".xlsx" else "csv")
    if kind == "xlsx":
        if output is None:
            raise SettingsError("an XLSX export needs --output FILE.xlsx")
        await asyncio.to_thread(write_xlsx, output, rows)
    else:
        text = csv_text(rows)
        if output is None:
            sys.stdout.write(text)
        else:
            # With a BOM, so Excel reads æøå right.
            await asyncio.to_thread(output.write_text, text, encoding="utf-8-sig")
    if output is not None:
        print(f"wrote {len(rows)} rows to {output}", file=sys.stderr)
    return 0


def csv_text(rows: list[tuple[object, ...]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_HEADER)
    writer.writerows(rows)
    return buffer.getvalue()


def write_xlsx(path: Path, rows: list[tuple[object, ...]]) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Status i KLIK")
    sheet.append(list(EXPORT_HEADER))
    for row in rows:
        sheet.append(list(row))
    book.save(path)
