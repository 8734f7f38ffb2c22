"""Programme leaders change their municipality's status in the conversation (issue 3).

Demo statuses used here: Vejle (630) has Udpeg kontaktpunkt = Ikke påbegyndt and
Udpeg underskriftberettiget = Påbegyndt; Aarhus (751) has both Ikke påbegyndt.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

import storage.status_changes as status_changes
from storage.db import create_engine
from storage.demo import demo_tenant_id, load_demo_yaml
from storage.domain import TaskStatus
from storage.models import MunicipalityTaskStatus, StatusChange
from tests.harness import UNKNOWN_TENANT, VEJLE, BotUnderTest

KONTAKTPUNKT_ID = "mbp-kontaktpunkt-incident"
UNDERSKRIFT_ID = "mbp-underskriftberettiget-skat"
AARHUS = demo_tenant_id(751)


async def status_of(database_url: str, code: int, task_id: str) -> tuple[TaskStatus, int]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as db:
            row = (
                await db.execute(
                    select(MunicipalityTaskStatus.status, MunicipalityTaskStatus.version).where(
                        MunicipalityTaskStatus.municipality_code == code,
                        MunicipalityTaskStatus.task_id == task_id,
                    )
                )
            ).one()
    finally:
        await engine.dispose()
    return row.status, row.version


async def history_of(database_url: str, code: int, task_id: str) -> list[Any]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as db:
            rows = await db.execute(
                select(StatusChange)
                .where(StatusChange.municipality_code == code, StatusChange.task_id == task_id)
                .order_by(StatusChange.id)
            )
            return list(rows)
    finally:
        await engine.dispose()


def intro(card: dict[str, Any]) -> str:
    return (
        str(card["body"][1]["text"])
        if len(card["body"]) > 1 and card["body"][1]["type"] == "TextBlock"
        else ""
    )


def actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every action in the card, nested ones included."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Action."):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


def status_button(card: dict[str, Any], title: str) -> dict[str, Any]:
    return next(a for a in actions(card) if a["type"] == "Action.Execute" and a["title"] == title)


def facts(card: dict[str, Any]) -> dict[str, str]:
    return {f["title"]: f["value"] for a in actions(card)[:0] for f in a} | {
        f["title"]: f["value"]
        for item in card["body"]
        for block in item.get("items", [])
        if block["type"] == "FactSet"
        for f in block["facts"]
    }


async def invoke(
    bot: BotUnderTest, data: dict[str, Any], tenant: str = VEJLE, **kwargs: Any
) -> tuple[int, Any]:
    body = bot.activity(
        None,
        tenant=tenant,
        activity_type="invoke",
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Execute", "verb": "setStatus", "data": data}, "trigger": "manual"},
        **kwargs,
    )
    response = await bot.post(body)
    return response.status, await response.json()


async def test_text_command_changes_status_and_records_who(bot: BotUnderTest, database_url: str) -> None:
    reply = await bot.ask_one("sæt 'Udpeg kontaktpunkt' til fuldført")
    assert reply.card is not None
    assert intro(reply.card) == "✓ Status ændret: Ikke påbegyndt → Fuldført"
    assert facts(reply.card)["Jeres status"] == "Fuldført"
    assert facts(reply.card)["Senest ændret"] == "Fuldført af Mette Vinther, 23/1 10.00"
    assert await status_of(database_url, 630, KONTAKTPUNKT_ID) == (TaskStatus.COMPLETED, 2)
    [change] = await history_of(database_url, 630, KONTAKTPUNKT_ID)
    assert (change.old_status, change.new_status, change.source) == (
        TaskStatus.NOT_STARTED,
        TaskStatus.COMPLETED,
        "text",
    )
    assert (change.user_name, change.aad_object_id, change.user_id) == (
        "Mette Vinther",
        "aad-user-1",
        "29:user-1",
    )
    assert change.changed_at == datetime.fromisoformat("2019-01-23T10:00:00+01:00")
    outstanding = await bot.ask_one("hvilke opgaver mangler vi?")
    assert "Udpeg kontaktpunkt" not in outstanding.text


@pytest.mark.parametrize(
    ("text", "locale", "task_id", "expected", "confirmation"),
    [
        (
            "vi er gået i gang med underskriftberettiget",
            "da-DK",
            UNDERSKRIFT_ID,
            TaskStatus.STARTED,
            "✓ Status ændret: Ikke påbegyndt → Påbegyndt",
        ),
        (
            "mark the contact point task as completed",
            "en-US",
            KONTAKTPUNKT_ID,
            TaskStatus.COMPLETED,
            "✓ Status changed: Not started → Completed",
        ),
        (
            "kontaktpunkt er fuldført",
            "da-DK",
            KONTAKTPUNKT_ID,
            TaskStatus.COMPLETED,
            "✓ Status ændret: Ikke påbegyndt → Fuldført",
        ),
    ],
)
async def test_phrasings_of_a_change(
    bot: BotUnderTest,
    database_url: str,
    text: str,
    locale: str,
    task_id: str,
    expected: TaskStatus,
    confirmation: str,
) -> None:
    reply = await bot.ask_one(text, tenant=AARHUS, locale=locale)
    assert reply.card is not None
    assert intro(reply.card) == confirmation
    assert (await status_of(database_url, 751, task_id))[0] is expected


async def test_same_status_changes_nothing(bot: BotUnderTest, database_url: str) -> None:
    reply = await bot.ask_one("vi er gået i gang med underskriftberettiget")
    assert reply.card is not None
    assert intro(reply.card) == "Status er allerede Påbegyndt. Intet er ændret."
    assert await history_of(database_url, 630, UNDERSKRIFT_ID) == []


async def test_card_button_with_action_execute_updates_the_card(bot: BotUnderTest, database_url: str) -> None:
    detail = await bot.ask_one("fortæl om kontaktpunkt")
    assert detail.card is not None
    button = status_button(detail.card, "Fuldført")
    assert button["fallback"]["type"] == "Action.Submit"
    assert button["fallback"]["data"] == button["data"]
    status, body = await invoke(bot, button["data"])
    assert status == 200
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert intro(body["value"]) == "✓ Status ændret: Ikke påbegyndt → Fuldført"
    assert await status_of(database_url, 630, KONTAKTPUNKT_ID) == (TaskStatus.COMPLETED, 2)
    [change] = await history_of(database_url, 630, KONTAKTPUNKT_ID)
    assert change.source == "card"
    assert bot.connector.take() == []  # the card itself is the answer


async def test_submit_fallback_updates_the_card_in_place(bot: BotUnderTest, database_url: str) -> None:
    detail = await bot.ask_one("fortæl om kontaktpunkt")
    assert detail.card is not None
    data = status_button(detail.card, "Påbegyndt")["fallback"]["data"]
    [update] = await bot.ask("", value=data, replyToId="card-activity-1")
    assert update.method == "update" and update.activity_id == "card-activity-1"
    assert update.card is not None
    assert intro(update.card) == "✓ Status ændret: Ikke påbegyndt → Påbegyndt"
    assert (await status_of(database_url, 630, KONTAKTPUNKT_ID))[0] is TaskStatus.STARTED


async def test_a_stale_card_says_so_instead_of_overwriting(bot: BotUnderTest, database_url: str) -> None:
    detail = await bot.ask_one("fortæl om kontaktpunkt")
    assert detail.card is not None
    stale = status_button(detail.card, "Påbegyndt")["data"]
    await bot.ask_one("sæt kontaktpunkt til fuldført", user_name="Anne Holm")
    status, body = await invoke(bot, stale)
    assert status == 200
    assert intro(body["value"]).startswith(
        "Status blev ændret af en anden, efter kortet blev vist (Fuldført af Anne Holm, 23/1 10.00)"
    )
    assert await status_of(database_url, 630, KONTAKTPUNKT_ID) == (TaskStatus.COMPLETED, 2)
    assert len(await history_of(database_url, 630, KONTAKTPUNKT_ID)) == 1


async def test_a_card_from_another_municipality_is_refused(bot: BotUnderTest, database_url: str) -> None:
    detail = await bot.ask_one("fortæl om kontaktpunkt")  # Vejle's card
    assert detail.card is not None
    data = status_button(detail.card, "Fuldført")["data"]
    status, body = await invoke(bot, data, tenant=AARHUS)
    assert status == 200
    assert body["value"]["body"][0]["text"] == "Det kan jeg ikke gøre"
    assert "hører ikke til Aarhus Kommune" in intro(body["value"])
    assert (await status_of(database_url, 630, KONTAKTPUNKT_ID))[0] is TaskStatus.NOT_STARTED
    assert (await status_of(database_url, 751, KONTAKTPUNKT_ID))[0] is TaskStatus.NOT_STARTED


@pytest.mark.parametrize(
    "edit",
    [
        {"municipality": 751},  # names Aarhus while sent from Vejle
        {"task": UNDERSKRIFT_ID},  # another task than the card was for
        {"version": 7},
        {"sig": "0" * 32},
    ],
)
async def test_an_edited_payload_changes_nothing(
    bot: BotUnderTest, database_url: str, edit: dict[str, Any]
) -> None:
    detail = await bot.ask_one("fortæl om kontaktpunkt")
    assert detail.card is not None
    data = {**status_button(detail.card, "Fuldført")["data"], **edit}
    status, body = await invoke(bot, data)
    assert status == 200
    assert body["value"]["body"][0]["text"] == "Det kan jeg ikke gøre"
    for code in (630, 751):
        for task in (KONTAKTPUNKT_ID, UNDERSKRIFT_ID):
            assert await history_of(database_url, code, task) == []


async def test_unknown_tenant_cannot_change(bot: BotUnderTest) -> None:
    reply = await bot.ask_one("sæt kontaktpunkt til fuldført", tenant=UNKNOWN_TENANT)
    assert reply.card is not None
    assert reply.card["body"][0]["text"] == "Det kan jeg ikke gøre"
    assert UNKNOWN_TENANT in reply.text


async def test_an_announced_task_cannot_change_yet(bot: BotUnderTest) -> None:
    reply = await bot.ask_one("sæt FK-administrator til fuldført")
    assert reply.card is not None
    assert "kun annonceret" in reply.text
    detail = await bot.ask_one("fortæl om FK-administrator")
    assert detail.card is not None
    assert [a for a in actions(detail.card) if a["type"] == "Action.Execute"] == []


async def test_guided_dialog_asks_for_the_task_then_changes(bot: BotUnderTest, database_url: str) -> None:
    conversation = "a:guided-1"
    question = await bot.ask_one("sæt udpeg til fuldført", conversation_id=conversation)
    assert question.card is not None
    assert question.card["body"][0]["text"] == "Hvilken opgave → Fuldført?"
    assert "1. Udpeg kontaktpunkt" in question.text and "2. Udpeg underskriftberettiget" in question.text
    done = await bot.ask_one("1", conversation_id=conversation)
    assert done.card is not None
    assert intro(done.card) == "✓ Status ændret: Ikke påbegyndt → Fuldført"
    assert (await status_of(database_url, 630, KONTAKTPUNKT_ID))[0] is TaskStatus.COMPLETED


async def test_yes_to_a_list_of_one_task_picks_it(bot: BotUnderTest, database_url: str) -> None:
    conversation = "a:guided-yes"
    await bot.ask_one("sæt kontaktpunkt til fuldført", conversation_id="a:guided-yes-before")
    question = await bot.ask_one("den er ca 50 % færdig", conversation_id=conversation)
    assert question.card is not None
    assert question.card["body"][0]["text"] == "Hvilken opgave → Påbegyndt?"
    assert "1. " in question.text and "2. " not in question.text
    # The one task left is the SKAT task, which Vejle has already started: "ja" picks it.
    done = await bot.ask_one("ja", conversation_id=conversation)
    assert done.card is not None
    assert intro(done.card) == "Status er allerede Påbegyndt. Intet er ændret."
    assert "KDI@kombit.dk" in done.text


async def test_guided_dialog_asks_for_the_status(bot: BotUnderTest, database_url: str) -> None:
    conversation = "a:guided-2"
    question = await bot.ask_one("opdater kontaktpunkt", conversation_id=conversation)
    assert question.card is not None
    assert question.card["body"][0]["text"] == "Hvilken status skal opgaven have?"
    done = await bot.ask_one("påbegyndt", conversation_id=conversation)
    assert done.card is not None
    assert intro(done.card) == "✓ Status ændret: Ikke påbegyndt → Påbegyndt"


async def test_guided_dialog_can_be_cancelled_at_each_step(bot: BotUnderTest, database_url: str) -> None:
    for first in ("sæt udpeg til fuldført", "opdater kontaktpunkt"):
        conversation = f"a:cancel-{first[:5]}"
        await bot.ask_one(first, conversation_id=conversation)
        cancelled = await bot.ask_one("annuller", conversation_id=conversation)
        assert cancelled.card is not None
        assert cancelled.card["body"][0]["text"] == "Okay, det er glemt."
        after = await bot.ask_one("1", conversation_id=conversation)
        assert after.card is not None and "Status ændret" not in after.text
    assert await history_of(database_url, 630, KONTAKTPUNKT_ID) == []


async def test_a_failure_mid_way_writes_nothing_and_says_so(
    bot: BotUnderTest, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(status_changes, "record_history", broken)
    reply = await bot.ask_one("sæt kontaktpunkt til fuldført")
    assert reply.card is not None
    assert reply.card["body"][0]["text"] == "Ændringen gik ikke igennem"
    assert await status_of(database_url, 630, KONTAKTPUNKT_ID) == (TaskStatus.NOT_STARTED, 1)
    assert await history_of(database_url, 630, KONTAKTPUNKT_ID) == []


async def test_two_people_at_once_both_land_in_the_history(bot: BotUnderTest, database_url: str) -> None:
    one = bot.activity("sæt kontaktpunkt til påbegyndt", user_name="Mette", conversation_id="a:one")
    two = bot.activity("sæt kontaktpunkt til fuldført", user_name="Anne", conversation_id="a:two")
    responses = await asyncio.gather(bot.post(one), bot.post(two))
    assert [r.status for r in responses] == [201, 201]
    replies = {r.conversation_id: r for r in bot.connector.take()}
    assert "Status ændret" in replies["a:one"].text and "Status ændret" in replies["a:two"].text
    changes = await history_of(database_url, 630, KONTAKTPUNKT_ID)
    assert sorted(c.user_name for c in changes) == ["Anne", "Mette"]
    # The second change starts from the first one's result: nothing in between is lost.
    assert changes[0].old_status is TaskStatus.NOT_STARTED
    assert changes[1].old_status is changes[0].new_status
    status, version = await status_of(database_url, 630, KONTAKTPUNKT_ID)
    assert version == 3 and status is changes[1].new_status


async def test_two_cards_at_once_one_wins_one_is_told(bot: BotUnderTest, database_url: str) -> None:
    detail = await bot.ask_one("fortæl om kontaktpunkt")
    assert detail.card is not None
    a = status_button(detail.card, "Påbegyndt")["data"]
    b = status_button(detail.card, "Fuldført")["data"]
    (_, one), (_, two) = await asyncio.gather(invoke(bot, a), invoke(bot, b))
    intros = sorted([intro(one["value"]), intro(two["value"])])
    assert sum("Status ændret" in i for i in intros) == 1
    assert sum("ændret af en anden" in i for i in intros) == 1
    assert len(await history_of(database_url, 630, KONTAKTPUNKT_ID)) == 1


async def test_responsibility(bot: BotUnderTest, database_url: str) -> None:
    conversation = "a:responsible"
    mine = await bot.ask_one("jeg er ansvarlig for kontaktpunkt", conversation_id=conversation)
    assert "Noteret: Mette Vinther er ansvarlig" in mine.text
    await bot.ask_one("fortæl om underskriftberettiget", conversation_id=conversation)
    anne = await bot.ask_one("Anne er ansvarlig", conversation_id=conversation)
    assert anne.card is not None
    assert anne.card["body"][0]["text"].startswith("Udpeg underskriftberettiget")
    assert "Noteret: Anne er ansvarlig" in anne.text
    listing = await bot.ask_one("hvad er jeg ansvarlig for?", conversation_id=conversation)
    assert listing.card is not None
    assert listing.card["body"][0]["text"] == "Mette Vinther er ansvarlig for 1 opgave"
    assert "Udpeg kontaktpunkt" in listing.text and "underskriftberettiget" not in listing.text
    detail = await bot.ask_one("fortæl om underskriftberettiget", conversation_id=conversation)
    assert detail.card is not None
    assert facts(detail.card)["Ansvarlig"] == "Anne"


async def test_status_change_in_engine_directly_refuses_announced(engine: AsyncEngine) -> None:
    actor = status_changes.Actor("u", "Mette", None, VEJLE)
    now = datetime.fromisoformat("2019-01-23T10:00:00+01:00")
    async with engine.connect() as db:
        result = await status_changes.change_status(db, 630, "aula-dataadgang", TaskStatus.COMPLETED, actor, "text", now)
        assert result.outcome is status_changes.Outcome.NOT_CHANGEABLE
        result = await status_changes.change_status(db, 630, "no-such-task", TaskStatus.COMPLETED, actor, "text", now)
        assert result.outcome is status_changes.Outcome.UNKNOWN_TASK


# --- KOMBIT staff: where every municipality stands -------------------------------------------------

KOMBIT_TENANT = "00000000-0000-4000-8000-000000000000"


async def test_kombit_gets_klik_table_for_a_task(bot: BotUnderTest) -> None:
    reply = await bot.ask_one("status på Udpeg kontaktpunkt", tenant=KOMBIT_TENANT)
    assert reply.card is not None
    assert (
        reply.card["body"][0]["text"]
        == "Status i KLIK: Udpeg kontaktpunkt eller -person til incidenthåndtering"
    )
    table = facts(reply.card)
    assert table == {
        "Fuldført": "13",
        "Påbegyndt": "9",
        "Ikke påbegyndt": "76",
        "Ikke aktiv": "0",
        "Kommuner i alt": "98",
    }
    assert "Mangler (85)" in reply.text
    assert "overskredet" not in reply.text  # 23/1: the deadline 31/1 has not passed


async def test_kombit_table_follows_changes(bot: BotUnderTest) -> None:
    await bot.ask_one("sæt kontaktpunkt til fuldført")  # Vejle
    reply = await bot.ask_one("status på Udpeg kontaktpunkt", tenant=KOMBIT_TENANT)
    assert reply.card is not None
    assert facts(reply.card)["Fuldført"] == "14"
    assert facts(reply.card)["Ikke påbegyndt"] == "75"


async def test_who_has_not_completed_lists_all_and_marks_overdue(database_url: str) -> None:
    from tests.harness import start_bot

    after_deadline = datetime.fromisoformat("2019-02-01T09:00:00+01:00")
    bot, connector = await start_bot(database_url, now=after_deadline)
    try:
        reply = await bot.ask_one("hvem mangler Udpeg kontaktpunkt?", tenant=KOMBIT_TENANT)
        english = await bot.ask_one(
            "who hasn't completed the contact point task?", tenant=KOMBIT_TENANT, locale="en-US"
        )
    finally:
        await bot.http.close()
        await bot.server.close()
        await connector.close()
    assert reply.card is not None
    assert "Mangler (85) – fristen 31/1-2019 er overskredet" in reply.text
    assert "Vejle (ikke påbegyndt)" in reply.text
    assert "flere" not in reply.text  # the whole list
    assert reply.card["body"][0]["color"] == "Attention"
    assert "Not completed (85) – the deadline 31 Jan 2019 has passed" in english.text


async def test_kombit_overview_of_active_tasks(bot: BotUnderTest) -> None:
    reply = await bot.ask_one("overblik", tenant=KOMBIT_TENANT)
    assert reply.card is not None
    assert reply.card["body"][0]["text"] == "Overblik: aktive KLIK-opgaver"
    assert "Fuldført 13 · Påbegyndt 9 · Ikke påbegyndt 76" in reply.text
    assert "Fuldført 18 · Påbegyndt 20 · Ikke påbegyndt 60" in reply.text
    assert "Fuldført 14 · Påbegyndt 9 · Ikke påbegyndt 10 · Ikke aktiv 65" in reply.text


async def test_programme_leaders_get_the_counts_never_the_names(bot: BotUnderTest) -> None:
    """KLIK's slides show every programme leader the counts; which municipality is where is KOMBIT's."""
    reply = await bot.ask_one("hvem mangler Udpeg kontaktpunkt?")  # Vejle
    assert reply.card is not None
    assert reply.card["body"][0]["text"].startswith("Sådan står det til i alle kommuner")
    assert "13 af 98 kommuner har fuldført opgaven, 9 er i gang og 76 er ikke påbegyndt." in reply.text
    assert "I står som Ikke påbegyndt. Ud over jer mangler 84 andre kommuner." in reply.text
    assert "deler jeg kun med KOMBIT" in reply.text
    overview = await bot.ask_one("overblik")
    assert overview.card is not None
    assert "Fuldført: 13 af 98" in overview.text and "Fuldført: 18 af 98" in overview.text
    names = [m["name"] for m in load_demo_yaml()["municipalities"] if m["name"] != "Vejle"]
    for text in (reply.text, overview.text):
        assert not [name for name in names if re.search(rf"\b{re.escape(name)}\b", text)]
    own = await bot.ask_one("status på kontaktpunkt")
    assert own.card is not None
    assert facts(own.card)["Jeres status"] == "Ikke påbegyndt"
