"""The demo dataset: KLIK as shown at the programme-leader meeting of 23 January 2019.

The data itself is `data/demo.yaml` (shipped inside the package). Statuses are given there as
counts per task; they are spread over the 98 municipalities in a fixed order derived from the
task id and the municipality code, so every run gives every municipality the same statuses.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time
from importlib import resources
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.catalogue import Catalogue, load_document, parse_catalogue
from storage.domain import COPENHAGEN, STATUS_ORDER, TaskState, TaskStatus, TaskView
from storage.models import (
    CatalogueVersion,
    Event,
    EventSlot,
    Incident,
    Municipality,
    MunicipalityTaskStatus,
    Programme,
    Task,
    Tenant,
)
from storage.views import CatalogueWords, EventView, MunicipalityRef, ProgrammeView, SlotView

KOMBIT_TENANT_ID = "00000000-0000-4000-8000-000000000000"


def demo_tenant_id(municipality_code: int) -> str:
    """CONTRACT.md: municipality NNN has tenant 00000000-0000-4000-8000-000000000NNN."""
    return f"00000000-0000-4000-8000-{municipality_code:012d}"


def demo_clock() -> datetime:
    return datetime.fromisoformat(str(load_demo_yaml()["clock"]))


def load_demo_yaml() -> dict[str, Any]:
    """The demo dataset as plain data, read as every catalogue file is (storage/catalogue.py)."""
    return load_document(resources.files("storage").joinpath("data/demo.yaml").read_bytes())


def spread_statuses(task_id: str, codes: list[int], counts: dict[TaskStatus, int]) -> dict[int, TaskStatus]:
    """Give each municipality one status so that the totals match `counts` exactly.

    The order is a hash of task id and municipality code: stable across runs and machines,
    and different for every task (so no municipality is behind on everything).
    """
    if sum(counts.values()) != len(codes):
        raise ValueError(f"{task_id}: counts add up to {sum(counts.values())}, not {len(codes)}")
    ordered = sorted(codes, key=lambda c: hashlib.sha256(f"{task_id}:{c}".encode()).digest())
    result: dict[int, TaskStatus] = {}
    position = 0
    for status in STATUS_ORDER:
        for code in ordered[position : position + counts.get(status, 0)]:
            result[code] = status
        position += counts.get(status, 0)
    return result


def _local(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=COPENHAGEN)


@dataclass(frozen=True)
class DemoSummary:
    municipalities: int
    tasks: int
    events: int
    statuses: int


async def ensure_municipalities(session: AsyncSession) -> int:
    """The 98 municipalities are reference data: put them in a database that has none, so
    tenants can be mapped before any catalogue is imported. Returns how many were added."""
    if await session.scalar(select(func.count()).select_from(Municipality)):
        return 0
    rows = load_demo_yaml()["municipalities"]
    session.add_all(Municipality(code=int(m["code"]), name=m["name"]) for m in rows)
    await session.flush()
    return len(rows)


async def database_is_empty(session: AsyncSession) -> bool:
    """No catalogue yet (municipalities alone may be there: they are reference data)."""
    count = await session.scalar(select(func.count()).select_from(Task))
    return not count


async def load_demo(session: AsyncSession) -> DemoSummary:
    """Insert the demo dataset into an empty database (the caller commits)."""
    data = load_demo_yaml()
    codes = [int(m["code"]) for m in data["municipalities"]]
    await ensure_municipalities(session)
    mapped = set(await session.scalars(select(Tenant.tenant_id)))
    session.add_all(
        Tenant(tenant_id=demo_tenant_id(code), municipality_code=code)
        for code in codes
        if demo_tenant_id(code) not in mapped
    )
    session.add_all(
        Programme(id=p["id"], name=p["name"], short_name=p["short_name"], note=p.get("note", ""))
        for p in data["programmes"]
    )
    await session.flush()
    statuses: list[MunicipalityTaskStatus] = []
    for t in data["tasks"]:
        deadline = t.get("deadline")
        session.add(
            Task(
                id=t["id"],
                title=t["title"],
                programme_id=t["programme"],
                description=t.get("description", ""),
                mandatory=bool(t.get("mandatory", False)),
                critical_path=bool(t.get("critical_path", False)),
                deadline=deadline if isinstance(deadline, date) else None,
                deadline_rule=t.get("deadline_rule", ""),
                contact=t.get("contact", ""),
                state=TaskState(t["state"]),
                notes=t.get("notes", ""),
                keywords=list(t.get("keywords", [])),
                completion_signals=list(t.get("completion_signals", [])),
            )
        )
        if "counts" in t:
            counts = {TaskStatus(k): int(v) for k, v in t["counts"].items()}
            spread = spread_statuses(t["id"], codes, counts)
            statuses.extend(
                MunicipalityTaskStatus(municipality_code=code, task_id=t["id"], status=status)
                for code, status in spread.items()
            )
    await session.flush()  # statuses refer to tasks; the unit of work does not order them itself
    session.add_all(statuses)
    for e in data["events"]:
        event = Event(
            id=e["id"],
            title=e["title"],
            kind=e["kind"],
            description=e.get("description", ""),
            audience=e.get("audience", ""),
            location=e.get("location", ""),
            online=bool(e.get("online", False)),
            registration_url=e.get("registration_url", ""),
            registration_note=e.get("registration_note", ""),
            registration_deadline=e.get("registration_deadline"),
        )
        for s in e["slots"]:
            all_day = bool(s.get("all_day", False))
            start = _local(str(s["start"]))
            end = _local(str(s["end"]))
            if all_day:
                # Whole days: from the first midnight to the midnight after the last day.
                start = datetime.combine(start.date(), time.min, tzinfo=COPENHAGEN)
                end = datetime.combine(end.date(), time.max, tzinfo=COPENHAGEN)
            event.slots.append(
                EventSlot(
                    starts_at=start,
                    ends_at=end,
                    all_day=all_day,
                    location=s.get("location", ""),
                    sold_out=bool(s.get("sold_out", False)),
                    registration_url=s.get("registration_url", ""),
                )
            )
        session.add(event)
    version = await session.get(CatalogueVersion, 1)
    if version is None:
        session.add(CatalogueVersion(id=1, version=2))
    else:
        version.version += 1
    for i in data["incidents"]:
        session.add(
            Incident(
                title=i["title"],
                description=i.get("description", ""),
                affected_systems=list(i.get("affected_systems", [])),
                severity=str(i.get("severity", "")),
                status=i.get("status", "investigating"),
                started_at=_local(str(i["started_at"])),
                resolved_at=_local(str(i["resolved_at"])) if i.get("resolved_at") else None,
                latest_update=i.get("latest_update", ""),
            )
        )
    await session.flush()
    return DemoSummary(len(codes), len(data["tasks"]), len(data["events"]), len(statuses))


def catalogue_words_of(catalogue: Catalogue) -> CatalogueWords:
    """A catalogue file's words as the database would give them (storage.queries.catalogue_words),
    without a database: for benchmarks and tests of the understanding."""
    programmes = {p.id: p for p in catalogue.programmes or ()}
    tasks = tuple(
        TaskView(
            id=t.id,
            title=t.title,
            programme=programmes[t.programme].name if t.programme in programmes else t.programme,
            programme_short=programmes[t.programme].short_name if t.programme in programmes else "",
            description=t.description,
            mandatory=t.mandatory,
            critical_path=t.critical_path,
            deadline=t.deadline,
            deadline_rule=t.deadline_rule,
            contact=t.contact,
            state=t.state,
            notes=t.notes,
            keywords=t.keywords,
            status=None,
            completion_signals=t.completion_signals,
        )
        for t in sorted(catalogue.tasks or (), key=lambda t: t.title)
    )
    events = tuple(
        EventView(
            id=e.id,
            title=e.title,
            kind=e.kind,
            description=e.description,
            audience=e.audience,
            location=e.location,
            online=e.online,
            registration_url=e.registration_url,
            registration_note=e.registration_note,
            registration_deadline=e.registration_deadline,
            slots=tuple(
                SlotView(s.starts_at, s.ends_at, s.all_day, s.location, s.sold_out, s.registration_url)
                for s in e.slots
            ),
        )
        for e in sorted(
            (e for e in catalogue.events or () if not e.cancelled and e.slots),
            key=lambda e: e.slots[0].starts_at,
        )
    )
    return CatalogueWords(
        version=1,
        tasks=tasks,
        events=events,
        programmes=tuple(ProgrammeView(p.id, p.name, p.short_name, p.note) for p in programmes.values()),
        municipalities=tuple(MunicipalityRef(m.code, m.name) for m in catalogue.municipalities or ()),
    )


def demo_catalogue_words() -> CatalogueWords:
    """The demo dataset's words, as `klikbot serve --demo` would have them."""
    return catalogue_words_of(parse_catalogue(load_demo_yaml()))
