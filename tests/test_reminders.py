"""Reminders end to end (issue 6): set in plain words, planned durably from the database, sent
once through the delivery queue; KOMBIT chases the municipalities that lack a task.

Demo: Vejle (630) has Udpeg kontaktpunkt (mandatory, deadline Thu 31/1-2019) Ikke påbegyndt and
Udpeg underskriftberettiget (mandatory, same deadline) Påbegyndt. The demo clock is Wed 23/1-2019
10:00 Copenhagen, when the reminders are turned on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from bot.app import DELIVERY
from bot.scheduler import SCHEDULER
from dialogs.reminders import plan_reminders
from storage.db import create_engine
from storage.domain import TaskStatus
from storage.models import (
    ConversationRef,
    MunicipalityTaskStatus,
    NoticeDelivery,
    OutboxMessage,
    ReminderSent,
    ReminderSetting,
)
from storage.reminder_rules import ReminderSettings
from storage.reminders import reminder_settings, save_reminder_settings
from tests.conftest import DEMO_NOW
from tests.harness import KOMBIT, BotUnderTest, running_bot
from tests.test_incident_notices import install
from tests.test_status_changes import AARHUS, invoke
from tests.test_task_news import FAST, TOKEN

CPH = ZoneInfo("Europe/Copenhagen")
CHAT = "a:vejle-reminders"
KONTAKTPUNKT = "Udpeg kontaktpunkt eller -person til incidenthåndtering"
UNDERSKRIFT = "Udpeg underskriftberettiget/-ede til abonnementsaftaler med SKAT eIndkomst"


def cph(day: int, hour: int, month: int = 1, minute: int = 0) -> datetime:
    return datetime(2019, month, day, hour, minute, tzinfo=CPH)


@pytest.fixture
async def reminder_bot(database_url: str) -> AsyncIterator[BotUnderTest]:
    async with running_bot(database_url, now=DEMO_NOW, admin_token=TOKEN, delivery=FAST) as bot:
        await bot.server.app[SCHEDULER].stop()  # the tests run the planner at chosen times
        yield bot


async def _bodies(database_url: str) -> list[str]:
    """The text of every queued reminder message, oldest first."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as db:
            rows = await db.execute(
                select(OutboxMessage.body)
                .join(NoticeDelivery, NoticeDelivery.message_id == OutboxMessage.id)
                .order_by(OutboxMessage.id)
            )
            return [str(b) for b in rows.scalars()]
    finally:
        await engine.dispose()


async def _plan(database_url: str, now: datetime) -> int:
    engine = create_engine(database_url)
    try:
        return await plan_reminders(engine, now)
    finally:
        await engine.dispose()


async def _set_status(database_url: str, code: int, title_prefix: str, status: TaskStatus) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as db:
            task_id = (
                "mbp-kontaktpunkt-incident"
                if title_prefix == "kontaktpunkt"
                else "mbp-underskriftberettiget-skat"
            )
            await db.execute(
                update(MunicipalityTaskStatus)
                .where(
                    MunicipalityTaskStatus.municipality_code == code,
                    MunicipalityTaskStatus.task_id == task_id,
                )
                .values(status=status)
            )
    finally:
        await engine.dispose()


async def test_reminder_commands_store_the_setting_with_the_clients_time_zone(
    reminder_bot: BotUnderTest, database_url: str
) -> None:
    on = await reminder_bot.ask_one(
        "påmind os om frister 3 og 1 dag før", conversation_id=CHAT, localTimezone="America/New_York"
    )
    assert on.card is not None and "Påmindelser slået til" in on.text
    assert "3 og 1 dag før" in on.text
    digest = await reminder_bot.ask_one("ugentligt overblik fredag kl. 14.30", conversation_id=CHAT)
    assert "fredag" in digest.text and "14.30" in digest.text
    engine = create_engine(database_url)
    try:
        async with engine.connect() as db:
            stored = await reminder_settings(db, CHAT)
            row = (await db.execute(select(ReminderSetting))).one()
    finally:
        await engine.dispose()
    assert stored.deadlines and stored.deadline_days == (3, 1) and stored.digest
    assert (stored.digest_weekday, stored.digest_minute) == (4, 14 * 60 + 30)
    assert stored.time_zone == "America/New_York"
    # 10:00 in Copenhagen is 04:00 in New York: the next look is 08:00 there (13:00 UTC).
    assert row.next_run_at == datetime(2019, 1, 23, 13, 0, tzinfo=UTC)

    shown = await reminder_bot.ask_one("vis påmindelser", conversation_id=CHAT)
    assert "America/New_York" in shown.text
    off = await reminder_bot.ask_one("stop påmindelser", conversation_id=CHAT)
    assert "Påmindelser slået fra" in off.text
    english = await reminder_bot.ask_one("remind us about events", conversation_id=CHAT, locale="en-US")
    assert "Reminders turned on" in english.text
    engine = create_engine(database_url)
    try:
        async with engine.connect() as db:
            lang = (
                await db.execute(select(ConversationRef.lang).where(ConversationRef.conversation_id == CHAT))
            ).scalar_one()
    finally:
        await engine.dispose()
    assert lang == "en"  # the reminders come in the language they were asked for in
    # An ordinary question is not a command.
    answer = await reminder_bot.ask_one("hvornår er fristen for kontaktpunkt?", conversation_id=CHAT)
    assert "Påmind" not in answer.text.split("\n")[0]


