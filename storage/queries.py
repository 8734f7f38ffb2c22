"""Read queries the dialogs use. Each takes a session and returns plain values or models."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.domain import Period, TaskView
from storage.models import (
    Event,
    EventSlot,
    Incident,
    Municipality,
    MunicipalityTaskStatus,
    Task,
    Tenant,
)


async def municipality_for_tenant(session: AsyncSession, tenant_id: str) -> Municipality | None:
    tenant = await session.get(Tenant, tenant_id)
    return tenant.municipality if tenant is not None else None


async def find_municipality(session: AsyncSession, name_or_code: str) -> Municipality | None:
    """By official code ("630") or name, case-insensitively ("vejle", "Vejle Kommune")."""
    wanted = name_or_code.strip()
    if wanted.isdigit():
        return await session.get(Municipality, int(wanted))
    lowered = wanted.lower().removesuffix(" kommune").removesuffix("s regionskommune").strip()
    for municipality in await session.scalars(select(Municipality)):
        if municipality.name.lower() == lowered:
            return municipality
    return None


def _view(task: Task, status: MunicipalityTaskStatus | None) -> TaskView:
    return TaskView(
        id=task.id,
        title=task.title,
        programme=task.programme.name,
        programme_short=task.programme.short_name,
        description=task.description,
        mandatory=task.mandatory,
        critical_path=task.critical_path,
        deadline=task.deadline,
        deadline_rule=task.deadline_rule,
        contact=task.contact,
        state=task.state,
        notes=task.notes,
        keywords=tuple(task.keywords or ()),
        status=status.status if status is not None else None,
    )


async def task_views(session: AsyncSession, municipality_code: int | None) -> list[TaskView]:
    """Every task in the catalogue, with the municipality's own status where it has one."""
    if municipality_code is None:
        tasks = await session.scalars(select(Task).order_by(Task.title))
        return [_view(task, None) for task in tasks]
    rows = await session.execute(
        select(Task, MunicipalityTaskStatus)
        .outerjoin(
            MunicipalityTaskStatus,
            (MunicipalityTaskStatus.task_id == Task.id)
            & (MunicipalityTaskStatus.municipality_code == municipality_code),
        )
        .order_by(Task.title)
    )
    return [_view(task, status) for task, status in rows]


async def events_in(session: AsyncSession, period: Period) -> list[Event]:
    """Events, not cancelled, with at least one slot in the period, by their first such slot."""
    query = select(Event).join(EventSlot).where(Event.cancelled.is_(False)).distinct()
    if period.end is not None:
        query = query.where(EventSlot.starts_at < period.end)
    if period.start is not None:
        query = query.where(EventSlot.ends_at > period.start)
    events = list(await session.scalars(query))

    def first_slot(event: Event) -> datetime:
        return min(s.starts_at for s in event.slots if period.overlaps(s.starts_at, s.ends_at))

    return sorted(events, key=first_slot)


async def incidents(
    session: AsyncSession, *, open_only: bool, since: datetime | None = None
) -> list[Incident]:
    query = select(Incident).order_by(Incident.started_at.desc())
    if open_only:
        query = query.where(Incident.resolved_at.is_(None))
    elif since is not None:
        query = query.where(or_(Incident.resolved_at.is_(None), Incident.resolved_at >= since))
    return list(await session.scalars(query))
