"""The one fact a question asks about a task or an event, in one sentence.

Plain Python. Some facts are fields (the deadline, whether a task is mandatory, the audience of an
event); others stand somewhere in the catalogue's own text: what the task covers, what happens
afterwards, where to send the form, when the meeting invitation comes. Those are found by
retrieval: the description, notes and registration note are split into sentences, and each is
scored by the facet's general cue words and by the words it shares with the question. No sentence
of any one task is written here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from dialogs import formatting as fmt
from dialogs.answers import say, slot_text
from dialogs.lexicon import STOP_KEYS, key, tokens
from dialogs.understanding import Facet, Language
from storage.domain import TaskState, TaskView, end_of_day
from storage.views import EventView

__all__ = ["best_sentence", "event_fact", "sentences", "task_fact"]

_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÆØÅ0-9])")
# A full stop after these ends no sentence: "(ift. Ydelsesrefusion)", "d. 31/1", "kl. 10".
_ABBREVIATIONS = frozenset(["d", "kl", "ca", "fx", "nr", "jf", "pga", "ift", "mht", "afd", "bl", "evt", "inkl", "dvs", "osv", "mv", "st", "tlf"])
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_ACRONYM_RE = re.compile(r"\b[A-ZÆØÅ]{2,5}\b")


def _cue_keys(words: str) -> frozenset[str]:
    return frozenset(key(w) for w in words.split())


# The general words a sentence answering each facet tends to use.
_CUES: dict[Facet, frozenset[str]] = {
    Facet.SCOPE: _cue_keys(
        "afgrænset afgrænses omfatter omfatte gælder kun dækker består både hver alle samt også "
        "limited covers only includes consists each both scope"
    ),
    Facet.FOLLOW_UP: _cue_keys(
        "sender mailer udsender publiceres publiceret offentliggøres primo medio ultimo efterfølgende "
        "derefter direkte følger modtager samtidig tilgængelige forventes will send publish afterwards "
        "receive"
    ),
    Facet.CONSEQUENCE: _cue_keys("følger opfølgning umiddelbart rykker forsinke forsinkelse follows follow chase delay"),
    Facet.CONTACT: _cue_keys("send sendes mail mailen e-mail skriv kopier kontakt kontakte henvend email write contact"),
    Facet.CRITICAL_PATH: _cue_keys("kritisk kritiske vej ift forbindelse critical path"),
    Facet.MANDATORY: _cue_keys("obligatorisk obligatoriske frivillig krav skal mandatory optional required"),
    Facet.INVITATION: _cue_keys(
        "indkaldelse mødeindkaldelse invitation invitationen outlook link linket bekræfter uge dagen "
        "før kalender invite calendar"
    ),
    Facet.REGISTRATION: _cue_keys("tilmeld tilmelding tilmeldingen senest udsolgt skriv deltage register sign"),
    Facet.DESCRIPTION: frozenset(),
}


def sentences(*texts: str) -> list[str]:
    out = []
    for text in texts:
        parts: list[str] = []
        for part in _SENTENCE_RE.split(" ".join(text.split())):
            previous = parts[-1].rstrip(".").split()[-1:] if parts else []
            if previous and parts[-1].endswith(".") and (previous[0].lower().lstrip("(") in _ABBREVIATIONS):
                parts[-1] += " " + part
            else:
                parts.append(part)
        for part in parts:
            part = part.strip()
            if part:
                out.append(part if part.endswith((".", "!", "?", ")")) else part + ".")
    return out


def _content(words: Iterable[str]) -> set[str]:
    return {k for k in (key(w) for w in words) if k not in STOP_KEYS and len(k) > 2}


@dataclass(frozen=True, slots=True)
class _Scored:
    score: float
    sentence: str


def best_sentence(
    candidates: Sequence[str], facet: Facet, question: Sequence[str], *, needs_cue: bool = True
) -> str | None:
    """The sentence that best answers the facet: its cue words count double, the question's
    own content words once. None when no sentence has any of the facet's cue words."""
    cues = _CUES.get(facet, frozenset())
    asked = _content(question)
    best: _Scored | None = None
    for sentence in candidates:
        words = tokens(sentence)
        keys = _content(words)
        cue_hits = len(keys & cues) + (1 if facet is Facet.CONTACT and _EMAIL_RE.search(sentence) else 0)
        if facet is Facet.SCOPE:
            cue_hits += min(2, len(_ACRONYM_RE.findall(sentence)) // 2)
        if needs_cue and not cue_hits:
            continue
        score = 2.0 * cue_hits + len(keys & asked)
        if best is None or score > best.score:
            best = _Scored(score, sentence)
    return best.sentence if best is not None else None


# --- tasks ---------------------------------------------------------------------------------------


def _deadline_sentence(task: TaskView, lang: Language) -> str:
    if task.state is TaskState.ANNOUNCED:
        return say(
            lang,
            "Opgaven er ikke publiceret i KLIK endnu, så den har ingen frist.",
            "The task is not yet published in KLIK, so it has no deadline.",
        )
    if task.deadline is not None:
        return say(lang, f"Fristen er {fmt.day(task.deadline, lang)}.", f"The deadline is {fmt.day(task.deadline, lang)}.")
    if task.deadline_rule:
        return say(lang, "I fastsætter selv fristen: ", "You set the deadline yourselves: ") + task.deadline_rule
    return say(lang, "Opgaven har ingen frist.", "The task has no deadline.")


def task_fact(task: TaskView, facet: Facet, lang: Language, now: datetime, question: Sequence[str]) -> str | None:
    """The answer to the facet, in one sentence (two at most), or None when the card says it all."""
    text = sentences(task.description, task.notes, task.deadline_rule)
    if facet is Facet.DEADLINE:
        sentence = _deadline_sentence(task, lang)
        if task.overdue(now) and task.deadline is not None:
            sentence += say(lang, " Den er overskredet.", " It has passed.")
        return sentence
    if facet is Facet.MANDATORY:
        if task.mandatory:
            answer = say(lang, "Ja, opgaven er obligatorisk.", "Yes, the task is mandatory.")
            if task.critical_path:
                answer += say(lang, " Den er også på kritisk vej.", " It is also on the critical path.")
            return answer
        return say(
            lang,
            "Nej, opgaven er ikke markeret som obligatorisk i KLIK.",
            "No, the task is not marked as mandatory in KLIK.",
        )
    if facet is Facet.CRITICAL_PATH:
        reason = best_sentence(text, facet, question)
        if task.critical_path:
            answer = say(lang, "Ja, opgaven er på kritisk vej.", "Yes, the task is on the critical path.")
            return f"{answer} {reason}" if reason else answer
        return say(lang, "Nej, opgaven er ikke på kritisk vej.", "No, the task is not on the critical path.")
    if facet is Facet.CONTACT:
        found = best_sentence(text, facet, question)
        if found and (_EMAIL_RE.search(found) or not task.contact):
            return found
        if task.contact:
            return say(lang, f"Kontakten for opgaven er {task.contact}.", f"The task's contact is {task.contact}.")
        return found
    if facet is Facet.RESPONSIBLE:
        if task.responsible_name:
            return say(
                lang,
                f"Hos jer er {task.responsible_name} ansvarlig for opgaven.",
                f"{task.responsible_name} is responsible for the task in your municipality.",
            )
        return say(
            lang,
            f"Der er ikke registreret nogen ansvarlig hos jer. Skriv „jeg er ansvarlig for {_short(task)}“ for at tage den.",
            f"No one is registered as responsible in your municipality. Write “I am responsible for {_short(task)}” to take it.",
        )
    if facet is Facet.STATUS:
        return None  # the card's own "Jeres status" line, with who changed it and when
    if facet is Facet.CONSEQUENCE:
        found = best_sentence(text, facet, question)
        answer = found or _consequence(task, lang)
        critical = best_sentence(text, Facet.CRITICAL_PATH, question) if task.critical_path else None
        if critical and critical != found:
            answer += say(lang, " Opgaven er på kritisk vej: ", " The task is on the critical path: ") + critical
        return answer
    if facet in (Facet.SCOPE, Facet.FOLLOW_UP):
        found = best_sentence(text, facet, question)
        if found:
            return found
        if facet is Facet.FOLLOW_UP:
            return say(
                lang,
                "KLIK siger ikke mere om, hvad der sker bagefter. Spørg kontakten, hvis I er i tvivl.",
                "KLIK says nothing more about what happens afterwards. Ask the contact if in doubt.",
            )
        return say(lang, "Opgaven gælder: ", "The task covers: ") + task.title + "."
    # DESCRIPTION: what to do, in the description's own words; the card shows the rest.
    return _what_to_do(text)


# Danish imperatives a task's description tells the municipality what to do with.
_IMPERATIVES = frozenset(
    tokens(
        "udfyld udpeg send tjek godkend opret oplys angiv planlæg udfør indberet kopier husk meld "
        "registrer vælg læs gennemgå kontakt sørg"
    )
)


def _what_to_do(text: list[str]) -> str | None:
    """The description's instruction (a sentence opening with an imperative), else its first sentence."""
    for sentence in text:
        words = tokens(sentence)
        if words and words[0] in _IMPERATIVES:
            return sentence
    return text[0] if text else None


def _consequence(task: TaskView, lang: Language) -> str:
    deadline = _deadline_sentence(task, lang)
    if task.mandatory:
        return deadline + say(
            lang,
            " Opgaven er obligatorisk, og KOMBIT følger op på de kommuner, der ikke har fuldført den.",
            " The task is mandatory, and KOMBIT follows up with municipalities that have not completed it.",
        )
    return deadline + say(
        lang,
        " KOMBIT følger status i KLIK for alle kommuner; skriv til kontakten, hvis I ikke kan nå det.",
        " KOMBIT follows the status in KLIK for every municipality; write to the contact if you cannot make it.",
    )


def _short(task: TaskView) -> str:
    return task.keywords[0] if task.keywords else task.title


# --- events --------------------------------------------------------------------------------------


def _when(event: EventView, lang: Language, now: datetime) -> str:
    return _join([slot_text(event, slot, now, lang) for slot in event.slots], lang)


def _join(parts: list[str], lang: Language) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + say(lang, " og ", " and ") + parts[-1]


def event_fact(event: EventView, facet: Facet, lang: Language, now: datetime, question: Sequence[str]) -> str:
    text = sentences(event.registration_note, event.description)
    if facet is Facet.PLACE:
        if event.online:
            return say(lang, f"{event.title} foregår online via Skype.", f"{event.title} is online, on Skype.")
        places = [f"{fmt.day(fmt.local(s.starts_at).date(), lang, year=False)}: {s.location}" for s in event.slots if s.location]
        if places:
            return say(lang, "Stedet er ", "The place is ") + _join(places, lang) + "."
        if event.location:
            return say(lang, f"Det foregår i {event.location}.", f"It takes place at {event.location}.")
        return say(lang, "Stedet er ikke oplyst endnu.", "The place has not been announced yet.")
    if facet is Facet.AUDIENCE:
        if event.audience:
            return say(lang, f"Målgruppe: {event.audience}.", f"Audience: {event.audience}.")
        return say(lang, "Målgruppen er ikke oplyst.", "The audience has not been announced.")
    if facet is Facet.REGISTRATION:
        return _registration(event, lang, now, text, question)
    if facet is Facet.INVITATION:
        found = best_sentence(text, facet, question)
        if found:
            return found
        return say(
            lang,
            "Der står ikke noget om invitationen i kalenderen. Med knappen „Tilføj til kalender“ kan du lægge det i din kalender med det samme.",
            "The calendar says nothing about the invitation. “Add to calendar” puts it in your calendar right away.",
        )
    if facet is Facet.DESCRIPTION and event.description:
        return sentences(event.description)[0]
    upcoming = [s for s in event.slots if s.ends_at > now]
    if not upcoming:
        return say(lang, f"{event.title} er afholdt: ", f"{event.title} has taken place: ") + _when(event, lang, now) + "."
    return f"{event.title}: " + _when(event, lang, now) + "."


def _registration(event: EventView, lang: Language, now: datetime, text: list[str], question: Sequence[str]) -> str:
    parts = []
    sold_out = [s for s in event.slots if s.sold_out]
    open_slots = [s for s in event.slots if not s.sold_out and s.ends_at > now]
    if sold_out:
        days = _join([fmt.day(fmt.local(s.starts_at).date(), lang, year=False) for s in sold_out], lang)
        if open_slots:
            other = _join([fmt.slot(s.starts_at, s.ends_at, s.all_day, lang) for s in open_slots], lang)
            parts.append(
                say(lang, f"{days} er udsolgt, men der er stadig plads {other}.", f"{days} is sold out, but there are places on {other}.")
            )
        else:
            parts.append(say(lang, f"{days} er udsolgt.", f"{days} is sold out."))
    deadline = event.registration_deadline
    if deadline is not None:
        if now >= end_of_day(deadline):
            parts.append(
                say(
                    lang,
                    f"Tilmeldingsfristen var {fmt.day(deadline, lang)}, og den er overskredet.",
                    f"Registration closed on {fmt.day(deadline, lang)}.",
                )
            )
        else:
            parts.append(say(lang, f"Tilmeld jer senest {fmt.day(deadline, lang)}.", f"Register by {fmt.day(deadline, lang)}."))
    found = best_sentence(text, Facet.REGISTRATION, question)
    if found:
        parts.append(found)
    elif event.registration_url or any(s.registration_url for s in event.slots):
        parts.append(say(lang, "Tilmelding sker via linket nedenfor.", "Register with the link below."))
    if not parts:
        parts.append(say(lang, "Der står ikke noget om tilmelding i kalenderen.", "The calendar says nothing about registration."))
    return " ".join(parts)
