"""What a message asks or reports, as one typed result.

Plain Python, no I/O. Entity first: the catalogue's vocabulary (dialogs/lexicon.py) finds the
tasks, events, programmes and municipalities a message names; the words of the domain
(dialogs/cues.py) say what it asks about them (a facet: the deadline, the contact, whether it
is mandatory ...) or what it reports (a status transition, dialogs/reports.py); dialogs/dates.py
finds the period it names. The result says whose data it is about (ours, or the counts of all
municipalities).

Typos in the domain's own words are corrected first with rapidfuzz ("opgavr" reads as
"opgaver"), never in a word the catalogue knows.
"""

from __future__ import annotations

import enum
import html
import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import wordfreq
from rapidfuzz import fuzz, process

from dialogs import cues, reports
from dialogs.dates import MONTHS, NUMBERS, WEEKDAYS, Language, find_period
from dialogs.dates import warm_up as warm_up_dates
from dialogs.lexicon import Lexicon, Mentions
from dialogs.reports import Report
from storage.domain import Period, TaskState

__all__ = [
    "MAX_CHARS",
    "Facet",
    "Intent",
    "Language",
    "Report",
    "Understanding",
    "Whose",
    "detect_language",
    "normalise",
    "understand",
]

# No question to the bot needs more; longer input is cut before any other work.
MAX_CHARS = 500


class Intent(enum.StrEnum):
    OUTSTANDING = "outstanding"  # what we still have to do
    DUE = "due"  # our deadlines, perhaps in a period
    TASK = "task"  # one fact (facet) of one task
    EVENTS = "events"  # a list of events
    EVENT = "event"  # one fact (facet) of one event
    PROGRAMME = "programme"  # what is coming in a programme
    COUNTS = "counts"  # how the municipalities are doing
    INCIDENTS = "incidents"
    REPORT = "report"  # a status report: "kontaktpersonen er fundet"
    HELP = "help"
    GREETING = "greeting"
    CANCEL = "cancel"
    UNKNOWN = "unknown"


class Facet(enum.StrEnum):
    # of a task
    DESCRIPTION = "description"
    STATUS = "status"
    DEADLINE = "deadline"
    CONTACT = "contact"
    MANDATORY = "mandatory"
    CRITICAL_PATH = "critical_path"
    SCOPE = "scope"
    CONSEQUENCE = "consequence"
    FOLLOW_UP = "follow_up"
    RESPONSIBLE = "responsible"
    # of an event
    DATES = "dates"
    PLACE = "place"
    REGISTRATION = "registration"
    INVITATION = "invitation"
    AUDIENCE = "audience"


class Whose(enum.StrEnum):
    OURS = "ours"
    ALL = "all"  # every municipality's counts (never their names)


@dataclass(frozen=True, slots=True)
class Understanding:
    intent: Intent
    language: Language
    text: str  # the normalised text that was understood
    period: Period | None = None  # the time window the message names, if any
    subject: str | None = None  # the words that named nothing known (for a fallback)
    event_kind: str | None = None  # "programledermoede", "workshop", ... when the text names one
    facet: Facet | None = None
    task: str | None = None  # the one task named
    task_candidates: tuple[str, ...] = ()  # the tasks it may mean, when it is not clear which
    event: str | None = None  # the one event meant
    programme: str | None = None
    municipalities: tuple[int, ...] = ()
    whose: Whose = Whose.OURS
    report: Report | None = None
    events: tuple[str, ...] = field(default=())  # EVENTS: the events of a kind, when resolved


# --- vocabulary ------------------------------------------------------------------------------


def _wordlist(text: str) -> list[str]:
    return text.split()


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


