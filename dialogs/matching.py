"""Loose matching of what the user typed against task titles and event titles."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

T = TypeVar("T")

# A match this good is taken without asking; between ASK and SURE the user chooses.
SURE = 86.0
ASK = 68.0
# A second candidate this close to the best makes the choice ambiguous.
MARGIN = 8.0


def _coverage(query_words: list[str], words: set[str]) -> float:
    """The share of the query's words found among the title's and keywords' words (a typo or a
    prefix counts: "kontaktpunk", "underskrift")."""
    if not query_words:
        return 0.0
    found = 0
    for q in query_words:
        if q in words or any(
            (len(q) >= 4 and w.startswith(q)) or (len(q) >= 4 and fuzz.ratio(q, w) >= 85) for w in words
        ):
            found += 1
    return found / len(query_words)


def score(query: str, title: str, keywords: Iterable[str] = ()) -> float:
    """How well `query` names something with this title and these keywords (0-100).

    A keyword typed whole ("kontaktpunkt") names the task; otherwise the fuzzy similarity to the
    title or a keyword counts in proportion to how many of the query's words the task has, so
    "udpeg kontaktpunkt" prefers the task that has both words over one that has only "udpeg".
    """
    q = default_process(query)
    if not q:
        return 0.0
    t = default_process(title)
    processed = [k for k in (default_process(k) for k in keywords) if k]
    words = set(t.split()).union(*(k.split() for k in processed))
    weight = 0.6 + 0.4 * _coverage(q.split(), words)
    similarity = float(fuzz.WRatio(q, t))
    if len(q) >= 4:
        # A whole word of the title ("udpeg") names it, though less surely than a keyword does.
        similarity = max(similarity, 0.9 * float(fuzz.token_set_ratio(q, t)))
    best = similarity * weight
    for k in processed:
        if len(k) >= 5:
            # A keyword inside a longer query: "kontaktpunkt" in "kontaktpunkt til incidents".
            best = max(best, float(fuzz.partial_ratio(k, q)) * weight)
        best = max(best, float(fuzz.ratio(q, k)))
    return best


def rank(
    query: str, items: Sequence[T], title: Callable[[T], str], keywords: Callable[[T], Iterable[str]]
) -> list[tuple[T, float]]:
    scored = [(item, score(query, title(item), keywords(item))) for item in items]
    return sorted((pair for pair in scored if pair[1] >= ASK), key=lambda pair: -pair[1])


def decide(ranked: Sequence[tuple[T, float]]) -> tuple[T | None, list[T]]:
    """(the one meant, or None) and the candidates to offer when it is not clear."""
    if not ranked:
        return None, []
    best, best_score = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if best_score >= SURE and best_score - runner_up >= MARGIN:
        return best, []
    if len(ranked) == 1:
        return best, []
    return None, [item for item, s in ranked if best_score - s < 2 * MARGIN][:5]
