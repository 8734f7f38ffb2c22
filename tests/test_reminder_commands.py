"""Reminder commands (dialogs.reminder_commands): the exact forms in Danish and English, what
must stay a question, apply() and the confirmation texts."""

from __future__ import annotations

import pytest

from dialogs.cards import render_card
from dialogs.reminder_commands import ReminderCommand, answer, apply, parse
from dialogs.text import render_text
from storage.reminder_rules import ReminderSettings
from tests.card_schema import card_errors

DEADLINES = frozenset({"deadlines"})
EVENTS = frozenset({"events"})
DIGEST = frozenset({"digest"})
BOTH = frozenset({"deadlines", "events"})
ALL = frozenset({"deadlines", "events", "digest"})


def cmd(action: str, parts: frozenset[str], lang: str, **fields: object) -> ReminderCommand:
    return ReminderCommand(action, parts, lang, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # deadline reminders on
        ("påmind os om frister", cmd("on", DEADLINES, "da")),
        ("påmind os om frister 3 og 1 dag før", cmd("on", DEADLINES, "da", days=(3, 1))),
        ("påmind mig om fristerne 14, 7 og 1 dage før", cmd("on", DEADLINES, "da", days=(14, 7, 1))),
        ("påmind os 3 dage før fristen", cmd("on", DEADLINES, "da", days=(3,))),
        ("remind us about deadlines", cmd("on", DEADLINES, "en")),
        ("remind us 3 days before deadlines", cmd("on", DEADLINES, "en", days=(3,))),
        ("remind me about deadlines 7 and 1 days before", cmd("on", DEADLINES, "en", days=(7, 1))),
        ("påmind os om frister kl. 9", cmd("on", DEADLINES, "da", minute=9 * 60)),
        # event reminders on
        ("påmind os om arrangementer", cmd("on", EVENTS, "da")),
        ("påmind os om møder", cmd("on", EVENTS, "da")),
        ("remind us about events", cmd("on", EVENTS, "en")),
        ("remind me of meetings", cmd("on", EVENTS, "en")),
        ("påmind os om frister og møder", cmd("on", BOTH, "da")),
        # both on
        ("påmind os", cmd("on", BOTH, "da")),
        ("påmind mig", cmd("on", BOTH, "da")),
        ("slå påmindelser til", cmd("on", BOTH, "da")),
        ("turn on reminders", cmd("on", BOTH, "en")),
        ("turn reminders on", cmd("on", BOTH, "en")),
        ("remind us", cmd("on", BOTH, "en")),
        ("slå påmindelser om frister til", cmd("on", DEADLINES, "da")),
        ("turn on deadline reminders", cmd("on", DEADLINES, "en")),
        # the weekly digest on
        ("ugentligt overblik", cmd("on", DIGEST, "da")),
        ("ugentligt overblik mandag kl. 8", cmd("on", DIGEST, "da", weekday=0, minute=8 * 60)),
        ("ugentligt overblik fredag kl. 14.30", cmd("on", DIGEST, "da", weekday=4, minute=14 * 60 + 30)),
        ("ugentligt overblik om torsdagen klokken 7", cmd("on", DIGEST, "da", weekday=3, minute=7 * 60)),
        ("slå ugentligt overblik til", cmd("on", DIGEST, "da")),
        ("ugentligt overblik kl. 9", cmd("on", DIGEST, "da", minute=9 * 60)),
        ("weekly digest", cmd("on", DIGEST, "en")),
        ("weekly digest on Friday at 9", cmd("on", DIGEST, "en", weekday=4, minute=9 * 60)),
        ("weekly summary Monday 8:00", cmd("on", DIGEST, "en", weekday=0, minute=8 * 60)),
        ("weekly overview every sunday at 6pm", cmd("on", DIGEST, "en", weekday=6, minute=18 * 60)),
        ("weekly digest at 9am", cmd("on", DIGEST, "en", minute=9 * 60)),
        ("turn on the weekly digest", cmd("on", DIGEST, "en")),
        # off
        ("stop påmindelser", cmd("off", ALL, "da")),
        ("slå påmindelser fra", cmd("off", ALL, "da")),
        ("stop alle påmindelser", cmd("off", ALL, "da")),
        ("stop med at påminde os", cmd("off", ALL, "da")),
        ("stop reminders", cmd("off", ALL, "en")),
        ("turn off reminders", cmd("off", ALL, "en")),
        ("turn reminders off", cmd("off", ALL, "en")),
        ("stop reminding us", cmd("off", ALL, "en")),
        ("stop ugentligt overblik", cmd("off", DIGEST, "da")),
        ("slå det ugentlige overblik fra", cmd("off", DIGEST, "da")),
        ("stop weekly digest", cmd("off", DIGEST, "en")),
        ("turn off the weekly summary", cmd("off", DIGEST, "en")),
        ("stop påmindelser om frister", cmd("off", DEADLINES, "da")),
        ("stop deadline reminders", cmd("off", DEADLINES, "en")),
        ("stop reminders about deadlines", cmd("off", DEADLINES, "en")),
        ("stop påmindelser om arrangementer", cmd("off", EVENTS, "da")),
        ("stop påmindelser om møder", cmd("off", EVENTS, "da")),
        ("stop event reminders", cmd("off", EVENTS, "en")),
        ("stop reminding us about events", cmd("off", EVENTS, "en")),
        # show
        ("påmindelser", cmd("show", frozenset(), "da")),
        ("vis påmindelser", cmd("show", frozenset(), "da")),
        ("hvilke påmindelser får vi", cmd("show", frozenset(), "da")),
        ("reminders", cmd("show", frozenset(), "en")),
        ("show reminders", cmd("show", frozenset(), "en")),
        ("reminder settings", cmd("show", frozenset(), "en")),
    ],
)
def test_every_form(text: str, expected: ReminderCommand) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Påmind   OS om Frister!! ", cmd("on", DEADLINES, "da")),
        ("STOP PÅMINDELSER.", cmd("off", ALL, "da")),
        ("\u201estop påmindelser\u201c", cmd("off", ALL, "da")),  # copied from the bot's own hint
        ("\u201cstop reminders\u201d", cmd("off", ALL, "en")),
        ("Påmindelser?", cmd("show", frozenset(), "da")),
        ("paamind os om frister", cmd("on", DEADLINES, "da")),
        ("Weekly Digest on FRIDAY at 9!", cmd("on", DIGEST, "en", weekday=4, minute=9 * 60)),
        ("ugentligt overblik mandag kl.8", cmd("on", DIGEST, "da", weekday=0, minute=8 * 60)),
    ],
)
def test_case_spaces_punctuation_and_quotes_do_not_matter(text: str, expected: ReminderCommand) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "hvornår er fristen for kontaktpunkt?",
        "påmind",
        "stop",
        "what are the reminders for Vejle in SAPA",
        "hvilke opgaver mangler vi?",
        "frister i næste uge",
        "what is due next week?",
        "påmind os om kontaktpunkt",
        "remind us about SAPA",
        "påmind os om arrangementer 3 dage før",  # events have their own fixed notice
        "stop abonnement",
        "afmeld",
        "ugentligt overblik over frister",
        "weekly digest for Vejle",
        "reminders for next week",
        "",
        "   ",
        "påmind os " + "om frister " * 40,
    ],
)
def test_what_is_not_a_command(text: str) -> None:
    assert parse(text) is None


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("påmind os om frister 90 dage før", "days"),
        ("påmind os om frister 0 dage før", "days"),
        ("remind us 10, 8, 6, 4, 2 and 1 days before deadlines", "days"),
        ("ugentligt overblik mandag kl. 25", "time"),
        ("weekly digest at 8.75", "time"),
        ("weekly digest at 13pm", "time"),
    ],
)
def test_a_known_form_with_a_value_we_cannot_use(text: str, error: str) -> None:
    command = parse(text)
    assert command is not None and command.error == error
    settings = ReminderSettings(deadlines=True)
    assert apply(settings, command) == settings
    doc = answer(settings, command, False, command.lang)
    assert "1-60" in render_text(doc) or "23" in render_text(doc)


