"""Answers about changing statuses and about where every municipality stands (KOMBIT)."""

from __future__ import annotations

from datetime import datetime

from dialogs import formatting as fmt
from dialogs.answers import last_change_text, registration_text, say
from dialogs.document import Action, Document, Section
from dialogs.understanding import Language
from storage.domain import STATUS_ORDER, TaskStatus, TaskView, end_of_day
from storage.status_changes import Responsibility, StatusSnapshot
from storage.status_overview import Laggard, TaskCounts


def snapshot_line(snapshot: StatusSnapshot, lang: Language) -> str:
    return last_change_text(
        snapshot.status, snapshot.changed_by_name, snapshot.changed_at, lang
    ) or fmt.status(snapshot.status, lang)


def changed_intro(old: TaskStatus | None, new: TaskStatus, lang: Language) -> str:
    return (
        say(lang, "Status ændret: ", "Status changed: ")
        + f"{fmt.status(old, lang)} → {fmt.status(new, lang)}"
    )


def not_changeable_answer(title: str, lang: Language) -> Document:
    return Document(
        title=title or say(lang, "Opgaven kan ikke ændres endnu", "The task cannot be changed yet"),
        intro=say(
            lang,
            "Opgaven er kun annonceret og er endnu ikke aktiv i KLIK, så jeres status kan ikke ændres endnu. Jeg siger til, når den bliver aktiv.",
            "The task is only announced and not yet active in KLIK, so your status cannot be changed yet.",
        ),
        tone="attention",
    )


def unchanged_answer(title: str, status: TaskStatus, lang: Language) -> Document:
    return Document(
        title=title,
        intro=say(
            lang,
            f"Status er allerede {fmt.status(status, lang)}. Intet er ændret.",
            f"The status is already {fmt.status(status, lang)}. Nothing changed.",
        ),
    )


def stale_intro(current: StatusSnapshot | None, lang: Language) -> str:
    who = snapshot_line(current, lang) if current is not None else ""
    return say(
        lang,
        f"Status blev ændret af en anden, efter kortet blev vist ({who}). Jeg har ikke ændret noget; her er den aktuelle status.",
        f"Someone else changed the status after this card was shown ({who}). I changed nothing; here is the current status.",
    )


def failed_answer(lang: Language) -> Document:
    return Document(
        title=say(lang, "Ændringen gik ikke igennem", "The change did not go through"),
        intro=say(
            lang,
            "Databasen svarede ikke som den skulle, så intet er ændret. Prøv igen om lidt.",
            "The database did not answer as it should, so nothing changed. Please try again in a moment.",
        ),
        tone="attention",
    )


def refused_answer(reason: str, lang: Language) -> Document:
    return Document(
        title=say(lang, "Det kan jeg ikke gøre", "I can't do that"), intro=reason, tone="attention"
    )


def other_municipality_text(own: str | None, lang: Language) -> str:
    if own:
        return say(
            lang,
            f"Det kort hører ikke til {own} Kommune. Du kan kun se og ændre jeres egne statusser, så intet er ændret.",
            f"That card does not belong to {own} Municipality. You can only see and change your own statuses, so nothing changed.",
        )
    return say(
        lang,
        "Det kort hører ikke til jer, så intet er ændret.",
        "That card does not belong to you, so nothing changed.",
    )


def tampered_text(lang: Language) -> str:
    return say(
        lang,
        "Kortets data er ændret undervejs og kan ikke bruges, så intet er ændret. Spørg igen, fx „fortæl om kontaktpunkt“.",
        "The card's data was altered and cannot be used, so nothing changed. Ask again, e.g. “tell me about the contact point task”.",
    )


def unregistered_change_answer(tenant_id: str | None, lang: Language) -> Document:
    return refused_answer(registration_text(tenant_id or "?", lang), lang)


def status_choice_actions(task: TaskView, data_for: dict[str, object], lang: Language) -> list[Action]:
    """Buttons for the statuses the task can move to (not the one it has)."""
    return [
        Action(
            fmt.status(status, lang),
            data={**data_for, "status": status.value},
            verb="setStatus",
            style="positive" if status is TaskStatus.COMPLETED else None,
        )
        for status in STATUS_ORDER
        if status is not task.status
    ]


def choose_status_answer(task: TaskView, actions: list[Action], lang: Language) -> Document:
    return Document(
        title=say(lang, "Hvilken status skal opgaven have?", "Which status should the task have?"),
        intro=task.title + " · " + say(lang, "nu", "now") + ": " + fmt.status(task.status, lang),
        sections=[
            Section(
                lines=[
                    say(
                        lang,
                        "Vælg en knap, eller skriv fx „fuldført“. „Annuller“ stopper.",
                        "Pick a button, or type e.g. “completed”. “Cancel” stops.",
                    )
                ]
            )
        ],
        actions=[*actions, Action(say(lang, "Annuller", "Cancel"), data={"klikbot": "cancel", "lang": lang})],
    )


