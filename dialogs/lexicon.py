"""The catalogue's vocabulary: which tasks, events, programmes and municipalities a message names.

Plain Python, no I/O. A Lexicon is built once per catalogue version from the catalogue's own
words (titles, keywords, completion signals, descriptions, notes, contacts, programme names)
and scores a message against every task and event:

- every word is reduced to a key: its Danish Snowball stem, with æ, ø, å folded away, so
  "kontaktpersonen", "kontaktperson" and "kontaktpersonnen" (a typo, corrected by rapidfuzz
  against the catalogue's words) meet, as do "mødet", "moedet" and "modet";
- a compound the catalogue does not have is split into two words it has
  ("incidentkontaktperson" is "incident" + "kontaktperson");
- English words reach the Danish catalogue through a small bilingual glossary of the domain's
  verbs and nouns ("appointed" -> "udpeg");
- each key weighs by how rare it is in the catalogue (inverse document frequency) and by the
  field it stands in: a word of the title or a keyword names a task, a word of its description
  only hints at it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import snowballstemmer
from rapidfuzz import fuzz, process

from storage.domain import TaskView
from storage.views import CatalogueWords, EventView, ProgrammeView

__all__ = ["Lexicon", "Match", "Mentions", "fold", "key", "tokens"]

_WORD_RE = re.compile(r"[^\W\d_]+")
_DANISH = snowballstemmer.stemmer("danish")
_ENGLISH = snowballstemmer.stemmer("english")


def tokens(text: str) -> list[str]:
    """The words of a text, lower-cased, without digits and punctuation ("it-miljø" is two)."""
    return _WORD_RE.findall(text.lower())


_FOLDS = (("æ", "a"), ("ø", "o"), ("å", "a"), ("é", "e"), ("aa", "a"), ("oe", "o"), ("ae", "a"))


@lru_cache(maxsize=16384)
def fold(word: str) -> str:
    """The word without Danish letters, however the user typed them: "møde", "moede" and
    "mode" all fold to "mode", "måned" and "maaned" to "maned"."""
    word = unicodedata.normalize("NFC", word)
    for a, b in _FOLDS:
        word = word.replace(a, b)
    return word


@lru_cache(maxsize=16384)
def key(word: str) -> str:
    """A word's key: its Danish stem (Snowball), folded. English plurals lose their s too."""
    stem = _DANISH.stemWord(word)
    if word.isascii() and len(stem) > 4 and stem.endswith("s") and not stem.endswith("ss"):
        stem = stem[:-1]
    return fold(stem)


_CASED_WORD_RE = re.compile(r"[^\W\d_]+")


def _keys(text: str) -> list[str]:
    """The keys of a catalogue text's words. A key of three letters or fewer comes only from an
    acronym ("KY", "FK", "KDI"): "rettigheder" stems to "ret", which is another word."""
    out = []
    for word in _CASED_WORD_RE.findall(text):
        k = key(word.lower())
        if len(k) <= 3 and not (word.isupper() and len(word) <= 5):
            continue
        out.append(k)
    return out


# Words that name nothing: function words, question words, the bot's own vocabulary of
# intents and facets (a word asking about a deadline does not name a task), dates, and the
# domain's words that every task shares.
_STOP_WORDS = frozenset(
    tokens(
        "a af alle alt altså an and any are as at bare be been blev blive bliver by can could da de dem "
        "den denne der dereftre deres det dette did din dine dit do does du during efter eller en end er "
        "et for fra få får gerne godt gør gøre had han har has have havde hende her hos hvad hvem hvilke "
        "hvilken hvilket hvis hvor hvordan hvorfor hvornår i if ikke in into is it its jeg jer jeres jo "
        "just kan kunne lige man me med meget mere mig min mine mit må nej no noget nogen nogle not nu "
        "når of og om on op or os our ovenpå på s sig sin sine sit skal skulle so some så som the their "
        "them then there these they this til to ud under us var vi vil ville vores was we were what when "
        "where which who why will with would ja yes you your også endnu stadig lidt mest mange everything "
        "anything something nothing hej hi hello tak thanks please venligst okay ok opgave opgaven "
        "opgaver opgaverne task tasks klik klikopgave klikopgaver klikopgaven klikopgaverne kombit "
        "kommune kommunen kommuner kommunes kommunens municipality municipalities vejle frist fristen "
        "frister fristerne deadline deadlines due dato date dates status statussen kontakt kontakte "
        "contact email mail hvem hvorfor spørgsmål question questions info information detaljer details "
        "januar februar marts april maj juni juli august september oktober november december january "
        "february march may june july october mandag tirsdag onsdag torsdag fredag lørdag søndag monday "
        "tuesday wednesday thursday friday saturday sunday uge ugen uger week weeks måned måneden måneder "
        "month months dag dage dagen day days år year today tomorrow idag imorgen næste kommende next "
        "upcoming førstkommende sidste last"
    )
)
STOP_KEYS = frozenset(key(w) for w in _STOP_WORDS) | frozenset(fold(w) for w in _STOP_WORDS)

