"""The bot answers programme leaders over real HTTP, at the demo clock (23/1-2019 10:00).

Vejle (630) in the demo: Udpeg kontaktpunkt is Ikke påbegyndt, Udpeg underskriftberettiget is
Påbegyndt, Tjek it-miljø and both FK campaigns are Fuldført. København (101) has Tjek it-miljø
open (a deadline it sets itself) and the closed FK campaign "fordelingsregler" still Påbegyndt.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from storage.demo import demo_tenant_id
from tests.harness import KOMBIT, UNKNOWN_TENANT, BotUnderTest, start_bot

KONTAKTPUNKT = "Udpeg kontaktpunkt eller -person til incidenthåndtering"
UNDERSKRIFT = "Udpeg underskriftberettiget/-ede til abonnementsaftaler med SKAT eIndkomst"
IT_MILJOE = "Tjek at kommunens it-miljø er klar til idriftsættelse af den fælleskommunale infrastruktur, SAPA, KSD og KY"
KOEBENHAVN = demo_tenant_id(101)


def headings(card: dict) -> list[str]:
    """The bold headings of a card's sections, in order."""
    out = []
    for item in card["body"]:
        if item["type"] == "Container":
            for block in item["items"]:
                if block["type"] == "TextBlock" and block.get("weight") == "Bolder":
                    out.append(block["text"].removeprefix("⚠ "))
                    break
    return out


def facts(card: dict) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in card["body"]:
        for block in item.get("items", []):
            if block["type"] == "FactSet":
                found.update({f["title"]: f["value"] for f in block["facts"]})
    return found


async def test_outstanding_in_danish_sorted_by_deadline(bot: BotUnderTest) -> None:
    reply = await bot.ask_one("hvilke opgaver mangler vi?")
    card = reply.card
    assert card is not None
    assert card["body"][0]["text"] == "Udestående KLIK-opgaver for Vejle"
    assert headings(card) == [KONTAKTPUNKT, UNDERSKRIFT]
    text = reply.text
    assert "Frist: 31/1-2019 · Obligatorisk" in text
    assert "Frist: 31/1-2019 · Obligatorisk · På kritisk vej" in text
    assert "Jeres status: Ikke påbegyndt" in text and "Jeres status: Påbegyndt" in text
    assert "overskredet" not in text  # 31/1 has not passed on 23/1
    assert reply.method == "reply" and reply.reply_to_id


async def test_outstanding_in_english(bot: BotUnderTest) -> None:
    reply = await bot.ask_one("what's outstanding?", locale="en-US")
    assert reply.card is not None
    assert reply.card["body"][0]["text"] == "Outstanding KLIK tasks for Vejle"
    assert "Deadline: 31 Jan 2019 · Mandatory · On the critical path" in reply.text
    assert "Your status: Started" in reply.text


async def test_self_set_deadline_sorts_last_and_closed_campaigns_are_remembered(bot: BotUnderTest) -> None:
    reply = await bot.ask_one("hvad mangler vi", tenant=KOEBENHAVN)
    assert reply.card is not None
    assert headings(reply.card) == [KONTAKTPUNKT, IT_MILJOE]
    assert "Frist: I fastsætter selv fristen" in reply.text
    assert (
        "Husk at opdatere status i KLIK" in reply.text and "Godkend initielle fordelingsregler" in reply.text
    )


async def test_overdue_tasks_are_flagged_after_the_deadline(database_url: str) -> None:
    later = datetime.fromisoformat("2019-02-04T09:00:00+01:00")
    bot, connector = await start_bot(database_url, now=later)
    try:
        reply = await bot.ask_one("hvilke opgaver mangler vi?")
    finally:
        await bot.http.close()
        await bot.server.close()
        await connector.close()
    assert "Fristen 31/1-2019 er overskredet (4 dage)" in reply.text
    assert "2 har overskredet fristen" in reply.text
    assert reply.card is not None and reply.card["body"][0]["color"] == "Attention"


@pytest.mark.parametrize(
    ("question", "locale", "title", "expected"),
    [
        (
            "hvad har frist inden 1. februar?",
            "da-DK",
            "Frister til og med 1/2-2019",
            [KONTAKTPUNKT, UNDERSKRIFT],
        ),
        ("frister i næste uge", "da-DK", "Frister 28/1-2019 – 3/2-2019", [KONTAKTPUNKT, UNDERSKRIFT]),
        ("hvad skal vi nå om to uger?", "da-DK", "Frister 23/1-2019 – 6/2-2019", [KONTAKTPUNKT, UNDERSKRIFT]),
        ("frister denne uge", "da-DK", "Frister 21/1-2019 – 27/1-2019", []),
        (
            "what is due by the end of February?",
            "en-US",
            "Deadlines up to and including 28 Feb 2019",
            [KONTAKTPUNKT, UNDERSKRIFT],
        ),
    ],
)
async def test_due_within_a_period(
    bot: BotUnderTest, question: str, locale: str, title: str, expected: list[str]
) -> None:
    reply = await bot.ask_one(question, locale=locale)
    assert reply.card is not None
    assert reply.card["body"][0]["text"] == title
    assert headings(reply.card) == expected
    if not expected:
        assert "Ingen udestående opgaver har frist i den periode." in reply.text


