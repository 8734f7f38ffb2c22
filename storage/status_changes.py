"""Changing a municipality's status on a task: one transaction, recorded in the history.

The rules: only active and closed tasks can change (an announced task is not in KLIK yet);
a change made against a version someone else has already changed is refused, not lost; the
status row, its history row and the answer agree, or nothing is written.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import describe_error
from storage.domain import TaskState, TaskStatus
from storage.models import Municipality, MunicipalityTaskStatus, StatusChange, Task


@dataclass(frozen=True, slots=True)
class Actor:
    """Who changes: the Teams user and the tenant they came from."""

    user_id: str
    name: str
    aad_object_id: str | None
    tenant_id: str | None


class Outcome(enum.StrEnum):
    CHANGED = "changed"
    UNCHANGED = "unchanged"  # it already had that status
    STALE = "stale"  # someone else changed it after the card was shown
    NOT_CHANGEABLE = "not_changeable"  # announced: not active in KLIK yet
    UNKNOWN_TASK = "unknown_task"


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    status: TaskStatus
    version: int
    changed_at: datetime | None
    changed_by_name: str
    responsible_name: str


@dataclass(frozen=True, slots=True)
class ChangeResult:
    outcome: Outcome
    task_id: str
    task_title: str
    old: TaskStatus | None
    new: TaskStatus | None
    current: StatusSnapshot | None  # the state after the attempt


class ChangeFailed(Exception):
    """The database failed mid-way: nothing was written."""


_MAX_ATTEMPTS = 5


async def change_status(
    db: AsyncConnection,
    municipality_code: int,
    task_id: str,
    new_status: TaskStatus,
    actor: Actor,
    source: str,
    now: datetime,
    *,
    expected_version: int | None = None,
) -> ChangeResult:
    """Set the status; `expected_version` (from a card) refuses the change if it is stale.

    Without an expected version (a typed command: "set it to X now") a concurrent change is
    retried on the newer row, so both changes land in the history in order.

    It runs on the turn's own connection (one connection per turn: a turn that held one
    connection while waiting for a second could starve the pool under load), in a transaction
    of its own.
    """
    for _ in range(_MAX_ATTEMPTS):
        try:
            await _end_reads(db)
            async with db.begin():
                result = await _attempt(
                    db, municipality_code, task_id, new_status, actor, source, now, expected_version
                )
        except Exception as error:
            # Not str(error): a database error quotes the statement's values (the user's name).
            raise ChangeFailed(describe_error(error)) from error
        if result is not None:
            return result
    raise ChangeFailed("the status kept changing under us")


async def _attempt(
    db: AsyncConnection,
    code: int,
    task_id: str,
    new_status: TaskStatus,
    actor: Actor,
    source: str,
    now: datetime,
    expected_version: int | None,
) -> ChangeResult | None:
    found = await _changeable(db, code, task_id)
    if isinstance(found, ChangeResult):
        return found
    title, current = found
    if expected_version is not None and expected_version != current.version:
        return ChangeResult(Outcome.STALE, task_id, title, None, None, current)
    if current.status is new_status:
        return ChangeResult(Outcome.UNCHANGED, task_id, title, current.status, new_status, current)
    updated = await db.execute(
        update(MunicipalityTaskStatus)
        .where(
            MunicipalityTaskStatus.municipality_code == code,
            MunicipalityTaskStatus.task_id == task_id,
            MunicipalityTaskStatus.version == current.version,
        )
        .values(status=new_status, version=current.version + 1, changed_at=now, changed_by_name=actor.name)
    )
    if updated.rowcount != 1:
        if expected_version is not None:
            fresh = await read_status(db, code, task_id)
            return ChangeResult(Outcome.STALE, task_id, title, None, None, fresh)
        return None  # changed between our read and write: try again on the new row
    await record_history(db, code, task_id, current.status, new_status, actor, source, now)
    after = StatusSnapshot(new_status, current.version + 1, now, actor.name, current.responsible_name)
    return ChangeResult(Outcome.CHANGED, task_id, title, current.status, new_status, after)


async def _changeable(
    db: AsyncConnection, code: int, task_id: str
) -> tuple[str, StatusSnapshot] | ChangeResult:
    """The task's title and the municipality's row, or why it cannot change. An active task with
    no row for the municipality yet gets its first one: Ikke påbegyndt."""
    task = (await db.execute(select(Task.title, Task.state).where(Task.id == task_id))).first()
    if task is None:
        return ChangeResult(Outcome.UNKNOWN_TASK, task_id, "", None, None, None)
    if task.state is TaskState.ANNOUNCED:
        return ChangeResult(Outcome.NOT_CHANGEABLE, task_id, task.title, None, None, None)
    current = await read_status(db, code, task_id)
    if current is None:
        # Two first changes at once both find no row: the first insert wins, the other reads it.
        dialect_insert = pg_insert if db.dialect.name == "postgresql" else sqlite_insert
        await db.execute(
            dialect_insert(MunicipalityTaskStatus)
            .values(municipality_code=code, task_id=task_id, status=TaskStatus.NOT_STARTED, version=1)
            .on_conflict_do_nothing()
        )
        current = await read_status(db, code, task_id)
        assert current is not None
    return task.title, current


async def record_history(
    db: AsyncConnection,
    code: int,
    task_id: str,
    old: TaskStatus | None,
    new: TaskStatus,
    actor: Actor,
    source: str,
    now: datetime,
) -> None:
    await db.execute(
        insert(StatusChange).values(
            municipality_code=code,
            task_id=task_id,
            old_status=old,
            new_status=new,
            changed_at=now,
            user_id=actor.user_id,
            aad_object_id=actor.aad_object_id,
            user_name=actor.name,
            tenant_id=actor.tenant_id,
            source=source,
        )
    )


async def read_status(db: AsyncConnection, code: int, task_id: str) -> StatusSnapshot | None:
    row = (
        await db.execute(
            select(
                MunicipalityTaskStatus.status,
                MunicipalityTaskStatus.version,
                MunicipalityTaskStatus.changed_at,
                MunicipalityTaskStatus.changed_by_name,
                MunicipalityTaskStatus.responsible_name,
            ).where(
                MunicipalityTaskStatus.municipality_code == code, MunicipalityTaskStatus.task_id == task_id
            )
        )
    ).first()
    if row is None:
        return None
    return StatusSnapshot(row.status, row.version, row.changed_at, row.changed_by_name, row.responsible_name)


async def _end_reads(db: AsyncConnection) -> None:
    """Close the read transaction the turn's queries began, so the change gets its own."""
    if db.in_transaction():
        await db.commit()


