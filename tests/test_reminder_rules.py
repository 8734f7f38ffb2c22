"""When deadline and event reminders and the weekly digest fall due (storage.reminder_rules):
fixed clocks, nothing twice, catching up after downtime, daylight saving and time zones."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from storage.domain import TaskState, TaskStatus, TaskView
from storage.reminder_rules import (
    DEFAULT_TIME_ZONE,
    Digest,
    Due,
    ReminderItem,
    ReminderSettings,
    due,
    format_days,
    known_zone,
    next_run,
    parse_days,
    settings_from_row,
    zone,
)
from storage.views import EventView, IncidentView, SlotView

CPH = ZoneInfo("Europe/Copenhagen")
NEW_YORK = ZoneInfo("America/New_York")
DEADLINE = date(2019, 1, 31)  # a Thursday, the slides' deadline for "Udpeg kontaktpunkt"
DEADLINES = ReminderSettings(deadlines=True)
EVENTS = ReminderSettings(events=True)
DIGEST = ReminderSettings(digest=True)


def local(y: int, m: int, d: int, h: int = 8, mi: int = 0, tz: ZoneInfo = CPH) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=tz)


def utc(y: int, m: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=UTC)


def task(
    id: str = "kontaktpunkt",
    deadline: date | None = DEADLINE,
    status: TaskStatus | None = TaskStatus.NOT_STARTED,
    *,
    mandatory: bool = True,
    state: TaskState = TaskState.ACTIVE,
) -> TaskView:
    return TaskView(
        id=id,
        title=f"Opgave {id}",
        programme="Monopolbrudsprogrammet",
        programme_short="MBP",
        description="",
        mandatory=mandatory,
        critical_path=False,
        deadline=deadline,
        deadline_rule="" if deadline else "Sættes af kommunen",
        contact="KDI@kombit.dk",
        state=state,
        notes="",
        keywords=(),
        status=status,
    )


def slot(start: datetime, hours: int = 1, *, sold_out: bool = False, all_day: bool = False) -> SlotView:
    return SlotView(
        starts_at=start,
        ends_at=start + timedelta(hours=hours),
        all_day=all_day,
        location="",
        sold_out=sold_out,
        registration_url="",
    )


def event(
    id: str = "workshop", registration_deadline: date | None = date(2019, 1, 28), *slots: SlotView
) -> EventView:
    return EventView(
        id=id,
        title=f"Arrangement {id}",
        kind="workshop",
        description="",
        audience="",
        location="Vadehavet, KOMBIT",
        online=False,
        registration_url="https://kombit.dk/tilmeld",
        registration_note="",
        registration_deadline=registration_deadline,
        slots=slots or (slot(local(2019, 2, 5, 9), 7),),
    )


def incident(id: int = 1, *, resolved: bool = False) -> IncidentView:
    return IncidentView(
        id=id,
        title="Nedbrud på Adgangsstyring",
        description="BBR, DAR og SAPA er utilgængelige",
        affected_systems=("Adgangsstyring", "BBR"),
        severity="A",
        status="resolved" if resolved else "investigating",
        started_at=local(2019, 2, 3, 2, 21),
        resolved_at=local(2019, 2, 3, 23, 35) if resolved else None,
        latest_update="",
    )


def run(
    settings: ReminderSettings,
    since: datetime,
    now: datetime,
    *,
    tasks: Sequence[TaskView] = (),
    events: Sequence[EventView] = (),
    incidents: Sequence[IncidentView] = (),
    sent: Collection[str] = (),
) -> Due:
    return due(settings, tasks=tasks, events=events, incidents=incidents, since=since, now=now, sent=sent)


def keys(result: Due) -> list[str]:
    return result.keys()


# --- settings and zones -------------------------------------------------------------------------


def test_defaults() -> None:
    settings = ReminderSettings()
    assert (settings.deadlines, settings.events, settings.digest) == (False, False, False)
    assert settings.deadline_days == (7, 1)
    assert (settings.digest_weekday, settings.digest_minute, settings.send_minute) == (0, 480, 480)
    assert settings.time_zone == "Europe/Copenhagen" == DEFAULT_TIME_ZONE
    assert not settings.enabled
    assert DEADLINES.enabled and EVENTS.enabled and DIGEST.enabled
    # Nothing on: nothing due, whatever the data.
    assert run(settings, local(2019, 1, 1), local(2019, 3, 1), tasks=[task()], events=[event()]).empty


@pytest.mark.parametrize(
    "bad",
    [{"digest_weekday": 7}, {"digest_minute": 24 * 60}, {"send_minute": -1}, {"deadline_days": ()}],
)
def test_settings_refuse_impossible_values(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - every field raises its own message
        ReminderSettings(**bad)  # type: ignore[arg-type]


def test_zone_falls_back_to_copenhagen() -> None:
    assert zone("America/New_York") == NEW_YORK
    for name in (None, "", "Mars/Olympus", "Europe", "../etc/passwd", "europe/copenhagen", "x" * 100):
        assert zone(name) == CPH, name
    assert known_zone("America/New_York") == "America/New_York"
    assert known_zone("Mars/Olympus") == "Europe/Copenhagen"


def test_stored_values_round_trip_and_bad_ones_fall_back() -> None:
    assert format_days((7, 1)) == "7,1"
    assert parse_days("1,7,7") == (7, 1)
    assert parse_days("") == parse_days("x") == parse_days("-1") == (7, 1)
    row = {
        "deadlines": True,
        "deadline_days": "3,1",
        "events": False,
        "digest": True,
        "digest_weekday": 4,
        "digest_minute": 870,
        "send_minute": 2000,
        "time_zone": "Nowhere/Special",
    }
    assert settings_from_row(row) == ReminderSettings(
        deadlines=True, deadline_days=(3, 1), digest=True, digest_weekday=4, digest_minute=870
    )


def test_due_needs_aware_times() -> None:
    with pytest.raises(ValueError, match="aware"):
        run(DEADLINES, datetime(2019, 1, 24), local(2019, 1, 25))


# --- deadline reminders -------------------------------------------------------------------------


def test_deadline_reminder_at_send_time_seven_and_one_day_before() -> None:
    tasks = [task()]
    # 24 January 08:00 is 7 days before 31 January.
    assert run(DEADLINES, local(2019, 1, 24, 7), local(2019, 1, 24, 7, 59), tasks=tasks).empty
    week = run(DEADLINES, local(2019, 1, 24, 7), local(2019, 1, 24, 8), tasks=tasks)
    assert week.items == (
        ReminderItem(key="deadline:kontaktpunkt:2019-01-31:7", kind="deadline_soon", task=tasks[0], days=7),
    )
    assert week.items[0].at == utc(2019, 1, 24, 7)
    day = run(DEADLINES, local(2019, 1, 30, 7), local(2019, 1, 30, 8, 30), tasks=tasks)
    assert keys(day) == ["deadline:kontaktpunkt:2019-01-31:1"]
    assert day.items[0].days == 1
    # In between nothing falls due.
    assert run(DEADLINES, local(2019, 1, 24, 8), local(2019, 1, 30, 7, 59), tasks=tasks).empty


def test_custom_days() -> None:
    settings = ReminderSettings(deadlines=True, deadline_days=(3,))
    result = run(settings, local(2019, 1, 20), local(2019, 1, 31, 12), tasks=[task()])
    assert keys(result) == ["deadline:kontaktpunkt:2019-01-31:3"]


def test_nothing_twice() -> None:
    tasks = [task()]
    first = run(DEADLINES, local(2019, 1, 24, 7), local(2019, 1, 24, 8), tasks=tasks)
    assert len(first.items) == 1
    again = run(DEADLINES, local(2019, 1, 24, 7), local(2019, 1, 24, 8, 1), tasks=tasks, sent=first.keys())
    assert again.empty
    # Nor with the next run starting where this one ended.
    assert run(DEADLINES, local(2019, 1, 24, 8), local(2019, 1, 24, 20), tasks=tasks).empty


@pytest.mark.parametrize(
    "not_open",
    [
        task(status=TaskStatus.COMPLETED),
        task(status=TaskStatus.NOT_ACTIVE),
        task(status=None),  # no status row: not this municipality's task
        task(state=TaskState.ANNOUNCED),
        task(state=TaskState.CLOSED),
        task(deadline=None),  # the municipality sets the deadline itself
    ],
    ids=["completed", "not-active", "no-status", "announced", "closed", "self-set"],
)
def test_nothing_for_a_task_that_is_not_open_with_a_fixed_deadline(not_open: TaskView) -> None:
    assert run(DEADLINES, local(2019, 1, 1), local(2019, 2, 5, 12), tasks=[not_open]).empty


def test_started_tasks_count_as_open() -> None:
    result = run(
        DEADLINES, local(2019, 1, 30, 7), local(2019, 1, 30, 9), tasks=[task(status=TaskStatus.STARTED)]
    )
    assert len(result.items) == 1


def test_back_after_three_days_sends_only_the_nearest_reminder() -> None:
    settings = ReminderSettings(deadlines=True, deadline_days=(7, 6, 5))  # 24, 25 and 26 January
    result = run(settings, local(2019, 1, 23, 12), local(2019, 1, 26, 9), tasks=[task()])
    assert keys(result) == ["deadline:kontaktpunkt:2019-01-31:5"]
    assert result.items[0].days == 5


def test_a_superseded_reminder_never_follows_the_nearer_one() -> None:
    # A caller that keeps an old `since` and relies on the sent keys alone: the 7-day reminder
    # missed while down must not come after the 1-day one.
    since, tasks = local(2019, 1, 23, 12), [task()]
    first = run(DEADLINES, since, local(2019, 1, 30, 9), tasks=tasks)
    assert keys(first) == ["deadline:kontaktpunkt:2019-01-31:1"]
    assert run(DEADLINES, since, local(2019, 1, 30, 10), tasks=tasks, sent=first.keys()).empty


def test_back_after_the_deadline_drops_the_reminders_before_it() -> None:
    since = local(2019, 1, 23, 12)
    optional = task("frivillig", mandatory=False)
    assert run(DEADLINES, since, local(2019, 2, 1, 7), tasks=[task(), optional]).empty
    # Only the missed mandatory deadline is left, once its occasion (the day after) comes.
    result = run(DEADLINES, since, local(2019, 2, 1, 9), tasks=[task(), optional])
    assert keys(result) == ["missed:kontaktpunkt:2019-01-31"]
    assert result.items[0].kind == "deadline_missed"
    assert result.items[0].days == -1


def test_missed_mandatory_deadline_the_day_after_and_dropped_after_a_week() -> None:
    tasks = [task()]
    on_time = run(DEADLINES, local(2019, 2, 1, 7), local(2019, 2, 1, 8), tasks=tasks)
    assert keys(on_time) == ["missed:kontaktpunkt:2019-01-31"]
    assert run(
        DEADLINES, local(2019, 2, 1, 7), local(2019, 2, 1, 8), tasks=[task(status=TaskStatus.COMPLETED)]
    ).empty
    late = run(DEADLINES, local(2019, 1, 31, 9), local(2019, 2, 7, 9), tasks=tasks)
    assert keys(late) == ["missed:kontaktpunkt:2019-01-31"]  # 31/1 + 7: still worth saying
    assert run(DEADLINES, local(2019, 1, 31, 9), local(2019, 2, 8, 9), tasks=tasks).empty


def test_a_moved_deadline_gets_its_own_reminders() -> None:
    sent = ["deadline:kontaktpunkt:2019-01-31:1"]
    moved = task(deadline=date(2019, 2, 15))
    result = run(DEADLINES, local(2019, 2, 14, 7), local(2019, 2, 14, 8), tasks=[moved], sent=sent)
    assert keys(result) == ["deadline:kontaktpunkt:2019-02-15:1"]


def test_one_run_groups_everything_due_in_order() -> None:
    tasks = [task("a", date(2019, 2, 6)), task("b", date(2019, 1, 31)), task("c", date(2019, 1, 29))]
    settings = ReminderSettings(deadlines=True, events=True)
    result = run(
        settings,
        local(2019, 1, 30, 7),
        local(2019, 1, 30, 8),
        tasks=tasks,
        events=[event("workshop", date(2019, 2, 2), slot(local(2019, 1, 31, 9)))],
    )
    assert keys(result) == [
        "missed:c:2019-01-29",
        "deadline:b:2019-01-31:1",
        "deadline:a:2019-02-06:7",
        "registration:workshop:2019-02-02",
        "event:workshop:2019-01-31T08:00Z",
    ]


# --- events -------------------------------------------------------------------------------------


def test_registration_closing_three_days_before() -> None:
    workshop = event()  # registration by 28 January, held 5 February
    assert run(EVENTS, local(2019, 1, 25, 7), local(2019, 1, 25, 7, 59), events=[workshop]).empty
    result = run(EVENTS, local(2019, 1, 25, 7), local(2019, 1, 25, 8), events=[workshop])
    assert result.items == (
        ReminderItem(
            key="registration:workshop:2019-01-28", kind="registration_closing", event=workshop, days=3
        ),
    )
    # Deadline reminders are off, so a task gets nothing.
    assert run(EVENTS, local(2019, 1, 24, 7), local(2019, 1, 24, 9), tasks=[task()]).empty


def test_registration_reminder_dropped_after_the_deadline_or_when_sold_out() -> None:
    assert run(EVENTS, local(2019, 1, 24, 12), local(2019, 1, 29, 9), events=[event()]).empty
    sold_out = event("styregrupper", date(2019, 3, 20), slot(local(2019, 3, 29, 9, 30), 6, sold_out=True))
    assert run(EVENTS, local(2019, 3, 17, 7), local(2019, 3, 17, 9), events=[sold_out]).empty
    one_left = event(
        "styregrupper",
        date(2019, 3, 20),
        slot(local(2019, 3, 29, 9, 30), 6, sold_out=True),
        slot(local(2019, 6, 12, 9, 30), 6),
    )
    assert keys(run(EVENTS, local(2019, 3, 17, 7), local(2019, 3, 17, 9), events=[one_left])) == [
        "registration:styregrupper:2019-03-20"
    ]


def test_the_day_before_each_slot() -> None:
    meeting = event(
        "programledermoede-feb",
        None,
        slot(local(2019, 2, 27, 10)),
        slot(local(2019, 2, 28, 13, 30)),
    )
    first = run(EVENTS, local(2019, 2, 26, 7), local(2019, 2, 26, 8), events=[meeting])
    assert keys(first) == ["event:programledermoede-feb:2019-02-27T09:00Z"]
    assert first.items[0].slot == meeting.slots[0]
    assert first.items[0].days == 1
    # Down from the 25th to the 27th at 9: both occasions passed, both slots still ahead.
    both = run(EVENTS, local(2019, 2, 25, 12), local(2019, 2, 27, 9), events=[meeting])
    assert len(both.items) == 2
    # Back after the first slot started: only the second one is worth it.
    later = run(EVENTS, local(2019, 2, 25, 12), local(2019, 2, 27, 10, 30), events=[meeting])
    assert keys(later) == ["event:programledermoede-feb:2019-02-28T12:30Z"]


# --- the weekly digest --------------------------------------------------------------------------


def _digest_run(now: datetime, since: datetime | None = None, sent: Collection[str] = ()) -> Due:
    return run(
        DIGEST,
        since or local(2019, 2, 3, 12),  # Sunday
        now,
        tasks=[
            task("overdue", date(2019, 1, 31)),
            task("soon", date(2019, 2, 18)),
            task("later", date(2019, 2, 19)),
            task("done", date(2019, 2, 5), TaskStatus.COMPLETED),
            task("self-set", None),
        ],
        events=[
            event("leverandoerdag", date(2019, 2, 8), slot(local(2019, 2, 26, 8, 30), 8)),
            event("closed", date(2019, 2, 1), slot(local(2019, 2, 26, 8, 30), 8)),
            event("far", date(2019, 3, 1), slot(local(2019, 3, 26, 8, 30), 8)),
        ],
        incidents=[incident(1), incident(2, resolved=True)],
        sent=sent,
    )


def test_weekly_digest_on_monday_morning() -> None:
    assert _digest_run(local(2019, 2, 4, 7, 59)).empty
    result = _digest_run(local(2019, 2, 4, 8))
    assert result.items == ()
    digest = result.digest
    assert digest is not None
    assert digest.key == "digest:2019-W06"
    assert [t.id for t in digest.tasks] == ["overdue", "soon"]  # 14 days: up to 18 February
    assert [e.id for e in digest.events] == ["leverandoerdag"]
    assert [i.id for i in digest.incidents] == [1]
    assert result.keys() == ["digest:2019-W06"]


def test_digest_late_two_hours_is_sent_two_days_is_dropped() -> None:
    assert _digest_run(local(2019, 2, 4, 10)).digest is not None
    assert _digest_run(local(2019, 2, 6, 8)).digest is None


def test_digest_once_a_week() -> None:
    assert _digest_run(local(2019, 2, 4, 9), sent=["digest:2019-W06"]).empty
    assert _digest_run(local(2019, 2, 4, 9), since=local(2019, 2, 4, 8)).empty
    following = _digest_run(local(2019, 2, 11, 8), since=local(2019, 2, 4, 9), sent=["digest:2019-W06"])
    assert following.digest is not None and following.digest.key == "digest:2019-W07"


def test_an_empty_digest_is_not_sent() -> None:
    assert run(
        DIGEST, local(2019, 2, 3, 12), local(2019, 2, 4, 8), tasks=[task(status=TaskStatus.COMPLETED)]
    ).empty


def test_digest_on_another_day_and_time() -> None:
    friday = ReminderSettings(digest=True, digest_weekday=4, digest_minute=14 * 60 + 30)
    result = run(friday, local(2019, 2, 8, 14), local(2019, 2, 8, 14, 30), incidents=[incident()])
    assert result.digest == Digest(key="digest:2019-W06", tasks=(), events=(), incidents=(incident(),))


def test_without_a_municipality_only_events_and_the_digest_of_events_and_incidents() -> None:
    settings = ReminderSettings(deadlines=True, events=True, digest=True)
    result = run(
        settings,
        local(2019, 2, 3, 12),
        local(2019, 2, 4, 8),
        tasks=[],
        events=[event("programledermoede", None, slot(local(2019, 2, 5, 10)))],
        incidents=[incident()],
    )
    assert [i.kind for i in result.items] == ["event_tomorrow"]
    assert result.digest is not None and result.digest.tasks == () and len(result.digest.incidents) == 1


# --- daylight saving time and time zones --------------------------------------------------------


def test_next_run_across_the_spring_change() -> None:
    # Summer time begins on Sunday 31 March 2019: 08:00 local is 07:00 UTC before, 06:00 after.
    monday_digest = ReminderSettings(digest=True)
    assert next_run(monday_digest, utc(2019, 3, 24, 12)) == utc(2019, 3, 25, 7)
    assert next_run(monday_digest, utc(2019, 3, 30, 12)) == utc(2019, 4, 1, 6)
    assert next_run(DEADLINES, utc(2019, 3, 29, 12)) == utc(2019, 3, 30, 7)
    assert next_run(DEADLINES, utc(2019, 3, 30, 12)) == utc(2019, 3, 31, 6)
    assert next_run(DEADLINES, utc(2019, 3, 31, 6)) == utc(2019, 4, 1, 6)  # strictly after
    assert next_run(DEADLINES, utc(2019, 3, 31, 6)).tzinfo == UTC


def test_next_run_across_the_autumn_change() -> None:
    # Winter time begins on Sunday 27 October 2019: 08:00 local is 06:00 UTC before, 07:00 after.
    monday_digest = ReminderSettings(digest=True)
    assert next_run(monday_digest, utc(2019, 10, 20, 12)) == utc(2019, 10, 21, 6)
    assert next_run(monday_digest, utc(2019, 10, 26, 12)) == utc(2019, 10, 28, 7)
    assert next_run(DEADLINES, utc(2019, 10, 26, 6, 30)) == utc(2019, 10, 27, 7)


def test_next_run_takes_the_earlier_of_reminders_and_digest() -> None:
    both = ReminderSettings(deadlines=True, digest=True, digest_minute=7 * 60)
    assert next_run(both, local(2019, 2, 3, 12)) == local(2019, 2, 4, 7)  # Monday's digest first
    assert next_run(both, local(2019, 2, 4, 7)) == local(2019, 2, 4, 8)


@pytest.mark.parametrize(
    ("deadline", "due_utc"),
    [
        (date(2019, 3, 31), utc(2019, 3, 30, 7)),  # the 1-day reminder on Saturday, winter time
        (date(2019, 4, 1), utc(2019, 3, 31, 6)),  # on the Sunday of the change, summer time
        (date(2019, 4, 2), utc(2019, 4, 1, 6)),  # the Monday after
        (date(2019, 10, 27), utc(2019, 10, 26, 6)),  # Saturday, still summer time
        (date(2019, 10, 28), utc(2019, 10, 27, 7)),  # the Sunday of the change, winter time
        (date(2019, 10, 29), utc(2019, 10, 28, 7)),
    ],
)
def test_due_at_local_eight_on_both_sides_of_a_change(deadline: date, due_utc: datetime) -> None:
    settings = ReminderSettings(deadlines=True, deadline_days=(1,))
    tasks = [task(deadline=deadline)]
    assert due_utc.astimezone(CPH).hour == 8
    since = due_utc - timedelta(hours=3)
    # Not at local 07:00, at local 08:00, and not first at local 09:00.
    assert run(settings, since, due_utc - timedelta(hours=1), tasks=tasks).empty
    assert len(run(settings, since, due_utc, tasks=tasks).items) == 1
    assert run(settings, due_utc, due_utc + timedelta(hours=1), tasks=tasks).empty


def test_digest_at_local_eight_on_the_monday_after_the_change() -> None:
    assert run(DIGEST, utc(2019, 3, 31, 12), utc(2019, 4, 1, 5, 59), incidents=[incident()]).empty
    spring = run(DIGEST, utc(2019, 3, 31, 12), utc(2019, 4, 1, 6), incidents=[incident()])
    assert spring.digest is not None and spring.digest.key == "digest:2019-W14"
    autumn = run(DIGEST, utc(2019, 10, 27, 12), utc(2019, 10, 28, 6, 59), incidents=[incident()])
    assert autumn.empty
    assert run(DIGEST, utc(2019, 10, 27, 12), utc(2019, 10, 28, 7), incidents=[incident()]).digest is not None


def test_a_conversation_in_new_york_gets_its_own_eight_oclock() -> None:
    settings = ReminderSettings(deadlines=True, time_zone="America/New_York")
    tasks = [task()]
    # 24 January 08:00 in New York (EST, UTC-5) is 13:00 UTC.
    assert next_run(settings, utc(2019, 1, 24, 12)) == utc(2019, 1, 24, 13)
    assert run(settings, utc(2019, 1, 24, 12), utc(2019, 1, 24, 12, 59), tasks=tasks).empty
    assert len(run(settings, utc(2019, 1, 24, 12), utc(2019, 1, 24, 13), tasks=tasks).items) == 1
    # New York changes to summer time on 10 March 2019, three weeks before Copenhagen.
    assert next_run(settings, utc(2019, 3, 11, 0)) == utc(2019, 3, 11, 12)
    assert next_run(settings, utc(2019, 3, 11, 0)).astimezone(NEW_YORK).hour == 8


def test_whole_day_events_keep_their_danish_date_in_another_zone() -> None:
    settings = ReminderSettings(events=True, time_zone="America/New_York")
    masterclass = event("masterclass", None, slot(local(2019, 3, 18, 0), 48, all_day=True))
    # 18 March is the Danish date; it starts at 19:00 on the 17th in New York, but the day
    # before is still the 17th there, at 08:00 New York time.
    early = local(2019, 3, 17, 7, tz=NEW_YORK)
    assert run(settings, early, local(2019, 3, 17, 7, 59, tz=NEW_YORK), events=[masterclass]).empty
    result = run(settings, early, local(2019, 3, 17, 8, tz=NEW_YORK), events=[masterclass])
    assert keys(result) == ["event:masterclass:2019-03-17T23:00Z"]


def test_an_unknown_zone_behaves_as_copenhagen() -> None:
    settings = ReminderSettings(deadlines=True, time_zone="Mars/Olympus")
    assert next_run(settings, utc(2019, 1, 24, 0)) == utc(2019, 1, 24, 7)
    assert len(run(settings, utc(2019, 1, 24, 6), utc(2019, 1, 24, 7), tasks=[task()]).items) == 1
