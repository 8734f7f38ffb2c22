"""An event as an iCalendar file (RFC 5545), for "Tilføj til kalender" / "Add to calendar".

Pure: takes the event's view (as the answers show it), its `sequence` and whether it is cancelled,
and returns the file's bytes. `bot/calendar_api.py` serves it at `GET /api/events/{id}.ics`.

- One VEVENT per slot (programme-leader meetings have two dates a month: each is its own entry).
  The first slot's UID is the event's (`storage.catalogue_import.event_uid`); slot n > 1 gets
  `<id>+n@...` (`+` is not allowed in ids, so no other event's UID can look the same). Slots are
  numbered in time order: the import replaces an event's slot rows (new autoincrement ids) on
  every change and the slot's own fields are what moves, so the ordinal is what stays the same
  when an event moves, and calendars update their entry instead of adding a second one.
- SEQUENCE is the event's: raised by the import whenever it moves, is cancelled or reinstated.
- Times are Europe/Copenhagen wall-clock times (DTSTART;TZID=Europe/Copenhagen) with the
  VTIMEZONE that defines them; all-day slots are dates (VALUE=DATE, DTEND the day after).
- Only what the event's card shows: title, dates, place, audience, registration note, deadline
  and link, sold out. No internal ids besides the UID, no tenants, no statuses.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from icalendar import Alarm, Calendar, Event

from dialogs.answers import event_facts, event_place, say
from dialogs.understanding import Language
from storage.catalogue_import import event_uid
from storage.domain import COPENHAGEN
from storage.views import EventView, SlotView

PRODID = "-//KOMBIT//klikbot//DA"
MEDIA_TYPE = "text/calendar"

# Reminders. An online meeting (the monthly Skype programme-leader meeting) needs only a nudge to
# finish what you are doing and join: 15 minutes, Outlook's own default. A meeting in person
# (a workshop at KOMBIT, a course in København) needs travel planned: the day before, at the
# same time. An all-day slot starts at midnight, so its reminder is 09:00 the working day before.
ONLINE_REMINDER = timedelta(minutes=15)
IN_PERSON_REMINDER = timedelta(days=1)
ALL_DAY_REMINDER = timedelta(hours=15)


def slot_uid(event_id: str, ordinal: int) -> str:
    """The UID of the event's `ordinal`-th slot (1-based, in time order)."""
    uid = event_uid(event_id)
    if ordinal == 1:
        return uid
    local, _, domain = uid.rpartition("@")
    return f"{local}+{ordinal}@{domain}"


def ordered_slots(event: EventView) -> list[SlotView]:
    """The event's slots in the order their UIDs number them."""
    return sorted(event.slots, key=lambda s: (s.starts_at, s.ends_at, s.location))


def calendar_file(
    event: EventView, *, sequence: int, cancelled: bool, stamp: datetime, lang: Language = "da"
) -> bytes:
    """The event as an iCalendar file. `stamp` (aware) is DTSTAMP: when the file was made.
    Raises ValueError for an event without slots (the catalogue never has one)."""
    slots = ordered_slots(event)
    if not slots:
        raise ValueError(f"event {event.id!r} has no slots")
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    facts = [f"{label}: {value}" for label, value in event_facts(event, lang, with_place=False)]
    for ordinal, slot in enumerate(slots, start=1):
        calendar.add_component(_vevent(event, slot, ordinal, facts, sequence, cancelled, stamp, lang))
    first, last = _local_day(slots[0].starts_at), _local_day(max(s.ends_at for s in slots))
    # The VTIMEZONE covers the years of the slots: enough to read every time in the file.
    calendar.add_missing_timezones(first_date=date(first.year, 1, 1), last_date=date(last.year + 1, 1, 1))
    return bytes(calendar.to_ical())


def _vevent(
    event: EventView,
    slot: SlotView,
    ordinal: int,
    facts: list[str],
    sequence: int,
    cancelled: bool,
    stamp: datetime,
    lang: Language,
) -> Event:
    entry = Event()
    entry.add("uid", slot_uid(event.id, ordinal))
    entry.add("dtstamp", stamp.astimezone(UTC))
    entry.add("sequence", sequence)
    entry.add("summary", event.title)
    if slot.all_day:
        # DTEND of a date is exclusive: the day after the last day.
        entry.add("dtstart", _local_day(slot.starts_at))
        entry.add("dtend", _local_day(slot.ends_at) + timedelta(days=1))
    else:
        entry.add("dtstart", slot.starts_at.astimezone(COPENHAGEN))
        entry.add("dtend", slot.ends_at.astimezone(COPENHAGEN))
    place = event_place(event, slot.location, lang)
    if place:
        entry.add("location", place)
    lines = []
    if slot.sold_out:
        lines.append(say(lang, "Udsolgt", "Sold out"))
    lines.extend(facts)
    link = "" if slot.sold_out else slot.registration_url or event.registration_url
    if link:
        lines.append(f"{say(lang, 'Tilmeld', 'Register')}: {link}")
        entry.add("url", link)
    if lines:
        entry.add("description", "\n".join(lines))
    entry.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if not cancelled:
        entry.add_component(_reminder(event, slot))
    return entry


def _reminder(event: EventView, slot: SlotView) -> Alarm:
    if slot.all_day:
        before = ALL_DAY_REMINDER
    elif event.online:
        before = ONLINE_REMINDER
    else:
        before = IN_PERSON_REMINDER
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", event.title)
    alarm.add("trigger", -before)
    return alarm


def _local_day(moment: datetime) -> date:
    return moment.astimezone(COPENHAGEN).date()
