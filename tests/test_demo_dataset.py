"""The demo dataset reproduces the slides of the January 2019 programme-leader meeting."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import SessionFactory
from storage.demo import demo_tenant_id, spread_statuses
from storage.domain import Period, TaskState, TaskStatus
from storage.models import Event, Municipality, MunicipalityTaskStatus, Task, Tenant
from storage.queries import (
    events_in,
    events_within,
    find_municipality,
    municipality_for_tenant,
    task_views,
    with_statuses,
)
from storage.status_changes import Actor, Outcome, change_status, set_responsible

SLIDE_COUNTS = {
    "fk-godkend-fordelingsregler": {
        TaskStatus.COMPLETED: 66,
        TaskStatus.STARTED: 11,
        TaskStatus.NOT_STARTED: 21,
    },
    "fk-godkend-serviceaftale": {TaskStatus.COMPLETED: 78, TaskStatus.STARTED: 1, TaskStatus.NOT_STARTED: 19},
    "mbp-kontaktpunkt-incident": {
        TaskStatus.COMPLETED: 13,
        TaskStatus.STARTED: 9,
        TaskStatus.NOT_STARTED: 76,
    },
    "mbp-underskriftberettiget-skat": {
        TaskStatus.COMPLETED: 18,
        TaskStatus.STARTED: 20,
        TaskStatus.NOT_STARTED: 60,
    },
    "mbp-tjek-it-miljoe": {
        TaskStatus.COMPLETED: 14,
        TaskStatus.STARTED: 9,
        TaskStatus.NOT_STARTED: 10,
        TaskStatus.NOT_ACTIVE: 65,
    },
}


async def test_98_municipalities_with_official_codes(sessions: SessionFactory) -> None:
    async with sessions() as session:
        rows = {m.code: m.name for m in await session.scalars(select(Municipality))}
    assert len(rows) == 98
    assert rows[101] == "København"
    assert rows[147] == "Frederiksberg"
    assert rows[461] == "Odense"
    assert rows[630] == "Vejle"
    assert rows[751] == "Aarhus"
    assert rows[851] == "Aalborg"


async def test_status_counts_match_the_slides(sessions: SessionFactory) -> None:
    async with sessions() as session:
        for task_id, expected in SLIDE_COUNTS.items():
            rows = await session.execute(
                select(MunicipalityTaskStatus.status, func.count())
                .where(MunicipalityTaskStatus.task_id == task_id)
                .group_by(MunicipalityTaskStatus.status)
            )
            assert {status: count for status, count in rows} == expected, task_id


async def test_announced_tasks_have_no_statuses(sessions: SessionFactory) -> None:
    async with sessions() as session:
        announced = list(await session.scalars(select(Task.id).where(Task.state == TaskState.ANNOUNCED)))
        assert len(announced) == 8  # 2 upcoming in Monopolbrud, 6 AULA
        count = await session.scalar(
            select(func.count())
            .select_from(MunicipalityTaskStatus)
            .where(MunicipalityTaskStatus.task_id.in_(announced))
        )
    assert count == 0


async def test_events_and_their_slots(sessions: SessionFactory) -> None:
    async with sessions() as session:
        events = {e.id: e for e in await session.scalars(select(Event))}
    assert len(events) == 10
    february = events["programledermoede-2019-02"]
    assert [s.starts_at.isoformat() for s in february.slots] == [
        "2019-02-27T09:00:00+00:00",
        "2019-02-28T12:30:00+00:00",
    ]
    styregrupper = events["styregrupper-kursus-2019"]
    assert [s.sold_out for s in styregrupper.slots] == [True, False]


async def test_demo_tenants_map_to_their_municipality(engine: AsyncEngine) -> None:
    async with engine.connect() as db:
        vejle = await municipality_for_tenant(db, "00000000-0000-4000-8000-000000000630")
        assert vejle is not None and vejle.name == "Vejle"
        assert await municipality_for_tenant(db, "00000000-0000-4000-8000-000000000000") is None
        assert await db.scalar(select(func.count()).select_from(Tenant)) == 98
        assert (await find_municipality(db, "vejle kommune")) == vejle
        assert (await find_municipality(db, "630")) == vejle
        assert (await find_municipality(db, "Bornholms Regionskommune")) is not None
    assert demo_tenant_id(630) == "00000000-0000-4000-8000-000000000630"


def test_spread_is_deterministic_and_exact() -> None:
    codes = list(range(100, 198))
    counts = {TaskStatus.COMPLETED: 40, TaskStatus.STARTED: 8, TaskStatus.NOT_STARTED: 50}
    first = spread_statuses("task", codes, counts)
    assert first == spread_statuses("task", codes, counts)
    assert Counter(first.values()) == counts
    assert first != spread_statuses("other-task", codes, counts)


async def test_statuses_over_a_catalogue_read_once_equal_the_full_query(engine: AsyncEngine) -> None:
    """A turn reads the catalogue once per catalogue version and then only the municipality's
    statuses: the tasks it shows are exactly what the one full query gives."""
    now = datetime.fromisoformat("2019-01-23T10:00:00+01:00")
    actor = Actor("u1", "Mette Holm", None, demo_tenant_id(630))
    async with engine.connect() as db:
        changed = await change_status(db, 630, "mbp-tjek-it-miljoe", TaskStatus.STARTED, actor, "test", now)
        assert changed.outcome is Outcome.CHANGED
        await set_responsible(db, 630, "mbp-tjek-it-miljoe", "Mette Holm", None)
        catalogue = await task_views(db, None)
        for code in (630, 101, None):
            assert await with_statuses(db, catalogue, code) == await task_views(db, code)
        vejle = {t.id: t for t in await with_statuses(db, catalogue, 630)}
        assert vejle["mbp-tjek-it-miljoe"].status is TaskStatus.STARTED
        assert vejle["mbp-tjek-it-miljoe"].changed_by_name == "Mette Holm"
        assert vejle["mbp-tjek-it-miljoe"].responsible_name == "Mette Holm"


async def test_events_of_a_period_from_the_catalogue_read_once_equal_the_query(engine: AsyncEngine) -> None:
    """Event answers filter the events the turn's vocabulary read: exactly what the query gives."""
    cph = ZoneInfo("Europe/Copenhagen")
    periods = [
        Period(None, None),
        Period(datetime(2019, 1, 23, 10, tzinfo=cph), None),
        Period(datetime(2019, 3, 1, tzinfo=cph), datetime(2019, 4, 1, tzinfo=cph)),
        Period(None, datetime(2019, 2, 6, tzinfo=cph)),
        Period(datetime(2019, 2, 5, 9, 30, tzinfo=cph), datetime(2019, 2, 5, 10, tzinfo=cph)),
        Period(datetime(2030, 1, 1, tzinfo=cph), None),
    ]
    async with engine.connect() as db:
        everything = await events_in(db, Period(None, None))
        assert everything
        for period in periods:
            assert events_within(everything, period) == await events_in(db, period), period
