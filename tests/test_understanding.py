"""Intent, language, period and subject of what programme leaders and KOMBIT staff type."""

from __future__ import annotations

import random
from datetime import datetime

import pytest

from dialogs.understanding import (
    MAX_CHARS,
    Intent,
    Understanding,
    detect_language,
    normalise,
    understand,
)
from storage.domain import Period

# The programme-leader meeting of 23 January 2019, a Wednesday.
NOW = datetime.fromisoformat("2019-01-23T10:00:00+01:00")

# Frequently used windows, as (start, end) in ISO 8601 with Copenhagen's offset.
BY_1_FEB = (None, "2019-02-02T00:00:00+01:00")
NEXT_WEEK = ("2019-01-28T00:00:00+01:00", "2019-02-04T00:00:00+01:00")
THIS_WEEK = ("2019-01-21T00:00:00+01:00", "2019-01-28T00:00:00+01:00")
TWO_WEEKS = ("2019-01-23T00:00:00+01:00", "2019-02-07T00:00:00+01:00")
TODAY = ("2019-01-23T00:00:00+01:00", "2019-01-24T00:00:00+01:00")
TOMORROW = ("2019-01-24T00:00:00+01:00", "2019-01-25T00:00:00+01:00")
FRIDAY = ("2019-01-25T00:00:00+01:00", "2019-01-26T00:00:00+01:00")
JAN_31 = ("2019-01-31T00:00:00+01:00", "2019-02-01T00:00:00+01:00")
FEB_1 = ("2019-02-01T00:00:00+01:00", "2019-02-02T00:00:00+01:00")
FEB_5 = ("2019-02-05T00:00:00+01:00", "2019-02-06T00:00:00+01:00")
JANUARY = ("2019-01-01T00:00:00+01:00", "2019-02-01T00:00:00+01:00")
FEBRUARY = ("2019-02-01T00:00:00+01:00", "2019-03-01T00:00:00+01:00")
MARCH = ("2019-03-01T00:00:00+01:00", "2019-04-01T00:00:00+02:00")  # summer time from 31 March
APRIL = ("2019-04-01T00:00:00+02:00", "2019-05-01T00:00:00+02:00")
MAY = ("2019-05-01T00:00:00+02:00", "2019-06-01T00:00:00+02:00")
BY_END_OF_FEB = (None, "2019-03-01T00:00:00+01:00")
FEB_1_TO_15 = ("2019-02-01T00:00:00+01:00", "2019-02-16T00:00:00+01:00")

Window = tuple[str | None, str | None]


def case(
    text: str,
    intent: Intent,
    language: str,
    period: Window | None = None,
    subject: str | None = None,
    kind: str | None = None,
    locale: str | None = None,
) -> object:
    return pytest.param(text, locale, intent, language, period, subject, kind, id=text or "<empty>")


OUT, DUE, TASK = Intent.OUTSTANDING, Intent.DUE, Intent.TASK_DETAIL
EVENTS, NEXT, INCIDENTS = Intent.EVENTS, Intent.NEXT_EVENT, Intent.INCIDENTS
HELP, HI, CANCEL, UNKNOWN = Intent.HELP, Intent.GREETING, Intent.CANCEL, Intent.UNKNOWN

