"""One turn of the conversation: who asks, what they asked, and which answer they get.

Plain Python: takes an Incoming and the conversation's Memory, returns Replies. The bot layer
loads and saves the Memory (through botbuilder's ConversationState on our SQL storage).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from dialogs import answers, notices, reminders
from dialogs.card_signing import CardSigner
from dialogs.cards import render_card
from dialogs.commands import recognise_command
from dialogs.document import Document
from dialogs.matching import decide, rank
from dialogs.model import Asker, Incoming, Memory, Reply
from dialogs.status_flow import StatusFlow, chosen_task
from dialogs.text import render_text
from dialogs.understanding import Intent, Language, Understanding, detect_language, understand
from storage import queries
from storage.domain import Period, TaskView, active_tasks

log = logging.getLogger(__name__)

# Longer messages are cut before any work: no question to the bot needs more.
MAX_TEXT = 2000

EVENT_KIND_LABELS: dict[str, tuple[str, str]] = {
    "programledermoede": ("programledermøde", "programme leader meeting"),
    "workshop": ("workshop", "workshop"),
    "leverandoerdag": ("leverandørdag", "supplier day"),
    "masterclass": ("masterclass", "masterclass"),
    "kursus": ("kursus", "course"),
    "kommunedage": ("kommunedage", "municipality days"),
    "webinar": ("webinar", "webinar"),
    "konference": ("konference", "conference"),
}


def card_language(incoming: Incoming) -> Language:
    """A button answers in its card's language; a card without one, in the client's."""
    lang = (incoming.value or {}).get("lang")
    if lang == "da":
        return "da"
    if lang == "en":
        return "en"
    return detect_language("", incoming.locale)


def to_reply(doc: Document, *, replaces_card: bool = False) -> Reply:
    return Reply(text=render_text(doc), card=render_card(doc), summary=doc.title, replaces_card=replaces_card)


class Conversation:
    def __init__(
        self,
        engine: AsyncEngine,
        clock: Callable[[], datetime],
        admin_tenants: frozenset[str],
        signer: CardSigner,
        *,
        public_url: str | None = None,
    ) -> None:
        self._engine = engine
        self._status = StatusFlow(engine, signer)
        self._clock = clock
        self._admin_tenants = admin_tenants
        # The bot's own base URL (KLIKBOT_PUBLIC_URL), for the links to events' calendar files.
        self._public_url = (public_url or answers.DEFAULT_PUBLIC_URL).rstrip("/")

    @property
    def status_flow(self) -> StatusFlow:
        """The status cards' buttons and their signing, for proactive cards (task news)."""
        return self._status

    def reading(self) -> AsyncConnection:
        """A connection for the reads of one turn (`async with conversation.reading() as db`)."""
        return self._engine.connect()

    async def asker(self, db: AsyncConnection, tenant_id: str | None) -> Asker:
        """The municipality comes from the tenant of the activity: never from text or card data."""
        if not tenant_id:
            return Asker(tenant_id=None)
        municipality = await queries.municipality_for_tenant(db, tenant_id)
        return Asker(
            tenant_id=tenant_id,
            municipality_code=municipality.code if municipality else None,
            municipality_name=municipality.name if municipality else None,
            is_admin=tenant_id in self._admin_tenants,
        )

    async def handle(self, incoming: Incoming, memory: Memory) -> list[Reply]:
        now = self._clock()
        text = incoming.text[:MAX_TEXT]
        async with self.reading() as db:
            asker = await self.asker(db, incoming.tenant_id)
            if incoming.value is not None and not text.strip():
                lang = card_language(incoming)
                flow = await self._status.on_card(db, incoming, asker, memory, now, lang)
                if flow is not None:
                    return [to_reply(flow.doc, replaces_card=flow.replaces_card)]
                if incoming.value.get("klikbot") == reminders.CHASE_VERB:
                    task_id = str(incoming.value.get("task", ""))[:64]
                    chased = await reminders.chase_send(
                        db, self._status, task_id, asker, now, datetime.now(UTC), lang
                    )
                    return [to_reply(chased, replaces_card=True)]
                if notices.is_notice_verb(incoming.value.get("klikbot")):
                    return [await notices.on_card(db, incoming.value, incoming, asker, memory, now, lang)]
                return [to_reply(await self._card_action(db, incoming, asker, memory, now))]
            notice = await notices.on_text(db, text, incoming, asker, memory, now)
            if notice is not None:
                return [notice]
            understood = understand(text, now, incoming.locale)
            pending = memory.pending
            memory.pending = {}
            if pending and understood.intent is not Intent.CANCEL:
                doc = await self._status.on_pending(
                    db, text, incoming, asker, memory, pending, now, understood.language
                )
                if doc is not None:
                    return [to_reply(doc)]
            command = recognise_command(text, incoming.locale)
            if command is not None:
                return [to_reply(await self._status.on_command(db, command, incoming, asker, memory, now))]
            if (
                pending.get("kind") == "choose_task"
                and not pending.get("then")
                and understood.intent is not Intent.CANCEL
            ):
                chosen = await chosen_task(db, pending, text, asker)
                if chosen is not None:
                    return [to_reply(self._status.detail(chosen, asker, memory, now, understood.language))]
            doc = await self._answer(db, understood, incoming, asker, memory, now, had_pending=bool(pending))
            return [to_reply(doc)]

    async def _card_action(
        self, db: AsyncConnection, incoming: Incoming, asker: Asker, memory: Memory, now: datetime
    ) -> Document:
        value: dict[str, Any] = incoming.value or {}
        lang = card_language(incoming)
        memory.pending = {}
        verb = value.get("klikbot")
        if verb == "task" and isinstance(value.get("id"), str):
            tasks = await queries.task_views(db, asker.municipality_code)
            task = next((t for t in tasks if t.id == value["id"]), None)
            if task is not None:
                return self._status.detail(task, asker, memory, now, lang)
            return answers.no_task_answer(str(value["id"]), active_tasks(tasks), lang)
        if verb == "ask" and isinstance(value.get("text"), str):
            understood = understand(value["text"][:MAX_TEXT], now, incoming.locale)
            return await self._answer(db, understood, incoming, asker, memory, now, had_pending=False)
        if verb == "cancel":
            return answers.cancelled_answer(lang)
        return answers.help_answer(lang, asker.municipality_code is not None, asker.tenant_id)

    async def _answer(
        self,
        db: AsyncConnection,
        understood: Understanding,
        incoming: Incoming,
        asker: Asker,
        memory: Memory,
        now: datetime,
        *,
        had_pending: bool,
    ) -> Document:
        lang = understood.language
        intent = understood.intent
        registered = asker.municipality_code is not None
        if intent is Intent.HELP:
            return answers.help_answer(lang, registered, asker.tenant_id)
        if intent is Intent.GREETING:
            return answers.greeting_answer(incoming.sender.name, lang)
        if intent is Intent.CANCEL:
            return answers.cancelled_answer(lang)
        if intent is Intent.INCIDENTS:
            open_now = await queries.incidents(db, open_only=True)
            latest = None if open_now else next(iter(await queries.incidents(db, open_only=False)), None)
            return answers.incidents_answer(open_now, latest, lang)
        if intent in (Intent.EVENTS, Intent.NEXT_EVENT):
            return await self._events(db, understood, now)
        tasks = await queries.task_views(db, asker.municipality_code)
        if intent is Intent.OUTSTANDING:
            if asker.municipality_name is not None:
                return answers.outstanding_answer(tasks, asker.municipality_name, now, lang)
            return self._not_a_municipality(asker, tasks, now, lang)
        if intent is Intent.DUE:
            if asker.municipality_name is None:
                return self._not_a_municipality(asker, tasks, now, lang)
            return answers.due_answer(tasks, understood.period, asker.municipality_name, now, lang)
        if intent is Intent.TASK_DETAIL:
            return self._task_detail(tasks, understood.subject or understood.text, asker, memory, now, lang)
        return self._fallback(tasks, understood, asker, memory, now, lang)

    def _not_a_municipality(
        self, asker: Asker, tasks: list[TaskView], now: datetime, lang: Language
    ) -> Document:
        if asker.is_admin:
            return answers.kombit_answer(active_tasks(tasks), now, lang)
        return answers.unregistered_answer(asker.tenant_id, active_tasks(tasks), now, lang)

    def _task_detail(
        self, tasks: list[TaskView], query: str, asker: Asker, memory: Memory, now: datetime, lang: Language
    ) -> Document:
        best, candidates = decide(rank(query, tasks, lambda t: t.title, lambda t: t.keywords))
        if best is not None:
            return self._status.detail(best, asker, memory, now, lang)
        if candidates:
            memory.pending = {"kind": "choose_task", "options": [t.id for t in candidates]}
            return answers.choose_task_answer(candidates, query, lang)
        return answers.no_task_answer(query, active_tasks(tasks), lang)

    def _fallback(
        self,
        tasks: list[TaskView],
        understood: Understanding,
        asker: Asker,
        memory: Memory,
        now: datetime,
        lang: Language,
    ) -> Document:
        # A bare task name ("kontaktpunkt") is a question about that task.
        subject = (understood.subject or "").strip()
        if subject:
            ranked = rank(subject, tasks, lambda t: t.title, lambda t: t.keywords)
            best, candidates = decide(ranked)
            if best is not None and ranked[0][1] >= 90:
                return self._status.detail(best, asker, memory, now, lang)
            suggestions = [best] if best is not None else candidates
            return answers.fallback_answer(understood.text, suggestions[:3], lang)
        return answers.fallback_answer(understood.text, [], lang)

    async def _events(self, db: AsyncConnection, understood: Understanding, now: datetime) -> Document:
        lang = understood.language
        kind = understood.event_kind
        label = None
        if kind in EVENT_KIND_LABELS:
            da, en = EVENT_KIND_LABELS[kind]
            label = da if lang == "da" else en
        if understood.intent is Intent.NEXT_EVENT:
            upcoming = await queries.events_in(db, Period(now, None))
            for event in upcoming:
                if kind is None or event.kind == kind:
                    return answers.next_event_answer(event, label, now, lang, self._public_url)
            return answers.next_event_answer(None, label, now, lang)
        period = understood.period or Period(now, None)
        events = await queries.events_in(db, period)
        if kind is not None:
            events = [e for e in events if e.kind == kind]
        return answers.events_answer(events, period, label, now, lang, self._public_url)
