"""Answers about one fact, a programme, and how the municipalities are doing; and the closest
things the bot can do when it did not understand.

Plain Python: each builds a Document from views, in the asker's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rapidfuzz import fuzz

from dialogs import formatting as fmt
from dialogs.answers import DEFAULT_PUBLIC_URL, ask_action, event_section, say, task_section
from dialogs.document import Action, Document, Section
from dialogs.lexicon import key, tokens
from dialogs.understanding import Language
from storage.domain import STATUS_ORDER, TaskState, TaskStatus, TaskView, end_of_day
from storage.status_overview import TaskCounts
from storage.views import EventView, ProgrammeView

__all__ = ["counts_answer", "event_fact_answer", "programme_answer", "suggestions_answer"]


def event_fact_answer(
    event: EventView, fact: str, now: datetime, lang: Language, public_url: str = DEFAULT_PUBLIC_URL
) -> Document:
    """One event: the fact asked first, then its card (dates, place, registration, calendar)."""
    return Document(title=event.title, intro=fact, sections=[event_section(event, now, lang, public_url)])


# --- programmes ----------------------------------------------------------------------------------

_STATE_ORDER = {TaskState.ACTIVE: 0, TaskState.ANNOUNCED: 1, TaskState.CLOSED: 2}


def programme_answer(
    programme: ProgrammeView, tasks: Sequence[TaskView], now: datetime, lang: Language, *, show_status: bool
) -> Document:
    """What is coming in a programme: KOMBIT's note, then its active and announced tasks."""
    own = sorted(
        (t for t in tasks if t.programme == programme.name and t.state is not TaskState.CLOSED),
        key=lambda t: (_STATE_ORDER[t.state], t.deadline is None, t.deadline or now.date(), t.title),
    )
    sections = []
    for task in own:
        section = task_section(task, now, lang, show_status=show_status and task.state is TaskState.ACTIVE)
        if task.state is TaskState.ANNOUNCED:
            section.lines = [say(lang, "Kommende: endnu ikke aktiv i KLIK", "Upcoming: not yet active in KLIK")]
        sections.append(section)
    active = sum(1 for t in own if t.state is TaskState.ACTIVE)
    coming = len(own) - active
    if own:
        summary = say(
            lang,
            f"{fmt.count(active, 'aktiv opgave', 'aktive opgaver')} og {fmt.count(coming, 'kommende', 'kommende')}.",
            f"{fmt.count(active, 'active task', 'active tasks')} and {coming} upcoming.",
        )
    else:
        summary = say(
            lang,
            "Der er ingen KLIK-opgaver i programmet i KLIK endnu.",
            "The programme has no KLIK tasks in KLIK yet.",
        )
    intro = " ".join(part for part in (programme.note, summary) if part)
    title = programme.name if programme.short_name in programme.name else f"{programme.name} ({programme.short_name})"
    return Document(title=title, intro=intro, sections=sections)


# --- how the municipalities are doing --------------------------------------------------------------

_BAR = 20  # characters of the text bar for all municipalities


def _bar(count: int, total: int) -> str:
    filled = round(_BAR * count / total) if total else 0
    return "█" * filled + "░" * (_BAR - filled)


def _share_sentence(counts: TaskCounts, lang: Language) -> str:
    c = counts.counts
    parts = [
        say(
            lang,
            f"{c[TaskStatus.COMPLETED]} af {counts.total} kommuner har fuldført opgaven",
            f"{c[TaskStatus.COMPLETED]} of {counts.total} municipalities have completed the task",
        ),
        say(lang, f"{c[TaskStatus.STARTED]} er i gang", f"{c[TaskStatus.STARTED]} have started"),
        say(lang, f"{c[TaskStatus.NOT_STARTED]} er ikke påbegyndt", f"{c[TaskStatus.NOT_STARTED]} have not started"),
    ]
    if c[TaskStatus.NOT_ACTIVE]:
        parts.append(say(lang, f"og for {c[TaskStatus.NOT_ACTIVE]} er den ikke aktiv", f"and for {c[TaskStatus.NOT_ACTIVE]} it is not active"))
        return ", ".join(parts[:-1]) + " " + parts[-1] + "."
    return ", ".join(parts[:-1]) + say(lang, " og ", " and ") + parts[-1] + "."


