"""What the user asked: intent, language, time period and subject of a free-text message.

Plain Python, no I/O. The message is normalised, each unknown word is matched against the
bot's vocabulary with rapidfuzz (so "opgavr" reads as "opgaver"), and whole-word patterns
decide the intent in a fixed order: the more specific question wins over the general one.
"""

from __future__ import annotations

import enum
import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from rapidfuzz import fuzz, process

from dialogs.dates import MONTHS, NUMBERS, WEEKDAYS, Language, find_period
from storage.domain import Period

__all__ = [
    "MAX_CHARS",
    "Intent",
    "Language",
    "Understanding",
    "detect_language",
    "normalise",
    "understand",
]

# No question to the bot needs more; longer input is cut before any other work.
MAX_CHARS = 500


class Intent(enum.StrEnum):
    OUTSTANDING = "outstanding"
    DUE = "due"
    TASK_DETAIL = "task_detail"
    EVENTS = "events"
    NEXT_EVENT = "next_event"
    INCIDENTS = "incidents"
    HELP = "help"
    GREETING = "greeting"
    CANCEL = "cancel"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Understanding:
    intent: Intent
    language: Language
    text: str  # the normalised text that was understood
    period: Period | None = None  # the time window the question names, if any
    subject: str | None = None  # the task or event words; for UNKNOWN the text without fillers
    event_kind: str | None = None  # "programledermoede", "workshop", ... when the text names one


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
    virker fungerer bruger
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
    work works use
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
    }
)
_DANISH_ONLY = _DANISH_WORDS - _AMBIGUOUS - _ENGLISH_WORDS
_ENGLISH_ONLY = _ENGLISH_WORDS - _AMBIGUOUS - _DANISH_WORDS

# Words worth correcting a typo towards: the ones the patterns below turn on.
_TARGETS = tuple(
    _wordlist("""
    opgave opgaver opgaven opgaverne mangler manglende udestående outstanding pending remaining
    unfinished status frist frister fristen fristerne deadline deadlines overdue arrangement
    arrangementer arrangementet arrangementerne begivenhed begivenheder event events møde møder
    mødet meeting meetings kalender kalenderen calendar programledermøde programledermødet
    programledermøder workshop workshops workshoppen leverandørdag leverandørdagen masterclass
    kursus kurser kurset course courses kommunedage kommunedagene webinar webinarer webinars
    konference konferencer conference conferences driftsforstyrrelse driftsforstyrrelser
    driftsstatus driftsinformation nedbrud nedbruddet incident incidents outage outages
    disruption disruptions hjælp hjælpe help commands kommandoer vejledning annuller afbryd
    fortryd cancel nevermind stop godmorgen goddag godaften hello halløj hejsa thanks thank
    fortæl fortælle detaljer details information beskriv describe explain hvornår hvilke næste
    kommende upcoming tasks
""")
)

# Everyday words that must never be "corrected" into a keyword ("mange" is not "mangler").
_NOT_TYPOS = _wordset("""
    mange manager even source sources first frisk hjælper kommune kommunen kommuner programme
    program leader leaders supplier suppliers vendor municipal municipality contact point
    tilmelding dato date time tid klokken sapa klik kombit klikbot aula drift forvaltning
    mødes mødte måde emne opgør alting seneste sidste last coming current
""")


def _ascii_fold(word: str) -> str:
    return word.replace("æ", "ae").replace("ø", "oe").replace("å", "aa").replace("é", "e")


def _swaps(word: str) -> Iterable[str]:
    """The word with two neighbouring letters swapped: the commonest typo in short words."""
    for i in range(len(word) - 1):
        yield word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def _build_canonical() -> dict[str, str]:
    canonical: dict[str, str] = {}
    for word in _TARGETS:
        for variant in (word, _ascii_fold(word)):
            canonical.setdefault(variant, word)
    canonical.update({"annullér": "annuller", "annullere": "annuller"})
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
        "week weeks month months today tomorrow ultimo udgangen slutningen end"
    )
)
_KNOWN = _DANISH_WORDS | _ENGLISH_WORDS | _NOT_TYPOS | _DATE_WORDS | frozenset(_CANONICAL)


@lru_cache(maxsize=8192)
def _correct(token: str) -> str:
    """The vocabulary word a token was meant to be, or the token itself."""
    if token in _CANONICAL:
        return _CANONICAL[token]
    if token in _KNOWN or len(token) < 4 or not token.isalpha():
        return token
    if token in _SWAPPED:
        return _SWAPPED[token]
    # Short words need a closer match: one wrong letter in five is a different word.
    cutoff = 86.0 if len(token) == 4 else 85.0 if len(token) <= 6 else 80.0
    found = process.extractOne(token, _FUZZY_CHOICES, scorer=fuzz.ratio, score_cutoff=cutoff)
    return _CANONICAL[found[0]] if found is not None else token


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


