"""Task news: the "Ny KLIK-opgave" card for every municipality conversation that gets task news.

The catalogue import records news (a task became active, an active task's deadline moved) in
its own transaction. `queue_news` turns pending news into outbox messages, one per municipality
and language (the card carries that municipality's status buttons, signed for it), queues them
for the municipality's conversations and marks the news sent, all in one transaction: a crash
queues nothing and the next run tries again; a commit queues each news item exactly once.
The delivery worker then sends them under the same limits as incident notices.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from dialogs import formatting as fmt
from dialogs.answers import say
from dialogs.conversation import to_reply
from dialogs.document import Document
from dialogs.status_flow import StatusFlow
from dialogs.understanding import Language
from storage import queries
from storage.catalogue_import import NEWS_DEADLINE_CHANGED, PendingNews, mark_news_sent, pending_news
from storage.delivery import add_message, enqueue_message
from storage.domain import TaskState, TaskView
from storage.subscriptions import news_audiences, news_recipients

log = logging.getLogger(__name__)


def news_document(
    news: PendingNews,
    task: TaskView,
    municipality_code: int,
    municipality: str,
    status: StatusFlow,
    now: datetime,
    lang: Language,
) -> Document:
    """What, why, deadline, mandatory, how to do it (the task card), with the status buttons."""
    if news.kind == NEWS_DEADLINE_CHANGED:
        new = (
            fmt.day(news.deadline, lang)
            if news.deadline
            else say(lang, "ingen fast frist", "no fixed deadline")
        )
        old = fmt.day(news.old_deadline, lang) if news.old_deadline else say(lang, "ingen", "none")
        title = say(lang, f"Ny frist: {task.title}", f"New deadline: {task.title}")
        intro = say(
            lang,
            f"KOMBIT har flyttet fristen for denne KLIK-opgave fra {old} til {new}.",
            f"KOMBIT has moved the deadline of this KLIK task from {old} to {new}.",
        )
    else:
        title = say(lang, f"Ny KLIK-opgave: {task.title}", f"New KLIK task: {task.title}")
        intro = say(
            lang,
            f"KOMBIT har offentliggjort en ny KLIK-opgave til {municipality}.",
            f"KOMBIT has published a new KLIK task for {municipality}.",
        )
    footer = say(
        lang,
        "Skriv \u201eafmeld nyheder\u201c for ikke at få nye opgaver her.",
        "Write \u201cunsubscribe from task news\u201d to stop getting new tasks here.",
    )
    return status.proactive_card(
        task, municipality_code, municipality, now, lang, title=title, intro=intro, footer=footer
    )


async def queue_news(
    engine: AsyncEngine,
    status: StatusFlow,
    now: datetime,
    *,
    queued_at: datetime | None = None,
    batch: int = 20,
) -> int:
    """Queue pending task news for delivery; returns how many conversation deliveries it queued.
    `now` is the bot's clock (the card's wording), `queued_at` the real one (when rows are due).
    A batch of news per transaction, until none is left."""
    queued = 0
    while True:
        items, added = await _queue_batch(engine, status, now, queued_at or now, batch)
        queued += added
        if items < batch:
            return queued


async def _queue_batch(
    engine: AsyncEngine, status: StatusFlow, now: datetime, queued_at: datetime, batch: int
) -> tuple[int, int]:
    """(news items handled, deliveries queued) for one batch, in one transaction."""
    queued = 0
    async with engine.begin() as db:
        news = await pending_news(db, limit=batch, claim=True)
        if not news:
            return 0, 0
        audiences = await news_audiences(db)
        names = {m.code: m.name for m in await queries.municipalities(db)} if audiences else {}
        tasks: dict[int, dict[str, TaskView]] = {}
        for item in news:
            for code, lang_text in audiences:
                if code not in tasks:
                    tasks[code] = {t.id: t for t in await queries.task_views(db, code)}
                task = tasks[code].get(item.task_id)
                # A task closed (or announced again) before its news went out: nothing to tell.
                if task is None or task.state is not TaskState.ACTIVE:
                    continue
                lang: Language = "en" if lang_text == "en" else "da"
                name = names.get(code, str(code))
                reply = to_reply(news_document(item, task, code, name, status, now, lang))
                subject = f"news:{item.id}:{code}:{lang}"
                message_id = await add_message(db, subject, reply.to_json(), queued_at)
                queued += await enqueue_message(db, message_id, news_recipients(code, lang), queued_at)
        await mark_news_sent(db, [n.id for n in news], queued_at)
    if queued:
        log.info("queued %d task news deliveries for %d news item(s)", queued, len(news))
    return len(news), queued
