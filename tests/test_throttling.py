"""No answer lost when Teams throttles (issue 13, item 1): the fake Bot Connector enforces Teams'
limits as Teams does (429 with Retry-After) and fails on cue; every reply arrives exactly once,
from a burst into one chat, through injected 429s and 503s, through the delivery queue when a
turn's budget runs out, and while a broadcast goes to the same tenant."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from bot.app import RUNTIME
from bot.broadcast import WorkerConfig
from tests.conftest import DEMO_NOW
from tests.harness import BotUnderTest, running_bot

TOKEN = "s3cret-operator-token-of-32-characters"
FAST = WorkerConfig(poll=0.05, backoff_base=0.01, backoff_cap=0.05, lease=5.0, flush_interval=0.01)
QUESTIONS = [
    "hvilke opgaver mangler vi?",
    "frister i næste uge",
    "fortæl om kontaktpunkt",
    "hvornår er næste programledermøde?",
    "kommende arrangementer",
    "hjælp",
    "er der driftsforstyrrelser?",
    "what is due by the end of February?",
    "hvad har frist inden 1. februar?",
    "events in March",
    "hvem er kontakt på SKAT-opgaven?",
    "er kontaktpunkt obligatorisk?",
]


@pytest.fixture
async def queue_bot(database_url: str) -> AsyncIterator[BotUnderTest]:
    async with running_bot(database_url, now=DEMO_NOW, admin_token=TOKEN, delivery=FAST) as bot:
        yield bot


async def metric(bot: BotUnderTest, outcome: str) -> float:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with bot.http.get(str(bot.server.make_url("/metrics")), headers=headers) as response:
        assert response.status == 200
        text = await response.text()
    found = re.search(rf'^klikbot_replies_total\{{outcome="{outcome}"\}} (\S+)$', text, re.MULTILINE)
    assert found is not None, text
    return float(found.group(1))


async def test_a_burst_into_one_chat_gets_every_answer_exactly_once(bot: BotUnderTest) -> None:
    bot.connector.teams_limits = True
    conversation = "a:burst-1"
    bodies = [bot.activity(q, conversation_id=conversation) for q in QUESTIONS]
    responses = await asyncio.gather(*(bot.post(body) for body in bodies))
    assert all(r.status in (200, 201) for r in responses)
    replies = bot.connector.take()
    # Every question answered, once: a reply to each of the twelve activities.
    assert Counter(r.reply_to_id for r in replies) == Counter(b["id"] for b in bodies)
    assert all(r.text for r in replies)
    # Paced to fit the windows, so the connector rarely had to say 429 (and then it was retried).
    assert await metric(bot, "lost") == 0
    assert await metric(bot, "queued") == 0


async def test_a_reply_throttled_then_failed_arrives_once_after_retries(bot: BotUnderTest) -> None:
    conversation = "a:retry-1"
    bot.connector.script[conversation] = [(429, 0.3), (503, None), (502, None)]
    reply = await bot.ask_one("hjælp", conversation_id=conversation)
    assert reply.text
    statuses = [a[2] for a in bot.connector.attempts if a[1] == conversation]
    assert statuses == [429, 503, 502, 200]
    # Retry-After was honoured: the second attempt came no sooner than 0.3 s after the 429.
    times = [a[3] for a in bot.connector.attempts if a[1] == conversation]
    assert times[1] - times[0] >= 0.3
    assert await metric(bot, "retried") == 3
    assert await metric(bot, "lost") == 0


async def test_a_reply_teams_will_not_take_within_the_budget_is_queued_and_delivered_once(
    queue_bot: BotUnderTest,
) -> None:
    runtime = queue_bot.server.app[RUNTIME]
    runtime.bot.replies.budget = 0.5  # the turn's budget (13 s in production), shortened
    conversation = "a:queued-1"
    queue_bot.connector.script[conversation] = [(429, 1.0)]  # come back in 1 s: after the budget
    response = await queue_bot.post(queue_bot.activity("hjælp", conversation_id=conversation))
    assert response.status in (200, 201)
    # The delivery worker sends it once Teams allows, as a new message in the conversation.
    await queue_bot.connector.wait_for(
        lambda: any(r.conversation_id == conversation for r in queue_bot.connector.received)
    )
    delivered = [r for r in queue_bot.connector.take() if r.conversation_id == conversation]
    assert len(delivered) == 1 and delivered[0].method == "send"
    # The same answer the user would have had at once.
    assert delivered[0].text == (await queue_bot.ask_one("hjælp", conversation_id="a:queued-other")).text
    assert [a[2] for a in queue_bot.connector.attempts if a[1] == conversation] == [429, 200]
    assert await metric(queue_bot, "queued") == 1
    assert await metric(queue_bot, "lost") == 0


async def test_replies_during_a_broadcast_to_the_same_tenant_all_arrive_once(queue_bot: BotUnderTest) -> None:
    connector = queue_bot.connector
    conversations = [f"a:vejle-{i:02d}" for i in range(40)]
    for conversation_id in conversations:
        body = queue_bot.activity(
            None, activity_type="installationUpdate", action="add", conversation_id=conversation_id
        )
        response = await queue_bot.post(body)
        assert response.status in (200, 201)
    connector.take()  # the welcomes
    connector.teams_limits = True
    connector.app_per_second = 40  # Teams' ceiling per app and tenant is about 30-50 a second
    chat = conversations[0]
    incident = {
        "title": "Nedbrud på SAPA",
        "description": "SAPA svarer ikke.",
        "affected_systems": ["SAPA"],
        "started_at": "2019-01-23T09:00:00+01:00",
        "severity": "A",
    }

    async def announce() -> None:
        async with queue_bot.http.post(
            str(queue_bot.server.make_url("/api/incidents")),
            json=incident,
            headers={"Authorization": f"Bearer {TOKEN}"},
        ) as response:
            assert response.status == 201, await response.text()

    bodies = [queue_bot.activity(q, conversation_id=chat) for q in QUESTIONS[:8]]
    results = await asyncio.gather(announce(), *(queue_bot.post(body) for body in bodies))
    assert all(r.status in (200, 201) for r in results[1:])
    await connector.wait_for(
        lambda: sum(1 for r in connector.received if r.method == "send") >= len(conversations), limit=30
    )
    received = connector.take()
    notices = Counter(r.conversation_id for r in received if r.method == "send")
    assert notices == Counter(conversations)  # one notice each, none twice
    answers = Counter(r.reply_to_id for r in received if r.method == "reply")
    assert answers == Counter(b["id"] for b in bodies)  # one answer to each question
    assert await metric(queue_bot, "lost") == 0