# --- intent patterns (on the corrected text) -------------------------------------------------


def _words(pattern: str) -> re.Pattern[str]:
    """A whole-word pattern: "stop" must not match inside "stoppested"."""
    return re.compile(rf"(?<![\w'])(?:{pattern})(?![\w'])")


_DATE_UNIT = r"uge|ugen|måned|måneden|week|month|" + "|".join(WEEKDAYS)

_CANCEL = _words(
    r"annuller|afbryd|fortryd|stop|stands|glem\s+det|nej\s+tak|cancel|nevermind|never\s+mind"
    r"|forget\s+it|abort|quit|drop\s+it"
)
_INCIDENT = _words(
    r"driftsforstyrrelser?|driftsforstyrrelsen|driftsforstyrrelserne|driftsstatus|driftsinformation"
    r"|driftsinfo|driftsmeddelelser?|driftsproblemer|nedbrud|nedbruddet|nedbruddene|incidents?"
    r"|outages?|disruptions?|service\s+status|system\s+status|nede|down|virker\s+ikke"
    r"|not\s+working|isn't\s+working|driften"
)
_EVENT_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "programledermoede",
        _words(
            r"programledermøde\w*|programleder\s*møde\w*|programme?\s+leaders?'?\s+meetings?"
            r"|programme?leader\s+meetings?|programme?\s+manager\s+meetings?|pl-møde\w*"
        ),
    ),
    ("leverandoerdag", _words(r"leverandørdag\w*|leverandør\s+dag\w*|(?:supplier|vendor)'?s?\s+days?")),
    ("kommunedage", _words(r"kommunedag\w*|kommune\s+dage\w*|municipal(?:ity)?\s+days?")),
    ("masterclass", _words(r"masterclass\w*|master\s+class\w*")),
    ("workshop", _words(r"workshop\w*")),
    ("kursus", _words(r"kursus\w*|kurser\w*|kurset|courses?|training")),
    ("webinar", _words(r"webinar\w*")),
    ("konference", _words(r"konference\w*|conferences?")),
)
_EVENT = _words(
    r"arrangement\w*|begivenhed\w*|events?|eventet|møde|møder|mødet|møderne|meetings?"
    r"|kalender\w*|calendar|what'?s\s+on|what\s+is\s+on|hvad\s+sker\s+der|what'?s\s+happening"
    r"|what\s+is\s+happening"
)
_NEXT = _words(rf"(?:næste|next|førstkommende|nærmeste)(?!\s+(?:{_DATE_UNIT})\b)|hvornår|when")
_DUE = _words(
    r"frist|frister|fristen|fristerne|deadlines?|deadlinen|due|skal\s+(?:vi|jeg)\s+nå|nå\s+at"
    r"|skal\s+være\s+(?:færdig\w*|klar|løst|lavet|afleveret)|udløber|expires?|overdue|for\s+sent"
    r"|overskredne?|forfalder|forfaldne?|afleveres|(?:be|get|is|are)\s+(?:done|finished|completed)"
    r"|hvornår\s+skal|overskredet|(?:late|behind)\s+(?:on|with)|are\s+we\s+(?:late|behind)"
)
# "fristen for kontaktpunkt": one task's deadline is a question about that task.
_ONE_DEADLINE_PATTERNS = tuple(
    re.compile(p)
    for p in (
        r"\b(?:frist|fristen|deadline|deadlinen)\s+(?:for|på|til|of|on)\s+(?P<s>.+)",
        r"\bhvornår\s+skal\s+(?:vi|jeg|kommunen|man)\s+(?:have\s+|være\s+)?(?P<s>.+)",
        r"\bwhen\s+(?:is|are)\s+(?P<s>.+?)\s+due\b",
    )
)
_OUTSTANDING = _words(
    r"mangler|manglende|mangle|udestående|outstanding|pending|remaining|unfinished|uafsluttede"
    r"|ufærdige|åbne\s+opgaver|open\s+tasks|ikke\s+(?:lavet|færdige?|fuldført|løst)"
    r"|not\s+(?:done|finished|completed)|left\s+to\s+do|still\s+open|what'?s\s+left|what\s+is\s+left"
    r"|skal\s+(?:vi|jeg)\s+(?:lave|gøre|ordne)|(?:need|have|has|got)\s+to\s+do|should\s+(?:we|i)\s+do"
    r"|status|(?:vores|mine|min|jeres|our|my)\s+(?:opgaver|tasks)|(?:hvilke|which|what)\s+(?:opgaver|tasks)"
    r"|to\s+do|todo|to-do|tilbage\s+at\s+lave|er\s+der\s+tilbage|opgaver|opgaverne|tasks|glemt"
)
_HELP = _words(
    r"hjælp|hjælpe|help|hvad\s+kan\s+du|hvad\s+kan\s+jeg\s+(?:spørge\s+om|skrive|bruge\s+dig\s+til)"
    r"|what\s+can\s+you\s+do|what\s+can\s+i\s+(?:ask|say|do)|what\s+do\s+you\s+do"
    r"|how\s+does\s+(?:this|it)\s+work|how\s+do\s+i\s+use"
    r"|hvordan\s+(?:\S+\s+){0,2}?(?:virker|fungerer)|hvordan\s+bruger"
    r"|kommandoer|commands|menu|menuen|vejledning|instructions|usage|guide"
)
_GREETING = _words(
    r"hej|hejsa|hejhej|hey|hi|hello|halløj|hallo|goddag|godmorgen|god\s+morgen|godaften"
    r"|god\s+aften|god\s+eftermiddag|dav|davs|morn|good\s+(?:morning|afternoon|evening|day)"
    r"|tak|takker|thanks|thank\s+you|thx|cheers"
)
# "fortæl om X", "hvad går X ud på", "tell me about X": X names a task.
_DETAIL_PATTERNS = tuple(
    re.compile(p)
    for p in (
        r"\bfortæl(?:le)?\s+(?:mig\s+|lidt\s+|mere\s+|noget\s+)*(?:om|omkring)\s+(?P<s>.+)",
        r"\bhvad\s+går\s+(?P<s>.+?)\s+ud\s+på\b",
        r"\bhvad\s+handler\s+(?P<s>.+?)\s+om\b",
        r"\bhvad\s+(?:indebærer|betyder)\s+(?P<s>.+)",
        r"\b(?:detaljer|detalje|info|information|informationer|oplysninger|beskrivelse|beskrivelsen"
        r"|mere)\s+(?:om|på|for|af|omkring|vedrørende)\s+(?P<s>.+)",
        r"\b(?:beskriv|forklar)\s+(?:mig\s+)?(?P<s>.+)",
        r"\btell\s+me\s+(?:more\s+|a\s+bit\s+|something\s+)?(?:about|on)\s+(?P<s>.+)",
        r"\b(?:details?|info|information|more)\s+(?:on|about|of|for|regarding)\s+(?P<s>.+)",
        r"\bwhat\s+(?:is|does)\s+(?P<s>.+?)\s+(?:about|involve|mean|entail)\b",
        r"\bwhat'?s\s+(?P<s>.+?)\s+about\b",
        r"\b(?:explain|describe)\s+(?P<s>.+)",
    )
)
_SUBJECT_LEAD_RE = re.compile(
    r"^(?:(?:the|a|an|den|det|de|opgaven|opgave|klik-opgaven|task|om|about|on|for|mig|me|lidt"
    r"|mere|more|called|named|der\s+hedder|som\s+hedder)\s+)+"
)
_SUBJECT_TRAIL_RE = re.compile(r"(?:\s+(?:task|opgave|opgaven|please|tak|venligst|thanks|ud\s+på|about))+$")
_SUBJECT_EDGES_RE = re.compile(r"^[\W_]+|[\W_]+$")

