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


def score(query: str, title: str, keywords: Iterable[str] = ()) -> float:
    """How well `query` names something with this title and these keywords (0-100)."""
    q = default_process(query)
    if not q:
        return 0.0
    best = float(fuzz.WRatio(q, default_process(title)))
    for keyword in keywords:
        k = default_process(keyword)
        if not k:
            continue
        # A keyword typed whole ("kontaktpunkt") or nearly ("kontaktpunk") names the task.
        best = max(best, float(fuzz.ratio(q, k)), float(fuzz.partial_ratio(k, q)) if len(k) >= 5 else 0.0)
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
