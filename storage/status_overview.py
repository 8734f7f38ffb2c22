"""KOMBIT's view across municipalities: KLIK's status table per task, who has not completed
a task, and the export of every municipality's status on every task."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.domain import STATUS_ORDER, TaskState, TaskStatus
from storage.models import Municipality, MunicipalityTaskStatus, Programme, Task


@dataclass(frozen=True, slots=True)
class TaskCounts:
    task_id: str
    title: str
    programme: str
    state: TaskState
    deadline: date | None
    counts: dict[TaskStatus, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class Laggard:
    """A municipality that has not completed a task."""

    code: int
    name: str
    status: TaskStatus
    changed_at: datetime | None


async def task_counts(
    db: AsyncConnection, states: tuple[TaskState, ...] = (TaskState.ACTIVE,)
) -> list[TaskCounts]:
    tasks = (
        await db.execute(
            select(Task.id, Task.title, Programme.name.label("programme"), Task.state, Task.deadline)
            .join(Programme, Programme.id == Task.programme_id)
            .where(Task.state.in_(states))
            .order_by(Task.deadline.is_(None), Task.deadline, Task.title)
        )
    ).all()
    rows = await db.execute(
        select(MunicipalityTaskStatus.task_id, MunicipalityTaskStatus.status, func.count())
        .where(MunicipalityTaskStatus.task_id.in_([t.id for t in tasks]))
        .group_by(MunicipalityTaskStatus.task_id, MunicipalityTaskStatus.status)
    )
    counts: dict[str, dict[TaskStatus, int]] = {}
    for task_id, status, count in rows:
        counts.setdefault(task_id, {})[status] = count
    return [
        TaskCounts(
            t.id,
            t.title,
            t.programme,
            t.state,
            t.deadline,
            {s: counts.get(t.id, {}).get(s, 0) for s in STATUS_ORDER},
        )
        for t in tasks
    ]


async def laggards(db: AsyncConnection, task_id: str) -> list[Laggard]:
    """Municipalities whose status on the task is Ikke påbegyndt or Påbegyndt, by name."""
    rows = await db.execute(
        select(
            Municipality.code,
            Municipality.name,
            MunicipalityTaskStatus.status,
            MunicipalityTaskStatus.changed_at,
        )
        .join(MunicipalityTaskStatus, MunicipalityTaskStatus.municipality_code == Municipality.code)
        .where(
            MunicipalityTaskStatus.task_id == task_id,
            MunicipalityTaskStatus.status.in_([TaskStatus.NOT_STARTED, TaskStatus.STARTED]),
        )
        .order_by(Municipality.name)
    )
    return [Laggard(r.code, r.name, r.status, r.changed_at) for r in rows]


@dataclass(frozen=True, slots=True)
class ExportRow:
    municipality_code: int
    municipality: str
    task_id: str
    task: str
    programme: str
    status: TaskStatus
    changed_at: datetime | None
    changed_by: str
    responsible: str


async def export_rows(db: AsyncConnection) -> list[ExportRow]:
    """One row per municipality and task that has a status, by municipality code and task."""
    rows = await db.execute(
        select(
            Municipality.code,
            Municipality.name,
            Task.id,
            Task.title,
            Programme.name.label("programme"),
            MunicipalityTaskStatus.status,
            MunicipalityTaskStatus.changed_at,
            MunicipalityTaskStatus.changed_by_name,
            MunicipalityTaskStatus.responsible_name,
        )
        .join(MunicipalityTaskStatus, MunicipalityTaskStatus.municipality_code == Municipality.code)
        .join(Task, Task.id == MunicipalityTaskStatus.task_id)
        .join(Programme, Programme.id == Task.programme_id)
        .order_by(Municipality.code, Task.id)
    )
    return [ExportRow(*r) for r in rows]