_DANISH_WORDS = _wordset("""
    hvad hvilke hvilken hvilket hvornår hvordan hvor hvem hvorfor er var der det den de dem vi
    jeg du mig os min mit mine vores jeres har havde skal skulle kan kunne vil ville må på og
    eller om til af med fra ved ud ind op ned over under efter før inden senest en et ikke noget
    nogen nogle alle lige så nu her mere meget mange lidt gerne venligst bare også vel jo når
    hvis at som sig sin sit sine hos nej ja godt tak hej hejsa goddag godmorgen næste kommende
    frist frister fristen fristerne opgave opgaver opgaven opgaverne mangler hjælp hjælpe hjælpen
    uge ugen uger måned måneden dag dage møde møder mødet fortæl fortælle detaljer sker lave gøre
    nå går mellem udgangen slutningen annuller glem driftsforstyrrelser nedbrud arrangementer
    tilbage andet andre denne dette disse kommune kommunen kommuner kommunes sæt status for
    virker fungerer bruger stadig endnu fået lavet gjort færdige færdig fundet sendt klaret
    arbejder sendes skemaet plads tilmelde tilmelding kurset mødet hvornaar hvordan egentlig
    kontakte ansvarlig obligatorisk frivillig kritisk vej
""")
_ENGLISH_WORDS = _wordset("""
    what what's whats which when how where who why is are was were be been the a an we you me us
    our my your do does did have has had any some there there's this that these those of to in
    on at with by about and or not no yes can could will would should must please tell show
    give list get let know need want it its all more just also so now here up out next
    upcoming due tasks task deadline deadlines events event meeting meetings help hello hi hey
    thanks thank outstanding left week weeks month months day days today tomorrow before after
    between within end calendar course courses supplier incidents incident outage outages
    cancel nevermind never mind good morning details about info anything something set
    work works use still yet done finished sent found appointed sorted working started
    mandatory optional register sign contact happens miss
""")
# Words in both languages ("status", "workshop") say nothing about the language.
_AMBIGUOUS = frozenset(
    {
        "i",
        "to",
        "om",
        "status",
        "workshop",
        "webinar",
        "masterclass",
        "info",
        "stop",
        "deadline",
        "deadlines",
        "ok",
        "okay",
        "for",
        "plm",
        "skat",
        "kdi",
        "aula",
        "sapa",
        "fk",
        "yr",
        "mbp",
        "klik",
        "kombit",
    }
)
_DANISH_ONLY = _DANISH_WORDS - _AMBIGUOUS - _ENGLISH_WORDS
_ENGLISH_ONLY = _ENGLISH_WORDS - _AMBIGUOUS - _DANISH_WORDS


def _cue_words() -> list[str]:
    """Every word the cue patterns spell out: the words worth correcting a typo towards."""
    found: dict[str, None] = {}
    for name, value in vars(cues).items():
        if name.endswith("_RE"):
            continue  # preprocessing patterns spell folded variants on purpose
        patterns: Iterable[re.Pattern[str]] = ()
        if isinstance(value, re.Pattern):
            patterns = (value,)
        elif isinstance(value, tuple):
            patterns = (
                p for item in value if isinstance(item, tuple) for p in item if isinstance(p, re.Pattern)
            )
        for pattern in patterns:
            source = re.sub(r"\\[a-zA-Z]", " ", pattern.pattern)
            for word in re.findall(r"[a-zæøå]{4,}", source):
                found[word] = None
    return list(found)


# Everyday words that must never be "corrected" into a keyword ("mange" is not "mangler").
_NOT_TYPOS = _wordset("""
    mange manager even source sources first frisk hjælper kommune kommunen kommuner programme
    program leader leaders supplier suppliers vendor municipal municipality contact point
    tilmelding dato date time tid klokken sapa klik kombit klikbot aula drift forvaltning
    mødes mødte måde emne opgør alting seneste sidste last coming current skema skemaet
    sende sender kontakt mail mails team teamet chef chefen borgmester ferie frokost kantinen
""")


def _ascii_fold(word: str) -> str:
    return word.replace("æ", "ae").replace("ø", "oe").replace("å", "aa").replace("é", "e")


def _plain_fold(word: str) -> str:
    return word.replace("æ", "a").replace("ø", "o").replace("å", "a").replace("é", "e")


def _swaps(word: str) -> Iterable[str]:
    """The word with two neighbouring letters swapped: the commonest typo in short words."""
    for i in range(len(word) - 1):
        yield word[:i] + word[i + 1] + word[i] + word[i + 2 :]


# Words worth correcting a typo towards: the cues' words and the words of dates ("febuar").
_TARGETS = tuple(
    dict.fromkeys(
        [
            *_cue_words(),
            *(m for m in MONTHS if len(m) >= 4),
            *WEEKDAYS,
            *_wordlist(
                "næste kommende måned måneden uge ugen uger dage påske jul resten udgangen slutningen"
            ),
            *_wordlist("foråret efteråret sommeren vinteren månedsskiftet"),
        ]
    )
)


def _build_canonical() -> dict[str, str]:
    canonical: dict[str, str] = {}
    for word in _TARGETS:
        canonical.setdefault(word, word)
    for word in _TARGETS:
        for variant in (_ascii_fold(word), _plain_fold(word)):
            # "naa" and "paa" are "nå" and "på" typed without Danish letters.
            if variant != word and (len(variant) >= 4 or re.search("aa|oe|ae", variant)):
                canonical.setdefault(variant, word)
    for word in ("nå", "på", "så", "få", "gå", "må", "vær", "før"):
        canonical.setdefault(_ascii_fold(word), word)
    # Short words typed without Danish letters at all: "hvad gar det ud pa", "nar vi har".
    for word in ("går", "får", "når", "må", "på", "få"):
        canonical.setdefault(_plain_fold(word), word)
    canonical.update({"annullér": "annuller", "annullere": "annuller"})
    # Chat shorthand: "sidder m det nu", "sendt t KDI", "ik færdig".
    canonical.update({"m": "med", "t": "til", "ik": "ikke", "ikk": "ikke"})
    return canonical


