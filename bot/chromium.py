"""Headless Chromium driven over the Chrome DevTools Protocol, with aiohttp: no browser download.

Uses the system's Chromium (Debian's `chromium` package, or `KLIKBOT_CHROMIUM`). The browser
picks a free debugging port and writes it to `DevToolsActivePort` in its profile directory;
one page target is driven over its WebSocket, one command at a time.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--allow-file-access-from-files",
)
START_TIMEOUT = 30.0
COMMAND_TIMEOUT = 30.0


class BrowserError(RuntimeError):
    """Chromium is missing, did not start, or a DevTools command failed."""


def find_chromium() -> str | None:
    """KLIKBOT_CHROMIUM, else chromium (Debian) or chromium-browser / google-chrome on the PATH."""
    configured = os.environ.get("KLIKBOT_CHROMIUM", "").strip()
    if configured:
        return configured if Path(configured).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Chromium:
    """`async with Chromium() as browser:` starts the browser; `browser.send(...)` drives its page."""

    def __init__(self, executable: str | None = None) -> None:
        found = executable or find_chromium()
        if found is None:
            raise BrowserError(
                "Chromium is not installed: `apt-get install chromium` (or set KLIKBOT_CHROMIUM)"
            )
        self.executable = found
        self._profile = Path(tempfile.mkdtemp(prefix="klikbot-chromium-"))
        self._process: asyncio.subprocess.Process | None = None
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)

    async def __aenter__(self) -> Chromium:
        try:
            await self._start()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.close()

    async def _start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            self.executable,
            *FLAGS,
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            f"--user-data-dir={self._profile}",
            "about:blank",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        port = await self._debugging_port()
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=COMMAND_TIMEOUT))
        async with self._http.get(f"http://127.0.0.1:{port}/json/list") as response:
            targets = await response.json()
        page = next((t for t in targets if t.get("type") == "page"), None)
        if page is None:
            raise BrowserError("Chromium started without a page to drive")
        self._ws = await self._http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0)

    async def _debugging_port(self) -> int:
        active_port = self._profile / "DevToolsActivePort"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT
        while loop.time() < deadline:
            if self._process is not None and self._process.returncode is not None:
                raise BrowserError(f"Chromium exited at start with code {self._process.returncode}")
            with contextlib.suppress(FileNotFoundError, ValueError, IndexError):
                return int(active_port.read_text().splitlines()[0])
            await asyncio.sleep(0.05)
        raise BrowserError(f"Chromium did not open its debugging port within {START_TIMEOUT:.0f} s")

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """One DevTools command; returns its result, raises BrowserError on a protocol error."""
        if self._ws is None:
            raise BrowserError("the browser is not running")
        message_id = next(self._ids)
        await self._ws.send_str(json.dumps({"id": message_id, "method": method, "params": params}))
        async with asyncio.timeout(COMMAND_TIMEOUT):
            while True:
                message = await self._ws.receive()
                if message.type is not aiohttp.WSMsgType.TEXT:
                    raise BrowserError(f"the DevTools connection closed during {method}")
                reply = json.loads(message.data)
                if reply.get("id") != message_id:
                    continue  # an event, or the answer to nothing we wait for
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error'].get('message', reply['error'])}")
                result = reply.get("result", {})
                assert isinstance(result, dict)
                return result

    async def evaluate(self, expression: str) -> Any:
        """Run JavaScript in the page and return its value (JSON-serialisable)."""
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text", "")
            raise BrowserError(f"JavaScript failed: {text}")
        return result.get("result", {}).get("value")

    async def open(self, url: str, *, ready: str, width: int = 480, height: int = 800) -> None:
        """Load `url` and wait until the JavaScript expression `ready` is true."""
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        await self.send("Page.navigate", url=url)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT
        while loop.time() < deadline:
            with contextlib.suppress(BrowserError):
                if await self.evaluate(ready) is True:
                    return
            await asyncio.sleep(0.05)
        raise BrowserError(f"{url} did not get ready ({ready}) within {START_TIMEOUT:.0f} s")

    async def screenshot(self, x: float, y: float, width: float, height: float) -> bytes:
        """A PNG of that rectangle of the page (beyond the viewport too)."""
        result = await self.send(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={"x": x, "y": y, "width": width, "height": height, "scale": 1},
        )
        return base64.b64decode(result["data"])

    async def close(self) -> None:
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
            self._ws = None
        if self._http is not None:
            await self._http.close()
            self._http = None
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            try:
                async with asyncio.timeout(10):
                    await self._process.wait()
            except TimeoutError:
                self._process.kill()
                await self._process.wait()
        self._process = None
        shutil.rmtree(self._profile, ignore_errors=True)
