"""Plain, immutable views of catalogue rows for the dialogs: cheaper to load than ORM objects
and free of any session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from storage.domain import TaskView


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


@dataclass(frozen=True, slots=True)
class ProgrammeView:
    id: str
    name: str
    short_name: str
    note: str


@dataclass(frozen=True, slots=True)
class CatalogueWords:
    """The catalogue as the understanding reads it: every task (no municipality's status),
    every event that is not cancelled, the programmes and the municipalities."""

    version: int
    tasks: tuple[TaskView, ...]
    events: tuple[EventView, ...]
    programmes: tuple[ProgrammeView, ...]
    municipalities: tuple[MunicipalityRef, ...]
