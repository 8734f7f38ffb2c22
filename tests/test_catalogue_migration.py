"""Migration 0004 upgrades a database that already holds a catalogue."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from storage.db import create_engine
from storage.migrate import upgrade


async def test_0004_upgrades_a_database_with_events(empty_database_url: str) -> None:
    await asyncio.to_thread(upgrade, empty_database_url, "0003")
    engine = create_engine(empty_database_url)
    try:
        async with engine.begin() as db:
            await db.execute(
                text(
                    "INSERT INTO event (id, title, kind, description, audience, location, online, "
                    "registration_url, registration_note, cancelled) "
                    "VALUES ('e', 'E', 'workshop', '', '', '', false, '', '', false)"
                )
            )
        await asyncio.to_thread(upgrade, empty_database_url)
        async with engine.connect() as db:
            assert await db.scalar(text("SELECT sequence FROM event WHERE id = 'e'")) == 0
            assert await db.scalar(text("SELECT count(*) FROM task_news")) == 0
    finally:
        await engine.dispose()
