"""Status reports in the users' own words, and the statements that must not change a status.

"sæt kontaktpunkt til fuldført" is a command: it names a KLIK status and applies at once.
"kontaktpersonen er fundet", "skemaet er sendt til KDI", "vi har styr på det" report an outcome;
"vi arbejder på det" progress; "vi er ikke gået i gang alligevel" going back. Their status is
inferred, so the user confirms it first. Questions ("har vi ...?"), plans ("vi regner med at være
færdige i næste uge"), negations ("vi mangler stadig ...") and news about others ("Odense er
færdige") report nothing.

Which task: the one the message names (dialogs/lexicon.py), or whose completion signals it says
(the catalogue's `completion_signals`), or the one last shown when it says "det"/"it". When that
is not clear the bot asks; it never guesses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dialogs import cues
from dialogs.lexicon import Lexicon, tokens
from storage.domain import TaskStatus

if TYPE_CHECKING:
    from dialogs.understanding import Message

__all__ = ["Report", "detect"]

# The share of a completion signal's words a message must say to be that signal.
SIGNAL_SHARE = 0.75
_NEGATION_REACH = 4  # words: "vi har ikke helt fået sendt" negates "sendt"
_CLAUSE_START_RE = re.compile(r"[,.;:!?]|\s[-–]\s|\s(?:men|but|og|and)\s")
_TARGET_RE = re.compile(r"(?<![\w'])(?:til|som|to|as|på)\s+")
_TRAILING_RE = re.compile(r"\s+(?:tak|please|thanks|thx|venligst)$")
# Every command names a status or sets one: without any of these words a message is none.
_COMMAND_HINT = cues.words(
    "|".join(p.pattern for _, p in cues.STATUS_NAMES)
    + r"|færdig\w*|fuldført\w*|afsluttet|udført|done|i\s+gang|started|begun|begyndt|startet"
    + "|" + cues.SET_VERB.pattern + "|" + cues.SET_ANYWHERE.pattern + "|" + r"stå|være|be|show|stand|[:=→>]"
)


@dataclass(frozen=True, slots=True)
class Report:
    """A status report: which status, about which task, and how sure we are."""

    status: TaskStatus
    # A command naming a KLIK status ("sæt X til fuldført") applies at once; a status inferred
    # from an outcome ("skemaet er sendt") is confirmed first.
    explicit: bool
    task: str | None  # None: the message does not say which task; the bot asks
    candidates: tuple[str, ...] = ()  # the tasks it may mean, when it is not clear
    via_context: bool = False  # the task is the one last shown ("det er på plads")


def detect(msg: Message, lexicon: Lexicon | None, context: str | None, municipality: int | None) -> Report | None:
    """The status the message reports, or None if it reports none."""
    explicit = _explicit(msg)
    if explicit is not None and (
        _future(msg) or (explicit[0] is TaskStatus.COMPLETED and _unmet_condition(msg.fixed))
    ):
        return None  # "vi er færdige med kontaktpunkt på fredag", "... når borgmesteren har skrevet under"
    if explicit is not None:
        return _resolve(explicit[0], True, msg, lexicon, context, explicit[1])
    inferred = _inferred(msg, municipality, lexicon)
    if inferred is None:
        return None
    return _resolve(inferred, False, msg, lexicon, context, None)


# --- commands ------------------------------------------------------------------------------------


def _status_named(text: str) -> TaskStatus | None:
    """The status a command sets: the one named right after "til"/"som"/"to"/"as" (the last such
    when several: "fra fuldført tilbage til påbegyndt"), else the one named anywhere."""
    found = None
    for target in _TARGET_RE.finditer(text):
        for status, pattern in cues.STATUS_NAMES:
            if pattern.match(text, target.end()):
                found = status
                break
    if found is not None:
        return found
    for status, pattern in cues.STATUS_NAMES:
        if pattern.search(text):
            return status
    return None


def _explicit(msg: Message) -> tuple[TaskStatus, str | None] | None:
    """A command naming a status: (the status, the words naming the task, if any)."""
    if not _COMMAND_HINT.search(msg.fixed):
        return None  # no status named and no verb that sets one: the commonest case, quickly
    # dialogs.commands reads the language with dialogs.understanding, which imports this module.
    from dialogs.commands import CommandKind, recognise_command

    request = cues.POLITE_COMMAND.sub("", msg.fixed)
    request = _TRAILING_RE.sub("", request).rstrip("?!. ")
    polite = request != msg.fixed.rstrip("?!. ")
    if cues.PLAN.search(request) and not cues.SET_VERB.match(request):
        return None
    command = recognise_command(request)
    if command is not None and command.kind is CommandKind.SET_STATUS and command.status is not None:
        if msg.question and not polite and not cues.SET_VERB.match(request):
            return None
        return command.status, command.subject
    if cues.SET_VERB.match(request) and (not msg.question or polite):
        status = _status_named(request)
        if status is not None:
            return status, None
    anywhere = cues.SET_ANYWHERE.search(request)
    # "X bedes sat til ..." is a command; "X blev sat som færdig" tells what happened before.
    if anywhere is not None and re.search(r"\b(?:blev|var|er|været|was|were|been|is)\s+$", request[: anywhere.start()]):
        anywhere = None
    if anywhere is not None and not msg.question:
        status = _status_named(request[anywhere.start() :])
        if status is not None:
            return status, request[: anywhere.start()].strip() or None
    given = cues.STATUS_GIVEN.match(request)
    if given is not None and not msg.question:
        status = _status_named(request[given.end() :])
        if status is not None and cues.STATUS_NAMES[[s for s, _ in cues.STATUS_NAMES].index(status)][1].match(request, given.end()):
            return status, given["subject"]
    should = cues.SHOULD_BE.match(request)
    if should is not None and not msg.question:
        status = _status_named(request[should.end() :])
        if status is not None:
            return status, should["subject"]
    return None


# --- reports in other words ------------------------------------------------------------------------


def _negated(text: str, start: int) -> bool:
    """Whether a negation stands shortly before the word at `start` ("ikke fundet",
    "ikke-fuldførte")."""
    clause = _CLAUSE_START_RE.split(text[:start])[-1]  # a negation does not reach across "," or "men"
    before = _WORD_RE.findall(clause)[-_NEGATION_REACH:]
    return any(cues.NEGATION.fullmatch(w) for w in before) or bool(
        re.search(r"\b(?:mangler|still\s+need|yet\s+to)\b", clause)
    )


def _affirmed(pattern: re.Pattern[str], text: str, planned: Callable[[int], bool]) -> tuple[bool, bool]:
    """(said without a negation somewhere, said negated somewhere); what a plan says is neither."""
    yes = no = False
    for m in pattern.finditer(text):
        if planned(m.start()):
            continue
        if _negated(text, m.start()):
            no = True
        else:
            yes = True
    return yes, no


def _inferred(msg: Message, municipality: int | None, lexicon: Lexicon | None) -> TaskStatus | None:
    text = msg.fixed
    if msg.question or cues.OTHERS.search(text):
        return None
    if cues.UNCERTAIN.search(text) and not cues.BACK.search(text):
        return None  # "jeg tror drift har sagt ja" is a guess; "jeg tror jeg meldte det for tidligt" is not
    if cues.NAMED_INCIDENT.search(text) or cues.COUNTS.search(text):
        return None  # "root cause er fundet", "antal fuldført": not our status
    if any(code != municipality for code in msg.mentions.municipalities):
        return None  # "Odense er færdige": news of another municipality
    status = _status_reported(msg, lexicon)
    if status is TaskStatus.COMPLETED and _future(msg):
        return None  # "vi er færdige i næste uge" is a plan; "har taget hul på det, snakker med drift i morgen" is not
    return status


def _status_reported(msg: Message, lexicon: Lexicon | None) -> TaskStatus | None:
    text = msg.fixed
    if _DESIGNATED.match(msg.text) and _NAME_AFTER_COLON.search(msg.raw):
        return TaskStatus.COMPLETED  # "kontaktperson: Mette, it-drift": the result, as data
    plans = [m.span() for m in cues.PLAN.finditer(text)]

    def planned(start: int) -> bool:
        """Whether a plan governs the words at `start`: inside it ("går vi i gang") or just
        after it ("vi regner med at gå i gang")."""
        return any(
            begin <= start < end or (end <= start and len(_WORD_RE.findall(text[end:start])) <= _NEGATION_REACH)
            for begin, end in plans
        )

    not_started = cues.NOT_STARTED.search(text)
    if not_started is not None and not planned(not_started.start()):
        return TaskStatus.NOT_STARTED
    done, not_done = _affirmed(cues.OUTCOME, text, planned)
    begun, not_begun = _affirmed(cues.PROGRESS, text, planned)
    if cues.RESTART.search(text):
        return TaskStatus.STARTED if begun else TaskStatus.NOT_STARTED
    back = cues.BACK.search(text) is not None
    if back and not_begun and not begun:
        return TaskStatus.NOT_STARTED  # "den skulle ikke have været sat i gang"
    if back and (not_done or done or cues.OUTCOME.search(text)):
        # "vi er ikke færdige alligevel", "det var for tidligt at melde den godkendt", "det holder
        # ikke, vi skal have tjekket det igen før vi kan kalde det klar"
        return TaskStatus.STARTED
    if done and not_done:
        return TaskStatus.STARTED  # "bilag 1 er udfyldt, mangler bare at få det sendt"
    if begun and not not_begun:
        return TaskStatus.STARTED  # "working on it, should have a name soon"
    if plans or _unmet_condition(text):
        return None  # "vi er færdige når borgmesteren har skrevet under"
    if done and not not_done:
        return TaskStatus.COMPLETED
    if not not_done and not not_begun and _STATE.search(text) and _signalled(msg, lexicon) is not None:
        return TaskStatus.COMPLETED  # a task's own completion signal: "testplanen er uploadet"
    return None


# "kontaktperson: Mette Holm, it-drift": a role named, then the person who has it.
_DESIGNATED = re.compile(r"^[\w\s-]{3,60}:\s*\S")
_NAME_AFTER_COLON = re.compile(r":\s*[A-ZÆØÅ][a-zæøå]+(?:\s+[A-ZÆØÅ][a-zæøå]+)?\s*(?:[,.(]|$)")
# A statement of how things stand ("er", "har"), not a request ("send lige skemaet til KDI").
_STATE = cues.words(r"er|har|blev|var|fik|is|has|have|was|were|got|are")


_AUXILIARIES = frozenset({"har", "have", "has", "havde", "had", "fik", "got"})


def _unmet_condition(text: str) -> bool:
    """A "når ..." condition still to be met ("vi er færdige når borgmesteren har skrevet under"),
    unless the outcome is already in the perfect ("har accepteret at være kontaktperson, når der
    er incidents")."""
    conditions = [(m.start(), _clause_end(text, m.end())) for m in cues.CONDITION.finditer(text)]
    if not conditions:
        return False
    for m in cues.OUTCOME.finditer(text):
        inside = any(start <= m.start() < end for start, end in conditions)
        if not inside and _AUXILIARIES & set(_WORD_RE.findall(text[: m.start()])[-3:]):
            return False
    return True


def _clause_end(text: str, start: int) -> int:
    found = _CLAUSE_START_RE.search(text, start)
    return found.start() if found is not None else len(text)


_NEAR_FUTURE_DAYS = 45


def _future(msg: Message) -> bool:
    """A date soon to come ("i næste uge", "på fredag") makes a report a plan. A month far ahead
    is usually last year's ("i december") in a report, which is in the past tense."""
    period = msg.period
    if period is None or period.start is None or period.start <= msg.now:
        return False
    return (period.start - msg.now).days < _NEAR_FUTURE_DAYS


# --- which task -----------------------------------------------------------------------------------


def _resolve(
    status: TaskStatus,
    explicit: bool,
    msg: Message,
    lexicon: Lexicon | None,
    context: str | None,
    subject: str | None,
) -> Report | None:
    mentions = msg.mentions
    if lexicon is not None and subject and not cues.ANAPHOR.fullmatch(subject):
        mentions = lexicon.mentions(tokens(subject), subject)
    elif lexicon is not None:
        # What was done ("klaret", "sendt") says nothing of which task: the rest of the words do.
        mentions = lexicon.mentions(_naming_words(msg, lexicon), msg.text)
    named = mentions.named_task()
    if named is not None and context is not None and named != context and not mentions.tasks[0].by_keyword:
        # The task just shown, unless the message names another by one of its names: a word of
        # another task's long title ("infrastruktur") is not enough.
        return Report(status, explicit, context, (named, context), via_context=True)
    if named is not None:
        return Report(status, explicit, named)
    # "we've appointed someone": the verb alone hints at the tasks it may be about (unless
    # the message is about the task just shown).
    candidates = tuple(mentions.task_candidates() or (msg.mentions.task_candidates() if context is None else ()))
    if not candidates and _names_event(msg):
        return None  # "vi har sendt tilmeldingen til workshoppen": not a task
    signalled = _signalled(msg, lexicon)
    if signalled is not None:
        return Report(status, explicit, signalled)
    if candidates:
        # One candidate named by one of its own nouns ("bilag 1 er under udfyldelse"): that task,
        # which the user still confirms (a command needs the task named surely).
        only = [m for m in mentions.tasks if m.id in candidates]
        if not explicit and len(candidates) == 1 and only and only[0].by_keyword and context in (None, candidates[0]):
            return Report(status, explicit, candidates[0])
        if context in candidates:
            return Report(status, explicit, context, candidates, via_context=True)
        # A word of some task's long title ("Henrik fra infrastruktur") does not outweigh the
        # task just shown; one of a task's own names does.
        loose = not any(m.by_keyword for m in mentions.tasks if m.id in candidates)
        if context is not None and loose:
            return Report(status, explicit, context, candidates, via_context=True)
        return Report(status, explicit, None, candidates)
    if context is not None:
        return Report(status, explicit, context, via_context=True)
    return Report(status, explicit, None)


_REGISTERED = cues.words(r"tilmeld\w*|registered|signed\s+up|booket|booked")


_REPORTING = (cues.OUTCOME, cues.PROGRESS, cues.NOT_STARTED, cues.BACK, cues.RESTART)
_WORD_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)?")


