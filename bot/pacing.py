"""One pacing for every send of the process: a chat's replies and the proactive sends (incident
notices, task news, reminders) share Teams' per-conversation and per-tenant windows, so that
together they stay within what Teams allows (7 a second, 8 in 2 s, 60 in 30 s, 1,800 an hour
per conversation; a ceiling per app and tenant).

A channel thread ("19:x@thread.tacv2;messageid=1") is paced with its channel: Teams does not say
whether a thread has windows of its own, and counting them together can only err on the safe side.
"""

from __future__ import annotations

from bot.ratelimit import SlidingWindowLimiter, conversation_limiter, tenant_limiter


def pacing_key(conversation_id: str) -> str:
    return conversation_id.split(";messageid=", 1)[0]


class Pacing:
    def __init__(self, tenant_rate: float, pad: float = 0.01) -> None:
        self.conversations: SlidingWindowLimiter = conversation_limiter(pad)
        self.tenants: SlidingWindowLimiter = tenant_limiter(tenant_rate, pad)

    def delay(self, conversation_id: str, tenant: str) -> float:
        """Seconds until one more send to the conversation would fit both windows (0: now)."""
        return max(self.conversations.delay(pacing_key(conversation_id)), self.tenants.delay(tenant))

    async def acquire(self, conversation_id: str, tenant: str) -> None:
        """Return when one more send fits the conversation's and the tenant's windows; it is
        counted as sent from then on."""
        await self.conversations.acquire(pacing_key(conversation_id))
        await self.tenants.acquire(tenant)

    def block(self, conversation_id: str, seconds: float) -> None:
        """Teams answered 429 for the conversation: nothing more to it for `seconds`."""
        self.conversations.block(pacing_key(conversation_id), seconds)