_CANONICAL = _build_canonical()
_SWAPPED = {s: w for w in _TARGETS if len(w) >= 4 for s in _swaps(w) if s not in _CANONICAL}
_FUZZY_CHOICES = [w for w in _CANONICAL if len(w) >= 4]
_DATE_WORDS = (
    frozenset(MONTHS)
    | frozenset(WEEKDAYS)
    | frozenset(NUMBERS)
    | _wordset(
        "dag idag morgen imorgen overmorgen uge uger ugen ugerne måned måneder måneden dage dagene "
        "week weeks month months today tomorrow ultimo udgangen slutningen end påske paaske jul "
        "forår foråret spring sommer sommeren summer efterår efteråret autumn fall vinter vinteren winter"
    )
)
_KNOWN = _DANISH_WORDS | _ENGLISH_WORDS | _NOT_TYPOS | _DATE_WORDS | frozenset(_CANONICAL)


# A word this frequent in Danish or English (Zipf scale: 3 is once per million words) is a word,
# not a typo: "afklare" stays "afklare", "tingen" stays "tingen".
_REAL_WORD_DA = 2.5
_REAL_WORD_EN = 3.5


def is_word(token: str) -> bool:
    """Whether the token is a real Danish or English word (wordfreq's lists)."""
    return (
        wordfreq.zipf_frequency(token, "da") >= _REAL_WORD_DA
        or wordfreq.zipf_frequency(token, "en") >= _REAL_WORD_EN
    )


def _with_danish_letters(token: str) -> str | None:
    """The real Danish word a token is when typed without æ, ø, å ("faerdigt" is "færdigt")."""
    if not re.search("ae|oe|aa", token):
        return None
    candidate = token.replace("ae", "æ").replace("oe", "ø").replace("aa", "å")
    return candidate if wordfreq.zipf_frequency(candidate, "da") >= _REAL_WORD_DA else None


@lru_cache(maxsize=8192)
def _correct(token: str) -> str:
    """The vocabulary word a token was meant to be, or the token itself."""
    if token in _CANONICAL:
        return _CANONICAL[token]
    if token in _KNOWN or len(token) < 4 or not token.isalpha() or is_word(token):
        return token
    if (danish := _with_danish_letters(token)) is not None:
        return danish
    if token in _SWAPPED:
        return _SWAPPED[token]
    # Short words need a closer match: one wrong letter in five is a different word.
    cutoff = 86.0 if len(token) == 4 else 85.0 if len(token) <= 6 else 80.0
    found = process.extractOne(token, _FUZZY_CHOICES, scorer=fuzz.ratio, score_cutoff=cutoff)
    # A typo seldom touches the first letter: "tingen" is no typo of "ingen".
    if found is None or found[0][0] != token[0]:
        return token
    # A word typed with æ, ø or å was typed on a Danish keyboard: "nåede" is no typo of "nede".
    if any(letter in token and letter not in found[0] for letter in "æøå"):
        return token
    corrected = _CANONICAL[found[0]]
    # A passive is no typo of the participle: "fremsendes" (is to be sent) is not "fremsendt".
    if token.endswith("es") and corrected.endswith("t") and token[:-2] == corrected[:-1]:
        return token
    return corrected


# --- normalisation ---------------------------------------------------------------------------

# Teams mentions ("<at>klikbot</at>") name the bot, not the question; other tags are markup.
_TAG_RE = re.compile(r"<at>.*?</at>|</?[a-z][^<>]{0,200}>", re.DOTALL | re.IGNORECASE)
_QUOTES = str.maketrans({"’": "'", "‘": "'", "´": "'", "`": "'", "“": '"', "”": '"', "«": '"', "»": '"'})
_EDGES_RE = re.compile(r"^[\W_]+|[\W_]+$")
_WORD_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)?")


def _visible(ch: str) -> bool:
    """Letters, digits, punctuation and spaces; not controls, emoji or other symbols."""
    category = unicodedata.category(ch)
    return not (category[0] == "C" or category in ("So", "Sk") or "\ufe00" <= ch <= "\ufe0f")


def normalise(text: str) -> str:
    """Lowercase, NFC, without markup, controls, emoji and surrounding punctuation."""
    text = _TAG_RE.sub(" ", text[:MAX_CHARS])
    text = unicodedata.normalize("NFC", html.unescape(text)).translate(_QUOTES)
    if not (text.isascii() and text.isprintable()):
        text = "".join(ch if _visible(ch) else " " for ch in text)
    return _EDGES_RE.sub("", " ".join(text.lower().split()))


# --- language --------------------------------------------------------------------------------

_DANISH_LETTERS_RE = re.compile(r"[æøå]")


