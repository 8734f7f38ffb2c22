"""The answers: each builds a Document from the data, in the asker's language.

Plain Python over storage queries and domain rules; the conversation decides which to call.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import quote

from dialogs import formatting as fmt
from dialogs.document import Action, Document, Section
from dialogs.understanding import Language
from storage.domain import (
    Period,
    TaskState,
    TaskStatus,
    TaskView,
    due_in,
    end_of_day,
    not_updated_closed,
    outstanding,
    self_set_deadline,
)
from storage.views import EventView, IncidentView, SlotView

PROGRAMME_MAILBOX = "Mbprogrammet@kombit.dk"
MAX_EVENTS = 6
# Where links to the bot itself (calendar files) point when no KLIKBOT_PUBLIC_URL is given:
# `klikbot serve`'s default address (CONTRACT.md).
DEFAULT_PUBLIC_URL = "http://127.0.0.1:3978"


def say(lang: Language, da: str, en: str) -> str:
    return da if lang == "da" else en


def task_action(task: TaskView, lang: Language) -> Action:
    return Action(
        say(lang, "Vis detaljer", "Show details"), data={"klikbot": "task", "id": task.id, "lang": lang}
    )


def ask_action(title: str, question: str, lang: Language) -> Action:
    return Action(title, data={"klikbot": "ask", "text": question, "lang": lang})


def deadline_text(task: TaskView, lang: Language) -> str:
    if task.deadline is not None:
        return fmt.day(task.deadline, lang)
    if task.deadline_rule:
        return say(lang, "I fastsætter selv fristen", "You set the deadline yourselves")
    return say(lang, "Ingen frist", "No deadline")


def task_marks(task: TaskView, lang: Language) -> list[str]:
    marks = []
    if task.mandatory:
        marks.append(say(lang, "Obligatorisk", "Mandatory"))
    if task.critical_path:
        marks.append(say(lang, "På kritisk vej", "On the critical path"))
    return marks


def _overdue_warning(task: TaskView, now: datetime, lang: Language) -> str | None:
    if not task.overdue(now) or task.deadline is None:
        return None
    days = (fmt.local(now).date() - task.deadline).days
    return say(
        lang,
        f"Fristen {fmt.day(task.deadline, lang)} er overskredet ({days} {'dag' if days == 1 else 'dage'})",
        f"The deadline {fmt.day(task.deadline, lang)} has passed ({days} {'day' if days == 1 else 'days'} ago)",
    )


def task_section(task: TaskView, now: datetime, lang: Language, *, show_status: bool) -> Section:
    first = say(lang, "Frist", "Deadline") + ": " + deadline_text(task, lang)
    line = " · ".join([first, *task_marks(task, lang)])
    lines = [line]
    if show_status:
        lines.append(say(lang, "Jeres status", "Your status") + ": " + fmt.status(task.status, lang))
    return Section(
        heading=task.title,
        subheading=task.programme,
        lines=lines,
        warning=_overdue_warning(task, now, lang),
        select=task_action(task, lang),
    )


def _remember_closed(tasks: list[TaskView], lang: Language) -> str | None:
    closed = not_updated_closed(tasks)
    if not closed:
        return None
    titles = ", ".join(t.title for t in closed)
    return say(
        lang,
        f"Husk at opdatere status i KLIK på afsluttede opgaver, der ikke står som fuldført: {titles}.",
        f"Remember to update KLIK for finished campaigns not marked completed: {titles}.",
    )


def outstanding_answer(tasks: list[TaskView], municipality: str, now: datetime, lang: Language) -> Document:
    todo = outstanding(tasks)
    if not todo:
        return Document(
            title=say(
                lang,
                f"{municipality} har ingen udestående KLIK-opgaver",
                f"{municipality} has no outstanding KLIK tasks",
            ),
            intro=say(
                lang,
                "Alle aktive opgaver er fuldført eller ikke aktive for jer. Godt gået!",
                "All active tasks are completed or not active for you. Well done!",
            ),
            note=_remember_closed(tasks, lang),
            tone="good",
        )
    overdue = sum(1 for t in todo if t.overdue(now))
    intro = say(
        lang,
        f"{fmt.count(len(todo), 'opgave', 'opgaver')}, sorteret efter frist.",
        f"{fmt.count(len(todo), 'task', 'tasks')}, by deadline.",
    )
    if overdue:
        intro += " " + say(
            lang,
            f"{overdue} har overskredet fristen.",
            f"{overdue} {'is' if overdue == 1 else 'are'} past the deadline.",
        )
    return Document(
        title=say(
            lang, f"Udestående KLIK-opgaver for {municipality}", f"Outstanding KLIK tasks for {municipality}"
        ),
        intro=intro,
        sections=[task_section(t, now, lang, show_status=True) for t in todo],
        note=_remember_closed(tasks, lang),
        tone="attention" if overdue else "default",
    )


def describe_period(period: Period, lang: Language) -> str:
    def last_day(end: datetime) -> str:
        return fmt.day(fmt.local(end - timedelta(microseconds=1)).date(), lang)

    if period.start is None and period.end is not None:
        return say(lang, f"til og med {last_day(period.end)}", f"up to and including {last_day(period.end)}")
    if period.start is not None and period.end is None:
        return say(
            lang,
            f"fra {fmt.day(fmt.local(period.start).date(), lang)}",
            f"from {fmt.day(fmt.local(period.start).date(), lang)}",
        )
    if period.start is not None and period.end is not None:
        first = fmt.day(fmt.local(period.start).date(), lang)
        last = last_day(period.end)
        return first if first == last else f"{first} – {last}"
    return ""


def due_answer(
    tasks: list[TaskView], period: Period | None, municipality: str | None, now: datetime, lang: Language
) -> Document:
    show_status = municipality is not None
    if period is None:
        # "Hvilke frister har vi?": every outstanding task with a date, nearest first.
        chosen = [t for t in outstanding(tasks) if t.deadline is not None]
        title = say(lang, "Jeres kommende frister", "Your upcoming deadlines")
    else:
        chosen = due_in(tasks, period)
        title = say(
            lang, f"Frister {describe_period(period, lang)}", f"Deadlines {describe_period(period, lang)}"
        )
    notes = []
    self_set = self_set_deadline(tasks)
    if self_set:
        notes.append(
            say(lang, "Fristen sætter I selv for: ", "You set the deadline yourselves for: ")
            + ", ".join(t.title for t in self_set)
            + "."
        )
    if period is not None and period.start is not None:
        earlier = [t for t in outstanding(tasks) if t.overdue(now) and t not in chosen]
        if earlier:
            notes.append(
                say(
                    lang,
                    f"Desuden har {fmt.count(len(earlier), 'opgave', 'opgaver')} allerede overskredet fristen.",
                    f"Also, {fmt.count(len(earlier), 'task is', 'tasks are')} already past the deadline.",
                )
            )
    if not chosen:
        intro = say(
            lang,
            "Ingen udestående opgaver har frist i den periode.",
            "No outstanding task is due in that period.",
        )
    else:
        intro = say(
            lang,
            f"{fmt.count(len(chosen), 'udestående opgave', 'udestående opgaver')}.",
            f"{fmt.count(len(chosen), 'outstanding task', 'outstanding tasks')}.",
        )
    return Document(
        title=title,
        intro=intro,
        sections=[task_section(t, now, lang, show_status=show_status) for t in chosen],
        note=" ".join(notes) or None,
        tone="attention" if any(t.overdue(now) for t in chosen) else "default",
    )


def _state_text(task: TaskView, lang: Language) -> str:
    return {
        TaskState.ANNOUNCED: say(
            lang,
            "Kommende (annonceret, endnu ikke aktiv i KLIK)",
            "Upcoming (announced, not yet active in KLIK)",
        ),
        TaskState.ACTIVE: say(lang, "Aktuel", "Active"),
        TaskState.CLOSED: say(lang, "Afsluttet", "Finished"),
    }[task.state]


def last_change_text(status: TaskStatus, who: str, when: datetime | None, lang: Language) -> str | None:
    """ "Fuldført af Mette, 24/1 10.12" / "Completed by Mette, 24 Jan 10:12"."""
    if when is None:
        return None
    moment = f"{fmt.day(fmt.local(when).date(), lang, year=False)} {fmt.clock(when, lang)}"
    label = fmt.status(status, lang)
    if who:
        return say(lang, f"{label} af {who}, {moment}", f"{label} by {who}, {moment}")
    return f"{label}, {moment}"


def task_detail_answer(
    task: TaskView,
    now: datetime,
    lang: Language,
    *,
    show_status: bool,
    status_actions: Sequence[Action] = (),
    intro: str | None = None,
) -> Document:
    """One task: what to do, programme, marks, deadline, contact, and the municipality's own
    status with its last change and who is responsible; status buttons where it can change."""
    facts = [
        (say(lang, "Program", "Programme"), task.programme),
        (say(lang, "Tilstand", "State"), _state_text(task, lang)),
        (say(lang, "Obligatorisk", "Mandatory"), fmt.yes_no(task.mandatory, lang)),
        (say(lang, "Kritisk vej", "Critical path"), fmt.yes_no(task.critical_path, lang)),
        (say(lang, "Frist", "Deadline"), deadline_text(task, lang)),
    ]
    if task.contact:
        facts.append((say(lang, "Kontakt", "Contact"), task.contact))
    if show_status and task.status is not None:
        facts.append((say(lang, "Jeres status", "Your status"), fmt.status(task.status, lang)))
        changed = last_change_text(task.status, task.changed_by_name, task.changed_at, lang)
        if changed:
            facts.append((say(lang, "Senest ændret", "Last change"), changed))
        if task.responsible_name:
            facts.append((say(lang, "Ansvarlig", "Responsible"), task.responsible_name))
    sections = [
        Section(
            body=task.description or None,
            facts=facts,
            warning=_overdue_warning(task, now, lang),
            actions=list(status_actions),
        )
    ]
    if task.deadline is None and task.deadline_rule:
        sections.append(
            Section(heading=say(lang, "Om fristen", "About the deadline"), body=task.deadline_rule)
        )
    actions = []
    if task.contact and "@" in task.contact:
        actions.append(
            Action(say(lang, "Skriv til kontakten", "E-mail the contact"), url=f"mailto:{task.contact}")
        )
    return Document(
        title=task.title,
        intro=intro,
        sections=sections,
        note=task.notes or None,
        actions=actions,
        tone="attention" if task.overdue(now) else "default",
    )


def choose_task_answer(candidates: list[TaskView], query: str, lang: Language) -> Document:
    return Document(
        title=say(lang, "Hvilken opgave mener du?", "Which task do you mean?"),
        intro=say(
            lang,
            f"Flere opgaver passer på \u201e{fmt.plain(query)}\u201c. Vælg en, eller svar med nummeret.",
            f"Several tasks match \u201c{fmt.plain(query)}\u201d. Pick one, or reply with its number.",
        ),
        sections=[
            Section(heading=f"{i}. {t.title}", subheading=t.programme, select=task_action(t, lang))
            for i, t in enumerate(candidates, start=1)
        ],
        actions=[
            *(task_action_numbered(i, t, lang) for i, t in enumerate(candidates, start=1)),
            Action(say(lang, "Annuller", "Cancel"), data={"klikbot": "cancel", "lang": lang}),
        ],
    )


def task_action_numbered(number: int, task: TaskView, lang: Language) -> Action:
    return Action(f"{number}", data={"klikbot": "task", "id": task.id, "lang": lang})


def no_task_answer(query: str, active: list[TaskView], lang: Language) -> Document:
    return Document(
        title=say(
            lang,
            f"Jeg fandt ingen opgave om \u201e{fmt.plain(query)}\u201c",
            f"I found no task about \u201c{fmt.plain(query)}\u201d",
        ),
        intro=say(
            lang,
            "Her er de aktuelle KLIK-opgaver. Vælg en for at se detaljer.",
            "Here are the active KLIK tasks. Pick one to see the details.",
        ),
        sections=[
            Section(heading=t.title, subheading=t.programme, select=task_action(t, lang)) for t in active
        ],
    )


def event_place(event: EventView, slot_location: str, lang: Language) -> str:
    if event.online:
        return say(lang, "Via Skype", "On Skype")
    return slot_location or event.location


def event_facts(event: EventView, lang: Language, *, with_place: bool = True) -> list[tuple[str, str]]:
    """Where, for whom, how to register: the card's facts, and the calendar file's description
    (which has each slot's place as its LOCATION instead)."""
    facts = []
    place = event_place(event, "", lang) if with_place else ""
    if place:
        facts.append((say(lang, "Sted", "Where"), place))
    if event.audience:
        facts.append((say(lang, "For", "For"), event.audience))
    registration = []
    if event.registration_note:
        registration.append(event.registration_note)
    if event.registration_deadline is not None:
        registration.append(
            say(
                lang,
                f"senest {fmt.day(event.registration_deadline, lang)}",
                f"by {fmt.day(event.registration_deadline, lang)}",
            )
        )
    if registration:
        facts.append((say(lang, "Tilmelding", "Registration"), ", ".join(registration)))
    return facts


def calendar_link(public_url: str, event_id: str, lang: Language) -> str:
    """The event's iCalendar file (bot/calendar_api.py), in the answer's language."""
    link = f"{public_url.rstrip('/')}/api/events/{quote(event_id, safe='')}.ics"
    return link if lang == "da" else f"{link}?lang={lang}"


def slot_text(event: EventView, slot: SlotView, now: datetime, lang: Language) -> str:
    """One date of an event: when, where if it differs, and whether it is sold out or held."""
    text = fmt.slot(slot.starts_at, slot.ends_at, slot.all_day, lang)
    place = event_place(event, slot.location, lang) if slot.location or event.online else ""
    if place and slot.location:
        text += say(lang, f" i {place}", f" in {place}")
    if slot.sold_out:
        text += say(lang, " – udsolgt", " – sold out")
    elif slot.ends_at <= now:
        text += say(lang, " (afholdt)", " (held)")
    return text


def event_section(
    event: EventView, now: datetime, lang: Language, public_url: str = DEFAULT_PUBLIC_URL
) -> Section:
    lines = [slot_text(event, slot, now, lang) for slot in event.slots]
    facts = event_facts(event, lang)
    open_deadline = event.registration_deadline is None or now < end_of_day(event.registration_deadline)
    warning = None
    if not open_deadline:
        warning = say(lang, "Tilmeldingsfristen er overskredet", "Registration has closed")
    actions = []
    seen: set[str] = set()
    for slot in event.slots:
        url = slot.registration_url or event.registration_url
        if url and url not in seen and not slot.sold_out and slot.ends_at > now:
            seen.add(url)
            label = say(lang, "Tilmeld", "Register")
            if len(event.slots) > 1 and slot.registration_url:
                label += " " + fmt.day(fmt.local(slot.starts_at).date(), lang, year=False)
            actions.append(Action(label, url=url))
    calendar = say(lang, "Tilføj til kalender", "Add to calendar")
    actions.append(Action(calendar, url=calendar_link(public_url, event.id, lang)))
    return Section(heading=event.title, lines=lines, facts=facts, warning=warning, actions=actions)


def events_answer(
    events: list[EventView],
    period: Period | None,
    kind_label: str | None,
    now: datetime,
    lang: Language,
    public_url: str = DEFAULT_PUBLIC_URL,
) -> Document:
    if period is not None and period.start is not None and period.start <= now and period.end is None:
        title = say(lang, "Kommende arrangementer", "Upcoming events")
    elif period is not None:
        title = say(
            lang, f"Arrangementer {describe_period(period, lang)}", f"Events {describe_period(period, lang)}"
        )
    else:
        title = say(lang, "Arrangementer", "Events")
    if kind_label:
        title += f" ({kind_label})"
    shown = events[:MAX_EVENTS]
    note = None
    if len(events) > len(shown):
        note = say(
            lang,
            f"… og {len(events) - len(shown)} flere. Spørg fx \u201earrangementer i juni\u201c.",
            f"… and {len(events) - len(shown)} more. Ask e.g. \u201cevents in June\u201d.",
        )
    return Document(
        title=title,
        intro=None
        if shown
        else say(lang, "Der er ingen arrangementer i den periode.", "There are no events in that period."),
        sections=[event_section(e, now, lang, public_url) for e in shown],
        note=note,
    )


def next_event_answer(
    event: EventView | None,
    kind_label: str | None,
    now: datetime,
    lang: Language,
    public_url: str = DEFAULT_PUBLIC_URL,
) -> Document:
    what = kind_label or say(lang, "arrangement", "event")
    if event is None:
        return Document(
            title=say(lang, f"Der er ikke planlagt flere af typen {what}", f"No further {what} is planned"),
            intro=say(
                lang,
                "Spørg \u201ekommende arrangementer\u201c for at se kalenderen.",
                "Ask \u201cupcoming events\u201d to see the calendar.",
            ),
        )
    upcoming = [s for s in event.slots if s.ends_at > now]
    first = upcoming[0] if upcoming else event.slots[0]
    when = fmt.slot(first.starts_at, first.ends_at, first.all_day, lang)
    intro = say(lang, f"Næste {what} er {when}.", f"The next {what} is {when}.")
    if len(event.slots) > 1:
        intro += say(lang, " Vælg den dag, der passer jer:", " Choose the day that suits you:")
    return Document(title=event.title, intro=intro, sections=[event_section(event, now, lang, public_url)])


def incidents_answer(
    open_incidents: list[IncidentView], latest: IncidentView | None, lang: Language
) -> Document:
    if not open_incidents:
        intro = say(
            lang,
            "Der er ingen aktuelle driftsforstyrrelser i den fælleskommunale infrastruktur.",
            "There are no current incidents in the joint municipal infrastructure.",
        )
        sections = [incident_section(latest, lang)] if latest is not None else []
        return Document(
            title=say(lang, "Ingen driftsforstyrrelser", "No incidents"),
            intro=intro,
            sections=sections,
            tone="good",
        )
    return Document(
        title=say(
            lang,
            fmt.count(len(open_incidents), "aktuel driftsforstyrrelse", "aktuelle driftsforstyrrelser"),
            fmt.count(len(open_incidents), "current incident", "current incidents"),
        ),
        sections=[incident_section(i, lang) for i in open_incidents],
        tone="attention",
    )


_INCIDENT_STATUS = {
    "investigating": ("Undersøges", "Investigating"),
    "identified": ("Identificeret", "Identified"),
    "monitoring": ("Overvåges", "Monitoring"),
    "resolved": ("Løst", "Resolved"),
}


def incident_section(incident: IncidentView, lang: Language) -> Section:
    da, en = _INCIDENT_STATUS.get(incident.status, (incident.status, incident.status))
    when = fmt.timestamp(incident.started_at, lang)
    if incident.resolved_at is not None:
        when += " – " + fmt.timestamp(incident.resolved_at, lang)
    facts = [
        (say(lang, "Status", "Status"), say(lang, da, en)),
        (
            say(
                lang,
                "Tidsrum" if incident.resolved_at else "Siden",
                "Period" if incident.resolved_at else "Since",
            ),
            when,
        ),
        (say(lang, "Berørte systemer", "Affected systems"), ", ".join(incident.affected_systems)),
    ]
    if incident.severity:
        facts.append((say(lang, "Prioritet", "Priority"), incident.severity))
    return Section(
        heading=incident.title
        + ("" if incident.resolved_at is None else say(lang, " (løst)", " (resolved)")),
        body=incident.latest_update or incident.description or None,
        facts=facts,
    )


EXAMPLES = (
    ("Hvilke opgaver mangler vi?", "What's outstanding?"),
    ("Hvad har frist inden 1. februar?", "What is due by the end of February?"),
    ("Fortæl om kontaktpunkt", "Tell me about the contact point task"),
    ("Hvornår er næste programledermøde?", "When is the next programme leader meeting?"),
    ("Kommende arrangementer", "Upcoming events"),
    ("Er der driftsforstyrrelser?", "Any incidents?"),
)


def example_actions(lang: Language, limit: int = 4) -> list[Action]:
    pairs = EXAMPLES[:limit]
    return [ask_action(say(lang, da, en), say(lang, da, en), lang) for da, en in pairs]


def help_answer(lang: Language, registered: bool, tenant_hint: str | None) -> Document:
    lines = [f"\u201e{da}\u201c" if lang == "da" else f"\u201c{en}\u201d" for da, en in EXAMPLES]
    note = None
    if not registered and tenant_hint is not None:
        note = registration_text(tenant_hint, lang)
    return Document(
        title=say(lang, "Det kan jeg hjælpe med", "What I can help with"),
        intro=say(
            lang,
            "Spørg mig med dine egne ord om jeres KLIK-opgaver, frister, KOMBITs møder og arrangementer og driftsforstyrrelser. For eksempel:",
            "Ask me in your own words about your KLIK tasks, deadlines, KOMBIT's meetings and events, and incidents. For example:",
        ),
        sections=[Section(lines=lines)],
        note=note,
        actions=example_actions(lang),
    )


def registration_text(tenant_id: str, lang: Language) -> str:
    # A tenant id is a GUID; whatever else an activity claims is shown short and as typed.
    tenant_id = fmt.plain(tenant_id, 100)
    return say(
        lang,
        f"Jeres Teams-organisation (tenant {tenant_id}) er ikke knyttet til en kommune endnu, så jeg kan ikke vise jeres egne statusser. "
        f"Bed KOMBIT om at registrere den: skriv til {PROGRAMME_MAILBOX} med tenant-id og kommunens navn. "
        "Arrangementer, driftsforstyrrelser og opgavernes beskrivelser kan du se allerede nu.",
        f"Your Teams organisation (tenant {tenant_id}) is not yet linked to a municipality, so I cannot show your own statuses. "
        f"Ask KOMBIT to register it: write to {PROGRAMME_MAILBOX} with the tenant id and the municipality's name. "
        "Events, incidents and the task descriptions are available to you already.",
    )


def unregistered_answer(
    tenant_id: str | None, active: list[TaskView], now: datetime, lang: Language
) -> Document:
    return Document(
        title=say(
            lang, "Jeg ved ikke, hvilken kommune du er fra", "I don't know which municipality you are from"
        ),
        intro=registration_text(tenant_id or "?", lang),
        sections=[task_section(t, now, lang, show_status=False) for t in active],
        note=say(
            lang,
            "Ovenfor: de aktuelle KLIK-opgaver for alle kommuner.",
            "Above: the active KLIK tasks for all municipalities.",
        ),
    )


def kombit_answer(active: list[TaskView], now: datetime, lang: Language) -> Document:
    return Document(
        title=say(lang, "Aktuelle KLIK-opgaver", "Active KLIK tasks"),
        intro=say(
            lang,
            "Du er logget ind som KOMBIT-medarbejder, ikke for en kommune. Her er de aktive opgaver.",
            "You are signed in as KOMBIT staff, not for a municipality. These are the active tasks.",
        ),
        sections=[task_section(t, now, lang, show_status=False) for t in active],
    )


def greeting_answer(name: str, lang: Language) -> Document:
    first = name.split()[0] if name.strip() else ""
    hello = say(lang, f"Hej {first}!" if first else "Hej!", f"Hi {first}!" if first else "Hi!")
    return Document(
        title=hello,
        intro=say(
            lang,
            "Jeg holder styr på jeres KLIK-opgaver, frister og KOMBITs arrangementer. Hvad vil du vide?",
            "I keep track of your KLIK tasks, deadlines and KOMBIT's events. What would you like to know?",
        ),
        actions=example_actions(lang),
    )


def fallback_answer(text: str, suggestions: list[TaskView], lang: Language) -> Document:
    sections = []
    if suggestions:
        sections.append(
            Section(
                heading=say(lang, "Mente du en af disse opgaver?", "Did you mean one of these tasks?"),
                lines=[t.title for t in suggestions],
                actions=[task_action_titled(t, lang) for t in suggestions],
            )
        )
    return Document(
        title=say(lang, "Det er jeg ikke sikker på, at jeg forstod", "I'm not sure I understood that"),
        intro=say(
            lang,
            "Prøv at spørge sådan her, eller vælg et af forslagene:",
            "Try asking like this, or pick a suggestion:",
        ),
        sections=[
            *sections,
            Section(lines=[say(lang, f"\u201e{da}\u201c", f"\u201c{en}\u201d") for da, en in EXAMPLES]),
        ],
        actions=example_actions(lang),
    )


def task_action_titled(task: TaskView, lang: Language) -> Action:
    title = task.title if len(task.title) <= 40 else task.title[:39] + "…"
    return Action(title, data={"klikbot": "task", "id": task.id, "lang": lang})


def cancelled_answer(lang: Language) -> Document:
    return Document(
        title=say(lang, "Okay, det er glemt.", "Okay, never mind."),
        intro=say(lang, "Spørg bare igen, når du er klar.", "Just ask again when you're ready."),
    )


def bad_input_answer(lang: Language) -> Document:
    return Document(
        title=say(lang, "Den besked kunne jeg ikke læse", "I couldn't read that message"),
        intro=say(
            lang,
            "Skriv dit spørgsmål som almindelig tekst, fx \u201ehvilke opgaver mangler vi?\u201c.",
            "Write your question as plain text, e.g. \u201cwhat's outstanding?\u201d.",
        ),
        actions=example_actions(lang),
    )