CORPUS = [
    # What is outstanding for us
    case("hvilke opgaver mangler vi?", OUT, "da"),
    case("what's outstanding?", OUT, "en"),
    case("hvad skal vi lave", OUT, "da"),
    case("status på vores opgaver", OUT, "da"),
    case("hvad mangler vi", OUT, "da"),
    case("Hvilke KLIK-opgaver mangler vi at lave?", OUT, "da"),
    case("HVAD MANGLER VI", OUT, "da"),
    case("Har vi nogen udestående opgaver", OUT, "da"),
    case("udestaaende opgaver", OUT, "da"),
    case("Hvad mangler Vejle Kommune?", OUT, "da"),
    case("which tasks are still open?", OUT, "en"),
    case("What do we need to do?", OUT, "en"),
    case("show my tasks", OUT, "en"),
    case("what's left to do", OUT, "en"),
    case("hvilke opgavr manlger vi", OUT, "da"),
    case("whats outstandng", OUT, "en"),
    case("hvad har vi glemt", OUT, "da"),
    # Deadlines, with and without a period
    case("hvad har frist inden 1. februar?", DUE, "da", BY_1_FEB),
    case("frister i næste uge", DUE, "da", NEXT_WEEK),
    case("hvad skal vi nå om to uger?", DUE, "da", TWO_WEEKS),
    case("what is due by the end of February?", DUE, "en", BY_END_OF_FEB),
    case("deadlines this week", DUE, "en", THIS_WEEK),
    case("hvilke frister har vi?", DUE, "da"),
    case("deadlines?", DUE, "da"),
    case("deadlines?", DUE, "en", locale="en-US"),
    case("næste frist", DUE, "da"),
    case("next deadline", DUE, "en"),
    case("what is due next week?", DUE, "en", NEXT_WEEK),
    case("Hvilke opgaver har frist 31/1?", DUE, "da", JAN_31),
    case("hvad skal være færdigt inden 31.1.2019", DUE, "da", (None, "2019-02-01T00:00:00+01:00")),
    case("Opgaver med frist senest den 28/1-2019", DUE, "da", (None, "2019-01-29T00:00:00+01:00")),
    case("hvad har frist efter 1. februar", DUE, "da", ("2019-02-02T00:00:00+01:00", None)),
    case("deadlines before 1 Feb", DUE, "en", BY_1_FEB),
    case("anything due tomorrow?", DUE, "en", TOMORROW),
    case("FRISTER I DAG", DUE, "da", TODAY),
    case("hvad skal vi nå i dag", DUE, "da", TODAY),
    case(
        "what's due in the next 10 days",
        DUE,
        "en",
        ("2019-01-23T00:00:00+01:00", "2019-02-03T00:00:00+01:00"),
    ),
    case("is anything due within two weeks", DUE, "en", TWO_WEEKS),
    case("tasks due in 2 weeks", DUE, "en", TWO_WEEKS),
    case("frister inden for 14 dage", DUE, "da", TWO_WEEKS),
    case("frister de næste to uger", DUE, "da", TWO_WEEKS),
    case("hvad har frist mellem 1. og 15. februar", DUE, "da", FEB_1_TO_15),
    case("deadlines between 1 and 15 February", DUE, "en", FEB_1_TO_15),
    case("frister i februar", DUE, "da", FEBRUARY),
    case("Frister i Marts", DUE, "da", MARCH),
    case("hvad forfalder ultimo februar", DUE, "da", BY_END_OF_FEB),
    case("deadlines end of Feb", DUE, "en", BY_END_OF_FEB),
    case("hvilke opgaver skal være løst inden udgangen af februar", DUE, "da", BY_END_OF_FEB),
    case("hvad har frist i denne måned", DUE, "da", JANUARY),
    case("deadlines next month", DUE, "en", FEBRUARY),
    case("what is due on Friday", DUE, "en", FRIDAY),
    case("hvad skal vi nå inden næste fredag", DUE, "da", (None, "2019-01-26T00:00:00+01:00")),
    case("what is due by 2019-02-01", DUE, "en", BY_1_FEB),
    case("anything due on 1 Feb?", DUE, "en", FEB_1),
    case("what is due February 1st", DUE, "en", FEB_1),
    case("hvad har frist 5/2", DUE, "da", FEB_5),
    case("hvad har frist d. 31/1-2019", DUE, "da", JAN_31),
    case("Hvilke opgaver har vi i uge 5", DUE, "da", NEXT_WEEK),
    case("hvilke opgaver mangler vi i februar", DUE, "da", FEBRUARY),
    case("hvad har vi af deadlines", DUE, "da"),
    case("31/1", DUE, "da", JAN_31),
    case("kan jeg få en oversigt over frister", DUE, "da"),
    case("are we late on anything", DUE, "en"),
    # One task
    case("fortæl om kontaktpunkt", TASK, "da", subject="kontaktpunkt"),
    case("hvad går underskriftberettiget ud på?", TASK, "da", subject="underskriftberettiget"),
    case("tell me about the contact point task", TASK, "en", subject="contact point"),
    case("detaljer om it-miljø", TASK, "da", subject="it-miljø"),
    case("info om opgaven Godkend serviceaftale", TASK, "da", subject="godkend serviceaftale"),
    case("Fortæl mig mere om opgaven underskriftberettiget", TASK, "da", subject="underskriftberettiget"),
    case("Hvad går opgaven om it-miljø ud på?", TASK, "da", subject="it-miljø"),
    case("hvad indebærer serviceaftalen", TASK, "da", subject="serviceaftalen"),
    case("tell me more about the signatory task", TASK, "en", subject="signatory"),
    case("what is the FK administrator task about", TASK, "en", subject="fk administrator"),
    case("details on contact point", TASK, "en", subject="contact point"),
    case("Hvad er fristen for kontaktpunkt?", TASK, "da", subject="kontaktpunkt"),
    case("beskriv opgaven om fordelingsregler", TASK, "da", subject="fordelingsregler"),
    case("hvornår skal vi have udpeget kontaktpunkt", TASK, "da", subject="udpeget kontaktpunkt"),
    case("when is the contact point task due", TASK, "en", subject="contact point"),
    # Events
    case("kommende arrangementer", EVENTS, "da"),
    case("events in March", EVENTS, "en", MARCH),
    case("hvilke møder er der i februar?", EVENTS, "da", FEBRUARY),
    case("what's on the calendar", EVENTS, "en"),
    case("er der nogle arrangementer i marts?", EVENTS, "da", MARCH),
    case("upcoming events", EVENTS, "en"),
    case("events next month", EVENTS, "en", FEBRUARY),
    case("what meetings are there in February", EVENTS, "en", FEBRUARY),
    case("arangementer", EVENTS, "da"),
    case("vis mig kalenderen", EVENTS, "da"),
    case("Hvad sker der i næste uge?", EVENTS, "da", NEXT_WEEK),
    case("what's happening next week", EVENTS, "en", NEXT_WEEK),
    case("hvilke workshops er der", EVENTS, "da", subject="workshops", kind="workshop"),
    case("leverandørdag", EVENTS, "da", subject="leverandørdag", kind="leverandoerdag"),
    case("kursus i april", EVENTS, "da", APRIL, subject="kursus", kind="kursus"),
    case("programledermøder i maj", EVENTS, "da", MAY, subject="programledermøder", kind="programledermoede"),
    case("any courses in april?", EVENTS, "en", APRIL, subject="courses", kind="kursus"),
    case("er der en konference snart", EVENTS, "da", subject="konference", kind="konference"),
    # The next event
    case(
        "hvornår er næste programledermøde?", NEXT, "da", subject="programledermøde", kind="programledermoede"
    ),
    case(
        "when is the next programme leader meeting",
        NEXT,
        "en",
        subject="programme leader meeting",
        kind="programledermoede",
    ),
    case("næste workshop", NEXT, "da", subject="workshop", kind="workshop"),
    case(
        "hvornår er næste programledermøe", NEXT, "da", subject="programledermøde", kind="programledermoede"
    ),
    case(
        "Hvornår er det næste programledermøde i marts?",
        NEXT,
        "da",
        MARCH,
        subject="programledermøde",
        kind="programledermoede",
    ),
    case("hvornår er leverandørdagen", NEXT, "da", subject="leverandørdagen", kind="leverandoerdag"),
    case("Hvornår er kommunedagene?", NEXT, "da", subject="kommunedagene", kind="kommunedage"),
    case("when is the next webinar", NEXT, "en", subject="webinar", kind="webinar"),
    case("next masterclass", NEXT, "en", subject="masterclass", kind="masterclass"),
    case("when is the supplier day", NEXT, "en", subject="supplier day", kind="leverandoerdag"),
    case("næste kursus", NEXT, "da", subject="kursus", kind="kursus"),
    case("næste møde", NEXT, "da"),
    case("hvornår er der møde", NEXT, "da"),
    case(
        "hvornår er workshoppen om drift og forvaltning",
        NEXT,
        "da",
        subject="workshoppen drift forvaltning",
        kind="workshop",
    ),
    # Incidents
    case("er der driftsforstyrrelser?", INCIDENTS, "da"),
    case("any incidents?", INCIDENTS, "en"),
    case("er der nedbrud?", INCIDENTS, "da"),
    case("er der nedbrudd", INCIDENTS, "da"),
    case("driftsstatus", INCIDENTS, "da"),
    case("Er der nogen driftsforstyrrelser lige nu?", INCIDENTS, "da"),
    case("Er SAPA nede?", INCIDENTS, "da"),
    case("is serviceplatformen down", INCIDENTS, "en"),
    case("status på nedbruddet på Adgangsstyring", INCIDENTS, "da"),
    # Help
    case("hjælp", HELP, "da"),
    case("help", HELP, "en"),
    case("hvad kan du?", HELP, "da"),
    case("what can you do", HELP, "en"),
    case("?", HELP, "da"),
    case("?", HELP, "en", locale="en-GB"),
    case("hjælpp", HELP, "da"),
    case("hjaelp", HELP, "da"),
    case("Hjælp!", HELP, "da"),
    case("hvordan virker du", HELP, "da"),
    case("hvad kan jeg spørge om", HELP, "da"),
    case("kan du hjælpe mig", HELP, "da"),
    # Greetings and thanks
    case("hej", HI, "da"),
    case("godmorgen", HI, "da"),
    case("hello", HI, "en"),
    case("hi there", HI, "en"),
    case("tak", HI, "da"),
    case("Hej klikbot", HI, "da"),
    case("Hej 👋", HI, "da"),
    case("hejsa", HI, "da"),
    case("good morning", HI, "en"),
    case("thanks!", HI, "en"),
    case("Tusind tak 🙏", HI, "da"),
    case("tak for hjælpen", HI, "da"),
    # Cancel
    case("annuller", CANCEL, "da"),
    case("Annullér", CANCEL, "da"),
    case("stop", CANCEL, "da"),
    case("stop", CANCEL, "en", locale="en-US"),
    case("cancel", CANCEL, "en"),
    case("glem det", CANCEL, "da"),
    case("nevermind", CANCEL, "en"),
    case("never mind", CANCEL, "en"),
    case("nej tak", CANCEL, "da"),
    # Not understood: the cleaned words go back for fuzzy matching against task titles
    case("bananer er gule", UNKNOWN, "da", subject="bananer gule"),
    case("asdfgh", UNKNOWN, "da", subject="asdfgh"),
    case("stoppested", UNKNOWN, "da", subject="stoppested"),
    case("kontaktpunkt", UNKNOWN, "da", subject="kontaktpunkt"),
    case("SAPA", UNKNOWN, "en", subject="sapa", locale="en-US"),
    case("ok", UNKNOWN, "en", locale="en-GB"),
]


