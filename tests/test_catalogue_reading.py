"""A catalogue file cannot stall the bot, and ids are matched whole.

YAML is read with the YAML 1.2 core schema's scalars (plus dates): YAML 1.1's sexagesimal numbers
(`1:1:1:...`, quadratic in PyYAML) are text. Files are read in a worker thread within a time
limit, so /healthz and chat turns answer while an import is being read.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import Any

import pytest

import storage.catalogue
from storage.catalogue import CatalogueError, load_document, read_catalogue
from storage.db import create_engine
from storage.status_import import parse_status_csv
from tests.catalogue_helpers import snapshot
from tests.conftest import DEMO_NOW
from tests.harness import BotUnderTest, running_bot

TOKEN = "operator-secret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

# 300 KB of YAML 1.1 sexagesimal integer: PyYAML's own loader spent 5-14 s turning it into an int.
SEXAGESIMAL = ":".join(["1"] * 150_000)
PATHOLOGICAL = (
    f"tasks:\n  - id: yr-langsom\n    title: Langsom\n    programme: ydelsesrefusion\n"
    f"    state: active\n    notes: {SEXAGESIMAL}\n"
).encode()


@pytest.fixture
async def operator_bot(database_url: str) -> AsyncIterator[BotUnderTest]:
    async with running_bot(database_url, now=DEMO_NOW, admin_token=TOKEN) as bot:
        yield bot


async def _send(
    bot: BotUnderTest, method: str, path: str, body: bytes, content_type: str = "application/yaml"
) -> tuple[int, dict[str, Any]]:
    response = await bot.http.request(
        method,
        str(bot.server.make_url(path)),
        data=body,
        headers={"Content-Type": content_type, **AUTH},
    )
    return response.status, await response.json()


def _gate(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event]:
    """Hold every catalogue read at its start until the test releases it: (started, release).
    The wait's timeout only keeps a broken build from hanging the suite."""
    started, release = threading.Event(), threading.Event()
    real: Callable[[bytes], str] = storage.catalogue.decode

    def held(raw: bytes) -> str:
        started.set()
        release.wait(timeout=20)
        return real(raw)

    monkeypatch.setattr(storage.catalogue, "decode", held)
    return started, release


# ---------------------------------------------------------------------------------------------
# YAML 1.2 core scalars


def test_sexagesimal_values_are_text_not_numbers() -> None:
    data = load_document(b"a: 1:1:1:1\nb: 1:30\nc: 190:20:30.15\nd: -1:00\n")
    assert data == {"a": "1:1:1:1", "b": "1:30", "c": "190:20:30.15", "d": "-1:00"}
    # A task whose title looks like a clock reading keeps it as written.
    catalogue = read_catalogue(
        b"tasks:\n  - {id: t, title: 12:30, programme: aula, state: active, keywords: [1:1:1:1]}\n"
    )
    assert catalogue.tasks is not None
    assert catalogue.tasks[0].title == "12:30"
    assert catalogue.tasks[0].keywords == ("1:1:1:1",)


def test_a_300_kb_sexagesimal_value_is_read_as_text() -> None:
    document = load_document(PATHOLOGICAL)
    assert document["tasks"][0]["notes"] == SEXAGESIMAL
    with pytest.raises(CatalogueError) as caught:
        read_catalogue(PATHOLOGICAL)
    assert caught.value.errors == ["tasks[0] (id yr-langsom): notes: is longer than 20000 characters"]


def test_yaml_1_1_surprises_are_text_and_dates_stay_dates() -> None:
    data = load_document(
        b"yes: yes\nno: [no, off, On]\nint: 0630\nunderscore: 1_000\nbinary: 0b101\nmerge: <<\neq: =\n"
        b"octal: 0o17\nhex: 0x1F\nflag: true\nnothing: ~\nday: 2019-01-31\nsexagesimal_float: 1:30.5\n"
    )
    assert data == {
        "yes": "yes",
        "no": ["no", "off", "On"],
        "int": 630,  # decimal, not YAML 1.1's octal 408
        "underscore": "1_000",
        "binary": "0b101",
        "merge": "<<",
        "eq": "=",
        "octal": 15,
        "hex": 31,
        "flag": True,
        "nothing": None,
        "day": date(2019, 1, 31),
        "sexagesimal_float": "1:30.5",
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"a: !!int '1:1:1'", "line 1, column 4: not valid YAML: '1:1:1' is not an integer"),
        (b"a: !!float 1:30.5", "line 1, column 4: not valid YAML: '1:30.5' is not a number"),
        (b"a: !!bool maybe", "line 1, column 4: not valid YAML: 'maybe' is not true or false"),
        (b"a: !!timestamp soon", "line 1, column 4: not valid YAML: 'soon' is not a date or time"),
        (b"a: !!binary aGk=", "line 1, column 4: not valid YAML: the tag !!binary is not allowed"),
        (b"a: !!set {x}", "line 1, column 4: not valid YAML: the tag !!set is not allowed here"),
        (b"a: !!python/name:os.system x", "not allowed"),
        (b"a: " + b"9" * 200, "line 1, column 4: not valid YAML: the number has more than 100 digits"),
        (b"? [a, b]\n: c\n", "a key must be a single value"),
        (b"a: 1\n---\nb: 2\n", "more than one YAML document"),
    ],
)
def test_odd_yaml_values_are_refused_clearly(raw: bytes, expected: str) -> None:
    with pytest.raises(CatalogueError) as caught:
        load_document(raw)
    assert expected in str(caught.value)


