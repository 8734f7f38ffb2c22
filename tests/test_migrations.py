"""The shipped migrations build the schema the models describe, on both databases."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage.db import create_engine
from storage.migrate import upgrade
from storage.models import Base


async def test_upgrade_from_empty_matches_the_models(empty_database_url: str) -> None:
    await asyncio.to_thread(upgrade, empty_database_url)
    await asyncio.to_thread(upgrade, empty_database_url)  # a second run changes nothing

    def diff(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

    engine = create_engine(empty_database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(diff)
    finally:
        await engine.dispose()
    assert differences == []


async def test_upgrade_to_0005_keeps_the_delivery_queue_and_the_subscriptions(
    empty_database_url: str,
) -> None:
    """A database with notices in flight: on SQLite the batch rebuild of conversation_ref must
    not cascade into notice_delivery, and existing conversations get task news only where
    they get incident notices."""
    url = empty_database_url
    await asyncio.to_thread(upgrade, url, "0004")
    at = "'2024-01-01 00:00:00+00:00'"
    engine = create_engine(url)
    try:
        async with engine.begin() as db:
            for statement in (
                "INSERT INTO incident (id, title, description, affected_systems, severity, status, started_at,"
                f" latest_update, version) VALUES (1, 't', 'd', '[]', 'A', 'investigating', {at}, '', 1)",
                "INSERT INTO conversation_ref (id, conversation_id, service_url, tenant_id, conversation_type,"
                " channel, lang, active, inactive_reason, subscribed, systems, updated_at, team_id) VALUES"
                f" (1, 'c1', 'https://s', 't1', 'channel', 'msteams', 'da', true, '', true, '', {at}, 'team'),"
                f" (2, 'c2', 'https://s', 't1', 'channel', 'msteams', 'da', true, '', false, '', {at}, 'team')",
                "INSERT INTO notice_delivery (incident_id, version, kind, conversation_ref_id, conversation_id,"
                " service_url, lane, lang, state, available_at, attempts, last_error, activity_id) VALUES"
                f" (1, 1, 'post', 1, 'c1', 'https://s', 't1', 'da', 'sent', {at}, 1, '', 'act-1')",
            ):
                await db.execute(text(statement))
    finally:
        await engine.dispose()
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    try:
        async with engine.connect() as db:
            posted = (await db.execute(text("SELECT activity_id FROM notice_delivery"))).scalars().all()
            news = (await db.execute(text("SELECT id, news FROM conversation_ref ORDER BY id"))).all()
    finally:
        await engine.dispose()
    assert posted == ["act-1"]  # later updates still edit the card in place
    assert [(i, bool(n)) for i, n in news] == [(1, True), (2, False)]


async def test_upgrade_to_0007_records_where_existing_conversations_came_from(
    empty_database_url: str,
) -> None:
    """Rows older than the origin column: `klikbot chat`'s become "terminal", the others
    "unknown"; a notice in flight keeps its row (no rebuild cascades into notice_delivery)."""
    url = empty_database_url
    await asyncio.to_thread(upgrade, url, "0006")
    at = "'2024-01-01 00:00:00+00:00'"
    engine = create_engine(url)
    try:
        async with engine.begin() as db:
            for statement in (
                "INSERT INTO incident (id, title, description, affected_systems, severity, status, started_at,"
                f" latest_update, version) VALUES (1, 't', 'd', '[]', 'A', 'investigating', {at}, '', 1)",
                "INSERT INTO conversation_ref (id, conversation_id, service_url, tenant_id, conversation_type,"
                " channel, lang, active, inactive_reason, subscribed, systems, updated_at, team_id, news) VALUES"
                f" (1, 'c1', 'https://smba.trafficmanager.net/emea/', 't1', 'channel', 'msteams', 'da', true, '',"
                f" true, '', {at}, 'team', true),"
                f" (2, 'terminal-1', 'http://localhost', 't1', 'personal', 'terminal', 'da', true, '', true, '',"
                f" {at}, null, true)",
                "INSERT INTO notice_delivery (incident_id, version, kind, conversation_ref_id, conversation_id,"
                " service_url, lane, lang, state, available_at, attempts, last_error, activity_id) VALUES"
                f" (1, 1, 'post', 1, 'c1', 'https://smba.trafficmanager.net/emea/', 't1', 'da', 'sent', {at}, 1,"
                " '', 'act-1')",
            ):
                await db.execute(text(statement))
    finally:
        await engine.dispose()
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    try:
        async with engine.connect() as db:
            origins = (
                await db.execute(text("SELECT conversation_id, origin FROM conversation_ref ORDER BY id"))
            ).all()
            posted = (await db.execute(text("SELECT activity_id FROM notice_delivery"))).scalars().all()
    finally:
        await engine.dispose()
    assert [tuple(row) for row in origins] == [("c1", "unknown"), ("terminal-1", "terminal")]
    assert posted == ["act-1"]
