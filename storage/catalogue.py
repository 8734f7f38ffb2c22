"""The catalogue format (docs/catalogue.md, data/catalogue.schema.json): read and validate.

A catalogue file is YAML (or JSON, which is YAML too) with these top-level sections, each
optional: `programmes`, `tasks`, `events`, `municipalities`, `tenants`. Everything is checked
before anything is written: `parse_catalogue` returns typed, frozen dataclasses or raises
`CatalogueError` with every problem found, each naming the entry and the field
("tasks[3] (id mbp-x): deadline: '31/13' is not a date (YYYY-MM-DD)").

Reading is safe against hostile files: the size is capped before parsing, the text must be
UTF-8, YAML is loaded with the safe loader and aliases (the "billion laughs" expansion) are
refused, nesting is capped, scalars follow the YAML 1.2 core schema (no YAML 1.1 sexagesimal
numbers, whose conversion is quadratic), and a server reads in a worker thread with a time limit
(`in_worker`), so a file never holds up its event loop.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time
from time import monotonic
from typing import Any, TypeVar

import yaml

from storage.domain import COPENHAGEN, TaskState, TaskStatus

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 32
MAX_ERRORS = 50  # an error report longer than this says how many more there were
FORMAT = "klikbot-catalogue/1"
# How long reading a file may take (parsing and checking, before the database): an operator
# API body (at most 1 MiB, about 1 s) and a file given to `klikbot import` (at most 10 MB).
PARSE_SECONDS = 10.0
FILE_PARSE_SECONDS = 120.0

# Matched whole (fullmatch): "a\n" is not an id.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DANISH_STATES = {"kommende": "announced", "aktuel": "active", "aktiv": "active", "afsluttet": "closed"}

# Keys the demo dataset (storage/data/demo.yaml) carries beyond the format; an import ignores them.
DEMO_TOP_LEVEL = frozenset({"clock", "incidents"})
TOP_LEVEL = (
    frozenset({"format", "programmes", "tasks", "events", "municipalities", "tenants"}) | DEMO_TOP_LEVEL
)


T = TypeVar("T")


class CatalogueError(ValueError):
    """The catalogue cannot be imported; `errors` lists every problem, each naming where it is."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        shown = errors[:MAX_ERRORS]
        more = len(errors) - len(shown)
        text = "\n".join(shown) + (f"\n... and {more} more" if more > 0 else "")
        super().__init__(text)


@dataclass(frozen=True, slots=True)
class ProgrammeSpec:
    id: str
    name: str
    short_name: str
    note: str


@dataclass(frozen=True, slots=True)
class TaskSpec:
    id: str
    title: str
    programme: str
    state: TaskState
    description: str
    mandatory: bool
    critical_path: bool
    deadline: date | None
    deadline_rule: str
    contact: str
    notes: str
    keywords: tuple[str, ...]
    # What a municipality says when it has done the task ("skemaet er sendt til KDI"): a report
    # in these words completes this task (dialogs/reports.py).
    completion_signals: tuple[str, ...]
    where: str  # "tasks[3] (id mbp-x)": for errors found later, against the database


@dataclass(frozen=True, slots=True)
class SlotSpec:
    starts_at: datetime
    ends_at: datetime
    all_day: bool
    location: str
    sold_out: bool
    registration_url: str


@dataclass(frozen=True, slots=True)
class EventSpec:
    id: str
    title: str
    kind: str
    description: str
    audience: str
    location: str
    online: bool
    registration_url: str
    registration_note: str
    registration_deadline: date | None
    cancelled: bool
    slots: tuple[SlotSpec, ...]


@dataclass(frozen=True, slots=True)
class MunicipalitySpec:
    code: int
    name: str


@dataclass(frozen=True, slots=True)
class TenantSpec:
    tenant_id: str
    municipality_code: int
    where: str