# English words of the domain and their Danish catalogue words: a bridge for English questions
# about a Danish catalogue. General language, not phrases of any one task.
_GLOSSARY: dict[str, tuple[str, ...]] = {
    "appoint": ("udpeg",),
    "appointed": ("udpeg",),
    "designate": ("udpeg",),
    "designated": ("udpeg",),
    "nominate": ("udpeg",),
    "nominated": ("udpeg",),
    "approve": ("godkend",),
    "approved": ("godkend",),
    "approval": ("godkend",),
    "check": ("tjek",),
    "checked": ("tjek",),
    "verify": ("tjek",),
    "create": ("opret",),
    "created": ("opret",),
    "inform": ("oplys",),
    "setup": ("opsætning",),
    "configuration": ("opsætning",),
    "configure": ("opsætning",),
    "roles": ("roller",),
    "rights": ("rettigheder",),
    "permissions": ("rettigheder",),
    "form": ("skema",),
    "appendix": ("bilag",),
    "annex": ("bilag",),
    "agreement": ("aftale",),
    "agreements": ("aftale",),
    "subscription": ("abonnementsaftale",),
    "signature": ("underskrift",),
    "signatory": ("underskriftberettiget",),
    "signatories": ("underskriftberettiget",),
    "signer": ("underskriftberettiget",),
    "signers": ("underskriftberettiget",),
    "tax": ("skat",),
    "skattevæsen": ("skat",),
    "skattevæsenet": ("skat",),
    "skattestyrelse": ("skat",),
    "skattestyrelsen": ("skat",),
    "environment": ("miljø",),
    "env": ("miljø",),
    "contactpoint": ("kontaktpunkt",),
    "contactperson": ("kontaktperson",),
    # Danish everyday words for the catalogue's terms: an outage ("nedbrud") is an incident.
    "nedbrud": ("incident",),
    "nedbruddet": ("incident",),
    "nedbrudsbeskeder": ("incident",),
    "hændelse": ("incident",),
    "hændelser": ("incident",),
    "hændelserne": ("incident",),
    "hændelsesmeldinger": ("incident",),
    "sla": ("serviceaftale",),
    "rollout": ("udrulning",),
    "deployment": ("idriftsættelse",),
    "administrator": ("administrator",),
    "admin": ("administrator",),
    "distribution": ("fordelingsregler", "fordelingskomponenten"),
    "rules": ("regler",),
    "scanning": ("scanning",),
    "mail": ("post",),
    "login": ("log", "in"),
    "access": ("dataadgang",),
    "incident": ("incidenthåndtering",),
    "incidents": ("incidenthåndtering",),
    "person": ("person",),
    "supplier": ("leverandør",),
    "suppliers": ("leverandør",),
    "vendor": ("leverandør",),
    "vendors": ("leverandør",),
    "steering": ("styregrupper",),
    "committee": ("styregrupper",),
    "committees": ("styregrupper",),
    "group": ("styregrupper",),
    "groups": ("styregrupper",),
    "operations": ("drift",),
    "maintenance": ("forvaltning",),
    "technicians": ("teknikere",),
    "technician": ("teknikere",),
}


def _glossary_keys() -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for english, danish in _GLOSSARY.items():
        out[english] = tuple(k for d in danish for k in _keys(d))
    return out


