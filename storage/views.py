"""Plain, immutable views of catalogue rows for the dialogs: cheaper to load than ORM objects
and free of any session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class MunicipalityRef:
    code: int
    name: str


@dataclass(frozen=True, slots=True)
class SlotView:
    starts_at: datetime
    ends_at: datetime
    all_day: bool
    location: str
    sold_out: bool
    registration_url: str


@dataclass(frozen=True, slots=True)
class EventView:
    id: str
    title: str
    kind: str
    description: str
    audience: str
    location: str
    online: bool
    registration_url: str
    registration_note: str
    registration_deadline: date | None
    slots: tuple[SlotView, ...]


@dataclass(frozen=True, slots=True)
class IncidentView:
    id: int
    title: str
    description: str
    affected_systems: tuple[str, ...]
    severity: str
    status: str
    started_at: datetime
    resolved_at: datetime | None
    latest_update: str
