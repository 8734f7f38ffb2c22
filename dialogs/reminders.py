"""Reminders in the conversation: the commands that set them, the planner that queues what has
become due, and KOMBIT's "påmind dem der mangler <opgave>".

The rules (what is due when) are storage/reminder_rules.py; the wording is
dialogs/reminder_commands.py and dialogs/reminder_message.py; claiming is storage/reminders.py.
Messages go out through the delivery queue, under the same limits as incident notices.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, exists, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from dialogs import formatting as fmt
from dialogs import reminder_commands, reminder_message
from dialogs.answers import say
from dialogs.cards import render_card
from dialogs.document import Action, Document
from dialogs.matching import decide, rank
from dialogs.model import Asker, Incoming, Reply
from dialogs.status_answers import refused_answer
from dialogs.status_flow import StatusFlow
from dialogs.subscriptions import conversation_info
from dialogs.text import render_text
from dialogs.understanding import Language, normalise
from storage import queries, reminders, subscriptions
from storage.db import serialise
from storage.delivery import add_message, enqueue_message
from storage.domain import Period, TaskState, TaskStatus, TaskView
from storage.models import ConversationRef, MunicipalityTaskStatus, ReminderSent, Tenant
from storage.reminder_rules import due, known_zone

log = logging.getLogger(__name__)

_REF = cast(Table, ConversationRef.__table__)
_TENANT = cast(Table, Tenant.__table__)
_STATUS = cast(Table, MunicipalityTaskStatus.__table__)
_SENT = cast(Table, ReminderSent.__table__)


def _reply(doc: Document) -> Reply:
    return Reply(text=render_text(doc), card=render_card(doc), summary=doc.title)


# --- commands -----------------------------------------------------------------------------------


async def command(
    db: AsyncConnection, text: str, incoming: Incoming, asker: Asker, now: datetime
) -> Document | None:
    """The answer to a reminder command, or None when the text is not one."""
    parsed = reminder_commands.parse(text)
    if parsed is None or not incoming.conversation_id or not incoming.service_url:
        return None
    info = conversation_info(incoming, parsed.lang)
    current = await reminders.reminder_settings(db, incoming.conversation_id)
    if parsed.action != "show" and parsed.error is None:
        updated = reminder_commands.apply(current, parsed)
        if incoming.timezone:
            updated = replace(updated, time_zone=known_zone(incoming.timezone))
        await subscriptions.remember(db, info, now)
        await subscriptions.set_language(db, incoming.conversation_id, parsed.lang, now)  # reminders speak it
        await reminders.save_reminder_settings(
            db, subscriptions.base_conversation_id(incoming.conversation_id), updated, now
        )
        await db.commit()
        current = updated
    return reminder_commands.answer(
        current,
        parsed,
        incoming.conversation_type == "channel",
        parsed.lang,
        has_municipality=asker.municipality_code is not None,
    )


# --- the planner --------------------------------------------------------------------------------


async def plan_reminders(
    engine: AsyncEngine, now: datetime, *, queued_at: datetime | None = None, batch: int = 50
) -> int:
    """Queue one message per due conversation with everything that has become due for it since
    its last run; returns how many it queued. `now` decides what is due (the bot's clock);
    `queued_at` is when the rows become sendable (the real clock). Works through every due
    conversation, a batch per transaction (08:00 on a Monday is busy)."""
    queued = 0
    while True:
        claimed, added = await _plan_batch(engine, now, queued_at or now, batch)
        queued += added
        if claimed < batch:
            break
    if queued:
        log.info("queued %d reminder message(s)", queued)
    return queued


async def _plan_batch(engine: AsyncEngine, now: datetime, queued_at: datetime, batch: int) -> tuple[int, int]:
    """(conversations claimed, messages queued) for one batch, in one transaction."""
    queued = 0
    async with engine.begin() as db:
        claimed = await reminders.claim_due(db, now, batch)
        if not claimed:
            return 0, 0
        events = await queries.events_in(db, Period(now - timedelta(days=1), now + timedelta(days=120)))
        incidents = await queries.incidents(db, open_only=True)
        names = {m.code: m.name for m in await queries.municipalities(db)}
        tasks_of: dict[int, list[TaskView]] = {}
        for conversation in claimed:
            code = conversation.municipality_code
            if code is not None and code not in tasks_of:
                tasks_of[code] = await queries.task_views(db, code)
            found = due(
                conversation.settings,
                tasks=tasks_of.get(code, []) if code is not None else [],
                events=events,
                incidents=incidents,
                since=conversation.last_run_at,
                now=now,
                sent=await reminders.sent_keys(db, conversation.conversation_ref_id),
            )
            keys: list[str] = []
            if not found.empty:
                lang: Language = "en" if conversation.lang == "en" else "da"
                doc = reminder_message.render(
                    found,
                    names.get(code) if code is not None else None,
                    now,
                    lang,
                    conversation.settings.time_zone,
                )
                body = _reply(doc).to_json()
                message_id = await add_message(
                    db, f"reminder:{conversation.conversation_ref_id}", body, queued_at
                )
                queued += await enqueue_message(
                    db, message_id, _REF.c.id == conversation.conversation_ref_id, queued_at
                )
                keys = found.keys()
            await reminders.record_run(db, conversation, keys, now)
    return len(claimed), queued


# --- KOMBIT: remind those who have not completed a task -------------------------------------------

_CHASE = re.compile(
    r"^(?:påmind|paamind|ryk)\s+(?:dem|de\s+kommuner|kommunerne)\s+(?:der|som)\s+(?:mangler|ikke\s+har\s+fuldført)\s+(?P<task>.+)$"
    r"|^remind\s+(?:those|the\s+municipalities|municipalities)\s+(?:who|that)\s+(?:have\s+not\s+completed|haven't\s+completed|are\s+missing)\s+(?P<task_en>.+)$",
    re.IGNORECASE,
)
CHASE_VERB = "reminder_chase"


def _kombit_only(lang: Language) -> Document:
    return refused_answer(
        say(
            lang,
            "Kun KOMBITs medarbejdere kan sende påmindelser til kommunerne.",
            "Only KOMBIT staff can send reminders to the municipalities.",
        ),
        lang,
    )


def _chase_lang(text: str) -> Language:
    return "en" if text.lower().startswith("remind") else "da"


def _laggards(task_id: str) -> Any:
    """Conversations of municipalities that have not completed the task (and get task news)."""
    return and_(
        _REF.c.news.is_(True),
        exists().where(
            _TENANT.c.tenant_id == _REF.c.tenant_id,
            _STATUS.c.municipality_code == _TENANT.c.municipality_code,
            _STATUS.c.task_id == task_id,
            _STATUS.c.status.in_([TaskStatus.NOT_STARTED, TaskStatus.STARTED]),
        ),
    )


def _not_chased_today(task_id: str, day: str) -> Any:
    return ~exists().where(_SENT.c.conversation_ref_id == _REF.c.id, _SENT.c.key == f"chase:{task_id}:{day}")


async def chase_preview(db: AsyncConnection, text: str, asker: Asker, now: datetime) -> Document | None:
    """KOMBIT staff: "påmind dem der mangler Udpeg kontaktpunkt" → how many would get it, and a
    button that sends it."""
    match = _CHASE.match(" ".join(text.split()).rstrip(".!?"))
    if match is None:
        return None
    lang = _chase_lang(text)
    if not asker.is_admin:
        return _kombit_only(lang)
    query = normalise(match.group("task") or match.group("task_en") or "")
    active = [t for t in await queries.task_views(db, None) if t.state is TaskState.ACTIVE]
    best, candidates = decide(rank(query, active, lambda t: t.title, lambda t: t.keywords))
    if best is None:
        titles = ", ".join(f"\u201e{t.title}\u201c" for t in (candidates or active)[:5])
        return Document(
            title=say(lang, "Hvilken opgave?", "Which task?"),
            intro=say(
                lang,
                f"Jeg kunne ikke afgøre hvilken aktiv opgave du mener. Fx: {titles}.",
                f"I could not tell which active task you mean. E.g.: {titles}.",
            ),
        )
    day = fmt.local(now).date().isoformat()  # "once a day": a Danish day
    count = int(
        (
            await db.execute(
                select(func.count())
                .select_from(_REF)
                .where(_REF.c.active.is_(True), _laggards(best.id), _not_chased_today(best.id, day))
            )
        ).scalar_one()
    )
    return chase_preview_answer(best, count, lang)


def chase_preview_answer(task: TaskView, count: int, lang: Language) -> Document:
    if count == 0:
        intro = say(
            lang,
            f"Ingen samtaler skal have en påmindelse om \u201e{task.title}\u201c i dag: alle der mangler den, har fået én, eller ingen af dem har klikbot.",
            f"No conversation needs a reminder about \u201c{task.title}\u201d today: all that lack it got one, or none of them has klikbot.",
        )
        return Document(title=say(lang, "Ingen at påminde", "Nobody to remind"), intro=intro)
    return Document(
        title=say(lang, f"Påmind om: {task.title}", f"Remind about: {task.title}"),
        intro=say(
            lang,
            f"{count} samtaler i kommuner, der ikke har fuldført opgaven, får en påmindelse med opgaven og statusknapperne.",
            f"{count} conversations in municipalities that have not completed the task get a reminder with the task and the status buttons.",
        ),
        actions=[
            Action(
                say(lang, f"Send til {count}", f"Send to {count}"),
                data={"klikbot": CHASE_VERB, "task": task.id, "lang": lang},
                verb=CHASE_VERB,
                style="positive",
            )
        ],
        tone="attention",
    )


def chase_sent_answer(title: str, queued: int, lang: Language) -> Document:
    return Document(
        title=say(lang, "Påmindelsen er på vej", "The reminder is on its way"),
        intro=say(
            lang,
            f"{queued} samtaler får en påmindelse om \u201e{title}\u201c.",
            f"{queued} conversations get a reminder about \u201c{title}\u201d.",
        ),
        tone="good",
    )


async def chase_send(
    db: AsyncConnection,
    status: StatusFlow,
    task_id: str,
    asker: Asker,
    now: datetime,
    queued_at: datetime,
    lang: Language,
) -> Document:
    """Queue the reminder for every laggard's conversation not reminded of this task today.
    Pressing Send twice (or two staff at once) sends once: the day's key is recorded per
    conversation in the same transaction."""
    if not asker.is_admin:
        return _kombit_only(lang)
    day = fmt.local(now).date().isoformat()  # "once a day": a Danish day
    key = f"chase:{task_id}:{day}"
    await serialise(db, key)  # two presses at once: the second sees the first's records
    rows = (
        await db.execute(
            select(_REF.c.id, _REF.c.lang, _TENANT.c.municipality_code)
            .join(_TENANT, _TENANT.c.tenant_id == _REF.c.tenant_id)
            .where(_REF.c.active.is_(True), _laggards(task_id), _not_chased_today(task_id, day))
        )
    ).all()
    names = {m.code: m.name for m in await queries.municipalities(db)}
    audiences: dict[tuple[int, str], list[int]] = {}
    for row in rows:
        audiences.setdefault((int(row.municipality_code), str(row.lang)), []).append(int(row.id))
    queued = 0
    title = task_id
    for (code, lang_text), ref_ids in sorted(audiences.items()):
        task = next((t for t in await queries.task_views(db, code) if t.id == task_id), None)
        if task is None:
            continue
        title = task.title
        msg_lang: Language = "en" if lang_text == "en" else "da"
        name = names.get(code, str(code))
        doc = status.proactive_card(
            task,
            code,
            name,
            now,
            msg_lang,
            title=say(msg_lang, f"Påmindelse: {task.title}", f"Reminder: {task.title}"),
            intro=say(
                msg_lang,
                f"KOMBIT minder {name} om denne KLIK-opgave, som I endnu ikke har fuldført.",
                f"KOMBIT reminds {name} of this KLIK task, which you have not completed yet.",
            ),
        )
        message_id = await add_message(
            db, f"chase:{task_id}:{code}:{msg_lang}", _reply(doc).to_json(), queued_at
        )
        queued += await enqueue_message(db, message_id, _REF.c.id.in_(ref_ids), queued_at)
        await db.execute(
            insert(_SENT), [{"conversation_ref_id": r, "key": key, "sent_at": now} for r in ref_ids]
        )
    await db.commit()
    return chase_sent_answer(title, queued, lang)