_GLOSSARY_KEYS = _glossary_keys()

# How much a word counts, by the field it stands in. A task title's first word is its verb
# ("Udpeg", "Godkend", "Tjek"): shared language, so it names a task less surely.
TITLE, KEYWORD, VERB, SIGNAL, CONTACT, TEXT, PROGRAMME = 1.0, 1.0, 0.6, 0.5, 0.9, 0.35, 0.2
# Everyday words that happen to stand in a title ("klar", "brugen", "navn") say little.
_COMMON = frozenset(
    key(w)
    for w in [
        "klar",
        "klart",
        "ready",
        "navn",
        "name",
        "brug",
        "brugen",
        "bruge",
        "use",
        "usage",
        "send",
        "sendt",
        "sendes",
        "sende",
        "mail",
        "information",
        "oplys",
        "angiv",
        "skriv",
        "skriver",
        "kommunale",
        "kommunens",
        "planer",
        "plan",
    ]
)
COMMON_FACTOR = 0.4
# Keys this long that begin alike are forms of one word ("underskriftberet", "underskriftberettiged").
_PREFIX = 8
# A keyword of several words ("contact point") found whole adds this much.
PHRASE_BONUS = 1.5
# A task or event scoring this much is named; below MAYBE it is not even a candidate.
NAMED = 2.2
MAYBE = 1.1
# A title of up to this many content words names its task with each of them fully.
_SHORT_TITLE = 6
# Programmes are few, so one part of a name names one ("monopolet" in "bryde monopolet").
PROGRAMME_NAMED = 1.3
# A runner-up this close to the best makes the message ambiguous between them.
CLOSE = 0.75


@dataclass(frozen=True, slots=True)
class Match:
    id: str
    score: float
    # Named by a keyword or a keyword phrase (the catalogue's names for it), not only by words
    # of its title or description.
    by_keyword: bool = False


@dataclass(frozen=True, slots=True)
class Term:
    key: str
    confidence: float  # 1.0 as typed; less for a corrected typo or a part of a compound
    position: int  # the index of the word in the message


@dataclass(slots=True)
class _Entry:
    id: str
    weights: dict[str, float] = field(default_factory=dict)
    phrases: list[tuple[str, ...]] = field(default_factory=list)
    keyword_keys: set[str] = field(default_factory=set)

    def add(self, keys: Iterable[str], weight: float) -> None:
        for k in keys:
            w = weight * COMMON_FACTOR if k in _COMMON else weight
            if k not in STOP_KEYS and len(k) > 1 and self.weights.get(k, 0.0) < w:
                self.weights[k] = w

    def add_phrase(self, text: str) -> None:
        words = tokens(text)
        if len(words) >= 2:
            self.phrases.append(tuple(key(w) for w in words))


@dataclass(frozen=True, slots=True)
class Mentions:
    """What a message names, best first. Scores are comparable within a kind."""

    terms: tuple[Term, ...]
    tasks: tuple[Match, ...]
    events: tuple[Match, ...]
    programmes: tuple[str, ...]
    municipalities: tuple[int, ...]
    # The words that named nothing the catalogue knows (for a fallback's suggestions).
    unknown: tuple[str, ...] = ()

    def named_task(self) -> str | None:
        return _named(self.tasks)

    def task_candidates(self) -> list[str]:
        """The tasks the message may mean when it is not clear which (best first)."""
        return _candidates(self.tasks)

    def named_event(self) -> str | None:
        return _named(self.events)


def _named(matches: Sequence[Match]) -> str | None:
    if not matches or matches[0].score < NAMED:
        return None
    if len(matches) > 1 and matches[1].score >= CLOSE * matches[0].score:
        return None
    return matches[0].id


def _candidates(matches: Sequence[Match]) -> list[str]:
    if not matches:
        return []
    best = matches[0].score
    return [m.id for m in matches if m.score >= MAYBE and m.score >= CLOSE * best][:5]


# Municipality names that are also everyday Danish words count only when written with a
# capital ("Vejen Kommune", not "på kritisk vejen").
_COMMON_WORD_NAMES = frozenset({"vejen", "greve", "odder", "skive", "lejre", "fanø", "ærø", "faxe", "struer"})

