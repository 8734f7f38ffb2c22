"""Shared by the catalogue tests: the demo catalogue as data, and a snapshot of the catalogue tables."""

from __future__ import annotations

import copy
from datetime import date, datetime
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Base

_DEMO = yaml.safe_load(resources.files("storage").joinpath("data/demo.yaml").read_text(encoding="utf-8"))

TABLES = (
    "programme",
    "task",
    "task_status",
    "status_change",
    "event",
    "event_slot",
    "task_news",
    "municipality",
    "tenant",
)


def demo_catalogue() -> dict[str, Any]:
    """A deep copy of storage/data/demo.yaml as plain data, to edit in a test."""
    return copy.deepcopy(_DEMO)


def as_yaml(data: dict[str, Any]) -> bytes:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode()


def jsonable(value: Any) -> Any:
    """YAML's dates as the strings JSON has."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def task(data: dict[str, Any], task_id: str) -> dict[str, Any]:
    return next(t for t in data["tasks"] if t["id"] == task_id)


def event(data: dict[str, Any], event_id: str) -> dict[str, Any]:
    return next(e for e in data["events"] if e["id"] == event_id)


async def snapshot(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the catalogue tables, sorted: equal snapshots mean nothing changed."""
    result: dict[str, list[tuple[Any, ...]]] = {}
    async with engine.connect() as db:
        for name in TABLES:
            table = Base.metadata.tables[name]
            rows = (await db.execute(select(table))).all()
            result[name] = sorted((tuple(r) for r in rows), key=repr)
        await db.execute(text("SELECT 1"))
    return result