def _naming_words(msg: Message, lexicon: Lexicon) -> list[str]:
    """The message's words outside the phrases that report what happened. A longer phrase
    ("givet navnet på vores incidentkontakt videre", "er nu vores kontaktpunkt") loses only its
    own first word, and its last when that names nothing of the catalogue."""
    positions = [m.start() for m in _WORD_RE.finditer(msg.fixed)]
    dropped: set[int] = set()
    for pattern in _REPORTING:
        for m in pattern.finditer(msg.fixed):
            inside = [i for i, start in enumerate(positions) if m.start() <= start < m.end()]
            if len(inside) <= 2:
                dropped.update(inside)
                continue
            dropped.add(inside[0])
            if inside[-1] < len(msg.words) and not lexicon.names(msg.words[inside[-1]]):
                dropped.add(inside[-1])
    return [word for i, word in enumerate(msg.words) if i not in dropped]


def _names_event(msg: Message) -> bool:
    """The message is about an event ("vi har tilmeldt os workshoppen"), not a task."""
    return any(pattern.search(msg.fixed) for _, pattern in cues.EVENT_KINDS) or bool(
        _REGISTERED.search(msg.fixed)
    )


def _signalled(msg: Message, lexicon: Lexicon | None) -> str | None:
    """The one task whose completion signal the message says ("skemaet er sendt til KDI"). A
    signal made only of the task's title words ("serviceaftalen er godkendt" of "Godkend
    serviceaftale") is said by merely naming the task, so it counts only with more words."""
    if lexicon is None:
        return None
    scored = sorted(
        ((lexicon.signal_match(task_id, msg.words, beyond_title=True), task_id) for task_id in lexicon.tasks),
        reverse=True,
    )
    if not scored or scored[0][0] < SIGNAL_SHARE:
        return None
    if len(scored) > 1 and scored[1][0] >= scored[0][0]:
        return None
    return scored[0][1]