def _language_of(tokens: list[str], locale: str | None) -> Language:
    danish = sum(
        1 for t in tokens if t in _DANISH_ONLY or (t not in _AMBIGUOUS and _DANISH_LETTERS_RE.search(t))
    )
    english = sum(1 for t in tokens if t in _ENGLISH_ONLY)
    if danish != english:
        return "da" if danish > english else "en"
    return "en" if (locale or "").lower().startswith("en") else "da"


def detect_language(text: str, locale: str | None = None) -> Language:
    """Danish or English from the words; the Teams locale decides when they do not tell."""
    return _language_of([_correct(t) for t in _WORD_RE.findall(normalise(text))], locale)


# --- the message, prepared -------------------------------------------------------------------

# "PLM'et", "PLM'erne": the Danish ending says nothing; "martsmødet" is "marts mødet".
_CLITIC_RE = re.compile(r"(?<=[a-zæøå])'(?:et|en|erne|ene|e)\b")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+")
# Words a full stop follows without ending the sentence: "d. 5/2", "kl. 10", "afd. for it".
_ABBREVIATIONS = _wordset(
    "d kl ca fx nr jf pga ift mht afd bl evt inkl ekskl dvs osv mv st tlf vedr ang ifm iht hhv eks obs att"
    " e.g i.e etc approx re"
)


def sentences(raw: str) -> list[str]:
    """The message's sentences. "1. februar", "d. 5/2" and "kl. 10" end none."""
    out: list[str] = []
    for piece in _SENTENCE_END_RE.split(raw.strip()):
        if out and out[-1].endswith("."):
            last = out[-1][:-1].split()[-1:] or [""]
            if last[0].isdigit() or last[0].lower() in _ABBREVIATIONS:
                out[-1] += " " + piece
                continue
        out.append(piece)
    return [s for s in out if _WORD_RE.search(s)]


# Where a new clause may begin with a question word or with its verb. Not after "og"/"men": there
# the subject is often left out ("vi har en kandidat, men mangler det endelige ja").
_CLAUSE_RE = re.compile(r"[.,;:!?]|\s[-–]\s")
_WH = _wordset(
    "hvad hvem hvornår hvordan hvorfor hvor hvilke hvilken hvilket mon what whats what's who when where why how which"
)
_VERB_FIRST = _wordset(
    "har er skal kan må bør gælder ligger står findes får kommer følger bliver mangler tæller holdes foregår "
    "dækker omfatter kræver betyder haster koster hedder starter slutter "
    "is are do does did have has can could should will would must may"
)
_SUBJECTS = _wordset(
    "vi jeg du den det de man der vejle kommunen opgaven we you it they there this that our i"
)
# "tæller en midlertidig kontaktperson som ...", "er et navn nok": an article starts the subject
# ("har en" may be a statement: "har en kontaktperson nu").
_ARTICLES = _wordset("en et a an the")
_FINITE = _wordset(
    "er skal kan sker kommer har bliver gør må vil går står ligger holdes afholdes foregår mangler "
    "is are do does did will should can happens happen was were"
)


def _is_question(raw: str, fixed: str, lexicon: Lexicon | None) -> bool:
    """Asked as a question: a question mark, or a clause opened by a question word or by a verb
    before its subject ("har vi ...", "er der ...", "står kontaktpersonen som ..."), or a question
    word before a verb anywhere. A statement may drop its subject ("har lige sendt skemaet"):
    then an adverb or a participle follows the verb, not a subject."""
    if raw.rstrip().endswith("?") or _WANT_TO_KNOW_RE.search(fixed):
        return True
    # A name written with a capital inside the message is a subject ("har Lone fundet en?").
    names = {w.lower() for w in re.findall(r"(?<=\w )[A-ZÆØÅ][a-zæøå]+", raw)}
    for clause in _CLAUSE_RE.split(fixed):
        words = _WORD_RE.findall(clause)
        if not words:
            continue
        if words[0] in _WH:
            # "..., hvem der skal være underskriftsberettiget": an indirect question, not one.
            if (
                len(words) > 1
                and words[1] in _SUBJECTS
                and words[0] != "mon"
                and words[1] not in ("det", "den", "it", "this", "that")
            ):
                continue
            # "..., hvilke forvaltninger der må modtage ...": "der" after the asked noun marks one too
            if not raw.rstrip().endswith("?") and "der" in words[2:4] and words[1] not in _FINITE:
                continue
            return True
        if words[0] in _VERB_FIRST and len(words) > 1:
            second = words[1]
            if second == "i" and len(words) > 2 and words[2] == "gang":
                continue
            if second in _SUBJECTS or (second in _ARTICLES and words[0] != "har") or second in names:
                return True
            # "er skemaet sendt", "står kontaktpersonen som ...": a catalogue noun as the subject;
            # "har sendt", "er klaret" are statements without one.
            reported = cues.OUTCOME.fullmatch(second) or cues.PROGRESS.fullmatch(second)
            if lexicon is not None and lexicon.names(second) and not reported:
                return True
    words = _WORD_RE.findall(fixed)
    # "HR is checking who can cover", "vi undersøger hvem der kan": an indirect question, a statement.
    return any(
        w in _WH and nxt in _FINITE and (i == 0 or words[i - 1] not in _ASKING)
        for i, (w, nxt) in enumerate(itertools.pairwise(words))
    )