@dataclass(frozen=True, slots=True)
class Catalogue:
    """A validated catalogue. A section that is None was not in the file: an import leaves
    that part of the database alone (an empty list closes every task or cancels every event)."""

    programmes: tuple[ProgrammeSpec, ...] | None = None
    tasks: tuple[TaskSpec, ...] | None = None
    events: tuple[EventSpec, ...] | None = None
    municipalities: tuple[MunicipalitySpec, ...] | None = None
    tenants: tuple[TenantSpec, ...] | None = None


# ---------------------------------------------------------------------------------------------
# Reading bytes into plain data, safely
#
# YAML is read in one pass over the parser's events (libyaml's where it is installed) straight
# into plain data: no node tree, no PyYAML constructor. Aliases (`*name`) are refused, nesting is
# capped, and scalars follow the YAML 1.2 core schema, plus dates (the catalogue's deadlines):
# null, true/false, decimal, 0o octal and 0x hex integers, floats, and YYYY-MM-DD[THH:MM:SS]
# timestamps. YAML 1.1's other forms are plain text: sexagesimal numbers (`1:1:1`, which PyYAML's
# own loader turns into an integer in time quadratic in their length: a 300 KB value took
# seconds), `yes`/`no`/`on`/`off`, leading-zero octals (`0630`), `_` in numbers, `0b` binaries,
# `<<` merge keys and `=`. Explicit tags other than the core ones (`!!binary`, `!!set`,
# `!!python/...`) are refused.

_INT_RE = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT_RE = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)
_BOOL_RE = re.compile(r"true|True|TRUE|false|False|FALSE")
_NULL_RE = re.compile(r"~|null|Null|NULL|")
_TIMESTAMP_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?"
    r"(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?"
)
_TAG = "tag:yaml.org,2002:"
_NUMERIC_START = frozenset("-+.0123456789")
_WORD_START = frozenset("tTfFnN~")
_TIMESTAMPS = yaml.constructor.SafeConstructor()  # for its construct_yaml_timestamp
_C_LOADER: Any = getattr(getattr(yaml, "cyaml", None), "CParser", None)  # libyaml's parser, if any


class ParseTimeout(CatalogueError):
    """Reading the file took longer than its time limit; nothing was changed."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        super().__init__(
            [
                f"reading the file took longer than the limit of {limit:g} seconds: it is too large "
                "or too complex; nothing was changed (split it into smaller files)"
            ]
        )


class Budget:
    """The time a parse may take. Reading checks it at every YAML collection and item and every
    catalogue entry, so a parse in a worker thread stops by itself soon after its caller has
    given up on it."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.deadline = monotonic() + limit
        self.cancelled = False

    def check(self) -> None:
        if self.cancelled or monotonic() > self.deadline:
            raise ParseTimeout(self.limit)


class _Unreadable(Exception):
    """A YAML value the catalogue does not take; the message says why (the reader adds where)."""


def _plain(value: str) -> Any:
    """An untagged, unquoted scalar: YAML 1.2 core's null, bool, int, float, or a date."""
    if not value:
        return None
    first = value[0]
    if first in _NUMERIC_START:
        if _INT_RE.fullmatch(value):
            return _tagged("int", value)
        if _FLOAT_RE.fullmatch(value):
            return _tagged("float", value)
        if _TIMESTAMP_RE.fullmatch(value):
            return _tagged("timestamp", value)
    if first in _WORD_START:
        if _BOOL_RE.fullmatch(value):
            return value.lower() == "true"
        if _NULL_RE.fullmatch(value):
            return None
    return value


