"""Domain vocabulary and rules of KLIK, in plain typed Python.

These are the rules the slides of KOMBIT's programme-leader meetings describe: the four
KLIK statuses, a task's life (announced -> active -> closed), what counts as outstanding
for a municipality and when a deadline has passed. No database, no HTTP, no Teams.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


class TaskStatus(enum.StrEnum):
    """A municipality's status on a KLIK task, with KLIK's own values."""

    NOT_STARTED = "ikke_paabegyndt"
    STARTED = "paabegyndt"
    COMPLETED = "fuldfoert"
    NOT_ACTIVE = "ikke_aktiv"

    @property
    def danish(self) -> str:
        return _STATUS_DA[self]

    @property
    def english(self) -> str:
        return _STATUS_EN[self]

    @property
    def is_open(self) -> bool:
        """Whether the municipality still has something to do."""
        return self in (TaskStatus.NOT_STARTED, TaskStatus.STARTED)


_STATUS_DA = {
    TaskStatus.NOT_STARTED: "Ikke påbegyndt",
    TaskStatus.STARTED: "Påbegyndt",
    TaskStatus.COMPLETED: "Fuldført",
    TaskStatus.NOT_ACTIVE: "Ikke aktiv",
}
_STATUS_EN = {
    TaskStatus.NOT_STARTED: "Not started",
    TaskStatus.STARTED: "Started",
    TaskStatus.COMPLETED: "Completed",
    TaskStatus.NOT_ACTIVE: "Not active",
}
# KLIK's slides list the statuses in this order.
STATUS_ORDER = (
    TaskStatus.COMPLETED,
    TaskStatus.STARTED,
    TaskStatus.NOT_STARTED,
    TaskStatus.NOT_ACTIVE,
)


class TaskState(enum.StrEnum):
    """Where a task is in its life."""

    ANNOUNCED = "announced"  # "kommende": known, not yet published in KLIK
    ACTIVE = "active"  # "aktuel": municipalities work on it
    CLOSED = "closed"  # "afsluttet": the campaign is over


def end_of_day(day: date) -> datetime:
    """The last moment of a Danish calendar day: a deadline "den 31/1-2019" holds all that day."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=COPENHAGEN)


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=COPENHAGEN)


def is_overdue(deadline: date | None, status: TaskStatus | None, now: datetime) -> bool:
    """A deadline has passed for a municipality that has not completed the task."""
    if deadline is None or status is None or not status.is_open:
        return False
    return now >= end_of_day(deadline)


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open time window [start, end); either side may be open."""

    start: datetime | None
    end: datetime | None

    def contains_day(self, day: date) -> bool:
        """Whether any part of the calendar day lies inside the window."""
        if self.end is not None and start_of_day(day) >= self.end:
            return False
        return not (self.start is not None and end_of_day(day) <= self.start)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        if self.end is not None and start >= self.end:
            return False
        return not (self.start is not None and end <= self.start)


def deadline_sort_key(deadline: date | None, title: str) -> tuple[int, date, str]:
    """Tasks with a date first, by date; self-set deadlines after them; then by title."""
    return (0, deadline, title) if deadline is not None else (1, date.max, title)


@dataclass(frozen=True, slots=True)
class TaskView:
    """A task as one municipality sees it: the catalogue facts plus its own status."""

    id: str
    title: str
    programme: str
    programme_short: str
    description: str
    mandatory: bool
    critical_path: bool
    deadline: date | None
    deadline_rule: str
    contact: str
    state: TaskState
    notes: str
    keywords: tuple[str, ...]
    status: TaskStatus | None  # None: the task has no status for them (announced, or no tenant)
    # The municipality's row: its version (for cards acting on it), the last change, who is responsible.
    version: int | None = None
    changed_at: datetime | None = None
    changed_by_name: str = ""
    responsible_name: str = ""
    # What a municipality says when it has done the task ("skemaet er sendt til KDI").
    completion_signals: tuple[str, ...] = ()

    @property
    def changeable(self) -> bool:
        """A municipality can set its status on active and finished tasks, not on announced ones."""
        return self.state is not TaskState.ANNOUNCED

    def overdue(self, now: datetime) -> bool:
        return self.state is TaskState.ACTIVE and is_overdue(self.deadline, self.status, now)


def outstanding(tasks: list[TaskView]) -> list[TaskView]:
    """Active tasks the municipality has not completed, by deadline (self-set ones last)."""
    return sorted(
        (t for t in tasks if t.state is TaskState.ACTIVE and t.status is not None and t.status.is_open),
        key=lambda t: deadline_sort_key(t.deadline, t.title),
    )


def active_tasks(tasks: list[TaskView]) -> list[TaskView]:
    """The active tasks, by deadline (self-set ones last)."""
    return sorted(
        (t for t in tasks if t.state is TaskState.ACTIVE),
        key=lambda t: deadline_sort_key(t.deadline, t.title),
    )


def not_updated_closed(tasks: list[TaskView]) -> list[TaskView]:
    """Closed campaigns the municipality never marked completed ("husk at opdatere status")."""
    return [t for t in tasks if t.state is TaskState.CLOSED and t.status is not None and t.status.is_open]


def due_in(tasks: list[TaskView], period: Period) -> list[TaskView]:
    """Outstanding tasks whose fixed deadline falls in the period."""
    return [t for t in outstanding(tasks) if t.deadline is not None and period.contains_day(t.deadline)]


def self_set_deadline(tasks: list[TaskView]) -> list[TaskView]:
    """Outstanding tasks whose deadline the municipality sets itself."""
    return [t for t in outstanding(tasks) if t.deadline is None and t.deadline_rule]
