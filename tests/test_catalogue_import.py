"""The catalogue import: format, validation, upsert rules, news, event sequence, one transaction."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any

import jsonschema
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

import storage.catalogue_import as catalogue_import
from storage.catalogue import CatalogueError, read_catalogue
from storage.catalogue_import import event_uid, import_catalogue, pending_news
from storage.domain import TaskState, TaskStatus
from storage.models import Event, MunicipalityTaskStatus, Task, TaskNews
from tests.catalogue_helpers import as_yaml, demo_catalogue, event, jsonable, snapshot, task

NOW = datetime(2019, 2, 1, 9, 0, tzinfo=UTC)


def _schema() -> dict[str, Any]:
    text = resources.files("storage").joinpath("data/catalogue.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def test_the_demo_dataset_is_a_valid_catalogue() -> None:
    data = demo_catalogue()
    jsonschema.validate(jsonable(data), _schema())
    catalogue = read_catalogue(as_yaml(data))
    assert catalogue.tasks is not None and len(catalogue.tasks) == 13
    assert catalogue.events is not None and len(catalogue.events) == 10
    assert catalogue.tenants is None  # absent: the import leaves tenant mappings alone


async def test_importing_the_demo_into_the_demo_database_changes_nothing(engine: AsyncEngine) -> None:
    before = await snapshot(engine)
    report = await import_catalogue(engine, read_catalogue(as_yaml(demo_catalogue())), NOW)
    assert report.tasks.unchanged == 13 and report.events.unchanged == 10 and not report.changed
    assert report.news == []
    assert await snapshot(engine) == before


async def _count(engine: AsyncEngine, statement: Any) -> int:
    async with engine.connect() as db:
        return int(await db.scalar(statement) or 0)


async def test_new_and_activated_tasks_get_statuses_and_news(engine: AsyncEngine) -> None:
    data = demo_catalogue()
    data["tasks"].append(
        {
            "id": "yr-ny-opgave",
            "title": "Udpeg YR-ansvarlig",
            "programme": "ydelsesrefusion",
            "state": "active",
            "mandatory": True,
            "deadline": date(2019, 3, 1),
        }
    )
    task(data, "fk-opret-fk-administrator")["state"] = "active"  # announced -> active
    task(data, "mbp-kontaktpunkt-incident")["deadline"] = date(2019, 2, 15)  # a moved deadline
    task(data, "mbp-underskriftberettiget-skat")["description"] += " Se også bilag 2."  # cosmetic
    data["tasks"] = [
        t for t in data["tasks"] if t["id"] not in ("aula-udrulningsproeve", "mbp-tjek-it-miljoe")
    ]
    report = await import_catalogue(engine, read_catalogue(as_yaml(data)), NOW)
    assert (report.tasks.created, report.tasks.updated, report.tasks.removed) == (1, 3, 2)
    assert report.tasks.unchanged == 13 - 2 - 3
    assert report.statuses_created == 2 * 98
    assert sorted((n.task_id, n.kind) for n in report.news) == [
        ("fk-opret-fk-administrator", "new"),
        ("mbp-kontaktpunkt-incident", "deadline_changed"),
        ("yr-ny-opgave", "new"),
    ]
    async with engine.connect() as db:
        news = await pending_news(db)
        states = dict((await db.execute(select(Task.id, Task.state))).all())
        rows = dict(
            (
                await db.execute(
                    select(MunicipalityTaskStatus.task_id, func.count())
                    .where(MunicipalityTaskStatus.status == TaskStatus.NOT_STARTED)
                    .group_by(MunicipalityTaskStatus.task_id)
                )
            ).all()
        )
    assert {(n.task_id, n.kind, n.deadline) for n in news} == {
        ("fk-opret-fk-administrator", "new", None),
        ("mbp-kontaktpunkt-incident", "deadline_changed", date(2019, 2, 15)),
        ("yr-ny-opgave", "new", date(2019, 3, 1)),
    }
    assert next(n for n in news if n.kind == "deadline_changed").old_deadline == date(2019, 1, 31)
    assert rows["yr-ny-opgave"] == 98 and rows["fk-opret-fk-administrator"] == 98
    # Removed from the file: closed, never deleted; statuses stay.
    assert (
        states["mbp-tjek-it-miljoe"] is TaskState.CLOSED
        and states["aula-udrulningsproeve"] is TaskState.CLOSED
    )
    kept = (
        select(func.count())
        .select_from(MunicipalityTaskStatus)
        .where(MunicipalityTaskStatus.task_id == "mbp-tjek-it-miljoe")
    )
    assert await _count(engine, kept) == 98

    # The same file again changes nothing and records no news.
    before = await snapshot(engine)
    again = await import_catalogue(engine, read_catalogue(as_yaml(data)), NOW)
    assert not again.changed and again.news == [] and again.tasks.unchanged == 12
    assert await snapshot(engine) == before


async def test_a_second_deadline_change_updates_the_pending_news(engine: AsyncEngine) -> None:
    data = demo_catalogue()
    for deadline in (date(2019, 2, 15), date(2019, 2, 28)):
        task(data, "mbp-kontaktpunkt-incident")["deadline"] = deadline
        await import_catalogue(engine, read_catalogue(as_yaml(data)), NOW)
    async with engine.connect() as db:
        news = await pending_news(db)
    assert [(n.kind, n.deadline) for n in news] == [("deadline_changed", date(2019, 2, 28))]


async def test_moved_or_cancelled_events_raise_their_sequence(engine: AsyncEngine) -> None:
    data = demo_catalogue()
    event(data, "programledermoede-2019-02")["slots"][0]["start"] = "2019-02-27T10:30"  # moved
    event(data, "programledermoede-2019-03")["description"] = "Ny beskrivelse"  # not a move
    event(data, "kommunedage-2019-05")["cancelled"] = True
    data["events"] = [e for e in data["events"] if e["id"] != "programledermoede-2019-06"]
    report = await import_catalogue(engine, read_catalogue(as_yaml(data)), NOW)
    assert (report.events.updated, report.events.removed, report.events.unchanged) == (3, 1, 6)
    async with engine.connect() as db:
        rows = {
            r.id: (r.sequence, r.cancelled)
            for r in await db.execute(select(Event.id, Event.sequence, Event.cancelled))
        }
    assert rows["programledermoede-2019-02"] == (1, False)
    assert rows["programledermoede-2019-03"] == (0, False)
    assert rows["kommunedage-2019-05"] == (1, True)
    assert rows["programledermoede-2019-06"] == (1, True)  # removed from the file: cancelled, kept
    assert event_uid("programledermoede-2019-02") == "programledermoede-2019-02@klikbot.kombit.dk"
    again = await import_catalogue(engine, read_catalogue(as_yaml(data)), NOW)
    assert not again.changed


async def test_a_failure_half_way_changes_nothing(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = demo_catalogue()
    data["tasks"].append({"id": "ny", "title": "Ny", "programme": "aula", "state": "active"})
    event(data, "programledermoede-2019-02")["slots"][0]["start"] = "2019-02-27T10:30"

    async def broken(*_args: object) -> None:
        raise RuntimeError("injected failure")

    monkeypatch.setattr(catalogue_import, "record_news", broken)  # the last step
    before = await snapshot(engine)
    with pytest.raises(RuntimeError, match="injected"):
        await import_catalogue(engine, read_catalogue(as_yaml(data)), NOW)
    assert await snapshot(engine) == before


async def test_a_dry_run_reports_and_changes_nothing(engine: AsyncEngine) -> None:
    data = demo_catalogue()
    data["tasks"].append({"id": "ny", "title": "Ny", "programme": "aula", "state": "active"})
    before = await snapshot(engine)
    report = await import_catalogue(engine, read_catalogue(as_yaml(data)), NOW, dry_run=True)
    assert report.dry_run and report.tasks.created == 1 and report.statuses_created == 98
    assert await snapshot(engine) == before


async def test_an_unknown_programme_is_refused_with_nothing_changed(engine: AsyncEngine) -> None:
    data = demo_catalogue()
    data["tasks"].append({"id": "ny", "title": "Ny", "programme": "ukendt", "state": "active"})
    before = await snapshot(engine)
    with pytest.raises(CatalogueError) as caught:
        await import_catalogue(engine, read_catalogue(as_yaml(data)), NOW)
    assert caught.value.errors == [
        "tasks[13] (id ny): programme: 'ukendt' is not a programme in the file or the database"
    ]
    assert await snapshot(engine) == before


async def test_concurrent_imports_do_not_interleave(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    spans: list[tuple[float, float]] = []
    original = catalogue_import.apply_catalogue

    async def slow(*args: Any, **kwargs: Any) -> Any:
        start = time.monotonic()
        await asyncio.sleep(0.3)  # hold the transaction open: the other import must wait
        result = await original(*args, **kwargs)
        spans.append((start, time.monotonic()))
        return result

    monkeypatch.setattr(catalogue_import, "apply_catalogue", slow)
    first, second = demo_catalogue(), demo_catalogue()
    first["tasks"].append({"id": "a", "title": "A", "programme": "aula", "state": "active"})
    second["tasks"].append({"id": "b", "title": "B", "programme": "aula", "state": "active"})
    reports = await asyncio.gather(
        import_catalogue(engine, read_catalogue(as_yaml(first)), NOW),
        import_catalogue(engine, read_catalogue(as_yaml(second)), NOW),
    )
    (_, first_end), (second_start, _) = sorted(spans)
    assert first_end <= second_start, "the second import ran inside the first"
    # Each saw the other's result: the later one closed the task only the earlier one had.
    assert sorted(r.tasks.removed for r in reports) == [0, 1]
    news = select(func.count()).select_from(TaskNews)
    assert await _count(engine, news) == 2


async def test_references_to_municipalities_are_checked(engine: AsyncEngine) -> None:
    before = await snapshot(engine)
    clash = {"municipalities": [{"code": 999, "name": "Vejle"}]}
    with pytest.raises(CatalogueError, match="'Vejle' is already municipality 630's"):
        await import_catalogue(engine, read_catalogue(as_yaml(clash)), NOW)
    tenant = {"tenants": [{"tenant_id": "12345678-aaaa-4bbb-8ccc-1234567890ab", "municipality": 998}]}
    with pytest.raises(CatalogueError, match="998 is not a municipality in the file or the database"):
        await import_catalogue(engine, read_catalogue(as_yaml(tenant)), NOW)
    assert await snapshot(engine) == before
    added = {
        "municipalities": [{"code": 999, "name": "Nykommune"}],
        "tenants": [{"tenant_id": "12345678-AAAA-4bbb-8ccc-1234567890ab", "municipality": 999}],
    }
    report = await import_catalogue(engine, read_catalogue(as_yaml(added)), NOW)
    # The new municipality gets "Ikke påbegyndt" on the 3 active demo tasks.
    assert report.municipalities.created == 1 and report.tenants.created == 1 and report.statuses_created == 3
