"""What programme leaders get when they write as they do: the fact asked first, then the card;
status reports in their own words, confirmed before an inferred status applies; never a dead end.

Over real HTTP with the fake Bot Connector, on SQLite and PostgreSQL, as Vejle (630) at the demo
clock. Vejle: Udpeg kontaktpunkt Ikke påbegyndt, Udpeg underskriftberettiget Påbegyndt, Tjek
it-miljø and the FK campaigns Fuldført.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from storage.demo import demo_tenant_id, load_demo_yaml
from storage.domain import TaskStatus
from tests.harness import KOMBIT, UNKNOWN_TENANT, BotUnderTest
from tests.test_status_changes import facts, history_of, intro, invoke, status_button, status_of

KONTAKTPUNKT = "mbp-kontaktpunkt-incident"
UNDERSKRIFT = "mbp-underskriftberettiget-skat"
IT_MILJOE = "mbp-tjek-it-miljoe"
KONTAKTPUNKT_TITLE = "Udpeg kontaktpunkt eller -person til incidenthåndtering"
UNDERSKRIFT_TITLE = "Udpeg underskriftberettiget/-ede til abonnementsaftaler med SKAT eIndkomst"


def title(card: dict[str, Any] | None) -> str:
    assert card is not None
    return str(card["body"][0]["text"])


def buttons(card: dict[str, Any] | None) -> list[str]:
    assert card is not None
    return [str(a["title"]) for a in card.get("actions", [])]


class Chat:
    """One conversation: every message in the same conversation, as in Teams."""

    def __init__(self, bot: BotUnderTest, **kwargs: Any) -> None:
        self.bot = bot
        self.id = f"a:personal-{uuid.uuid4().hex[:10]}"
        self.kwargs = kwargs

    async def say(self, text: str, **kwargs: Any) -> Any:
        return await self.bot.ask_one(text, conversation_id=self.id, **{**self.kwargs, **kwargs})


# --- the fact first -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "card_title", "fact"),
    [
        ("hvem skal vi sende skemaet til?", UNDERSKRIFT_TITLE, "send den til KDI@kombit.dk."),
        ("er kontaktpunktet obligatorisk eller frivilligt", KONTAKTPUNKT_TITLE, "Ja, opgaven er obligatorisk."),
        (
            "hvorfor ligger SKAT-opgaven på kritisk vej?",
            UNDERSKRIFT_TITLE,
            "Ja, opgaven er på kritisk vej. Obligatorisk på kritisk vej (ift. Ydelsesrefusion).",
        ),
        (
            "gælder kontaktpunktet kun for SAPA?",
            KONTAKTPUNKT_TITLE,
            "Afgrænset til Monopolbruddet: den fælleskommunale infrastruktur, SAPA, KSD og KY.",
        ),
        (
            "hvad sker der hvis vi ikke når kontaktpunkt inden fristen",
            KONTAKTPUNKT_TITLE,
            "KOMBIT følger op umiddelbart efter den 31/1-2019.",
        ),
        (
            "hvornår sender SKAT aftalerne?",
            UNDERSKRIFT_TITLE,
            "SKAT mailer primo februar abonnementsaftalerne direkte til kommunens underskriftberettigede.",
        ),
        ("deadline på kontaktpunktet?", KONTAKTPUNKT_TITLE, "Fristen er 31/1-2019."),
        ("hvad står vi til på underskriftsberettiget", UNDERSKRIFT_TITLE, "Jeres status er Påbegyndt."),
        ("hvem hos os er ansvarlig for kontaktpunkt-opgaven", KONTAKTPUNKT_TITLE, "Der er ikke registreret nogen ansvarlig hos jer."),
        ("hvad skal vi gøre i SKAT-opgaven", UNDERSKRIFT_TITLE, "Udfyld skemaet i bilag 1, kopier teksten til en mail og send den til KDI@kombit.dk."),
        ("hvem kan jeg spørge om kontaktpunktet", KONTAKTPUNKT_TITLE, "Kontakten for opgaven er Mbprogrammet@kombit.dk."),
        (
            "hvornår bliver FK-administrator opgaven publiceret",
            "Tjek/opret FK-administrator som bruger på Serviceplatformens Administrationsmodul",
            "Publiceres samtidig med, at de initielle fordelingsregler bliver tilgængelige.",
        ),
    ],
)
async def test_a_fact_of_a_task_comes_first(bot: BotUnderTest, question: str, card_title: str, fact: str) -> None:
    reply = await bot.ask_one(question)
    assert title(reply.card) == card_title
    assert reply.card is not None
    assert fact in intro(reply.card)
    assert facts(reply.card)["Program"] == "Monopolbrudsprogrammet"  # then the task's card


async def test_facts_in_english(bot: BotUnderTest) -> None:
    reply = await bot.ask_one("is the contact point task mandatory?", locale="en-US")
    assert reply.card is not None
    assert intro(reply.card) == "Yes, the task is mandatory."
    reply = await bot.ask_one("who do I email the signatory form to?", locale="en-US")
    assert reply.card is not None
    assert "KDI@kombit.dk" in intro(reply.card)
    assert facts(reply.card)["Contact"] == "KDI@kombit.dk"


@pytest.mark.parametrize(
    ("question", "event_title", "fact"),
    [
        ("PLM i april", "Programledermøde april", "fre. 26/4-2019 kl. 10.00-11.00 og man. 29/4-2019 kl. 13.00-14.00"),
        ("hvornår ligger mødet i marts", "Programledermøde marts", "tirs. 26/3-2019 kl. 10.00-11.00"),
        ("hvornaar er det næste PLM", "Programledermøde februar", "Næste programledermøde er ons. 27/2-2019 kl. 10.00-11.00."),
        (
            "hvornår kommer invitationen til martsmødet?",
            "Programledermøde marts",
            "KOMBIT bekræfter tilmeldingen med en Outlook-mødeindkaldelse cirka en uge før mødet",
        ),
        (
            "er der stadig plads på styregruppekurset den 29. marts",
            "Hvordan lykkes du i dine styregrupper",
            "29/3 er udsolgt, men der er stadig plads ons. 12/6-2019 kl. 09.30-16.00.",
        ),
        ("hvor holdes workshoppen om drift og forvaltning", "Workshop om drift og forvaltning", "Det foregår i Vadehavet, KOMBIT."),
        ("foregår februar-mødet på skype?", "Programledermøde februar", "foregår online via Skype"),
        (
            "hvem er leverandørdagen for",
            "Leverandørdag om den fælleskommunale infrastruktur",
            "Målgruppe: It-leverandører der leverer it-systemer til de danske kommuner.",
        ),
        (
            "tilmeldingsfrist til workshoppen?",
            "Workshop om drift og forvaltning",
            "Tilmeld jer senest 28/1-2019.",
        ),
    ],
)
async def test_a_fact_of_an_event_comes_first(bot: BotUnderTest, question: str, event_title: str, fact: str) -> None:
    reply = await bot.ask_one(question)
    assert title(reply.card) == event_title
    assert reply.card is not None
    assert fact in intro(reply.card)
    assert "Tilføj til kalender" in reply.text  # then the event's card


async def test_a_programme_answers_with_its_note_and_tasks(bot: BotUnderTest) -> None:
    yr = await bot.ask_one("hvornår kommer YR-opgaverne?")
    assert title(yr.card) == "Ydelsesrefusion (YR)"
    assert "Implementeringshåndbog og KLIK-opgaver forventes klar primo februar 2019." in yr.text
    aula = await bot.ask_one("hvad kommer der af opgaver i AULA")
    assert title(aula.card) == "AULA"
    assert "Udfør central og decentral opsætning af AULA (inkl. roller/rettigheder)" in aula.text
    assert "Kommende: endnu ikke aktiv i KLIK" in aula.text
    mbp = await bot.ask_one("what's coming in Monopolbrud?", locale="en-US")
    assert title(mbp.card) == "Monopolbrudsprogrammet (MBP)"
    assert KONTAKTPUNKT_TITLE in mbp.text and "Your status: Not started" in mbp.text


async def test_how_the_others_are_doing_is_counts_never_names(bot: BotUnderTest) -> None:
    reply = await bot.ask_one("hvor mange kommuner har fuldført kontaktpunktet?")
    assert title(reply.card).startswith("Sådan står det til i alle kommuner")
    assert "13 af 98 kommuner har fuldført opgaven, 9 er i gang og 76 er ikke påbegyndt." in reply.text
    assert "I står som Ikke påbegyndt." in reply.text
    general = await bot.ask_one("hvordan går det for de andre kommuner?")
    assert "Fuldført: 13 af 98" in general.text and "Fuldført: 18 af 98" in general.text
    english = await bot.ask_one("how many municipalities have completed the signatory task?", locale="en-US")
    assert "18 of 98 municipalities have completed the task" in english.text
    names = [m["name"] for m in load_demo_yaml()["municipalities"] if m["name"] != "Vejle"]
    for text in (reply.text, general.text, english.text):
        assert not [n for n in names if re.search(rf"\b{re.escape(n)}\b", text)]
    # KOMBIT staff get their table with the names.
    kombit = await bot.ask_one("hvor mange kommuner har fuldført kontaktpunktet?", tenant=KOMBIT)
    assert "Status i KLIK" in title(kombit.card) and "Mangler (85)" in kombit.text


@pytest.mark.parametrize(
    "question",
    ["hvad ligger og venter", "ikke-fuldførte klikopgaver", "har vi nogle opgaver der ikke er færdige?", "anything left on our plate?"],
)
async def test_outstanding_in_other_words(bot: BotUnderTest, question: str) -> None:
    reply = await bot.ask_one(question)
    assert title(reply.card) in ("Udestående KLIK-opgaver for Vejle", "Outstanding KLIK tasks for Vejle")


# --- never a dead end -------------------------------------------------------------------------------


async def test_a_task_named_alone_gets_its_card(bot: BotUnderTest) -> None:
    for text in ("kontaktpunkt", "incidentkontaktpersonen?", "SKAT-aftalerne"):
        reply = await bot.ask_one(text)
        assert title(reply.card) in (KONTAKTPUNKT_TITLE, UNDERSKRIFT_TITLE), text
        assert "ikke sikker" not in reply.text


async def test_nothing_recognised_offers_the_three_closest_things(bot: BotUnderTest) -> None:
    reply = await bot.ask_one("hvad er der til frokost i kantinen")
    assert title(reply.card) == "Det er jeg ikke sikker på, at jeg forstod"
    assert len(buttons(reply.card)) == 3
    nearer = await bot.ask_one("kan du minde mig om ting")
    assert "Påmind os om frister" in buttons(nearer.card)
    # A button asks its question.
    assert reply.card is not None
    data = reply.card["actions"][0]["data"]
    answer = await bot.ask_one("", value=data)
    assert title(answer.card) == "Udestående KLIK-opgaver for Vejle"


# --- status reports in the users' own words -----------------------------------------------------------


async def test_an_outcome_is_confirmed_with_ja_then_applied(bot: BotUnderTest, database_url: str) -> None:
    chat = Chat(bot)
    ask = await chat.say("kontaktpersonen er fundet")
    assert title(ask.card) == "Skal jeg sætte opgaven til Fuldført?"
    assert "Nu: Ikke påbegyndt → Fuldført" in ask.text and KONTAKTPUNKT_TITLE in ask.text
    assert buttons(ask.card) == ["Ja", "Nej"]
    assert await history_of(database_url, 630, KONTAKTPUNKT) == []  # nothing yet
    done = await chat.say("ja")
    assert done.card is not None
    assert intro(done.card) == "✓ Status ændret: Ikke påbegyndt → Fuldført"
    [change] = await history_of(database_url, 630, KONTAKTPUNKT)
    assert (change.new_status, change.source, change.user_name) == (TaskStatus.COMPLETED, "text", "Mette Vinther")


async def test_the_ja_button_applies_with_the_same_signing(bot: BotUnderTest, database_url: str) -> None:
    ask = await bot.ask_one("skemaet er sendt til KDI")
    assert ask.card is not None and title(ask.card) == "Skal jeg sætte opgaven til Fuldført?"
    yes = status_button(ask.card, "Ja")
    status, body = await invoke(bot, yes["data"])
    assert status == 200 and intro(body["value"]) == "✓ Status ændret: Påbegyndt → Fuldført"
    assert (await status_of(database_url, 630, UNDERSKRIFT))[0] is TaskStatus.COMPLETED
    # The same button pressed from another municipality's tenant changes nothing there.
    status, body = await invoke(bot, yes["data"], tenant=demo_tenant_id(751))
    assert "Vejle" not in intro(body["value"]) or "kan kun" in str(body["value"])
    assert (await status_of(database_url, 751, UNDERSKRIFT))[1] == 1


async def test_nej_changes_nothing(bot: BotUnderTest, database_url: str) -> None:
    chat = Chat(bot)
    await chat.say("vi har styr på kontaktpunktet")
    no = await chat.say("nej")
    assert title(no.card) == "Okay, jeg ændrer ikke noget."
    assert await history_of(database_url, 630, KONTAKTPUNKT) == []
    # Something else instead of ja/nej is simply a new question.
    chat2 = Chat(bot)
    await chat2.say("kontaktpersonen er fundet")
    other = await chat2.say("hvad mangler vi?")
    assert title(other.card) == "Udestående KLIK-opgaver for Vejle"
    assert await history_of(database_url, 630, KONTAKTPUNKT) == []


async def test_progress_and_going_back_about_the_task_just_shown(bot: BotUnderTest, database_url: str) -> None:
    chat = Chat(bot)
    await chat.say("fortæl om kontaktpunkt")
    ask = await chat.say("vi arbejder på det")
    assert title(ask.card) == "Skal jeg sætte opgaven til Påbegyndt?"
    assert "Jeg forstod, at I er i gang med den opgave, vi lige har talt om." in ask.text
    await chat.say("ja")
    assert (await status_of(database_url, 630, KONTAKTPUNKT))[0] is TaskStatus.STARTED
    back = await chat.say("vi er ikke gået i gang alligevel")
    assert title(back.card) == "Skal jeg sætte opgaven til Ikke påbegyndt?"
    await chat.say("jep")
    assert (await status_of(database_url, 630, KONTAKTPUNKT))[0] is TaskStatus.NOT_STARTED
    # An explicit command applies at once, without asking.
    done = await chat.say("ret status til påbegyndt")
    assert done.card is not None and intro(done.card) == "✓ Status ændret: Ikke påbegyndt → Påbegyndt"
    changes = await history_of(database_url, 630, KONTAKTPUNKT)
    assert [c.new_status for c in changes] == [TaskStatus.STARTED, TaskStatus.NOT_STARTED, TaskStatus.STARTED]


async def test_reports_in_english(bot: BotUnderTest, database_url: str) -> None:
    chat = Chat(bot, locale="en-US")
    await chat.say("tell me about the contact point task")
    ask = await chat.say("sorted")
    assert title(ask.card) == "Shall I set the task to Completed?"
    assert buttons(ask.card) == ["Yes", "No"]
    await chat.say("yes")
    assert (await status_of(database_url, 630, KONTAKTPUNKT))[0] is TaskStatus.COMPLETED
    back = await chat.say("we haven't started yet")
    assert title(back.card) == "Shall I set the task to Not started?"


async def test_a_report_naming_no_task_asks_which_never_guesses(bot: BotUnderTest, database_url: str) -> None:
    chat = Chat(bot, locale="en-US")
    which = await chat.say("we've appointed someone")
    assert title(which.card) == "Which task → Completed?"
    assert KONTAKTPUNKT_TITLE in which.text and UNDERSKRIFT_TITLE in which.text
    assert await history_of(database_url, 630, KONTAKTPUNKT) == []
    done = await chat.say("1")  # choosing the task confirms it
    assert done.card is not None and intro(done.card) == "✓ Status changed: Not started → Completed"
    assert (await status_of(database_url, 630, KONTAKTPUNKT))[0] is TaskStatus.COMPLETED
    assert await history_of(database_url, 630, UNDERSKRIFT) == []


@pytest.mark.parametrize(
    "text",
    [
        "har vi udpeget en kontaktperson?",
        "vi mangler stadig kontaktpersonen",
        "vi regner med at være færdige med kontaktpunktet i næste uge",
        "Odense er færdige med kontaktpunktet",
        "jeg ved ikke om skemaet er sendt til KDI",
    ],
)
async def test_questions_plans_and_negations_change_nothing(bot: BotUnderTest, database_url: str, text: str) -> None:
    reply = await bot.ask_one(text)
    assert "Skal jeg sætte" not in title(reply.card) and "Status ændret" not in reply.text
    assert await history_of(database_url, 630, KONTAKTPUNKT) == []
    assert await history_of(database_url, 630, UNDERSKRIFT) == []


async def test_reports_need_a_municipality(bot: BotUnderTest, database_url: str) -> None:
    for tenant in (UNKNOWN_TENANT, KOMBIT):
        reply = await bot.ask_one("kontaktpersonen er fundet", tenant=tenant)
        assert "Status ændret" not in reply.text and "Skal jeg sætte" not in reply.text
    assert await history_of(database_url, 630, KONTAKTPUNKT) == []