def _tagged(kind: str, value: str) -> Any:
    """A scalar of a core type (`kind`: the tag without tag:yaml.org,2002:)."""
    if kind == "str":
        return value
    if kind == "null":
        return None
    if kind == "bool":
        if not _BOOL_RE.fullmatch(value):
            raise _Unreadable(f"{_show(value)} is not true or false")
        return value.lower() == "true"
    if kind == "int":
        if not _INT_RE.fullmatch(value):
            raise _Unreadable(f"{_show(value)} is not an integer")
        if len(value) > 100:
            raise _Unreadable("the number has more than 100 digits")
        if value.startswith(("0o", "0x")):
            return int(value[2:], 8 if value[1] == "o" else 16)
        return int(value, 10)
    if kind == "float":
        if not _FLOAT_RE.fullmatch(value):
            raise _Unreadable(f"{_show(value)} is not a number")
        return float(value.lower().replace(".inf", "inf").replace(".nan", "nan"))
    if kind == "timestamp":
        if not _TIMESTAMP_RE.fullmatch(value):
            raise _Unreadable(f"{_show(value)} is not a date or time")
        return _TIMESTAMPS.construct_yaml_timestamp(yaml.ScalarNode(_TAG + kind, value))
    raise _Unreadable(f"the tag {_shown_tag(_TAG + kind)} is not allowed")


def _shown_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag


class _Reader:
    """Events → plain data (lists, dicts, str, int, float, bool, None, dates)."""

    def __init__(self, parser: Any, budget: Budget | None) -> None:
        self.next = parser.get_event
        self.budget = budget
        self.depth = 0

    def document(self) -> Any:
        self.next()  # the stream's start
        event = self.next()
        if isinstance(event, yaml.StreamEndEvent):
            return None  # an empty file
        data = self.value(self.next())  # after the document's start
        self.next()  # its end
        event = self.next()
        if not isinstance(event, yaml.StreamEndEvent):
            raise self.error(event, "the file has more than one YAML document (---)")
        return data

    def error(self, event: Any, message: str) -> CatalogueError:
        mark = event.start_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        return CatalogueError([f"{where}{message}"])

    def value(self, event: Any) -> Any:
        kind = type(event)
        if kind is yaml.ScalarEvent:
            tag = event.tag
            try:
                if tag is None or tag == "!":
                    return _plain(event.value) if event.implicit[0] else event.value
                if not tag.startswith(_TAG):
                    raise _Unreadable(f"the tag {tag} is not allowed")
                return _tagged(tag.removeprefix(_TAG), event.value)
            except (_Unreadable, ValueError) as problem:
                raise self.error(event, f"not valid YAML: {problem}") from None
        if kind is yaml.AliasEvent:
            raise self.error(event, f"YAML aliases (*{event.anchor}) are not allowed")
        if kind is not yaml.SequenceStartEvent and kind is not yaml.MappingStartEvent:
            raise self.error(event, f"not valid YAML: unexpected {kind.__name__}")
        sequence = kind is yaml.SequenceStartEvent
        if event.tag not in (None, "!", _TAG + ("seq" if sequence else "map")):
            raise self.error(event, f"not valid YAML: the tag {_shown_tag(event.tag)} is not allowed here")
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(event, f"the document is nested deeper than {MAX_DEPTH} levels")
        result = self.sequence() if sequence else self.mapping()
        self.depth -= 1
        return result

    def sequence(self) -> list[Any]:
        items: list[Any] = []
        while True:
            if self.budget is not None:
                self.budget.check()
            event = self.next()
            if type(event) is yaml.SequenceEndEvent:
                return items
            items.append(self.value(event))

    def mapping(self) -> dict[Any, Any]:
        mapping: dict[Any, Any] = {}
        while True:
            if self.budget is not None:
                self.budget.check()
            event = self.next()
            if type(event) is yaml.MappingEndEvent:
                return mapping
            key = self.value(event)
            if isinstance(key, list | dict):
                raise self.error(event, "not valid YAML: a key must be a single value, not a list or mapping")
            mapping[key] = self.value(self.next())


def _read_yaml(text: str, budget: Budget | None) -> Any:
    parser = _C_LOADER(text) if _C_LOADER is not None else yaml.SafeLoader(text)
    try:
        return _Reader(parser, budget).document()
    finally:
        parser.dispose()