async def test_deadline_reminders_are_planned_once_grouped_and_skip_completed_tasks(
    reminder_bot: BotUnderTest, database_url: str
) -> None:
    await reminder_bot.ask_one("påmind os om frister", conversation_id=CHAT)  # 7 and 1 days before
    assert await _plan(database_url, cph(24, 7, minute=59)) == 0  # before 08:00: nothing yet
    assert await _plan(database_url, cph(24, 8)) == 1  # 7 days before the 31st: one message
    [first] = await _bodies(database_url)
    assert KONTAKTPUNKT in first and UNDERSKRIFT in first
    assert await _plan(database_url, cph(24, 8, minute=5)) == 0  # nothing twice
    assert await _plan(database_url, cph(25, 8)) == 0  # nothing due on the 25th

    # Vejle completes the contact point; the day before, only the signatory is reminded.
    await _set_status(database_url, 630, "kontaktpunkt", TaskStatus.COMPLETED)
    assert await _plan(database_url, cph(30, 8)) == 1
    second = (await _bodies(database_url))[1]
    assert UNDERSKRIFT in second and KONTAKTPUNKT not in second

    # The day after the missed mandatory deadline.
    assert await _plan(database_url, cph(1, 8, month=2)) == 1
    third = (await _bodies(database_url))[2]
    assert UNDERSKRIFT in third and ("overskredne" in third.lower() or "overskredet" in third.lower())

    # And the worker delivers it to the conversation.
    reminder_bot.server.app[DELIVERY].wake()
    await reminder_bot.connector.wait_for(
        lambda: sum(1 for r in reminder_bot.connector.received if r.conversation_id == CHAT) >= 3
    )
    texts = [r.text for r in reminder_bot.connector.received if r.conversation_id == CHAT]
    assert len(texts) == 3 and all("Skriv „stop påmindelser“ for at stoppe." in t for t in texts)


async def test_reminders_missed_while_down_are_sent_once_or_dropped(
    reminder_bot: BotUnderTest, database_url: str
) -> None:
    await reminder_bot.ask_one("påmind os om frister", conversation_id=CHAT)
    # Down from before the 7-day reminder until the morning of the 30th: one message, with the
    # nearer (1-day) reminder, not both.
    assert await _plan(database_url, cph(30, 9)) == 1
    engine = create_engine(database_url)
    try:
        async with engine.connect() as db:
            keys = sorted((await db.execute(select(ReminderSent.key))).scalars())
    finally:
        await engine.dispose()
    assert len(keys) == 2 and all(k.endswith(":1") for k in keys), keys
    assert await _plan(database_url, cph(30, 10)) == 0


async def test_reminders_after_the_deadline_are_dropped_when_pointless(
    reminder_bot: BotUnderTest, database_url: str
) -> None:
    await reminder_bot.ask_one("påmind os om frister", conversation_id=CHAT)
    await _set_status(database_url, 630, "underskrift", TaskStatus.COMPLETED)
    # Back ten days after the deadline: the pre-deadline reminders and the missed-deadline one
    # (more than 7 days late) have all become pointless.
    assert await _plan(database_url, cph(10, 9, month=2)) == 0
    assert await _bodies(database_url) == []


async def test_two_planners_at_once_send_one_message(reminder_bot: BotUnderTest, database_url: str) -> None:
    await reminder_bot.ask_one("påmind os om frister", conversation_id=CHAT)
    engines = [create_engine(database_url), create_engine(database_url)]
    try:
        results = await asyncio.gather(*(plan_reminders(e, cph(24, 8)) for e in engines))
        async with engines[0].connect() as db:
            count = (await db.execute(select(func.count()).select_from(NoticeDelivery))).scalar_one()
    finally:
        for engine in engines:
            await engine.dispose()
    assert sorted(results) == [0, 1] and count == 1


@pytest.mark.parametrize(
    ("registered", "run", "expected_next"),
    [
        # Spring forward (Sunday 31 March 2019): 08:00 is 07:00 UTC before, 06:00 UTC after.
        (cph(29, 12, month=3), cph(30, 8, month=3), datetime(2019, 3, 31, 6, 0, tzinfo=UTC)),
        # Fall back (Sunday 27 October 2019): 08:00 is 06:00 UTC before, 07:00 UTC after.
        (cph(25, 12, month=10), cph(26, 8, month=10), datetime(2019, 10, 27, 7, 0, tzinfo=UTC)),
    ],
)
async def test_next_run_is_local_eight_across_daylight_saving(
    reminder_bot: BotUnderTest,
    database_url: str,
    registered: datetime,
    run: datetime,
    expected_next: datetime,
) -> None:
    await install(reminder_bot, CHAT, "personal")
    engine = create_engine(database_url)
    try:
        async with engine.begin() as db:
            await save_reminder_settings(db, CHAT, ReminderSettings(deadlines=True), registered)
        assert await plan_reminders(engine, run) == 0
        async with engine.connect() as db:
            row = (await db.execute(select(ReminderSetting))).one()
    finally:
        await engine.dispose()
    assert row.next_run_at == expected_next


