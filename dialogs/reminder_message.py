"""The one message a conversation gets per reminder run: everything due, grouped.

Groups, in this order: missed mandatory deadlines, deadlines soon, registration closing, events
tomorrow, then the weekly digest's tasks, registrations and open incidents (without repeating
what a reminder above already shows). Long groups are cut with "… og N mere" so the card stays
well under Teams' 40 KB. Times are shown in the recipient's time zone; whole-day events and
deadlines are Danish calendar dates and shown as such.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from dialogs import formatting as fmt
from dialogs.answers import ask_action, deadline_text, say, task_action, task_marks
from dialogs.document import Action, Document, Section
from dialogs.reminder_commands import STOP_HINT_DA, STOP_HINT_EN
from dialogs.understanding import Language
from storage.domain import COPENHAGEN, TaskView, end_of_day
from storage.reminder_rules import DIGEST_HORIZON_DAYS, Due, ReminderItem, zone
from storage.views import EventView, IncidentView, SlotView

MAX_PER_GROUP = 5
MAX_SECTIONS = 20  # item sections in all groups together
MAX_TITLE = 150
MAX_UPDATE = 200
MAX_SLOTS = 3


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _relative(days: int, lang: Language) -> str:
    if days == 0:
        return say(lang, "i dag", "today")
    if days == 1:
        return say(lang, "i morgen", "tomorrow")
    if days == -1:
        return say(lang, "i går", "yesterday")
    if days > 1:
        return say(lang, f"om {days} dage", f"in {days} days")
    return say(lang, f"for {-days} dage siden", f"{-days} days ago")


def _day(value: date, lang: Language) -> str:
    """ "fre. 1/2" / "Fri 1 Feb": reminders are about the coming weeks, so no year."""
    return fmt.day(value, lang, weekday=True, year=False)


def _clock(moment: datetime, tz: ZoneInfo, lang: Language) -> str:
    local = moment.astimezone(tz)
    return f"{local:%H.%M}" if lang == "da" else f"{local:%H:%M}"


def slot_text(slot: SlotView, tz: ZoneInfo, lang: Language) -> str:
    """One slot in the recipient's time zone: "tors. 28/2 kl. 13.30-14.30" / "Thu 28 Feb, 13:30-14:30"."""
    if slot.all_day:  # a Danish calendar day, whatever the zone
        return fmt.slot(slot.starts_at, slot.ends_at, True, lang)
    start, end = slot.starts_at.astimezone(tz), slot.ends_at.astimezone(tz)
    first = _day(start.date(), lang)
    last = _clock(end, tz, lang)
    if end.date() != start.date():
        last = f"{_day(end.date(), lang)} {say(lang, 'kl. ', '')}{last}"
    if lang == "da":
        return f"{first} kl. {_clock(start, tz, lang)}-{last}"
    return f"{first}, {_clock(start, tz, lang)}-{last}"


def _place(event: EventView, slot: SlotView | None, lang: Language) -> str:
    if event.online:
        return say(lang, "Via Skype", "On Skype")
    return (slot.location if slot is not None else "") or event.location


def _register_action(event: EventView, now: datetime, lang: Language) -> Action | None:
    for slot in event.slots:
        url = slot.registration_url or event.registration_url
        if url and not slot.sold_out and slot.starts_at > now:
            return Action(say(lang, "Tilmeld", "Register"), url=url)
    return None


