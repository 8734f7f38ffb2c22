"""The operator's token (issue 13, item 8): failed attempts are limited per client address, for
the operator API and /metrics alike."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.operator_auth import MAX_FAILURES, WINDOW, FailedLogins
from bot.settings import Settings, SettingsError
from tests.conftest import DEMO_NOW
from tests.harness import BotUnderTest, running_bot

TOKEN = "the-operators-token-0123456789abcdefghij"


@pytest.fixture
async def operator_bot(database_url: str) -> AsyncIterator[BotUnderTest]:
    async with running_bot(database_url, now=DEMO_NOW, admin_token=TOKEN) as bot:
        yield bot


async def _get(bot: BotUnderTest, path: str, token: str) -> tuple[int, dict[str, str]]:
    headers = {"Authorization": f"Bearer {token}"}
    async with bot.http.get(str(bot.server.make_url(path)), headers=headers) as response:
        return response.status, dict(response.headers)


async def test_guessing_the_token_is_stopped_after_a_few_tries(operator_bot: BotUnderTest) -> None:
    for _ in range(MAX_FAILURES):
        status, _ = await _get(operator_bot, "/api/incidents/1", "a-wrong-guess")
        assert status == 401
    # Now every attempt from this address waits, the right token too, and /metrics as well.
    status, headers = await _get(operator_bot, "/api/incidents/1", TOKEN)
    assert status == 429 and 0 < int(headers["Retry-After"]) <= WINDOW
    status, _ = await _get(operator_bot, "/metrics", TOKEN)
    assert status == 429


async def test_the_right_token_clears_earlier_failures(operator_bot: BotUnderTest) -> None:
    for _ in range(MAX_FAILURES - 1):
        assert (await _get(operator_bot, "/metrics", "a-wrong-guess"))[0] == 401
    assert (await _get(operator_bot, "/metrics", TOKEN))[0] == 200
    for _ in range(MAX_FAILURES - 1):
        assert (await _get(operator_bot, "/metrics", "a-wrong-guess"))[0] == 401
    assert (await _get(operator_bot, "/metrics", TOKEN))[0] == 200


def test_failures_are_forgotten_after_the_window_and_kept_per_address() -> None:
    now = [1000.0]
    failures = FailedLogins(clock=lambda: now[0])
    for _ in range(MAX_FAILURES):
        failures.failed("10.0.0.1")
    assert failures.wait("10.0.0.1") == WINDOW
    assert failures.wait("10.0.0.2") == 0
    now[0] += WINDOW / 2
    assert failures.wait("10.0.0.1") == WINDOW / 2
    now[0] += WINDOW / 2
    assert failures.wait("10.0.0.1") == 0


def test_a_short_token_is_refused_and_a_long_one_taken() -> None:
    with pytest.raises(SettingsError, match="at least 32"):
        Settings.from_env({"KLIKBOT_ADMIN_TOKEN": "x" * 31})
    assert Settings.from_env({"KLIKBOT_ADMIN_TOKEN": "x" * 32}).admin_token == "x" * 32
    assert Settings.from_env({}).admin_token is None
