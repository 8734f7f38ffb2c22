"""Every card the bot can send, built from the demo dataset: for the card gallery and its tests.

`all_cards(now)` calls the real answer builders with realistic data, in Danish and English.
A new kind of card is one line in `CARDS`: a name and a function from a `Scene` and a language
to the answer's Document.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any, get_args

from dialogs import (
    answers,
    facts,
    incident_form,
    insight_answers,
    news,
    reminder_commands,
    reminder_message,
    reminders,
    status_answers,
    subscriptions,
)
from dialogs.card_signing import CardSigner
from dialogs.cards import render_card
from dialogs.conversation import EVENT_KIND_LABELS
from dialogs.document import Document
from dialogs.gallery_data import DemoData, demo_data
from dialogs.incident_cards import delivery_document, notice_document
from dialogs.model import Asker, Incoming, Memory, Sender
from dialogs.reminder_commands import ReminderCommand
from dialogs.status_flow import StatusFlow
from dialogs.understanding import Facet, Language
from dialogs.welcome import welcome_answer
from storage.catalogue_import import NEWS_DEADLINE_CHANGED, PendingNews
from storage.delivery import DeliveryCounts
from storage.demo import demo_catalogue_words, demo_tenant_id
from storage.domain import (
    COPENHAGEN,
    Period,
    TaskState,
    TaskStatus,
    TaskView,
    end_of_day,
    outstanding,
    start_of_day,
)
from storage.incidents import NoticeView
from storage.reminder_rules import Due, ReminderSettings, due
from storage.status_changes import Responsibility, StatusSnapshot
from storage.status_overview import Laggard, TaskCounts
from storage.subscriptions import Subscription
from storage.views import EventView, IncidentView, ProgrammeView

LANGUAGES: tuple[Language, ...] = get_args(Language) or ("da", "en")
UNKNOWN_TENANT = "11111111-2222-4333-8444-555555555555"  # a tenant no municipality is mapped to


@dataclass(frozen=True)
class Scene:
    """The demo data at a moment, with the pieces the answers take."""

    now: datetime
    data: DemoData

    @property
    def municipality(self) -> str:
        return self.data.municipality_name

    def task(self, task_id: str) -> TaskView:
        return next(t for t in self.data.tasks if t.id == task_id)

    @cached_property
    def after_deadlines(self) -> datetime:
        """A week after the municipality's last outstanding fixed deadline (or `now`, if later)."""
        deadlines = [t.deadline for t in outstanding(self.data.tasks) if t.deadline is not None]
        if not deadlines:
            return self.now
        return max(self.now, end_of_day(max(deadlines)) + timedelta(days=6, hours=10))

    @cached_property
    def all_done(self) -> list[TaskView]:
        """The municipality's tasks with every status it could finish set to completed."""
        return [
            dataclasses.replace(t, status=TaskStatus.COMPLETED) if t.status is not None else t
            for t in self.data.tasks
        ]

    def active(self, tasks: list[TaskView] | None = None) -> list[TaskView]:
        chosen = self.data.public_tasks if tasks is None else tasks
        return sorted(
            (t for t in chosen if t.state is TaskState.ACTIVE),
            key=lambda t: (t.deadline is None, t.deadline, t.title),
        )

    @property
    def next_week(self) -> Period:
        """Monday to Monday of the week after `now` ("frister i næste uge")."""
        today = self.now.astimezone(COPENHAGEN).date()
        monday = today + timedelta(days=7 - today.weekday())
        return Period(start_of_day(monday), start_of_day(monday + timedelta(days=7)))

    def upcoming_events(self) -> list[EventView]:
        return [e for e in self.data.events if any(s.ends_at > self.now for s in e.slots)]

    def next_event(self, kind: str) -> EventView | None:
        return next((e for e in self.upcoming_events() if e.kind == kind), None)

    def event(self, event_id: str) -> EventView:
        return next(e for e in self.data.events if e.id == event_id)

    def programme(self, programme_id: str) -> ProgrammeView:
        return next(p for p in demo_catalogue_words().programmes if p.id == programme_id)

    @property
    def own_statuses(self) -> dict[str, TaskStatus]:
        return {t.id: t.status for t in self.data.tasks if t.status is not None}

    @cached_property
    def asker(self) -> Asker:
        code = self.data.municipality_code
        return Asker(demo_tenant_id(code), code, self.municipality)

    @property
    def channel(self) -> Incoming:
        """A message in a team's channel, for the subscription cards."""
        return Incoming(
            text="abonnement",
            conversation_id="19:general@thread.tacv2",
            sender=Sender("29:user", "Mette Hansen"),
            tenant_id=demo_tenant_id(self.data.municipality_code),
            conversation_type="channel",
            team_id="19:team@thread.tacv2",
        )

    @cached_property
    def flow(self) -> StatusFlow:
        # Only builds cards here: no database is touched.
        return StatusFlow(None, CardSigner(b"gallery-signing-key-32-bytes...."))  # type: ignore[arg-type]

    @cached_property
    def changed(self) -> TaskView:
        """Udpeg kontaktpunkt just after Mette marked it completed."""
        return dataclasses.replace(
            self.task("mbp-kontaktpunkt-incident"),
            status=TaskStatus.COMPLETED,
            version=(self.task("mbp-kontaktpunkt-incident").version or 1) + 1,
            changed_at=self.now,
            changed_by_name="Mette Hansen",
        )

    @property
    def snapshot(self) -> StatusSnapshot:
        return StatusSnapshot(TaskStatus.COMPLETED, 2, self.now, "Anne Holm", "")

    def news(self, kind: str) -> PendingNews:
        task = self.task("mbp-kontaktpunkt-incident")
        old = date(2019, 1, 15) if kind == NEWS_DEADLINE_CHANGED else None
        return PendingNews(1, task.id, task.title, kind, task.deadline, old, self.now)

    def reminders(self, *, digest: bool) -> Due:
        """What a Vejle chat with every reminder on hears: on the Monday before the deadlines
        (with the weekly digest), or the morning before them."""
        now = datetime(2019, 1, 28, 8, 0, tzinfo=self.now.tzinfo) if digest else datetime(2019, 1, 30, 8, 0, tzinfo=self.now.tzinfo)
        settings = ALL_REMINDERS
        found = due(
            settings,
            tasks=self.data.tasks,
            events=self.data.events,
            incidents=[self.open_incident],
            since=now - timedelta(days=1),
            now=now,
            sent=(),
        )
        return found if digest else dataclasses.replace(found, digest=None)

    @cached_property
    def open_incident(self) -> IncidentView:
        """The demo's incident as it stood on the morning it began, before it was resolved."""
        incident = self.data.incidents[0]
        return dataclasses.replace(
            incident,
            status="identified",
            resolved_at=None,
            latest_update=(
                "Leverandøren har identificeret fejlen og arbejder på at genetablere Adgangsstyring. "
                "Næste statusopdatering kl. 12.00."
            ),
        )


