"""The reminder message (dialogs.reminder_message): one valid Adaptive Card 1.5 under 40 KB with
everything due, in Danish and English, times in the recipient's time zone."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dialogs.cards import render_card
from dialogs.document import Document
from dialogs.gallery_data import demo_data
from dialogs.reminder_message import render
from dialogs.text import render_text
from dialogs.understanding import Language
from storage.domain import TaskState, TaskStatus, TaskView
from storage.reminder_rules import Digest, Due, ReminderItem, ReminderSettings, due
from storage.views import EventView, IncidentView, SlotView
from tests.card_actions import execute_fallback_errors, iter_actions
from tests.card_schema import MAX_CARD_BYTES, card_errors

CPH = ZoneInfo("Europe/Copenhagen")
NOW = datetime(2019, 1, 24, 8, 0, tzinfo=CPH)  # a Thursday


def task(id: str = "kontaktpunkt", deadline: date = date(2019, 1, 31), **changes: Any) -> TaskView:
    view = TaskView(
        id=id,
        title="Udpeg kontaktpunkt eller -person til incidenthåndtering",
        programme="Monopolbrudsprogrammet",
        programme_short="MBP",
        description="",
        mandatory=True,
        critical_path=False,
        deadline=deadline,
        deadline_rule="",
        contact="KDI@kombit.dk",
        state=TaskState.ACTIVE,
        notes="",
        keywords=(),
        status=TaskStatus.STARTED,
    )
    return dataclasses.replace(view, **changes)


def slot(start: datetime, hours: float = 1, **changes: Any) -> SlotView:
    view = SlotView(
        starts_at=start,
        ends_at=start + timedelta(hours=hours),
        all_day=False,
        location="",
        sold_out=False,
        registration_url="",
    )
    return dataclasses.replace(view, **changes)


def event(id: str = "programledermoede", *slots: SlotView, **changes: Any) -> EventView:
    view = EventView(
        id=id,
        title="Programledermøde februar",
        kind="meeting",
        description="",
        audience="KOMBIT-programledere",
        location="",
        online=True,
        registration_url="https://www.kombit.dk/kalender",
        registration_note="",
        registration_deadline=None,
        slots=slots or (slot(datetime(2019, 2, 27, 10, tzinfo=CPH)),),
    )
    return dataclasses.replace(view, **changes)


WORKSHOP = event(
    "workshop",
    slot(datetime(2019, 2, 5, 9, tzinfo=CPH), 7, location="Vadehavet, KOMBIT"),
    title="Workshop om drift og forvaltning",
    online=False,
    location="Vadehavet, KOMBIT",
    registration_url="mailto:mvp@kombit.dk",
    registration_note="Tilmelding til mvp@kombit.dk",
    registration_deadline=date(2019, 1, 28),
)
INCIDENT = IncidentView(
    id=1,
    title="Nedbrud på Adgangsstyring",
    description="BBR, DAR og SAPA er utilgængelige",
    affected_systems=("Adgangsstyring", "BBR", "DAR", "SAPA"),
    severity="A",
    status="investigating",
    started_at=datetime(2019, 1, 23, 2, 21, tzinfo=CPH),
    resolved_at=None,
    latest_update="Leverandøren undersøger certifikatspærrelister.",
)


def soon(t: TaskView, days: int = 7) -> ReminderItem:
    return ReminderItem(key=f"deadline:{t.id}:{t.deadline}:{days}", kind="deadline_soon", task=t, days=days)


def card_and_text(doc: Document) -> tuple[dict[str, Any], str]:
    card = render_card(doc)
    assert card_errors(card) == []
    assert execute_fallback_errors(card) == []
    return card, render_text(doc)


def test_a_deadline_reminder_in_danish() -> None:
    doc = render(Due(items=(soon(task()),), digest=None), "Vejle", NOW, "da")
    card, text = card_and_text(doc)
    assert doc.title == "Påmindelse fra klikbot \u2013 Vejle"
    assert "1 frist nærmer sig." in text
    assert "Frister der nærmer sig" in text
    assert "Udpeg kontaktpunkt eller -person til incidenthåndtering" in text
    assert "Frist: tors. 31/1 (om 7 dage) · Obligatorisk" in text
    assert "Jeres status: Påbegyndt" in text
    assert text.endswith("Skriv \u201estop påmindelser\u201c for at stoppe.")
    # The task has a button asking the bot about it.
    asks = [a for _, a in iter_actions(card) if a.get("data", {}).get("klikbot") == "task"]
    assert asks and asks[0]["data"]["id"] == "kontaktpunkt"
    assert doc.tone == "default"


def test_a_deadline_reminder_in_english() -> None:
    marked = task(critical_path=True, deadline=date(2019, 1, 25))
    doc = render(Due(items=(soon(marked, 1),), digest=None), "Vejle", NOW, "en")
    _, text = card_and_text(doc)
    assert doc.title == "Reminder from klikbot \u2013 Vejle"
    assert "Deadline: Fri 25 Jan (tomorrow) · Mandatory · On the critical path" in text
    assert "Your status: Started" in text
    assert "Write \u201cstop reminders\u201d to stop." in text


def test_a_missed_mandatory_deadline_is_a_warning() -> None:
    now = datetime(2019, 2, 1, 8, tzinfo=CPH)
    item = ReminderItem(key="missed:kontaktpunkt:2019-01-31", kind="deadline_missed", task=task(), days=-1)
    cases: tuple[tuple[Language, str, str], ...] = (
        ("da", "Overskredne obligatoriske frister", "Fristen tors. 31/1 er overskredet"),
        ("en", "Missed mandatory deadlines", "The deadline Thu 31 Jan has passed"),
    )
    for lang, heading, warning in cases:
        doc = render(Due(items=(item,), digest=None), "Vejle", now, lang)
        card, text = card_and_text(doc)
        assert heading in text and warning in text
        assert doc.tone == "attention"
        assert card["body"][0]["color"] == "Attention"


def test_registration_closing_with_its_deadline_and_link() -> None:
    item = ReminderItem(
        key="registration:workshop:2019-01-28", kind="registration_closing", event=WORKSHOP, days=3
    )
    now = datetime(2019, 1, 25, 8, tzinfo=CPH)
    _, text = card_and_text(render(Due(items=(item,), digest=None), "Vejle", now, "da"))
    assert "Tilmeldingsfristen nærmer sig" in text
    assert "Workshop om drift og forvaltning" in text
    assert "Tilmeldingsfrist: man. 28/1 (om 3 dage)" in text
    assert "tirs. 5/2 kl. 09.00-16.00" in text
    assert "→ Tilmeld: mailto:mvp@kombit.dk" in text
    _, english = card_and_text(render(Due(items=(item,), digest=None), "Vejle", now, "en"))
    assert "Registration closes: Mon 28 Jan (in 3 days)" in english
    assert "Register" in english


@pytest.mark.parametrize(
    ("tz", "lang", "expected"),
    [
        (None, "da", "I morgen: ons. 27/2 kl. 10.00-11.00"),
        ("Europe/Copenhagen", "en", "Tomorrow: Wed 27 Feb, 10:00-11:00"),
        ("America/New_York", "da", "I morgen: ons. 27/2 kl. 04.00-05.00"),
        ("America/New_York", "en", "Tomorrow: Wed 27 Feb, 04:00-05:00"),
        ("Asia/Tokyo", "en", "Tomorrow: Wed 27 Feb, 18:00-19:00"),
        ("Mars/Olympus", "da", "I morgen: ons. 27/2 kl. 10.00-11.00"),
    ],
)
def test_tomorrows_event_in_the_recipients_time_zone(tz: str | None, lang: Language, expected: str) -> None:
    meeting = event()
    item = ReminderItem(
        key="event:programledermoede:2019-02-27T09:00Z",
        kind="event_tomorrow",
        event=meeting,
        days=1,
        slot=meeting.slots[0],
    )
    now = datetime(2019, 2, 26, 8, tzinfo=CPH)
    doc = render(Due(items=(item,), digest=None), None, now, lang, tz)
    _, text = card_and_text(doc)
    assert expected in text
    assert ("Via Skype" if lang == "da" else "On Skype") in text
    named = tz not in (None, "Europe/Copenhagen", "Mars/Olympus")
    assert (str(tz) in text) == named  # a foreign zone is named, so no one reads it as Danish time


def test_the_weekly_digest() -> None:
    now = datetime(2019, 2, 4, 8, tzinfo=CPH)
    overdue, coming = (
        task("kontaktpunkt"),
        task("underskrift", date(2019, 2, 15), title="Udpeg underskriftberettiget"),
    )
    leverandoerdag = dataclasses.replace(
        WORKSHOP, id="leverandoerdag", title="Leverandørdag", registration_deadline=date(2019, 2, 8)
    )
    digest = Digest(
        key="digest:2019-W06", tasks=(overdue, coming), events=(leverandoerdag,), incidents=(INCIDENT,)
    )
    doc = render(Due(items=(), digest=digest), "Vejle", now, "da")
    _, text = card_and_text(doc)
    assert doc.title == "Ugentligt overblik \u2013 Vejle"
    assert "pr. man. 4/2" in text
    assert "Frister de næste 14 dage" in text
    assert "Fristen tors. 31/1 er overskredet" in text
    assert "Frist: fre. 15/2 (om 11 dage)" in text
    assert "Tilmeldingsfrister" in text and "Leverandørdag" in text and "(om 4 dage)" in text
    assert "Aktuelle driftsforstyrrelser" in text and "Nedbrud på Adgangsstyring" in text
    assert "Siden ons. 23/1 kl. 02.21" in text
    assert "Leverandøren undersøger certifikatspærrelister." in text
    assert doc.tone == "attention"  # an overdue task
    _, english = card_and_text(render(Due(items=(), digest=digest), "Vejle", now, "en"))
    assert "Weekly overview \u2013 Vejle" in english
    assert "Deadlines in the next 14 days" in english and "Current incidents" in english


def test_a_reminder_and_the_digest_in_one_message_show_a_task_once() -> None:
    now = datetime(2019, 2, 4, 8, tzinfo=CPH)
    coming = task("underskrift", date(2019, 2, 11), title="Udpeg underskriftberettiget")
    due_now = Due(items=(soon(coming),), digest=Digest("digest:2019-W06", (coming,), (), (INCIDENT,)))
    doc = render(due_now, "Vejle", now, "da")
    _, text = card_and_text(doc)
    assert text.count("Udpeg underskriftberettiget") == 1
    assert "Desuden: 1 frist nærmer sig." in text


def test_without_a_municipality_no_statuses_and_no_task_button() -> None:
    meeting = event()
    item = ReminderItem(key="e", kind="event_tomorrow", event=meeting, days=1, slot=meeting.slots[0])
    doc = render(
        Due(items=(item,), digest=Digest("digest:2019-W09", (), (), (INCIDENT,))),
        None,
        datetime(2019, 2, 26, 8, tzinfo=CPH),
        "da",
    )
    card, text = card_and_text(doc)
    assert doc.title == "Ugentligt overblik"
    assert "Jeres status" not in text
    assert "hvilke opgaver mangler vi?" not in json.dumps(card, ensure_ascii=False)


@pytest.mark.parametrize("lang", ["da", "en"])
def test_fifty_of_everything_stays_a_valid_card_under_40_kb(lang: Language) -> None:
    long = "Meget lang titel på en KLIK-opgave, der bliver ved og ved " * 4
    tasks = [
        task(f"t{i}", date(2019, 1, 31) + timedelta(days=i % 10), title=f"{i} {long}") for i in range(50)
    ]
    later = datetime(2019, 3, 1, 10, tzinfo=CPH)
    events = [
        event(
            f"e{i}",
            slot(later + timedelta(days=i)),
            slot(later + timedelta(days=i + 1)),
            title=f"{i} {long}",
            registration_deadline=date(2019, 1, 28),
            registration_note="x" * 500,
        )
        for i in range(50)
    ]
    incidents = [
        dataclasses.replace(INCIDENT, id=i, title=f"{i} {long}", latest_update="y" * 2000) for i in range(50)
    ]
    items = (
        *(ReminderItem(f"m{i}", "deadline_missed", task=t, days=-1) for i, t in enumerate(tasks)),
        *(soon(t) for t in tasks),
        *(ReminderItem(f"r{i}", "registration_closing", event=e, days=3) for i, e in enumerate(events)),
        *(
            ReminderItem(f"s{i}", "event_tomorrow", event=e, days=1, slot=e.slots[0])
            for i, e in enumerate(events)
        ),
    )
    digest = Digest("digest:2019-W05", tuple(tasks), tuple(events), tuple(incidents))
    doc = render(Due(items=items, digest=digest), "Vejle", NOW, lang, "America/New_York")
    card, text = card_and_text(doc)
    assert len(json.dumps(card, ensure_ascii=False).encode()) < MAX_CARD_BYTES
    more = "og 45 mere" if lang == "da" else "and 45 more"
    assert more in text
    assert len(card.get("actions", [])) <= 6


def test_end_to_end_with_the_demo_data() -> None:
    """The rules over the demo dataset, rendered: what Vejle would get on 30 January 2019."""
    data = demo_data("Vejle")
    settings = ReminderSettings(deadlines=True, events=True, digest=True)
    since = datetime(2019, 1, 29, 8, tzinfo=CPH)
    now = datetime(2019, 1, 30, 8, tzinfo=CPH)
    result = due(
        settings,
        tasks=data.tasks,
        events=data.events,
        incidents=data.incidents,
        since=since,
        now=now,
        sent=(),
    )
    assert not result.empty
    open_fixed = [
        t for t in data.tasks if t.deadline == date(2019, 1, 31) and t.status is not None and t.status.is_open
    ]
    assert {i.task.id for i in result.items if i.task is not None} == {t.id for t in open_fixed}
    languages: tuple[Language, ...] = ("da", "en")
    for lang in languages:
        _, text = card_and_text(render(result, data.municipality_name, now, lang))
        for t in open_fixed:
            assert t.title in text


def test_an_event_reminder_caught_up_on_the_day_itself_says_today() -> None:
    meeting = event()
    item = ReminderItem(key="e", kind="event_tomorrow", event=meeting, days=0, slot=meeting.slots[0])
    now = datetime(2019, 2, 27, 9, tzinfo=CPH)  # back up at 9, the meeting is at 10
    _, text = card_and_text(render(Due(items=(item,), digest=None), None, now, "da"))
    assert "Arrangementer i dag" in text
    assert "I dag: ons. 27/2 kl. 10.00-11.00" in text
    assert "I morgen" not in text
    _, english = card_and_text(render(Due(items=(item,), digest=None), None, now, "en"))
    assert "1 event today." in english and "Today: Wed 27 Feb, 10:00-11:00" in english
