"""Task news (issue 5): when KOMBIT makes a task active or moves an active task's deadline, every
municipality conversation that gets task news receives one "Ny KLIK-opgave" card with its own
status buttons, through the durable delivery queue; a cosmetic edit announces nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import DELIVERY
from bot.broadcast import WorkerConfig
from bot.scheduler import SCHEDULER
from dialogs.card_signing import CardSigner
from dialogs.news import queue_news
from dialogs.status_flow import StatusFlow
from storage.db import create_engine
from storage.domain import TaskStatus
from storage.models import NoticeDelivery, OutboxMessage, TaskNews
from storage.secrets import shared_secret
from tests.conftest import DEMO_NOW
from tests.harness import KOMBIT, UNKNOWN_TENANT, BotUnderTest, running_bot, start_bot
from tests.test_catalogue_api import _send
from tests.test_incident_notices import install
from tests.test_status_changes import AARHUS, intro, invoke, status_button, status_of

TOKEN = "operator-secret-token"
FAST = WorkerConfig(poll=0.05, backoff_base=0.01, backoff_cap=0.05, lease=5.0, flush_interval=0.01)
FK_ADMIN = "fk-opret-fk-administrator"  # announced in the demo
KONTAKTPUNKT = "mbp-kontaktpunkt-incident"  # active, deadline 2019-01-31
TEAM = "19:team@thread.tacv2"


@pytest.fixture
async def news_bot(database_url: str) -> AsyncIterator[BotUnderTest]:
    async with running_bot(database_url, now=DEMO_NOW, admin_token=TOKEN, delivery=FAST) as bot:
        yield bot


async def _conversations(bot: BotUnderTest) -> None:
    """Vejle: a personal chat, a team channel (General) and a second channel; Aarhus in English;
    an unregistered tenant; KOMBIT."""
    await install(bot, "a:vejle-personal", "personal")
    await install(bot, TEAM, "channel")
    await install(bot, "19:vejle-other@thread.tacv2", "channel")
    await install(bot, "a:aarhus-personal", "personal", tenant=AARHUS, locale="en-US")
    await install(bot, "a:unknown", "personal", tenant=UNKNOWN_TENANT)
    await install(bot, "a:kombit", "personal", tenant=KOMBIT)


def _news_cards(bot: BotUnderTest) -> dict[str, Any]:
    return {
        r.conversation_id: r
        for r in bot.connector.received
        if r.method == "send" and r.card is not None and "KLIK" in r.text
    }


async def news_settled(database_url: str, limit: float = 10.0) -> int:
    """Once no news is pending (the scheduler has queued it): how many deliveries are queued."""
    engine = create_engine(database_url)
    try:
        async with asyncio.timeout(limit):
            while True:
                async with engine.connect() as db:
                    pending = (
                        await db.execute(select(func.count()).where(TaskNews.sent_at.is_(None)))
                    ).scalar_one()
                if pending == 0:
                    break
                await asyncio.sleep(0.02)
        async with engine.connect() as db:
            return int((await db.execute(select(func.count()).select_from(NoticeDelivery))).scalar_one())
    finally:
        await engine.dispose()


async def _activate(bot: BotUnderTest, task_id: str, **changes: Any) -> None:
    status, body = await _send(
        bot,
        "PUT",
        f"/api/tasks/{task_id}",
        {
            "title": "Tjek/opret FK-administrator som bruger på Serviceplatformens Administrationsmodul",
            "programme": "monopolbrud",
            "state": "active",
            "deadline": "2019-02-28",
            "mandatory": True,
            "description": "Tjek at kommunen har en FK-administrator i Administrationsmodulet.",
            "contact": "Mbprogrammet@kombit.dk",
            **changes,
        },
    )
    assert status == 200, body


async def test_a_task_made_active_is_announced_once_to_each_municipality_conversation(
    news_bot: BotUnderTest, database_url: str
) -> None:
    await _conversations(news_bot)
    await _activate(news_bot, FK_ADMIN)
    # Vejle's personal chat and General (not the second channel: one channel per team), Aarhus.
    expected = {"a:vejle-personal", TEAM, "a:aarhus-personal"}
    assert await news_settled(database_url) == 3
    await news_bot.connector.wait_for(lambda: set(_news_cards(news_bot)) >= expected)
    cards = _news_cards(news_bot)
    assert set(cards) == expected  # nobody else: no municipality, no news
    danish = cards["a:vejle-personal"]
    assert danish.card is not None
    assert danish.card["body"][0]["text"].startswith("Ny KLIK-opgave: Tjek/opret FK-administrator")
    assert "KOMBIT har offentliggjort en ny KLIK-opgave til Vejle." in danish.text
    assert "Frist: 28/2-2019" in danish.text and "Obligatorisk: Ja" in danish.text
    english = cards["a:aarhus-personal"]
    assert "New KLIK task: Tjek/opret FK-administrator" in english.text
    assert "for Aarhus" in english.text

    # Exactly one delivery per conversation, and the news is marked sent.
    engine = create_engine(database_url)
    try:
        async with engine.connect() as db:
            rows = (await db.execute(select(NoticeDelivery.conversation_id, NoticeDelivery.state))).all()
            pending = (await db.execute(select(func.count()).where(TaskNews.sent_at.is_(None)))).scalar_one()
    finally:
        await engine.dispose()
    assert sorted(r.conversation_id for r in rows) == sorted(expected)
    assert pending == 0
    assert sum(1 for r in news_bot.connector.received if r.conversation_id in expected) == 3

    # The status buttons act for the municipality whose card it is.
    button = status_button(danish.card, "Påbegyndt")
    status, body = await invoke(news_bot, button["data"], conversation_id="a:vejle-personal")
    assert status == 200 and intro(body["value"]) == "✓ Status ændret: Ikke påbegyndt → Påbegyndt"
    assert (await status_of(database_url, 630, FK_ADMIN))[0] is TaskStatus.STARTED
    # Vejle's button pressed by someone from Aarhus changes nothing for either.
    status, body = await invoke(news_bot, button["data"], tenant=AARHUS)
    assert (await status_of(database_url, 751, FK_ADMIN))[0] is TaskStatus.NOT_STARTED


async def test_deadline_moves_are_announced_and_cosmetic_edits_are_not(
    news_bot: BotUnderTest, database_url: str
) -> None:
    await install(news_bot, "a:vejle-personal", "personal")
    await _activate(news_bot, FK_ADMIN)
    await news_bot.connector.wait_for(lambda: len(_news_cards(news_bot)) == 1)
    news_bot.connector.take()

    await _activate(news_bot, FK_ADMIN, description="Ny formulering af beskrivelsen.")
    assert await news_settled(database_url) == 1  # still only the first card
    await _activate(news_bot, FK_ADMIN, description="Ny formulering af beskrivelsen.", deadline="2019-03-15")
    await news_bot.connector.wait_for(lambda: len(news_bot.connector.received) == 1)
    [moved] = news_bot.connector.take()
    assert moved.card is not None
    assert moved.card["body"][0]["text"].startswith("Ny frist: Tjek/opret FK-administrator")
    assert "fra 28/2-2019 til 15/3-2019" in moved.text

    engine = create_engine(database_url)
    try:
        async with engine.connect() as db:
            subjects = (
                (await db.execute(select(OutboxMessage.subject).order_by(OutboxMessage.id))).scalars().all()
            )
    finally:
        await engine.dispose()
    assert len(subjects) == 2  # the new task and the moved deadline; the description edit: nothing


async def test_unsubscribing_from_task_news(news_bot: BotUnderTest, database_url: str) -> None:
    await install(news_bot, "a:vejle-personal", "personal")
    off = await news_bot.ask_one("afmeld nyheder", conversation_id="a:vejle-personal")
    assert "får ikke længere besked om nye KLIK-opgaver" in off.text
    shown = await news_bot.ask_one("abonnement", conversation_id="a:vejle-personal")
    assert "Nye KLIK-opgaver meldes ikke her" in shown.text
    await _activate(news_bot, FK_ADMIN)
    assert await news_settled(database_url) == 0

    on = await news_bot.ask_one("subscribe to task news", conversation_id="a:vejle-personal", locale="en-US")
    assert "now hears when KOMBIT publishes a new KLIK task" in on.text
    await _activate(news_bot, FK_ADMIN, deadline="2019-03-15")
    assert await news_settled(database_url) == 1
    await news_bot.connector.wait_for(lambda: len(_news_cards(news_bot)) == 1)
    [moved] = _news_cards(news_bot).values()
    assert "New deadline: Tjek/opret FK-administrator" in moved.text  # in the conversation's language


async def test_two_senders_at_once_queue_each_news_item_once(database_url: str) -> None:
    """Two bot processes running the news job at the same moment (PostgreSQL: SKIP LOCKED;
    SQLite: one writer) queue each conversation's card once."""
    bot, connector = await start_bot(database_url, now=DEMO_NOW, admin_token=TOKEN, delivery=FAST)
    try:
        await install(bot, "a:vejle-personal", "personal")
        await install(bot, "a:aarhus-personal", "personal", tenant=AARHUS)
        await bot.server.app[SCHEDULER].stop()  # this test runs the jobs itself
        await bot.server.app[DELIVERY].stop()
        await _activate(bot, FK_ADMIN)
        await _activate(bot, "fk-planer-scan-af-post", title="Oplys KOMBIT om planer for scan af post")
    finally:
        await bot.http.close()
        await bot.server.close()
        await connector.close()
    engines = [create_engine(database_url), create_engine(database_url)]
    try:
        secret = await shared_secret(engines[0], "card-signing")
        flows = [StatusFlow(e, CardSigner(secret)) for e in engines]
        results = await asyncio.gather(
            *(queue_news(e, f, DEMO_NOW, batch=1) for e, f in zip(engines, flows, strict=True)),
            *(queue_news(e, f, DEMO_NOW, batch=1) for e, f in zip(engines, flows, strict=True)),
        )
        assert sum(results) == 4  # two news items × two conversations
        async with engines[0].connect() as db:
            rows = (await db.execute(select(NoticeDelivery.conversation_id, NoticeDelivery.message_id))).all()
            subjects = (await db.execute(select(OutboxMessage.subject))).scalars().all()
    finally:
        for engine in engines:
            await engine.dispose()
    assert len(rows) == 4 and len({(r.conversation_id, r.message_id) for r in rows}) == 4
    assert len(subjects) == len(set(subjects)) == 4
