"""Import a validated catalogue: one transaction, upsert by stable id, never delete.

The rules (docs/catalogue.md):
- programmes, tasks, events, municipalities and tenant mappings are created or updated by id;
  an entry identical to the database is unchanged, so importing a file twice changes nothing;
- a task missing from the file (when the file has a `tasks` section) is closed, an event missing
  from the file is cancelled; statuses, history and slots stay;
- when a task becomes active (a new active task, or announced -> active), every municipality gets
  the status "Ikke påbegyndt" and news "new" is recorded; a changed deadline on an active task
  records news "deadline_changed"; a cosmetic edit records nothing;
- an event whose slot times change, or that is cancelled or reinstated, gets its `sequence`
  raised (its iCalendar UID stays `event_uid(id)`);
- imports do not interleave: PostgreSQL takes a transaction-scoped advisory lock, SQLite its
  write lock (the first statement is a write), so a second import waits for the first.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    Table,
    and_,
    bindparam,
    delete,
    exists,
    insert,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.catalogue import Catalogue, CatalogueError, EventSpec, SlotSpec, TaskSpec
from storage.db import serialise, take_sqlite_write_lock
from storage.domain import TaskState, TaskStatus
from storage.models import (
    CatalogueVersion,
    Event,
    EventSlot,
    Municipality,
    MunicipalityTaskStatus,
    Programme,
    Task,
    TaskNews,
    Tenant,
)

NEWS_NEW = "new"
NEWS_DEADLINE_CHANGED = "deadline_changed"

_TASK = cast(Table, Task.__table__)
_EVENT = cast(Table, Event.__table__)
_SLOT = cast(Table, EventSlot.__table__)
_STATUS = cast(Table, MunicipalityTaskStatus.__table__)
_NEWS = cast(Table, TaskNews.__table__)
_MUNICIPALITY = cast(Table, Municipality.__table__)
_PROGRAMME = cast(Table, Programme.__table__)
_TENANT = cast(Table, Tenant.__table__)


def event_uid(event_id: str) -> str:
    """The event's iCalendar UID: stable for the event's life, whatever changes."""
    return f"{event_id}@klikbot.kombit.dk"


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0  # tasks closed, events cancelled because they are no longer in the file

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
        }


@dataclass(frozen=True, slots=True)
class News:
    task_id: str
    kind: str
    deadline: date | None
    old_deadline: date | None


@dataclass
class ImportReport:
    programmes: Counts = field(default_factory=Counts)
    tasks: Counts = field(default_factory=Counts)
    events: Counts = field(default_factory=Counts)
    municipalities: Counts = field(default_factory=Counts)
    tenants: Counts = field(default_factory=Counts)
    statuses_created: int = 0
    news: list[News] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "programmes": self.programmes.as_dict(),
            "tasks": self.tasks.as_dict(),
            "events": self.events.as_dict(),
            "municipalities": self.municipalities.as_dict(),
            "tenants": self.tenants.as_dict(),
            "statuses_created": self.statuses_created,
            "news": [{"task_id": n.task_id, "kind": n.kind} for n in self.news],
        }

    def lines(self) -> list[str]:
        """The report for an operator, one line per part."""
        result = []
        for name, counts in (
            ("programmes", self.programmes),
            ("tasks", self.tasks),
            ("events", self.events),
            ("municipalities", self.municipalities),
            ("tenants", self.tenants),
        ):
            line = f"{name}: {counts.created} created, {counts.updated} updated, {counts.unchanged} unchanged"
            if name == "tasks":
                line += f", {counts.removed} removed from the file (closed)"
            elif name == "events":
                line += f", {counts.removed} removed from the file (cancelled)"
            result.append(line)
        result.append(f"statuses: {self.statuses_created} new 'Ikke påbegyndt' rows")
        new = sum(1 for n in self.news if n.kind == NEWS_NEW)
        moved = len(self.news) - new
        result.append(f"news recorded for the municipalities: {new} new task(s), {moved} changed deadline(s)")
        if self.dry_run:
            result.append("dry run: nothing was changed")
        return result

    @property
    def changed(self) -> bool:
        parts = (self.programmes, self.tasks, self.events, self.municipalities, self.tenants)
        return any(c.created or c.updated or c.removed for c in parts) or bool(self.statuses_created)


async def import_catalogue(
    engine: AsyncEngine, catalogue: Catalogue, now: datetime, *, dry_run: bool = False, reconcile: bool = True
) -> ImportReport:
    """Apply the catalogue in one transaction (rolled back on any error, or for a dry run).

    reconcile=False (the API's PUT of one task or event) creates and updates but closes or
    cancels nothing that is missing.
    """
    async with engine.connect() as db:
        transaction = await db.begin()
        try:
            await lock_catalogue(db)
            report = await apply_catalogue(db, catalogue, now, reconcile=reconcile)
            report.dry_run = dry_run
        except BaseException:
            await transaction.rollback()
            raise
        if dry_run:
            await transaction.rollback()
        else:
            await transaction.commit()
    return report


async def lock_catalogue(db: AsyncConnection) -> None:
    """Serialise catalogue writers for the rest of the transaction."""
    await serialise(db, "klikbot-catalogue")


async def apply_catalogue(
    db: AsyncConnection, catalogue: Catalogue, now: datetime, *, reconcile: bool = True
) -> ImportReport:
    report = ImportReport()
    created_municipalities = await _municipalities(db, catalogue, report)
    await _programmes(db, catalogue, report)
    await _check_references(db, catalogue)
    became_active = await _tasks(db, catalogue, report, reconcile)
    if became_active or created_municipalities:
        report.statuses_created = await ensure_statuses(db)
    await _events(db, catalogue, report, reconcile)
    await _tenants(db, catalogue, report)
    await record_news(db, report.news, now)
    if report.changed:
        await bump_catalogue_version(db)
    return report


async def bump_catalogue_version(db: AsyncConnection) -> None:
    """Tell every instance that the catalogue's words changed (storage.queries.catalogue_version)."""
    bumped = await db.execute(
        update(CatalogueVersion).where(CatalogueVersion.id == 1).values(version=CatalogueVersion.version + 1)
    )
    if not bumped.rowcount:
        await db.execute(insert(CatalogueVersion).values(id=1, version=2))


async def _municipalities(db: AsyncConnection, catalogue: Catalogue, report: ImportReport) -> bool:
    if catalogue.municipalities is None:
        return False
    existing = {r.code: r.name for r in await db.execute(select(Municipality.code, Municipality.name))}
    new = [m for m in catalogue.municipalities if m.code not in existing]
    renamed = [m for m in catalogue.municipalities if m.code in existing and existing[m.code] != m.name]
    names = {**existing, **{m.code: m.name for m in catalogue.municipalities}}
    owners: dict[str, int] = {}
    for code, name in sorted(names.items()):
        if name.casefold() in owners:
            raise CatalogueError(
                [
                    f"municipalities (code {code}): name: {name!r} is already municipality {owners[name.casefold()]}'s"
                ]
            )
        owners[name.casefold()] = code
    table = _MUNICIPALITY
    if renamed:
        await db.execute(
            update(table).where(table.c.code == bindparam("b_code")).values(name=bindparam("b_name")),
            [{"b_code": m.code, "b_name": m.name} for m in renamed],
        )
    if new:
        await db.execute(insert(table), [{"code": m.code, "name": m.name} for m in new])
    counts = report.municipalities
    counts.created, counts.updated = len(new), len(renamed)
    counts.unchanged = len(catalogue.municipalities) - len(new) - len(renamed)
    return bool(new)


async def _programmes(db: AsyncConnection, catalogue: Catalogue, report: ImportReport) -> None:
    if catalogue.programmes is None:
        return
    rows = await db.execute(select(Programme.id, Programme.name, Programme.short_name, Programme.note))
    existing = {r.id: (r.name, r.short_name, r.note) for r in rows}
    table = _PROGRAMME
    counts = report.programmes
    for p in catalogue.programmes:
        values = {"name": p.name, "short_name": p.short_name, "note": p.note}
        if p.id not in existing:
            await db.execute(insert(table).values(id=p.id, **values))
            counts.created += 1
        elif existing[p.id] != (p.name, p.short_name, p.note):
            await db.execute(update(table).where(table.c.id == p.id).values(**values))
            counts.updated += 1
        else:
            counts.unchanged += 1


async def _check_references(db: AsyncConnection, catalogue: Catalogue) -> None:
    """A task's programme and a tenant's municipality must be in the file or the database."""
    errors: list[str] = []
    if catalogue.tasks:
        programmes = set(await db.scalars(select(Programme.id)))
        errors += [
            f"{t.where}: programme: {t.programme!r} is not a programme in the file or the database"
            for t in catalogue.tasks
            if t.programme not in programmes
        ]
    if catalogue.tenants:
        codes = set(await db.scalars(select(Municipality.code)))
        errors += [
            f"{t.where}: municipality: {t.municipality_code} is not a municipality in the file or the database"
            for t in catalogue.tenants
            if t.municipality_code not in codes
        ]
    if errors:
        raise CatalogueError(errors)


def _task_values(t: TaskSpec) -> dict[str, Any]:
    return {
        "title": t.title,
        "programme_id": t.programme,
        "description": t.description,
        "mandatory": t.mandatory,
        "critical_path": t.critical_path,
        "deadline": t.deadline,
        "deadline_rule": t.deadline_rule,
        "contact": t.contact,
        "state": t.state,
        "notes": t.notes,
        "keywords": list(t.keywords),
        "completion_signals": list(t.completion_signals),
    }


async def _tasks(db: AsyncConnection, catalogue: Catalogue, report: ImportReport, reconcile: bool) -> bool:
    """Upsert the tasks; returns whether any task became active."""
    if catalogue.tasks is None:
        return False
    existing = {row.id: dict(row._mapping) for row in await db.execute(select(_TASK))}
    counts = report.tasks
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    became_active = False
    for t in catalogue.tasks:
        values = _task_values(t)
        old = existing.get(t.id)
        if old is None:
            inserts.append({"id": t.id, **values})
            counts.created += 1
            if t.state is TaskState.ACTIVE:
                report.news.append(News(t.id, NEWS_NEW, t.deadline, None))
                became_active = True
            continue
        if all(old[k] == v for k, v in values.items()):
            counts.unchanged += 1
            continue
        updates.append({"b_id": t.id, **values})
        counts.updated += 1
        was = TaskState(old["state"])
        if t.state is TaskState.ACTIVE and was is not TaskState.ACTIVE:
            became_active = True
            if was is TaskState.ANNOUNCED:
                report.news.append(News(t.id, NEWS_NEW, t.deadline, None))
        elif t.state is TaskState.ACTIVE and old["deadline"] != t.deadline:
            report.news.append(News(t.id, NEWS_DEADLINE_CHANGED, t.deadline, old["deadline"]))
    if inserts:
        await db.execute(insert(_TASK), inserts)
    if updates:
        statement = update(_TASK).where(_TASK.c.id == bindparam("b_id"))
        await db.execute(statement.values({k: bindparam(k) for k in updates[0] if k != "b_id"}), updates)
    if reconcile:
        listed = {t.id for t in catalogue.tasks}
        gone = [
            i
            for i, old in existing.items()
            if i not in listed and TaskState(old["state"]) is not TaskState.CLOSED
        ]
        if gone:
            await db.execute(
                update(_TASK).where(_TASK.c.id == bindparam("b_id")).values(state=TaskState.CLOSED),
                [{"b_id": i} for i in gone],
            )
        counts.removed = len(gone)
    return became_active


async def ensure_statuses(db: AsyncConnection) -> int:
    """Every municipality has a status on every active task ("Ikke påbegyndt" to begin with)."""
    missing = (
        select(
            _MUNICIPALITY.c.code,
            _TASK.c.id,
            literal_column(f"'{TaskStatus.NOT_STARTED.value}'"),
            literal_column("1"),
            literal_column("''"),
            literal_column("''"),
        )
        .select_from(_MUNICIPALITY.join(_TASK, true()))
        .where(
            _TASK.c.state == TaskState.ACTIVE,
            ~exists().where(
                and_(_STATUS.c.municipality_code == _MUNICIPALITY.c.code, _STATUS.c.task_id == _TASK.c.id)
            ),
        )
    )
    result = await db.execute(
        insert(_STATUS).from_select(
            ["municipality_code", "task_id", "status", "version", "changed_by_name", "responsible_name"],
            missing,
        )
    )
    return max(result.rowcount or 0, 0)


def _event_values(e: EventSpec) -> dict[str, Any]:
    return {
        "title": e.title,
        "kind": e.kind,
        "description": e.description,
        "audience": e.audience,
        "location": e.location,
        "online": e.online,
        "registration_url": e.registration_url,
        "registration_note": e.registration_note,
        "registration_deadline": e.registration_deadline,
        "cancelled": e.cancelled,
    }


_SlotKey = tuple[datetime, datetime, bool, str, bool, str]


def _slot_key(s: SlotSpec) -> _SlotKey:
    return (s.starts_at, s.ends_at, s.all_day, s.location, s.sold_out, s.registration_url)


def _slot_row(event_id: str, s: SlotSpec) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "starts_at": s.starts_at,
        "ends_at": s.ends_at,
        "all_day": s.all_day,
        "location": s.location,
        "sold_out": s.sold_out,
        "registration_url": s.registration_url,
    }


