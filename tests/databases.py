"""Seeded test databases on SQLite and PostgreSQL.

One template per backend is migrated and loaded with the demo dataset once per test session;
each test gets its own copy (a file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL),
so tests may write freely and never see each other's changes.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from storage.db import create_engine, session_factory
from storage.demo import load_demo
from storage.migrate import upgrade

BACKENDS = [
    b.strip() for b in os.environ.get("KLIKBOT_TEST_DATABASES", "sqlite,postgresql").split(",") if b.strip()
]
PG_URL = os.environ.get("KLIKBOT_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def seed(url: str) -> None:
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            await load_demo(session)
    finally:
        await engine.dispose()


def _pg_admin_dsn() -> str:
    url = make_url(PG_URL)
    return f"postgresql://{url.username or 'postgres'}@{url.host or '127.0.0.1'}:{url.port or 5432}/{url.database or 'test'}"


class SqliteTemplates:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.template: Path | None = None

    async def fresh(self, seeded: bool = True) -> str:
        target = self.directory / f"{uuid.uuid4().hex}.db"
        if not seeded:
            return f"sqlite+aiosqlite:///{target}"
        if self.template is None:
            template = self.directory / "template.db"
            await seed(f"sqlite+aiosqlite:///{template}")
            self.template = template
        shutil.copyfile(self.template, target)
        return f"sqlite+aiosqlite:///{target}"

    async def cleanup(self) -> None:
        pass


class PostgresTemplates:
    def __init__(self) -> None:
        self.prefix = f"klikbot_{uuid.uuid4().hex[:8]}"
        self.template: str | None = None
        self.created: list[str] = []
        self._counter = 0

    def _url(self, database: str) -> str:
        return make_url(PG_URL).set(database=database).render_as_string(hide_password=False)

    async def _admin(self, sql: str) -> None:
        connection = await asyncpg.connect(_pg_admin_dsn())
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    async def fresh(self, seeded: bool = True) -> str:
        self._counter += 1
        name = f"{self.prefix}_{self._counter}"
        if not seeded:
            await self._admin(f'CREATE DATABASE "{name}"')
            self.created.append(name)
            return self._url(name)
        if self.template is None:
            template = f"{self.prefix}_template"
            await self._admin(f'CREATE DATABASE "{template}"')
            self.created.append(template)
            await seed(self._url(template))
            self.template = template
        await self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.created.append(name)
        return self._url(name)

    async def drop(self, name: str) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def cleanup(self) -> None:
        for name in reversed(self.created):
            await self.drop(name)
        self.created.clear()
