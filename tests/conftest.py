from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import SessionFactory, create_engine, session_factory
from tests.databases import BACKENDS, PostgresTemplates, SqliteTemplates
from tests.harness import BotUnderTest, running_bot

# The demo clock: the programme-leader meeting of 23 January 2019, 10:00 in Copenhagen.
DEMO_NOW = datetime.fromisoformat("2019-01-23T10:00:00+01:00")

os.environ.setdefault("KLIKBOT_NOW", DEMO_NOW.isoformat())


@pytest.fixture(scope="session")
def _templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    sqlite = SqliteTemplates(Path(tmp_path_factory.mktemp("sqlite")))
    postgres = PostgresTemplates()
    yield {"sqlite": sqlite, "postgresql": postgres}
    asyncio.run(postgres.cleanup())


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def database_url(backend: str, _templates: dict[str, object]) -> str:
    """A fresh copy of the demo database on the backend under test."""
    templates = _templates[backend]
    assert isinstance(templates, SqliteTemplates | PostgresTemplates)
    return await templates.fresh()


@pytest.fixture
async def empty_database_url(backend: str, _templates: dict[str, object]) -> str:
    """A new, empty database (no schema) on the backend under test."""
    templates = _templates[backend]
    assert isinstance(templates, SqliteTemplates | PostgresTemplates)
    return await templates.fresh(seeded=False)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> SessionFactory:
    return session_factory(engine)


@pytest.fixture
async def bot(database_url: str) -> AsyncIterator[BotUnderTest]:
    """The bot on loopback over the demo database at the demo clock, with a fake connector."""
    async with running_bot(database_url, now=DEMO_NOW) as bot:
        yield bot
