"""`klikbot serve` as an operator starts it: no-auth mode only on loopback, and with
credentials a clear one-line refusal (never a traceback) when it cannot run."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

APP_ID = "6f1c1e64-7a7e-4c4f-9a59-0a4b2f1f2a10"


def _env(**settings: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("KLIKBOT_") and not k.startswith("Microsoft")
    }
    env.update(settings)
    return env


def klikbot(*args: str, cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=_env(**settings),
        cwd=cwd,
        timeout=120,
        check=False,
    )


def assert_one_line_refusal(result: subprocess.CompletedProcess[str], *phrases: str) -> str:
    """A non-zero exit with one `klikbot: ...` line that says why; no traceback."""
    assert result.returncode != 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    refusals = [line for line in result.stderr.splitlines() if line.startswith("klikbot: ")]
    assert len(refusals) == 1, result.stderr
    for phrase in phrases:
        assert phrase in refusals[0], refusals[0]
    return refusals[0]


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port nothing listens on: bound (so nothing else takes it) but not listening,
    so a connection is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def unreachable(port: int) -> str:
    """A PostgreSQL URL on a closed port. The refusal tests use it so that, were the check
    under test missing, serve would stop at the database (with another message) instead of
    running until the test's timeout."""
    return f"postgresql+asyncpg://klikbot:db-secret@127.0.0.1:{port}/klikbot"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_without_credentials_serve_refuses_a_non_loopback_address(
    host: str, closed_port: int, tmp_path: Path
) -> None:
    result = klikbot(
        "serve", "--host", host, "--port", "3999", cwd=tmp_path, KLIKBOT_DATABASE_URL=unreachable(closed_port)
    )
    assert_one_line_refusal(result, f"refusing to listen on {host}", "no-auth mode")


@pytest.mark.parametrize(
    ("app_type", "extra"),
    [
        ("MultiTenant", {}),
        ("SingleTenant", {"MicrosoftAppTenantId": "11111111-2222-4333-8444-555555555555"}),
        ("", {}),  # MultiTenant by default
    ],
)
def test_with_credentials_serve_refuses_to_start_without_the_password(
    app_type: str, extra: dict[str, str], closed_port: int, tmp_path: Path
) -> None:
    result = klikbot(
        "serve",
        "--host",
        "0.0.0.0",
        cwd=tmp_path,
        KLIKBOT_DATABASE_URL=unreachable(closed_port),
        MicrosoftAppId=APP_ID,
        MicrosoftAppType=app_type,
        **extra,
    )
    assert_one_line_refusal(result, "MicrosoftAppPassword", "missing")


def test_with_credentials_serve_refuses_an_incomplete_single_tenant_or_unknown_type(
    closed_port: int, tmp_path: Path
) -> None:
    credentials = {
        "MicrosoftAppId": APP_ID,
        "MicrosoftAppPassword": "hemmelig",
        "KLIKBOT_DATABASE_URL": unreachable(closed_port),
    }
    single = klikbot("serve", cwd=tmp_path, MicrosoftAppType="SingleTenant", **credentials)
    assert_one_line_refusal(single, "MicrosoftAppTenantId", "missing")
    unknown = klikbot("serve", cwd=tmp_path, MicrosoftAppType="MultiTennant", **credentials)
    assert_one_line_refusal(unknown, "MicrosoftAppType 'MultiTennant'", "SingleTenant")
    assert "hemmelig" not in single.stderr + unknown.stderr


@pytest.mark.parametrize("with_credentials", [True, False])
def test_serve_refuses_to_start_when_the_database_is_unreachable(
    with_credentials: bool, closed_port: int, tmp_path: Path
) -> None:
    credentials = {"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "app-secret"} if with_credentials else {}
    result = klikbot(
        "serve", "--port", "3999", cwd=tmp_path, KLIKBOT_DATABASE_URL=unreachable(closed_port), **credentials
    )
    line = assert_one_line_refusal(result, "cannot reach the database", f"127.0.0.1:{closed_port}/klikbot")
    assert "db-secret" not in result.stderr and "app-secret" not in result.stderr, line


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_without_credentials_serve_listens_on_loopback_and_says_so(tmp_path: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(KLIKBOT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"),
        cwd=tmp_path,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while not any(f"listening on 127.0.0.1:{port}" in line for line in seen):
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, "serve ended before it listened:\n" + "".join(seen)
            seen.append(line)
        text = "".join(seen)
        assert "no MicrosoftAppId: no-auth mode, listening on loopback only" in text, text
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            assert response.status == 200
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        reader.join(10)


def test_a_short_operator_token_is_refused_at_start(tmp_path: Path) -> None:
    result = klikbot(
        "serve",
        cwd=tmp_path,
        KLIKBOT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        KLIKBOT_ADMIN_TOKEN="only-twenty-chars-ok",
    )
    assert_one_line_refusal(result, "KLIKBOT_ADMIN_TOKEN", "at least 32")


def test_the_admin_listener_must_have_a_port_of_its_own_and_stay_on_loopback_without_credentials(
    tmp_path: Path,
) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    same = klikbot(
        "serve", "--port", "3978", "--admin-port", "3978", cwd=tmp_path, KLIKBOT_DATABASE_URL=database
    )
    assert_one_line_refusal(same, "--admin-port")
    wide = klikbot(
        "serve",
        "--admin-port",
        "3979",
        "--admin-host",
        "0.0.0.0",
        cwd=tmp_path,
        KLIKBOT_DATABASE_URL=database,
    )
    assert_one_line_refusal(wide, "0.0.0.0", "loopback")


def test_serve_with_an_admin_port_splits_the_operator_surface_from_the_chat(tmp_path: Path) -> None:
    port, admin_port = _free_port(), _free_port()
    token = "an-operator-token-that-is-long-enough-0123456789"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port), "--admin-port", str(admin_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(
            KLIKBOT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", KLIKBOT_ADMIN_TOKEN=token
        ),
        cwd=tmp_path,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.put(line)
        lines.put(None)

    def status(url: str, body: bytes | None = None) -> int:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        request = urllib.request.Request(url, data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while not any(f"listening on 127.0.0.1:{admin_port}" in line for line in seen):
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, "serve ended before it listened:\n" + "".join(seen)
            seen.append(line)
        main, admin = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin_port}"
        assert status(f"{admin}/metrics") == 200
        assert status(f"{main}/metrics") == 404
        # An incident without its fields: the operator API answers on the admin listener only.
        assert status(f"{admin}/api/incidents", b"{}") == 400
        assert status(f"{main}/api/incidents", b"{}") == 404
        assert status(f"{admin}/api/messages", b"{}") == 404
        assert status(f"{main}/healthz") == 200 and status(f"{admin}/healthz") == 200
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        reader.join(10)
