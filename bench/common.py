"""Shared pieces of the benchmarks: servers in subprocesses, a counting fake Bot Connector."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
VEJLE_TENANT = "00000000-0000-4000-8000-000000000630"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CountingConnector:
    """Receives replies like the Bot Connector does and counts them."""

    def __init__(self, record_text: bool = False) -> None:
        # Decoding every reply costs the load generator time; only benchmarks that read it pay.
        self.record_text = record_text
        self.count = 0
        self.last_text: dict[str, str] = {}  # the last message text seen per conversation
        self.runner: web.AppRunner | None = None
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.count += 1
        if self.record_text:
            self.last_text[request.match_info["cid"]] = json.dumps(json.loads(body), ensure_ascii=False)
        return web.json_response({"id": uuid.uuid4().hex})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._receive)
        app.router.add_post("/v3/conversations/{cid}/activities", self._receive)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._receive)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


def start_server(
    args: Sequence[str], log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    # The server's log goes to a file: a pipe nobody reads would block the server when full.
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def wait_healthy(
    http: aiohttp.ClientSession, base: str, process: subprocess.Popen[bytes], within: float = 60
) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: see its log")
        try:
            async with http.get(f"{base}/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{base} did not become healthy in {within}s")


def activity(
    connector_url: str, conversation_id: str, text: str, tenant: str = VEJLE_TENANT
) -> dict[str, Any]:
    return {
        "type": "message",
        "id": uuid.uuid4().hex,
        "serviceUrl": connector_url,
        "channelId": "msteams",
        "from": {"id": "29:bench-user", "name": "Bench Bruger", "aadObjectId": "aad-bench"},
        "recipient": {"id": "28:klikbot", "name": "klikbot"},
        "conversation": {"id": conversation_id, "conversationType": "personal", "tenantId": tenant},
        "channelData": {"tenant": {"id": tenant}},
        "locale": "da-DK",
        "text": text,
    }


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)
