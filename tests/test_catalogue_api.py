"""PUT /api/tasks/{id}, PUT /api/events/{id}, POST /api/import with the operator token."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from storage.db import create_engine
from storage.models import Event, MunicipalityTaskStatus
from tests.catalogue_helpers import as_yaml, demo_catalogue, jsonable, snapshot
from tests.conftest import DEMO_NOW
from tests.harness import BotUnderTest, running_bot
from tests.test_catalogue_files import BOMB

TOKEN = "operator-secret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def operator_bot(database_url: str) -> AsyncIterator[BotUnderTest]:
    async with running_bot(database_url, now=DEMO_NOW, admin_token=TOKEN) as bot:
        yield bot


def _url(bot: BotUnderTest, path: str) -> str:
    return str(bot.server.make_url(path))


async def _send(
    bot: BotUnderTest,
    method: str,
    path: str,
    body: Any,
    *,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = await bot.http.request(
        method,
        _url(bot, path),
        data=data,
        headers={"Content-Type": content_type, **(AUTH if headers is None else headers)},
    )
    payload = await response.json()
    return response.status, payload


NEW_TASK = {
    "title": "Udpeg YR-ansvarlig",
    "programme": "ydelsesrefusion",
    "state": "active",
    "deadline": "2019-03-01",
}


async def test_the_api_is_off_without_a_token(bot: BotUnderTest) -> None:
    status, body = await _send(bot, "PUT", "/api/tasks/yr-ny", NEW_TASK)
    assert status == 404 and "KLIKBOT_ADMIN_TOKEN" in body["error"]


async def test_a_missing_or_wrong_token_gets_401(operator_bot: BotUnderTest) -> None:
    assert (await _send(operator_bot, "PUT", "/api/tasks/yr-ny", NEW_TASK, headers={}))[0] == 401
    wrong = {"Authorization": "Bearer nope"}
    assert (await _send(operator_bot, "POST", "/api/import", {"tasks": []}, headers=wrong))[0] == 401


async def test_put_task_creates_then_reports_unchanged(operator_bot: BotUnderTest, database_url: str) -> None:
    status, body = await _send(operator_bot, "PUT", "/api/tasks/yr-ny", NEW_TASK)
    assert status == 201, body
    assert body["tasks"]["created"] == 1 and body["statuses_created"] == 98
    assert body["news"] == [{"task_id": "yr-ny", "kind": "new"}]
    status, body = await _send(operator_bot, "PUT", "/api/tasks/yr-ny", {**NEW_TASK, "id": "yr-ny"})
    assert status == 200 and body["tasks"]["unchanged"] == 1 and body["news"] == []
    # A PUT of one task closes nothing else.
    assert body["tasks"]["removed"] == 0
    engine = create_engine(database_url)
    try:
        async with engine.connect() as db:
            rows = (
                await db.execute(
                    select(MunicipalityTaskStatus).where(MunicipalityTaskStatus.task_id == "yr-ny")
                )
            ).all()
    finally:
        await engine.dispose()
    assert len(rows) == 98


async def test_put_task_refuses_bad_input(operator_bot: BotUnderTest) -> None:
    status, body = await _send(operator_bot, "PUT", "/api/tasks/yr-ny", {**NEW_TASK, "deadline": "31/13"})
    assert status == 400 and body["errors"] == [
        "tasks[0] (id yr-ny): deadline: '31/13' is not a date (YYYY-MM-DD)"
    ]
    status, body = await _send(operator_bot, "PUT", "/api/tasks/yr-ny", {**NEW_TASK, "programme": "ukendt"})
    assert status == 400 and "is not a programme" in body["errors"][0]
    status, body = await _send(operator_bot, "PUT", "/api/tasks/yr-ny", {**NEW_TASK, "id": "andet"})
    assert status == 400 and "not the id in the path" in body["error"]
    status, body = await _send(operator_bot, "PUT", "/api/tasks/yr-ny", [1, 2])
    assert status == 400 and "top level must be a mapping" in body["errors"][0]
    status, body = await _send(operator_bot, "PUT", "/api/tasks/yr-ny", b"{not json")
    assert status == 400 and "not valid JSON" in body["errors"][0]
    status, body = await _send(operator_bot, "PUT", "/api/tasks/yr-ny", b"x", content_type="text/plain")
    assert status == 415


async def test_put_event_moves_it_and_raises_the_sequence(
    operator_bot: BotUnderTest, database_url: str
) -> None:
    data = jsonable(demo_catalogue())
    meeting = next(e for e in data["events"] if e["id"] == "programledermoede-2019-02")
    meeting["slots"][1]["start"], meeting["slots"][1]["end"] = "2019-02-28T14:00", "2019-02-28T15:00"
    status, body = await _send(operator_bot, "PUT", "/api/events/programledermoede-2019-02", meeting)
    assert status == 200 and body["events"]["updated"] == 1
    status, body = await _send(
        operator_bot,
        "PUT",
        "/api/events/programledermoede-2019-02",
        as_yaml(meeting),
        content_type="application/yaml",
    )
    assert status == 200 and body["events"]["unchanged"] == 1
    engine = create_engine(database_url)
    try:
        async with engine.connect() as db:
            sequence = await db.scalar(select(Event.sequence).where(Event.id == "programledermoede-2019-02"))
    finally:
        await engine.dispose()
    assert sequence == 1


async def test_post_import_yaml_and_json_with_dry_run(operator_bot: BotUnderTest, database_url: str) -> None:
    data = demo_catalogue()
    data["tasks"].append({"id": "ny", "title": "Ny", "programme": "aula", "state": "active"})
    engine = create_engine(database_url)
    try:
        before = await snapshot(engine)
        status, body = await _send(
            operator_bot, "POST", "/api/import?dry_run=true", as_yaml(data), content_type="application/yaml"
        )
        assert status == 200 and body["dry_run"] is True and body["tasks"]["created"] == 1
        assert await snapshot(engine) == before
        status, body = await _send(operator_bot, "POST", "/api/import", jsonable(data))
        assert status == 200 and body["tasks"] == {"created": 1, "updated": 0, "unchanged": 13, "removed": 0}
        status, body = await _send(operator_bot, "POST", "/api/import", jsonable(data))
        assert body["tasks"]["unchanged"] == 14 and body["news"] == []
    finally:
        await engine.dispose()


async def test_post_import_refuses_bombs_and_big_bodies(
    operator_bot: BotUnderTest, database_url: str
) -> None:
    engine = create_engine(database_url)
    try:
        before = await snapshot(engine)
        status, body = await _send(operator_bot, "POST", "/api/import", BOMB, content_type="application/yaml")
        assert status == 400 and "aliases" in body["errors"][0]
        status, body = await _send(
            operator_bot, "POST", "/api/import", b"# " + b"x" * (1024 * 1024), content_type="text/yaml"
        )
        assert status == 413 and "1 MiB" in body["error"]
        status, body = await _send(
            operator_bot, "POST", "/api/import", bytes(range(256)), content_type="application/yaml"
        )
        assert status == 400 and "UTF-8" in body["errors"][0]
        assert await snapshot(engine) == before
    finally:
        await engine.dispose()


async def test_completion_signals_from_an_import_are_understood_at_once(
    operator_bot: BotUnderTest, database_url: str
) -> None:
    """A new task with its own completion signal: the running bot rebuilds its vocabulary after
    the import, and a report in the signal's words is about that task (confirmed first)."""
    task = {
        **NEW_TASK,
        "title": "Indsend kommunens testplan for Ydelsesrefusion",
        "keywords": ["testplan"],
        "completion_signals": ["testplanen er uploadet til YR-portalen"],
    }
    status, body = await _send(operator_bot, "PUT", "/api/tasks/yr-testplan", task)
    assert status == 201, body
    chat = f"a:personal-{'signals'}"
    ask = await operator_bot.ask_one("vi har uploadet testplanen til portalen", conversation_id=chat)
    assert ask.card is not None
    assert ask.card["body"][0]["text"] == "Skal jeg sætte opgaven til Fuldført?"
    assert "Indsend kommunens testplan for Ydelsesrefusion" in ask.text
    done = await operator_bot.ask_one("ja", conversation_id=chat)
    assert "✓ Status ændret: Ikke påbegyndt → Fuldført" in done.text
    engine = create_engine(database_url)
    try:
        async with engine.connect() as db:
            row = (
                await db.execute(
                    select(MunicipalityTaskStatus.status).where(
                        MunicipalityTaskStatus.task_id == "yr-testplan", MunicipalityTaskStatus.municipality_code == 630
                    )
                )
            ).one()
    finally:
        await engine.dispose()
    assert row.status.value == "fuldfoert"
    # Malformed signals are refused with the field named.
    status, body = await _send(operator_bot, "PUT", "/api/tasks/yr-testplan", {**task, "completion_signals": "x"})
    assert status == 400 and "completion_signals: must be a list of phrases" in body["errors"][0]