def _chase_button(card: dict[str, Any]) -> dict[str, Any]:
    from tests.test_status_changes import actions

    return next(a for a in actions(card) if a["type"] == "Action.Execute")


async def test_kombit_chases_the_municipalities_that_lack_a_task(
    reminder_bot: BotUnderTest, database_url: str
) -> None:
    await install(reminder_bot, "a:vejle", "personal")
    await install(reminder_bot, "a:aarhus", "personal", tenant=AARHUS)
    await _set_status(database_url, 751, "kontaktpunkt", TaskStatus.COMPLETED)  # Aarhus is done

    refused = await reminder_bot.ask_one("påmind dem der mangler Udpeg kontaktpunkt")
    assert "Kun KOMBITs medarbejdere" in refused.text

    preview = await reminder_bot.ask_one("påmind dem der mangler Udpeg kontaktpunkt", tenant=KOMBIT)
    assert preview.card is not None
    assert "1 samtaler i kommuner, der ikke har fuldført opgaven" in preview.text
    button = _chase_button(preview.card)
    status, body = await invoke(reminder_bot, button["data"], tenant=KOMBIT)
    assert status == 200 and "1 samtaler får en påmindelse" in str(body)
    # Pressed again (or by a colleague): nobody gets it twice today.
    status, body = await invoke(reminder_bot, button["data"], tenant=KOMBIT)
    assert "0 samtaler" in str(body)
    # A municipality cannot send it.
    status, body = await invoke(reminder_bot, button["data"])
    assert "Kun KOMBITs medarbejdere" in str(body)

    reminder_bot.server.app[DELIVERY].wake()
    await reminder_bot.connector.wait_for(
        lambda: any(r.conversation_id == "a:vejle" for r in reminder_bot.connector.received)
    )
    [sent] = [r for r in reminder_bot.connector.received if r.conversation_id in ("a:vejle", "a:aarhus")]
    assert sent.conversation_id == "a:vejle"
    assert sent.text.startswith(f"Påmindelse: {KONTAKTPUNKT}")
    assert "KOMBIT minder Vejle om denne KLIK-opgave" in sent.text


async def test_a_channel_keeps_its_settings_across_threads(
    reminder_bot: BotUnderTest, database_url: str
) -> None:
    """In a channel every message is in some thread ("…;messageid=…"): the settings are the
    channel's, so a second command adds to the first."""
    channel = "19:vejle-drift@thread.tacv2"
    await reminder_bot.ask_one(
        "påmind os om frister", conversation_id=f"{channel};messageid=1", conversation_type="channel"
    )
    await reminder_bot.ask_one(
        "påmind os om arrangementer", conversation_id=f"{channel};messageid=2", conversation_type="channel"
    )
    shown = await reminder_bot.ask_one(
        "vis påmindelser", conversation_id=f"{channel};messageid=3", conversation_type="channel"
    )
    engine = create_engine(database_url)
    try:
        async with engine.connect() as db:
            stored = await reminder_settings(db, channel)
    finally:
        await engine.dispose()
    assert stored.deadlines and stored.events
    assert "Frister: 7 og 1 dag før" in shown.text


async def test_reminders_resume_when_the_bot_is_installed_again(
    reminder_bot: BotUnderTest, database_url: str
) -> None:
    await reminder_bot.ask_one("påmind os om frister", conversation_id=CHAT)
    removed = reminder_bot.activity(
        None, activity_type="installationUpdate", action="remove", conversation_id=CHAT
    )
    assert (await reminder_bot.post(removed)).status in (200, 201)
    assert await _plan(database_url, cph(24, 8)) == 0  # not in the conversation: nothing sent
    await install(reminder_bot, CHAT, "personal")
    assert await _plan(database_url, cph(30, 8)) == 1  # back: the day-before reminder comes
    assert UNDERSKRIFT in (await _bodies(database_url))[0]


async def test_old_reminder_records_and_sent_messages_are_pruned(
    reminder_bot: BotUnderTest, database_url: str
) -> None:
    from storage.housekeeping import prune

    await reminder_bot.ask_one("påmind os om frister", conversation_id=CHAT)
    assert await _plan(database_url, cph(24, 8)) == 1
    engine = create_engine(database_url)
    try:
        async with engine.begin() as db:
            await db.execute(update(NoticeDelivery).values(state="sent"))
            kept = await prune(db, cph(24, 9))  # a day later: everything is kept
            gone = await prune(db, cph(24, 9, month=4))  # past 60 days: gone
            counts = [
                (await db.execute(select(func.count()).select_from(table))).scalar_one()
                for table in (NoticeDelivery, OutboxMessage, ReminderSent)
            ]
    finally:
        await engine.dispose()
    assert kept.total == 0
    assert (gone.deliveries, gone.messages, gone.reminder_keys) == (1, 1, 2)
    assert counts == [0, 0, 0]