async def test_task_detail_by_a_loose_title(bot: BotUnderTest) -> None:
    reply = await bot.ask_one("fortæl om kontaktpunkt")
    assert reply.card is not None
    assert reply.card["body"][0]["text"] == KONTAKTPUNKT
    assert facts(reply.card) == {
        "Program": "Monopolbrudsprogrammet",
        "Tilstand": "Aktuel",
        "Obligatorisk": "Ja",
        "Kritisk vej": "Nej",
        "Frist": "31/1-2019",
        "Kontakt": "Mbprogrammet@kombit.dk",
        "Jeres status": "Ikke påbegyndt",
    }
    assert "midlertidig" in reply.text


async def test_task_detail_of_a_self_set_deadline_says_why(bot: BotUnderTest) -> None:
    reply = await bot.ask_one("tell me about the it environment task", locale="en-US")
    assert reply.card is not None
    assert reply.card["body"][0]["text"] == IT_MILJOE
    assert facts(reply.card)["Deadline"] == "You set the deadline yourselves"
    assert "1-2 måneder før kommunens idriftsættelsesdato på SAPA" in reply.text
    assert facts(reply.card)["Your status"] == "Completed"


async def test_ambiguous_task_asks_and_remembers_the_choice(bot: BotUnderTest) -> None:
    conversation_id = "a:personal-ambiguous"
    question = await bot.ask_one("fortæl om administrator", conversation_id=conversation_id)
    assert question.card is not None
    assert question.card["body"][0]["text"] == "Hvilken opgave mener du?"
    offered = headings(question.card)
    assert len(offered) >= 2
    answer = await bot.ask_one("2", conversation_id=conversation_id)
    assert answer.card is not None
    assert answer.card["body"][0]["text"] == offered[1].split(". ", 1)[1]


async def test_card_button_opens_the_task(bot: BotUnderTest) -> None:
    reply = await bot.ask_one(
        "", value={"klikbot": "task", "id": "mbp-underskriftberettiget-skat", "lang": "da"}
    )
    assert reply.card is not None
    assert reply.card["body"][0]["text"] == UNDERSKRIFT
    assert facts(reply.card)["Kontakt"] == "KDI@kombit.dk"
    assert facts(reply.card)["Kritisk vej"] == "Ja"


async def test_next_programme_leader_meeting(bot: BotUnderTest) -> None:
    reply = await bot.ask_one("hvornår er næste programledermøde?")
    assert reply.card is not None
    assert reply.card["body"][0]["text"] == "Programledermøde februar"
    text = reply.text
    assert "Næste programledermøde er ons. 27/2-2019 kl. 10.00-11.00." in text
    assert "tors. 28/2-2019 kl. 13.30-14.30" in text
    assert "Sted: Via Skype" in text
    assert "For: KOMBIT-programledere" in text
    urls = [
        a["url"]
        for item in reply.card["body"]
        for b in item.get("items", [])
        if b["type"] == "ActionSet"
        for a in b["actions"]
    ]
    assert urls == [
        "https://www.kombit.dk/content/programlederm%C3%B8de-februar-1",
        "https://www.kombit.dk/content/programlederm%C3%B8de-februar-2",
        # No KLIKBOT_PUBLIC_URL in the tests: serve's default address.
        "http://127.0.0.1:3978/api/events/programledermoede-2019-02.ics",
    ]
    assert "→ Tilføj til kalender: http://127.0.0.1:3978/api/events/programledermoede-2019-02.ics" in text


async def test_upcoming_events_with_registration_deadline(bot: BotUnderTest) -> None:
    reply = await bot.ask_one("kommende arrangementer")
    assert reply.card is not None
    assert reply.card["body"][0]["text"] == "Kommende arrangementer"
    assert headings(reply.card)[:3] == [
        "Workshop om drift og forvaltning",
        "Leverandørdag om den fælleskommunale infrastruktur",
        "Programledermøde februar",
    ]
    assert "Tilmelding: Vil din kommune deltage, så skriv til mvp@kombit.dk, senest 28/1-2019" in reply.text
    assert "Sted: Vadehavet, KOMBIT" in reply.text


async def test_events_in_march_show_all_slots_and_sold_out(bot: BotUnderTest) -> None:
    reply = await bot.ask_one("events in March", locale="en-US")
    assert reply.card is not None
    assert reply.card["body"][0]["text"] == "Events 1 Mar 2019 – 31 Mar 2019"
    assert headings(reply.card) == [
        "Masterclass for kommunale teknikere (KL/KOMBIT)",
        "Programledermøde marts",
        "Hvordan lykkes du i dine styregrupper",
    ]
    assert "Mon 18 Mar 2019 – Tue 19 Mar 2019" in reply.text
    assert "Fri 29 Mar 2019 – sold out" in reply.text
    assert "Wed 12 Jun 2019, 09:30-16:00" in reply.text