async def set_responsible(
    db: AsyncConnection, code: int, task_id: str, name: str, aad_object_id: str | None
) -> ChangeResult:
    """Name who in the municipality is responsible for a task."""
    await _end_reads(db)
    async with db.begin():
        found = await _changeable(db, code, task_id)
        if isinstance(found, ChangeResult):
            return found
        title, _ = found
        await db.execute(
            update(MunicipalityTaskStatus)
            .where(
                MunicipalityTaskStatus.municipality_code == code, MunicipalityTaskStatus.task_id == task_id
            )
            .values(responsible_name=name, responsible_aad_id=aad_object_id)
        )
        after = await read_status(db, code, task_id)
    return ChangeResult(Outcome.CHANGED, task_id, title, None, None, after)


@dataclass(frozen=True, slots=True)
class Responsibility:
    task_id: str
    task_title: str
    status: TaskStatus


async def responsibilities(
    db: AsyncConnection, code: int, name: str, aad_object_id: str | None
) -> list[Responsibility]:
    """The tasks a person is responsible for: by AAD id when known, else by name."""
    who = (
        MunicipalityTaskStatus.responsible_aad_id == aad_object_id
        if aad_object_id
        else MunicipalityTaskStatus.responsible_name == name
    )
    if aad_object_id and name:
        who = who | (
            (MunicipalityTaskStatus.responsible_aad_id.is_(None))
            & (MunicipalityTaskStatus.responsible_name == name)
        )
    rows = await db.execute(
        select(Task.id, Task.title, MunicipalityTaskStatus.status)
        .join(MunicipalityTaskStatus, MunicipalityTaskStatus.task_id == Task.id)
        .where(MunicipalityTaskStatus.municipality_code == code, who)
        .order_by(Task.deadline.is_(None), Task.deadline, Task.title)
    )
    return [Responsibility(r.id, r.title, r.status) for r in rows]


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    old: TaskStatus | None
    new: TaskStatus
    changed_at: datetime
    user_name: str
    source: str


async def history(db: AsyncConnection, code: int, task_id: str) -> list[HistoryEntry]:
    rows = await db.execute(
        select(
            StatusChange.old_status,
            StatusChange.new_status,
            StatusChange.changed_at,
            StatusChange.user_name,
            StatusChange.source,
        )
        .where(StatusChange.municipality_code == code, StatusChange.task_id == task_id)
        .order_by(StatusChange.changed_at, StatusChange.id)
    )
    return [HistoryEntry(r.old_status, r.new_status, r.changed_at, r.user_name, r.source) for r in rows]


async def municipality_name(db: AsyncConnection, code: int) -> str | None:
    return await db.scalar(select(Municipality.name).where(Municipality.code == code))