def decode(raw: bytes) -> str:
    """The file's text: at most MAX_FILE_BYTES of UTF-8 (a BOM is fine), no NUL bytes."""
    if len(raw) > MAX_FILE_BYTES:
        raise CatalogueError([f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB"])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CatalogueError([f"the file is not UTF-8 text (byte {error.start})"]) from error
    if "\x00" in text:
        raise CatalogueError(["the file is binary, not text (it contains NUL bytes)"])
    return text


def load_document(raw: bytes, *, json_only: bool = False, budget: Budget | None = None) -> dict[str, Any]:
    """Parse YAML (or JSON) into a mapping, refusing anything unsafe or malformed.

    CPU-bound: a server calls it through `in_worker`, not on its event loop."""
    text = decode(raw)
    try:
        data = json.loads(text) if json_only else _read_yaml(text, budget)
    except CatalogueError:
        raise
    except json.JSONDecodeError as error:
        raise CatalogueError([f"line {error.lineno}: not valid JSON: {error.msg}"]) from error
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise CatalogueError([f"{where}not valid YAML: {error.problem or error.context}"]) from error
    except (yaml.YAMLError, RecursionError, ValueError, OverflowError) as error:
        raise CatalogueError([f"not valid YAML: {str(error)[:200]}"]) from error
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {_type_name(data)}"
        raise CatalogueError(
            [f"the top level must be a mapping of sections (programmes, tasks, ...), not {kind}"]
        )
    return data


# A parse runs in one of these threads, never on a server's event loop: a large or hostile file
# then costs the turns and /healthz nothing but a share of the CPU. Two at a time; more wait.
_WORKERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="klikbot-catalogue")


async def in_worker(read: Callable[[Budget], T], limit: float) -> T:
    """`read(budget)` in a worker thread; ParseTimeout once it has taken `limit` seconds (the
    thread then stops at its next check of the budget)."""
    budget = Budget(limit)
    future = asyncio.get_running_loop().run_in_executor(_WORKERS, read, budget)
    try:
        return await asyncio.wait_for(future, limit)
    except TimeoutError:
        raise ParseTimeout(limit) from None
    finally:
        budget.cancelled = True  # done, timed out, or the caller went away


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, datetime | date):
        return "date"
    return type(value).__name__


def _show(value: object) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ---------------------------------------------------------------------------------------------
# Checking plain data into typed specs


class _Invalid(Exception):
    """One field is wrong; the message says how (without where: the caller adds that)."""


class _Entry:
    """Reads the fields of one mapping, collecting errors as "where: field: problem"."""

    def __init__(self, data: dict[str, Any], where: str, errors: list[str]) -> None:
        self.data = data
        self.where = where
        self.errors = errors
        self.ok = True

    def fail(self, field: str, message: str) -> None:
        self.ok = False
        self.errors.append(f"{self.where}: {field}: {message}" if field else f"{self.where}: {message}")

    def only(self, allowed: frozenset[str]) -> None:
        for key in self.data:
            if key not in allowed:
                self.fail(str(key), f"unknown field (known: {', '.join(sorted(allowed))})")

    def get(self, field: str, check: Callable[[Any], T], default: T, *, required: bool = False) -> T:
        if field not in self.data or self.data[field] is None:
            if required:
                self.fail(field, "is required")
            return default
        try:
            return check(self.data[field])
        except _Invalid as problem:
            self.fail(field, str(problem))
            return default


def _text(limit: int, *, empty: bool = True) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise _Invalid(f"must be text, not a {_type_name(value)} (quote it)")
        text = value.strip()
        if not empty and not text:
            raise _Invalid("must not be empty")
        if len(text) > limit:
            raise _Invalid(f"is longer than {limit} characters")
        if any(ord(c) < 32 and c not in "\n\t\r" for c in text):
            raise _Invalid("contains control characters")
        return text

    return check