class _Builder:
    """Collects the sections under one budget, so every group gets a share before the cap."""

    def __init__(self, now: datetime, tz: ZoneInfo, lang: Language, show_status: bool) -> None:
        self.now, self.tz, self.lang, self.show_status = now, tz, lang, show_status
        self.today = now.astimezone(tz).date()
        self.sections: list[Section] = []
        self.left = MAX_SECTIONS

    def group(
        self, heading: str, subheading: str | None, entries: list[Section], more_hint: str = ""
    ) -> None:
        if not entries:
            return
        shown = entries[: max(1, min(MAX_PER_GROUP, self.left))]
        self.left -= len(shown)
        self.sections.append(Section(heading=heading, subheading=subheading))
        self.sections.extend(shown)
        if len(entries) > len(shown):
            rest = len(entries) - len(shown)
            self.sections.append(
                Section(lines=[say(self.lang, f"… og {rest} mere.", f"… and {rest} more.") + more_hint])
            )

    # --- one section per thing ---

    def task(self, task: TaskView, *, button: bool) -> Section:
        lang = self.lang
        if task.deadline is None:  # the rules only pass fixed deadlines; be safe anyway
            return Section(
                heading=_short(task.title, MAX_TITLE),
                lines=[say(lang, "Frist", "Deadline") + ": " + deadline_text(task, lang)],
                select=task_action(task, lang),
            )
        days = (task.deadline - self.today).days
        first = say(lang, "Frist", "Deadline") + f": {_day(task.deadline, lang)} ({_relative(days, lang)})"
        lines = [" · ".join([first, *task_marks(task, lang)])]
        if self.show_status:
            lines.append(say(lang, "Jeres status", "Your status") + ": " + fmt.status(task.status, lang))
        warning = None
        if task.overdue(self.now):
            warning = say(
                lang,
                f"Fristen {_day(task.deadline, lang)} er overskredet. Er opgaven løst, så opdater status.",
                f"The deadline {_day(task.deadline, lang)} has passed. If the task is done, update its status.",
            )
        action = task_action(task, lang)
        return Section(
            heading=_short(task.title, MAX_TITLE),
            subheading=task.programme,
            lines=lines,
            warning=warning,
            actions=[action] if button else [],
            select=None if button else action,
        )

    def registration(self, event: EventView) -> Section:
        lang = self.lang
        deadline = event.registration_deadline
        lines = [
            slot_text(s, self.tz, lang) + (say(lang, " – udsolgt", " – sold out") if s.sold_out else "")
            for s in event.slots
            if s.starts_at > self.now
        ][:MAX_SLOTS]
        if deadline is not None:
            days = (deadline - self.today).days
            lines.append(
                say(lang, "Tilmeldingsfrist", "Registration closes")
                + f": {_day(deadline, lang)} ({_relative(days, lang)})"
            )
        if event.registration_note:
            lines.append(_short(event.registration_note, MAX_UPDATE))
        register = _register_action(event, self.now, lang)
        return Section(
            heading=_short(event.title, MAX_TITLE),
            subheading=_place(event, None, lang) or None,
            lines=lines,
            actions=[register] if register else [],
        )

    def tomorrow(self, event: EventView, slot: SlotView) -> Section:
        lang = self.lang
        # Normally tomorrow; today when the bot was down over the day before.
        when = _relative(self.slot_days(slot), lang)
        line = when[0].upper() + when[1:] + ": " + slot_text(slot, self.tz, lang)
        if slot.sold_out:
            line += say(lang, " – udsolgt", " – sold out")
        lines = [line]
        place = _place(event, slot, lang)
        if place:
            lines.append(say(lang, "Sted", "Where") + f": {place}")
        actions = []
        registration_open = event.registration_deadline is None or self.now < end_of_day(
            event.registration_deadline
        )
        if (
            registration_open
            and not slot.sold_out
            and (url := slot.registration_url or event.registration_url)
        ):
            actions.append(Action(say(lang, "Tilmeld", "Register"), url=url))
        return Section(heading=_short(event.title, MAX_TITLE), lines=lines, actions=actions)

    def slot_days(self, slot: SlotView) -> int:
        day = slot.starts_at.astimezone(COPENHAGEN if slot.all_day else self.tz).date()
        return (day - self.today).days

    def incident(self, incident: IncidentView) -> Section:
        lang = self.lang
        local = incident.started_at.astimezone(self.tz)
        when = say(lang, "Siden", "Since") + f" {_day(local.date(), lang)} {say(lang, 'kl. ', '')}"
        when += _clock(local, self.tz, lang)
        lines = [when]
        if incident.affected_systems:
            lines.append(
                say(lang, "Berørte systemer", "Affected systems")
                + ": "
                + ", ".join(incident.affected_systems)
            )
        update = incident.latest_update or incident.description
        return Section(
            heading=_short(incident.title, MAX_TITLE),
            lines=lines,
            body=_short(update, MAX_UPDATE) if update else None,
        )


def _of(items: tuple[ReminderItem, ...], kind: str) -> list[ReminderItem]:
    return [i for i in items if i.kind == kind]