# KLIK's table for two demo tasks, as on the slides, and a few municipalities that lag.
KONTAKTPUNKT_COUNTS = TaskCounts(
    "mbp-kontaktpunkt-incident",
    "Udpeg kontaktpunkt eller -person til incidenthåndtering",
    "Monopolbrudsprogrammet",
    TaskState.ACTIVE,
    date(2019, 1, 31),
    {TaskStatus.COMPLETED: 13, TaskStatus.STARTED: 9, TaskStatus.NOT_STARTED: 76, TaskStatus.NOT_ACTIVE: 0},
)
IT_COUNTS = TaskCounts(
    "mbp-tjek-it-miljoe",
    "Tjek at kommunens it-miljø er klar til idriftsættelse af den fælleskommunale infrastruktur, SAPA, KSD og KY",
    "Monopolbrudsprogrammet",
    TaskState.ACTIVE,
    None,
    {TaskStatus.COMPLETED: 14, TaskStatus.STARTED: 9, TaskStatus.NOT_STARTED: 10, TaskStatus.NOT_ACTIVE: 65},
)
LAGGARDS = [
    Laggard(code, name, status, None)
    for code, name, status in (
        (165, "Albertslund", TaskStatus.NOT_STARTED), (101, "København", TaskStatus.STARTED),
        (461, "Odense", TaskStatus.NOT_STARTED), (630, "Vejle", TaskStatus.NOT_STARTED),
    )
]  # fmt: skip


ALL_REMINDERS = ReminderSettings(deadlines=True, events=True, digest=True)