async def test_incidents_none_open_shows_the_last_one(bot: BotUnderTest) -> None:
    reply = await bot.ask_one("er der driftsforstyrrelser?")
    assert reply.card is not None
    assert reply.card["body"][0]["text"] == "Ingen driftsforstyrrelser"
    assert "Nedbrud på Adgangsstyring (løst)" in reply.text
    assert "10/12-2018 kl. 02.21 – 10/12-2018 kl. 23.35" in reply.text
    assert "Adgangsstyring, BBR, DAR, SAPA, Serviceplatformen" in reply.text


async def test_help_and_fallback_offer_suggestions(bot: BotUnderTest) -> None:
    help_reply = await bot.ask_one("hjælp")
    assert help_reply.card is not None
    assert help_reply.card["body"][0]["text"] == "Det kan jeg hjælpe med"
    assert len(help_reply.card["actions"]) == 4
    fallback = await bot.ask_one("bananer er gule")
    assert fallback.card is not None
    assert fallback.card["body"][0]["text"] == "Det er jeg ikke sikker på, at jeg forstod"
    assert "Hvilke opgaver mangler vi?" in fallback.text
    assert fallback.card["actions"]


async def test_a_bare_task_name_is_a_question_about_it(bot: BotUnderTest) -> None:
    reply = await bot.ask_one("underskriftberettiget")
    assert reply.card is not None
    assert reply.card["body"][0]["text"] == UNDERSKRIFT


async def test_channel_with_mention_and_tenant_in_conversation(bot: BotUnderTest) -> None:
    reply = await bot.ask_one(
        "hvilke opgaver mangler vi?", conversation_type="channel", mention=True, tenant_in="conversation"
    )
    assert reply.card is not None
    assert reply.card["body"][0]["text"] == "Udestående KLIK-opgaver for Vejle"


async def test_unknown_tenant_is_told_how_to_register_and_still_reads_public_things(
    bot: BotUnderTest,
) -> None:
    reply = await bot.ask_one("hvilke opgaver mangler vi?", tenant=UNKNOWN_TENANT)
    assert reply.card is not None
    assert reply.card["body"][0]["text"] == "Jeg ved ikke, hvilken kommune du er fra"
    assert UNKNOWN_TENANT in reply.text and "Mbprogrammet@kombit.dk" in reply.text
    assert "Jeres status" not in reply.text
    events = await bot.ask_one("hvornår er næste programledermøde?", tenant=UNKNOWN_TENANT)
    assert events.card is not None and events.card["body"][0]["text"] == "Programledermøde februar"


async def test_kombit_staff_see_the_active_tasks(bot: BotUnderTest) -> None:
    reply = await bot.ask_one("what's outstanding?", tenant=KOMBIT, locale="en-US")
    assert reply.card is not None
    assert reply.card["body"][0]["text"] == "Active KLIK tasks"
    assert headings(reply.card) == [KONTAKTPUNKT, UNDERSKRIFT, IT_MILJOE]


async def test_welcome_on_install_in_personal_scope(bot: BotUnderTest) -> None:
    body = bot.activity(None, activity_type="installationUpdate", action="add")
    response = await bot.post(body)
    assert response.status in (200, 201)
    sent = bot.connector.take()
    assert len(sent) == 1 and sent[0].card is not None
    assert sent[0].card["body"][0]["text"] == "Velkommen til klikbot"
    assert "Jeg kender jer som Vejle Kommune." in sent[0].text


async def test_no_welcome_in_a_team_of_more_than_100(bot: BotUnderTest) -> None:
    bot.connector.team_member_count = 101
    body = bot.activity(None, activity_type="installationUpdate", action="add", conversation_type="channel")
    assert (await bot.post(body)).status in (200, 201)
    assert [r for r in bot.connector.take() if r.method != "get"] == []
    bot.connector.team_member_count = 40
    assert (await bot.post(body)).status in (200, 201)
    assert len(bot.connector.take()) == 1


async def test_several_messages_at_once_in_one_group_chat(bot: BotUnderTest) -> None:
    """People typing at once: every message is answered, none with "something went wrong",
    even though their turns race to save the conversation's state."""
    chat = "a:group-busy"
    await bot.ask_one("hej", conversation_id=chat, conversation_type="groupChat", mention=True)
    questions = ["hvilke opgaver mangler vi?", "fortæl om udpeg", "kommende arrangementer", "hjælp"] * 2
    bodies = [
        bot.activity(q, conversation_id=chat, conversation_type="groupChat", mention=True) for q in questions
    ]
    responses = await asyncio.gather(*(bot.post(body) for body in bodies))
    assert [r.status for r in responses] == [201] * len(questions)
    replies = bot.connector.take()
    assert len(replies) == len(questions)
    assert not [r.text for r in replies if "Beklager" in r.text]
    # The conversation still works, dialog state included.
    asked = await bot.ask_one(
        "fortæl om udpeg", conversation_id=chat, conversation_type="groupChat", mention=True
    )
    assert asked.card is not None and asked.card["body"][0]["text"] == "Hvilken opgave mener du?"
    answer = await bot.ask_one("1", conversation_id=chat, conversation_type="groupChat", mention=True)
    assert answer.card is not None and answer.card["body"][0]["text"].startswith("Udpeg")