# "jeg vil gerne vide hvilke frister ...", "I'd like to know ...": a question without a question mark.
_WANT_TO_KNOW_RE = re.compile(
    r"\b(?:vil|ville|skal|skulle)\s+(?:\w+\s+)?gerne\s+vide|\bgerne\s+vil\s+vide|\b(?:would|'d)\s+like\s+to\s+know"
    r"|\bwant\s+to\s+know|\bi\s+wonder|\bjeg\s+(?:er\s+)?spørger\s+(?:bare\s+)?(?:om|fordi)"
)


# Verbs that take an indirect question: what follows them is not asked of the bot.
_ASKING = _wordset(
    "checking check checks asking asks asked finding out af wondering wonder know knows see seeing sorting figuring "
    "undersøger undersøge tjekker tjekke afklarer afklare spørger spurgt ved vide se finder afventer venter"
)
_SHORT_MESSAGE = 4  # words: "glem det", "stop", "cancel that please"


@dataclass(frozen=True, slots=True)
class Message:
    """A message ready to be understood: normalised, typo-corrected, with what it names."""

    raw: str  # as typed (capitals tell names)
    text: str  # normalised
    fixed: str  # normalised, with typos of the domain's words corrected
    focus: str  # `fixed` of the sentence that asks, in a message of several sentences
    words: list[str]  # the normalised words
    tokens: list[str]  # the corrected words
    language: Language
    period: Period | None
    mentions: Mentions
    question: bool  # asked as a question (a question word first, or a question mark)
    any_period: Period | None  # the period anywhere in the message, also outside the asking sentence
    now: datetime


_EMPTY_MENTIONS = Mentions((), (), (), (), ())


def _focus(raw: str) -> str | None:
    """In a message of several sentences, the one that asks (the last with a question mark, else
    the last): "Min chef spørger i morgen. Hvad mangler vi?" asks about what is missing."""
    found = sentences(raw)
    if len(found) < 2:
        return None
    return next((s for s in reversed(found) if s.rstrip().endswith("?")), found[-1])


def _prepare(raw: str, now: datetime, locale: str | None, lexicon: Lexicon | None) -> Message | None:
    normalised = normalise(raw)
    if not normalised:
        return None

    def fix(word: str) -> str:
        if word in _CANONICAL:
            return _CANONICAL[word]  # the bot's own word, or it without Danish letters ("mode")
        # A word the catalogue knows is not a typo of the bot's vocabulary ("skemaet").
        if lexicon is not None and lexicon.knows(word):
            return word
        return _correct(word)

    def fixed_text(text: str) -> str:
        text = _CLITIC_RE.sub("", text)
        text = cues.MONTH_MEETING_RE.sub(lambda m: f"{m['mon']} {m['rest']}", text)
        return _WORD_RE.sub(lambda m: fix(m[0]), text)

    text = cues.MONTH_MEETING_RE.sub(lambda m: f"{m['mon']} {m['rest']}", _CLITIC_RE.sub("", normalised))
    words = _WORD_RE.findall(text)[:60]  # nothing a question names lies beyond
    tokens = [fix(w) for w in words]
    fixed = fixed_text(normalised)
    focus_raw = _focus(raw)
    focus = fixed_text(normalise(focus_raw)) if focus_raw is not None else fixed
    language = _language_of(tokens, locale)
    # The period of the sentence that asks: "Vi har møde på mandag. Hvad har frist i februar?";
    # the whole message's when the asking sentence only points back at what the other named
    # ("Jeg skal booke tid til PL-mødet i maj. Hvornår ligger det?").
    period = find_period(focus, now, language)
    mentions = _mentions(raw, words, focus_raw, lexicon)
    if (
        period is None
        and focus is not fixed
        and _names_something(fixed, mentions)
        and not _names_something(focus, None)
    ):
        period = find_period(fixed, now, language)
    question = _is_question(raw, fixed, lexicon)
    any_period = period if focus is fixed else find_period(fixed, now, language)
    return Message(
        raw, normalised, fixed, focus, words, tokens, language, period, mentions, question, any_period, now
    )


def _names_something(text: str, mentions: Mentions | None) -> bool:
    kinds = (
        any(pattern.search(text) for _, pattern in cues.EVENT_KINDS) or cues.EVENT.search(text) is not None
    )
    return kinds or (
        mentions is not None and (mentions.named_task() is not None or mentions.named_event() is not None)
    )