async def _events(db: AsyncConnection, catalogue: Catalogue, report: ImportReport, reconcile: bool) -> None:
    if catalogue.events is None:
        return
    existing = {r.id: dict(r._mapping) for r in await db.execute(select(_EVENT))}
    slots: dict[str, list[_SlotKey]] = defaultdict(list)
    slot_rows = await db.execute(
        select(
            _SLOT.c.event_id,
            _SLOT.c.starts_at,
            _SLOT.c.ends_at,
            _SLOT.c.all_day,
            _SLOT.c.location,
            _SLOT.c.sold_out,
            _SLOT.c.registration_url,
        )
    )
    for r in slot_rows:
        slots[r.event_id].append(
            (r.starts_at, r.ends_at, r.all_day, r.location, r.sold_out, r.registration_url)
        )
    counts = report.events
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    new_slots: list[dict[str, Any]] = []
    replace_slots: list[str] = []
    for e in catalogue.events:
        values = _event_values(e)
        wanted = sorted(_slot_key(s) for s in e.slots)
        old = existing.get(e.id)
        if old is None:
            inserts.append({"id": e.id, "sequence": 0, **values})
            new_slots.extend(_slot_row(e.id, s) for s in e.slots)
            counts.created += 1
            continue
        held = sorted(slots.get(e.id, []))
        same_fields = all(old[k] == v for k, v in values.items())
        if same_fields and held == wanted:
            counts.unchanged += 1
            continue
        moved = [k[:3] for k in held] != [k[:3] for k in wanted] or bool(old["cancelled"]) != e.cancelled
        updates.append({"b_id": e.id, "sequence": old["sequence"] + (1 if moved else 0), **values})
        if held != wanted:
            replace_slots.append(e.id)
            new_slots.extend(_slot_row(e.id, s) for s in e.slots)
        counts.updated += 1
    if inserts:
        await db.execute(insert(_EVENT), inserts)
    if updates:
        statement = update(_EVENT).where(_EVENT.c.id == bindparam("b_id"))
        await db.execute(statement.values({k: bindparam(k) for k in updates[0] if k != "b_id"}), updates)
    if replace_slots:
        await db.execute(
            delete(_SLOT).where(_SLOT.c.event_id == bindparam("b_id")), [{"b_id": i} for i in replace_slots]
        )
    if new_slots:
        await db.execute(insert(_SLOT), new_slots)
    if reconcile:
        listed = {e.id for e in catalogue.events}
        gone = [
            (i, old["sequence"]) for i, old in existing.items() if i not in listed and not old["cancelled"]
        ]
        if gone:
            await db.execute(
                update(_EVENT)
                .where(_EVENT.c.id == bindparam("b_id"))
                .values(cancelled=True, sequence=bindparam("b_seq")),
                [{"b_id": i, "b_seq": sequence + 1} for i, sequence in gone],
            )
        counts.removed = len(gone)