def kind_label(kind: str, lang: Language) -> str:
    da, en = EVENT_KIND_LABELS[kind]
    return answers.say(lang, da, en)


CardBuilder = Callable[[Scene, Language], Document]

# Every card the bot can send: (name, builder). Add a new kind of card here, in one line.
CARDS: tuple[tuple[str, CardBuilder], ...] = (
    ("outstanding", lambda s, lang: answers.outstanding_answer(s.data.tasks, s.municipality, s.now, lang)),
    ("outstanding-overdue", lambda s, lang: answers.outstanding_answer(s.data.tasks, s.municipality, s.after_deadlines, lang)),
    ("outstanding-none", lambda s, lang: answers.outstanding_answer(s.all_done, s.municipality, s.now, lang)),
    ("due", lambda s, lang: answers.due_answer(s.data.tasks, s.next_week, s.municipality, s.now, lang)),
    ("due-all", lambda s, lang: answers.due_answer(s.data.tasks, None, s.municipality, s.now, lang)),
    ("task-detail-fixed-deadline", lambda s, lang: answers.task_detail_answer(s.task("mbp-underskriftberettiget-skat"), s.now, lang, show_status=True)),
    ("task-detail-self-set-deadline", lambda s, lang: answers.task_detail_answer(s.task("mbp-tjek-it-miljoe"), s.now, lang, show_status=True)),
    ("choose-task", lambda s, lang: answers.choose_task_answer([t for t in s.active(s.data.tasks) if t.title.startswith("Udpeg")], "udpeg", lang)),
    ("choose-task-most", lambda s, lang: answers.choose_task_answer(s.data.tasks[:5], "opgave", lang)),  # the most `decide` offers
    ("no-task", lambda s, lang: answers.no_task_answer("budgetopfølgning", s.active(s.data.tasks), lang)),
    ("events", lambda s, lang: answers.events_answer(s.upcoming_events(), Period(s.now, None), None, s.now, lang)),
    ("next-event", lambda s, lang: answers.next_event_answer(s.next_event("programledermoede"), kind_label("programledermoede", lang), s.now, lang)),
    ("next-event-none", lambda s, lang: answers.next_event_answer(None, kind_label("webinar", lang), s.now, lang)),
    ("incidents-none-open", lambda s, lang: answers.incidents_answer([], s.data.incidents[0], lang)),
    ("incidents-one-open", lambda s, lang: answers.incidents_answer([s.open_incident], None, lang)),
    ("help", lambda s, lang: answers.help_answer(lang, True, None)),
    ("help-unregistered", lambda s, lang: answers.help_answer(lang, False, UNKNOWN_TENANT)),
    ("greeting", lambda s, lang: answers.greeting_answer("Mette Hansen", lang)),
    ("fallback", lambda s, lang: answers.fallback_answer("kontakt", [s.task("mbp-kontaktpunkt-incident")], lang)),
    ("cancelled", lambda s, lang: answers.cancelled_answer(lang)),
    ("bad-input", lambda s, lang: answers.bad_input_answer(lang)),
    ("welcome", lambda s, lang: welcome_answer(Asker(demo_tenant_id(s.data.municipality_code), s.data.municipality_code, s.municipality), lang)),
    ("welcome-unregistered", lambda s, lang: welcome_answer(Asker(UNKNOWN_TENANT), lang)),
    ("unregistered", lambda s, lang: answers.unregistered_answer(UNKNOWN_TENANT, s.active(), s.now, lang)),
    ("kombit", lambda s, lang: answers.kombit_answer(s.active(), s.now, lang)),
    # Status changes (issue 3)
    ("task-detail-with-status-buttons", lambda s, lang: s.flow.detail(s.task("mbp-kontaktpunkt-incident"), s.asker, Memory(), s.now, lang)),
    ("status-changed", lambda s, lang: s.flow.detail(s.changed, s.asker, Memory(), s.now, lang, intro="✓ " + status_answers.changed_intro(TaskStatus.NOT_STARTED, TaskStatus.COMPLETED, lang))),
    ("status-stale", lambda s, lang: s.flow.detail(s.changed, s.asker, Memory(), s.now, lang, intro=status_answers.stale_intro(s.snapshot, lang))),
    ("status-unchanged", lambda s, lang: status_answers.unchanged_answer(s.changed.title, TaskStatus.COMPLETED, lang)),
    ("status-not-changeable", lambda s, lang: status_answers.not_changeable_answer(s.task("fk-opret-fk-administrator").title, lang)),
    ("status-failed", lambda s, lang: status_answers.failed_answer(lang)),
    ("status-refused-other-municipality", lambda s, lang: status_answers.refused_answer(status_answers.other_municipality_text(s.municipality, lang), lang)),
    ("status-refused-tampered", lambda s, lang: status_answers.refused_answer(status_answers.tampered_text(lang), lang)),
    ("status-refused-unregistered", lambda s, lang: status_answers.unregistered_change_answer(UNKNOWN_TENANT, lang)),
    ("choose-status", lambda s, lang: status_answers.choose_status_answer(s.task("mbp-kontaktpunkt-incident"), s.flow.status_actions(s.task("mbp-kontaktpunkt-incident"), s.asker, lang), lang)),
    ("choose-task-for-change", lambda s, lang: status_answers.choose_task_for_change_answer([t for t in s.active(s.data.tasks) if t.title.startswith("Udpeg")], TaskStatus.COMPLETED, "udpeg", lang)),
    ("responsible-set", lambda s, lang: status_answers.responsible_set_answer(s.task("mbp-kontaktpunkt-incident").title, "Anne Holm", lang)),
    ("responsible-needs-task", lambda s, lang: status_answers.responsible_needs_task_answer(lang)),
    ("my-responsibilities", lambda s, lang: status_answers.my_responsibilities_answer([Responsibility("mbp-kontaktpunkt-incident", s.task("mbp-kontaktpunkt-incident").title, TaskStatus.STARTED)], "Mette Hansen", lang)),
    ("my-responsibilities-none", lambda s, lang: status_answers.my_responsibilities_answer([], "Mette Hansen", lang)),
    ("kombit-task-table", lambda s, lang: status_answers.task_table_answer(KONTAKTPUNKT_COUNTS, LAGGARDS, s.now, lang, list_all=False)),
    ("kombit-task-table-overdue", lambda s, lang: status_answers.task_table_answer(KONTAKTPUNKT_COUNTS, LAGGARDS, s.after_deadlines, lang, list_all=True)),
    ("kombit-overview", lambda s, lang: status_answers.overview_answer([KONTAKTPUNKT_COUNTS, IT_COUNTS], s.now, lang)),
    ("kombit-only", lambda s, lang: status_answers.kombit_only_answer(lang)),
    # Incident notices (issue 4)
    ("incident-notice", lambda s, lang: notice_document(NoticeView(s.open_incident, 1, None), lang)),
    ("incident-notice-resolved", lambda s, lang: notice_document(NoticeView(s.data.incidents[0], 3, s.data.incidents[0].resolved_at), lang)),
    ("incident-delivery", lambda s, lang: delivery_document(NoticeView(s.open_incident, 2, s.now), DeliveryCounts(12, 9830, 3, 5, 9845, (("a:1x7Qv", "post", "403: the bot is no longer in the conversation"),)), lang)),
    ("subscription-on", lambda s, lang: subscriptions._show(Subscription("19:general@thread.tacv2", True, ("SAPA", "BBR")), True, s.channel, lang)),
    ("subscription-off", lambda s, lang: subscriptions._show(Subscription("19:other@thread.tacv2", False, (), "19:general@thread.tacv2"), False, s.channel, lang)),
    # Task news (issue 5)
    ("task-news", lambda s, lang: news.news_document(s.news("new"), s.task("mbp-kontaktpunkt-incident"), s.data.municipality_code, s.municipality, s.flow, s.now, lang)),
    ("task-news-deadline", lambda s, lang: news.news_document(s.news(NEWS_DEADLINE_CHANGED), s.task("mbp-kontaktpunkt-incident"), s.data.municipality_code, s.municipality, s.flow, s.now, lang)),
    ("news-on", lambda s, lang: subscriptions._news_answer(True, s.channel, lang)),
    ("news-off", lambda s, lang: subscriptions._news_answer(False, s.channel, lang)),
    # Reminders (issue 6)
    ("reminder-settings", lambda s, lang: reminder_commands.answer(ALL_REMINDERS, ReminderCommand("on", frozenset({"deadlines", "events", "digest"}), lang), True, lang)),
    ("reminder-settings-off", lambda s, lang: reminder_commands.answer(ReminderSettings(), ReminderCommand("off", frozenset({"deadlines", "events", "digest"}), lang), True, lang)),
    ("reminder", lambda s, lang: reminder_message.render(s.reminders(digest=False), s.municipality, s.now, lang, "Europe/Copenhagen")),
    ("kombit-chase-preview", lambda s, lang: reminders.chase_preview_answer(s.task("mbp-kontaktpunkt-incident"), 76, lang)),
    ("kombit-chase-nobody", lambda s, lang: reminders.chase_preview_answer(s.task("mbp-kontaktpunkt-incident"), 0, lang)),
    ("kombit-chase-sent", lambda s, lang: reminders.chase_sent_answer(s.task("mbp-kontaktpunkt-incident").title, 76, lang)),
    ("reminder-digest", lambda s, lang: reminder_message.render(s.reminders(digest=True), s.municipality, s.now, lang, "Europe/Copenhagen")),
    # Understanding programme leaders as they write (issue 12)
    ("task-fact", lambda s, lang: s.flow.detail(s.task("mbp-underskriftberettiget-skat"), s.asker, Memory(), s.now, lang, intro=facts.task_fact(s.task("mbp-underskriftberettiget-skat"), Facet.CONTACT, lang, s.now, ["skema"]))),
    ("event-fact", lambda s, lang: insight_answers.event_fact_answer(s.event("styregrupper-kursus-2019"), facts.event_fact(s.event("styregrupper-kursus-2019"), Facet.REGISTRATION, lang, s.now, []), s.now, lang)),
    ("programme", lambda s, lang: insight_answers.programme_answer(s.programme("aula"), s.data.tasks, s.now, lang, show_status=True)),
    ("programme-without-tasks", lambda s, lang: insight_answers.programme_answer(s.programme("ydelsesrefusion"), s.data.tasks, s.now, lang, show_status=True)),
    ("counts-one-task", lambda s, lang: insight_answers.counts_answer([KONTAKTPUNKT_COUNTS], s.own_statuses, s.now, lang, names_asked=True)),
    ("counts-all-tasks", lambda s, lang: insight_answers.counts_answer([KONTAKTPUNKT_COUNTS, IT_COUNTS], s.own_statuses, s.now, lang)),
    ("confirm-status", lambda s, lang: status_answers.confirm_status_answer(s.task("mbp-kontaktpunkt-incident"), TaskStatus.COMPLETED, s.flow.confirm_actions(s.task("mbp-kontaktpunkt-incident"), TaskStatus.COMPLETED, s.asker, lang), lang, via_context=True)),
    ("status-not-changed", lambda s, lang: status_answers.not_changed_answer(lang)),
    ("suggestions", lambda s, lang: insight_answers.suggestions_answer("hvad er der til frokost", lang)),
)  # fmt: skip