def test_the_pure_python_parser_reads_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.catalogue_helpers import as_yaml, demo_catalogue

    raw = as_yaml(demo_catalogue()) + b"extra: [1:1:1, 0630, yes, 2019-01-31, !!str 5]\n"
    with_libyaml = load_document(raw)
    monkeypatch.setattr(storage.catalogue, "_C_LOADER", None)  # where libyaml is missing
    assert load_document(raw) == with_libyaml
    assert with_libyaml["extra"] == ["1:1:1", 630, "yes", date(2019, 1, 31), "5"]


def test_a_parse_stops_at_its_next_check_once_its_caller_gave_up() -> None:
    from storage.catalogue import Budget, ParseTimeout
    from tests.catalogue_helpers import as_yaml, demo_catalogue

    budget = Budget(60)
    budget.cancelled = True  # what in_worker does when its time is up
    with pytest.raises(ParseTimeout, match="limit of 60 seconds"):
        read_catalogue(as_yaml(demo_catalogue()), budget=budget)
    with pytest.raises(ParseTimeout):
        parse_status_csv(
            b"630;mbp-kontaktpunkt-incident;Fuldf\xc3\xb8rt;2019-01-24T10:12:00+01:00;M\n", budget=budget
        )


def test_digits_that_are_not_ascii_are_not_municipality_codes() -> None:
    with pytest.raises(CatalogueError) as caught:
        read_catalogue("municipalities:\n  - {code: '²²²', name: X}\n".encode())
    assert caught.value.errors == [
        "municipalities[0] (code ²²²): code: '²²²' is not a 3-digit municipality code"
    ]
    with pytest.raises(CatalogueError) as caught:
        parse_status_csv("²²²;mbp-kontaktpunkt-incident;Fuldført;2019-01-24T10:12:00+01:00;M\n".encode())
    assert caught.value.errors == ["row 1: municipality code: '²²²' is not a 3-digit municipality code"]


# ---------------------------------------------------------------------------------------------
# The bot goes on answering while a file is read


async def test_healthz_and_a_turn_answer_while_a_300_kb_file_is_imported(
    operator_bot: BotUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, release = _gate(monkeypatch)
    importing = asyncio.create_task(_send(operator_bot, "POST", "/api/import", PATHOLOGICAL))
    # The import is being read (in a worker thread; on the event loop it would hold everything).
    await asyncio.to_thread(started.wait, 20)
    try:
        health = await operator_bot.http.get(str(operator_bot.server.make_url("/healthz")))
        assert health.status == 200
        assert not importing.done(), "/healthz waited for the import"
        reply = await operator_bot.ask_one("hvilke opgaver mangler vi?")
        assert "Udpeg kontaktpunkt" in reply.text
        assert not importing.done(), "the chat turn waited for the import"
    finally:
        release.set()
    status, body = await importing
    # The 300 KB value is text (too long for notes), read at once, not a number.
    assert status == 400, body
    assert body["errors"] == ["tasks[0] (id yr-langsom): notes: is longer than 20000 characters"]


async def test_a_file_read_for_longer_than_the_limit_gets_413(
    operator_bot: BotUnderTest, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage.catalogue, "PARSE_SECONDS", 0.2, raising=False)
    started, release = _gate(monkeypatch)  # the read cannot finish before the answer has come
    engine = create_engine(database_url)
    try:
        before = await snapshot(engine)
        try:
            status, body = await _send(
                operator_bot, "PUT", "/api/tasks/yr-ny", b"title: Ny\nprogramme: aula\n"
            )
        finally:
            release.set()
        assert started.is_set()
        assert status == 413, body
        assert body["errors"] == [
            "reading the file took longer than the limit of 0.2 seconds: it is too large or too complex; "
            "nothing was changed (split it into smaller files)"
        ]
        assert await snapshot(engine) == before
    finally:
        await engine.dispose()


# ---------------------------------------------------------------------------------------------
# Ids are matched whole


async def test_an_id_with_a_line_break_is_refused(operator_bot: BotUnderTest, database_url: str) -> None:
    event = (
        b"title: Workshop\nkind: workshop\nslots: [{start: '2019-02-05T09:00', end: '2019-02-05T16:00'}]\n"
    )
    engine = create_engine(database_url)
    try:
        before = await snapshot(engine)
        for path, body in (("/api/events/a%0A", event), ("/api/tasks/a%0A", b"title: Ny\nprogramme: aula\n")):
            status, answer = await _send(operator_bot, "PUT", path, body)
            assert status == 400, (path, answer)
            assert answer["error"] == (
                "the path's id: 'a\\n' is not an id (1-64 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit)"
            )
        status, answer = await _send(
            operator_bot,
            "POST",
            "/api/import",
            b'events:\n  - {id: "a\\n", title: W, kind: workshop, slots: [{start: "2019-02-05T09:00", end: "2019-02-05T16:00"}]}\n',
        )
        assert status == 400 and "events[0]" in answer["errors"][0] and "is not an id" in answer["errors"][0]
        assert await snapshot(engine) == before
    finally:
        await engine.dispose()


def test_ids_in_files_are_matched_whole() -> None:
    with pytest.raises(CatalogueError) as caught:
        read_catalogue(b'tasks:\n  - {id: "a\\n", title: T, programme: "aula\\n", state: active}\n')
    assert caught.value.errors == [
        "tasks[0] (id 'a\\n'): id: 'a\\n' is not an id (1-64 letters, digits, '.', '_' or '-', "
        "starting with a letter or digit)",
        "tasks[0] (id 'a\\n'): programme: 'aula\\n' is not an id (1-64 letters, digits, '.', '_' or '-', "
        "starting with a letter or digit)",
    ]
    with pytest.raises(CatalogueError, match="is not a task id"):
        parse_status_csv('630;"a\nb";Fuldført;2019-01-24T10:12:00+01:00;M\n'.encode())
