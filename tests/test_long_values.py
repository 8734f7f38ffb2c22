"""Long and odd values from Teams never break a turn (issue 13, item 5).

Teams sends display names of up to 256 characters and conversation ids of up to 1,024; tenant
ids, team ids and user ids have no stated length; any string may hold a lone surrogate. The
columns are shorter (a name 200, a conversation id 512, a tenant id 64, a state key 255): a
name is stored cut with an ellipsis, an id or key as its hash, and everything still works.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.broadcast import WorkerConfig
from storage.db import create_engine
from storage.models import ConversationRef, MunicipalityTaskStatus, StatusChange
from tests.conftest import DEMO_NOW
from tests.harness import BotUnderTest, start_bot

KONTAKTPUNKT_ID = "mbp-kontaktpunkt-incident"
# An Entra display name at its limit, with Danish letters.
LONG_NAME = ("Anne-Sofie Ærø Østergaard Åberg " * 8)[:256]
# A Teams conversation id at its limit.
LONG_CONVERSATION = "a:1" + "Zq8-xY_3" * 127 + "Zq8@x"
TOKEN = "operator-token-long-values"
FAST = WorkerConfig(poll=0.05, backoff_base=0.01, backoff_cap=0.05, lease=5.0, flush_interval=0.01)
INCIDENT = {
    "title": "Nedbrud på Adgangsstyring",
    "description": "BBR er utilgængelig.",
    "affected_systems": ["BBR"],
    "started_at": "2018-12-10T02:21:00+01:00",
    "severity": "A",
}


def intro(card: dict[str, Any]) -> str:
    return str(card["body"][1]["text"])


def facts(card: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "FactSet":
                found.update({f["title"]: f["value"] for f in node["facts"]})
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(card)
    return found


async def rows(database_url: str, statement: Any) -> list[Any]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as db:
            return list(await db.execute(statement))
    finally:
        await engine.dispose()


@pytest.fixture
async def notice_bot(database_url: str) -> AsyncIterator[BotUnderTest]:
    bot, connector = await start_bot(database_url, now=DEMO_NOW, admin_token=TOKEN, delivery=FAST)
    try:
        yield bot
    finally:
        await bot.http.close()
        await bot.server.close()
        await connector.close()


async def test_a_256_character_name_changes_a_status_and_takes_responsibility(
    bot: BotUnderTest, database_url: str
) -> None:
    changed = await bot.ask_one("sæt 'Udpeg kontaktpunkt' til fuldført", user_name=LONG_NAME)
    assert changed.card is not None
    assert intro(changed.card) == "✓ Status ændret: Ikke påbegyndt → Fuldført"
    [change] = await rows(
        database_url,
        select(StatusChange.user_name, StatusChange.new_status).where(
            StatusChange.municipality_code == 630, StatusChange.task_id == KONTAKTPUNKT_ID
        ),
    )
    # Stored cut to the column, with an ellipsis: the start of the name is what people read.
    assert len(change.user_name) == 200 and change.user_name == LONG_NAME[:199] + "…"

    mine = await bot.ask_one("jeg er ansvarlig for kontaktpunkt", user_name=LONG_NAME)
    assert "Noteret:" in mine.text
    listing = await bot.ask_one("hvad er jeg ansvarlig for?", user_name=LONG_NAME)
    assert listing.card is not None and "Udpeg kontaktpunkt" in listing.text
    detail = await bot.ask_one("fortæl om kontaktpunkt", user_name=LONG_NAME)
    assert detail.card is not None
    assert facts(detail.card)["Senest ændret"].startswith("Fuldført af Anne-Sofie Ærø Østergaard Åberg")
    [status] = await rows(
        database_url,
        select(MunicipalityTaskStatus.responsible_name).where(
            MunicipalityTaskStatus.municipality_code == 630, MunicipalityTaskStatus.task_id == KONTAKTPUNKT_ID
        ),
    )
    assert status.responsible_name == LONG_NAME[:199] + "…"


async def test_a_1024_character_conversation_id_is_answered_and_keeps_its_state(bot: BotUnderTest) -> None:
    assert len(LONG_CONVERSATION) == 1024
    listing = await bot.ask_one("hvilke opgaver mangler vi?", conversation_id=LONG_CONVERSATION)
    assert listing.conversation_id == LONG_CONVERSATION
    assert listing.card is not None and listing.card["body"][0]["text"] == "Udestående KLIK-opgaver for Vejle"
    # A dialog of two turns: the second finds what the first remembered.
    question = await bot.ask_one("opdater kontaktpunkt", conversation_id=LONG_CONVERSATION)
    assert question.card is not None
    assert question.card["body"][0]["text"] == "Hvilken status skal opgaven have?"
    done = await bot.ask_one("påbegyndt", conversation_id=LONG_CONVERSATION)
    assert done.card is not None
    assert intro(done.card) == "✓ Status ændret: Ikke påbegyndt → Påbegyndt"
    # Another conversation whose id starts the same has a state of its own.
    other = LONG_CONVERSATION[:-1] + "y"
    fresh = await bot.ask_one("påbegyndt", conversation_id=other)
    assert "Status ændret" not in fresh.text


async def test_a_conversation_with_long_ids_gets_notices_at_its_whole_id(
    notice_bot: BotUnderTest, database_url: str
) -> None:
    """Installed in a channel whose conversation, team and tenant ids are longer than their
    columns, the bot answers, remembers the conversation and sends its notices to the whole id."""
    tenant = "t" * 5000
    team = "19:" + "team" * 300 + "@thread.tacv2"
    body = notice_bot.activity(
        None,
        activity_type="installationUpdate",
        action="add",
        conversation_type="channel",
        conversation_id=LONG_CONVERSATION,
        tenant=tenant,
    )
    body["channelData"]["team"] = {"id": team}
    response = await notice_bot.post(body)
    assert response.status in (200, 201), await response.text()
    assert [r.conversation_id for r in notice_bot.connector.take()] == [LONG_CONVERSATION]  # the welcome
    setting = await notice_bot.ask_one(
        "abonnement", conversation_id=LONG_CONVERSATION, conversation_type="channel", tenant=tenant
    )
    assert "Denne kanal får KOMBITs driftsmeddelelser" in setting.text
    # An unknown tenant is told its id, shortened.
    unknown = await notice_bot.ask_one("hvilke opgaver mangler vi?", conversation_id="a:x", tenant=tenant)
    assert "t" * 99 + "…" in unknown.text and "t" * 101 not in unknown.text

    [ref] = await rows(database_url, select(ConversationRef.conversation_id, ConversationRef.tenant_id))
    assert ref.conversation_id.startswith("sha256:") and ref.tenant_id.startswith("sha256:")

    async with notice_bot.http.post(
        notice_bot.server.make_url("/api/incidents"),
        json=INCIDENT,
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as answer:
        assert answer.status == 201, await answer.text()
        assert (await answer.json())["queued"] == 1
    connector = notice_bot.connector
    await connector.wait_for(lambda: any(r.method == "send" for r in connector.received))
    [notice] = connector.take()
    assert notice.conversation_id == LONG_CONVERSATION
    assert notice.card is not None and "Nedbrud på Adgangsstyring" in json.dumps(
        notice.card, ensure_ascii=False
    )


LONE = "\ud800"


@pytest.mark.parametrize(
    "where",
    ["text", "name", "conversation id", "tenant", "everywhere"],
)
async def test_lone_surrogates_get_a_normal_answer(bot: BotUnderTest, where: str) -> None:
    text = "hvilke opgaver mangler vi?" + (LONE if where in ("text", "everywhere") else "")
    name = "Mette\udc00 Vinther" if where in ("name", "everywhere") else "Mette Vinther"
    conversation = "a:surrogate" + (LONE if where in ("conversation id", "everywhere") else "")
    body = bot.activity(text, user_name=name, conversation_id=conversation)
    if where in ("tenant", "everywhere"):
        body["channelData"]["tenant"]["id"] += LONE
    # json.dumps writes a lone surrogate as the escape \ud800, as a client may send it.
    response = await bot.post(body)
    assert response.status in (200, 201), await response.text()
    [reply] = bot.connector.take()
    assert "Beklager" not in reply.text
    if where in ("tenant", "everywhere"):
        assert (
            reply.card is not None
            and reply.card["body"][0]["text"] == "Jeg ved ikke, hvilken kommune du er fra"
        )
    else:
        assert reply.card is not None and reply.card["body"][0]["text"] == "Udestående KLIK-opgaver for Vejle"
    if where == "text":
        # Text the bot stores and quotes back.
        subscribed = await bot.ask_one(f"abonner på SAPA{LONE}", conversation_id=conversation)
        assert "Beklager" not in subscribed.text and "SAPA" in subscribed.text, subscribed.text
    # A status change records the name, and the conversation goes on.
    changed = await bot.ask_one(
        "sæt kontaktpunkt til påbegyndt", user_name=name, conversation_id=conversation
    )
    assert "Beklager" not in changed.text and "gik ikke igennem" not in changed.text


async def test_a_service_url_too_long_to_keep_is_a_400(bot: BotUnderTest) -> None:
    body = bot.activity("hjælp", serviceUrl=bot.connector.url + "/" + "x" * 600)
    response = await bot.post(body)
    assert response.status == 400
    assert "serviceUrl" in (await response.json())["error"]
    assert bot.connector.take() == []