def _iso(period: Period | None) -> Window | None:
    if period is None:
        return None
    start, end = period.start, period.end
    return (start.isoformat() if start else None, end.isoformat() if end else None)


@pytest.mark.parametrize(("text", "locale", "intent", "language", "period", "subject", "kind"), CORPUS)
def test_corpus(
    text: str,
    locale: str | None,
    intent: Intent,
    language: str,
    period: Window | None,
    subject: str | None,
    kind: str | None,
) -> None:
    understood = understand(text, NOW, locale)
    assert understood.intent is intent
    assert understood.language == language
    assert _iso(understood.period) == period
    assert understood.subject == subject
    assert understood.event_kind == kind


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 70


def test_understanding_keeps_the_normalised_text() -> None:
    understood = understand("  Hvilke   OPGAVER mangler vi??  ", NOW)
    assert understood == Understanding(Intent.OUTSTANDING, "da", "hvilke opgaver mangler vi")


@pytest.mark.parametrize(
    ("text", "locale", "language"),
    [
        ("hvad mangler vi", None, "da"),
        ("hvad mangler vi", "en-US", "da"),
        ("what's due next week", "da-DK", "en"),
        ("når er næste møde", "en-GB", "da"),
        ("SAPA", None, "da"),
        ("SAPA", "en-US", "en"),
        ("SAPA", "EN-gb", "en"),
        ("SAPA", "da-DK", "da"),
        ("?", "en-US", "en"),
        ("ok", "de-DE", "da"),
        ("", None, "da"),
    ],
)
def test_detect_language(text: str, locale: str | None, language: str) -> None:
    assert detect_language(text, locale) == language


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("", Intent.UNKNOWN),
        ("   \n\t  ", Intent.UNKNOWN),
        ("👍🎉", Intent.UNKNOWN),
        ("\u200b\ufeff", Intent.UNKNOWN),
        ("<b>hej</b>", Intent.GREETING),
        ("<script>alert('x')</script>", Intent.UNKNOWN),
        ("<at>klikbot</at> hvilke opgaver mangler vi?", Intent.OUTSTANDING),
        ("'; DROP TABLE task; --", Intent.UNKNOWN),
        ("\x00\x07hjælp\x1b", Intent.HELP),
        ("hej &amp; farvel", Intent.GREETING),
        ("x" * 30_000, Intent.UNKNOWN),
        ("hvilke opgaver mangler vi? " + "bla " * 10_000, Intent.OUTSTANDING),
    ],
)
def test_bad_input_never_raises(text: str, intent: Intent) -> None:
    understood = understand(text, NOW)
    assert understood.intent is intent
    assert len(understood.text) <= MAX_CHARS
    assert "<" not in understood.text