async def _tenants(db: AsyncConnection, catalogue: Catalogue, report: ImportReport) -> None:
    if catalogue.tenants is None:
        return
    existing = {
        r.tenant_id: r.municipality_code
        for r in await db.execute(select(Tenant.tenant_id, Tenant.municipality_code))
    }
    table = _TENANT
    counts = report.tenants
    for t in catalogue.tenants:
        if t.tenant_id not in existing:
            await db.execute(
                insert(table).values(tenant_id=t.tenant_id, municipality_code=t.municipality_code)
            )
            counts.created += 1
        elif existing[t.tenant_id] != t.municipality_code:
            await db.execute(
                update(table)
                .where(table.c.tenant_id == t.tenant_id)
                .values(municipality_code=t.municipality_code)
            )
            counts.updated += 1
        else:
            counts.unchanged += 1


async def record_news(db: AsyncConnection, news: list[News], now: datetime) -> None:
    """One pending row per (task, kind): a second change before it is sent updates that row."""
    if not news:
        return
    pending = {
        (r.task_id, r.kind): r.id
        for r in await db.execute(
            select(_NEWS.c.id, _NEWS.c.task_id, _NEWS.c.kind).where(_NEWS.c.sent_at.is_(None))
        )
    }
    for n in news:
        row_id = pending.get((n.task_id, n.kind))
        if row_id is None:
            await db.execute(
                insert(_NEWS).values(
                    task_id=n.task_id,
                    kind=n.kind,
                    deadline=n.deadline,
                    old_deadline=n.old_deadline,
                    created_at=now,
                )
            )
        else:
            await db.execute(
                update(_NEWS).where(_NEWS.c.id == row_id).values(deadline=n.deadline, created_at=now)
            )


