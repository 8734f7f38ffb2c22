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
from datetime import datetime
from typing import TYPE_CHECKING

from dialogs import cues
from dialogs.dates import find_period
from dialogs.lexicon import Lexicon, fold, tokens
from storage.domain import Period, TaskStatus

if TYPE_CHECKING:
    from dialogs.understanding import Message

__all__ = ["Report", "detect"]

# The share of a completion signal's words a message must say to be that signal.
SIGNAL_SHARE = 0.75
_NEGATION_REACH = 4  # words: "vi har ikke helt fået sendt" negates "sendt"
_CLAUSE_START_RE = re.compile(r"[,.;:!?]|\s[-–]\s|\s(?:men|but|og|and)\s")
_TARGET_RE = re.compile(r"(?<![\w'])(?:til|som|to|as|på)\s+")
_AFTER_RE = re.compile(r"(?:efter|after|following|siden|since)\s+$")
_NOT_YET_RE = re.compile(
    r"(?:(?:sæt|sætte|marker|markér|ret|ændr|ændre|opdater|set|mark|change|update)\s+(?:\S+\s+)?(?:ikke|not)\b"
    r"|(?:lad\s+(?:\w+\s+)?være\s+med|undlad|vent\s+med|don'?t|do\s+not|never)\s)"
)
_TRAILING_RE = re.compile(r"\s+(?:tak|please|thanks|thx|venligst)$")
# Every command names a status or sets one: without any of these words a message is none.
_COMMAND_HINT = cues.words(
    "|".join(p.pattern for _, p in cues.STATUS_NAMES)
    + r"|færdig\w*|fuldført\w*|afsluttet|udført|done|i\s+gang|started|begun|begyndt|startet"
    + "|"
    + cues.SET_VERB.pattern
    + "|"
    + cues.SET_ANYWHERE.pattern
    + "|"
    + r"stå|være|be|show|stand|[:=→>]"
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


def detect(
    msg: Message, lexicon: Lexicon | None, context: str | None, municipality: int | None
) -> Report | None:
    """The status the message reports, or None if it reports none."""
    explicit = _explicit(msg)
    if explicit is not None and (
        _future(msg) or (explicit[0] is TaskStatus.COMPLETED and _unmet_condition(msg.fixed))
    ):
        return None  # "vi er færdige med kontaktpunkt på fredag", "... når borgmesteren har skrevet under"
    clauses, named = _reporting_clauses(msg, lexicon, municipality)
    if clauses and len(named) > 1:
        return clauses[0]  # a message naming several tasks: the clause that reports says which, and how far
    status = explicit[0] if explicit is not None else _inferred(msg, municipality, lexicon)
    if status is None:
        return None
    if clauses and len({c.task for c in clauses}) == 1:
        # one task reported on by name, in a message that mentions other things: that task,
        # and how far it is as the whole message says ("netværket er tjekket, klienterne mangler")
        return Report(status, explicit is not None, clauses[0].task)
    return _resolve(status, explicit is not None, msg, lexicon, context, explicit[1] if explicit else None)


# A message of several clauses may report on one task and mention others ("kontaktpersonen er
# udpeget – it-miljøet tager vi fat på i næste uge"): the clause that reports names the task.
_SUBORDINATE_RE = re.compile(r"(?:at|om|hvis|når|før|that|if|whether|when|once|before)\s")
_CLAUSE_SPLIT_RE = re.compile(r"\s*(?:[;,]|\s[-–—]\s|\s(?:men|but)\s)\s*")


def _reporting_clauses(
    msg: Message, lexicon: Lexicon | None, municipality: int | None
) -> tuple[list[Report], set[str]]:
    """The reports of the main clauses that report on a task they name themselves, and the
    tasks the clauses name ("kontaktpersonen er udpeget – it-miljøet tager vi i næste uge").
    A clause opened by "at", "om", "hvis" ("vi regner med, at ...") reports nothing by itself."""
    from dialogs.understanding import prepare, sentences  # understanding imports this module

    if lexicon is None or not (
        _COMMAND_HINT.search(msg.fixed) or any(p.search(msg.fixed) for p in _REPORTING)
    ):
        return [], set()  # nothing reported anywhere: the commonest case, quickly
    clauses = [c for sentence in sentences(msg.raw) for c in _CLAUSE_SPLIT_RE.split(sentence) if c.strip()]
    if len(clauses) < 2:
        return [], set()
    found: list[Report] = []
    named: set[str] = set()
    for clause in clauses:
        lowered = clause.lower()
        if _SUBORDINATE_RE.match(lowered) or not (
            _COMMAND_HINT.search(lowered) or any(p.search(lowered) for p in _REPORTING)
        ):
            # a clause that reports nothing only names things: read just that (quickly)
            task = lexicon.mentions(tokens(clause), clause).named_task()
            if task is not None and lexicon.tasks[task].changeable:
                named.add(task)
            continue
        sub = prepare(clause, msg.now, None, lexicon)
        if sub is None:
            continue
        if (task := sub.mentions.named_task()) is not None and lexicon.tasks[task].changeable:
            named.add(task)  # an announced task is not what anyone reports on ("testene" of AULA)
        explicit = _explicit(sub)
        status = explicit[0] if explicit is not None else _inferred(sub, municipality, lexicon)
        if status is None:
            continue
        report = _resolve(status, explicit is not None, sub, lexicon, None, explicit[1] if explicit else None)
        if (
            report is not None
            and report.task is not None
            and (report.explicit or lexicon.tasks[report.task].changeable)
        ):
            found.append(report)
    return found, named


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
    if _NOT_YET_RE.match(request):
        return None  # "sæt ikke kontaktpunktet til fuldført endnu", "don't mark it as done"
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
    if anywhere is not None and re.search(
        r"\b(?:blev|var|er|været|was|were|been|is)\s+$", request[: anywhere.start()]
    ):
        anywhere = None
    if anywhere is not None and not msg.question:
        status = _status_named(request[anywhere.start() :])
        if status is not None:
            return status, request[: anywhere.start()].strip() or None
    given = cues.STATUS_GIVEN.match(request)
    if given is not None and not msg.question:
        status = _status_named(request[given.end() :])
        if status is not None and cues.STATUS_NAMES[[s for s, _ in cues.STATUS_NAMES].index(status)][1].match(
            request, given.end()
        ):
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
    if cues.UNCERTAIN.search(text) and not (cues.BACK.search(text) or cues.BACK_WEAK.search(text)):
        return None  # "jeg tror drift har sagt ja" is a guess; "jeg tror jeg meldte det for tidligt" is not
    incident = cues.NAMED_INCIDENT.search(text)
    if (incident is not None and not _AFTER_RE.search(text, 0, incident.start())) or cues.COUNTS.search(text):
        return None  # "root cause er fundet", "antal fuldført": not our status; "efter nedbruddet på X har vi ..." is
    if _others_report(msg, municipality, lexicon):
        return None  # "Odense er færdige": news of another municipality
    status = _status_reported(msg, lexicon)
    if status is TaskStatus.COMPLETED and _future(msg):
        return None  # "vi er færdige i næste uge" is a plan; "har taget hul på det, snakker med drift i morgen" is not
    return status


def _others_report(msg: Message, municipality: int | None, lexicon: Lexicon | None) -> bool:
    """Whether another municipality is named in a clause that reports ("Odense er færdige"),
    not only as a place ("Lene deltager i Kommunedage i Køge")."""
    others = [code for code in msg.mentions.municipalities if code != municipality]
    if not others:
        return False
    clauses = _CLAUSE_SPLIT_RE.split(msg.fixed)
    if len(clauses) < 2 or lexicon is None:
        return True
    names = [fold(lexicon.municipality_names.get(code, "").lower()) for code in others]
    return any(
        any(name and name in fold(clause) for name in names)
        for clause in clauses
        if _COMMAND_HINT.search(clause) or any(p.search(clause) for p in _REPORTING)
    )


def _status_reported(msg: Message, lexicon: Lexicon | None) -> TaskStatus | None:
    text = msg.fixed
    if _DESIGNATED.match(msg.text) and _NAME_AFTER_COLON.search(msg.raw):
        return TaskStatus.COMPLETED  # "kontaktperson: Mette, it-drift": the result, as data
    plans = [m.span() for m in cues.PLAN.finditer(text)]

    def planned(start: int) -> bool:
        """Whether a plan governs the words at `start`: inside it ("går vi i gang"), just after
        it ("vi regner med at gå i gang"), or just before it in the same clause ("jeg kigger på
        det i morgen")."""
        return any(
            begin <= start < end
            or (end <= start and len(_WORD_RE.findall(text[end:start])) <= _NEGATION_REACH)
            or (start < begin and _same_clause(text, start, begin))
            for begin, end in plans
        )

    not_started = cues.NOT_STARTED.search(text)
    if not_started is not None and not planned(not_started.start()):
        return TaskStatus.NOT_STARTED
    done, not_done = _affirmed(cues.OUTCOME, text, planned)
    begun, not_begun = _affirmed(cues.PROGRESS, text, planned)
    if cues.RESTART.search(text):
        return TaskStatus.STARTED if begun else TaskStatus.NOT_STARTED
    back = cues.BACK.search(text) is not None or (
        (not_done or not_begun) and cues.BACK_WEAK.search(text) is not None
    )
    if back and not_begun and not begun:
        return TaskStatus.NOT_STARTED  # "den skulle ikke have været sat i gang"
    if back and (not_done or done or cues.OUTCOME.search(text)):
        # "vi er ikke færdige alligevel", "det var for tidligt at melde den godkendt", "det holder
        # ikke, vi skal have tjekket det igen før vi kan kalde det klar"
        return TaskStatus.STARTED
    if done and (not_done or _remains(text)):
        # "bilag 1 er udfyldt, mangler bare at få det sendt", "netværket er tjekket, klienterne mangler"
        return TaskStatus.STARTED
    if begun and not not_begun:
        return TaskStatus.STARTED  # "working on it, should have a name soon"
    if (plans or _unmet_condition(text)) and not _said_before(cues.OUTCOME, text, plans):
        # "vi er færdige når borgmesteren har skrevet under", "jeg vil gerne vide om vi har
        # meldt en ind"; but "that one's sorted, Anders will be our contact" is done
        return None
    if (done and not not_done) or _role_filled(msg):
        return TaskStatus.COMPLETED
    if not not_done and not not_begun and _STATE.search(text) and _signalled(msg, lexicon) is not None:
        return TaskStatus.COMPLETED  # a task's own completion signal: "testplanen er uploadet"
    return None


# "vores kontaktpunkt for incidents er it-hotlinen", "ansvarlig er Mette": a role and who has it.
_ROLE = cues.words(
    r"kontakt(?:punkt|person)\w*|underskrive\w*|underskrift\w*berettige\w*"
    r"|\w*administrator\w*|contact\s+(?:point|person)s?|signator(?:y|ies)"
)
_ROLE_IS = re.compile(r"\s(?:er|bliver|blir|is|are|will\s+be)\s+(?:nu\s+|now\s+)?([\w-]+)")
_ROLE_WORDS = (
    r"(?:kontakt(?:punkt|person)\w*|incident-?kontakt\w*|underskrive\w*|underskrift\w*berettige\w*"
    r"|\w*administrator\w*|contact(?:\s+(?:point|person))?|signator(?:y|ies))"
)
# "så har vi en kontaktperson", "we've got a contact person", "Anders will be our contact",
# "driftsteamet er nu midlertidigt kontaktpunkt, når ..."
_ROLE_HAD = cues.words(
    rf"(?:er|bliver|blir|is)\s+(?:nu\s+|now\s+|selv\s+)*(?:nye?\s+|new\s+|midlertidig\w*\s+|temporary\s+|fast\w*\s+|permanent\s+)?"
    rf"{_ROLE_WORDS}(?=\s*(?:$|[,.;–]|(?:for|ved|til|når|i|on|when)\b))|"
    rf"(?:har|have|'ve|got)\s+(?:vi\s+|we\s+)?(?:nu\s+|now\s+)?(?:fået\s+|got\s+)?(?:en|et|a|an)\s+(?:nye?\s+|new\s+)?{_ROLE_WORDS}"
    rf"|(?:er|bliver|blir|is|will\s+be|becomes)\s+(?:nu\s+|now\s+)?(?:vores|our)\s+(?:nye?\s+|new\s+)?{_ROLE_WORDS}"
)
_HOLDER = re.compile(
    r"(?:vores|our|it-[\w-]+|[\w-]*(?:desk|hotline|support|afdeling|center|centret|chef|leder|direktør|koordinator"
    r"|team|enhed|funktion|konsulent|medarbejder|sekretariat)[\w-]*)$"
)
_THEIRS = cues.words(r"kombit|skat|kdi|netcompany|leverandør\w*|supplier|vendor")


def _role_filled(msg: Message) -> bool:
    """Whether the message says who now has a role the task asks for: a unit of ours or a
    person's name (written with a capital)."""
    if any(not _negated(msg.fixed, m.start()) for m in _ROLE_HAD.finditer(msg.fixed)):
        return True  # not "det eneste vi mangler er kontaktpunktet"
    for role in _ROLE.finditer(msg.fixed):
        # the rest of the clause ("vedr. SAPA" ends no sentence), at most a dozen words on
        rest = " ".join(
            re.split(r"[?!;]|\.\s+(?=[A-ZÆØÅ])", msg.fixed[role.end() :], maxsplit=1)[0].split()[:14]
        )
        rest = " " + rest
        found = _ROLE_IS.search(rest)
        if found is None or _THEIRS.search(rest[: found.end()]):
            continue
        holder = found[1]
        if _HOLDER.match(holder):
            return True
        typed = re.search(rf"(?<!\w){re.escape(holder)}(?!\w)", msg.raw, re.IGNORECASE)
        if typed is not None and typed[0][0].isupper() and holder not in _NOT_NAMES:
            return True
    return False


_NOT_NAMES = frozenset(
    {"ikke", "not", "stadig", "still", "endnu", "yet", "der", "det", "den", "i", "på", "the", "a", "an"}
)


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


def _same_clause(text: str, start: int, end: int) -> bool:
    """Whether no clause boundary and few words lie between the two places."""
    between = text[start:end]
    return _CLAUSE_START_RE.search(between) is None and len(_WORD_RE.findall(between)) <= _NEGATION_REACH + 2


def _said_before(pattern: re.Pattern[str], text: str, plans: list[tuple[int, int]]) -> bool:
    """Whether the pattern is said, not negated, in a sentence without a plan or condition,
    or in a clause of its own before the sentence's first plan or condition."""
    hedges = [begin for begin, _ in plans] + [m.start() for m in cues.CONDITION.finditer(text)]
    for m in pattern.finditer(text):
        if _negated(text, m.start()):
            continue
        start, end = _sentence_around(text, m.start())
        first = min((h for h in hedges if start <= h < end), default=None)
        if first is None or (m.end() <= first and _CLAUSE_START_RE.search(text, m.end(), first) is not None):
            return True
    return False


def _sentence_around(text: str, position: int) -> tuple[int, int]:
    start = max((m.end() for m in _SENTENCE_RE.finditer(text, 0, position)), default=0)
    after = _SENTENCE_RE.search(text, position)
    return start, after.start() if after is not None else len(text)


def _remains(text: str) -> bool:
    """Whether a sentence that says something is done also says that some of it remains
    ("netværket er tjekket, klienterne mangler stadig"); another sentence's "mangler" is
    about something else."""
    return any(
        cues.OUTCOME.search(sentence) and cues.REMAINS.search(sentence)
        for sentence in _SENTENCE_RE.split(text)
    )


_SENTENCE_RE = re.compile(r"[.!?]\s+")


def _clause_end(text: str, start: int) -> int:
    found = _CLAUSE_START_RE.search(text, start)
    return found.start() if found is not None else len(text)


_NEAR_FUTURE_DAYS = 45


def _future(msg: Message) -> bool:
    """A date soon to come ("i næste uge", "på fredag") in the clause that reports makes the
    report a plan; a date in another clause is about something else ("kontaktpersonen er
    udpeget, og hun deltager i workshoppen 5. februar"). A month far ahead is usually last
    year's ("i december") in a report, which is in the past tense."""
    period = msg.period
    if period is None or period.start is None or period.start <= msg.now or cues.PAST.search(msg.fixed):
        return False
    clauses = _CLAUSE_SPLIT_RE.split(msg.fixed)
    if len(clauses) > 1:
        reporting = [c for c in clauses if _COMMAND_HINT.search(c) or any(p.search(c) for p in _REPORTING)]
        if reporting:
            periods = [find_period(c, msg.now, msg.language) for c in reporting]
            return any(_soon(p, msg.now) for p in periods)
    return _soon(period, msg.now)


def _soon(period: Period | None, now: datetime) -> bool:
    return (
        period is not None
        and period.start is not None
        and now < period.start
        and (period.start - now).days < _NEAR_FUTURE_DAYS
    )


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
    if subject:
        # "sidste klient er testet og alt kører, så den [er færdig]": the last clause points back
        tail = _LEADING_CONJUNCTION_RE.sub("", _CLAUSE_SPLIT_RE.split(subject)[-1])
        if tail != subject and cues.ANAPHOR.fullmatch(tail):
            subject = tail
    pointing_back = subject is not None and cues.ANAPHOR.fullmatch(subject) is not None
    if lexicon is not None and subject and not cues.ANAPHOR.fullmatch(subject):
        mentions = lexicon.mentions(tokens(subject), subject)
    elif lexicon is not None:
        # What was done ("klaret", "sendt") says nothing of which task: the rest of the words do.
        mentions = lexicon.mentions(_naming_words(msg, lexicon), msg.text)
    named = mentions.named_task()
    if named is not None and not explicit and lexicon is not None and not lexicon.tasks[named].changeable:
        named = None  # work reported in other words is work on a task in KLIK, not an announced one
    if (
        explicit
        and pointing_back
        and named is not None
        and context is not None
        and named != context
        and (lexicon is None or lexicon.tasks[named].changeable)
    ):
        # "den er færdig" after naming another task than the one shown: a command applies at
        # once, so ask which
        return Report(status, explicit, None, (named, context))
    if (
        named is not None
        and context is not None
        and named != context
        and (
            not mentions.tasks[0].by_keyword
            or (lexicon is not None and not lexicon.sets_apart(named, context, msg.words))
        )
    ):
        # The task just shown, unless the message names another by one of its names: a word of
        # another task's long title ("infrastruktur"), or a keyword the task shown has as well
        # ("den dækker SAPA, KSD og KY"), is not enough.
        return Report(status, explicit, context, (named, context), via_context=True)
    if named is not None:
        return Report(status, explicit, named)
    # "we've appointed someone": the verb alone hints at the tasks it may be about (unless
    # the message is about the task just shown).
    candidates = tuple(
        mentions.task_candidates() or (msg.mentions.task_candidates() if context is None else ())
    )
    if not explicit and lexicon is not None:
        # Work reported in other words is work on a task in KLIK: not on an announced one
        # ("testene på SAPA-klienterne" is the IT environment, not AULA's rollout test).
        changeable = tuple(c for c in candidates if c in lexicon.tasks and lexicon.tasks[c].changeable)
        candidates = changeable
    if not candidates and _names_event(msg):
        return None  # "vi har sendt tilmeldingen til workshoppen": not a task
    signalled = _signalled(msg, lexicon) or _signalled_among(msg, lexicon, candidates)
    if signalled is not None:
        return Report(status, explicit, signalled)
    if candidates:
        # One candidate named by one of its own nouns ("bilag 1 er under udfyldelse"): that task,
        # which the user still confirms (a command needs the task named surely).
        only = [m for m in mentions.tasks if m.id in candidates]
        if (
            not explicit
            and len(candidates) == 1
            and only
            and only[0].by_keyword
            and context in (None, candidates[0])
        ):
            return Report(status, explicit, candidates[0])
        if context in candidates:
            return Report(status, explicit, context, candidates, via_context=True)
        # A word of some task's long title ("Henrik fra infrastruktur") does not outweigh the
        # task just shown; one of a task's own names does.
        loose = not any(m.by_keyword for m in mentions.tasks if m.id in candidates)
        if context is not None and loose:
            return Report(status, explicit, context, candidates, via_context=True)
        return Report(status, explicit, None, candidates)
    if context is not None and not (
        explicit and subject and mentions.tasks and context not in {m.id for m in mentions.tasks}
    ):
        return Report(status, explicit, context, via_context=True)
    # "sæt server- og firewalltjekket til fuldført" names a task we cannot tell: ask, since a
    # command applies at once
    return Report(status, explicit, None)


_LEADING_CONJUNCTION_RE = re.compile(r"^(?:så|og|men|so|and|but)\s+")


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
    if _TASK_WORD.search(msg.fixed):
        return False  # "vi er gået i gang med opgaven fra sidste programledermøde"
    return any(pattern.search(msg.fixed) for _, pattern in cues.EVENT_KINDS) or bool(
        _REGISTERED.search(msg.fixed)
    )


_TASK_WORD = cues.words(r"opgave\w*|klik-?opgave\w*|tasks?")


def _signalled_among(msg: Message, lexicon: Lexicon | None, candidates: tuple[str, ...]) -> str | None:
    """Of the tasks the message may mean, the one whose completion signal it says, even in
    the task's title words ("IT-Servicedesken er udpeget som kontaktpunkt")."""
    if lexicon is None or len(candidates) < 2:
        return None
    said = [c for c in candidates if lexicon.signal_match(c, msg.words) >= SIGNAL_SHARE]
    return said[0] if len(said) == 1 else None


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