# Words that carry no subject: question words, fillers and the words the patterns consume.
_FILLER = (
    _DANISH_WORDS
    | _ENGLISH_WORDS
    | _DATE_WORDS
    | _wordset(
        "arrangement arrangementer arrangementet arrangementerne begivenhed begivenheder eventet "
        "møderne kalender kalenderen næste next kommende upcoming førstkommende nærmeste hvornår "
        "er der nogle noget snart soon on happening sker the any klikbot bot i ok okay står vis se "
        "oversigt overview færdig færdige færdigt klar løst lavet have være done finished"
    )
)
# Words that never name a task or an event by themselves.
_NOT_SUBJECT = _FILLER | frozenset(_CANONICAL)
_SHORT_MESSAGE = 4  # tokens: "glem det", "stop", "cancel that please"


# --- deciding --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Message:
    text: str  # normalised
    fixed: str  # normalised, typos corrected
    tokens: list[str]  # corrected tokens
    language: Language
    period: Period | None


def _content(tokens: Iterable[str], drop: frozenset[str] = _FILLER) -> list[str]:
    return [t for t in tokens if t not in drop and not any(c.isdigit() for c in t)]


def _subject(words: list[str]) -> str | None:
    return " ".join(words) or None


def _detail_subject(fixed: str) -> str | None:
    """The task a detail question names, if the question is one and names something."""
    for pattern in _DETAIL_PATTERNS:
        m = pattern.search(fixed)
        if m is None:
            continue
        if (subject := _clean_subject(m["s"])) is not None:
            return subject
    return None


