"""One tenant per activity: where `conversation.tenantId`, `conversation.tenantID` and
`channelData.tenant.id` disagree, the sender is an unknown tenant, never the one either names.

Over real HTTP with the fake Bot Connector, at the demo clock; KOMBIT's tenant is an admin
tenant (KLIKBOT_ADMIN_TENANT_IDS), Vejle's is mapped to Vejle.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bot.observability import JsonFormatter, RequestContextFilter
from tests.harness import KOMBIT, VEJLE, BotUnderTest

OVERVIEW_TITLE = "Overblik: aktive KLIK-opgaver"  # KOMBIT's, every municipality by name
UNKNOWN_TITLE = "Jeg ved ikke, hvilken kommune du er fra"
DISAGREEMENT = "names different tenants"


class JsonLines(logging.Handler):
    """The log as `klikbot serve` writes it: JSON lines with the request's context."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.addFilter(RequestContextFilter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def entries(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines]


@pytest.fixture
def logs() -> Iterator[JsonLines]:
    handler = JsonLines()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def naming(bot: BotUnderTest, text: str, places: dict[str, str]) -> dict[str, Any]:
    """A message whose activity names these tenants in these places."""
    body = bot.activity(text, tenant=None, user_name="Mette Vinther")
    for place, tenant in places.items():
        if place == "channelData":
            body["channelData"]["tenant"] = {"id": tenant}
        else:
            body["conversation"][place] = tenant
    return body


async def answer(bot: BotUnderTest, body: dict[str, Any]) -> tuple[str, str]:
    response = await bot.post(body)
    assert response.status in (200, 201), await response.text()
    [reply] = bot.connector.take()
    assert reply.card is not None
    return reply.card["body"][0]["text"], reply.text


DISAGREEING: dict[str, dict[str, str]] = {
    "conversation KOMBIT, Teams' channelData Vejle": {"tenantId": KOMBIT, "channelData": VEJLE},
    "conversation Vejle, channelData KOMBIT": {"tenantId": VEJLE, "channelData": KOMBIT},
    "botbuilder's tenantID KOMBIT, channelData Vejle": {"tenantID": KOMBIT, "channelData": VEJLE},
    "tenantId Vejle, tenantID KOMBIT": {"tenantId": VEJLE, "tenantID": KOMBIT, "channelData": VEJLE},
}


@pytest.mark.parametrize("case", list(DISAGREEING))
async def test_an_activity_naming_two_tenants_is_an_unknown_tenant(
    bot: BotUnderTest, case: str, logs: JsonLines
) -> None:
    places = DISAGREEING[case]
    title, text = await answer(bot, naming(bot, "overblik", places))
    # Not KOMBIT's overview of every municipality by name: the counts anyone may see.
    assert title != OVERVIEW_TITLE and title == "Sådan står det til i alle kommuner"
    assert "Vejle (ikke påbegyndt)" not in text and "København" not in text
    # One log line says why, without the person or the message; no line of the turn names
    # either tenant as the sender's.
    entries = logs.entries()
    [index] = [i for i, entry in enumerate(entries) if DISAGREEMENT in entry["message"]]
    assert entries[index]["level"] == "WARNING"
    assert "Mette" not in logs.lines[index] and "overblik" not in logs.lines[index]
    assert [e for e in entries if e.get("tenant_id")] == []
    # Nor is the sender Vejle: an unknown tenant, told how to get registered, with neither
    # tenant id offered as theirs.
    title, text = await answer(bot, naming(bot, "hvilke opgaver mangler vi?", places))
    assert title == UNKNOWN_TITLE
    assert "Mbprogrammet@kombit.dk" in text and "Jeres status" not in text
    assert KOMBIT not in text and VEJLE not in text
    # Who is missing a task is KOMBIT's to know, by name.
    title, text = await answer(bot, naming(bot, "hvem mangler Udpeg kontaktpunkt?", places))
    assert "Vejle (ikke påbegyndt)" not in text and "Mangler (85)" not in text


async def test_places_that_agree_name_the_tenant(bot: BotUnderTest, logs: JsonLines) -> None:
    """Teams sends the tenant in the conversation and in channelData; letter case and spaces
    do not make them disagree."""
    title, _ = await answer(
        bot, naming(bot, "overblik", {"tenantId": f" {KOMBIT.upper()} ", "channelData": KOMBIT})
    )
    assert title == OVERVIEW_TITLE
    places = {"tenantId": VEJLE, "tenantID": VEJLE.upper(), "channelData": VEJLE}
    title, _ = await answer(bot, naming(bot, "hvilke opgaver mangler vi?", places))
    assert title == "Udestående KLIK-opgaver for Vejle"
    assert not [e for e in logs.entries() if DISAGREEMENT in e["message"]]
    assert {e["tenant_id"] for e in logs.entries() if e["logger"] == "klikbot.turn"} == {KOMBIT, VEJLE}
