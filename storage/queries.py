"""Read queries the dialogs use. Each takes a connection and returns plain views.

They run SQLAlchemy Core statements on a connection, not ORM queries on a session: a turn
reads a few dozen rows, and the ORM's bookkeeping for them cost more than the rest of the turn.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.domain import Period, TaskView
from storage.models import (
    CatalogueVersion,
    Event,
    EventSlot,
    Incident,
    Municipality,
    MunicipalityTaskStatus,
    Programme,
    Task,
    Tenant,
)
from storage.views import (
    CatalogueWords,
    EventView,
    IncidentView,
    MunicipalityRef,
    ProgrammeView,
    SlotView,
)

# Statements run on every turn are built once: building and cache-keying a statement cost
# more than running it on SQLite.
_MUNICIPALITY_OF_TENANT = (
    select(Municipality.code, Municipality.name)
    .join(Tenant, Tenant.municipality_code == Municipality.code)
    .where(Tenant.tenant_id == bindparam("tenant_id"))
)


async def municipality_for_tenant(db: AsyncConnection, tenant_id: str) -> MunicipalityRef | None:
    row = (await db.execute(_MUNICIPALITY_OF_TENANT, {"tenant_id": tenant_id})).first()
    return MunicipalityRef(row.code, row.name) if row is not None else None


# What every turn needs first, in one round trip: the asker's municipality and the catalogue's
# version (a turn that finds it changed rebuilds the understanding's vocabulary).
_TURN_CONTEXT = select(
    select(CatalogueVersion.version).where(CatalogueVersion.id == 1).scalar_subquery().label("version"),
    _MUNICIPALITY_OF_TENANT.with_only_columns(Municipality.code).scalar_subquery().label("code"),
    _MUNICIPALITY_OF_TENANT.with_only_columns(Municipality.name).scalar_subquery().label("name"),
)


async def turn_context(db: AsyncConnection, tenant_id: str | None) -> tuple[MunicipalityRef | None, int]:
    """(the tenant's municipality, or None; the catalogue's version)."""
    row = (await db.execute(_TURN_CONTEXT, {"tenant_id": tenant_id or ""})).one()
    municipality = MunicipalityRef(row.code, row.name) if row.code is not None else None
    return municipality, int(row.version or 0)


async def municipalities(db: AsyncConnection) -> list[MunicipalityRef]:
    rows = await db.execute(select(Municipality.code, Municipality.name).order_by(Municipality.code))
    return [MunicipalityRef(r.code, r.name) for r in rows]


async def find_municipality(db: AsyncConnection, name_or_code: str) -> MunicipalityRef | None:
    """By official code ("630") or name, case-insensitively ("vejle", "Vejle Kommune")."""
    wanted = name_or_code.strip()
    rows = await municipalities(db)
    if wanted.isdigit():
        return next((r for r in rows if r.code == int(wanted)), None)
    lowered = wanted.lower().removesuffix(" kommune").removesuffix("s regionskommune").strip()
    return next((r for r in rows if r.name.lower() == lowered), None)


_TASK_COLUMNS = (
    Task.id,
    Task.title,
    Programme.name.label("programme"),
    Programme.short_name.label("programme_short"),
    Task.description,
    Task.mandatory,
    Task.critical_path,
    Task.deadline,
    Task.deadline_rule,
    Task.contact,
    Task.state,
    Task.notes,
    Task.keywords,
    Task.completion_signals,
)


_TASKS_FOR_MUNICIPALITY = (
    select(
        *_TASK_COLUMNS,
        MunicipalityTaskStatus.status,
        MunicipalityTaskStatus.version,
        MunicipalityTaskStatus.changed_at,
        MunicipalityTaskStatus.changed_by_name,
        MunicipalityTaskStatus.responsible_name,
    )
    .join(Programme, Programme.id == Task.programme_id)
    .outerjoin(
        MunicipalityTaskStatus,
        (MunicipalityTaskStatus.task_id == Task.id)
        & (MunicipalityTaskStatus.municipality_code == bindparam("code")),
    )
    .order_by(Task.title)
)


async def task_views(db: AsyncConnection, municipality_code: int | None) -> list[TaskView]:
    """Every task in the catalogue, with the municipality's own status where it has one."""
    # No municipality (code -1 matches no row): every task, with no status.
    code = municipality_code if municipality_code is not None else -1
    rows = (await db.execute(_TASKS_FOR_MUNICIPALITY, {"code": code})).all()
    return [
        TaskView(
            id=r.id,
            title=r.title,
            programme=r.programme,
            programme_short=r.programme_short,
            description=r.description,
            mandatory=r.mandatory,
            critical_path=r.critical_path,
            deadline=r.deadline,
            deadline_rule=r.deadline_rule,
            contact=r.contact,
            state=r.state,
            notes=r.notes,
            keywords=tuple(r.keywords or ()),
            status=r.status,
            version=r.version,
            changed_at=r.changed_at,
            changed_by_name=r.changed_by_name or "",
            responsible_name=r.responsible_name or "",
            completion_signals=tuple(r.completion_signals or ()),
        )
        for r in rows
    ]


