"""Import statuses from a KLIK export (CSV), into the same history as changes made in chat.

Columns, in this order (a header row is recognised and skipped; `,` `;` or tab separated):
municipality code, task id, status (KLIK's words "Ikke påbegyndt", "Påbegyndt", "Fuldført",
"Ikke aktiv", English, or the values ikke_paabegyndt, ...), changed at (ISO 8601; without an
offset it is Copenhagen time), changed by (a name).

The whole file is checked first (errors name the row and the column); then, in one transaction,
each row is applied unless the bot already holds a newer change for that municipality and task
(task_status.changed_at later than the row's time): such a row is skipped, not applied over a
newer chat change. Applied rows are recorded in the status history with source "import".
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.catalogue import MAX_FILE_BYTES, Budget, CatalogueError, decode, identifier_problem
from storage.catalogue_import import lock_catalogue
from storage.domain import COPENHAGEN, TaskState, TaskStatus
from storage.models import Municipality, MunicipalityTaskStatus, StatusChange, Task

MAX_ROWS = 200_000
SOURCE = "import"

_STATUS = cast(Table, MunicipalityTaskStatus.__table__)
_HISTORY = cast(Table, StatusChange.__table__)

_WORDS: dict[str, TaskStatus] = {}
for _status in TaskStatus:
    for _word in (_status.value, _status.danish, _status.english, _status.name):
        _WORDS[_word.casefold()] = _status


def parse_status(word: str) -> TaskStatus | None:
    return _WORDS.get(" ".join(word.split()).casefold().replace("_", " ")) or _WORDS.get(
        word.strip().casefold()
    )


@dataclass(frozen=True, slots=True)
class StatusRow:
    line: int
    municipality_code: int
    task_id: str
    status: TaskStatus
    changed_at: datetime
    changed_by: str


@dataclass
class StatusImportReport:
    applied: int = 0
    unchanged: int = 0  # it already had that status
    skipped: int = 0  # older than the change the bot holds
    skipped_rows: list[str] | None = None

    def lines(self) -> list[str]:
        result = [
            f"statuses: {self.applied} applied, {self.unchanged} unchanged, {self.skipped} skipped (older than the bot's)"
        ]
        result += [f"  skipped: {row}" for row in (self.skipped_rows or [])[:20]]
        return result

    def as_dict(self) -> dict[str, object]:
        return {"applied": self.applied, "unchanged": self.unchanged, "skipped": self.skipped}


def parse_status_csv(raw: bytes, *, budget: Budget | None = None) -> list[StatusRow]:
    """Check every row; raise CatalogueError naming each bad row and column (CPU-bound: the CLI
    runs it through storage.catalogue.in_worker)."""
    if len(raw) > MAX_FILE_BYTES:
        raise CatalogueError([f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB"])
    text = decode(raw)
    first = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    errors: list[str] = []
    rows: list[StatusRow] = []
    try:
        for number, cells in enumerate(reader, start=1):
            if budget is not None:
                budget.check()
            if not cells or all(not c.strip() for c in cells):
                continue
            if number == 1 and not cells[0].strip().isdigit():
                continue  # the header
            if len(rows) >= MAX_ROWS:
                errors.append(f"the file has more than {MAX_ROWS} rows")
                break
            row = _row(number, cells, errors)
            if row is not None:
                rows.append(row)
    except csv.Error as error:
        errors.append(f"not a CSV file: {error}")
    if not rows and not errors:
        errors.append("the file has no rows")
    if errors:
        raise CatalogueError(errors)
    return rows


def _row(number: int, cells: list[str], errors: list[str]) -> StatusRow | None:
    where = f"row {number}"
    if len(cells) < 4 or len(cells) > 5:
        errors.append(
            f"{where}: has {len(cells)} columns, expected 5 (municipality code, task id, status, changed at, changed by)"
        )
        return None
    code_text, task_id, status_text, when_text = (c.strip() for c in cells[:4])
    changed_by = cells[4].strip() if len(cells) == 5 else ""
    ok = True
    if not (code_text.isascii() and code_text.isdigit() and len(code_text) == 3):
        errors.append(f"{where}: municipality code: {code_text[:40]!r} is not a 3-digit municipality code")
        ok = False
    if identifier_problem(task_id):
        errors.append(f"{where}: task id: {task_id[:40]!r} is not a task id")
        ok = False
    status = parse_status(status_text)
    if status is None:
        errors.append(
            f"{where}: status: {status_text[:40]!r} is not a KLIK status (Ikke påbegyndt, Påbegyndt, Fuldført, Ikke aktiv)"
        )
        ok = False
    changed_at: datetime | None = None
    try:
        changed_at = datetime.fromisoformat(when_text)
        if changed_at.tzinfo is None:
            changed_at = changed_at.replace(tzinfo=COPENHAGEN)
        if not 2000 <= changed_at.year <= 2100:
            raise ValueError
    except ValueError:
        errors.append(
            f"{where}: changed at: {when_text[:40]!r} is not an ISO 8601 time (2019-01-24T10:12:00+01:00)"
        )
        ok = False
    if len(changed_by) > 200 or any(ord(c) < 32 for c in changed_by):
        errors.append(f"{where}: changed by: is not a name (at most 200 characters, no control characters)")
        ok = False
    if not ok or status is None or changed_at is None:
        return None
    return StatusRow(number, int(code_text), task_id, status, changed_at, changed_by)


async def import_statuses(engine: AsyncEngine, rows: list[StatusRow]) -> StatusImportReport:
    """Apply the rows in one transaction (rolled back whole on any error)."""
    report = StatusImportReport(skipped_rows=[])
    async with engine.begin() as db:
        await lock_catalogue(db)
        codes = set(await db.scalars(select(Municipality.code)))
        states = {r.id: r.state for r in await db.execute(select(Task.id, Task.state))}
        errors: list[str] = []
        for row in rows:
            if row.municipality_code not in codes:
                errors.append(
                    f"row {row.line}: municipality code: {row.municipality_code} is not a municipality"
                )
            state = states.get(row.task_id)
            if state is None:
                errors.append(f"row {row.line}: task id: {row.task_id!r} is not a task in the catalogue")
            elif state is TaskState.ANNOUNCED:
                errors.append(
                    f"row {row.line}: task id: {row.task_id!r} is announced, not active in KLIK yet"
                )
        if errors:
            raise CatalogueError(errors)
        statement = select(
            _STATUS.c.municipality_code,
            _STATUS.c.task_id,
            _STATUS.c.status,
            _STATUS.c.version,
            _STATUS.c.changed_at,
        )
        if db.dialect.name == "postgresql":
            # A chat change waits for the import (SQLite: the import holds the write lock already).
            statement = statement.with_for_update()
        current = {(r.municipality_code, r.task_id): r for r in await db.execute(statement)}
        held: dict[tuple[int, str], tuple[TaskStatus, int, datetime | None]] = {
            key: (r.status, r.version, r.changed_at) for key, r in current.items()
        }
        inserts: dict[tuple[int, str], dict[str, object]] = {}
        history: list[dict[str, object]] = []
        for row in sorted(rows, key=lambda r: (r.changed_at, r.line)):
            key = (row.municipality_code, row.task_id)
            status, version, changed_at = held.get(key, (TaskStatus.NOT_STARTED, 0, None))
            if changed_at is not None and row.changed_at < changed_at:
                report.skipped += 1
                assert report.skipped_rows is not None
                report.skipped_rows.append(
                    f"row {row.line}: {row.municipality_code} {row.task_id} {row.changed_at.isoformat()} "
                    f"is older than the change of {changed_at.isoformat()}"
                )
                continue
            if status is row.status and version > 0:
                report.unchanged += 1
                continue
            old = status if version > 0 else None
            held[key] = (row.status, version + 1, row.changed_at)
            history.append(
                {
                    "municipality_code": row.municipality_code,
                    "task_id": row.task_id,
                    "old_status": old,
                    "new_status": row.status,
                    "changed_at": row.changed_at,
                    "user_id": "",
                    "aad_object_id": None,
                    "user_name": row.changed_by,
                    "tenant_id": None,
                    "source": SOURCE,
                }
            )
            if key not in current:
                inserts[key] = {"municipality_code": key[0], "task_id": key[1]}
            report.applied += 1
        changed = [
            (key, value)
            for key, value in held.items()
            if key not in current or value != tuple(current[key][2:5])
        ]
        new_rows = [
            {
                **inserts[key],
                "status": status,
                "version": version,
                "changed_at": changed_at,
                "changed_by_name": _last_author(history, key),
                "responsible_name": "",
            }
            for key, (status, version, changed_at) in changed
            if key in inserts
        ]
        updates = [
            {
                "b_code": key[0],
                "b_task": key[1],
                "b_version": current[key].version,
                "u_status": status,
                "u_version": version,
                "u_changed_at": changed_at,
                "u_by": _last_author(history, key),
            }
            for key, (status, version, changed_at) in changed
            if key not in inserts
        ]
        if new_rows:
            await db.execute(_STATUS.insert(), new_rows)
        if updates:
            await db.execute(
                update(_STATUS)
                .where(
                    _STATUS.c.municipality_code == bindparam("b_code"),
                    _STATUS.c.task_id == bindparam("b_task"),
                    _STATUS.c.version == bindparam("b_version"),
                )
                .values(
                    status=bindparam("u_status"),
                    version=bindparam("u_version"),
                    changed_at=bindparam("u_changed_at"),
                    changed_by_name=bindparam("u_by"),
                ),
                updates,
            )
        if history:
            await db.execute(_HISTORY.insert(), history)
    return report


def _last_author(history: list[dict[str, object]], key: tuple[int, str]) -> str:
    for entry in reversed(history):
        if (entry["municipality_code"], entry["task_id"]) == key:
            return str(entry["user_name"])
    return ""
