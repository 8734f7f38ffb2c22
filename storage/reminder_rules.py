"""When reminders and the weekly digest fall due for one conversation: plain rules, no I/O.

A conversation's settings say which reminders it wants and at what local time. Every reminder
is an *occasion*: a moment (a local time of day on a local date, in the conversation's time
zone) with a stable key. A run at `now` that last ran at `since` sends the occasions with
since < moment <= now whose keys it has not sent before, minus those that have become
pointless. The storage side records the keys it sent and calls `due` again at `next_run`.

Rules (the numbers are the module constants below):
- deadline reminders: for an active task the municipality has not completed (status open) with a
  fixed deadline D, one occasion on D - N for each N in `deadline_days`, while D has not passed
  (local today <= D). When several are due at once (the bot was down), only the nearest N is sent:
  a reminder superseded by a nearer one that is already due is never sent later.
- a missed mandatory deadline: one occasion on D + 1 while the task is still open; pointless
  after D + MISSED_DROP_DAYS.
- an event's registration deadline R: one occasion on R - REGISTRATION_NOTICE_DAYS, while R has not
  passed, some slot is not sold out and some slot is still ahead.
- the day before an event: one occasion per slot on the local day before it starts (a whole-day
  slot by its Danish date), until the slot starts.
- the weekly digest: at digest_weekday / digest_minute local time, sent up to DIGEST_MAX_LATE late;
  one per ISO week; nothing is sent when it would be empty.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.domain import COPENHAGEN, TaskState, TaskView, deadline_sort_key
from storage.views import EventView, IncidentView, SlotView

DEFAULT_TIME_ZONE = "Europe/Copenhagen"
DEFAULT_DEADLINE_DAYS = (7, 1)
# Registration reminders go out this many days before the registration deadline: enough to
# get a colleague's go-ahead, near enough not to be forgotten again.
REGISTRATION_NOTICE_DAYS = 3
# A missed deadline is worth a nudge during the week KOMBIT follows up; after that it is noise.
MISSED_DROP_DAYS = 7
DIGEST_HORIZON_DAYS = 14
# A digest is a Monday-morning read; more than a day late it is news no one asked for.
DIGEST_MAX_LATE = timedelta(hours=24)
MIN_DEADLINE_DAYS, MAX_DEADLINE_DAYS, MAX_DEADLINE_VALUES = 1, 60, 5
MINUTES_PER_DAY = 24 * 60

ReminderKind = Literal["deadline_soon", "deadline_missed", "registration_closing", "event_tomorrow"]


@functools.lru_cache(maxsize=256)
def _zone_or_none(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # unknown, malformed, or a directory
        return None


def zone(name: str | None) -> ZoneInfo:
    """The IANA time zone Teams names, or Europe/Copenhagen for a missing or unknown name."""
    if not name or len(name) > 64:
        return COPENHAGEN
    return _zone_or_none(name.strip()) or COPENHAGEN


def known_zone(name: str | None) -> str:
    """The name to store: the given one if it is a known IANA zone, else the default."""
    if name and len(name) <= 64 and _zone_or_none(name.strip()) is not None:
        return name.strip()
    return DEFAULT_TIME_ZONE


@dataclass(frozen=True, slots=True)
class ReminderSettings:
    deadlines: bool = False  # N days before deadlines + the day after a missed mandatory one
    deadline_days: tuple[int, ...] = DEFAULT_DEADLINE_DAYS
    events: bool = False  # registration closing soon + the day before an event
    digest: bool = False
    digest_weekday: int = 0  # 0 = Monday
    digest_minute: int = 8 * 60  # local minutes after midnight
    send_minute: int = 8 * 60  # local time of day for deadline and event reminders
    time_zone: str = DEFAULT_TIME_ZONE

    def __post_init__(self) -> None:
        if not 0 <= self.digest_weekday <= 6:
            raise ValueError(f"digest_weekday must be 0-6, not {self.digest_weekday}")
        for minute in (self.digest_minute, self.send_minute):
            if not 0 <= minute < MINUTES_PER_DAY:
                raise ValueError(f"a time of day must be 0-{MINUTES_PER_DAY - 1} minutes, not {minute}")
        if not self.deadline_days or any(n < 0 for n in self.deadline_days):
            raise ValueError(f"deadline_days must be days >= 0, not {self.deadline_days}")

    @property
    def enabled(self) -> bool:
        return self.deadlines or self.events or self.digest

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.time_zone)


def format_days(days: Sequence[int]) -> str:
    """ "7,1": deadline_days as stored in a text column."""
    return ",".join(str(n) for n in days)


def parse_days(text: str) -> tuple[int, ...]:
    """The stored "7,1" back as (7, 1), largest first; the defaults for anything unreadable."""
    try:
        days = sorted({int(part) for part in text.split(",") if part.strip()}, reverse=True)
    except ValueError:
        return DEFAULT_DEADLINE_DAYS
    if not days or any(n < 0 for n in days):
        return DEFAULT_DEADLINE_DAYS
    return tuple(days)


@dataclass(frozen=True, slots=True)
class ReminderItem:
    # Stable per occasion: "deadline:<task id>:<deadline iso>:<days>", "missed:<task id>:<deadline iso>",
    # "registration:<event id>:<registration deadline iso>", "event:<event id>:<slot start, UTC iso>".
    key: str
    kind: ReminderKind
    task: TaskView | None = None
    event: EventView | None = None
    days: int | None = None  # days from the local today to the deadline / registration deadline
    slot: SlotView | None = None  # event_tomorrow: the slot that starts tomorrow
    at: datetime | None = field(default=None, compare=False)  # the occasion's moment, UTC


@dataclass(frozen=True, slots=True)
class Digest:
    key: str  # "digest:<ISO year>-W<week>"
    tasks: tuple[TaskView, ...]  # open active tasks with a deadline within 14 days, overdue ones too
    events: tuple[EventView, ...]  # events whose registration closes within 14 days (not passed)
    incidents: tuple[IncidentView, ...]  # open incidents

    @property
    def empty(self) -> bool:
        return not (self.tasks or self.events or self.incidents)


@dataclass(frozen=True, slots=True)
class Due:
    items: tuple[ReminderItem, ...]
    digest: Digest | None

    @property
    def empty(self) -> bool:
        return not self.items and self.digest is None

    def keys(self) -> list[str]:
        """Every key to record as sent once the message is queued."""
        return [item.key for item in self.items] + ([self.digest.key] if self.digest else [])


NOTHING_DUE = Due(items=(), digest=None)


# --- moments ------------------------------------------------------------------------------------


def _at(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """A local wall-clock time on a local date, as a UTC moment.

    zoneinfo resolves the skipped hour of a spring-forward night with the offset before the
    change and the repeated hour of a fall-back night as its first occurrence (fold=0), so
    every (day, minute) gives one moment, the same on every run.
    """
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
    return local.astimezone(UTC)


def _local_date(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def _require_aware(**moments: datetime) -> None:
    for name, moment in moments.items():
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware")


def next_run(settings: ReminderSettings, after: datetime) -> datetime:
    """The next moment strictly after `after` at which something could fall due, in UTC.

    That is the next local send_minute (when deadline or event reminders are on) or the next
    digest time (when the digest is on); with nothing on, the next send_minute, so a caller
    that schedules anyway wakes at a sane time.
    """
    _require_aware(after=after)
    tz = settings.tz
    today = _local_date(after, tz)
    candidates: list[datetime] = []
    if settings.deadlines or settings.events or not settings.enabled:
        # Starting a day early covers a local date that moved under a DST change.
        for offset in range(-1, 3):
            moment = _at(today + timedelta(days=offset), settings.send_minute, tz)
            if moment > after:
                candidates.append(moment)
                break
    if settings.digest:
        for offset in range(-1, 9):
            day = today + timedelta(days=offset)
            if day.weekday() != settings.digest_weekday:
                continue
            moment = _at(day, settings.digest_minute, tz)
            if moment > after:
                candidates.append(moment)
                break
    return min(candidates)


def _within(moment: datetime, since: datetime, now: datetime) -> bool:
    return since < moment <= now


# --- the rules ----------------------------------------------------------------------------------


def _open_with_deadline(task: TaskView) -> bool:
    return (
        task.state is TaskState.ACTIVE
        and task.deadline is not None
        and task.status is not None
        and task.status.is_open
    )


def _deadline_items(
    settings: ReminderSettings, tasks: Sequence[TaskView], since: datetime, now: datetime, today: date
) -> list[ReminderItem]:
    tz = settings.tz
    items: list[ReminderItem] = []
    for task in tasks:
        if not _open_with_deadline(task):
            continue
        deadline = task.deadline
        assert deadline is not None  # for mypy: _open_with_deadline checked it
        if today <= deadline:
            # The nearest reminder whose moment has come supersedes every farther one, whether
            # or not it is new: so a farther one missed while the bot was down never follows it.
            reached = [
                n
                for n in sorted(set(settings.deadline_days))
                if _at(deadline - timedelta(days=n), settings.send_minute, tz) <= now
            ]
            if reached:
                n = reached[0]
                moment = _at(deadline - timedelta(days=n), settings.send_minute, tz)
                if _within(moment, since, now):
                    items.append(
                        ReminderItem(
                            key=f"deadline:{task.id}:{deadline.isoformat()}:{n}",
                            kind="deadline_soon",
                            task=task,
                            days=(deadline - today).days,
                            at=moment,
                        )
                    )
        elif task.mandatory and today <= deadline + timedelta(days=MISSED_DROP_DAYS):
            moment = _at(deadline + timedelta(days=1), settings.send_minute, tz)
            if _within(moment, since, now):
                items.append(
                    ReminderItem(
                        key=f"missed:{task.id}:{deadline.isoformat()}",
                        kind="deadline_missed",
                        task=task,
                        days=(deadline - today).days,
                        at=moment,
                    )
                )
    return items


def _registration_open(event: EventView, now: datetime, today: date) -> bool:
    """Registration still makes sense: its deadline has not passed, a slot ahead has seats."""
    deadline = event.registration_deadline
    if deadline is None or today > deadline:
        return False
    return any(not slot.sold_out and slot.starts_at > now for slot in event.slots)


def _slot_day(slot: SlotView, tz: ZoneInfo) -> date:
    # A whole-day slot is a Danish calendar date, stored from Copenhagen midnight; read in
    # another zone it would move to the day before.
    if slot.all_day:
        return slot.starts_at.astimezone(COPENHAGEN).date()
    return slot.starts_at.astimezone(tz).date()


def _event_items(
    settings: ReminderSettings, events: Sequence[EventView], since: datetime, now: datetime, today: date
) -> list[ReminderItem]:
    tz = settings.tz
    items: list[ReminderItem] = []
    for event in events:
        deadline = event.registration_deadline
        if deadline is not None and _registration_open(event, now, today):
            moment = _at(deadline - timedelta(days=REGISTRATION_NOTICE_DAYS), settings.send_minute, tz)
            if _within(moment, since, now):
                items.append(
                    ReminderItem(
                        key=f"registration:{event.id}:{deadline.isoformat()}",
                        kind="registration_closing",
                        event=event,
                        days=(deadline - today).days,
                        at=moment,
                    )
                )
        for slot in event.slots:
            if slot.starts_at <= now:
                continue
            moment = _at(_slot_day(slot, tz) - timedelta(days=1), settings.send_minute, tz)
            if _within(moment, since, now):
                start = slot.starts_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
                items.append(
                    ReminderItem(
                        key=f"event:{event.id}:{start}",
                        kind="event_tomorrow",
                        event=event,
                        days=(_slot_day(slot, tz) - today).days,
                        slot=slot,
                        at=moment,
                    )
                )
    return items


def last_digest_time(settings: ReminderSettings, now: datetime) -> datetime:
    """The latest weekly digest moment at or before `now`, in UTC."""
    tz = settings.tz
    today = _local_date(now, tz)
    for offset in range(0, 9):
        day = today - timedelta(days=offset)
        if day.weekday() == settings.digest_weekday:
            moment = _at(day, settings.digest_minute, tz)
            if moment <= now:
                return moment
    raise AssertionError("a weekday recurs within 8 days")  # pragma: no cover


def digest_key(moment: datetime, tz: ZoneInfo) -> str:
    year, week, _ = _local_date(moment, tz).isocalendar()
    return f"digest:{year}-W{week:02d}"


def open_incidents(incidents: Sequence[IncidentView]) -> tuple[IncidentView, ...]:
    return tuple(i for i in incidents if i.resolved_at is None and i.status != "resolved")


def build_digest(
    key: str,
    *,
    tasks: Sequence[TaskView],
    events: Sequence[EventView],
    incidents: Sequence[IncidentView],
    now: datetime,
    today: date,
) -> Digest:
    horizon = today + timedelta(days=DIGEST_HORIZON_DAYS)
    chosen = sorted(
        (t for t in tasks if _open_with_deadline(t) and t.deadline is not None and t.deadline <= horizon),
        key=lambda t: deadline_sort_key(t.deadline, t.title),
    )
    closing = sorted(
        (
            e
            for e in events
            if e.registration_deadline is not None
            and e.registration_deadline <= horizon
            and _registration_open(e, now, today)
        ),
        key=lambda e: (e.registration_deadline or date.max, e.title),
    )
    return Digest(key=key, tasks=tuple(chosen), events=tuple(closing), incidents=open_incidents(incidents))


_KIND_ORDER: dict[ReminderKind, int] = {
    "deadline_missed": 0,
    "deadline_soon": 1,
    "registration_closing": 2,
    "event_tomorrow": 3,
}


def _order(item: ReminderItem) -> tuple[int, int, str]:
    return (_KIND_ORDER[item.kind], item.days if item.days is not None else 0, item.key)


def due(
    settings: ReminderSettings,
    *,
    tasks: Sequence[TaskView],
    events: Sequence[EventView],
    incidents: Sequence[IncidentView],
    since: datetime,
    now: datetime,
    sent: Collection[str],
) -> Due:
    """What to send in one message for a run at `now` after the last run at `since`.

    `tasks` are the conversation's municipality's tasks with its statuses (empty when it has
    none: an unregistered tenant or KOMBIT staff get event reminders and a digest of events and
    incidents only); `sent` are the keys recorded before.
    """
    _require_aware(since=since, now=now)
    if now <= since or not settings.enabled:
        return NOTHING_DUE
    tz = settings.tz
    today = _local_date(now, tz)
    items: list[ReminderItem] = []
    if settings.deadlines:
        items += _deadline_items(settings, tasks, since, now, today)
    if settings.events:
        items += _event_items(settings, events, since, now, today)
    fresh = tuple(sorted((i for i in items if i.key not in sent), key=_order))
    digest = None
    if settings.digest:
        moment = last_digest_time(settings, now)
        key = digest_key(moment, tz)
        if _within(moment, since, now) and now - moment <= DIGEST_MAX_LATE and key not in sent:
            built = build_digest(key, tasks=tasks, events=events, incidents=incidents, now=now, today=today)
            digest = None if built.empty else built
    return Due(items=fresh, digest=digest)


# --- storage helpers ----------------------------------------------------------------------------


def settings_from_row(row: dict[str, Any]) -> ReminderSettings:
    """Settings from stored values, forgiving: an out-of-range value falls back to its default."""
    defaults = ReminderSettings()

    def minute(value: Any, default: int) -> int:
        return value if isinstance(value, int) and 0 <= value < MINUTES_PER_DAY else default

    weekday = row.get("digest_weekday")
    days = row.get("deadline_days", "")
    time_zone = row.get("time_zone")
    return ReminderSettings(
        deadlines=bool(row.get("deadlines", False)),
        deadline_days=parse_days(days) if isinstance(days, str) else defaults.deadline_days,
        events=bool(row.get("events", False)),
        digest=bool(row.get("digest", False)),
        digest_weekday=weekday if isinstance(weekday, int) and 0 <= weekday <= 6 else 0,
        digest_minute=minute(row.get("digest_minute"), defaults.digest_minute),
        send_minute=minute(row.get("send_minute"), defaults.send_minute),
        time_zone=known_zone(time_zone if isinstance(time_zone, str) else None),
    )
