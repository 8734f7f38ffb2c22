"""A turn's replies reach the user even when Teams throttles or blips.

During a turn every reply is paced together with the process's proactive sends (bot/pacing.py)
and retried after 429 (when Retry-After says), 502, 503, 504 or a dropped connection, within a
budget that gets the answer out about 15 s after the user wrote (bot/bot_connector.py does
the sending). A reply still not taken when the budget runs out goes into the durable delivery
queue, and every later reply of that turn after it, in order; the delivery worker sends them
like any other proactive message. A reply that can be neither sent nor queued is lost: counted,
and logged once with its conversation id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import aiohttp
from botbuilder.core import TurnContext
from botbuilder.schema import Activity
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.activities import tenant_of, to_activity, to_incoming
from bot.bot_connector import ConnectorError, ReplyBudget, ReplyNotDelivered, reply_budget
from bot.pacing import Pacing
from dialogs.model import Reply
from dialogs.subscriptions import conversation_info
from dialogs.understanding import Language
from storage.delivery import queue_reply

log = logging.getLogger(__name__)

# Seconds from the start of a turn until its replies must be out (or queued): Teams gives a bot
# about 15 s to answer an activity, and the turn itself takes a little.
REPLY_BUDGET = 13.0
_QUEUEING = "klikbot.replies_queued"  # turn_state: how many of this turn's replies were queued
# Queued replies of one turn become due this far apart, so that the worker sends them in order.
QUEUED_SPACING = timedelta(seconds=1)

RETRIED, QUEUED, LOST = "retried", "queued", "lost"


class ReplyDelivery:
    def __init__(self, engine: AsyncEngine, pacing: Pacing, budget: float = REPLY_BUDGET) -> None:
        self._engine = engine
        self.pacing = pacing
        self.budget = budget
        # Set by the app: /metrics counts the outcomes, and the delivery worker is woken when
        # a reply is queued.
        self.count: Callable[[str], None] = lambda outcome: None
        self.wake: Callable[[], None] = lambda: None

    @contextmanager
    def turn(self, activity: Activity) -> Iterator[None]:
        """For the length of a turn: its replies are paced and retried within the budget."""
        budget = ReplyBudget(
            self.pacing,
            tenant_of(activity) or "",
            time.monotonic() + self.budget,
            lambda: self.count(RETRIED),
        )
        token = reply_budget.set(budget)
        try:
            yield
        finally:
            reply_budget.reset(token)

    async def send(self, turn_context: TurnContext, reply: Reply, *, replacing: str | None = None) -> None:
        """Send a reply (or show it in place of the card `replacing`), queueing it if Teams does
        not take it within the turn's budget."""
        if turn_context.turn_state.get(_QUEUEING):
            await self._queue(turn_context, reply)  # after an earlier reply of this turn, in order
            return
        activity = to_activity(reply)
        try:
            if replacing:
                activity.id = replacing
                await turn_context.update_activity(activity)
            else:
                await turn_context.send_activity(activity)
        except ReplyNotDelivered as error:
            log.warning(
                "Teams did not take a reply within %.1f s (%s): queueing it for conversation %s",
                self.budget,
                type(error.__cause__ or error).__name__,
                _conversation_of(turn_context),
            )
            await self._queue(turn_context, reply)
        except (ConnectorError, TimeoutError, aiohttp.ClientError) as error:
            self._lost(turn_context, error)

    async def _queue(self, turn_context: TurnContext, reply: Reply) -> None:
        incoming = to_incoming(turn_context.activity)
        if not incoming.conversation_id or not incoming.service_url:
            self._lost(turn_context, None)
            return
        lang: Language = "en" if (incoming.locale or "").lower().startswith("en") else "da"
        earlier = int(turn_context.turn_state.get(_QUEUEING) or 0)
        turn_context.turn_state[_QUEUEING] = earlier + 1
        due = _utcnow() + earlier * QUEUED_SPACING
        try:
            async with self._engine.begin() as db:
                queued = await queue_reply(db, conversation_info(incoming, lang), reply.to_json(), due)
        except Exception as error:  # the database too: nothing more can be done for it
            self._lost(turn_context, error)
            return
        if not queued:
            self._lost(turn_context, None)
            return
        self.count(QUEUED)
        self.wake()

    def _lost(self, turn_context: TurnContext, error: BaseException | None) -> None:
        self.count(LOST)
        log.error(
            "a reply was lost: conversation %s (%s)",
            _conversation_of(turn_context),
            f"{type(error).__name__}: {str(error)[:200]}"
            if error is not None
            else "the conversation is not active",
        )


def _conversation_of(turn_context: TurnContext) -> str:
    conversation = turn_context.activity.conversation
    return str(getattr(conversation, "id", "") or "")[:200]


def _utcnow() -> datetime:
    return datetime.now(UTC)