def counts_answer(
    counts: Sequence[TaskCounts],
    own: dict[str, TaskStatus],
    now: datetime,
    lang: Language,
    *,
    names_asked: bool = False,
) -> Document:
    """KLIK's status counts over all municipalities, as the slides show every programme leader:
    numbers and bars, the asker's own status beside them, never another municipality's name."""
    note = None
    if names_asked:
        note = say(
            lang,
            "Hvilke kommuner der er hvor, deler jeg kun med KOMBIT; her er tallene.",
            "Which municipalities are where is shared with KOMBIT only; these are the numbers.",
        )
    if len(counts) == 1:
        one = counts[0]
        intro = _share_sentence(one, lang)
        mine = own.get(one.task_id)
        if mine is not None:
            intro += " " + say(lang, f"I står som {fmt.status(mine, lang)}.", f"You are at {fmt.status(mine, lang)}.")
            if mine.is_open:
                others = one.counts[TaskStatus.NOT_STARTED] + one.counts[TaskStatus.STARTED] - 1
                intro += " " + say(
                    lang,
                    f"Ud over jer mangler {others} andre kommuner.",
                    f"Besides you, {others} other municipalities have not completed it.",
                )
        deadline = fmt.day(one.deadline, lang) if one.deadline else say(lang, "sættes af kommunen", "set by each municipality")
        if one.deadline is not None and now >= end_of_day(one.deadline):
            deadline += say(lang, " (overskredet)", " (passed)")
        return Document(
            title=say(lang, f"Sådan står det til i alle kommuner: {one.title}", f"All municipalities: {one.title}"),
            intro=intro,
            sections=[
                Section(
                    subheading=f"{one.programme} · " + say(lang, "Frist", "Deadline") + f": {deadline}",
                    facts=[
                        (fmt.status(status, lang), f"{_bar(one.counts[status], one.total)} {one.counts[status]}")
                        for status in STATUS_ORDER
                        if one.counts[status] or status is not TaskStatus.NOT_ACTIVE
                    ],
                )
            ],
            note=note,
        )
    sections = []
    for c in counts:
        done = c.counts[TaskStatus.COMPLETED]
        lines = [
            say(lang, f"Fuldført: {done} af {c.total}", f"Completed: {done} of {c.total}")
            + f"  {_bar(done, c.total)}",
            " · ".join(
                f"{fmt.status(s, lang)} {c.counts[s]}" for s in STATUS_ORDER if c.counts[s] or s is not TaskStatus.NOT_ACTIVE
            ),
        ]
        if c.task_id in own:
            lines.append(say(lang, "Jeres status", "Your status") + ": " + fmt.status(own[c.task_id], lang))
        sections.append(
            Section(
                heading=c.title,
                subheading=c.programme,
                lines=lines,
                select=Action(say(lang, "Vis detaljer", "Show details"), data={"klikbot": "task", "id": c.task_id, "lang": lang}),
            )
        )
    return Document(
        title=say(lang, "Sådan står det til i alle kommuner", "How all municipalities are doing"),
        intro=say(
            lang,
            f"KLIK's tal for {fmt.count(len(counts), 'aktiv opgave', 'aktive opgaver')} over alle kommuner.",
            f"KLIK's figures for {fmt.count(len(counts), 'active task', 'active tasks')} across all municipalities.",
        )
        if counts
        else say(lang, "Der er ingen aktive opgaver lige nu.", "There are no active tasks right now."),
        sections=sections,
        note=note,
    )


# --- never a dead end ----------------------------------------------------------------------------

# What the bot can do, each with a question that shows it and the words people use for it.
_CAPABILITIES: tuple[tuple[str, str, str], ...] = (
    ("Hvilke opgaver mangler vi?", "What's outstanding?", "opgave opgaver mangler udestående lave gøre liste task tasks todo klik"),
    ("Hvilke frister har vi?", "What are our deadlines?", "frist frister deadline deadlines hvornår dato nå due date"),
    ("Kommende arrangementer", "Upcoming events", "arrangement arrangementer kursus workshop kalender event events konference"),
    ("Hvornår er næste programledermøde?", "When is the next programme leader meeting?", "programledermøde møde møder plm skype meeting meetings"),
    ("Hvordan går det for de andre kommuner?", "How are the other municipalities doing?", "andre kommuner alle hvor mange antal others municipalities"),
    ("Hvilke opgaver er på vej?", "Which tasks are coming?", "kommende program programmer aula ydelsesrefusion monopolbrud vej nyt coming programme"),
    ("Er der driftsforstyrrelser?", "Any incidents?", "nedbrud driftsforstyrrelse fejl virker nede incident incidents outage down"),
    ("Påmind os om frister", "Remind us of deadlines", "påmind påmindelse minde mind husk remind reminder reminders besked notifikation"),
    ("Hvad kan du?", "What can you do?", "hjælp kan du help hvordan bruge use"),
)


def closest_capabilities(text: str, limit: int = 3) -> list[tuple[str, str]]:
    """The things the bot can do that are closest to what was written (Danish, English)."""
    said = {key(w) for w in tokens(text)}
    scored = []
    for index, (da, en, words) in enumerate(_CAPABILITIES):
        keys = {key(w) for w in words.split()}
        shared = len(said & keys)
        # Words in common decide; likeness only breaks ties between those that share some.
        score = 2.0 * shared + (fuzz.token_set_ratio(text, words) / 100 if shared else 0.0)
        scored.append((score, -index, da, en))
    scored.sort(reverse=True)
    return [(da, en) for _, _, da, en in scored[:limit]]


def suggestions_answer(text: str, lang: Language) -> Document:
    """Nothing recognised: the three closest things the bot can do, as buttons."""
    closest = closest_capabilities(text)
    return Document(
        title=say(lang, "Det er jeg ikke sikker på, at jeg forstod", "I'm not sure I understood that"),
        intro=say(
            lang,
            "Måske ville du et af disse? Tryk på et forslag, eller spørg med andre ord.",
            "Did you mean one of these? Pick a suggestion, or ask in other words.",
        ),
        sections=[Section(lines=[say(lang, f"„{da}“", f"“{en}”") for da, en in closest])],
        actions=[ask_action(say(lang, da, en), say(lang, da, en), lang) for da, en in closest],
    )