@dataclass(frozen=True, slots=True)
class PendingNews:
    id: int
    task_id: str
    task_title: str
    kind: str
    deadline: date | None
    old_deadline: date | None
    created_at: datetime


async def pending_news(db: AsyncConnection, *, limit: int | None = None, claim: bool = False) -> list[PendingNews]:
    """News not yet sent to the municipalities, oldest first. With `claim`, the rows are locked
    for the rest of the transaction, so that of several bot processes one sends each (another
    process skips them on PostgreSQL; SQLite has one writer at a time anyway)."""
    if claim:
        await take_sqlite_write_lock(db)  # PostgreSQL: the rows are locked below instead
    query = (
        select(
            _NEWS.c.id,
            _NEWS.c.task_id,
            _TASK.c.title,
            _NEWS.c.kind,
            _NEWS.c.deadline,
            _NEWS.c.old_deadline,
            _NEWS.c.created_at,
        )
        .join(_TASK, _TASK.c.id == _NEWS.c.task_id)
        .where(_NEWS.c.sent_at.is_(None))
        .order_by(_NEWS.c.created_at, _NEWS.c.id)
        .limit(limit)
    )
    if claim:
        query = query.with_for_update(skip_locked=True, of=_NEWS)
    rows = await db.execute(query)
    return [
        PendingNews(r.id, r.task_id, r.title, r.kind, r.deadline, r.old_deadline, r.created_at) for r in rows
    ]


async def mark_news_sent(db: AsyncConnection, ids: list[int], at: datetime) -> None:
    if ids:
        await db.execute(update(_NEWS).where(_NEWS.c.id.in_(ids)).values(sent_at=at))