def test_apply_turns_parts_on_and_off() -> None:
    start = ReminderSettings()
    both = apply(start, cmd("on", BOTH, "da"))
    assert (both.deadlines, both.events, both.digest) == (True, True, False)
    assert both.deadline_days == (7, 1)
    days = apply(both, cmd("on", DEADLINES, "da", days=(3, 1)))
    assert days.deadline_days == (3, 1) and days.events
    # Turning deadlines on again without days keeps the days chosen before.
    assert apply(days, cmd("on", DEADLINES, "da")).deadline_days == (3, 1)
    digest = apply(days, cmd("on", DIGEST, "da", weekday=4, minute=14 * 60 + 30))
    assert (digest.digest, digest.digest_weekday, digest.digest_minute) == (True, 4, 870)
    assert digest.send_minute == 8 * 60  # the digest's time is its own
    # "ugentligt overblik" alone keeps the day and time set before.
    assert apply(digest, cmd("on", DIGEST, "da")) == digest
    at_nine = apply(digest, cmd("on", DEADLINES, "da", minute=9 * 60))
    assert at_nine.send_minute == 9 * 60 and at_nine.digest_minute == 870
    no_digest = apply(digest, cmd("off", DIGEST, "da"))
    assert (no_digest.deadlines, no_digest.events, no_digest.digest) == (True, True, False)
    no_deadlines = apply(digest, cmd("off", DEADLINES, "en"))
    assert (no_deadlines.deadlines, no_deadlines.events, no_deadlines.digest) == (False, True, True)
    off = apply(digest, cmd("off", ALL, "da"))
    assert not off.enabled
    assert off.deadline_days == (3, 1) and off.digest_weekday == 4  # remembered for next time
    assert apply(digest, cmd("show", frozenset(), "da")) == digest


