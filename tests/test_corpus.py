"""The understanding corpus (tests/corpus/README.md) holds the understanding to its targets:
97% on the development part and 95% on the held-out part, for questions and for status reports
separately, and never a status report about the wrong task.

The held-out part's misses are never shown (it is not read while tuning); only its figures are.
bench/understanding.py prints the same figures per kind, with the timing.
"""

from __future__ import annotations

import pytest

from bench.corpus import PARTS, load_questions, load_reports
from bench.understanding import QUESTION_TARGET, REPORT_TARGET, evaluate
from dialogs.lexicon import Lexicon
from storage.demo import demo_catalogue_words, demo_clock

LEXICON = Lexicon(demo_catalogue_words())


def test_the_labels_are_valid() -> None:
    errors: list[str] = []
    for part in PARTS:
        load_questions(part, errors)
        load_reports(part, errors)
    assert errors == []


def test_the_corpus_is_large_mostly_danish_and_holds_a_third_out() -> None:
    questions = {part: load_questions(part) for part in PARTS}
    reports = {part: load_reports(part) for part in PARTS}
    assert sum(len(q) for q in questions.values()) >= 400
    assert sum(len(r) for r in reports.values()) >= 150
    everything = [*(x for q in questions.values() for x in q), *(x for r in reports.values() for x in r)]
    assert sum(1 for x in everything if x.lang == "da") / len(everything) >= 0.75
    held_out = len(questions["heldout"]) + len(reports["heldout"])
    assert held_out / len(everything) >= 0.30
    assert len(questions["heldout"]) / sum(len(q) for q in questions.values()) >= 0.25
    assert len(reports["heldout"]) / sum(len(r) for r in reports.values()) >= 0.25
    # Every kind of report is there, in both languages.
    kinds = {(r.kind, r.lang) for part in PARTS for r in reports[part]}
    for kind in ("outcome", "progress", "going_back", "explicit", "not_a_report"):
        assert {(kind, "da"), (kind, "en")} <= kinds


@pytest.mark.parametrize("part", PARTS)
def test_understanding_meets_its_targets(part: str) -> None:
    result = evaluate(part, LEXICON, demo_clock())
    figures = (
        f"{part}: questions {result['question_accuracy']:.1%}, reports {result['report_accuracy']:.1%},"
        f" wrong task {result['wrong_task']}"
    )
    misses = result["_failures"] if part == "dev" else "(held out: not shown)"
    assert result["question_accuracy"] >= QUESTION_TARGET[part], (figures, misses)  # type: ignore[operator]
    assert result["report_accuracy"] >= REPORT_TARGET[part], (figures, misses)  # type: ignore[operator]
    # No status report may ever go to the wrong task, in either part.
    assert result["wrong_task"] == 0, (figures, misses)
