"""The operator's bearer token, for the operator API and `/metrics`: compared in constant time,
with failed attempts limited per client address, so the token cannot be guessed at speed.

A client address with MAX_FAILURES failed attempts within WINDOW seconds gets 429 with
Retry-After, whatever it sends, until the oldest of them is WINDOW seconds old. A right token
clears the address's failures. Kept per process, in memory: addresses not seen for a window are
forgotten, and at most MAX_ADDRESSES are tracked (the oldest are dropped first).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from aiohttp import web

from bot.http_input import bearer_matches

MIN_TOKEN_LENGTH = 32
MAX_FAILURES = 5
WINDOW = 60.0
MAX_ADDRESSES = 10_000


class FailedLogins:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def wait(self, address: str) -> float:
        """Seconds until the address may try again (0: now)."""
        failures = self._recent(address)
        if failures is None or len(failures) < MAX_FAILURES:
            return 0.0
        return max(0.0, failures[0] + WINDOW - self._clock())

    def failed(self, address: str) -> None:
        failures = self._recent(address)
        if failures is None:
            failures = self._failures[address] = deque(maxlen=MAX_FAILURES)
            while len(self._failures) > MAX_ADDRESSES:
                self._failures.popitem(last=False)
        failures.append(self._clock())
        self._failures.move_to_end(address)

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)

    def _recent(self, address: str) -> deque[float] | None:
        failures = self._failures.get(address)
        if failures is None:
            return None
        now = self._clock()
        while failures and failures[0] <= now - WINDOW:
            failures.popleft()
        if not failures:
            del self._failures[address]
            return None
        return failures


def refusal(request: web.Request, token: str, failures: FailedLogins) -> web.Response | None:
    """None when the request carries the operator's token; else the answer: 401, or 429 while
    its address has failed too often."""
    address = request.remote or "unknown"
    wait = failures.wait(address)
    if wait > 0:
        return web.json_response(
            {"error": "too many failed attempts from this address; try again later"},
            status=429,
            headers={"Retry-After": str(math.ceil(wait))},
        )
    if bearer_matches(request.headers.get("Authorization", ""), token):
        failures.succeeded(address)
        return None
    failures.failed(address)
    return web.json_response(
        {"error": "a valid bearer token is required"},
        status=401,
        headers={"WWW-Authenticate": 'Bearer realm="klikbot"'},
    )


# The app's one record of failed attempts, shared by the operator API and /metrics.
FAILED_LOGINS = web.AppKey("failed_logins", FailedLogins)


def failed_logins(app: web.Application) -> FailedLogins:
    return app[FAILED_LOGINS]