def render(
    due: Due,
    municipality: str | None,
    now: datetime,
    lang: Language,
    tz: ZoneInfo | str | None = None,
) -> Document:
    """The message for everything due in one run, for the conversation's time zone `tz`."""
    zone_info = tz if isinstance(tz, ZoneInfo) else zone(tz)
    build = _Builder(now, zone_info, lang, show_status=municipality is not None)
    missed = [i.task for i in _of(due.items, "deadline_missed") if i.task is not None]
    soon = [i.task for i in _of(due.items, "deadline_soon") if i.task is not None]
    closing = [i.event for i in _of(due.items, "registration_closing") if i.event is not None]
    tomorrow = [
        (i.event, i.slot)
        for i in _of(due.items, "event_tomorrow")
        if i.event is not None and i.slot is not None
    ]
    ask_tasks = say(
        lang, " Spørg \u201ehvilke opgaver mangler vi?\u201c", " Ask \u201cwhat's outstanding?\u201d"
    )
    ask_events = say(lang, " Spørg \u201ekommende arrangementer\u201c", " Ask \u201cupcoming events\u201d")

    build.group(
        say(lang, "Overskredne obligatoriske frister", "Missed mandatory deadlines"),
        say(
            lang,
            "Fristen er passeret, og opgaven er ikke fuldført.",
            "The deadline has passed and the task is not completed.",
        ),
        [build.task(t, button=True) for t in missed],
        ask_tasks,
    )
    build.group(
        say(lang, "Frister der nærmer sig", "Deadlines coming up"),
        say(lang, "Opgaver I ikke har fuldført.", "Tasks you have not completed."),
        [build.task(t, button=True) for t in soon],
        ask_tasks,
    )
    build.group(
        say(lang, "Tilmeldingsfristen nærmer sig", "Registration closes soon"),
        None,
        [build.registration(e) for e in closing],
        ask_events,
    )
    # Normally all tomorrow; after downtime some may be today.
    slot_days = {build.slot_days(s) for _, s in tomorrow}
    day_words = {frozenset({1}): ("i morgen", "tomorrow"), frozenset({0}): ("i dag", "today")}.get(
        frozenset(slot_days), ("snart", "soon")
    )
    build.group(
        say(lang, f"Arrangementer {day_words[0]}", f"Events {day_words[1]}"),
        None,
        [build.tomorrow(e, s) for e, s in tomorrow],
        ask_events,
    )
    digest = due.digest
    digest_tasks: list[TaskView] = []
    if digest is not None:
        # A task or event a reminder above already shows is not repeated in the overview.
        shown_tasks = {t.id for t in missed + soon}
        shown_events = {e.id for e in closing}
        digest_tasks = [t for t in digest.tasks if t.id not in shown_tasks]
        build.group(
            say(
                lang,
                f"Frister de næste {DIGEST_HORIZON_DAYS} dage",
                f"Deadlines in the next {DIGEST_HORIZON_DAYS} days",
            ),
            say(lang, "Udestående opgaver, også overskredne.", "Outstanding tasks, overdue ones too."),
            [build.task(t, button=False) for t in digest_tasks],
            ask_tasks,
        )
        build.group(
            say(lang, "Tilmeldingsfrister", "Registration deadlines"),
            None,
            [build.registration(e) for e in digest.events if e.id not in shown_events],
            ask_events,
        )
        build.group(
            say(lang, "Aktuelle driftsforstyrrelser", "Current incidents"),
            None,
            [build.incident(i) for i in digest.incidents],
        )

    counts = [
        (
            len(missed),
            "overskredet obligatorisk frist",
            "overskredne obligatoriske frister",
            "missed mandatory deadline",
            "missed mandatory deadlines",
        ),
        (len(soon), "frist nærmer sig", "frister nærmer sig", "deadline coming up", "deadlines coming up"),
        (
            len(closing),
            "tilmeldingsfrist",
            "tilmeldingsfrister",
            "registration closing",
            "registrations closing",
        ),
        (
            len(tomorrow),
            f"arrangement {day_words[0]}",
            f"arrangementer {day_words[0]}",
            f"event {day_words[1]}",
            f"events {day_words[1]}",
        ),
    ]
    summary = [
        say(lang, fmt.count(n, one, many), fmt.count(n, one_en, many_en))
        for n, one, many, one_en, many_en in counts
        if n
    ]
    intro: str | None
    if digest is not None:
        title = say(lang, "Ugentligt overblik", "Weekly overview")
        intro = say(
            lang,
            f"Frister de næste {DIGEST_HORIZON_DAYS} dage, tilmeldingsfrister og driftsforstyrrelser pr. {_day(build.today, lang)}.",
            f"Deadlines in the next {DIGEST_HORIZON_DAYS} days, registration deadlines and incidents as of {_day(build.today, lang)}.",
        )
        if summary:
            intro += " " + say(lang, "Desuden: ", "Also: ") + ", ".join(summary) + "."
    else:
        title = say(lang, "Påmindelse fra klikbot", "Reminder from klikbot")
        intro = (", ".join(summary) + ".") if summary else None
    if municipality:
        title += f" \u2013 {municipality}"

    notes = []
    if zone_info.key != COPENHAGEN.key:
        notes.append(
            say(
                lang,
                f"Tider er vist i tidszonen {zone_info.key}.",
                f"Times are shown in {zone_info.key} time.",
            )
        )
    notes.append(say(lang, STOP_HINT_DA, STOP_HINT_EN))
    actions = []
    if municipality:
        actions.append(
            ask_action(
                say(lang, "Alle udestående opgaver", "All outstanding tasks"),
                say(lang, "hvilke opgaver mangler vi?", "what's outstanding?"),
                lang,
            )
        )
    actions.append(
        ask_action(
            say(lang, "Indstillinger", "Settings"), say(lang, "vis påmindelser", "show reminders"), lang
        )
    )
    overdue = any(t.overdue(now) for t in digest_tasks)
    return Document(
        title=title,
        intro=intro,
        sections=build.sections,
        note=" ".join(notes),
        actions=actions,
        tone="attention" if missed or overdue else "default",
    )
