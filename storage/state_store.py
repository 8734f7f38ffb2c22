"""A key-value store with eTag optimistic concurrency, for conversation and user state.

Semantics follow botbuilder's Cosmos DB and Blob storages: a write with the eTag that was
read succeeds and gets a new eTag; a write with a stale eTag fails with StaleETagError;
a write with no eTag or with "*" overwrites. Values are JSON documents. This module knows
nothing about botbuilder; bot/state_storage.py adapts it to botbuilder's Storage.

Keys are any non-empty strings. botbuilder's are "<channel>/conversations/<conversation id>",
and a Teams conversation id may have 1,024 characters: a key longer than the column (255) is
stored under its hash (storage.limits.fit), and callers always see their own key.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.limits import fit
from storage.models import BotState

MAX_KEY_LENGTH = 255  # the column's size: longer keys are stored as their hash


class StaleETagError(Exception):
    """Someone else wrote the item since it was read."""


@dataclass(frozen=True, slots=True)
class StoredItem:
    data: dict[str, Any]
    etag: str


@dataclass(frozen=True, slots=True)
class Change:
    data: dict[str, Any]
    etag: str | None  # None or "*": overwrite; otherwise the eTag that was read


# Built once: read on every turn.
_READ = select(BotState.key, BotState.data, BotState.etag).where(
    BotState.key.in_(bindparam("keys", expanding=True))
)


class StateStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def read(self, keys: Iterable[str]) -> dict[str, StoredItem]:
        wanted = {_stored_key(k): k for k in keys}
        if not wanted:
            return {}
        async with self._engine.connect() as connection:
            rows = await connection.execute(_READ, {"keys": list(wanted)})
            return {wanted[row.key]: StoredItem(row.data, row.etag) for row in rows}

    async def write(self, changes: Mapping[str, Change]) -> dict[str, str]:
        """Write all changes in one transaction; returns the new eTag of each key."""
        new_etags: dict[str, str] = {}
        dialect = self._engine.dialect.name
        async with self._engine.begin() as connection:
            for original, change in changes.items():
                key = _stored_key(original)
                etag = uuid.uuid4().hex
                if change.etag in (None, "*"):
                    insert = pg_insert if dialect == "postgresql" else sqlite_insert
                    statement = insert(BotState).values(key=key, data=change.data, etag=etag)
                    await connection.execute(
                        statement.on_conflict_do_update(
                            index_elements=[BotState.key],
                            set_={"data": statement.excluded.data, "etag": statement.excluded.etag},
                        )
                    )
                else:
                    result = await connection.execute(
                        update(BotState)
                        .where(BotState.key == key, BotState.etag == change.etag)
                        .values(data=change.data, etag=etag)
                    )
                    if result.rowcount != 1:
                        raise StaleETagError(f"eTag conflict for state key {key[:80]!r}")
                new_etags[original] = etag
        return new_etags

    async def create(self, key: str, data: dict[str, Any]) -> bool:
        """Insert the item only if the key is new; True when this call created it."""
        key = _stored_key(key)
        insert = pg_insert if self._engine.dialect.name == "postgresql" else sqlite_insert
        async with self._engine.begin() as connection:
            result = await connection.execute(
                insert(BotState).values(key=key, data=data, etag=uuid.uuid4().hex).on_conflict_do_nothing()
            )
        return bool(result.rowcount == 1)

    async def delete(self, keys: Iterable[str]) -> None:
        wanted = [_stored_key(k) for k in keys]
        if not wanted:
            return
        async with self._engine.begin() as connection:
            await connection.execute(delete(BotState).where(BotState.key.in_(wanted)))


def _stored_key(key: str) -> str:
    """The key as stored: itself, or its hash when it is longer than the column."""
    if not key:
        raise ValueError("state keys must not be empty")
    return fit(key, MAX_KEY_LENGTH)
