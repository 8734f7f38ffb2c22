"""SIGTERM lets the turns in flight finish: `klikbot serve` stops listening, waits for the
requests it is answering (aiohttp's shutdown_timeout), then stops the delivery worker (which
hands back what it has not sent) and exits 0."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import DEMO_NOW
from tests.databases import SqliteTemplates
from tests.fake_connector import FakeConnector
from tests.harness import BOT_ID, VEJLE

START_LIMIT = 60.0  # seconds for `klikbot serve` to answer /healthz (a loaded CI machine)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def _until(condition: Any, limit: float, what: str) -> None:
    """Poll `condition()` until it holds (a process coming up or going down is not an event
    this test can wait on), or fail after `limit` seconds."""
    deadline = time.monotonic() + limit
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {limit} s")
        await asyncio.sleep(0.05)


def _message(connector: FakeConnector, conversation_id: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": uuid.uuid4().hex,
        "timestamp": "2019-01-23T09:00:00.000Z",
        "serviceUrl": connector.url + "/",
        "channelId": "msteams",
        "from": {"id": "29:user-1", "name": "Mette Vinther", "aadObjectId": "aad-user-1"},
        "recipient": {"id": BOT_ID, "name": "klikbot"},
        "conversation": {"id": conversation_id, "conversationType": "personal"},
        "channelData": {"tenant": {"id": VEJLE}},
        "locale": "da-DK",
        "text": "hvilke opgaver mangler vi?",
    }


async def test_sigterm_finishes_the_turn_in_flight(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    sqlite = request.getfixturevalue("_templates")["sqlite"]  # once, on SQLite: not per backend
    assert isinstance(sqlite, SqliteTemplates)
    database_url = await sqlite.fresh()
    connector = FakeConnector()
    await connector.start()
    gate = asyncio.Event()
    connector.gate = gate  # the reply is held at the connector until released
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("Microsoft", "KLIKBOT_"))  # no credentials: no-auth on loopback
    }
    env.update(KLIKBOT_DATABASE_URL=database_url, KLIKBOT_NOW=DEMO_NOW.isoformat())
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            cwd=tmp_path,  # no .env from the working tree
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    conversation_id = f"a:shutdown-{uuid.uuid4().hex[:8]}"
    try:
        async with aiohttp.ClientSession() as http:

            async def healthy() -> bool:
                if process.returncode is not None:
                    raise AssertionError(f"klikbot serve exited early:\n{log_path.read_text()}")
                try:
                    async with http.get(f"{base}/healthz") as response:
                        return response.status == 200
                except aiohttp.ClientError:
                    return False

            await _until(healthy, START_LIMIT, "klikbot serve answering /healthz")
            turn = asyncio.create_task(
                http.post(f"{base}/api/messages", json=_message(connector, conversation_id))
            )
            await connector.wait_for(lambda: connector.waiting == 1, limit=30)

            process.send_signal(signal.SIGTERM)

            async def stopped_listening() -> bool:
                return not await asyncio.to_thread(_listening, port)

            # The server has taken the signal once it no longer accepts connections; the turn
            # is still waiting for its reply.
            await _until(stopped_listening, 30, "klikbot serve closing its port after SIGTERM")
            assert not turn.done()
            gate.set()

            response = await asyncio.wait_for(turn, 30)
            assert response.status in (200, 201), await response.text()
            response.release()
        code = await asyncio.wait_for(process.wait(), 30)
        assert code == 0, log_path.read_text()
        [reply] = [r for r in connector.received if r.conversation_id == conversation_id]
        assert reply.card is not None
        assert "Udestående KLIK-opgaver for Vejle" in reply.text
    finally:
        gate.set()
        if process.returncode is None:
            process.kill()
            with contextlib.suppress(ProcessLookupError):
                await process.wait()
        await connector.close()
