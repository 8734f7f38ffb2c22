"""botbuilder's Storage on SQL: eTag optimistic concurrency, like Cosmos DB and Blob storage."""

from __future__ import annotations

import pytest
from botbuilder.core import ConversationState, StoreItem, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.state_storage import ETagConflictError, SqlStorage
from storage.state_store import StateStore


@pytest.fixture
def storage(engine: AsyncEngine) -> SqlStorage:
    return SqlStorage(StateStore(engine))


class Note(StoreItem):  # type: ignore[misc]
    def __init__(self, text: str = "", e_tag: str | None = None) -> None:
        super().__init__()
        self.text = text
        self.e_tag = e_tag


async def test_read_what_was_written_with_an_etag(storage: SqlStorage) -> None:
    await storage.write({"a": {"count": 1, "nested": {"list": [1, "x"]}}})
    read = await storage.read(["a", "missing"])
    assert set(read) == {"a"}
    assert read["a"]["count"] == 1 and read["a"]["nested"] == {"list": [1, "x"]}
    assert read["a"]["e_tag"]


async def test_a_stale_etag_is_refused_and_the_newer_write_kept(storage: SqlStorage) -> None:
    await storage.write({"k": {"v": 0}})
    first = (await storage.read(["k"]))["k"]
    second = (await storage.read(["k"]))["k"]
    first["v"] = 1
    await storage.write({"k": first})
    second["v"] = 2
    with pytest.raises(ETagConflictError):
        await storage.write({"k": second})
    assert (await storage.read(["k"]))["k"]["v"] == 1


async def test_the_writer_gets_the_new_etag_back(storage: SqlStorage) -> None:
    await storage.write({"k": {"v": 0}})
    item = (await storage.read(["k"]))["k"]
    item["v"] = 1
    await storage.write({"k": item})
    item["v"] = 2
    await storage.write({"k": item})  # not stale: the first write handed back its eTag
    assert (await storage.read(["k"]))["k"]["v"] == 2


async def test_star_and_missing_etag_overwrite(storage: SqlStorage) -> None:
    await storage.write({"k": {"v": 0}})
    await storage.write({"k": {"v": 1, "e_tag": "*"}})
    await storage.write({"k": {"v": 2}})
    assert (await storage.read(["k"]))["k"]["v"] == 2


async def test_store_items_and_delete(storage: SqlStorage) -> None:
    note = Note("hej")
    await storage.write({"note": note})
    assert note.e_tag
    read = (await storage.read(["note"]))["note"]
    assert read["text"] == "hej" and read["e_tag"] == note.e_tag
    stale = Note("gammel", e_tag="not-the-etag")
    with pytest.raises(ETagConflictError):
        await storage.write({"note": stale})
    await storage.delete(["note", "never-there"])
    assert await storage.read(["note"]) == {}


async def test_an_etag_write_to_a_deleted_item_is_a_conflict(storage: SqlStorage) -> None:
    await storage.write({"k": {"v": 0}})
    item = (await storage.read(["k"]))["k"]
    await storage.delete(["k"])
    with pytest.raises(ETagConflictError):
        await storage.write({"k": item})


async def test_conversation_state_survives_a_new_process(engine: AsyncEngine) -> None:
    """Two ConversationState objects over the same database stand for two bot instances."""

    def context() -> TurnContext:
        activity = Activity(
            type="message",
            channel_id="msteams",
            conversation=ConversationAccount(id="conv-1"),
            from_property=ChannelAccount(id="user-1"),
            recipient=ChannelAccount(id="bot"),
        )
        return TurnContext(TestAdapter(), activity)

    first = ConversationState(SqlStorage(StateStore(engine)))
    turn = context()
    await first.load(turn)
    await first.create_property("memory").set(turn, {"pending": {"kind": "choose_task"}})
    await first.save_changes(turn)

    second = ConversationState(SqlStorage(StateStore(engine)))
    turn = context()
    await second.load(turn)
    assert await second.create_property("memory").get(turn) == {"pending": {"kind": "choose_task"}}