def test_apply_keeps_the_time_zone() -> None:
    settings = ReminderSettings(time_zone="America/New_York")
    assert apply(settings, cmd("on", ALL, "en")).time_zone == "America/New_York"


def _texts(settings: ReminderSettings, command: ReminderCommand, channel: bool = False) -> str:
    doc = answer(settings, command, channel, command.lang)
    card = render_card(doc)
    assert card_errors(card) == []
    return render_text(doc)


def test_answer_says_what_is_on_when_and_how_to_stop_danish() -> None:
    command = cmd("on", DEADLINES, "da", days=(3, 1))
    settings = apply(ReminderSettings(), command)
    text = _texts(settings, command)
    assert "Påmindelser slået til" in text
    assert "Denne chat" in text
    assert "3 og 1 dag før fristen kl. 08.00" in text
    assert "dagen efter en overskredet obligatorisk frist" in text
    assert "Arrangementer: Fra" in text
    assert "Ugentligt overblik: Fra" in text
    assert "Tidszone: Europe/Copenhagen" in text
    assert "Skriv \u201estop påmindelser\u201c for at stoppe." in text


def test_answer_names_the_digest_day_time_and_zone() -> None:
    command = cmd("on", DIGEST, "da", weekday=4, minute=14 * 60 + 30)
    settings = apply(ReminderSettings(time_zone="America/New_York"), command)
    text = _texts(settings, command, channel=True)
    assert "Ugentligt overblik slået til" in text
    assert "Denne kanal" in text
    assert "hver fredag kl. 14.30 med frister de næste 14 dage" in text
    assert "Tidszone: America/New_York" in text
    english = cmd("on", DIGEST, "en", weekday=0, minute=8 * 60)
    text = _texts(apply(ReminderSettings(), english), english)
    assert "Weekly overview turned on" in text
    assert "every Monday at 08:00" in text
    assert "Time zone: Europe/Copenhagen" in text
    assert "Write \u201cstop reminders\u201d to stop." in text


def test_answer_english_deadlines_and_events() -> None:
    command = cmd("on", BOTH, "en")
    text = _texts(apply(ReminderSettings(), command), command)
    assert "7 and 1 days before the deadline at 08:00" in text
    assert "3 days before registration closes and the day before the event" in text
    single = cmd("on", DEADLINES, "en", days=(1,))
    assert "1 day before the deadline" in _texts(apply(ReminderSettings(), single), single)


def test_answer_when_turned_off() -> None:
    command = cmd("off", ALL, "da")
    text = _texts(apply(ReminderSettings(deadlines=True, digest=True), command), command)
    assert "Påmindelser slået fra" in text
    assert "får ingen påmindelser" in text
    assert "påmind os" in text  # how to turn them on again
    partial = cmd("off", DIGEST, "en")
    text = _texts(apply(ReminderSettings(deadlines=True, digest=True), partial), partial)
    assert "Weekly overview turned off" in text
    assert "Weekly overview: Off" in text
    assert "Write \u201cstop reminders\u201d to stop." in text  # deadlines are still on
    deadlines_off = cmd("off", DEADLINES, "da")
    text = _texts(apply(ReminderSettings(deadlines=True, events=True), deadlines_off), deadlines_off)
    assert "Påmindelser om frister slået fra" in text
    assert "Frister: Fra" in text


def test_show_gives_the_current_setting() -> None:
    settings = ReminderSettings(events=True, send_minute=9 * 60 + 15)
    text = _texts(settings, cmd("show", frozenset(), "da"))
    assert text.startswith("Påmindelser")
    assert "Frister: Fra" in text
    assert "dagen før arrangementet, kl. 09.15" in text
    text = _texts(ReminderSettings(), cmd("show", frozenset(), "en"))
    assert "gets no reminders" in text


def test_answer_without_a_municipality_explains_there_are_no_deadline_reminders() -> None:
    command = cmd("on", BOTH, "da")
    doc = answer(apply(ReminderSettings(), command), command, False, "da", has_municipality=False)
    assert "ikke knyttet til en kommune" in render_text(doc)