# Cards built as Adaptive Card JSON directly (forms with inputs): (name, builder).
RAW_CARDS: tuple[tuple[str, Callable[[Scene, Language], dict[str, Any] | None]], ...] = (
    ("incident-form", lambda s, lang: incident_form.form_reply({}, lang, s.now).card),
    ("incident-form-error", lambda s, lang: incident_form.form_reply({"title": "Nedbrud"}, lang, s.now, "Beskrivelsen mangler").card),
    ("incident-update-form", lambda s, lang: incident_form.update_form_reply(1, lang).card),
)  # fmt: skip


def all_documents(now: datetime, municipality: str = "Vejle") -> list[tuple[str, Language, Document]]:
    scene = Scene(now, demo_data(municipality))
    return [(name, lang, build(scene, lang)) for name, build in CARDS for lang in LANGUAGES]


def all_cards(now: datetime, municipality: str = "Vejle") -> list[tuple[str, str, dict[str, Any]]]:
    """(name, language, Adaptive Card) for every card the bot can send, in Danish and English."""
    cards = [(name, str(lang), render_card(doc)) for name, lang, doc in all_documents(now, municipality)]
    scene = Scene(now, demo_data(municipality))
    for name, build in RAW_CARDS:
        for lang in LANGUAGES:
            card = build(scene, lang)
            assert card is not None, name
            cards.append((name, lang, card))
    return cards