def choose_task_for_change_answer(
    candidates: list[TaskView], status: TaskStatus | None, query: str | None, lang: Language
) -> Document:
    what = f" „{fmt.plain(query)}“" if query and lang == "da" else (f" “{fmt.plain(query)}”" if query else "")
    to = f" → {fmt.status(status, lang)}" if status else ""
    return Document(
        title=say(lang, f"Hvilken opgave{to}?", f"Which task{to}?"),
        intro=say(
            lang,
            f"Flere opgaver passer på{what}. Vælg en, eller svar med nummeret. „Annuller“ stopper.",
            f"Several tasks match{what}. Pick one, or reply with its number. “Cancel” stops.",
        )
        if query
        else say(
            lang,
            "Vælg opgaven, eller svar med nummeret. „Annuller“ stopper.",
            "Pick the task, or reply with its number. “Cancel” stops.",
        ),
        sections=[
            Section(heading=f"{i}. {t.title}", subheading=f"{t.programme} · {fmt.status(t.status, lang)}")
            for i, t in enumerate(candidates, start=1)
        ],
        actions=[
            *(
                Action(str(i), data={"klikbot": "pick_task", "id": t.id, "lang": lang})
                for i, t in enumerate(candidates, start=1)
            ),
            Action(say(lang, "Annuller", "Cancel"), data={"klikbot": "cancel", "lang": lang}),
        ],
    )


def responsible_set_answer(title: str, person: str, lang: Language) -> Document:
    return Document(
        title=title,
        intro=say(
            lang,
            f"Noteret: {person} er ansvarlig for opgaven hos jer.",
            f"Noted: {person} is responsible for the task in your municipality.",
        ),
        tone="good",
    )


def responsible_needs_task_answer(lang: Language) -> Document:
    return Document(
        title=say(lang, "Hvilken opgave?", "Which task?"),
        intro=say(
            lang,
            "Skriv fx „jeg er ansvarlig for kontaktpunkt“ eller „Anne er ansvarlig for kontaktpunkt“.",
            "Write e.g. “I am responsible for the contact point task” or “Anne is responsible for the contact point task”.",
        ),
    )


def my_responsibilities_answer(items: list[Responsibility], name: str, lang: Language) -> Document:
    if not items:
        return Document(
            title=say(
                lang, "Du er ikke ansvarlig for nogen opgaver", "You are not responsible for any tasks"
            ),
            intro=say(
                lang,
                "Skriv fx „jeg er ansvarlig for kontaktpunkt“ for at tage en opgave.",
                "Write e.g. “I am responsible for the contact point task” to take one.",
            ),
        )
    return Document(
        title=say(
            lang,
            f"{name or 'Du'} er ansvarlig for {len(items)} {'opgave' if len(items) == 1 else 'opgaver'}",
            f"{name or 'You'}: responsible for {len(items)} {'task' if len(items) == 1 else 'tasks'}",
        ),
        sections=[
            Section(
                heading=r.task_title,
                lines=[say(lang, "Jeres status", "Your status") + ": " + fmt.status(r.status, lang)],
                select=Action(
                    say(lang, "Vis detaljer", "Show details"),
                    data={"klikbot": "task", "id": r.task_id, "lang": lang},
                ),
            )
            for r in items
        ],
    )


def kombit_only_answer(lang: Language) -> Document:
    return refused_answer(
        say(
            lang,
            "Overblikket over alle kommuner er for KOMBIT-medarbejdere. Spørg fx „hvilke opgaver mangler vi?“ for jeres egne.",
            "The overview of all municipalities is for KOMBIT staff. Ask e.g. “what's outstanding?” for your own.",
        ),
        lang,
    )


def counts_line(counts: TaskCounts, lang: Language) -> str:
    return " · ".join(
        f"{fmt.status(status, lang)} {counts.counts[status]}"
        for status in STATUS_ORDER
        if counts.counts[status] or status is not TaskStatus.NOT_ACTIVE
    )


def _deadline_passed(counts: TaskCounts, now: datetime) -> bool:
    return counts.deadline is not None and now >= end_of_day(counts.deadline)


