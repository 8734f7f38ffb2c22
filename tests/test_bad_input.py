"""Bad input gets a clear answer or a 4xx: never a 500, a crash or a stack trace to the user."""

from __future__ import annotations

import re

import pytest

from tests.harness import UNKNOWN_TENANT, BotUnderTest


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
