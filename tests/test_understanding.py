"""What the understanding yields for typical messages: intent, language, period, facet and the task
or event named (against the demo catalogue), and that odd input never makes it raise.

The broad measure is the corpus (tests/corpus/, bench/understanding.py, tests/test_corpus.py);
these are the everyday phrasings, one assertion each, so a regression names itself.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from dialogs.lexicon import Lexicon
from dialogs.understanding import (
    MAX_CHARS,
    Facet,
    Intent,
    Understanding,
    detect_language,
    normalise,
    understand,
)
from storage.demo import demo_catalogue_words
from storage.domain import Period, TaskStatus

# The programme-leader meeting of 23 January 2019, a Wednesday.
NOW = datetime.fromisoformat("2019-01-23T10:00:00+01:00")
LEXICON = Lexicon(demo_catalogue_words())
VEJLE = 630

KONTAKTPUNKT = "mbp-kontaktpunkt-incident"
UNDERSKRIFT = "mbp-underskriftberettiget-skat"
IT_MILJOE = "mbp-tjek-it-miljoe"

Days = tuple[str | None, str | None]


def case(
    text: str,
    intent: Intent,
    language: str,
    *,
    period: Days | None = None,
    facet: Facet | None = None,
    task: str | None = None,
    event: str | None = None,
    kind: str | None = None,
    locale: str | None = None,
) -> object:
    return pytest.param(
        text, locale, intent, language, period, facet, task, event, kind, id=text or "<empty>"
    )


OUTSTANDING, DUE, TASK = Intent.OUTSTANDING, Intent.DUE, Intent.TASK
EVENTS, EVENT, INCIDENTS = Intent.EVENTS, Intent.EVENT, Intent.INCIDENTS
HELP, GREETING, CANCEL, UNKNOWN = Intent.HELP, Intent.GREETING, Intent.CANCEL, Intent.UNKNOWN
DESCRIPTION, DEADLINE, DATES = Facet.DESCRIPTION, Facet.DEADLINE, Facet.DATES

CORPUS = [
    case("hvilke opgaver mangler vi?", OUTSTANDING, "da"),
    case("what's outstanding?", OUTSTANDING, "en"),
    case("hvad skal vi lave", OUTSTANDING, "da"),
    case("status på vores opgaver", OUTSTANDING, "da"),
    case("hvad mangler vi", OUTSTANDING, "da"),
    case("Hvilke KLIK-opgaver mangler vi at lave?", OUTSTANDING, "da"),
    case("HVAD MANGLER VI", OUTSTANDING, "da"),
    case("Har vi nogen udestående opgaver", OUTSTANDING, "da"),
    case("udestaaende opgaver", OUTSTANDING, "da"),
    case("Hvad mangler Vejle Kommune?", OUTSTANDING, "da"),
    case("which tasks are still open?", OUTSTANDING, "en"),
    case("What do we need to do?", OUTSTANDING, "en"),
    case("show my tasks", OUTSTANDING, "en"),
    case("what's left to do", OUTSTANDING, "en"),
    case("hvilke opgavr manlger vi", OUTSTANDING, "da"),
    case("whats outstandng", OUTSTANDING, "en"),
    case("hvad har vi glemt", OUTSTANDING, "da"),
    case("hvad har frist inden 1. februar?", DUE, "da", period=(None, "2019-02-01")),
    case("frister i næste uge", DUE, "da", period=("2019-01-28", "2019-02-03")),
    case("hvad skal vi nå om to uger?", DUE, "da", period=("2019-01-23", "2019-02-06")),
    case("what is due by the end of February?", DUE, "en", period=(None, "2019-02-28")),
    case("deadlines this week", DUE, "en", period=("2019-01-21", "2019-01-27")),
    case("hvilke frister har vi?", DUE, "da"),
    case("deadlines?", DUE, "da"),
    case("deadlines?", DUE, "en", locale="en-US"),
    case("næste frist", DUE, "da"),
    case("next deadline", DUE, "en"),
    case("what is due next week?", DUE, "en", period=("2019-01-28", "2019-02-03")),
    case("Hvilke opgaver har frist 31/1?", DUE, "da", period=("2019-01-31", "2019-01-31")),
    case("hvad skal være færdigt inden 31.1.2019", DUE, "da", period=(None, "2019-01-31")),
    case("Opgaver med frist senest den 28/1-2019", DUE, "da", period=(None, "2019-01-28")),
    case("hvad har frist efter 1. februar", DUE, "da", period=("2019-02-02", None)),
    case("deadlines before 1 Feb", DUE, "en", period=(None, "2019-02-01")),
    case("anything due tomorrow?", DUE, "en", period=("2019-01-24", "2019-01-24")),
    case("FRISTER I DAG", DUE, "da", period=("2019-01-23", "2019-01-23")),
    case("hvad skal vi nå i dag", DUE, "da", period=("2019-01-23", "2019-01-23")),
    case("what's due in the next 10 days", DUE, "en", period=("2019-01-23", "2019-02-02")),
    case("is anything due within two weeks", DUE, "en", period=("2019-01-23", "2019-02-06")),
    case("tasks due in 2 weeks", DUE, "en", period=("2019-01-23", "2019-02-06")),
    case("frister inden for 14 dage", DUE, "da", period=("2019-01-23", "2019-02-06")),
    case("frister de næste to uger", DUE, "da", period=("2019-01-23", "2019-02-06")),
    case("hvad har frist mellem 1. og 15. februar", DUE, "da", period=("2019-02-01", "2019-02-15")),
    case("deadlines between 1 and 15 February", DUE, "en", period=("2019-02-01", "2019-02-15")),
    case("frister i februar", DUE, "da", period=("2019-02-01", "2019-02-28")),
    case("Frister i Marts", DUE, "da", period=("2019-03-01", "2019-03-31")),
    case("hvad forfalder ultimo februar", DUE, "da", period=(None, "2019-02-28")),
    case("deadlines end of Feb", DUE, "en", period=(None, "2019-02-28")),
    case("hvilke opgaver skal være løst inden udgangen af februar", DUE, "da", period=(None, "2019-02-28")),
    case("hvad har frist i denne måned", DUE, "da", period=("2019-01-01", "2019-01-31")),
    case("deadlines next month", DUE, "en", period=("2019-02-01", "2019-02-28")),
    case("what is due on Friday", DUE, "en", period=("2019-01-25", "2019-01-25")),
    case("hvad skal vi nå inden næste fredag", DUE, "da", period=(None, "2019-01-25")),
    case("what is due by 2019-02-01", DUE, "en", period=(None, "2019-02-01")),
    case("anything due on 1 Feb?", DUE, "en", period=("2019-02-01", "2019-02-01")),
    case("what is due February 1st", DUE, "en", period=("2019-02-01", "2019-02-01")),
    case("hvad har frist 5/2", DUE, "da", period=("2019-02-05", "2019-02-05")),
    case("hvad har frist d. 31/1-2019", DUE, "da", period=("2019-01-31", "2019-01-31")),
    case("Hvilke opgaver har vi i uge 5", DUE, "da", period=("2019-01-28", "2019-02-03")),
    case("hvilke opgaver mangler vi i februar", DUE, "da", period=("2019-02-01", "2019-02-28")),
    case("hvad har vi af deadlines", DUE, "da"),
    case("31/1", DUE, "da", period=("2019-01-31", "2019-01-31")),
    case("kan jeg få en oversigt over frister", DUE, "da"),
    case("are we late on anything", DUE, "en"),
    case("fortæl om kontaktpunkt", TASK, "da", facet=DESCRIPTION, task="mbp-kontaktpunkt-incident"),
    case(
        "hvad går underskriftberettiget ud på?",
        TASK,
        "da",
        facet=DESCRIPTION,
        task="mbp-underskriftberettiget-skat",
    ),
    case(
        "tell me about the contact point task",
        TASK,
        "en",
        facet=DESCRIPTION,
        task="mbp-kontaktpunkt-incident",
    ),
    case("detaljer om it-miljø", TASK, "da", facet=DESCRIPTION, task="mbp-tjek-it-miljoe"),
    case(
        "info om opgaven Godkend serviceaftale",
        TASK,
        "da",
        facet=DESCRIPTION,
        task="fk-godkend-serviceaftale",
    ),
    case(
        "Fortæl mig mere om opgaven underskriftberettiget",
        TASK,
        "da",
        facet=DESCRIPTION,
        task="mbp-underskriftberettiget-skat",
    ),
    case("Hvad går opgaven om it-miljø ud på?", TASK, "da", facet=DESCRIPTION, task="mbp-tjek-it-miljoe"),
    case("hvad indebærer serviceaftalen", TASK, "da", facet=DESCRIPTION, task="fk-godkend-serviceaftale"),
    case(
        "tell me more about the signatory task",
        TASK,
        "en",
        facet=DESCRIPTION,
        task="mbp-underskriftberettiget-skat",
    ),
    case(
        "what is the FK administrator task about",
        TASK,
        "en",
        facet=DESCRIPTION,
        task="fk-opret-fk-administrator",
    ),
    case("details on contact point", TASK, "en", facet=DESCRIPTION, task="mbp-kontaktpunkt-incident"),
    case("Hvad er fristen for kontaktpunkt?", TASK, "da", facet=DEADLINE, task="mbp-kontaktpunkt-incident"),
    case(
        "beskriv opgaven om fordelingsregler",
        TASK,
        "da",
        facet=DESCRIPTION,
        task="fk-godkend-fordelingsregler",
    ),
    case(
        "hvornår skal vi have udpeget kontaktpunkt",
        TASK,
        "da",
        facet=DEADLINE,
        task="mbp-kontaktpunkt-incident",
    ),
    case("when is the contact point task due", TASK, "en", facet=DEADLINE, task="mbp-kontaktpunkt-incident"),
    case("kommende arrangementer", EVENTS, "da"),
    case("events in March", EVENTS, "en", period=("2019-03-01", "2019-03-31")),
    case("hvilke møder er der i februar?", EVENTS, "da", period=("2019-02-01", "2019-02-28")),
    case("what's on the calendar", EVENTS, "en"),
    case("er der nogle arrangementer i marts?", EVENTS, "da", period=("2019-03-01", "2019-03-31")),
    case("upcoming events", EVENTS, "en"),
    case("events next month", EVENTS, "en", period=("2019-02-01", "2019-02-28")),
    case("what meetings are there in February", EVENTS, "en", period=("2019-02-01", "2019-02-28")),
    case("arangementer", EVENTS, "da"),
    case("vis mig kalenderen", EVENTS, "da"),
    case("Hvad sker der i næste uge?", EVENTS, "da", period=("2019-01-28", "2019-02-03")),
    case("what's happening next week", EVENTS, "en", period=("2019-01-28", "2019-02-03")),
    case("hvilke workshops er der", EVENTS, "da", kind="workshop"),
    case(
        "leverandørdag",
        EVENT,
        "da",
        facet=DATES,
        event="leverandoerdag-infrastruktur-2019",
        kind="leverandoerdag",
    ),
    case("kursus i april", EVENTS, "da", period=("2019-04-01", "2019-04-30"), kind="kursus"),
    case(
        "programledermøder i maj", EVENTS, "da", period=("2019-05-01", "2019-05-31"), kind="programledermoede"
    ),
    case("any courses in april?", EVENTS, "en", period=("2019-04-01", "2019-04-30"), kind="kursus"),
    case("er der en konference snart", EVENTS, "da", kind="konference"),
    case(
        "hvornår er næste programledermøde?",
        EVENT,
        "da",
        facet=DATES,
        event="programledermoede-2019-02",
        kind="programledermoede",
    ),
    case(
        "when is the next programme leader meeting",
        EVENT,
        "en",
        facet=DATES,
        event="programledermoede-2019-02",
        kind="programledermoede",
    ),
    case(
        "næste workshop",
        EVENT,
        "da",
        facet=DATES,
        event="workshop-drift-og-forvaltning-2019",
        kind="workshop",
    ),
    case(
        "hvornår er næste programledermøe",
        EVENT,
        "da",
        facet=DATES,
        event="programledermoede-2019-02",
        kind="programledermoede",
    ),
    case(
        "Hvornår er det næste programledermøde i marts?",
        EVENT,
        "da",
        period=("2019-03-01", "2019-03-31"),
        facet=DATES,
        event="programledermoede-2019-03",
        kind="programledermoede",
    ),
    case(
        "hvornår er leverandørdagen",
        EVENT,
        "da",
        facet=DATES,
        event="leverandoerdag-infrastruktur-2019",
        kind="leverandoerdag",
    ),
    case(
        "Hvornår er kommunedagene?", EVENT, "da", facet=DATES, event="kommunedage-2019-05", kind="kommunedage"
    ),
    case("when is the next webinar", EVENT, "en", facet=DATES, kind="webinar"),
    case(
        "next masterclass",
        EVENT,
        "en",
        facet=DATES,
        event="masterclass-kommunale-teknikere-2019",
        kind="masterclass",
    ),
    case(
        "when is the supplier day",
        EVENT,
        "en",
        facet=DATES,
        event="leverandoerdag-infrastruktur-2019",
        kind="leverandoerdag",
    ),
    case("næste kursus", EVENT, "da", facet=DATES, event="styregrupper-kursus-2019", kind="kursus"),
    case("næste møde", EVENT, "da", facet=DATES, event="programledermoede-2019-02", kind="programledermoede"),
    case(
        "hvornår er der møde",
        EVENT,
        "da",
        facet=DATES,
        event="programledermoede-2019-02",
        kind="programledermoede",
    ),
    case(
        "hvornår er workshoppen om drift og forvaltning",
        EVENT,
        "da",
        facet=DATES,
        event="workshop-drift-og-forvaltning-2019",
        kind="workshop",
    ),
    case("er der driftsforstyrrelser?", INCIDENTS, "da"),
    case("any incidents?", INCIDENTS, "en"),
    case("er der nedbrud?", INCIDENTS, "da"),
    case("er der nedbrudd", INCIDENTS, "da"),
    case("driftsstatus", INCIDENTS, "da"),
    case("Er der nogen driftsforstyrrelser lige nu?", INCIDENTS, "da"),
    case("Er SAPA nede?", INCIDENTS, "da"),
    case("is serviceplatformen down", INCIDENTS, "en"),
    case("status på nedbruddet på Adgangsstyring", INCIDENTS, "da"),
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
    case("hej", GREETING, "da"),
    case("godmorgen", GREETING, "da"),
    case("hello", GREETING, "en"),
    case("hi there", GREETING, "en"),
    case("tak", GREETING, "da"),
    case("Hej klikbot", GREETING, "da"),
    case("Hej 👋", GREETING, "da"),
    case("hejsa", GREETING, "da"),
    case("good morning", GREETING, "en"),
    case("thanks!", GREETING, "en"),
    case("Tusind tak 🙏", GREETING, "da"),
    case("tak for hjælpen", GREETING, "da"),
    case("annuller", CANCEL, "da"),
    case("Annullér", CANCEL, "da"),
    case("stop", CANCEL, "da"),
    case("stop", CANCEL, "en", locale="en-US"),
    case("cancel", CANCEL, "en"),
    case("glem det", CANCEL, "da"),
    case("nevermind", CANCEL, "en"),
    case("never mind", CANCEL, "en"),
    case("nej tak", CANCEL, "da"),
    case("bananer er gule", UNKNOWN, "da"),
    case("asdfgh", UNKNOWN, "da"),
    case("stoppested", UNKNOWN, "da"),
    case("kontaktpunkt", TASK, "da", facet=DESCRIPTION, task="mbp-kontaktpunkt-incident"),
    case("SAPA", TASK, "en", facet=DESCRIPTION, task="mbp-tjek-it-miljoe", locale="en-US"),
    case("ok", UNKNOWN, "en", locale="en-GB"),
]


def _days(period: Period | None) -> Days | None:
    if period is None:
        return None
    first = period.start.date().isoformat() if period.start else None
    last = (period.end - timedelta(microseconds=1)).date().isoformat() if period.end else None
    return first, last


@pytest.mark.parametrize(
    ("text", "locale", "intent", "language", "period", "facet", "task", "event", "kind"), CORPUS
)
def test_corpus(
    text: str,
    locale: str | None,
    intent: Intent,
    language: str,
    period: Days | None,
    facet: Facet | None,
    task: str | None,
    event: str | None,
    kind: str | None,
) -> None:
    understood = understand(text, NOW, locale, lexicon=LEXICON)
    assert understood.intent is intent
    assert understood.language == language
    assert _days(understood.period) == period
    assert understood.facet is facet
    assert understood.task == task
    assert understood.event == event
    assert understood.event_kind == kind


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 150


def test_understanding_keeps_the_normalised_text() -> None:
    understood = understand("  Hvilke   OPGAVER mangler vi??  ", NOW)
    assert understood == Understanding(Intent.OUTSTANDING, "da", "hvilke opgaver mangler vi")


def test_without_the_catalogue_nothing_is_named() -> None:
    understood = understand("fortæl om kontaktpunkt", NOW)
    assert (understood.intent, understood.task, understood.subject) == (Intent.TASK, None, "kontaktpunkt")


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


# --- facets ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "facet", "task"),
    [
        ("hvem skal vi sende skemaet til?", Facet.CONTACT, UNDERSKRIFT),
        ("who do we email the signatory form to", Facet.CONTACT, UNDERSKRIFT),
        ("er kontaktpunktet obligatorisk?", Facet.MANDATORY, KONTAKTPUNKT),
        ("is the contact point task optional?", Facet.MANDATORY, KONTAKTPUNKT),
        ("hvorfor er SKAT-opgaven på kritisk vej", Facet.CRITICAL_PATH, UNDERSKRIFT),
        ("gælder kontaktpunktet kun for SAPA?", Facet.SCOPE, KONTAKTPUNKT),
        ("does the contact point cover KY too?", Facet.SCOPE, KONTAKTPUNKT),
        ("hvad sker der hvis vi ikke når underskriftberettiget til tiden", Facet.CONSEQUENCE, UNDERSKRIFT),
        ("what happens if we miss the deadline for the contact point", Facet.CONSEQUENCE, KONTAKTPUNKT),
        ("hvornår sender SKAT aftalerne", Facet.FOLLOW_UP, UNDERSKRIFT),
        ("hvornår bliver FK-administrator opgaven publiceret", Facet.FOLLOW_UP, "fk-opret-fk-administrator"),
        ("hvem hos os er ansvarlig for it-miljøet", Facet.RESPONSIBLE, IT_MILJOE),
        ("har vi udpeget en kontaktperson?", Facet.STATUS, KONTAKTPUNKT),
        ("hvad er vores status på SKAT-opgaven", Facet.STATUS, UNDERSKRIFT),
        ("frist på kontaktpunkt?", Facet.DEADLINE, KONTAKTPUNKT),
        ("hvad går fordelingsreglerne ud på", Facet.DESCRIPTION, "fk-godkend-fordelingsregler"),
    ],
)
def test_task_facets(text: str, facet: Facet, task: str) -> None:
    understood = understand(text, NOW, lexicon=LEXICON)
    assert (understood.intent, understood.facet, understood.task) == (Intent.TASK, facet, task)


@pytest.mark.parametrize(
    ("text", "facet", "event"),
    [
        ("PLM i april", Facet.DATES, "programledermoede-2019-04"),
        ("mødet i marts", Facet.DATES, "programledermoede-2019-03"),
        ("hvornår kommer indkaldelsen til martsmødet", Facet.INVITATION, "programledermoede-2019-03"),
        ("er der stadig plads på styregruppekurset?", Facet.REGISTRATION, "styregrupper-kursus-2019"),
        ("hvor holdes workshoppen", Facet.PLACE, "workshop-drift-og-forvaltning-2019"),
        ("hvem er leverandørdagen for", Facet.AUDIENCE, "leverandoerdag-infrastruktur-2019"),
        ("hvad handler kommunedagene om", Facet.DESCRIPTION, "kommunedage-2019-05"),
        ("when is the next PLM", Facet.DATES, "programledermoede-2019-02"),
    ],
)
def test_event_facets(text: str, facet: Facet, event: str) -> None:
    understood = understand(text, NOW, lexicon=LEXICON)
    assert (understood.intent, understood.facet, understood.event) == (Intent.EVENT, facet, event)


@pytest.mark.parametrize(
    ("text", "programme"),
    [
        ("hvad kommer der i AULA", "aula"),
        ("hvornår kommer YR-opgaverne", "ydelsesrefusion"),
        ("what's coming in Monopolbrud?", "monopolbrud"),
        ("nyt om ydelsesrefusion?", "ydelsesrefusion"),
    ],
)
def test_programmes(text: str, programme: str) -> None:
    understood = understand(text, NOW, lexicon=LEXICON)
    assert (understood.intent, understood.programme) == (Intent.PROGRAMME, programme)


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ("hvor mange kommuner har fuldført kontaktpunktet?", KONTAKTPUNKT),
        ("er vi de eneste der mangler SKAT-opgaven", UNDERSKRIFT),
        ("how many municipalities have finished the it environment check", IT_MILJOE),
        ("hvordan går det for de andre kommuner", None),
    ],
)
def test_counts(text: str, task: str | None) -> None:
    understood = understand(text, NOW, lexicon=LEXICON)
    assert (understood.intent, understood.task, understood.whose.value) == (Intent.COUNTS, task, "all")


# --- status reports ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "context", "status", "task", "explicit"),
    [
        ("kontaktpersonen er fundet", None, TaskStatus.COMPLETED, KONTAKTPUNKT, False),
        ("skemaet er sendt til KDI", None, TaskStatus.COMPLETED, UNDERSKRIFT, False),
        ("det er på plads", KONTAKTPUNKT, TaskStatus.COMPLETED, KONTAKTPUNKT, False),
        ("klaret", UNDERSKRIFT, TaskStatus.COMPLETED, UNDERSKRIFT, False),
        ("vi har styr på det", KONTAKTPUNKT, TaskStatus.COMPLETED, KONTAKTPUNKT, False),
        ("sorted", UNDERSKRIFT, TaskStatus.COMPLETED, UNDERSKRIFT, False),
        ("vi arbejder på det", KONTAKTPUNKT, TaskStatus.STARTED, KONTAKTPUNKT, False),
        ("working on it", UNDERSKRIFT, TaskStatus.STARTED, UNDERSKRIFT, False),
        ("vi er ikke gået i gang alligevel", KONTAKTPUNKT, TaskStatus.NOT_STARTED, KONTAKTPUNKT, False),
        ("we haven't started yet", UNDERSKRIFT, TaskStatus.NOT_STARTED, UNDERSKRIFT, False),
        ("ret status til påbegyndt", IT_MILJOE, TaskStatus.STARTED, IT_MILJOE, True),
        ("sæt kontaktpunkt til fuldført", None, TaskStatus.COMPLETED, KONTAKTPUNKT, True),
        ("mark the signatory task as completed", None, TaskStatus.COMPLETED, UNDERSKRIFT, True),
        # The message names a task: that one, not the one last shown.
        ("SKAT-opgaven er klaret", KONTAKTPUNKT, TaskStatus.COMPLETED, UNDERSKRIFT, False),
        # Part of it done is progress; what remains is said in the same sentence.
        ("den er cirka 70 % færdig", IT_MILJOE, TaskStatus.STARTED, IT_MILJOE, False),
        (
            "certifikaterne er tjekket, men firewallen mangler",
            IT_MILJOE,
            TaskStatus.STARTED,
            IT_MILJOE,
            False,
        ),
        ("tre ud af fire underskrivere er fundet", None, TaskStatus.STARTED, UNDERSKRIFT, False),
        # A role filled is the outcome of a task that asks for it.
        ("Vores kontaktpunkt ved nedbrud er IT-Supporten", None, TaskStatus.COMPLETED, KONTAKTPUNKT, False),
        ("nu har vi en kontaktperson til incidents", None, TaskStatus.COMPLETED, KONTAKTPUNKT, False),
        # "igen" in a greeting goes back on nothing; a belief now known wrong does.
        ("hej igen, vi blev færdige med SKAT-skemaet i går", None, TaskStatus.COMPLETED, UNDERSKRIFT, False),
        (
            "vi troede skemaet var sendt, men det ligger stadig i udbakken",
            None,
            TaskStatus.STARTED,
            UNDERSKRIFT,
            False,
        ),
        # Of two tasks named, the clause that reports says which; the plan is about the other.
        (
            "skemaet til KDI er sendt, og kontaktpersonen finder vi i næste uge",
            None,
            TaskStatus.COMPLETED,
            UNDERSKRIFT,
            False,
        ),
        # A date in a clause about something else does not make the report a plan.
        (
            "Vi har udpeget en kontaktperson, og hun deltager i workshoppen 5. februar",
            None,
            TaskStatus.COMPLETED,
            KONTAKTPUNKT,
            False,
        ),
        # An indirect question is part of a statement; chat shorthand is read ("m" is "med").
        (
            "we're on it, HR is checking who can cover the incident contact role",
            None,
            TaskStatus.STARTED,
            KONTAKTPUNKT,
            False,
        ),
        ("sidder m kontaktpunktet nu", None, TaskStatus.STARTED, KONTAKTPUNKT, False),
    ],
)
def test_status_reports(
    text: str, context: str | None, status: TaskStatus, task: str, explicit: bool
) -> None:
    understood = understand(text, NOW, lexicon=LEXICON, context=context, municipality=VEJLE)
    report = understood.report
    assert understood.intent is Intent.REPORT and report is not None
    assert (report.status, report.task, report.explicit) == (status, task, explicit)


def test_a_report_that_names_no_task_asks_which() -> None:
    report = understand("we've appointed someone", NOW, lexicon=LEXICON, municipality=VEJLE).report
    assert report is not None and report.task is None
    assert set(report.candidates) == {KONTAKTPUNKT, UNDERSKRIFT}
    # With one of the two just shown, it is that one (the user still confirms).
    report = understand("we've appointed someone", NOW, lexicon=LEXICON, context=UNDERSKRIFT).report
    assert report is not None and report.task == UNDERSKRIFT and report.via_context


def test_work_reported_in_other_words_is_never_on_an_announced_task() -> None:
    # AULA's rollout test is announced, not in KLIK: the bot asks which task rather than pick it.
    report = understand("udrulningsprøven er gennemført", NOW, lexicon=LEXICON, municipality=VEJLE).report
    assert report is not None and report.task is None
    # "testene" is a word of the rollout test's name, but the task just shown is the IT environment.
    report = understand(
        "alle klienter er testet og virker", NOW, lexicon=LEXICON, context=IT_MILJOE, municipality=VEJLE
    ).report
    assert report is not None and report.task == IT_MILJOE


def test_a_command_that_points_back_past_another_task_asks_which() -> None:
    # "den" may be the task just shown or the one the message names: a command applies at once.
    report = understand(
        "SKAT-opgaven nævnte Birgitte også, men den er færdig",
        NOW,
        lexicon=LEXICON,
        context=KONTAKTPUNKT,
        municipality=VEJLE,
    ).report
    assert report is not None and report.explicit and report.task is None
    assert set(report.candidates) == {UNDERSKRIFT, KONTAKTPUNKT}


@pytest.mark.parametrize(
    "text",
    [
        "har vi udpeget en kontaktperson?",
        "har vi udpeget en kontaktperson",
        "vi mangler stadig kontaktpersonen",
        "vi regner med at være færdige i næste uge",
        "vi er færdige med kontaktpunkt på fredag",
        "Odense er færdige med kontaktpunktet",
        "de andre kommuner har sendt skemaet",
        "jeg ved ikke om skemaet er sendt",
        "gid vi var færdige",
        "mind mig om at sætte kontaktpunkt til fuldført",
        "we will have it done next week",
        "hvor mange har fuldført kontaktpunkt",
        "jeg har tilmeldt mig PLM i februar",
        "sæt ikke SKAT-opgaven til fuldført endnu",
        "Heads-up: SAPA is slow for everyone, KOMBIT is on it",
        "det eneste vi mangler er kontaktpunktet",
        "jeg vil gerne vide om vi har meldt en kontaktperson ind",
    ],
)
def test_questions_plans_and_negations_report_nothing(text: str) -> None:
    understood = understand(text, NOW, lexicon=LEXICON, context=KONTAKTPUNKT, municipality=VEJLE)
    assert understood.report is None


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
    understood = understand(text, NOW, lexicon=LEXICON)
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
    assert _days(understood.period) == ("2019-01-01", "2019-01-31")


def test_whole_words_only() -> None:
    assert understand("stop", NOW).intent is Intent.CANCEL
    assert understand("stoppested", NOW, lexicon=LEXICON).intent is Intent.UNKNOWN
    assert understand("nedstop", NOW, lexicon=LEXICON).intent is Intent.UNKNOWN
    # A cancel word inside a longer question does not throw the question away.
    assert understand("glem det, hvad mangler vi så?", NOW).intent is Intent.OUTSTANDING


def test_random_garbage_never_raises() -> None:
    rng = random.Random(20190123)
    alphabet = "abcæøå ?!/.-1234567890<>'\"\\;\x00\u200b😀é\u0301\n"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        understood = understand(text, NOW, rng.choice([None, "da-DK", "en-US", "xx"]), lexicon=LEXICON)
        assert understood.intent in Intent
        assert understood.language in ("da", "en")
