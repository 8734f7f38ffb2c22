"""An event as an iCalendar file (dialogs/calendar_file.py), read back with icalendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar, Timezone

from dialogs.calendar_file import calendar_file, slot_uid
from storage.domain import COPENHAGEN
from storage.views import EventView, SlotView

STAMP = datetime(2019, 1, 23, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A Copenhagen wall-clock time, as the database gives it back: in UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=COPENHAGEN).astimezone(UTC)


def timed(day: date, start: int, end: int, **fields: Any) -> SlotView:
    values: dict[str, Any] = {"location": "", "sold_out": False, "registration_url": ""} | fields
    return SlotView(at(day, start), at(day, end), False, **values)


def meeting(*slots: SlotView, **fields: Any) -> EventView:
    values: dict[str, Any] = {
        "id": "programledermoede-2019-03",
        "title": "Programledermøde marts",
        "kind": "programledermoede",
        "description": "Understøttelse af kommunens KOMBIT-programleder",
        "audience": "KOMBIT-programledere",
        "location": "Skype",
        "online": True,
        "registration_url": "https://www.kombit.dk/content/programledermoede",
        "registration_note": "Tilmeld dig via kalenderen på kombit.dk",
        "registration_deadline": date(2019, 3, 25),
        "slots": slots,
    } | fields
    return EventView(**values)


# Summer time in Copenhagen began on 31 March 2019 and ended on 27 October 2019.
DST_SLOTS = (
    timed(date(2019, 3, 30), 10, 11, registration_url="https://www.kombit.dk/content/pm-1"),
    timed(date(2019, 3, 31), 10, 11),
    timed(date(2019, 10, 26), 13, 14),
    timed(date(2019, 10, 27), 13, 14, sold_out=True),
)


def parse(data: bytes) -> Calendar:
    calendar = Calendar.from_ical(data)
    assert isinstance(calendar, Calendar)
    return calendar


def vevents(calendar: Calendar) -> list[Any]:
    return list(calendar.walk("VEVENT"))


def test_a_calendar_with_one_vevent_per_slot_in_copenhagen_time() -> None:
    data = calendar_file(meeting(*DST_SLOTS), sequence=0, cancelled=False, stamp=STAMP)
    calendar = parse(data)
    assert calendar["METHOD"] == "PUBLISH"
    assert calendar["VERSION"] == "2.0"
    assert str(calendar["PRODID"]).startswith("-//KOMBIT//klikbot")
    events = vevents(calendar)
    assert [str(e["UID"]) for e in events] == [
        "programledermoede-2019-03@klikbot.kombit.dk",
        "programledermoede-2019-03+2@klikbot.kombit.dk",
        "programledermoede-2019-03+3@klikbot.kombit.dk",
        "programledermoede-2019-03+4@klikbot.kombit.dk",
    ]
    for event in events:
        assert event.decoded("DTSTAMP") == STAMP
        assert event["SUMMARY"] == "Programledermøde marts"
        assert event["DTSTART"].params["TZID"] == "Europe/Copenhagen"
        assert event["DTEND"].params["TZID"] == "Europe/Copenhagen"
        assert event.decoded("SEQUENCE") == 0
        assert event["STATUS"] == "CONFIRMED"
    # The wall-clock times as written, on both sides of both changes of the clocks.
    text = data.decode()
    for line in (
        "DTSTART;TZID=Europe/Copenhagen:20190330T100000",
        "DTEND;TZID=Europe/Copenhagen:20190330T110000",
        "DTSTART;TZID=Europe/Copenhagen:20190331T100000",
        "DTSTART;TZID=Europe/Copenhagen:20191026T130000",
        "DTSTART;TZID=Europe/Copenhagen:20191027T130000",
        "DTEND;TZID=Europe/Copenhagen:20191027T140000",
    ):
        assert line in text.splitlines()
    starts = [e.decoded("DTSTART") for e in events]
    assert [s.astimezone(UTC).hour for s in starts] == [9, 8, 11, 12]
    assert [e.decoded("DTEND") - e.decoded("DTSTART") for e in events] == [HOUR] * 4


def test_the_vtimezone_defines_the_copenhagen_offsets_by_itself() -> None:
    calendar = parse(calendar_file(meeting(*DST_SLOTS), sequence=0, cancelled=False, stamp=STAMP))
    (vtimezone,) = calendar.walk("VTIMEZONE")
    assert isinstance(vtimezone, Timezone)
    assert vtimezone["TZID"] == "Europe/Copenhagen"
    # A client that does not know the zone by name reads the offsets from the file.
    zone = vtimezone.to_tz(lookup_tzid=False)
    offsets = [
        datetime(2019, 3, 30, 10, tzinfo=zone).utcoffset(),
        datetime(2019, 3, 31, 10, tzinfo=zone).utcoffset(),
        datetime(2019, 10, 26, 13, tzinfo=zone).utcoffset(),
        datetime(2019, 10, 27, 13, tzinfo=zone).utcoffset(),
    ]
    assert offsets == [HOUR, 2 * HOUR, 2 * HOUR, HOUR]


def test_what_the_card_shows_and_nothing_more() -> None:
    event = meeting(*DST_SLOTS)
    data = calendar_file(event, sequence=0, cancelled=False, stamp=STAMP)
    first, second, _, sold_out = vevents(parse(data))
    assert first["LOCATION"] == "Via Skype"
    description = str(first["DESCRIPTION"])
    assert "For: KOMBIT-programledere" in description
    assert "Tilmelding: Tilmeld dig via kalenderen på kombit.dk, senest 25/3-2019" in description
    # The slot's own registration link, else the event's.
    assert "Tilmeld: https://www.kombit.dk/content/pm-1" in description
    assert first["URL"] == "https://www.kombit.dk/content/pm-1"
    assert second["URL"] == "https://www.kombit.dk/content/programledermoede"
    # A sold-out slot says so and offers no registration.
    assert str(sold_out["DESCRIPTION"]).startswith("Udsolgt")
    assert "URL" not in sold_out
    # The card does not show the description text or the kind; the file does not either.
    assert event.description not in data.decode()
    assert "KIND" not in data.decode()
    allowed = {
        "UID", "DTSTAMP", "SEQUENCE", "SUMMARY", "DTSTART", "DTEND", "LOCATION",
        "DESCRIPTION", "URL", "STATUS",
    }  # fmt: skip
    for vevent in vevents(parse(data)):
        assert set(vevent.keys()) <= allowed


def test_reminders_suit_the_kind_of_meeting() -> None:
    online = vevents(parse(calendar_file(meeting(*DST_SLOTS[:1]), sequence=0, cancelled=False, stamp=STAMP)))
    in_person = vevents(
        parse(
            calendar_file(
                meeting(DST_SLOTS[0], online=False, location="Vadehavet, KOMBIT"),
                sequence=0,
                cancelled=False,
                stamp=STAMP,
            )
        )
    )
    (alarm,) = online[0].walk("VALARM")
    assert alarm["ACTION"] == "DISPLAY"
    assert alarm.decoded("TRIGGER") == -timedelta(minutes=15)
    (alarm,) = in_person[0].walk("VALARM")
    assert alarm.decoded("TRIGGER") == -timedelta(days=1)
    assert in_person[0]["LOCATION"] == "Vadehavet, KOMBIT"


def test_all_day_slots_are_dates_with_an_exclusive_end() -> None:
    masterclass = SlotView(
        datetime(2019, 3, 18, tzinfo=COPENHAGEN).astimezone(UTC),
        datetime.combine(date(2019, 3, 19), datetime.max.time(), tzinfo=COPENHAGEN).astimezone(UTC),
        True,
        "Aarhus",
        False,
        "",
    )
    event = meeting(masterclass, online=False, location="", registration_url="")
    data = calendar_file(event, sequence=2, cancelled=False, stamp=STAMP)
    (vevent,) = vevents(parse(data))
    assert "DTSTART;VALUE=DATE:20190318" in data.decode().splitlines()
    assert vevent.decoded("DTSTART") == date(2019, 3, 18)
    assert vevent.decoded("DTEND") == date(2019, 3, 20)
    assert vevent["LOCATION"] == "Aarhus"
    assert vevent.decoded("SEQUENCE") == 2
    assert "URL" not in vevent
    (alarm,) = vevent.walk("VALARM")
    assert alarm.decoded("TRIGGER") == -timedelta(hours=15)  # 09:00 the day before


def test_a_cancelled_event_is_cancelled_in_every_slot_without_reminders() -> None:
    data = calendar_file(meeting(*DST_SLOTS), sequence=3, cancelled=True, stamp=STAMP)
    for vevent in vevents(parse(data)):
        assert vevent["STATUS"] == "CANCELLED"
        assert vevent.decoded("SEQUENCE") == 3
        assert vevent.walk("VALARM") == []


def test_uids_follow_the_slots_order_not_their_times() -> None:
    before = calendar_file(meeting(*DST_SLOTS), sequence=0, cancelled=False, stamp=STAMP)
    # The second slot moves an hour later; the slots come in any order.
    moved_slot = timed(date(2019, 3, 31), 11, 12)
    after = calendar_file(
        meeting(DST_SLOTS[3], moved_slot, DST_SLOTS[2], DST_SLOTS[0]),
        sequence=1,
        cancelled=False,
        stamp=STAMP,
    )
    uids_before = [str(e["UID"]) for e in vevents(parse(before))]
    moved = vevents(parse(after))
    assert [str(e["UID"]) for e in moved] == uids_before
    assert moved[1].decoded("DTSTART") == datetime(2019, 3, 31, 11, tzinfo=COPENHAGEN)
    assert slot_uid("a", 1) == "a@klikbot.kombit.dk"
    # "+" cannot be in an event id, so slot 2 of "a" is no other event's first slot.
    assert slot_uid("a", 2) == "a+2@klikbot.kombit.dk"


def test_english_labels() -> None:
    data = calendar_file(meeting(*DST_SLOTS), sequence=0, cancelled=False, stamp=STAMP, lang="en")
    first = vevents(parse(data))[0]
    assert first["LOCATION"] == "On Skype"
    description = str(first["DESCRIPTION"])
    assert "Registration: Tilmeld dig via kalenderen på kombit.dk, by 25 Mar 2019" in description
    assert "Register: https://www.kombit.dk/content/pm-1" in description
    assert first["SUMMARY"] == "Programledermøde marts"  # the title as KOMBIT wrote it


def test_an_event_without_slots_is_refused() -> None:
    with pytest.raises(ValueError, match="no slots"):
        calendar_file(meeting(), sequence=0, cancelled=False, stamp=STAMP)
