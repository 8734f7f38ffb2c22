"""Bad input gets a clear answer or a 4xx: never a 500, a crash or a stack trace to the user."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import DEMO_NOW
from tests.harness import UNKNOWN_TENANT, BotUnderTest, raw_status, running_bot

INCIDENT = {
    "title": "Nedbrud",
    "description": "BBR er nede.",
    "affected_systems": ["BBR"],
    "started_at": "2018-12-10T02:21:00+01:00",
}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "x" * 30_000,
        "hvilke opgaver mangler vi? " * 1500,
        "🙂🙂🙂",
        "<b>hej</b> <script>alert(1)</script>",
        "'; DROP TABLE task; --",
        "\x00\x01\x02 kontrol",
        "]]}}{{[[ \\*_`# fortæl om",
        "fortæl om " + "ø" * 5000,
    ],
)
async def test_odd_messages_get_an_answer(bot: BotUnderTest, text: str) -> None:
    replies = await bot.ask(text)
    assert len(replies) == 1
    answer = replies[0].text
    assert answer
    assert "Traceback" not in answer and "Error" not in answer
    # The tables are still there, whatever the text said.
    check = await bot.ask_one("hvilke opgaver mangler vi?")
    assert check.card is not None and check.card["body"][0]["text"] == "Udestående KLIK-opgaver for Vejle"


async def test_echoed_text_is_shown_as_typed_not_as_markdown(bot: BotUnderTest) -> None:
    reply = await bot.ask_one("fortæl om **[klik](http://evil.example)**")
    assert reply.card is not None
    title = reply.card["body"][0]["text"]
    assert title.startswith("Jeg fandt ingen opgave om")
    assert "klik" in title
    # Every markdown character that came from the user is escaped, so Teams shows it as typed.
    assert re.search(r"(?<!\\)[\[\]()*]", title) is None


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (None, 400),
        ([], 400),
        ("just a string", 400),
        ({}, 400),
        ({"type": "message"}, 400),
        ({"type": "message", "conversation": {"id": "c"}}, 400),
        ({"type": "message", "conversation": {"id": "c"}, "serviceUrl": "ftp://x"}, 400),
        ({"type": "message", "conversation": "c", "serviceUrl": "http://127.0.0.1:1/"}, 400),
        (
            {"type": "message", "conversation": {"id": "c"}, "serviceUrl": "http://127.0.0.1:1/", "from": 7},
            400,
        ),
        (
            {"type": "message", "conversation": {"id": "c"}, "serviceUrl": "http://127.0.0.1:1/", "text": 7},
            400,
        ),
    ],
)
async def test_malformed_activities_are_400(bot: BotUnderTest, body: object, status: int) -> None:
    response = await bot.post(body)
    assert response.status == status
    error = await response.json()
    assert isinstance(error["error"], str) and error["error"]
    assert bot.connector.take() == []


async def test_truncated_json_and_wrong_media_type(bot: BotUnderTest) -> None:
    response = await bot.http.post(
        bot.url, data=b'{"type": "message", "conv', headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    response = await bot.http.post(bot.url, data=b"hello", headers={"Content-Type": "text/plain"})
    assert response.status == 415


async def test_oversized_body_is_413(bot: BotUnderTest) -> None:
    body = bot.activity("x" * (1024 * 1024 + 10))
    response = await bot.post(body)
    assert response.status == 413


async def test_activity_without_tenant_or_sender_still_answers(bot: BotUnderTest) -> None:
    body = bot.activity("hvornår er næste programledermøde?", tenant=None)
    del body["from"]
    response = await bot.post(body)
    assert response.status in (200, 201)
    sent = bot.connector.take()
    assert len(sent) == 1 and sent[0].card is not None
    assert sent[0].card["body"][0]["text"] == "Programledermøde februar"


async def test_unknown_activity_types_are_accepted_quietly(bot: BotUnderTest) -> None:
    response = await bot.post(bot.activity(None, activity_type="typing"))
    assert response.status in (200, 201)
    assert bot.connector.take() == []


async def test_unknown_card_action_gets_help(bot: BotUnderTest) -> None:
    reply = await bot.ask_one("", value={"klikbot": "make-coffee"}, tenant=UNKNOWN_TENANT)
    assert reply.card is not None
    assert reply.card["body"][0]["text"] == "Det kan jeg hjælpe med"


async def test_card_action_for_a_task_that_does_not_exist(bot: BotUnderTest) -> None:
    reply = await bot.ask_one("", value={"klikbot": "task", "id": "no-such-task"})
    assert reply.card is not None
    assert reply.card["body"][0]["text"].startswith("Jeg fandt ingen opgave")


async def test_healthz(bot: BotUnderTest) -> None:
    response = await bot.http.get(str(bot.server.make_url("/healthz")))
    assert response.status == 200
    assert (await response.json()) == {"status": "ok"}


async def test_expect_replies_is_refused_with_a_clear_400(bot: BotUnderTest) -> None:
    """Found by fuzzing: an invoke asking for its replies in the response crashed botbuilder's
    serializer (500). Teams never asks; the bot says it does not do that."""
    body = bot.activity("", activity_type="invoke", name="adaptiveCard/action", deliveryMode="expectReplies")
    response = await bot.post(body)
    assert response.status == 400
    assert "expectReplies" in (await response.json())["error"]


@pytest.mark.parametrize("body", ["[" * 100_000, "[" * 100_000 + "]" * 100_000, '{"a":' * 100_000])
async def test_json_nested_deeper_than_the_parser_goes_is_400(bot: BotUnderTest, body: str) -> None:
    response = await bot.http.post(bot.url, data=body, headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert (await response.json()) == {"error": "the body is not valid JSON"}
    assert bot.connector.take() == []


# A token with characters outside Latin-1 (UTF-8 on the wire), or with bytes that are not UTF-8.
ODD_TOKENS = [
    "Bearer operator-token-€".encode(),
    b"Bearer \xff\xfe\x80operator-token",
    "Bearer ø".encode("latin-1"),
]


@pytest.mark.parametrize("authorization", ODD_TOKENS)
async def test_an_authorization_header_with_odd_bytes_is_401(database_url: str, authorization: bytes) -> None:
    async with running_bot(database_url, now=DEMO_NOW, admin_token="operator-token") as bot:
        activity = json.dumps(bot.activity("hjælp")).encode()
        assert await raw_status(bot, "POST", "/api/messages", authorization, activity) == 401
        assert await raw_status(bot, "GET", "/api/incidents/1", authorization) == 401
        assert await raw_status(bot, "GET", "/metrics", authorization) == 401
        body = json.dumps(INCIDENT).encode()
        assert await raw_status(bot, "POST", "/api/incidents", authorization, body) == 401
        assert bot.connector.take() == []
        # The right token still works.
        assert await raw_status(bot, "GET", "/api/incidents/999999", b"Bearer operator-token") == 404


async def test_operator_json_nested_too_deeply_is_400(database_url: str) -> None:
    async with running_bot(database_url, now=DEMO_NOW, admin_token="operator-token") as bot:
        response = await bot.http.post(
            bot.server.make_url("/api/incidents"),
            data="[" * 100_000,
            headers={"Content-Type": "application/json", "Authorization": "Bearer operator-token"},
        )
        assert response.status == 400
        assert (await response.json())["error"] == "the body is not valid JSON"
