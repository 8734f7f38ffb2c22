"""botbuilder's Storage on our SQL state store: conversation state survives restarts and is
shared by several bot instances, with eTag optimistic concurrency like Cosmos DB and Blob storage."""

from __future__ import annotations

from typing import Any

from botbuilder.core import Storage, StoreItem

from storage.db import DatabaseUnavailableError, database_unavailable
from storage.state_store import Change, StaleETagError, StateStore

ETAG = "e_tag"


class ETagConflictError(KeyError):
    """A write with a stale eTag (botbuilder's MemoryStorage raises KeyError too)."""


class SqlStorage(Storage):  # type: ignore[misc]
    def __init__(self, store: StateStore) -> None:
        super().__init__()
        self._store = store

    async def read(self, keys: list[str]) -> dict[str, Any]:
        if not keys:
            return {}
        try:
            items = await self._store.read(keys)
        except Exception as error:
            # Every turn reads its conversation's state first: with the database down, this is
            # where a turn fails, and the user gets "cannot reach the database" (bot/app.py).
            if database_unavailable(error):
                raise DatabaseUnavailableError("could not read the conversation state") from error
            raise
        result: dict[str, Any] = {}
        for key, item in items.items():
            data = dict(item.data)  # freshly decoded from the database: the caller may keep it
            data[ETAG] = item.etag
            result[key] = data
        return result

    async def write(self, changes: dict[str, Any]) -> None:
        if changes is None:
            raise TypeError("changes are required when writing")
        if not changes:
            return
        prepared: dict[str, Change] = {}
        for key, value in changes.items():
            data, etag = _to_document(value)
            if etag == "":
                raise ValueError(f"empty eTag for state key {key!r}")
            prepared[key] = Change(data=data, etag=etag)
        try:
            new_etags = await self._store.write(prepared)
        except StaleETagError as error:
            raise ETagConflictError(str(error)) from error
        except Exception as error:
            if database_unavailable(error):
                raise DatabaseUnavailableError("could not save the conversation state") from error
            raise
        # Hand the new eTag back to the caller's object, so its next write is not stale.
        for key, value in changes.items():
            if isinstance(value, dict):
                value[ETAG] = new_etags[key]
            elif isinstance(value, StoreItem) or hasattr(value, ETAG):
                value.e_tag = new_etags[key]

    async def delete(self, keys: list[str]) -> None:
        await self._store.delete(keys)


def _to_document(value: Any) -> tuple[dict[str, Any], str | None]:
    # No copies: the store encodes the document to JSON before anyone can change it.
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k != ETAG}, value.get(ETAG)
    if hasattr(value, "__dict__"):
        return {k: v for k, v in vars(value).items() if k != ETAG}, getattr(value, ETAG, None)
    raise TypeError(f"cannot store a {type(value).__name__}: give a dict or a StoreItem")
