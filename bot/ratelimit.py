"""Sliding-window rate limits per key (a conversation, a tenant), in plain asyncio.

Teams allows a bot, per conversation, 7 sends a second, 8 per 2 s, 60 per 30 s and 1800 an
hour; across a tenant there is a ceiling too. Each key keeps the times of its recent sends;
a send waits until it fits every window. Keys idle long enough are forgotten, so memory
follows the sends of the last few seconds, not the number of conversations ever seen.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# Teams' documented per-conversation limits for a bot: (sends, seconds).
TEAMS_CONVERSATION_LIMITS: tuple[tuple[int, float], ...] = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))


@dataclass(slots=True)
class _Key:
    times: list[float] = field(default_factory=list)
    blocked_until: float = 0.0


class SlidingWindowLimiter:
    """`await limiter.acquire(key)` returns when one more send for `key` keeps within every
    (count, seconds) window. `margin` sends are held back from windows longer than `forget_after`
    so that forgetting a key with at most `margin` recent sends can never overrun them;
    `pad` widens each window a little, for the network's jitter between here and Teams."""

    def __init__(
        self,
        limits: Sequence[tuple[int, float]],
        *,
        pad: float = 0.0,
        margin: int = 0,
        forget_after: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._forget_after = forget_after if forget_after is not None else max(s for _, s in limits)
        # The pad widens the counting windows; a spacing window (one send per interval) stays exact.
        self._limits = [
            (count - margin if seconds > self._forget_after else count, seconds + (pad if count > 1 else 0.0))
            for count, seconds in limits
        ]
        if any(count < 1 for count, _ in self._limits):
            raise ValueError("every limit must allow at least one send")
        self._margin = margin
        self._longest = max(s for _, s in self._limits)
        self._clock = clock
        self._keys: dict[str, _Key] = {}
        self._acquired = 0

    def __len__(self) -> int:
        return len(self._keys)

    def delay(self, key: str) -> float:
        """Seconds until a send for `key` would fit (0: now)."""
        state = self._keys.get(key)
        if state is None:
            return 0.0
        now = self._clock()
        wait = max(0.0, state.blocked_until - now)
        times = state.times
        for count, seconds in self._limits:
            if len(times) >= count:
                wait = max(wait, times[-count] + seconds - now)
        return wait

    async def acquire(self, key: str) -> None:
        while True:
            wait = self.delay(key)
            if wait <= 0:
                self._record(key)
                return
            await asyncio.sleep(wait)

    def block(self, key: str, seconds: float) -> None:
        """Teams said "too many requests" for this key: nothing more for it until then."""
        state = self._keys.setdefault(key, _Key())
        state.blocked_until = max(state.blocked_until, self._clock() + seconds)

    def _record(self, key: str) -> None:
        now = self._clock()
        state = self._keys.setdefault(key, _Key())
        state.times.append(now)
        if len(state.times) > 64 and state.times[0] < now - self._longest:
            cutoff = now - self._longest
            state.times = [t for t in state.times if t >= cutoff]
        self._acquired += 1
        if self._acquired % 1024 == 0:
            self._forget(now)

    def _forget(self, now: float) -> None:
        idle = now - self._forget_after
        stale = [
            key
            for key, state in self._keys.items()
            if state.blocked_until <= now
            and (not state.times or state.times[-1] < idle)
            and sum(1 for t in state.times if t >= now - self._longest) <= self._margin
        ]
        for key in stale:
            del self._keys[key]


def conversation_limiter(pad: float = 0.05) -> SlidingWindowLimiter:
    """Per conversation: Teams' limits, forgetting a conversation 2 s after its last send."""
    return SlidingWindowLimiter(TEAMS_CONVERSATION_LIMITS, pad=pad, margin=5, forget_after=2.0 + pad)


def tenant_limiter(per_second: float, pad: float = 0.05) -> SlidingWindowLimiter:
    """Per tenant: at most `per_second` requests in any second (a sliding window), spaced
    evenly rather than in bursts, so that jitter on the way cannot bunch a second's worth up."""
    count = max(1, int(per_second))
    return SlidingWindowLimiter([(1, 1.0 / per_second), (count, count / per_second)], pad=pad)
