"""Announcing incidents and their updates: each writes the incident, its version and the
delivery rows for every conversation in one transaction, so a notice is either queued for all
subscribed conversations or not at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.delivery import REPLY, UPDATE, DeliveryCounts, delivery_counts, enqueue_followups, enqueue_posts
from storage.models import Incident, IncidentUpdate
from storage.queries import incident_view
from storage.views import IncidentView

_INCIDENT = cast(Table, Incident.__table__)
_UPDATE = cast(Table, IncidentUpdate.__table__)

STATUSES = ("investigating", "identified", "monitoring", "resolved")
SEVERITIES = ("A", "B", "C")  # KOMBIT's priorities: A is a major incident


class IncidentNotFound(LookupError):
    pass


class IncidentClosed(ValueError):
    """The incident is resolved: it takes no more updates."""


@dataclass(frozen=True, slots=True)
class NewIncident:
    title: str
    description: str
    affected_systems: tuple[str, ...]
    started_at: datetime
    severity: str = ""


@dataclass(frozen=True, slots=True)
class NoticeView:
    """What a notice card shows: the incident at one version, with its latest update."""

    incident: IncidentView
    version: int
    updated_at: datetime | None


async def announce(
    engine: AsyncEngine, new: NewIncident, created_at: datetime, queued_at: datetime, created_by: str = ""
) -> tuple[int, int]:
    """Store the incident and queue its notice; returns (incident id, conversations queued)."""
    async with engine.begin() as db:
        result = await db.execute(
            _INCIDENT.insert()
            .values(
                title=new.title,
                description=new.description,
                affected_systems=list(new.affected_systems),
                severity=new.severity,
                status="investigating",
                started_at=new.started_at,
                resolved_at=None,
                latest_update="",
                version=1,
            )
            .returning(_INCIDENT.c.id)
        )
        incident_id = int(result.scalar_one())
        await db.execute(
            _UPDATE.insert().values(
                incident_id=incident_id,
                version=1,
                status="investigating",
                message=new.description,
                created_at=created_at,
                created_by=created_by[:200],
            )
        )
        queued = await enqueue_posts(db, incident_id, new.affected_systems, queued_at)
    return incident_id, queued


async def add_update(
    engine: AsyncEngine,
    incident_id: int,
    status: str,
    message: str,
    resolved_at: datetime | None,
    created_at: datetime,
    queued_at: datetime,
    created_by: str = "",
) -> tuple[int, int]:
    """Record an update; every delivered notice is edited, and a resolution also replied to.
    Returns (the new version, delivery rows queued)."""
    async with engine.begin() as db:
        if db.dialect.name == "sqlite":
            # SQLite has no row locks and begins a write transaction only at its first write:
            # write first (a no-op), so two updates cannot both read the same version.
            await db.execute(
                update(_INCIDENT).where(_INCIDENT.c.id == incident_id).values(version=_INCIDENT.c.version)
            )
        row = (
            await db.execute(
                select(_INCIDENT.c.version, _INCIDENT.c.resolved_at)
                .where(_INCIDENT.c.id == incident_id)
                .with_for_update()
            )
        ).first()
        if row is None:
            raise IncidentNotFound(incident_id)
        if row.resolved_at is not None:
            raise IncidentClosed(incident_id)
        version = int(row.version) + 1
        resolved = status == "resolved"
        await db.execute(
            update(_INCIDENT)
            .where(_INCIDENT.c.id == incident_id)
            .values(
                status=status,
                latest_update=message,
                version=version,
                resolved_at=(resolved_at or created_at) if resolved else None,
            )
        )
        await db.execute(
            _UPDATE.insert().values(
                incident_id=incident_id,
                version=version,
                status=status,
                message=message,
                created_at=created_at,
                created_by=created_by[:200],
            )
        )
        kinds = (UPDATE, REPLY) if resolved else (UPDATE,)
        queued = await enqueue_followups(db, incident_id, version, kinds, queued_at)
    return version, queued


async def notice(db: AsyncConnection, incident_id: int) -> NoticeView | None:
    """The incident as it stands now (its current version)."""
    row = (await db.execute(select(_INCIDENT).where(_INCIDENT.c.id == incident_id))).first()
    if row is None:
        return None
    updated = (
        await db.execute(
            select(_UPDATE.c.created_at).where(
                _UPDATE.c.incident_id == incident_id, _UPDATE.c.version == row.version
            )
        )
    ).first()
    return NoticeView(
        incident_view(row), int(row.version), updated.created_at if updated is not None else None
    )


async def incident_report(db: AsyncConnection, incident_id: int) -> tuple[NoticeView, DeliveryCounts] | None:
    view = await notice(db, incident_id)
    if view is None:
        return None
    return view, await delivery_counts(db, incident_id)


async def updates_of(db: AsyncConnection, incident_id: int) -> list[dict[str, Any]]:
    rows = (
        await db.execute(
            select(_UPDATE.c.version, _UPDATE.c.status, _UPDATE.c.message, _UPDATE.c.created_at)
            .where(_UPDATE.c.incident_id == incident_id)
            .order_by(_UPDATE.c.version)
        )
    ).all()
    return [
        {"version": r.version, "status": r.status, "message": r.message, "at": r.created_at.isoformat()}
        for r in rows
    ]