def task_table_answer(
    counts: TaskCounts, laggards: list[Laggard], now: datetime, lang: Language, *, list_all: bool
) -> Document:
    """KLIK's table for one task, and the municipalities that have not completed it."""
    facts = [(fmt.status(status, lang), str(counts.counts[status])) for status in STATUS_ORDER]
    facts.append((say(lang, "Kommuner i alt", "Municipalities"), str(counts.total)))
    overdue = _deadline_passed(counts, now)
    heading = say(lang, f"Mangler ({len(laggards)})", f"Not completed ({len(laggards)})")
    if overdue and counts.deadline is not None:
        heading += say(
            lang,
            f" – fristen {fmt.day(counts.deadline, lang)} er overskredet",
            f" – the deadline {fmt.day(counts.deadline, lang)} has passed",
        )
    shown = laggards if list_all else laggards[:20]
    names = ", ".join(f"{m.name} ({fmt.status(m.status, lang).lower()})" for m in shown)
    if len(shown) < len(laggards):
        names += say(
            lang,
            f" … og {len(laggards) - len(shown)} flere. Spørg „hvem mangler …“ for hele listen.",
            f" … and {len(laggards) - len(shown)} more. Ask “who hasn't completed …” for the full list.",
        )
    deadline = (
        fmt.day(counts.deadline, lang)
        if counts.deadline
        else say(lang, "sættes af kommunen", "set by the municipality")
    )
    sections = [Section(facts=facts)]
    if laggards:
        sections.append(Section(heading=heading, body=names, warning=None))
    return Document(
        title=say(lang, f"Status i KLIK: {counts.title}", f"Status in KLIK: {counts.title}"),
        intro=f"{counts.programme} · " + say(lang, "Frist", "Deadline") + f": {deadline}",
        sections=sections,
        tone="attention" if overdue and laggards else "default",
        note=say(
            lang,
            "„klikbot export statuses“ giver hele tabellen som CSV/XLSX.",
            "“klikbot export statuses” gives the whole table as CSV/XLSX.",
        ),
    )


def overview_answer(all_counts: list[TaskCounts], now: datetime, lang: Language) -> Document:
    sections = []
    for counts in all_counts:
        warning = None
        if _deadline_passed(counts, now) and (
            counts.counts[TaskStatus.NOT_STARTED] + counts.counts[TaskStatus.STARTED]
        ):
            warning = say(lang, "Fristen er overskredet", "The deadline has passed")
        deadline = (
            fmt.day(counts.deadline, lang)
            if counts.deadline
            else say(lang, "sættes af kommunen", "set by the municipality")
        )
        sections.append(
            Section(
                heading=counts.title,
                subheading=f"{counts.programme} · " + say(lang, "Frist", "Deadline") + f": {deadline}",
                lines=[counts_line(counts, lang)],
                warning=warning,
                select=Action(
                    say(lang, "Vis status", "Show status"),
                    data={"klikbot": "task_status", "id": counts.task_id, "lang": lang},
                ),
            )
        )
    return Document(
        title=say(lang, "Overblik: aktive KLIK-opgaver", "Overview: active KLIK tasks"),
        intro=say(
            lang,
            f"{fmt.count(len(all_counts), 'aktiv opgave', 'aktive opgaver')}. Vælg en for at se, hvem der mangler.",
            f"{fmt.count(len(all_counts), 'active task', 'active tasks')}. Pick one to see who has not completed it.",
        ),
        sections=sections,
    )


def confirm_status_answer(
    task: TaskView, status: TaskStatus, actions: list[Action], lang: Language, *, via_context: bool
) -> Document:
    """A status inferred from what the user wrote ("skemaet er sendt"): confirmed before it applies."""
    intro = _understood(status, via_context, lang)
    return Document(
        title=say(
            lang,
            f"Skal jeg sætte opgaven til {fmt.status(status, lang)}?",
            f"Shall I set the task to {fmt.status(status, lang)}?",
        ),
        intro=intro,
        sections=[
            Section(
                heading=task.title,
                subheading=task.programme,
                lines=[
                    say(lang, "Nu", "Now") + f": {fmt.status(task.status, lang)} → {fmt.status(status, lang)}",
                    say(lang, "Svar „ja“ eller „nej“, eller tryk på en knap.", "Reply “yes” or “no”, or press a button."),
                ],
            )
        ],
        actions=actions,
    )


def _understood(status: TaskStatus, via_context: bool, lang: Language) -> str:
    """What the bot understood the user to report, in one sentence."""
    task = say(lang, "den opgave, vi lige har talt om", "the task we just talked about") if via_context else say(lang, "opgaven", "the task")
    if status is TaskStatus.NOT_ACTIVE:
        return say(lang, f"Jeg forstod, at {task} ikke gælder for jer.", f"I understood that {task} does not apply to you.")
    done = {
        TaskStatus.COMPLETED: ("færdige med", "completed"),
        TaskStatus.STARTED: ("i gang med", "started"),
        TaskStatus.NOT_STARTED: ("ikke gået i gang med", "not started"),
    }[status]
    return say(lang, f"Jeg forstod, at I er {done[0]} {task}.", f"I understood that you have {done[1]} {task}.")


def not_changed_answer(lang: Language) -> Document:
    return Document(
        title=say(lang, "Okay, jeg ændrer ikke noget.", "Okay, I won't change anything."),
        intro=say(
            lang,
            "Skriv fx „sæt kontaktpunkt til påbegyndt“, hvis en anden status passer bedre.",
            "Write e.g. “set the contact point task to started” if another status fits better.",
        ),
    )