# Programme names' own words that say only "programme".
_PROGRAMME_SUFFIX_RE = re.compile(r"(?:s?programmet|s?programme|s?program)$")


class Lexicon:
    """The catalogue's vocabulary at one version. Build with `Lexicon(words)`; read-only after."""

    def __init__(self, words: CatalogueWords) -> None:
        self.version = words.version
        self.tasks: dict[str, TaskView] = {t.id: t for t in words.tasks}
        self.events: dict[str, EventView] = {e.id: e for e in words.events}
        self.programmes: dict[str, ProgrammeView] = {p.id: p for p in words.programmes}
        self.municipality_names: dict[int, str] = {m.code: m.name for m in words.municipalities}
        self._programme_aliases = self._build_programme_aliases(words.programmes)
        programme_keys = frozenset(self._programme_aliases)
        self._task_entries = [self._task_entry(t, programme_keys) for t in words.tasks]
        # Each task's completion signals and title, as keys (for reports in the signals' words).
        self._signals = {
            t.id: [
                w
                for w in ({k for k in _keys(signal) if k not in STOP_KEYS} for signal in t.completion_signals)
                if w
            ]
            for t in words.tasks
        }
        self._title_keys = {t.id: frozenset(_keys(t.title)) for t in words.tasks}
        self._event_entries = [self._event_entry(e) for e in words.events]
        self._task_idf = _idf(self._task_entries)
        self._event_idf = _idf(self._event_entries)
        # A programme is named by its name, or by the words of its note ("implementeringshåndbog").
        self._programme_entries = [self._programme_entry(p) for p in words.programmes]
        self._programme_idf = _idf(self._programme_entries)
        self._task_postings = _postings(self._task_entries)
        self._event_postings = _postings(self._event_entries)
        self._programme_postings = _postings(self._programme_entries)
        self._programme_name_keys = frozenset(k for e in self._programme_entries for k in e.keyword_keys)
        self._municipalities = self._build_municipalities(words)
        self._municipality_keys = frozenset(key(m.name.lower()) for m in words.municipalities)
        # Every word of the catalogue, folded, to correct typos towards; and its key.
        surface: dict[str, str] = {}
        for text in self._all_text(words):
            for t in _CASED_WORD_RE.findall(text):
                k = key(t.lower())
                if k in STOP_KEYS or len(t) < 2 or (len(k) <= 3 and not (t.isupper() and len(t) <= 5)):
                    continue
                surface.setdefault(fold(t.lower()), k)
                surface.setdefault(k, k)
        for alias in self._programme_aliases:
            surface.setdefault(alias, alias)
        for entry in self._programme_entries:
            for k in entry.keyword_keys:
                surface.setdefault(k, k)  # the parts of a programme's name: "refusion", "ydelse"
        self._surface = surface
        self._vocabulary = frozenset(surface.values())
        self._long_keys = tuple(k for k in self._vocabulary if len(k) >= _PREFIX)
        self._fuzzy_by_start: dict[str, list[str]] = {}
        for w in surface:
            if len(w) >= 5:
                self._fuzzy_by_start.setdefault(w[:2], []).append(w)
        self._term_cache: dict[str, tuple[tuple[str, float], ...]] = {}

    # --- building --------------------------------------------------------------------------

    @staticmethod
    def _all_text(words: CatalogueWords) -> Iterable[str]:
        for t in words.tasks:
            yield from (t.title, *t.keywords, *t.completion_signals, t.description, t.notes, t.deadline_rule)
            yield t.contact.split("@")[0]
        for e in words.events:
            yield from (e.title, e.description, e.audience, e.location, e.registration_note)
        for p in words.programmes:
            yield from (p.name, p.short_name, p.note)

    @staticmethod
    def _build_programme_aliases(programmes: Sequence[ProgrammeView]) -> dict[str, str]:
        aliases: dict[str, str] = {}
        for p in programmes:
            names = [p.name, p.short_name, p.id]
            for name in names:
                words = tokens(name)
                if len(words) == 1:
                    aliases[key(words[0])] = p.id
                    aliases[fold(words[0])] = p.id
                    # "Monopolbrudsprogrammet" is also "Monopolbruddet", "monopolbrud".
                    head = _PROGRAMME_SUFFIX_RE.sub("", fold(words[0]))
                    if len(head) >= 5 and head != fold(words[0]):
                        aliases[key(head)] = p.id
                        aliases[head] = p.id
        return aliases

    @staticmethod
    def _task_entry(task: TaskView, programme_keys: frozenset[str]) -> _Entry:
        entry = _Entry(task.id)
        title = _keys(task.title)
        # A long title's every word names it less ("Tjek at kommunens it-miljø er klar til
        # idriftsættelse af den fælleskommunale infrastruktur, SAPA, KSD og KY"), as in BM25.
        content = [k for k in title[1:] if k not in STOP_KEYS]
        entry.add(title[1:], TITLE * min(1.0, math.sqrt(_SHORT_TITLE / max(len(content), 1))))
        entry.add(title[:1], VERB)
        for keyword in task.keywords:
            entry.add(_keys(keyword), KEYWORD)
            entry.add_phrase(keyword)
            entry.keyword_keys.update(k for k in _keys(keyword) if k not in STOP_KEYS and k not in _COMMON)
        for signal in task.completion_signals:
            entry.add(_keys(signal), SIGNAL)
            # A signal's own nouns name the task; its verbs ("tjekket", the title's "Tjek") do not.
            entry.keyword_keys.update(
                k for k in _keys(signal) if k not in STOP_KEYS and k not in _COMMON and k not in title
            )
        entry.add(_keys(task.contact.split("@")[0]), CONTACT)
        entry.keyword_keys.update(_keys(task.contact.split("@")[0]))
        entry.add(_keys(" ".join((task.description, task.notes, task.deadline_rule))), TEXT)
        entry.add(_keys(task.programme), PROGRAMME)
        # A programme's name says which programme, not which of its tasks.
        for k in programme_keys:
            entry.weights.pop(k, None)
        return entry

    @staticmethod
    def _programme_entry(programme: ProgrammeView) -> _Entry:
        """A programme is named by the parts of its name ("refusion af ydelser", "bryde
        monopolet") and, less surely, by the words of its note ("implementeringshåndbog")."""
        entry = _Entry(programme.id)
        for word in tokens(programme.name):
            parts = [key(part) for part in _name_parts(fold(word))]
            entry.add(parts, KEYWORD)
            entry.keyword_keys.update(parts)
        entry.add(_keys(programme.note), 0.45)
        return entry

    @staticmethod
    def _event_entry(event: EventView) -> _Entry:
        entry = _Entry(event.id)
        entry.add(_keys(event.title), TITLE)
        entry.add(_keys(" ".join((event.description, event.audience, event.registration_note))), TEXT)
        entry.add(_keys(event.location), TEXT)
        return entry

    def _build_municipalities(self, words: CatalogueWords) -> dict[str, int]:
        found: dict[str, int] = {}
        for m in words.municipalities:
            name = m.name.lower()
            found[fold(name)] = m.code
        return found

    # --- reading a message -----------------------------------------------------------------

    def _lookup(self, word: str) -> tuple[tuple[str, float], ...]:
        """The catalogue keys a word stands for, each with how sure we are."""
        cached = self._term_cache.get(word)
        if cached is not None:
            return cached
        found = self._resolve(word)
        if len(self._term_cache) < 20_000:
            self._term_cache[word] = found
        return found

    def _resolve(self, word: str) -> tuple[tuple[str, float], ...]:
        if word in _STOP_WORDS:
            return ()
        k = key(word)
        if k in STOP_KEYS:
            return ()
        if word in _GLOSSARY_KEYS:
            glossed = tuple((g, 0.9) for g in _GLOSSARY_KEYS[word])
            return ((k, 1.0), *glossed) if k in self._vocabulary else glossed
        if k in self._vocabulary:
            return ((k, 1.0), *self._related(k))
        folded = fold(word)
        if folded in self._surface:
            found = self._surface[folded]
            return ((found, 1.0), *self._related(found))
        related = self._related(k)
        if related:
            return related
        if len(word) < 5:
            return ()
        swapped = self._known(folded)
        if swapped is not None:
            return ((swapped, 0.95),)
        # A typo seldom touches the first letters: "kontakpunkt" is "kontaktpunkt", but
        # "driftsvagt" is not "idriftsat".
        cutoff = 88.0 if len(word) <= 6 else 85.0
        choices = self._fuzzy_by_start.get(folded[:2], ())
        best = process.extractOne(folded, choices, scorer=fuzz.ratio, score_cutoff=cutoff)
        if best is not None:
            return ((self._surface[best[0]], best[1] / 100),)
        return self._split(folded)

    def _related(self, k: str) -> tuple[tuple[str, float], ...]:
        """Other forms of a long word: the stemmer leaves "underskriftberettiget" and
        "underskriftberettigede" apart, but one is the other's beginning."""
        if len(k) < _PREFIX:
            return ()
        found = []
        for other in self._long_keys:
            if other == k:
                continue
            shorter, longer = sorted((len(other), len(k)))
            shared = _shared_start(other, k)
            # most of the longer word: "incident" does not make "incidentkontaktpunkt"
            if shared == shorter and shorter >= max(_PREFIX, 0.7 * longer):
                found.append((other, 0.95))
            # another derivation of one word: "underskriver" and "underskrift"
            elif shared >= max(_PREFIX, 0.8 * shorter, shorter - 2) and longer - shorter <= 2:
                found.append((other, 0.85))
            # the head of a compound: "reglerne" of "fordelingsregler" (weaker: several share it)
            elif len(k) >= 5 and len(other) - len(k) >= 4 and other.endswith(k):
                found.append((other, 0.7))
        return tuple(found)

    def _split(self, word: str) -> tuple[tuple[str, float], ...]:
        """A compound of two catalogue words: "incidentkontaktperson", "skatteaftalen"."""
        best: tuple[tuple[str, float], ...] = ()
        best_known = 0
        for i in range(2, len(word) - 2):
            left, right = word[:i], word[i:]
            if len(right) >= 4 and (right in _STOP_WORDS or key(right) in STOP_KEYS):
                # "administratoropgaven", "incidentkontakten": the task's word and a generic one.
                left_key = self._known(left) or (self._known(left[:-1]) if left.endswith("s") else None)
                if left_key is not None and len(left) > best_known:
                    best_known = len(left)
                    best = ((left_key, 0.9),)
                continue
            right_key = self._known(right)
            if right_key is None:
                continue
            left_key = self._known(left) or (self._known(left[:-1]) if left.endswith(("s", "e")) else None)
            known = len(right) + (len(left) if left_key else 0)
            if left_key is None and len(right) < 5:
                continue
            if known > best_known:
                best_known = known
                parts = [(right_key, 0.9)]
                if left_key is not None:
                    parts.insert(0, (left_key, 0.9))
                best = tuple(parts)
        return best

    def _known(self, part: str) -> str | None:
        """The key of one part of a compound, allowing a swapped pair of letters ("mijlø")."""
        if len(part) < 3:
            return None
        if part in self._surface:
            return self._surface[part]
        if _GLOSSARY_KEYS.get(part):
            return _GLOSSARY_KEYS[part][0]
        k = key(part)
        if k in self._vocabulary and k not in STOP_KEYS:
            return k
        if len(part) >= 5:
            for i in range(1, len(part) - 1):
                swapped = part[:i] + part[i + 1] + part[i] + part[i + 2 :]
                if swapped in self._surface:
                    return self._surface[swapped]
        return None

    def knows(self, word: str) -> bool:
        """Whether the word is one of the catalogue's own (not a typo of something else)."""
        return len(word) >= 4 and (
            key(word) in self._vocabulary or fold(word) in self._surface or word in _GLOSSARY_KEYS
        )

    def names(self, word: str) -> bool:
        """Whether the word names something of the catalogue (a title's word, a keyword, an acronym)."""
        return bool(self._lookup(word)) and word not in _GLOSSARY_KEYS

    def terms(self, words: Sequence[str]) -> list[Term]:
        out: list[Term] = []
        for position, word in enumerate(words):
            for k, confidence in self._lookup(word):
                out.append(Term(k, confidence, position))
        return out

    def mentions(self, words: Sequence[str], original: str = "") -> Mentions:
        """What the message's words name. `original` is the text as typed (for capitals)."""
        terms = self.terms(words)
        programme_terms = {t.key for t in terms if t.key in self._programme_aliases}
        programmes = tuple(dict.fromkeys(self._programme_aliases[k] for k in programme_terms))
        programmes += tuple(
            dict.fromkeys(
                self._programme_aliases[fold(w)]
                for w in words
                if fold(w) in self._programme_aliases and self._programme_aliases[fold(w)] not in programmes
            )
        )
        scoring = [t for t in terms if t.key not in programme_terms and t.key not in self._municipality_keys]
        unknown = tuple(w for w in words if not self._lookup(w) and w not in _STOP_WORDS and len(w) > 2)
        sequence = [key(w) for w in words]
        if not programmes:
            raw = [Term(key(w), 1.0, i) for i, w in enumerate(words) if len(w) >= 6]
            ranked = _rank(
                self._programme_entries,
                self._programme_idf,
                self._programme_postings,
                self._programme_terms(scoring, raw),
            )
            if (
                ranked
                and ranked[0].score >= PROGRAMME_NAMED
                and (len(ranked) == 1 or ranked[1].score < CLOSE * ranked[0].score)
            ):
                programmes = (ranked[0].id,)
        return Mentions(
            terms=tuple(terms),
            tasks=_rank(self._task_entries, self._task_idf, self._task_postings, scoring, sequence),
            events=_rank(self._event_entries, self._event_idf, self._event_postings, scoring, sequence),
            programmes=programmes,
            municipalities=self._find_municipalities(words, original),
            unknown=unknown,
        )

    def _programme_terms(self, terms: Sequence[Term], raw: Sequence[Term]) -> list[Term]:
        """The terms, and for a word that begins a programme's name ("monopolet" of
        "monopolbrud") that name's part too."""
        out = list(terms)
        names = self._programme_name_keys
        for term in raw:
            if len(term.key) >= 6:
                out.extend(
                    Term(k, 0.9 * term.confidence, term.position)
                    for k in names
                    if k != term.key and k.startswith(term.key)
                )
        return out

    def _find_municipalities(self, words: Sequence[str], original: str) -> tuple[int, ...]:
        found: list[int] = []
        capitalised: set[str] | None = None
        for i, word in enumerate(words):
            for candidate in (word, f"{word}-{words[i + 1]}" if i + 1 < len(words) else ""):
                code = self._municipalities.get(fold(candidate)) if candidate else None
                if code is None:
                    continue
                if candidate in _COMMON_WORD_NAMES:
                    if capitalised is None:
                        capitalised = {w.lower() for w in re.findall(r"\b[A-ZÆØÅ][\w-]*", original)}
                    if candidate not in capitalised:
                        continue
                if code not in found:
                    found.append(code)
        return tuple(found)

    def task_score(self, task_id: str, words: Sequence[str]) -> float:
        """How well the words name one task (for a choice among candidates)."""
        entry = next((e for e in self._task_entries if e.id == task_id), None)
        if entry is None:
            return 0.0
        return _score(entry, self._task_idf, self.terms(words), _grams([key(w) for w in words]))

    def sets_apart(self, task_id: str, other_id: str, words: Sequence[str]) -> bool:
        """Whether the words name the task by a keyword the other task does not have too:
        "SAPA, KSD og KY" are keywords of one task and in the other's description."""
        entries = {e.id: e for e in self._task_entries if e.id in (task_id, other_id)}
        if len(entries) < 2:
            return True
        said = {t.key for t in self.terms(words)}
        return bool((said & entries[task_id].keyword_keys) - set(entries[other_id].weights))

    def signal_match(self, task_id: str, words: Sequence[str], *, beyond_title: bool = False) -> float:
        """The share of the best completion signal's words that the message has (0..1).
        With `beyond_title`, a signal counts only if the message says one of its words that is
        not in the task's title."""
        signals = self._signals.get(task_id)
        if not signals:
            return 0.0
        said = {t.key for t in self.terms(words)}
        title = self._title_keys[task_id]
        best = 0.0
        for wanted in signals:
            if beyond_title and not (wanted & said) - title:
                continue
            best = max(best, len(wanted & said) / len(wanted))
        return best


