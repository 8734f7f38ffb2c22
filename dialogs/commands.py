"""Commands that change things or ask across municipalities, recognised before questions:
setting a status, naming who is responsible, and KOMBIT's status overviews.

"sæt 'Udpeg kontaktpunkt' til fuldført", "vi er gået i gang med underskriftberettiget",
"mark the contact point task as completed", "jeg er ansvarlig for kontaktpunkt",
"Anne er ansvarlig", "hvad er jeg ansvarlig for?", "hvem mangler Udpeg kontaktpunkt?",
"status på kontaktpunkt", "overblik".
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from functools import lru_cache

from dialogs.understanding import Language, detect_language, normalise
from storage.domain import TaskStatus


class CommandKind(enum.StrEnum):
    SET_STATUS = "set_status"
    SET_RESPONSIBLE = "set_responsible"
    MY_RESPONSIBILITIES = "my_responsibilities"
    TASK_STATUS = "task_status"  # KOMBIT: KLIK's table for one task; a municipality: its own status
    WHO_MISSING = "who_missing"  # KOMBIT: which municipalities have not completed a task
    OVERVIEW = "overview"  # KOMBIT: every active task with its counts


@dataclass(frozen=True, slots=True)
class Command:
    kind: CommandKind
    language: Language
    subject: str | None = None  # the words naming the task
    status: TaskStatus | None = None
    person: str | None = None  # SET_RESPONSIBLE: a name; None means the sender


_STATUS_WORDS: tuple[tuple[TaskStatus, str], ...] = (
    # The negative forms first: "ikke påbegyndt" is not "påbegyndt".
    (
        TaskStatus.NOT_STARTED,
        r"ikke\s+påbegyndt|ikke\s+paabegyndt|ikke\s+startet|ikke\s+begyndt|not\s+started|not\s+begun",
    ),
    (TaskStatus.NOT_ACTIVE, r"ikke\s+aktiv|ikke\s+relevant|inaktiv|not\s+active|inactive|not\s+applicable"),
    (
        TaskStatus.COMPLETED,
        r"fuldført|fuldfort|fuldfoert|færdig|færdige|afsluttet|udført|done|completed?|finished",
    ),
    (
        TaskStatus.STARTED,
        r"påbegyndt|paabegyndt|startet|i\s+gang|igang|begyndt|started|in\s+progress|underway|begun",
    ),
)
_STATUS = "|".join(f"(?:{words})" for _, words in _STATUS_WORDS)
_STATUS_RES = tuple((status, re.compile(rf"^(?:{words})$")) for status, words in _STATUS_WORDS)

_QUESTION_WORDS = frozenset(
    [
        "hvad",
        "hvilke",
        "hvilken",
        "hvem",
        "hvornår",
        "hvordan",
        "what",
        "which",
        "who",
        "when",
        "how",
        "er",
        "is",
        "der",
        "there",
        "det",
        "it",
        "alt",
    ]
)
_NOT_A_PERSON = _QUESTION_WORDS | frozenset(
    ["vi", "we", "du", "you", "jeg", "i", "det", "den", "man", "opgaven", "task"]
)

_SET_TO = re.compile(
    rf"^(?:sæt|saet|sætte|marker|markér|set|mark|change|ændr|aendr|ændre|opdater|update|skift)\s+"
    rf"(?P<subject>.+?)\s+(?:til|som|as|to)\s+(?P<status>{_STATUS})$"
)
_UPDATE_WITHOUT_STATUS = re.compile(
    r"^(?:opdater|update|ændr|aendr|ændre|change|skift)\s+(?:status(?:en)?\s+(?:på|for|of|on)\s+)?(?P<subject>.+)$"
)
_WE_STARTED = re.compile(
    r"^(?:vi|we)\s+(?:er|har|have|are|'ve)?\s*(?:nu\s+|now\s+|just\s+)?"
    r"(?:gået\s+i\s+gang\s+med|gaaet\s+i\s+gang\s+med|i\s+gang\s+med|startet\s+på|begyndt\s+på|"
    r"started(?:\s+on|\s+with)?|begun(?:\s+on|\s+with)?|begyndt|startet)\s+(?P<subject>.+)$"
)
_WE_COMPLETED = re.compile(
    r"^(?:vi|we)\s+(?:er|har|have|are|'ve)?\s*(?:nu\s+|now\s+|just\s+)?"
    r"(?:færdige\s+med|færdig\s+med|fuldført|afsluttet|udført|completed|finished|done(?:\s+with)?)\s+(?P<subject>.+)$"
)
_IS_STATUS = re.compile(
    rf"^(?P<subject>.+?)\s+(?:er|is|has\s+been|blev|er\s+blevet)\s+(?:nu\s+|now\s+)?(?P<status>{_STATUS})"
    r"(?:\s+(?:for\s+os|for\s+us|hos\s+os))?$"
)
_RESPONSIBLE = r"(?:ansvarlig|ansvarshavende|tovholder|responsible|owner)"
_I_AM_RESPONSIBLE = re.compile(
    rf"^(?:jeg\s+er|i\s+am|i'm|im)\s+(?:nu\s+|now\s+)?{_RESPONSIBLE}(?:\s+(?:for|på|of)\s+(?P<subject>.+))?$"
)
_PERSON_IS_RESPONSIBLE = re.compile(
    rf"^(?P<person>[^\W\d_][\w\-]*(?:\s+[^\W\d_][\w\-]*)?)\s+(?:er|is)\s+(?:nu\s+|now\s+)?{_RESPONSIBLE}"
    r"(?:\s+(?:for|på|of)\s+(?P<subject>.+))?$"
)
_MY_RESPONSIBILITIES = re.compile(
    r"^(?:hvad|hvilke\s+opgaver)\s+er\s+jeg\s+(?:ansvarlig|tovholder)\s+(?:for|på)$"
    r"|^(?:what|which\s+tasks)\s+am\s+i\s+responsible\s+for$|^(?:mine\s+opgaver|mit\s+ansvar|my\s+tasks)$"
)
_WHO_MISSING = re.compile(
    r"^(?:hvem|hvilke\s+kommuner|who|which\s+municipalities)\s+"
    r"(?:mangler(?:\s+at\s+(?:lave|fuldføre|udføre))?|har\s+ikke\s+(?:fuldført|lavet|udført)|er\s+ikke\s+færdige\s+med|"
    r"(?:hasn't|haven't|has\s+not|have\s+not)\s+(?:completed|done|finished)|is\s+missing|are\s+missing|"
    r"still\s+needs?\s+to\s+do)\s+(?P<subject>.+)$"
)
_TASK_STATUS = re.compile(
    r"^(?:hvad\s+er\s+|what\s+is\s+|what's\s+|vis\s+|show\s+)?(?:the\s+)?status(?:en)?\s+(?:på|for|of|on)\s+(?P<subject>.+)$"
)
_OVERVIEW = re.compile(
    r"^(?:vis\s+|show\s+)?(?:et\s+|the\s+|an\s+)?(?:status\s*)?(?:overblik(?:ket)?|oversigt(?:en)?|overview)"
    r"(?:\s+(?:over|of|på)\s+(?:alle\s+|all\s+)?(?:opgaver(?:ne)?|tasks|klik-opgaver(?:ne)?|klik\s+tasks))?$"
    r"|^(?:status\s+på\s+alle\s+opgaver|status\s+of\s+all\s+tasks)$"
)
_SUBJECT_NOISE = re.compile(
    r"^(?:(?:the|den|det|opgaven|opgave|task|klik-opgaven|status\s+på|status\s+for|status\s+of)\s+)+"
    r"|(?:\s+(?:task|opgaven|opgave|klik-opgaven))+$"
)


def status_from_words(words: str) -> TaskStatus | None:
    words = " ".join(words.split())
    for status, pattern in _STATUS_RES:
        if pattern.match(words):
            return status
    return None


def _subject(raw: str | None) -> str | None:
    if raw is None:
        return None
    text = raw.strip().strip("'\"„“”‘’«» ").strip()
    previous = None
    while previous != text:
        previous = text
        text = _SUBJECT_NOISE.sub("", text).strip().strip("'\"„“”‘’«» ").strip()
    return text or None


def _original_person(original: str, person: str) -> str:
    """The name as the user wrote it (normalising lower-cases it)."""
    match = re.search(re.escape(person), original, re.IGNORECASE)
    return match.group(0) if match else person.title()


@lru_cache(maxsize=4096)
def recognise_command(text: str, locale: str | None = None) -> Command | None:
    """The command the text gives, if it is one. Pure: the understanding and the conversation
    both ask, for the same text."""
    return _recognise(text, locale)


def _recognise(text: str, locale: str | None) -> Command | None:
    fixed = normalise(text).rstrip("?!. ")
    if not fixed:
        return None
    lang = detect_language(fixed, locale)
    first = fixed.split()[0]
    if match := _MY_RESPONSIBILITIES.match(fixed):
        return Command(CommandKind.MY_RESPONSIBILITIES, lang)
    if match := _WHO_MISSING.match(fixed):
        return Command(CommandKind.WHO_MISSING, lang, subject=_subject(match["subject"]))
    if _OVERVIEW.match(fixed):
        return Command(CommandKind.OVERVIEW, lang)
    if match := _TASK_STATUS.match(fixed):
        return Command(CommandKind.TASK_STATUS, lang, subject=_subject(match["subject"]))
    if match := _I_AM_RESPONSIBLE.match(fixed):
        return Command(CommandKind.SET_RESPONSIBLE, lang, subject=_subject(match["subject"]))
    if (match := _PERSON_IS_RESPONSIBLE.match(fixed)) and match["person"].split()[0] not in _NOT_A_PERSON:
        person = _original_person(text, match["person"])
        return Command(CommandKind.SET_RESPONSIBLE, lang, subject=_subject(match["subject"]), person=person)
    if match := _SET_TO.match(fixed):
        return Command(
            CommandKind.SET_STATUS, lang, _subject(match["subject"]), status_from_words(match["status"])
        )
    if match := _WE_STARTED.match(fixed):
        return Command(CommandKind.SET_STATUS, lang, _subject(match["subject"]), TaskStatus.STARTED)
    if match := _WE_COMPLETED.match(fixed):
        return Command(CommandKind.SET_STATUS, lang, _subject(match["subject"]), TaskStatus.COMPLETED)
    if (match := _IS_STATUS.match(fixed)) and first not in _QUESTION_WORDS:
        return Command(
            CommandKind.SET_STATUS, lang, _subject(match["subject"]), status_from_words(match["status"])
        )
    if match := _UPDATE_WITHOUT_STATUS.match(fixed):
        return Command(CommandKind.SET_STATUS, lang, _subject(match["subject"]), None)
    return None
