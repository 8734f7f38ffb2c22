"""The understanding corpus (tests/corpus/README.md): load and check its files.

    .venv/bin/python -m bench.corpus          # check every file's labels; print the counts

Checking reads the labels only (ids, fields, values); it never runs the bot, so it may be run
on the held-out part too.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from storage.demo import load_demo_yaml

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus"
PARTS = ("dev", "heldout")

QUESTION_INTENTS = frozenset(
    {
        "outstanding",
        "due",
        "task",
        "events",
        "event",
        "programme",
        "counts",
        "incidents",
        "help",
        "greeting",
        "unknown",
    }
)
TASK_FACETS = frozenset(
    {
        "description",
        "status",
        "deadline",
        "contact",
        "mandatory",
        "critical_path",
        "scope",
        "consequence",
        "follow_up",
        "responsible",
    }
)
EVENT_FACETS = frozenset({"dates", "place", "registration", "invitation", "audience", "description"})
EVENT_KINDS = frozenset(
    {"programledermoede", "workshop", "leverandoerdag", "masterclass", "kursus", "kommunedage", "webinar", "konference"}
)
REPORT_KINDS = frozenset({"outcome", "progress", "going_back", "explicit", "not_a_report"})
STATUSES = frozenset({"fuldfoert", "paabegyndt", "ikke_paabegyndt", "ikke_aktiv"})
ASK = "?"

_QUESTION_FIELDS = frozenset(
    {"text", "lang", "intent", "facet", "task", "event", "kind", "programme", "period", "locale", "note"}
)
_REPORT_FIELDS = frozenset({"text", "lang", "kind", "status", "task", "context", "locale", "note"})


@dataclass(frozen=True, slots=True)
class Question:
    part: str
    text: str
    lang: str
    intent: str
    facet: str | None = None
    task: str | None = None
    event: str | None = None
    kind: str | None = None
    programme: str | None = None
    period: tuple[date | None, date | None] | None = None
    locale: str | None = None
    # Which of the optional fields the label gives (an absent field is not checked).
    given: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Report:
    part: str
    text: str
    lang: str
    kind: str
    status: str | None
    task: str | None  # "?" = the bot must ask which task
    context: str | None = None
    locale: str | None = None


class CorpusError(ValueError):
    pass


def _ids() -> dict[str, frozenset[str]]:
    demo = load_demo_yaml()
    return {
        "task": frozenset(t["id"] for t in demo["tasks"]),
        "event": frozenset(e["id"] for e in demo["events"]),
        "programme": frozenset(p["id"] for p in demo["programmes"]),
    }


def _day(value: Any, where: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as error:
        raise CorpusError(f"{where}: period: {value!r} is not a date") from error


def _check(condition: bool, where: str, problem: str, errors: list[str]) -> None:
    if not condition:
        errors.append(f"{where}: {problem}")


def _load(folder: Path, stem: str) -> list[tuple[str, dict[str, Any]]]:
    """The items of every `<stem>*.yaml` in the folder, each with the file's name."""
    items = []
    for path in sorted(folder.glob(f"{stem}*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise CorpusError(f"{path}: must be a list of mappings")
        items.extend((path.name, item) for item in data)
    return items


def load_questions(part: str, errors: list[str] | None = None) -> list[Question]:
    errors = [] if errors is None else errors
    ids = _ids()
    out = []
    for n, (name, item) in enumerate(_load(CORPUS / part, "questions")):
        where = f"{part}/{name} #{n} {str(item.get('text'))[:40]!r}"
        unknown = set(item) - _QUESTION_FIELDS
        _check(not unknown, where, f"unknown fields {sorted(unknown)}", errors)
        text, lang, intent = item.get("text"), item.get("lang"), item.get("intent")
        _check(isinstance(text, str) and bool(text.strip()), where, "text is missing", errors)
        _check(lang in ("da", "en"), where, f"lang {lang!r} is not da or en", errors)
        _check(intent in QUESTION_INTENTS, where, f"intent {intent!r} is unknown", errors)
        facet = item.get("facet")
        if intent == "task":
            _check(facet in TASK_FACETS, where, f"a task question needs a task facet, not {facet!r}", errors)
            _check(item.get("task") in ids["task"], where, f"task {item.get('task')!r} is unknown", errors)
        elif intent == "event":
            _check(facet in EVENT_FACETS, where, f"an event question needs an event facet, not {facet!r}", errors)
            _check(item.get("event") in ids["event"], where, f"event {item.get('event')!r} is unknown", errors)
        else:
            _check(facet is None, where, f"facet {facet!r} belongs to task and event questions", errors)
        if "task" in item and intent != "task":
            _check(item["task"] in ids["task"], where, f"task {item['task']!r} is unknown", errors)
        if "event" in item and intent != "event":
            _check(item["event"] in ids["event"], where, f"event {item['event']!r} is unknown", errors)
        if "programme" in item:
            _check(item["programme"] in ids["programme"], where, f"programme {item['programme']!r} is unknown", errors)
        if intent == "programme":
            _check("programme" in item, where, "a programme question needs its programme", errors)
        if "kind" in item:
            _check(item["kind"] in EVENT_KINDS, where, f"kind {item['kind']!r} is unknown", errors)
        period = None
        if "period" in item:
            raw = item["period"]
            if isinstance(raw, list) and len(raw) == 2:
                try:
                    period = (_day(raw[0], where), _day(raw[1], where))
                except CorpusError as error:
                    errors.append(str(error))
            else:
                errors.append(f"{where}: period must be [from, to]")
        out.append(
            Question(
                part=part,
                text=str(text),
                lang=str(lang),
                intent=str(intent),
                facet=facet,
                task=item.get("task"),
                event=item.get("event"),
                kind=item.get("kind"),
                programme=item.get("programme"),
                period=period,
                locale=item.get("locale"),
                given=frozenset(k for k in ("facet", "task", "event", "kind", "programme", "period") if k in item),
            )
        )
    return out


def load_reports(part: str, errors: list[str] | None = None) -> list[Report]:
    errors = [] if errors is None else errors
    ids = _ids()
    out = []
    for n, (name, item) in enumerate(_load(CORPUS / part, "reports")):
        where = f"{part}/{name} #{n} {str(item.get('text'))[:40]!r}"
        unknown = set(item) - _REPORT_FIELDS
        _check(not unknown, where, f"unknown fields {sorted(unknown)}", errors)
        text, lang, kind = item.get("text"), item.get("lang"), item.get("kind")
        status, task, context = item.get("status"), item.get("task"), item.get("context")
        _check(isinstance(text, str) and bool(text.strip()), where, "text is missing", errors)
        _check(lang in ("da", "en"), where, f"lang {lang!r} is not da or en", errors)
        _check(kind in REPORT_KINDS, where, f"kind {kind!r} is unknown", errors)
        _check("status" in item and "task" in item, where, "status and task are required", errors)
        if kind == "not_a_report":
            _check(status is None and task is None, where, "a non-report has status null and task null", errors)
        else:
            _check(status in STATUSES, where, f"status {status!r} is unknown", errors)
            _check(task == ASK or task in ids["task"], where, f"task {task!r} is unknown", errors)
        if context is not None:
            _check(context in ids["task"], where, f"context {context!r} is unknown", errors)
        out.append(
            Report(part, str(text), str(lang), str(kind), status, task, context, item.get("locale"))
        )
    return out


def main() -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    errors: list[str] = []
    for part in PARTS:
        questions = load_questions(part, errors)
        reports = load_reports(part, errors)
        danish = sum(1 for q in questions if q.lang == "da") + sum(1 for r in reports if r.lang == "da")
        total = len(questions) + len(reports)
        share = danish / total if total else 0.0
        print(f"{part}: {len(questions)} questions, {len(reports)} reports, {share:.0%} Danish")
    for error in errors:
        print(error, file=sys.stderr)
    if errors:
        print(f"{len(errors)} problems", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