_STATUSES_OF_MUNICIPALITY = select(
    MunicipalityTaskStatus.task_id,
    MunicipalityTaskStatus.status,
    MunicipalityTaskStatus.version,
    MunicipalityTaskStatus.changed_at,
    MunicipalityTaskStatus.changed_by_name,
    MunicipalityTaskStatus.responsible_name,
).where(MunicipalityTaskStatus.municipality_code == bindparam("code"))


async def with_statuses(
    db: AsyncConnection, catalogue: Iterable[TaskView], municipality_code: int | None
) -> list[TaskView]:
    """What `task_views` gives, for a catalogue already read (`task_views(db, None)` at the
    version the turn found): only the municipality's own status rows are read."""
    if municipality_code is None:
        return list(catalogue)
    rows = {r.task_id: r for r in await db.execute(_STATUSES_OF_MUNICIPALITY, {"code": municipality_code})}
    return [
        replace(
            task,
            status=row.status,
            version=row.version,
            changed_at=row.changed_at,
            changed_by_name=row.changed_by_name or "",
            responsible_name=row.responsible_name or "",
        )
        if (row := rows.get(task.id)) is not None
        else task
        for task in catalogue
    ]


async def programmes(db: AsyncConnection) -> list[ProgrammeView]:
    rows = await db.execute(
        select(Programme.id, Programme.name, Programme.short_name, Programme.note).order_by(Programme.name)
    )
    return [ProgrammeView(r.id, r.name, r.short_name, r.note or "") for r in rows]


_CATALOGUE_VERSION = select(CatalogueVersion.version).where(CatalogueVersion.id == 1)


async def catalogue_version(db: AsyncConnection) -> int:
    """Bumped by every catalogue import: a cheap way to know the catalogue's words changed."""
    return int((await db.execute(_CATALOGUE_VERSION)).scalar() or 0)


async def catalogue_words(db: AsyncConnection) -> CatalogueWords:
    """Everything the understanding's vocabulary is built from (dialogs/lexicon.py)."""
    return CatalogueWords(
        version=await catalogue_version(db),
        tasks=tuple(await task_views(db, None)),
        events=tuple(await events_in(db, Period(None, None))),
        programmes=tuple(await programmes(db)),
        municipalities=tuple(await municipalities(db)),
    )


# An event's columns and one of its slots', as `_event_view` reads them.
_EVENT_SLOT_COLUMNS = (
    *Event.__table__.c,
    EventSlot.starts_at,
    EventSlot.ends_at,
    EventSlot.all_day,
    EventSlot.location.label("slot_location"),
    EventSlot.sold_out,
    EventSlot.registration_url.label("slot_registration_url"),
)


def _events_statement(bounded_start: bool, bounded_end: bool) -> Select[Any]:
    matching = select(EventSlot.event_id).join(Event).where(Event.cancelled.is_(False))
    if bounded_end:
        matching = matching.where(EventSlot.starts_at < bindparam("end", type_=EventSlot.starts_at.type))
    if bounded_start:
        matching = matching.where(EventSlot.ends_at > bindparam("start", type_=EventSlot.ends_at.type))
    return (
        select(*_EVENT_SLOT_COLUMNS)
        .join(EventSlot, EventSlot.event_id == Event.id)
        .where(Event.id.in_(matching.scalar_subquery()))
        .order_by(EventSlot.starts_at, EventSlot.id)
    )