def _shared_start(a: str, b: str) -> int:
    """How many letters the two words begin with alike."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _name_parts(word: str) -> list[str]:
    """A long name and its parts at a linking s: "ydelsesrefusion" is also "ydelse" and
    "refusion"; "monopolbrudsprogrammet" is "monopolbrud" (and "programmet", which says nothing)."""
    parts = [word]
    if len(word) >= 10:
        for i in range(6, len(word) - 4):
            if word[i - 1] == "s" and word[i] not in "aeiouyæøå":
                parts.extend((word[: i - 1], word[i:]))
    return [p for p in parts if len(p) >= 5 and not _PROGRAMME_SUFFIX_RE.fullmatch(p)]


def _idf(entries: Sequence[_Entry]) -> dict[str, float]:
    """Inverse document frequency, where a word in a description counts as a part of a
    document: "fordelingsregler" names its task even if another task's description mentions it."""
    df: dict[str, float] = {}
    for entry in entries:
        for k, weight in entry.weights.items():
            # Only a mention in running text counts as a part; an everyday word of a title
            # ("klar") is as frequent as any title word.
            df[k] = df.get(k, 0.0) + (weight if weight <= TEXT else 1.0)
    n = max(len(entries), 1)
    return {k: math.log(1 + n / max(count, 0.1)) for k, count in df.items()}