def _one_deadline_subject(fixed: str) -> str | None:
    """The task whose deadline is asked for ("hvornår skal vi have udpeget kontaktpunkt")."""
    for pattern in _ONE_DEADLINE_PATTERNS:
        m = pattern.search(fixed)
        if m is not None and (subject := _clean_subject(m["s"])) is not None:
            return subject
    return None


def _clean_subject(words: str) -> str | None:
    """The words naming a task without "the", "opgaven", "task"; None if they name nothing."""
    subject = _SUBJECT_LEAD_RE.sub("", _SUBJECT_EDGES_RE.sub("", words))
    subject = _SUBJECT_EDGES_RE.sub("", _SUBJECT_TRAIL_RE.sub("", subject))
    # "tell me about deadlines next week" names no task: only known words.
    return subject if _content(_WORD_RE.findall(subject), _NOT_SUBJECT) else None


def _about_events(msg: _Message) -> Understanding | None:
    kind, kind_words = None, frozenset[str]()
    for name, pattern in _EVENT_KINDS:
        if (m := pattern.search(msg.fixed)) is not None:
            # The words naming the kind stay in the subject, even "meeting" or "day".
            kind, kind_words = name, frozenset(_WORD_RE.findall(m[0]))
            break
    if kind is None and not _EVENT.search(msg.fixed):
        return None
    intent = Intent.NEXT_EVENT if _NEXT.search(msg.fixed) else Intent.EVENTS
    words = [t for t in msg.tokens if t in kind_words or _content([t])]
    return Understanding(intent, msg.language, msg.text, msg.period, _subject(words), kind)


def _about_tasks(msg: _Message) -> Understanding | None:
    fixed, lang, period = msg.fixed, msg.language, msg.period
    if (subject := _detail_subject(fixed)) is not None:
        return Understanding(Intent.TASK_DETAIL, lang, msg.text, period, subject)
    if _DUE.search(fixed):
        if period is None and (subject := _one_deadline_subject(fixed)) is not None:
            return Understanding(Intent.TASK_DETAIL, lang, msg.text, None, subject)
        return Understanding(Intent.DUE, lang, msg.text, period)
    if _OUTSTANDING.search(fixed):
        # "hvilke opgaver mangler vi i februar": with a window it is a deadline question.
        return Understanding(Intent.DUE if period else Intent.OUTSTANDING, lang, msg.text, period)
    if period is not None and not _content(msg.tokens, _NOT_SUBJECT):
        # A bare date ("31/1", "i næste uge?") asks what is due then.
        return Understanding(Intent.DUE, lang, msg.text, period)
    return None


def _decide(msg: _Message) -> Understanding:
    fixed, lang = msg.fixed, msg.language
    if len(msg.tokens) <= _SHORT_MESSAGE and _CANCEL.search(fixed):
        return Understanding(Intent.CANCEL, lang, msg.text)
    if _INCIDENT.search(fixed):
        return Understanding(Intent.INCIDENTS, lang, msg.text, msg.period)
    found = _about_events(msg) or _about_tasks(msg)
    if found is not None:
        return found
    if _HELP.search(fixed):
        return Understanding(Intent.HELP, lang, msg.text)
    if _GREETING.search(fixed):
        return Understanding(Intent.GREETING, lang, msg.text)
    words = _content(_WORD_RE.findall(msg.text))
    return Understanding(Intent.UNKNOWN, lang, msg.text, msg.period, _subject(words))


def understand(text: str, now: datetime, locale: str | None = None) -> Understanding:
    """What a message asks. Never raises; `now` is aware, periods are in Copenhagen."""
    raw = text[:MAX_CHARS]
    normalised = normalise(raw)
    if not normalised:
        # A lone "?" asks what the bot can do; nothing at all asks nothing.
        intent = Intent.HELP if raw.strip() and set(raw.strip()) <= {"?", " "} else Intent.UNKNOWN
        return Understanding(intent, _language_of([], locale), normalised)
    tokens = [_correct(t) for t in _WORD_RE.findall(normalised)]
    fixed = _WORD_RE.sub(lambda m: _correct(m[0]), normalised)
    language = _language_of(tokens, locale)
    period = find_period(normalised, now, language)
    return _decide(_Message(normalised, fixed, tokens, language, period))