def _mentions(raw: str, words: list[str], focus: str | None, lexicon: Lexicon | None) -> Mentions:
    """What the message names; in a message of several sentences, what the asking one names,
    when it names a task or an event ("Vi har travlt med SAPA. Skal vi lave SKAT-opgaven?")."""
    if lexicon is None:
        return _EMPTY_MENTIONS
    whole = lexicon.mentions(words, raw)
    if focus is None:
        return whole
    focused = lexicon.mentions(_WORD_RE.findall(focus.lower()), focus)
    if focused.named_event() or (
        focused.named_task() is not None
        # a loose word in the question ("er det kun SAPA?") does not beat a task named before it
        and (focused.tasks[0].by_keyword or whole.named_task() in (None, focused.named_task()))
    ):
        return focused
    return whole


# --- deciding --------------------------------------------------------------------------------


def _any_of(patterns: Iterable[re.Pattern[str] | None]) -> re.Pattern[str]:
    """One pattern that matches where any of them does: most messages name no facet and no
    kind of event, and one search says so faster than one per cue."""
    return re.compile("|".join(f"(?:{p.pattern})" for p in patterns if p is not None))


_GATES = {
    id(table): _any_of(p for _, strong, weak in table for p in (strong, weak))
    for table in (cues.TASK_FACETS, cues.EVENT_FACETS)
}
_EVENT_KIND_GATE = _any_of(p for _, p in cues.EVENT_KINDS)


def _facet(fixed: str, table: tuple[tuple[str, re.Pattern[str], re.Pattern[str] | None], ...]) -> str | None:
    """The facet asked about: the first with a strong cue, else the first with a weak one."""
    gate = _GATES.get(id(table))
    if gate is not None and not gate.search(fixed):
        return None
    for name, strong, _ in table:
        if strong.search(fixed):
            return name
    for name, _, weak in table:
        if weak is not None and weak.search(fixed):
            return name
    return None


def _event_kind(msg: Message) -> str | None:
    if _EVENT_KIND_GATE.search(msg.fixed):
        for name, pattern in cues.EVENT_KINDS:
            if pattern.search(msg.fixed):
                return name
    if cues.ONE_MEETING.search(msg.fixed) and not cues.EVENT_LIST_WORDS.search(msg.fixed):
        return "programledermoede"
    return None


# "fortæl om X", "tell me about X", "hvad går X ud på": X is what the user asks about.
_ABOUT_RE = re.compile(
    r"\b(?:fortæl(?:le)?(?:\s+(?:mig|lidt|mere|noget))*\s+(?:om|omkring)|tell\s+me(?:\s+(?:more|a\s+bit))?\s+about"
    r"|(?:detaljer|info|information|oplysninger|details?)\s+(?:om|på|on|about)|beskriv|describe|explain|forklar)\s+(?P<s>\S.*)"
)


def _subject(msg: Message) -> str | None:
    return " ".join(msg.mentions.unknown) or None


_DEFAULT_FACETS = frozenset({None, "dates", "description"})
# The task facets' strong cues only ("gælder", "rykket"), not their weak words.
_STRONG_TASK_FACETS: cues.Facets = tuple((name, strong, None) for name, strong, _ in cues.TASK_FACETS)


def _asked_facet(msg: Message, table: cues.Facets) -> str | None:
    """The facet the asking sentence names, else the one the whole message names: "Jeg har
    ikke fået Skype-linket. Hvornår plejer det at komme?" asks about the invitation."""
    asked = _facet(msg.focus, table)
    if asked == "follow_up" and msg.focus != msg.fixed and _facet(msg.fixed, table) == "consequence":
        return "consequence"  # "Vi når det ikke til fristen. Hvad sker der så?"
    if msg.focus == msg.fixed or asked not in _DEFAULT_FACETS:
        return asked
    whole = _facet(msg.fixed, table)
    return whole if whole not in _DEFAULT_FACETS else asked or whole


def _task_facet(msg: Message) -> Facet:
    facet = _asked_facet(msg, cues.TASK_FACETS)
    # "har vi udpeget en kontaktperson?", "fik vi godkendt dem?": a question about an outcome
    # asks our status.
    outcome = cues.OUTCOME.search(msg.focus) or cues.PROGRESS.search(msg.focus)
    if facet is None and msg.question and outcome:
        return Facet.STATUS
    return Facet(facet) if facet is not None else Facet.DESCRIPTION


