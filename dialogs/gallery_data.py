"""The demo dataset as the views the answers take, read straight from storage/data/demo.yaml.

For the card gallery and its tests: no database, no event loop, the same data the demo loads
(statuses spread by `storage.demo.spread_statuses`, so a municipality sees what `chat --demo`
shows it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from storage.demo import load_demo_yaml, spread_statuses
from storage.domain import COPENHAGEN, TaskState, TaskStatus, TaskView
from storage.views import EventView, IncidentView, SlotView


@dataclass(frozen=True)
class DemoData:
    municipality_code: int
    municipality_name: str
    tasks: list[TaskView]  # with the municipality's own statuses
    public_tasks: list[TaskView]  # without statuses: what an unknown tenant or KOMBIT sees
    events: list[EventView]  # every event, in the order of its first slot
    incidents: list[IncidentView]  # newest first


def _local(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=COPENHAGEN)


def _tasks(data: dict[str, Any], code: int | None) -> list[TaskView]:
    programmes = {p["id"]: p for p in data["programmes"]}
    codes = [int(m["code"]) for m in data["municipalities"]]
    views = []
    for t in data["tasks"]:
        status: TaskStatus | None = None
        if code is not None and "counts" in t:
            counts = {TaskStatus(k): int(v) for k, v in t["counts"].items()}
            status = spread_statuses(t["id"], codes, counts)[code]
        deadline = t.get("deadline")
        programme = programmes[t["programme"]]
        views.append(
            TaskView(
                id=t["id"],
                title=t["title"],
                programme=programme["name"],
                programme_short=programme["short_name"],
                description=t.get("description", ""),
                mandatory=bool(t.get("mandatory", False)),
                critical_path=bool(t.get("critical_path", False)),
                deadline=deadline if isinstance(deadline, date) else None,
                deadline_rule=t.get("deadline_rule", ""),
                contact=t.get("contact", ""),
                state=TaskState(t["state"]),
                notes=t.get("notes", ""),
                keywords=tuple(t.get("keywords", ())),
                status=status,
            )
        )
    return sorted(views, key=lambda v: v.title)


def _slot(s: dict[str, Any]) -> SlotView:
    all_day = bool(s.get("all_day", False))
    start, end = _local(s["start"]), _local(s["end"])
    if all_day:  # as storage.demo stores whole days
        start = datetime.combine(start.date(), time.min, tzinfo=COPENHAGEN)
        end = datetime.combine(end.date(), time.max, tzinfo=COPENHAGEN)
    return SlotView(
        starts_at=start,
        ends_at=end,
        all_day=all_day,
        location=s.get("location", ""),
        sold_out=bool(s.get("sold_out", False)),
        registration_url=s.get("registration_url", ""),
    )


def _events(data: dict[str, Any]) -> list[EventView]:
    views = [
        EventView(
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
            slots=tuple(sorted((_slot(s) for s in e["slots"]), key=lambda s: s.starts_at)),
        )
        for e in data["events"]
        if not e.get("cancelled", False)
    ]
    return sorted(views, key=lambda v: v.slots[0].starts_at)


def _incidents(data: dict[str, Any]) -> list[IncidentView]:
    views = [
        IncidentView(
            id=number,
            title=i["title"],
            description=i.get("description", ""),
            affected_systems=tuple(i.get("affected_systems", ())),
            severity=str(i.get("severity", "")),
            status=i.get("status", "investigating"),
            started_at=_local(i["started_at"]),
            resolved_at=_local(i["resolved_at"]) if i.get("resolved_at") else None,
            latest_update=i.get("latest_update", ""),
        )
        for number, i in enumerate(data["incidents"], start=1)
    ]
    return sorted(views, key=lambda v: v.started_at, reverse=True)


def demo_data(municipality: str = "Vejle") -> DemoData:
    """The demo dataset as `municipality` (a name or an official code) sees it."""
    data = load_demo_yaml()
    found = next(
        (m for m in data["municipalities"] if municipality in (m["name"], str(m["code"]))),
        None,
    )
    if found is None:
        raise ValueError(f"no municipality {municipality!r} in the demo dataset")
    code = int(found["code"])
    return DemoData(
        municipality_code=code,
        municipality_name=str(found["name"]),
        tasks=_tasks(data, code),
        public_tasks=_tasks(data, None),
        events=_events(data),
        incidents=_incidents(data),
    )