def _score(
    entry: _Entry, idf: dict[str, float], terms: Sequence[Term], grams: frozenset[tuple[str, ...]]
) -> float:
    best: dict[str, float] = {}
    for term in terms:
        weight = entry.weights.get(term.key)
        if weight is None:
            continue
        value = term.confidence * weight * idf.get(term.key, 0.0)
        if value > best.get(term.key, 0.0):
            best[term.key] = value
    # Short acronyms often come as a list ("SAPA, KSD og KY"): together they count as one.
    short = [v for k, v in best.items() if len(k) <= 4]
    total = sum(v for k, v in best.items() if len(k) > 4) + (max(short) if short else 0.0)
    for phrase in entry.phrases:
        if phrase in grams:
            total += PHRASE_BONUS
    # One word made of two of the task's own names ("incidentkontaktpunktet") is as sure as a phrase.
    by_position: dict[int, set[str]] = {}
    for term in terms:
        if term.key in entry.keyword_keys:
            by_position.setdefault(term.position, set()).add(term.key)
    if any(len(keys) >= 2 for keys in by_position.values()):
        total += PHRASE_BONUS
    return total


def _grams(sequence: Sequence[str]) -> frozenset[tuple[str, ...]]:
    """The message's runs of two to four keys, to find keyword phrases in."""
    return frozenset(tuple(sequence[i : i + n]) for n in (2, 3, 4) for i in range(len(sequence) - n + 1))


def _postings(entries: Sequence[_Entry]) -> dict[str, tuple[int, ...]]:
    """For each key, the entries that have it (as a weighted word or in a phrase): a message
    is scored only against the entries that share a word with it."""
    found: dict[str, list[int]] = {}
    for i, entry in enumerate(entries):
        for k in {*entry.weights, *(k for phrase in entry.phrases for k in phrase)}:
            found.setdefault(k, []).append(i)
    return {k: tuple(v) for k, v in found.items()}


def _rank(
    entries: Sequence[_Entry],
    idf: dict[str, float],
    postings: dict[str, tuple[int, ...]],
    terms: Sequence[Term],
    sequence: Sequence[str] = (),
) -> tuple[Match, ...]:
    if not terms:
        return ()
    said = {t.key for t in terms}
    grams = _grams(sequence)
    sharing = sorted({i for k in said.union(sequence) for i in postings.get(k, ())})
    scored = [
        Match(
            e.id,
            _score(e, idf, terms, grams),
            bool(said & e.keyword_keys) or any(p in grams for p in e.phrases),
        )
        for e in (entries[i] for i in sharing)
    ]
    return tuple(sorted((m for m in scored if m.score >= MAYBE / 2), key=lambda m: -m.score))