def _about_task(msg: Message, task: str, base: dict[str, object], lexicon: Lexicon | None) -> Understanding:
    facet = _task_facet(msg)
    view = lexicon.tasks.get(task) if lexicon is not None else None
    if (
        facet is Facet.DEADLINE
        and view is not None
        and view.state is TaskState.ANNOUNCED
        and _facet(msg.focus, _STRONG_TASK_FACETS) != "deadline"
    ):
        facet = Facet.FOLLOW_UP  # "hvornår kommer FK-administrator opgaven": when it is published
    return Understanding(Intent.TASK, facet=facet, task=task, **base)  # type: ignore[arg-type]


def _resolve_event(
    msg: Message, lexicon: Lexicon, kind: str | None, named: str | None
) -> tuple[str | None, tuple[str, ...]]:
    """(the one event meant, or None) and the events of the kind in the period, in time order."""
    events = list(lexicon.events.values())
    if named is not None:
        candidates = [lexicon.events[named]]
    elif kind is not None:
        candidates = [e for e in events if e.kind == kind]
    else:
        candidates = events
    period = msg.period
    if period is not None:
        candidates = [e for e in candidates if any(period.overlaps(s.starts_at, s.ends_at) for s in e.slots)]
    candidates.sort(key=lambda e: min(s.starts_at for s in e.slots))
    upcoming = [e for e in candidates if any(s.ends_at > msg.now for s in e.slots)]
    ordered = tuple(e.id for e in candidates)
    if named is not None:
        return named, ordered
    chosen = upcoming[0] if upcoming else (candidates[-1] if candidates else None)
    return (chosen.id if chosen is not None else None), ordered


def _about_events(
    msg: Message,
    lexicon: Lexicon | None,
    base: dict[str, object],
    kind: str | None,
    named: str | None,
    task: str | None,
) -> Understanding | None:
    """A question about events: one event (a fact of it) or a list, or None if it is not one."""
    mentions = msg.mentions
    fixed = msg.fixed
    generic = cues.EVENT.search(fixed) is not None or cues.MEETING.search(fixed) is not None
    if kind is None and named is None and not generic:
        return None
    facet = _asked_facet(msg, cues.EVENT_FACETS)
    strong_facet = facet is not None and facet != "dates"
    if task is not None:
        # A task named: about an event only when the message names the event as surely.
        if kind is None and named is None:
            return None
        if kind is None and mentions.tasks[0].score > mentions.events[0].score:
            return None
    lists = cues.OUTSTANDING_STRONG.search(fixed) is not None or cues.DUE.search(fixed) is not None
    if kind is None and lists and not strong_facet and (named is None or not generic):
        return None  # "hvad har frist inden mødet", "our open tasks for the styregruppe"
    base = {**base, "event_kind": kind}
    plural = cues.PLURAL_EVENTS.search(fixed) is not None
    following = cues.NEXT.search(fixed) is not None
    # One event: named, or a fact of it asked, or the next of a kind, or when a kind is
    # ("hvornår er leverandørdagen"). Plural words ask for a list ("er der nogle workshops").
    one = (
        not plural
        and (strong_facet or named is not None or following or (kind is not None and facet == "dates"))
    ) or (cues.SINGLE_NEXT.search(fixed) is not None and (kind is not None or named is not None))
    if lexicon is None:
        intent = Intent.EVENT if one else Intent.EVENTS
        chosen_facet = Facet(facet or "dates") if one else None
        return Understanding(intent, facet=chosen_facet, **base)  # type: ignore[arg-type]
    event, ordered = _resolve_event(msg, lexicon, kind, named)
    if not one and kind is not None and msg.period is not None and len(ordered) == 1 and not plural:
        one = True  # "PL-mødet i april"
    if one and (event is not None or kind is not None):
        # With no such event ("næste webinar"), the answer says none is planned.
        return Understanding(Intent.EVENT, facet=Facet(facet or "dates"), event=event, events=ordered, **base)  # type: ignore[arg-type]
    return Understanding(Intent.EVENTS, events=ordered, **base)  # type: ignore[arg-type]