def test_markup_and_controls_are_dropped() -> None:
    assert normalise("<b>Hej</b>") == "hej"
    assert normalise("<p>Hvad <i>mangler</i> vi?</p>") == "hvad mangler vi"
    assert normalise("  Fortæl   om\tKONTAKTPUNKT!! 🙂 ") == "fortæl om kontaktpunkt"
    assert normalise("hvad har frist < 1/2") == "hvad har frist < 1/2"
    assert normalise("\x00hvad\x07 mangler\u200bvi") == "hvad mangler vi"


def test_decomposed_letters_are_composed() -> None:
    understood = understand("frister i denne ma\u030aned", NOW)
    assert understood.text == "frister i denne måned"
    assert understood.intent is Intent.DUE
    assert _iso(understood.period) == JANUARY


def test_whole_words_only() -> None:
    assert understand("stop", NOW).intent is Intent.CANCEL
    assert understand("stoppested", NOW).intent is Intent.UNKNOWN
    assert understand("nedstop", NOW).intent is Intent.UNKNOWN
    # A cancel word inside a longer question does not throw the question away.
    assert understand("glem det, hvad mangler vi så?", NOW).intent is Intent.OUTSTANDING


def test_random_garbage_never_raises() -> None:
    rng = random.Random(20190123)
    alphabet = "abcæøå ?!/.-1234567890<>'\"\\;\x00\u200b😀é\u0301\n"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        understood = understand(text, NOW, rng.choice([None, "da-DK", "en-US", "xx"]))
        assert understood.intent in Intent
        assert understood.language in ("da", "en")
