"""Faults from outside: the database going away and coming back, the Bot Connector answering
500 or not at all. A turn then ends quickly, the user is told briefly (if they can be), the
operator finds it in the log, and the bot resumes by itself."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from sqlalchemy.exc import OperationalError

from bot import bot_connector as connector_module
from bot.broadcast import WorkerConfig
from storage import db as storage_db
from storage.state_store import StateStore
from tests.conftest import DEMO_NOW
from tests.databases import seed
from tests.harness import BotUnderTest, start_bot

UNAVAILABLE_DA = "Beklager, jeg kan ikke nå databasen lige nu. Prøv igen om lidt."
UNAVAILABLE_EN = "Sorry, I cannot reach the database right now. Please try again in a moment."
TOKEN = "fault-test-token"
FAST = WorkerConfig(
    poll=0.05,
    idle_poll=0.2,
    backoff_base=0.01,
    backoff_cap=0.05,
    lease=5.0,
    flush_interval=0.01,
    shutdown_grace=0.5,
)
# A turn with the database down must end long before a user (or Teams, after 15 s) gives up:
# a stopped server refuses at once, an unreachable one within the connect timeout.
DOWN_LIMIT = storage_db.CONNECT_TIMEOUT + 3.0


def _refused() -> OperationalError:
    return OperationalError("SELECT bot_state", {}, ConnectionRefusedError(111, "Connection refused"))


# -- The conversation state cannot be read (any backend) -------------------------------------


async def test_state_read_failing_tells_the_user_to_try_again(
    bot: BotUnderTest, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def down(self: StateStore, keys: Any) -> Any:
        raise _refused()

    with monkeypatch.context() as patch:
        patch.setattr(StateStore, "read", down)
        reply = await bot.ask_one("hvilke opgaver mangler vi?")
        assert reply.text == UNAVAILABLE_DA
        reply = await bot.ask_one("what is due next week?", locale="en-US")
        assert reply.text == UNAVAILABLE_EN
    assert "the database is unavailable" in caplog.text
    assert "Traceback" not in caplog.text  # a known outage, not a bug: one line per turn
    # Back again: a normal answer.
    reply = await bot.ask_one("hvilke opgaver mangler vi?")
    assert reply.card is not None


async def test_other_faults_still_say_something_went_wrong(
    bot: BotUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: StateStore, keys: Any) -> Any:
        raise ValueError("a bug, not an outage")

    monkeypatch.setattr(StateStore, "read", broken)
    reply = await bot.ask_one("hvilke opgaver mangler vi?")
    assert reply.text == "Beklager, noget gik galt hos mig. Prøv igen om lidt."


async def test_card_action_with_the_database_down_answers_with_a_message(
    bot: BotUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def down(self: StateStore, keys: Any) -> Any:
        raise _refused()

    monkeypatch.setattr(StateStore, "read", down)
    body = bot.activity(
        None,
        activity_type="invoke",
        name="adaptiveCard/action",
        value={
            "action": {
                "type": "Action.Execute",
                "verb": "x",
                "data": {"klikbot": "task", "id": 1, "lang": "da"},
            },
            "trigger": "manual",
        },
    )
    response = await bot.post(body)
    assert response.status == 200
    answer = await response.json()
    assert answer["statusCode"] == 503
    assert answer["type"] == "application/vnd.microsoft.error"
    assert answer["value"] == {"code": "DatabaseUnavailable", "message": UNAVAILABLE_DA}


def test_database_faults_are_recognised() -> None:
    unavailable = storage_db.database_unavailable
    assert unavailable(_refused())
    assert unavailable(ConnectionRefusedError(111, "refused"))
    assert unavailable(TimeoutError())
    assert unavailable(asyncpg.exceptions.CannotConnectNowError("the database system is starting up"))
    assert unavailable(asyncpg.exceptions.AdminShutdownError("terminating connection"))
    assert unavailable(asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"))
    wrapped = RuntimeError("wrapped")
    wrapped.__cause__ = ConnectionResetError(104, "reset")
    assert unavailable(wrapped)
    assert not unavailable(ValueError("bad data"))
    assert not unavailable(asyncpg.exceptions.UniqueViolationError("duplicate key"))
    assert not unavailable(KeyError("x"))


# -- The Bot Connector fails ------------------------------------------------------------------


async def test_a_reply_answered_with_500_is_lost_once(bot: BotUnderTest, caplog: pytest.LogCaptureFixture) -> None:
    conversation = "a:faults-500"
    bot.connector.always[conversation] = 500
    started = time.monotonic()
    response = await bot.post(bot.activity("hjælp", conversation_id=conversation))
    assert response.status in (200, 201)
    assert time.monotonic() - started < 5
    # One attempt: 500 is no throttling or blip (those are 429, 502, 503, 504), so no retry, and
    # no apology through the connector that just failed; the lost reply is logged once.
    assert [a[1:3] for a in bot.connector.attempts] == [(conversation, 500)]
    assert bot.connector.take() == []
    lost = [r for r in caplog.records if "a reply was lost" in r.getMessage()]
    assert len(lost) == 1 and conversation in lost[0].getMessage() and "500" in lost[0].getMessage()
    # The next conversation is not held up by it.
    assert (await bot.ask_one("hjælp")).text


async def test_a_hanging_connector_ends_the_turn_within_the_timeout(
    bot: BotUnderTest, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    limit = 0.5
    monkeypatch.setattr(connector_module, "TIMEOUT", aiohttp.ClientTimeout(total=limit, connect=limit))
    gate = asyncio.Event()
    bot.connector.gate = gate  # the connector takes the request and never answers
    try:
        started = time.monotonic()
        response = await bot.post(bot.activity("hjælp"))
        took = time.monotonic() - started
        assert response.status in (200, 201)
        assert limit <= took < limit + 2.0, took
        assert bot.connector.waiting == 1  # tried once, not again, and no apology after it
        # A reply that may have arrived is not sent again (it could show twice): it is lost,
        # and logged once.
        lost = [r for r in caplog.records if "a reply was lost" in r.getMessage()]
        assert len(lost) == 1 and "did not answer" in lost[0].getMessage()
    finally:
        gate.set()
        bot.connector.gate = None
    bot.connector.take()


# -- A real PostgreSQL server stops and starts again -----------------------------------------


def _postgres_bin() -> Path | None:
    found = []
    for bindir in Path("/usr/lib/postgresql").glob("*/bin"):
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            version = re.match(r"\d+", bindir.parent.name)
            found.append((int(version.group()) if version else 0, bindir))
    return max(found)[1] if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivatePostgres:
    """A throwaway PostgreSQL cluster in a temporary directory on its own loopback port, so
    this test may stop and start it without touching the shared server."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="klikbot-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            # initdb and pg_ctl refuse to run as root.
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, tool: str, *args: str) -> None:
        command = [*self.as_user, str(self.bindir / tool), *args]
        done = subprocess.run(
            command, cwd=self.root, capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{tool} {' '.join(args)} failed: {done.stdout}{done.stderr}{tail}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        )
        log = str(self.root / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    async def create_database(self, name: str) -> None:
        connection = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres")
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip(
            "the PostgreSQL server binaries (initdb, pg_ctl) are not installed under /usr/lib/postgresql"
        )
    if os.geteuid() == 0 and (shutil.which("runuser") is None or not _has_user("postgres")):
        pytest.skip(
            "running as root, and there is no `postgres` user and runuser to run initdb and pg_ctl as"
        )
    server = PrivatePostgres(bindir)
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.remove()


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture
async def pg_bot(private_postgres: PrivatePostgres) -> AsyncIterator[tuple[BotUnderTest, PrivatePostgres]]:
    await private_postgres.create_database("klikbot")
    url = private_postgres.url("klikbot")
    await seed(url)  # `klikbot db upgrade` and the demo dataset
    bot, connector = await start_bot(url, now=DEMO_NOW, admin_token=TOKEN, delivery=FAST)
    try:
        yield bot, private_postgres
    finally:
        await bot.http.close()
        await bot.server.close()
        await connector.close()


async def _health(bot: BotUnderTest) -> tuple[int, float]:
    started = time.monotonic()
    async with bot.http.get(bot.server.make_url("/healthz")) as response:
        return response.status, time.monotonic() - started


async def _timed_ask(bot: BotUnderTest, text: str, **kwargs: Any) -> tuple[list[str], float]:
    started = time.monotonic()
    replies = await bot.ask(text, **kwargs)
    return [r.text for r in replies], time.monotonic() - started


async def _announce(bot: BotUnderTest) -> int:
    body = {
        "title": "Nedbrud på Adgangsstyring",
        "description": "BBR er utilgængelig",
        "affected_systems": ["Adgangsstyring", "BBR"],
        "started_at": "2018-12-10T02:21:00+01:00",
    }
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    async with bot.http.post(
        bot.server.make_url("/api/incidents"), data=json.dumps(body), headers=headers
    ) as r:
        assert r.status == 201, await r.text()
        return int((await r.json())["id"])


async def test_database_stops_and_comes_back(
    pg_bot: tuple[BotUnderTest, PrivatePostgres], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bot, server = pg_bot
    chat = "a:personal-faults"
    install = bot.activity(None, activity_type="installationUpdate", action="add", conversation_id=chat)
    assert (await bot.post(install)).status in (200, 201)
    bot.connector.take()  # the welcome
    assert (await _health(bot))[0] == 200
    answers, _ = await _timed_ask(bot, "hvilke opgaver mangler vi?")
    assert len(answers) == 1 and "Udpeg kontaktpunkt" in answers[0]

    await asyncio.to_thread(server.stop)
    status, took = await _health(bot)
    assert status == 503
    assert took < storage_db.HEALTH_TIMEOUT + 1.0, took
    answers, took = await _timed_ask(bot, "hvilke opgaver mangler vi?")
    assert answers == [UNAVAILABLE_DA]
    assert took < DOWN_LIMIT, took
    answers, took = await _timed_ask(bot, "what is due next week?", locale="en-US")
    assert answers == [UNAVAILABLE_EN]
    assert took < DOWN_LIMIT, took
    assert "the database is unavailable" in caplog.text
    # The operator API says "try again" (503), not 500.
    async with bot.http.get(
        bot.server.make_url("/api/incidents/1"), headers={"Authorization": f"Bearer {TOKEN}"}
    ) as r:
        assert r.status == 503, await r.text()
        assert "database is unavailable" in (await r.json())["error"]

    await asyncio.to_thread(server.start)
    # No restart of the bot: stale pooled connections are replaced on checkout.
    assert (await _health(bot))[0] == 200
    answers, _ = await _timed_ask(bot, "hvilke opgaver mangler vi?")
    assert len(answers) == 1 and "Udpeg kontaktpunkt" in answers[0]
    # The incident notice worker kept polling through the outage and delivers again.
    await _announce(bot)
    await bot.connector.wait_for(lambda: any(r.conversation_id == chat for r in bot.connector.received))
    [notice] = [r for r in bot.connector.take() if r.conversation_id == chat]
    assert notice.card is not None
