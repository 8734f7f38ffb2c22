"""Changing statuses and responsibility in the conversation, and KOMBIT's overviews.

Three ways in, one set of rules: typed commands ("sæt kontaktpunkt til fuldført"), buttons on
a task's card (signed payloads), and a guided dialog when the task or the status is not clear
("which of these tasks did you mean?"), with cancel at every step. The municipality is always
the asker's, from the tenant; a payload naming another one is refused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from dialogs import answers, insight_answers, status_answers
from dialogs.answers import say
from dialogs.card_signing import CardSigner
from dialogs.commands import Command, CommandKind, status_from_words
from dialogs.document import Action, Document
from dialogs.matching import decide, rank
from dialogs.model import Asker, Incoming, Memory
from dialogs.reports import Report
from dialogs.understanding import Language, normalise
from storage import queries
from storage.domain import TaskState, TaskStatus, TaskView, active_tasks, outstanding
from storage.status_changes import (
    Actor,
    ChangeFailed,
    ChangeResult,
    Outcome,
    change_status,
    responsibilities,
    set_responsible,
)
from storage.status_overview import laggards, task_counts

log = logging.getLogger(__name__)

STATUS_VERB = "setStatus"


@dataclass(frozen=True, slots=True)
class FlowResult:
    doc: Document
    # The answer replaces the card whose button was pressed (the card updates in place).
    replaces_card: bool = False


def _actor(incoming: Incoming) -> Actor:
    return Actor(
        user_id=incoming.sender.id,
        name=incoming.sender.name,
        aad_object_id=incoming.sender.aad_object_id,
        tenant_id=incoming.tenant_id,
    )


async def chosen_task(
    db: AsyncConnection, pending: dict[str, Any], text: str, asker: Asker
) -> TaskView | None:
    """The answer to "which task did you mean?": a number from the list offered, or a title."""
    by_id = {t.id: t for t in await queries.task_views(db, asker.municipality_code)}
    candidates = [by_id[o] for o in pending.get("options", []) if isinstance(o, str) and o in by_id]
    answer = normalise(text).rstrip(".")
    if answer.isdigit():
        return candidates[int(answer) - 1] if 1 <= int(answer) <= len(candidates) else None
    return _find(candidates, answer)[0] if answer else None


def _find(tasks: list[TaskView], query: str) -> tuple[TaskView | None, list[TaskView]]:
    ranked: list[tuple[TaskView, float]] = rank(query, tasks, lambda t: t.title, lambda t: t.keywords)
    return decide(ranked)


class StatusFlow:
    def __init__(self, engine: AsyncEngine, signer: CardSigner) -> None:
        self._engine = engine
        self._signer = signer

    # --- the task card, with its status buttons ------------------------------------------------

    def _payload(self, task: TaskView, asker: Asker, lang: Language) -> dict[str, object] | None:
        """The signed data of a status button for this municipality's row (None: no buttons)."""
        if asker.municipality_code is None or not task.changeable or task.status is None:
            return None
        return self._signer.sign(
            {
                "klikbot": "set_status",
                "municipality": asker.municipality_code,
                "task": task.id,
                "version": task.version or 0,
                "lang": lang,
            }
        )

    def status_actions(self, task: TaskView, asker: Asker, lang: Language) -> list[Action]:
        payload = self._payload(task, asker, lang)
        return [] if payload is None else status_answers.status_choice_actions(task, payload, lang)

    def confirm_actions(self, task: TaskView, status: TaskStatus, asker: Asker, lang: Language) -> list[Action]:
        """Ja sets the status with the card's signed payload (the same path as any status button);
        Nej changes nothing."""
        payload = self._payload(task, asker, lang)
        no = Action(say(lang, "Nej", "No"), data={"klikbot": "cancel", "lang": lang})
        if payload is None:
            return [no]
        yes = Action(
            say(lang, "Ja", "Yes"), data={**payload, "status": status.value}, verb=STATUS_VERB, style="positive"
        )
        return [yes, no]

    def proactive_card(
        self,
        task: TaskView,
        municipality_code: int,
        municipality: str,
        now: datetime,
        lang: Language,
        *,
        title: str,
        intro: str,
        footer: str | None = None,
    ) -> Document:
        """The task card a municipality is sent unasked (task news, KOMBIT's reminder), with its
        status buttons signed for that municipality."""
        asker = Asker(tenant_id=None, municipality_code=municipality_code, municipality_name=municipality)
        doc = answers.task_detail_answer(
            task,
            now,
            lang,
            show_status=True,
            status_actions=self.status_actions(task, asker, lang),
            intro=intro,
        )
        note = "\n\n".join(part for part in (doc.note, footer) if part) or None
        return replace(doc, title=title, note=note)

    def detail(
        self,
        task: TaskView,
        asker: Asker,
        memory: Memory,
        now: datetime,
        lang: Language,
        intro: str | None = None,
    ) -> Document:
        memory.last_task = task.id
        return answers.task_detail_answer(
            task,
            now,
            lang,
            show_status=asker.municipality_code is not None,
            status_actions=self.status_actions(task, asker, lang),
            intro=intro,
        )

    # --- buttons -----------------------------------------------------------------------------

    async def on_card(
        self,
        db: AsyncConnection,
        incoming: Incoming,
        asker: Asker,
        memory: Memory,
        now: datetime,
        lang: Language,
    ) -> FlowResult | None:
        value: dict[str, Any] = incoming.value or {}
        verb = value.get("klikbot")
        if verb == "set_status":
            return await self._card_set_status(db, value, incoming, asker, memory, now, lang)
        if verb == "pick_task" and isinstance(value.get("id"), str):
            pending, memory.pending = memory.pending, {}
            tasks = await queries.task_views(db, asker.municipality_code)
            task = next((t for t in tasks if t.id == value["id"]), None)
            if task is None:
                return FlowResult(answers.no_task_answer(str(value["id"]), active_tasks(tasks), lang))
            return FlowResult(
                await self._continue_with_task(db, task, pending, incoming, asker, memory, now, lang)
            )
        if verb == "task_status" and isinstance(value.get("id"), str):
            return FlowResult(await self._task_table(db, str(value["id"]), asker, now, lang, list_all=False))
        return None

    async def _card_set_status(
        self,
        db: AsyncConnection,
        value: dict[str, Any],
        incoming: Incoming,
        asker: Asker,
        memory: Memory,
        now: datetime,
        lang: Language,
    ) -> FlowResult:
        memory.pending = {}
        if asker.municipality_code is None:
            return FlowResult(status_answers.unregistered_change_answer(asker.tenant_id, lang))
        # The municipality comes from the tenant; a card naming another one changes nothing.
        if value.get("municipality") != asker.municipality_code:
            # The payload's values are not logged: they are whatever the sender made them.
            log.warning("refused a card for another municipality from tenant %s", asker.tenant_id)
            return FlowResult(
                status_answers.refused_answer(
                    status_answers.other_municipality_text(asker.municipality_name, lang), lang
                )
            )
        if not self._signer.verify(value):
            log.warning("refused a card with an altered payload from tenant %s", asker.tenant_id)
            return FlowResult(status_answers.refused_answer(status_answers.tampered_text(lang), lang))
        status = _status_value(value.get("status"))
        version = value.get("version")
        if status is None or not isinstance(version, int):
            return FlowResult(status_answers.refused_answer(status_answers.tampered_text(lang), lang))
        doc = await self._apply(
            db,
            str(value["task"]),
            status,
            incoming,
            asker,
            memory,
            now,
            lang,
            source="card",
            expected_version=version,
        )
        return FlowResult(doc, replaces_card=True)

    # --- the guided dialog ---------------------------------------------------------------------

    # --- status reports in the users' words ------------------------------------------------------

    async def on_report(
        self,
        db: AsyncConnection,
        report: Report,
        incoming: Incoming,
        asker: Asker,
        memory: Memory,
        now: datetime,
        lang: Language,
    ) -> Document:
        """A command applies at once; an inferred status is confirmed first; an unclear task is
        asked for (choosing it is the confirmation)."""
        if asker.municipality_code is None:
            return status_answers.unregistered_change_answer(asker.tenant_id, lang)
        tasks = await queries.task_views(db, asker.municipality_code)
        by_id = {t.id: t for t in tasks}
        task = by_id.get(report.task) if report.task is not None else None
        if task is None:
            options = [by_id[c] for c in report.candidates if c in by_id and by_id[c].changeable]
            options = options or outstanding(tasks) or active_tasks(tasks)
            memory.pending = {
                "kind": "choose_task",
                "options": [t.id for t in options],
                "then": "set_status",
                "status": report.status.value,
            }
            return status_answers.choose_task_for_change_answer(options, report.status, None, lang)
        if report.explicit or not task.changeable or task.status is report.status:
            return await self._apply(db, task.id, report.status, incoming, asker, memory, now, lang, source="text")
        memory.pending = {
            "kind": "confirm_status",
            "task": task.id,
            "status": report.status.value,
            "version": task.version or 0,
        }
        memory.last_task = task.id
        return status_answers.confirm_status_answer(
            task,
            report.status,
            self.confirm_actions(task, report.status, asker, lang),
            lang,
            via_context=report.via_context,
        )

    async def on_confirm(
        self,
        db: AsyncConnection,
        answer: bool,
        pending: dict[str, Any],
        incoming: Incoming,
        asker: Asker,
        memory: Memory,
        now: datetime,
        lang: Language,
    ) -> Document:
        """The user's "ja" or "nej" to a status the bot inferred."""
        status = _status_value(pending.get("status"))
        task_id = pending.get("task")
        version = pending.get("version")
        if not answer or status is None or not isinstance(task_id, str):
            memory.pending = {}
            return status_answers.not_changed_answer(lang)
        return await self._apply(
            db,
            task_id,
            status,
            incoming,
            asker,
            memory,
            now,
            lang,
            source="text",
            expected_version=version if isinstance(version, int) else None,
        )

    async def on_pending(
        self,
        db: AsyncConnection,
        text: str,
        incoming: Incoming,
        asker: Asker,
        memory: Memory,
        pending: dict[str, Any],
        now: datetime,
        lang: Language,
    ) -> Document | None:
        """The reply to a question the flow asked; None when the reply is something else."""
        kind = pending.get("kind")
        if kind == "choose_task" and pending.get("then") in ("set_status", "set_responsible"):
            chosen = await chosen_task(db, pending, text, asker)
            if chosen is None:
                return None
            return await self._continue_with_task(db, chosen, pending, incoming, asker, memory, now, lang)
        if kind == "choose_status" and isinstance(pending.get("task"), str):
            status = status_from_words(normalise(text).rstrip("."))
            if status is None:
                return None
            return await self._apply(
                db, pending["task"], status, incoming, asker, memory, now, lang, source="text"
            )
        return None

    async def _continue_with_task(
        self,
        db: AsyncConnection,
        task: TaskView,
        pending: dict[str, Any],
        incoming: Incoming,
        asker: Asker,
        memory: Memory,
        now: datetime,
        lang: Language,
    ) -> Document:
        then = pending.get("then")
        if then == "set_status":
            status = _status_value(pending.get("status"))
            if status is None:
                return self._ask_status(task, asker, memory, lang)
            return await self._apply(db, task.id, status, incoming, asker, memory, now, lang, source="text")
        if then == "set_responsible":
            return await self._responsible(
                db, task, pending.get("person"), incoming, asker, memory, now, lang
            )
        return self.detail(task, asker, memory, now, lang)

    def _ask_status(self, task: TaskView, asker: Asker, memory: Memory, lang: Language) -> Document:
        memory.pending = {"kind": "choose_status", "task": task.id}
        return status_answers.choose_status_answer(task, self.status_actions(task, asker, lang), lang)

    # --- typed commands ------------------------------------------------------------------------

    async def on_command(
        self,
        db: AsyncConnection,
        command: Command,
        incoming: Incoming,
        asker: Asker,
        memory: Memory,
        now: datetime,
    ) -> Document:
        lang = command.language
        kind = command.kind
        if kind in (CommandKind.OVERVIEW, CommandKind.WHO_MISSING) or (
            kind is CommandKind.TASK_STATUS and asker.is_admin and asker.municipality_code is None
        ):
            if not asker.is_admin:
                # The counts are every programme leader's (KLIK's slides show them); names are KOMBIT's.
                return await self.counts(db, command.subject, asker, now, lang, names_asked=True)
            return await self._kombit(db, command, now)
        if asker.municipality_code is None:
            if kind is CommandKind.TASK_STATUS and command.subject:
                tasks = await queries.task_views(db, None)
                best, _ = _find(tasks, command.subject)
                if best is not None:
                    return self.detail(best, asker, memory, now, lang)
            return status_answers.unregistered_change_answer(asker.tenant_id, lang)
        tasks = await queries.task_views(db, asker.municipality_code)
        if kind is CommandKind.MY_RESPONSIBILITIES:
            items = await responsibilities(
                db, asker.municipality_code, incoming.sender.name, incoming.sender.aad_object_id
            )
            return status_answers.my_responsibilities_answer(items, incoming.sender.name, lang)
        if kind is CommandKind.SET_RESPONSIBLE and command.subject is None:
            last = next((t for t in tasks if t.id == memory.last_task), None)
            if last is None:
                return status_answers.responsible_needs_task_answer(lang)
            return await self._responsible(db, last, command.person, incoming, asker, memory, now, lang)
        if kind is CommandKind.TASK_STATUS:
            best, _ = _find(tasks, command.subject or "")
            if best is not None:
                return self.detail(best, asker, memory, now, lang)
            return answers.no_task_answer(command.subject or "", active_tasks(tasks), lang)
        # SET_STATUS or SET_RESPONSIBLE naming a task (or, for a status, perhaps none).
        then = "set_status" if kind is CommandKind.SET_STATUS else "set_responsible"
        pending = {
            "then": then,
            "status": command.status.value if command.status else None,
            "person": command.person,
        }
        if not command.subject:
            options = outstanding(tasks) or active_tasks(tasks)
            memory.pending = {"kind": "choose_task", "options": [t.id for t in options], **pending}
            return status_answers.choose_task_for_change_answer(options, command.status, None, lang)
        best, candidates = _find(tasks, command.subject)
        if best is None and candidates:
            memory.pending = {"kind": "choose_task", "options": [t.id for t in candidates], **pending}
            return status_answers.choose_task_for_change_answer(
                candidates, command.status, command.subject, lang
            )
        if best is None:
            return answers.no_task_answer(command.subject, active_tasks(tasks), lang)
        return await self._continue_with_task(db, best, pending, incoming, asker, memory, now, lang)

    async def _responsible(
        self,
        db: AsyncConnection,
        task: TaskView,
        person: object,
        incoming: Incoming,
        asker: Asker,
        memory: Memory,
        now: datetime,
        lang: Language,
    ) -> Document:
        if asker.municipality_code is None:  # the tenant's mapping was removed mid-dialog
            return status_answers.unregistered_change_answer(asker.tenant_id, lang)
        if isinstance(person, str) and person:
            name, aad = person, None
        else:
            name, aad = incoming.sender.name or incoming.sender.id, incoming.sender.aad_object_id
        result = await set_responsible(db, asker.municipality_code, task.id, name, aad)
        if result.outcome is Outcome.NOT_CHANGEABLE:
            return status_answers.not_changeable_answer(task.title, lang)
        memory.last_task = task.id
        return status_answers.responsible_set_answer(task.title, name, lang)

    async def _apply(
        self,
        db: AsyncConnection,
        task_id: str,
        status: TaskStatus,
        incoming: Incoming,
        asker: Asker,
        memory: Memory,
        now: datetime,
        lang: Language,
        *,
        source: str,
        expected_version: int | None = None,
    ) -> Document:
        memory.pending = {}
        if asker.municipality_code is None:
            return status_answers.unregistered_change_answer(asker.tenant_id, lang)
        try:
            result = await change_status(
                db,
                asker.municipality_code,
                task_id,
                status,
                _actor(incoming),
                source,
                now,
                expected_version=expected_version,
            )
        except ChangeFailed:
            log.exception(
                "a status change failed and was rolled back (municipality %s, task %s)",
                asker.municipality_code,
                task_id,
            )
            return status_answers.failed_answer(lang)
        return await self._result(db, result, asker, memory, now, lang)

    async def _result(
        self,
        db: AsyncConnection,
        result: ChangeResult,
        asker: Asker,
        memory: Memory,
        now: datetime,
        lang: Language,
    ) -> Document:
        if result.outcome is Outcome.UNKNOWN_TASK:
            tasks = await queries.task_views(db, asker.municipality_code)
            return answers.no_task_answer(result.task_id, active_tasks(tasks), lang)
        if result.outcome is Outcome.NOT_CHANGEABLE:
            return status_answers.not_changeable_answer(result.task_title, lang)
        tasks = await queries.task_views(db, asker.municipality_code)
        task = next(t for t in tasks if t.id == result.task_id)
        if result.outcome is Outcome.UNCHANGED and result.new is not None:
            doc = self.detail(task, asker, memory, now, lang)
            doc.intro = status_answers.unchanged_answer(task.title, result.new, lang).intro
            return doc
        if result.outcome is Outcome.STALE:
            doc = self.detail(
                task, asker, memory, now, lang, intro=status_answers.stale_intro(result.current, lang)
            )
            doc.tone = "attention"
            return doc
        assert result.new is not None
        doc = self.detail(
            task,
            asker,
            memory,
            now,
            lang,
            intro="✓ " + status_answers.changed_intro(result.old, result.new, lang),
        )
        doc.tone = "good"
        return doc

    # --- how the municipalities are doing ---------------------------------------------------------

    async def counts(
        self,
        db: AsyncConnection,
        subject: str | None,
        asker: Asker,
        now: datetime,
        lang: Language,
        *,
        task_id: str | None = None,
        names_asked: bool = False,
    ) -> Document:
        """KLIK's counts per status over all municipalities, for one task or every active one.
        KOMBIT staff get their table with the municipalities' names instead."""
        tasks = await queries.task_views(db, asker.municipality_code)
        if task_id is None and subject:
            best, _ = _find([t for t in tasks if t.state is not TaskState.ANNOUNCED], subject)
            task_id = best.id if best is not None else None
        if asker.is_admin and asker.municipality_code is None:
            if task_id is not None:
                return await self._task_table(db, task_id, None, now, lang, list_all=False)
            return status_answers.overview_answer(await task_counts(db), now, lang)
        all_counts = await task_counts(db, (TaskState.ACTIVE, TaskState.CLOSED))
        own = {t.id: t.status for t in tasks if t.status is not None}
        chosen = [c for c in all_counts if c.task_id == task_id] if task_id else []
        if not chosen:
            chosen = [c for c in all_counts if c.state is TaskState.ACTIVE]
        return insight_answers.counts_answer(chosen, own, now, lang, names_asked=names_asked)

    # --- KOMBIT --------------------------------------------------------------------------------

    async def _kombit(self, db: AsyncConnection, command: Command, now: datetime) -> Document:
        lang = command.language
        if command.kind is CommandKind.OVERVIEW:
            return status_answers.overview_answer(await task_counts(db), now, lang)
        tasks = await queries.task_views(db, None)
        best, candidates = _find(
            [t for t in tasks if t.state is not TaskState.ANNOUNCED], command.subject or ""
        )
        if best is None and candidates:
            # Several tasks match: their counts side by side, each opening its own table.
            wanted = {t.id for t in candidates}
            return status_answers.overview_answer(
                [
                    c
                    for c in await task_counts(db, (TaskState.ACTIVE, TaskState.CLOSED))
                    if c.task_id in wanted
                ],
                now,
                lang,
            )
        if best is None:
            return answers.no_task_answer(command.subject or "", active_tasks(tasks), lang)
        return await self._task_table(
            db, best.id, None, now, lang, list_all=command.kind is CommandKind.WHO_MISSING
        )

    async def _task_table(
        self,
        db: AsyncConnection,
        task_id: str,
        asker: Asker | None,
        now: datetime,
        lang: Language,
        *,
        list_all: bool,
    ) -> Document:
        if asker is not None and not asker.is_admin:
            return status_answers.kombit_only_answer(lang)
        counts = await task_counts(db, (TaskState.ACTIVE, TaskState.CLOSED))
        found = next((c for c in counts if c.task_id == task_id), None)
        if found is None:
            tasks = await queries.task_views(db, None)
            return answers.no_task_answer(task_id, active_tasks(tasks), lang)
        return status_answers.task_table_answer(
            found, await laggards(db, task_id), now, lang, list_all=list_all
        )


def _status_value(value: object) -> TaskStatus | None:
    try:
        return TaskStatus(value) if isinstance(value, str) else None
    except ValueError:
        return None
