"""One turn of the conversation: who asks, what they asked, and which answer they get.

Plain Python: takes an Incoming and the conversation's Memory, returns Replies. The bot layer
loads and saves the Memory (through botbuilder's ConversationState on our SQL storage).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from dialogs import answers, facts, insight_answers, notices, reminders
from dialogs import formatting as fmt
from dialogs.card_signing import CardSigner
from dialogs.cards import render_card
from dialogs.commands import recognise_command
from dialogs.document import Document
from dialogs.lexicon import Lexicon
from dialogs.matching import decide, rank
from dialogs.model import Asker, Incoming, Memory, Reply
from dialogs.status_flow import StatusFlow, chosen_task
from dialogs.text import render_text
from dialogs.understanding import (
    Facet,
    Intent,
    Language,
    Understanding,
    detect_language,
    normalise,
    understand,
)
from storage import queries
from storage.domain import Period, TaskView, active_tasks
from storage.views import EventView

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
        # The catalogue's vocabulary, built on first use and again after each catalogue import;
        # the version the last turn read (Conversation.asker).
        self._lexicon: Lexicon | None = None
        self._catalogue_version = 0

    @property
    def status_flow(self) -> StatusFlow:
        """The status cards' buttons and their signing, for proactive cards (task news)."""
        return self._status

    def reading(self) -> AsyncConnection:
        """A connection for the reads of one turn (`async with conversation.reading() as db`)."""
        return self._engine.connect()

    async def asker(self, db: AsyncConnection, tenant_id: str | None) -> Asker:
        """The municipality comes from the tenant of the activity: never from text or card data.
        The same round trip reads the catalogue's version, for `lexicon`."""
        municipality, self._catalogue_version = await queries.turn_context(db, tenant_id)
        if not tenant_id:
            return Asker(tenant_id=None)
        return Asker(
            tenant_id=tenant_id,
            municipality_code=municipality.code if municipality else None,
            municipality_name=municipality.name if municipality else None,
            is_admin=tenant_id in self._admin_tenants,
        )

    async def lexicon(self, db: AsyncConnection) -> Lexicon:
        """The catalogue's vocabulary, rebuilt when the turn found the catalogue changed (every
        import bumps its version)."""
        current = self._lexicon
        if current is None or current.version != self._catalogue_version:
            current = Lexicon(await queries.catalogue_words(db))
            self._lexicon = current
        return current

    async def tasks(self, db: AsyncConnection, municipality_code: int | None) -> list[TaskView]:
        """Every task with the municipality's status: the catalogue as the turn's lexicon read
        it, and one small query for the statuses."""
        lexicon = await self.lexicon(db)
        return await queries.with_statuses(db, lexicon.tasks.values(), municipality_code)

    async def understand(
        self, db: AsyncConnection, text: str, incoming: Incoming, asker: Asker, memory: Memory, now: datetime
    ) -> Understanding:
        return understand(
            text,
            now,
            incoming.locale,
            lexicon=await self.lexicon(db),
            context=memory.last_task,
            municipality=asker.municipality_code,
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
            understood = await self.understand(db, text, incoming, asker, memory, now)
            pending = memory.pending
            memory.pending = {}
            lang = understood.language
            if pending.get("kind") == "confirm_status":
                answer = yes_or_no(text)
                if answer is not None:
                    return [
                        to_reply(
                            await self._status.on_confirm(db, answer, pending, incoming, asker, memory, now, lang)
                        )
                    ]
            if pending.get("kind") == "choose_task" and len(pending.get("options", [])) == 1 and yes_or_no(text):
                text = "1"  # "ja" to a list of one: that one
            if pending and understood.intent is not Intent.CANCEL:
                doc = await self._status.on_pending(db, text, incoming, asker, memory, pending, now, lang)
                if doc is not None:
                    return [to_reply(doc)]
            command = recognise_command(text, incoming.locale)
            # A status with it is the understanding's (a report, or a question that only sounds
            # like one); "opdater status på X" without one asks which status.
            if command is not None and command.status is None:
                return [to_reply(await self._status.on_command(db, command, incoming, asker, memory, now))]
            if (
                pending.get("kind") == "choose_task"
                and not pending.get("then")
                and understood.intent is not Intent.CANCEL
            ):
                chosen = await chosen_task(db, pending, text, asker)
                if chosen is not None:
                    return [to_reply(self._status.detail(chosen, asker, memory, now, lang))]
            doc = await self._answer(db, understood, incoming, asker, memory, now)
            return [to_reply(doc)]

    async def _card_action(
        self, db: AsyncConnection, incoming: Incoming, asker: Asker, memory: Memory, now: datetime
    ) -> Document:
        value: dict[str, Any] = incoming.value or {}
        lang = card_language(incoming)
        memory.pending = {}
        verb = value.get("klikbot")
        if verb == "task" and isinstance(value.get("id"), str):
            tasks = await self.tasks(db, asker.municipality_code)
            task = next((t for t in tasks if t.id == value["id"]), None)
            if task is not None:
                return self._status.detail(task, asker, memory, now, lang)
            return answers.no_task_answer(str(value["id"]), active_tasks(tasks), lang)
        if verb == "ask" and isinstance(value.get("text"), str):
            understood = await self.understand(db, value["text"][:MAX_TEXT], incoming, asker, memory, now)
            return await self._answer(db, understood, incoming, asker, memory, now)
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
        if intent is Intent.REPORT and understood.report is not None:
            return await self._status.on_report(db, understood.report, incoming, asker, memory, now, lang)
        if intent in (Intent.EVENTS, Intent.EVENT):
            return await self._events(db, understood, now)
        if intent is Intent.COUNTS:
            names_asked = bool(understood.municipalities) or "hvem" in understood.text or "who" in understood.text
            return await self._status.counts(
                db, None, asker, now, lang, task_id=understood.task, names_asked=names_asked
            )
        tasks = await self.tasks(db, asker.municipality_code)
        if intent is Intent.PROGRAMME and understood.programme is not None:
            programme = (await self.lexicon(db)).programmes.get(understood.programme)
            if programme is not None:
                return insight_answers.programme_answer(programme, tasks, now, lang, show_status=registered)
        if intent in (Intent.OUTSTANDING, Intent.DUE):
            if asker.municipality_name is None:
                return self._not_a_municipality(asker, tasks, now, lang)
            chosen = await self._in_programme(db, tasks, understood.programme)
            if intent is Intent.OUTSTANDING:
                return answers.outstanding_answer(chosen, asker.municipality_name, now, lang)
            return answers.due_answer(chosen, understood.period, asker.municipality_name, now, lang)
        if intent is Intent.TASK:
            return await self._task(db, understood, tasks, asker, memory, now)
        return await self._fallback(db, understood, tasks, asker, memory, now)

    async def _in_programme(
        self, db: AsyncConnection, tasks: list[TaskView], programme_id: str | None
    ) -> list[TaskView]:
        """Only the programme's tasks when a programme was named ("vores udeståender i MBP")."""
        if programme_id is None:
            return tasks
        programme = (await self.lexicon(db)).programmes.get(programme_id)
        return tasks if programme is None else [t for t in tasks if t.programme == programme.name]

    def _not_a_municipality(
        self, asker: Asker, tasks: list[TaskView], now: datetime, lang: Language
    ) -> Document:
        if asker.is_admin:
            return answers.kombit_answer(active_tasks(tasks), now, lang)
        return answers.unregistered_answer(asker.tenant_id, active_tasks(tasks), now, lang)

    async def _task(
        self,
        db: AsyncConnection,
        understood: Understanding,
        tasks: list[TaskView],
        asker: Asker,
        memory: Memory,
        now: datetime,
    ) -> Document:
        """One task: the fact asked first, then the task's card. Several candidates: a choice."""
        lang = understood.language
        by_id = {t.id: t for t in tasks}
        task = by_id.get(understood.task) if understood.task is not None else None
        if task is None:
            candidates = [by_id[c] for c in understood.task_candidates if c in by_id]
            if not candidates:
                return answers.no_task_answer(understood.subject or understood.text, active_tasks(tasks), lang)
            memory.pending = {"kind": "choose_task", "options": [t.id for t in candidates]}
            return answers.choose_task_answer(candidates, understood.text, lang)
        facet = understood.facet or Facet.DESCRIPTION
        fact = facts.task_fact(task, facet, lang, now, understood.text.split())
        if facet is Facet.STATUS and task.status is not None and asker.municipality_code is not None:
            fact = answers.say(
                lang,
                f"Jeres status er {fmt.status(task.status, lang)}.",
                f"Your status is {fmt.status(task.status, lang)}.",
            )
        elif facet is Facet.STATUS and asker.municipality_code is None:
            fact = answers.say(
                lang,
                "Jeg kender ikke jeres status, fordi jeres organisation ikke er knyttet til en kommune.",
                "I don't know your status: your organisation is not linked to a municipality.",
            )
        return self._status.detail(task, asker, memory, now, lang, intro=fact)

    async def _fallback(
        self,
        db: AsyncConnection,
        understood: Understanding,
        tasks: list[TaskView],
        asker: Asker,
        memory: Memory,
        now: datetime,
    ) -> Document:
        """Never a dead end: a task named only loosely is offered; otherwise the three closest
        things the bot can do."""
        lang = understood.language
        subject = (understood.subject or "").strip()
        if subject:
            ranked = rank(subject, tasks, lambda t: t.title, lambda t: t.keywords)
            best, candidates = decide(ranked)
            if best is not None and ranked[0][1] >= 90:
                return self._status.detail(best, asker, memory, now, lang)
            suggestions = [best] if best is not None else candidates
            if suggestions:
                return answers.fallback_answer(understood.text, suggestions[:3], lang)
        return insight_answers.suggestions_answer(understood.text, lang)

    async def _events(self, db: AsyncConnection, understood: Understanding, now: datetime) -> Document:
        lang = understood.language
        kind = understood.event_kind
        label = None
        if kind in EVENT_KIND_LABELS:
            da, en = EVENT_KIND_LABELS[kind]
            label = da if lang == "da" else en
        if understood.intent is Intent.EVENT and understood.event is not None:
            lexicon = await self.lexicon(db)
            event = lexicon.events.get(understood.event)
            if event is not None:
                facet = understood.facet or Facet.DATES
                if facet is Facet.DATES and _is_next_of_kind(event, lexicon.events.values(), now):
                    what = label or EVENT_KIND_LABELS.get(event.kind, (None, None))[0 if lang == "da" else 1]
                    return answers.next_event_answer(event, what, now, lang, self._public_url)
                fact = facts.event_fact(event, facet, lang, now, understood.text.split())
                return insight_answers.event_fact_answer(event, fact, now, lang, self._public_url)
        if understood.intent is Intent.EVENT:
            return answers.next_event_answer(None, label, now, lang)
        period = understood.period or Period(now, None)
        events = queries.events_within((await self.lexicon(db)).events.values(), period)
        if kind is not None:
            events = [e for e in events if e.kind == kind]
        return answers.events_answer(events, period, label, now, lang, self._public_url)


def _is_next_of_kind(event: EventView, events: Iterable[EventView], now: datetime) -> bool:
    """Whether no event of the same kind comes before this one (its "next" is this one)."""

    def first_upcoming(e: EventView) -> datetime | None:
        return min((s.starts_at for s in e.slots if s.ends_at > now), default=None)

    mine = first_upcoming(event)
    if mine is None:
        return False
    return all(
        (other := first_upcoming(e)) is None or other >= mine for e in events if e.kind == event.kind
    )


_YES = re.compile(
    r"^(?:ja|jo|jep|jeps|yes|yep|yeah|ok|okay|oki|korrekt|rigtigt|præcis|gerne|sure|bekræft\w*|confirm\w*"
    r"|gør\s+det|do\s+it|det\s+er\s+rigtigt|that'?s\s+right|please\s+do)(?:\s+(?:tak|gerne|please|thanks|bare|det|do))*$"
)
_NO = re.compile(
    r"^(?:nej|no|nope|nah|forkert|wrong|ikke\s+endnu|not\s+yet|lad\s+være|don'?t|annuller|cancel|stop)"
    r"(?:\s+(?:tak|thanks|ikke|endnu|alligevel))*$"
)


def yes_or_no(text: str) -> bool | None:
    """A short "ja" (True) or "nej" (False) to a question the bot asked; None for anything else."""
    answer = normalise(text).rstrip("!. ")
    answer = re.sub(r"[,!.]", " ", answer)
    answer = " ".join(answer.split())
    if _YES.match(answer):
        return True
    if _NO.match(answer):
        return False
    return None
