"""Bad catalogue and status files are refused with a clear message and change nothing; the CLI."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.catalogue import CatalogueError, read_catalogue
from storage.db import create_engine
from storage.status_import import parse_status_csv
from tests.catalogue_helpers import as_yaml, demo_catalogue, snapshot, task
from tests.test_cli import klikbot

BOMB = b"""a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
tasks: [*g]
"""

BAD_FILES = {
    "yaml bomb": (BOMB, "YAML aliases (*a) are not allowed"),
    "a list at the top": (b"- id: x\n", "the top level must be a mapping of sections"),
    "empty": (b"", "not empty"),
    "binary garbage": (bytes(range(256)) * 4, "not UTF-8 text"),
    "NUL bytes": (b"tasks: []\x00\x00", "binary"),
    "not YAML": (b"tasks: [\n  - {id: x\n", "not valid YAML"),
    "wrong types": (
        b"tasks:\n  - {id: x, title: X, programme: aula, state: active, mandatory: 'ja', keywords: 3}\n",
        "tasks[0] (id x): mandatory: must be true or false, not 'ja'",
    ),
    "a deadline that is not a date": (
        b"tasks:\n  - {id: mbp-x, title: X, programme: aula, state: active, deadline: '31/13'}\n",
        "tasks[0] (id mbp-x): deadline: '31/13' is not a date (YYYY-MM-DD)",
    ),
    "duplicate ids": (
        b"tasks:\n  - {id: x, title: X, programme: aula, state: active}\n  - {id: x, title: Y, programme: aula, state: active}\n",
        "tasks[1] (id x): id: duplicate of tasks[0]",
    ),
    "an unknown state": (
        b"tasks:\n  - {id: x, title: X, programme: aula, state: done}\n",
        "tasks[0] (id x): state: 'done' is not one of announced, active, closed",
    ),
    "an unknown section": (b"opgaver: []\n", "'opgaver': unknown section"),
    "an event ending before it starts": (
        b"events:\n  - {id: e, title: E, kind: workshop, slots: [{start: '2019-02-05T16:00', end: '2019-02-05T09:00'}]}\n",
        "events[0] (id e): slots[0]: end: is before the start",
    ),
    "a slot without a time": (
        b"events:\n  - {id: e, title: E, kind: workshop, slots: [{start: '2019-02-05', end: '2019-02-05'}]}\n",
        "events[0] (id e): slots[0]: start: needs a time of day",
    ),
    "a bad tenant id": (
        b"tenants:\n  - {tenant_id: nope, municipality: 630}\n",
        "tenants[0] (tenant_id nope): tenant_id: 'nope' is not a tenant id",
    ),
    "too deep": (b"tasks: " + b"[" * 100 + b"]" * 100 + b"\n", "nested deeper than 32 levels"),
    "completion signals that are not a list": (
        b"tasks:\n  - {id: x, title: X, programme: aula, state: active, completion_signals: skemaet er sendt}\n",
        "tasks[0] (id x): completion_signals: must be a list of phrases, not a string",
    ),
    "an empty completion signal": (
        b"tasks:\n  - {id: x, title: X, programme: aula, state: active, completion_signals: ['']}\n",
        "tasks[0] (id x): completion_signals:",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_files_are_refused_clearly(name: str) -> None:
    raw, expected = BAD_FILES[name]
    with pytest.raises(CatalogueError) as caught:
        read_catalogue(raw)
    assert expected in str(caught.value), str(caught.value)


def test_a_file_over_10_mb_is_refused_before_parsing() -> None:
    with pytest.raises(CatalogueError, match="larger than 10 MB"):
        read_catalogue(b"#" * (10 * 1024 * 1024 + 1))


def test_bad_status_rows_name_row_and_column() -> None:
    raw = (
        "kommunekode;opgave_id;status;ændret;af\n"
        "630;mbp-kontaktpunkt-incident;Færdig;2019-01-24T10:12:00+01:00;Mette\n"
        "63;mbp-kontaktpunkt-incident;Fuldført;24/1;Mette\n"
    ).encode()
    with pytest.raises(CatalogueError) as caught:
        parse_status_csv(raw)
    assert caught.value.errors == [
        "row 2: status: 'Færdig' is not a KLIK status (Ikke påbegyndt, Påbegyndt, Fuldført, Ikke aktiv)",
        "row 3: municipality code: '63' is not a 3-digit municipality code",
        "row 3: changed at: '24/1' is not an ISO 8601 time (2019-01-24T10:12:00+01:00)",
    ]


async def _snapshot(url: str) -> object:
    engine = create_engine(url)
    try:
        return await snapshot(engine)
    finally:
        await engine.dispose()


async def test_cli_import_reports_and_is_idempotent(database_url: str, tmp_path: Path) -> None:
    data = demo_catalogue()
    data["tasks"].append({"id": "ny-opgave", "title": "Ny opgave", "programme": "aula", "state": "active"})
    task(data, "mbp-kontaktpunkt-incident")["description"] = "Ny formulering."
    data["tenants"] = [{"tenant_id": "12345678-AAAA-4bbb-8ccc-1234567890ab", "municipality": 630}]
    path = tmp_path / "katalog.yaml"
    path.write_bytes(as_yaml(data))
    dry = await asyncio.to_thread(klikbot, "import", str(path), "--dry-run", database_url=database_url)
    assert dry.returncode == 0, dry.stderr
    assert "dry run: nothing was changed" in dry.stdout
    first = await asyncio.to_thread(klikbot, "import", str(path), database_url=database_url)
    assert first.returncode == 0, first.stderr
    assert "tasks: 1 created, 1 updated, 12 unchanged, 0 removed from the file (closed)" in first.stdout
    assert "tenants: 1 created, 0 updated, 0 unchanged" in first.stdout
    assert "statuses: 98 new 'Ikke påbegyndt' rows" in first.stdout
    assert "1 new task(s), 0 changed deadline(s)" in first.stdout
    before = await _snapshot(database_url)
    second = await asyncio.to_thread(klikbot, "import", str(path), database_url=database_url)
    assert "tasks: 0 created, 0 updated, 14 unchanged" in second.stdout
    assert await _snapshot(database_url) == before


@pytest.mark.parametrize(
    "name", ["yaml bomb", "binary garbage", "a deadline that is not a date", "a list at the top"]
)
async def test_cli_refuses_bad_files_without_a_traceback(
    database_url: str, tmp_path: Path, name: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(BAD_FILES[name][0])
    before = await _snapshot(database_url)
    result = await asyncio.to_thread(klikbot, "import", str(path), database_url=database_url)
    assert result.returncode == 1
    assert "nothing was imported" in result.stderr and BAD_FILES[name][1] in result.stderr
    assert "Traceback" not in result.stderr
    assert await _snapshot(database_url) == before


async def test_cli_refuses_a_50_mb_file(database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    result = await asyncio.to_thread(klikbot, "import", str(path), database_url=database_url)
    assert result.returncode == 2 and "larger than 10 MB" in result.stderr
    assert "Traceback" not in result.stderr
    missing = await asyncio.to_thread(
        klikbot, "import", str(tmp_path / "nope.yaml"), database_url=database_url
    )
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def _csv(rows: list[tuple[object, ...]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(("kommunekode", "opgave_id", "status", "aendret", "aendret_af"))
    writer.writerows(rows)
    return buffer.getvalue()


async def test_cli_import_statuses_records_history_and_keeps_newer_chat_changes(
    database_url: str, tmp_path: Path
) -> None:
    from sqlalchemy import select

    from storage.domain import TaskStatus
    from storage.models import MunicipalityTaskStatus, StatusChange
    from storage.status_changes import Actor, change_status

    engine = create_engine(database_url)
    try:
        # A programme leader in Vejle changed it in chat on 25/1; the KLIK export is from 24/1.
        async with engine.connect() as db:
            await change_status(
                db,
                630,
                "mbp-kontaktpunkt-incident",
                TaskStatus.STARTED,
                Actor("29:u", "Mette", "aad", "t"),
                "text",
                datetime(2019, 1, 25, 9, tzinfo=UTC),
            )
        path = tmp_path / "klik.csv"
        path.write_text(
            _csv(
                [
                    (630, "mbp-kontaktpunkt-incident", "Fuldført", "2019-01-24T10:12:00+01:00", "KLIK"),
                    (461, "mbp-kontaktpunkt-incident", "fuldfoert", "2019-01-24T10:12:00+01:00", "Anne"),
                    (461, "mbp-underskriftberettiget-skat", "Ikke aktiv", "2019-01-24T11:00", "Anne"),
                ],
                delimiter=";",
            ),
            encoding="utf-8-sig",
        )
        result = await asyncio.to_thread(klikbot, "import-statuses", str(path), database_url=database_url)
        assert result.returncode == 0, result.stderr
        assert "statuses: 2 applied, 0 unchanged, 1 skipped" in result.stdout
        assert "row 2: 630 mbp-kontaktpunkt-incident" in result.stdout
        async with engine.connect() as db:
            statuses = {
                (r.municipality_code, r.task_id): (r.status, r.changed_by_name)
                for r in await db.execute(
                    select(
                        MunicipalityTaskStatus.municipality_code,
                        MunicipalityTaskStatus.task_id,
                        MunicipalityTaskStatus.status,
                        MunicipalityTaskStatus.changed_by_name,
                    ).where(MunicipalityTaskStatus.municipality_code.in_((630, 461)))
                )
            }
            imported = (
                await db.execute(
                    select(StatusChange.municipality_code, StatusChange.user_name).where(
                        StatusChange.source == "import"
                    )
                )
            ).all()
        assert statuses[(630, "mbp-kontaktpunkt-incident")] == (TaskStatus.STARTED, "Mette")
        assert statuses[(461, "mbp-kontaktpunkt-incident")] == (TaskStatus.COMPLETED, "Anne")
        assert statuses[(461, "mbp-underskriftberettiget-skat")] == (TaskStatus.NOT_ACTIVE, "Anne")
        assert sorted(imported) == [(461, "Anne"), (461, "Anne")]
        # Again: nothing is applied twice.
        again = await asyncio.to_thread(klikbot, "import-statuses", str(path), database_url=database_url)
        assert "0 applied" in again.stdout
        # A row about an unknown task is refused, and nothing else in the file is applied.
        path.write_text(
            _csv(
                [
                    (147, "mbp-kontaktpunkt-incident", "Fuldført", "2019-01-26T10:00:00+01:00", "X"),
                    (147, "findes-ikke", "Fuldført", "2019-01-26T10:00:00+01:00", "X"),
                    (147, "aula-dataadgang", "Fuldført", "2019-01-26T10:00:00+01:00", "X"),
                ]
            )
        )
        before = await snapshot(engine)
        bad = await asyncio.to_thread(klikbot, "import-statuses", str(path), database_url=database_url)
        assert bad.returncode == 1 and "Traceback" not in bad.stderr
        assert "row 3: task id: 'findes-ikke' is not a task in the catalogue" in bad.stderr
        assert "row 4: task id: 'aula-dataadgang' is announced, not active in KLIK yet" in bad.stderr
        assert await snapshot(engine) == before
    finally:
        await engine.dispose()


def test_klikbot_help_lists_the_import_commands() -> None:
    result = klikbot("--help")
    assert result.returncode == 0 and "import-statuses" in result.stdout


SCHEMA_REFUSES = [
    "wrong types",
    "a deadline that is not a date",
    "an unknown state",
    "an unknown section",
    "a bad tenant id",
    "completion signals that are not a list",
    "an empty completion signal",
]


@pytest.mark.parametrize("name", SCHEMA_REFUSES)
def test_the_json_schema_refuses_what_the_importer_refuses(name: str) -> None:
    import json
    from importlib import resources

    import jsonschema
    import yaml

    schema = json.loads(resources.files("storage").joinpath("data/catalogue.schema.json").read_text("utf-8"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(yaml.safe_load(BAD_FILES[name][0]), schema)


def test_the_pure_python_loader_refuses_aliases_too(monkeypatch: pytest.MonkeyPatch) -> None:
    import storage.catalogue

    monkeypatch.setattr(storage.catalogue, "_C_LOADER", None)  # where libyaml is missing
    with pytest.raises(CatalogueError, match="aliases"):
        read_catalogue(BOMB)
    with pytest.raises(CatalogueError, match="nested deeper"):
        read_catalogue(BAD_FILES["too deep"][0])
    assert read_catalogue(as_yaml(demo_catalogue())).tasks is not None


async def test_cli_imports_json_too(database_url: str, tmp_path: Path) -> None:
    import json

    from tests.catalogue_helpers import jsonable

    data = jsonable(demo_catalogue())
    data["tasks"][0]["title"] = 2019  # a number where text belongs
    path = tmp_path / "katalog.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    bad = await asyncio.to_thread(klikbot, "import", str(path), database_url=database_url)
    assert bad.returncode == 1
    assert "tasks[0] (id fk-godkend-fordelingsregler): title: must be text, not a number" in bad.stderr
    data["tasks"][0]["title"] = "Godkend initielle fordelingsregler (FK)"
    path.write_text(json.dumps(data), encoding="utf-8")
    good = await asyncio.to_thread(klikbot, "import", str(path), database_url=database_url)
    assert good.returncode == 0, good.stderr
    assert "tasks: 0 created, 1 updated, 12 unchanged" in good.stdout
    assert "0 new task(s), 0 changed deadline(s)" in good.stdout


def test_the_demo_catalogue_has_completion_signals_and_passes_the_schema() -> None:
    import json
    from importlib import resources

    import jsonschema

    from storage.catalogue import parse_catalogue
    from tests.catalogue_helpers import demo_catalogue, jsonable

    demo = jsonable(demo_catalogue())
    schema = json.loads(resources.files("storage").joinpath("data/catalogue.schema.json").read_text("utf-8"))
    jsonschema.validate(demo, schema)
    tasks = {t.id: t for t in parse_catalogue(demo).tasks or ()}
    assert "skemaet i bilag 1 er sendt til KDI@kombit.dk" in tasks["mbp-underskriftberettiget-skat"].completion_signals