def identifier_problem(value: object) -> str | None:
    """Why `value` is not a catalogue id (a task's, event's or programme's), or None if it is one."""
    if isinstance(value, str) and _ID.fullmatch(value):
        return None
    return f"{_show(value)} is not an id (1-64 letters, digits, '.', '_' or '-', starting with a letter or digit)"


def _identifier(value: Any) -> str:
    problem = identifier_problem(value)
    if problem:
        raise _Invalid(problem)
    return str(value)


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"must be true or false, not {_show(value)}")
    return value


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        raise _Invalid(f"{_show(value)} is a time, not a date (YYYY-MM-DD)")
    if isinstance(value, date):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = date.fromisoformat(value.strip())
        except ValueError:
            raise _Invalid(f"{_show(value)} is not a date (YYYY-MM-DD)") from None
    else:
        raise _Invalid(f"{_show(value)} is not a date (YYYY-MM-DD)")
    if not 2000 <= parsed.year <= 2100:
        raise _Invalid(f"{_show(value)} is outside 2000-2100")
    return parsed


def _moment(value: Any) -> tuple[datetime, bool]:
    """A local time (Europe/Copenhagen unless it has an offset) and whether it had a time of day."""
    if isinstance(value, datetime):
        parsed, timed = value, True
    elif isinstance(value, date):
        parsed, timed = datetime.combine(value, time.min), False
    elif isinstance(value, str):
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise _Invalid(f"{_show(value)} is not a date or time (YYYY-MM-DD or YYYY-MM-DDTHH:MM)") from None
        timed = len(text) > 10
    else:
        raise _Invalid(f"{_show(value)} is not a date or time (YYYY-MM-DD or YYYY-MM-DDTHH:MM)")
    if not 2000 <= parsed.year <= 2100:
        raise _Invalid(f"{_show(value)} is outside 2000-2100")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=COPENHAGEN)
    return parsed, timed


def _url(value: Any) -> str:
    text = _text(500)(value)
    if text and not text.startswith(("https://", "http://")):
        raise _Invalid(f"{_show(text)} is not a web address (http:// or https://)")
    return text


