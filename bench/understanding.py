"""How well the bot understands programme leaders: accuracy on the corpus (tests/corpus/), per part
and per kind, and how long understanding one message takes.

    .venv/bin/python -m bench.understanding               # figures for both parts
    .venv/bin/python -m bench.understanding --failures    # also every miss of the dev part
    .venv/bin/python -m bench.understanding --json out.json

Questions count as understood when the intent and every field the label gives (facet, task,
event, kind, programme, period) come out right. Status reports count when the status and the task
come out right ("?": the bot must ask which task, not choose one); a `not_a_report` counts when
no status comes out, or the status the task already has (the bot then changes nothing and says
so: "nej ikke endnu" about a task not started). "Wrong task" counts reports that came out about another task than the one
meant, or about a task when the message did not say which: it must stay 0.

The held-out part's misses are never printed: it is not read while tuning (tests/corpus/README.md).
Timing: every message understood once to warm the caches, then the median of 5 rounds of each
message's time, p50 and p99 over the messages.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from bench.corpus import ASK, PARTS, Question, Report, load_questions, load_reports
from dialogs.lexicon import Lexicon
from dialogs.understanding import Understanding, understand
from storage.demo import demo_catalogue_words, demo_clock, load_demo_yaml, spread_statuses
from storage.domain import COPENHAGEN, Period, TaskStatus

VEJLE = 630
QUESTION_TARGET = {"dev": 0.97, "heldout": 0.95}
REPORT_TARGET = QUESTION_TARGET


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: str
    correct: bool
    why: str  # what was wrong ("" when right)
    wrong_task: bool = False
    false_report: bool = False


def _days(period: Period | None) -> tuple[date | None, date | None] | None:
    if period is None:
        return None
    first = period.start.astimezone(COPENHAGEN).date() if period.start else None
    last = (period.end - timedelta(microseconds=1)).astimezone(COPENHAGEN).date() if period.end else None
    return first, last


def check_question(q: Question, got: Understanding) -> Outcome:
    problems = []
    if got.intent.value != q.intent:
        problems.append(f"intent {got.intent.value} (want {q.intent})")
    if got.language != q.lang:
        problems.append(f"language {got.language}")
    if "facet" in q.given and (got.facet.value if got.facet else None) != q.facet:
        problems.append(f"facet {got.facet} (want {q.facet})")
    if "task" in q.given and got.task != q.task:
        problems.append(f"task {got.task} (want {q.task})")
    if "event" in q.given and got.event != q.event:
        problems.append(f"event {got.event} (want {q.event})")
    if "kind" in q.given and got.event_kind != q.kind:
        problems.append(f"kind {got.event_kind} (want {q.kind})")
    if "programme" in q.given and got.programme != q.programme:
        problems.append(f"programme {got.programme} (want {q.programme})")
    if "period" in q.given and _days(got.period) != q.period:
        problems.append(f"period {_days(got.period)} (want {q.period})")
    kind = q.intent if q.intent not in ("task", "event") else f"{q.intent}:{q.facet}"
    return Outcome(kind, not problems, "; ".join(problems))


def vejle_statuses() -> dict[str, str]:
    """Vejle's status on each task of the demo, as `klikbot serve --demo` spreads KLIK's counts."""
    demo = load_demo_yaml()
    codes = [int(m["code"]) for m in demo["municipalities"]]
    out = {}
    for task in demo["tasks"]:
        if "counts" in task:
            counts = {TaskStatus(k): int(v) for k, v in task["counts"].items()}
            out[task["id"]] = spread_statuses(task["id"], codes, counts)[VEJLE].value
    return out


_CURRENT = vejle_statuses()


def check_report(r: Report, got: Understanding) -> Outcome:
    report = got.report
    if r.kind == "not_a_report":
        if report is None:
            return Outcome(r.kind, True, "")
        if report.task is not None and _CURRENT.get(report.task) == report.status.value:
            return Outcome(r.kind, True, "")  # the status it already has: nothing changes
        return Outcome(r.kind, False, f"reported {report.status.value} on {report.task}", false_report=True)
    if report is None:
        return Outcome(r.kind, False, f"no report (intent {got.intent.value})")
    problems = []
    if report.status.value != r.status:
        problems.append(f"status {report.status.value} (want {r.status})")
    wrong_task = False
    if r.task == ASK:
        if report.task is not None:
            problems.append(f"chose {report.task} (should ask)")
            wrong_task = True
    elif report.task != r.task:
        problems.append(f"task {report.task} (want {r.task})")
        wrong_task = report.task is not None
    return Outcome(r.kind, not problems, "; ".join(problems), wrong_task=wrong_task)


def _understand(text: str, lexicon: Lexicon, now: datetime, locale: str | None, context: str | None) -> Understanding:
    return understand(text, now, locale, lexicon=lexicon, context=context, municipality=VEJLE)


def _timings(texts: list[tuple[str, str | None, str | None]], lexicon: Lexicon, now: datetime) -> list[float]:
    for text, locale, context in texts:
        _understand(text, lexicon, now, locale, context)
    per_message = []
    for text, locale, context in texts:
        rounds = []
        for _ in range(5):
            start = time.perf_counter()
            _understand(text, lexicon, now, locale, context)
            rounds.append(time.perf_counter() - start)
        per_message.append(statistics.median(rounds) * 1000)
    return sorted(per_message)


def _share(outcomes: list[Outcome]) -> float:
    return sum(o.correct for o in outcomes) / len(outcomes) if outcomes else 0.0


def evaluate(part: str, lexicon: Lexicon, now: datetime) -> dict[str, object]:
    questions = load_questions(part)
    reports = load_reports(part)
    q_out = [
        (q, check_question(q, _understand(q.text, lexicon, now, q.locale, None))) for q in questions
    ]
    r_out = [
        (r, check_report(r, _understand(r.text, lexicon, now, r.locale, r.context))) for r in reports
    ]
    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for _, o in q_out:
        by_kind[f"question {o.kind}"].append(o)
    for _, o in r_out:
        by_kind[f"report {o.kind}"].append(o)
    return {
        "part": part,
        "questions": len(q_out),
        "questions_right": sum(o.correct for _, o in q_out),
        "question_accuracy": _share([o for _, o in q_out]),
        "reports": len(r_out),
        "reports_right": sum(o.correct for _, o in r_out),
        "report_accuracy": _share([o for _, o in r_out]),
        "wrong_task": sum(o.wrong_task for _, o in r_out),
        "false_reports": sum(o.false_report for _, o in r_out),
        "by_kind": {k: {"n": len(v), "accuracy": _share(v)} for k, v in sorted(by_kind.items())},
        "_failures": [(x.text, o.why) for x, o in [*q_out, *r_out] if not o.correct],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failures", action="store_true", help="print every miss of the dev part")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    now = demo_clock()
    start = time.perf_counter()
    lexicon = Lexicon(demo_catalogue_words())
    build_ms = (time.perf_counter() - start) * 1000
    results = [evaluate(part, lexicon, now) for part in PARTS]
    texts = [(q.text, q.locale, None) for part in PARTS for q in load_questions(part)]
    texts += [(r.text, r.locale, r.context) for part in PARTS for r in load_reports(part)]
    timings = _timings(texts, lexicon, now)
    p50 = timings[len(timings) // 2]
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]

    ok = True
    for result in results:
        part = str(result["part"])
        qa, ra = float(result["question_accuracy"]), float(result["report_accuracy"])  # type: ignore[arg-type]
        print(
            f"{part:8} questions {result['questions_right']}/{result['questions']} = {qa:.1%}"
            f" (target {QUESTION_TARGET[part]:.0%})   reports {result['reports_right']}/{result['reports']}"
            f" = {ra:.1%} (target {REPORT_TARGET[part]:.0%})   wrong task {result['wrong_task']}"
            f"   false reports {result['false_reports']}"
        )
        for kind, figures in result["by_kind"].items():  # type: ignore[attr-defined]
            print(f"    {kind:34} {figures['accuracy']:6.1%}  of {figures['n']}")
        ok = ok and qa >= QUESTION_TARGET[part] and ra >= REPORT_TARGET[part] and result["wrong_task"] == 0
        if args.failures and part == "dev":
            for text, why in result["_failures"]:  # type: ignore[attr-defined]
                print(f"      MISS {text!r}: {why}")
    print(
        f"understanding one message: p50 {p50:.3f} ms, p99 {p99:.3f} ms over {len(timings)} messages"
        f" (target p99 < 2 ms); vocabulary built in {build_ms:.1f} ms"
    )
    ok = ok and p99 < 2.0
    if args.json:
        public = [{k: v for k, v in r.items() if not k.startswith("_")} for r in results]
        args.json.write_text(
            json.dumps({"parts": public, "p50_ms": p50, "p99_ms": p99}, indent=2), encoding="utf-8"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