_EVENT_ROWS = (
    select(*_EVENT_SLOT_COLUMNS)
    .join(EventSlot, EventSlot.event_id == Event.id)
    .where(Event.id == bindparam("event_id"))
    .order_by(EventSlot.starts_at, EventSlot.ends_at, EventSlot.id)
)


async def event_for_calendar(db: AsyncConnection, event_id: str) -> tuple[EventView, int, bool] | None:
    """The event (cancelled or not) with all its slots, its sequence and whether it is cancelled;
    None when there is no such event (or it has no slots)."""
    rows = (await db.execute(_EVENT_ROWS, {"event_id": event_id})).all()
    if not rows:
        return None
    return _event_view(list(rows)), int(rows[0].sequence), bool(rows[0].cancelled)


# One statement per shape of period (open or bounded at each end), built once.
_EVENTS = {(s, e): _events_statement(s, e) for s in (False, True) for e in (False, True)}


async def events_in(db: AsyncConnection, period: Period) -> list[EventView]:
    """Events, not cancelled, with at least one slot in the period, by their first such slot.
    Each comes with all its slots, in time order."""
    statement = _EVENTS[(period.start is not None, period.end is not None)]
    parameters = {k: v for k, v in (("start", period.start), ("end", period.end)) if v is not None}
    rows = (await db.execute(statement, parameters)).all()
    grouped: dict[str, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.id, []).append(row)
    views = [_event_view(event_rows) for event_rows in grouped.values()]

    def first_slot(view: EventView) -> datetime:
        return min(s.starts_at for s in view.slots if period.overlaps(s.starts_at, s.ends_at))

    return sorted(views, key=first_slot)


def events_within(events: Iterable[EventView], period: Period) -> list[EventView]:
    """What `events_in` gives, for the events already read (`events_in(db, Period(None, None))`
    at the catalogue version the turn found): no query."""

    def first_slot(view: EventView) -> datetime:
        return min(s.starts_at for s in view.slots if period.overlaps(s.starts_at, s.ends_at))

    inside = [e for e in events if any(period.overlaps(s.starts_at, s.ends_at) for s in e.slots)]
    return sorted(inside, key=first_slot)


def _event_view(rows: list[Any]) -> EventView:
    first = rows[0]
    return EventView(
        id=first.id,
        title=first.title,
        kind=first.kind,
        description=first.description,
        audience=first.audience,
        location=first.location,
        online=first.online,
        registration_url=first.registration_url,
        registration_note=first.registration_note,
        registration_deadline=first.registration_deadline,
        slots=tuple(
            SlotView(r.starts_at, r.ends_at, r.all_day, r.slot_location, r.sold_out, r.slot_registration_url)
            for r in rows
        ),
    )


_OPEN_INCIDENTS = (
    select(Incident.__table__).where(Incident.resolved_at.is_(None)).order_by(Incident.started_at.desc())
)
_ALL_INCIDENTS = select(Incident.__table__).order_by(Incident.started_at.desc())


async def incidents(
    db: AsyncConnection, *, open_only: bool, since: datetime | None = None
) -> list[IncidentView]:
    query = _OPEN_INCIDENTS if open_only else _ALL_INCIDENTS
    if not open_only and since is not None:
        query = query.where(or_(Incident.resolved_at.is_(None), Incident.resolved_at >= since))
    rows = (await db.execute(query)).all()
    return [incident_view(r) for r in rows]


def incident_view(r: Any) -> IncidentView:
    """An incident row (any select of the incident table's columns) as a view."""
    return IncidentView(
        id=r.id,
        title=r.title,
        description=r.description,
        affected_systems=tuple(r.affected_systems or ()),
        severity=r.severity,
        status=r.status,
        started_at=r.started_at,
        resolved_at=r.resolved_at,
        latest_update=r.latest_update,
    )