def _keywords(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise _Invalid(f"must be a list of words, not a {_type_name(value)}")
    if len(value) > 100:
        raise _Invalid("has more than 100 keywords")
    check = _text(100, empty=False)
    return tuple(check(v) for v in value)


def _signals(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise _Invalid(f"must be a list of phrases, not a {_type_name(value)}")
    if len(value) > 20:
        raise _Invalid("has more than 20 completion signals")
    check = _text(200, empty=False)
    return tuple(check(v) for v in value)


def _task_state(value: Any) -> TaskState:
    text = value.strip().lower() if isinstance(value, str) else value
    text = _DANISH_STATES.get(text, text) if isinstance(text, str) else text
    try:
        return TaskState(text)
    except ValueError:
        raise _Invalid(f"{_show(value)} is not one of announced, active, closed") from None


def _counts(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise _Invalid(f"must be a mapping of statuses to numbers, not a {_type_name(value)}")
    for key, number in value.items():
        if key not in {s.value for s in TaskStatus}:
            raise _Invalid(f"{_show(key)} is not a status ({', '.join(s.value for s in TaskStatus)})")
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise _Invalid(f"{key}: {_show(number)} is not a count")
    return value


def _section(
    data: dict[str, Any], name: str, errors: list[str], limit: int, budget: Budget | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    items = data.get(name)
    if items is None:
        return
    if not isinstance(items, list):
        errors.append(f"{name}: must be a list, not a {_type_name(items)}")
        return
    if len(items) > limit:
        errors.append(f"{name}: has {len(items)} entries, more than the {limit} allowed")
        return
    for index, item in enumerate(items):
        if budget is not None:
            budget.check()
        if not isinstance(item, dict):
            errors.append(f"{name}[{index}]: must be a mapping, not a {_type_name(item)}")
            continue
        yield index, item


def _where(section: str, index: int | None, item: dict[str, Any], key: str = "id") -> str:
    base = section if index is None else f"{section}[{index}]"
    value = item.get(key)
    if isinstance(value, str) and (len(value) > 64 or not value.isprintable()):
        value = _show(value)  # quoted and cut short: no line breaks or pages of text in an error
    return f"{base} ({key} {value})" if isinstance(value, str | int) and not isinstance(value, bool) else base


_PROGRAMME_FIELDS = frozenset({"id", "name", "short_name", "note"})
_TASK_FIELDS = frozenset(
    {
        "id",
        "title",
        "programme",
        "state",
        "description",
        "mandatory",
        "critical_path",
        "deadline",
        "deadline_rule",
        "contact",
        "notes",
        "keywords",
        "completion_signals",
        "counts",  # demo only: KLIK's status counts, spread over the municipalities by storage/demo.py
    }
)
_EVENT_FIELDS = frozenset(
    {
        "id",
        "title",
        "kind",
        "description",
        "audience",
        "location",
        "online",
        "registration_url",
        "registration_note",
        "registration_deadline",
        "cancelled",
        "slots",
    }
)
_SLOT_FIELDS = frozenset({"start", "end", "all_day", "location", "sold_out", "registration_url"})


def parse_programme(item: dict[str, Any], where: str, errors: list[str]) -> ProgrammeSpec | None:
    entry = _Entry(item, where, errors)
    entry.only(_PROGRAMME_FIELDS)
    spec = ProgrammeSpec(
        id=entry.get("id", _identifier, "", required=True),
        name=entry.get("name", _text(200, empty=False), "", required=True),
        short_name=entry.get("short_name", _text(32, empty=False), "", required=True),
        note=entry.get("note", _text(20_000), ""),
    )
    return spec if entry.ok else None


def parse_task(item: dict[str, Any], where: str, errors: list[str]) -> TaskSpec | None:
    entry = _Entry(item, where, errors)
    entry.only(_TASK_FIELDS)
    entry.get("counts", _counts, dict[str, int]())
    spec = TaskSpec(
        id=entry.get("id", _identifier, "", required=True),
        title=entry.get("title", _text(300, empty=False), "", required=True),
        programme=entry.get("programme", _identifier, "", required=True),
        state=entry.get("state", _task_state, TaskState.ANNOUNCED, required=True),
        description=entry.get("description", _text(20_000), ""),
        mandatory=entry.get("mandatory", _boolean, False),
        critical_path=entry.get("critical_path", _boolean, False),
        deadline=entry.get("deadline", _day, None),
        deadline_rule=entry.get("deadline_rule", _text(2_000), ""),
        contact=entry.get("contact", _text(200), ""),
        notes=entry.get("notes", _text(20_000), ""),
        keywords=entry.get("keywords", _keywords, ()),
        completion_signals=entry.get("completion_signals", _signals, ()),
        where=where,
    )
    if spec.deadline is not None and spec.deadline_rule:
        entry.fail("deadline_rule", "give either a deadline or a rule for a self-set deadline, not both")
    return spec if entry.ok else None


def parse_slot(item: Any, where: str, errors: list[str]) -> SlotSpec | None:
    if not isinstance(item, dict):
        errors.append(f"{where}: must be a mapping, not a {_type_name(item)}")
        return None
    entry = _Entry(item, where, errors)
    entry.only(_SLOT_FIELDS)
    all_day = entry.get("all_day", _boolean, False)
    start = entry.get("start", _moment, None, required=True)
    end = entry.get("end", _moment, None, required=True)
    if start is None or end is None or not entry.ok:
        return None
    (starts_at, start_timed), (ends_at, end_timed) = start, end
    if all_day:
        # Whole days: from the first midnight to the last moment of the last day (as storage/demo.py).
        starts_at = datetime.combine(starts_at.astimezone(COPENHAGEN).date(), time.min, tzinfo=COPENHAGEN)
        ends_at = datetime.combine(ends_at.astimezone(COPENHAGEN).date(), time.max, tzinfo=COPENHAGEN)
    elif not start_timed or not end_timed:
        entry.fail(
            "start" if not start_timed else "end",
            "needs a time of day (YYYY-MM-DDTHH:MM) unless all_day is true",
        )
        return None
    if ends_at < starts_at if all_day else ends_at <= starts_at:
        entry.fail("end", "is before the start")
        return None
    return (
        SlotSpec(
            starts_at=starts_at,
            ends_at=ends_at,
            all_day=all_day,
            location=entry.get("location", _text(300), ""),
            sold_out=entry.get("sold_out", _boolean, False),
            registration_url=entry.get("registration_url", _url, ""),
        )
        if entry.ok
        else None
    )


def parse_event(item: dict[str, Any], where: str, errors: list[str]) -> EventSpec | None:
    entry = _Entry(item, where, errors)
    entry.only(_EVENT_FIELDS)
    raw_slots = item.get("slots")
    slots: list[SlotSpec] = []
    if not isinstance(raw_slots, list) or not raw_slots:
        entry.fail("slots", "must be a non-empty list of {start, end, ...}")
    elif len(raw_slots) > 100:
        entry.fail("slots", "has more than 100 slots")
    else:
        for index, raw in enumerate(raw_slots):
            slot = parse_slot(raw, f"{where}: slots[{index}]", errors)
            if slot is None:
                entry.ok = False
            else:
                slots.append(slot)
    spec = EventSpec(
        id=entry.get("id", _identifier, "", required=True),
        title=entry.get("title", _text(300, empty=False), "", required=True),
        kind=entry.get("kind", _text(64, empty=False), "", required=True),
        description=entry.get("description", _text(20_000), ""),
        audience=entry.get("audience", _text(20_000), ""),
        location=entry.get("location", _text(300), ""),
        online=entry.get("online", _boolean, False),
        registration_url=entry.get("registration_url", _url, ""),
        registration_note=entry.get("registration_note", _text(20_000), ""),
        registration_deadline=entry.get("registration_deadline", _day, None),
        cancelled=entry.get("cancelled", _boolean, False),
        slots=tuple(sorted(slots, key=lambda s: (s.starts_at, s.ends_at))),
    )
    return spec if entry.ok else None


def _code(value: Any) -> int:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 999:
        raise _Invalid(f"{_show(value)} is not a 3-digit municipality code")
    return value


def _tenant_id(value: Any) -> str:
    text = value.strip().lower() if isinstance(value, str) else ""
    if not _GUID.fullmatch(text):
        raise _Invalid(
            f"{_show(value)} is not a tenant id (a GUID like 00000000-0000-4000-8000-000000000630)"
        )
    return text


def parse_catalogue(data: dict[str, Any], *, budget: Budget | None = None) -> Catalogue:
    """Check a whole catalogue; raise CatalogueError listing every problem."""
    errors: list[str] = []
    for key in data:
        if key not in TOP_LEVEL:
            errors.append(
                f"{_show(key)}: unknown section (known: {', '.join(sorted(TOP_LEVEL - DEMO_TOP_LEVEL))})"
            )
    if "format" in data and data["format"] != FORMAT:
        errors.append(f"format: {_show(data['format'])} is not {FORMAT!r}")

    for section, key in (
        ("programmes", "id"),
        ("tasks", "id"),
        ("events", "id"),
        ("municipalities", "code"),
        ("tenants", "tenant_id"),
    ):
        _raw_duplicates(data.get(section), section, key, errors)

    programmes = _unique(
        "programmes",
        [
            (i, parse_programme(p, _where("programmes", i, p), errors))
            for i, p in _section(data, "programmes", errors, 1_000, budget)
        ],
        lambda p: p.id,
        errors,
    )
    tasks = _unique(
        "tasks",
        [
            (i, parse_task(t, _where("tasks", i, t), errors))
            for i, t in _section(data, "tasks", errors, 50_000, budget)
        ],
        lambda t: t.id,
        errors,
    )
    events = _unique(
        "events",
        [
            (i, parse_event(e, _where("events", i, e), errors))
            for i, e in _section(data, "events", errors, 20_000, budget)
        ],
        lambda e: e.id,
        errors,
    )
    municipalities: list[MunicipalitySpec] = []
    for index, item in _section(data, "municipalities", errors, 1_000, budget):
        entry = _Entry(item, _where("municipalities", index, item, "code"), errors)
        entry.only(frozenset({"code", "name"}))
        spec = MunicipalitySpec(
            code=entry.get("code", _code, 0, required=True),
            name=entry.get("name", _text(64, empty=False), "", required=True),
        )
        if entry.ok:
            municipalities.append(spec)
    _unique("municipalities", list(enumerate(municipalities)), lambda m: m.code, errors, key_name="code")
    _unique(
        "municipalities",
        list(enumerate(municipalities)),
        lambda m: m.name.casefold(),
        errors,
        key_name="name",
        report=True,
    )
    tenants: list[TenantSpec] = []
    for index, item in _section(data, "tenants", errors, 10_000, budget):
        where = _where("tenants", index, item, "tenant_id")
        entry = _Entry(item, where, errors)
        entry.only(frozenset({"tenant_id", "municipality"}))
        tenant = TenantSpec(
            tenant_id=entry.get("tenant_id", _tenant_id, "", required=True),
            municipality_code=entry.get("municipality", _code, 0, required=True),
            where=where,
        )
        if entry.ok:
            tenants.append(tenant)
    _unique("tenants", list(enumerate(tenants)), lambda t: t.tenant_id, errors, key_name="tenant_id")

    # References (a task's programme, a tenant's municipality) may point into the database as
    # well as the file: the import checks them, in its transaction.
    if errors:
        raise CatalogueError(errors)
    return Catalogue(
        programmes=tuple(programmes) if "programmes" in data else None,
        tasks=tuple(tasks) if "tasks" in data else None,
        events=tuple(events) if "events" in data else None,
        municipalities=tuple(municipalities) if "municipalities" in data else None,
        tenants=tuple(tenants) if "tenants" in data else None,
    )


def _raw_duplicates(items: Any, section: str, key: str, errors: list[str]) -> None:
    """Entries with the same id, whether or not they are otherwise valid."""
    if not isinstance(items, list):
        return
    seen: dict[object, int] = {}
    for index, item in enumerate(items):
        value = item.get(key) if isinstance(item, dict) else None
        if isinstance(value, str):
            value = value.strip().lower() if key == "tenant_id" else value
        elif isinstance(value, bool) or not isinstance(value, int):
            continue
        if value in seen:
            errors.append(f"{section}[{index}] ({key} {value}): {key}: duplicate of {section}[{seen[value]}]")
        else:
            seen[value] = index


def _unique(
    section: str,
    entries: list[tuple[int, T | None]],
    key: Callable[[T], object],
    errors: list[str],
    key_name: str = "id",
    *,
    report: bool = False,
) -> list[T]:
    seen: dict[object, int] = {}
    result: list[T] = []
    for index, spec in entries:
        if spec is None:
            continue
        value = key(spec)
        if value in seen:
            if not report:
                continue  # _raw_duplicates has said so already
            errors.append(
                f"{section}[{index}] ({key_name} {value}): {key_name}: duplicate of {section}[{seen[value]}]"
            )
            continue
        seen[value] = index
        result.append(spec)
    return result


def read_catalogue(raw: bytes, *, json_only: bool = False, budget: Budget | None = None) -> Catalogue:
    """Bytes of a catalogue file (YAML or JSON) to a validated Catalogue (CPU-bound: see
    `in_worker`)."""
    return parse_catalogue(load_document(raw, json_only=json_only, budget=budget), budget=budget)