def _decide(
    msg: Message, lexicon: Lexicon | None, context: str | None, municipality: int | None
) -> Understanding:
    fixed, lang = msg.fixed, msg.language
    base: dict[str, object] = {
        "language": lang,
        "text": msg.text,
        "period": msg.period,
        "municipalities": msg.mentions.municipalities,
    }
    mentions = msg.mentions
    if len(msg.tokens) <= _SHORT_MESSAGE and cues.CANCEL.search(fixed):
        return Understanding(Intent.CANCEL, lang, msg.text)
    report = reports.detect(msg, lexicon, context, municipality)
    if report is not None:
        return Understanding(Intent.REPORT, report=report, task=report.task, **base)  # type: ignore[arg-type]
    task = mentions.named_task()
    kind = _event_kind(msg)
    event = mentions.named_event()
    if cues.OUT_OF_SCOPE.search(fixed) and not any(pattern.search(fixed) for _, pattern in cues.EVENT_KINDS):
        return Understanding(Intent.UNKNOWN, subject=_subject(msg), **base)  # type: ignore[arg-type]
    if cues.STRONG_HELP.search(fixed) and task is None:
        return Understanding(Intent.HELP, lang, msg.text)
    quiet = task is None and event is None and kind is None
    # "kontaktpersonen ved nedbrud": an incident word about a task named, asking a fact of it.
    task_fact = task is not None and _facet(msg.focus, _STRONG_TASK_FACETS) is not None
    counts = (
        cues.COUNTS.search(fixed) is not None
        or (cues.COUNTS_WEAK.search(fixed) is not None and not task_fact)
    ) and (task is not None or (event is None and kind is None))
    about_task = task is not None and (counts or task_fact)
    if (
        cues.NAMED_INCIDENT.search(fixed)
        or (cues.STRONG_INCIDENTS.search(fixed) and not about_task)
        or (quiet and cues.WEAK_INCIDENTS.search(fixed))
    ):
        return Understanding(Intent.INCIDENTS, **base)  # type: ignore[arg-type]
    if counts:
        return Understanding(Intent.COUNTS, task=task, whose=Whose.ALL, **base)  # type: ignore[arg-type]
    programme = mentions.programmes[0] if mentions.programmes else None
    outstanding = cues.OUTSTANDING_STRONG.search(fixed) is not None
    due = cues.DUE.search(fixed) is not None
    if programme is not None and task is None and kind is None:
        asks = cues.PROGRAMME_ASK_STRONG.search(fixed) is not None
        if asks or not (outstanding or due):
            return Understanding(Intent.PROGRAMME, programme=programme, **base)  # type: ignore[arg-type]
    about_events = _about_events(msg, lexicon, base, kind, event, task)
    if about_events is not None:
        return about_events
    if task is not None:
        return _about_task(msg, task, base, lexicon)
    if due:
        # "Jeg er væk hele næste uge. Har vi frister mens jeg er væk?": the period is the message's.
        return Understanding(
            Intent.DUE,
            programme=programme,
            **{**base, "period": msg.period or msg.any_period},  # type: ignore[arg-type]
        )
    if outstanding or cues.OUTSTANDING.search(fixed):
        intent = Intent.DUE if msg.period is not None else Intent.OUTSTANDING
        return Understanding(intent, programme=programme, **base)  # type: ignore[arg-type]
    candidates = tuple(mentions.task_candidates())
    if not candidates and (about := _ABOUT_RE.search(msg.text)) is not None:
        # "fortæl om X" where X names no task: the answer says so, with the active tasks.
        return Understanding(Intent.TASK, facet=Facet.DESCRIPTION, subject=about["s"], **base)  # type: ignore[arg-type]
    if candidates and not (cues.GREETING.search(fixed) and not msg.question):
        return Understanding(
            Intent.TASK,
            facet=_task_facet(msg),
            task=candidates[0] if len(candidates) == 1 else None,
            task_candidates=candidates,
            **base,  # type: ignore[arg-type]
        )
    if msg.period is not None and not mentions.unknown:
        # A bare date ("31/1", "i næste uge?") asks what is due then.
        return Understanding(Intent.DUE, **base)  # type: ignore[arg-type]
    if cues.HELP.search(fixed):
        return Understanding(Intent.HELP, lang, msg.text)
    if cues.GREETING.search(fixed):
        return Understanding(Intent.GREETING, lang, msg.text)
    return Understanding(Intent.UNKNOWN, subject=_subject(msg), **base)  # type: ignore[arg-type]


def prepare(
    text: str, now: datetime, locale: str | None = None, lexicon: Lexicon | None = None
) -> Message | None:
    """The message normalised, corrected and read against the catalogue (None if empty)."""
    return _prepare(text[:MAX_CHARS], now, locale, lexicon)


def understand(
    text: str,
    now: datetime,
    locale: str | None = None,
    *,
    lexicon: Lexicon | None = None,
    context: str | None = None,
    municipality: int | None = None,
) -> Understanding:
    """What a message asks or reports. Never raises; `now` is aware, periods are in Copenhagen.

    `lexicon` is the catalogue's vocabulary (without it nothing is named); `context` the task
    last shown in the conversation ("det er på plads" is about it); `municipality` the asker's.
    """
    raw = text[:MAX_CHARS]
    msg = _prepare(raw, now, locale, lexicon)
    if msg is None:
        # A lone "?" asks what the bot can do; nothing at all asks nothing.
        intent = Intent.HELP if raw.strip() and set(raw.strip()) <= {"?", " "} else Intent.UNKNOWN
        return Understanding(intent, _language_of([], locale), "")
    return _decide(msg, lexicon, context, municipality)


def warm_up() -> None:
    """Load dateparser's and wordfreq's data now rather than during the first user's question."""
    warm_up_dates()
    is_word("klikbot")
