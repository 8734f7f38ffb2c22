"""GET /api/events/{id}.ics over HTTP on the demo database, and the "Tilføj til kalender" links
in the event answers that lead to it (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp import ClientResponse
from icalendar import Calendar
from sqlalchemy import select

from bot.cli import _with_public_url
from bot.settings import Settings
from storage.db import create_engine
from storage.models import EventSlot, Tenant
from tests.catalogue_helpers import demo_catalogue, event, jsonable
from tests.conftest import DEMO_NOW
from tests.harness import BotUnderTest, running_bot

TOKEN = "operator-secret-token"
MEETING = "programledermoede-2019-02"
MEETING_UIDS = [f"{MEETING}@klikbot.kombit.dk", f"{MEETING}+2@klikbot.kombit.dk"]


@pytest.fixture
async def operator_bot(database_url: str) -> AsyncIterator[BotUnderTest]:
    async with running_bot(
        database_url, now=DEMO_NOW, admin_token=TOKEN, public_url="https://klikbot.example.dk/"
    ) as bot:
        yield bot


async def get(bot: BotUnderTest, path: str, headers: dict[str, str] | None = None) -> ClientResponse:
    return await bot.http.get(str(bot.server.make_url(path)), headers=headers or {})


async def fetch_calendar(bot: BotUnderTest, path: str) -> tuple[bytes, Calendar]:
    response = await get(bot, path)
    assert response.status == 200, await response.text()
    data = await response.read()
    calendar = Calendar.from_ical(data)
    assert isinstance(calendar, Calendar)
    return data, calendar


async def put_event(bot: BotUnderTest, entry: dict[str, Any]) -> None:
    response = await bot.http.put(
        str(bot.server.make_url(f"/api/events/{entry['id']}")),
        data=json.dumps(entry),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status == 200, await response.text()


def calendar_links(card: dict[str, Any]) -> list[str]:
    return [
        action["url"]
        for item in card["body"]
        for block in item.get("items", [])
        if block["type"] == "ActionSet"
        for action in block["actions"]
        if action["type"] == "Action.OpenUrl" and action["url"].split("?")[0].endswith(".ics")
    ]


async def test_an_event_as_an_icalendar_file(bot: BotUnderTest) -> None:
    response = await get(bot, f"/api/events/{MEETING}.ics")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{MEETING}.ics"'
    data = await response.read()
    calendar = Calendar.from_ical(data)
    assert calendar["METHOD"] == "PUBLISH"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Copenhagen"]
    vevents = calendar.walk("VEVENT")
    assert [str(e["UID"]) for e in vevents] == MEETING_UIDS
    lines = data.decode().splitlines()
    assert "DTSTART;TZID=Europe/Copenhagen:20190227T100000" in lines
    assert "DTEND;TZID=Europe/Copenhagen:20190228T143000" in lines
    for vevent in vevents:
        assert vevent["SUMMARY"] == "Programledermøde februar"
        assert vevent.decoded("DTSTAMP") == DEMO_NOW.astimezone(UTC)  # the bot's clock
        assert vevent.decoded("SEQUENCE") == 0
        assert vevent["STATUS"] == "CONFIRMED"
        assert "For: KOMBIT-programledere" in str(vevent["DESCRIPTION"])
    assert vevents[1]["URL"] == "https://www.kombit.dk/content/programlederm%C3%B8de-februar-2"
    head = await bot.http.head(str(bot.server.make_url(f"/api/events/{MEETING}.ics")))
    assert head.status == 200


async def test_nothing_internal_leaks(bot: BotUnderTest, database_url: str) -> None:
    data, _ = await fetch_calendar(bot, f"/api/events/{MEETING}.ics")
    engine = create_engine(database_url)
    try:
        async with engine.connect() as db:
            tenant_ids = list(await db.scalars(select(Tenant.tenant_id)))
            slot_ids = list(await db.scalars(select(EventSlot.id).where(EventSlot.event_id == MEETING)))
    finally:
        await engine.dispose()
    text = data.decode()
    assert tenant_ids and slot_ids
    assert not [t for t in tenant_ids if t in text]
    assert "00000000-0000-4000-8000" not in text
    uid_lines = [line for line in text.splitlines() if line.startswith("UID:")]
    assert uid_lines == [f"UID:{uid}" for uid in MEETING_UIDS]  # no database id in a UID
    assert not any(f"+{i}@" in text for i in slot_ids if i > len(MEETING_UIDS))
    assert "Understøttelse af kommunens KOMBIT-programleder" not in text  # not on the card either


async def test_unknown_and_impossible_ids_get_404_and_bad_lang_400(bot: BotUnderTest) -> None:
    for path in (
        "/api/events/no-such-event.ics",
        "/api/events/-leading-dash.ics",
        "/api/events/%C3%A6bler.ics",
        f"/api/events/{'x' * 65}.ics",
        "/api/events/%2E%2E.ics",
    ):
        response = await get(bot, path)
        assert response.status == 404, path
        assert response.content_type == "application/json"
        assert "error" in await response.json()
    response = await get(bot, f"/api/events/{MEETING}.ics?lang=fr")
    assert response.status == 400
    assert "error" in await response.json()


async def test_etag_answers_304_until_the_event_changes(operator_bot: BotUnderTest) -> None:
    first = await get(operator_bot, f"/api/events/{MEETING}.ics")
    etag = first.headers["ETag"]
    again = await get(operator_bot, f"/api/events/{MEETING}.ics", {"If-None-Match": etag})
    assert again.status == 304
    assert again.headers["ETag"] == etag
    english = await get(operator_bot, f"/api/events/{MEETING}.ics?lang=en", {"If-None-Match": etag})
    assert english.status == 200
    data = jsonable(demo_catalogue())
    meeting = event(data, MEETING)
    meeting["slots"][1]["start"], meeting["slots"][1]["end"] = "2019-02-28T14:00", "2019-02-28T15:00"
    await put_event(operator_bot, meeting)
    after = await get(operator_bot, f"/api/events/{MEETING}.ics", {"If-None-Match": etag})
    assert after.status == 200
    assert after.headers["ETag"] != etag


async def test_a_move_raises_the_sequence_and_keeps_the_uids(operator_bot: BotUnderTest) -> None:
    _, before = await fetch_calendar(operator_bot, f"/api/events/{MEETING}.ics")
    data = jsonable(demo_catalogue())
    meeting = event(data, MEETING)
    meeting["slots"][1]["start"], meeting["slots"][1]["end"] = "2019-02-28T14:00", "2019-02-28T15:00"
    await put_event(operator_bot, meeting)
    raw, after = await fetch_calendar(operator_bot, f"/api/events/{MEETING}.ics")
    uids = [str(e["UID"]) for e in after.walk("VEVENT")]
    assert uids == [str(e["UID"]) for e in before.walk("VEVENT")] == MEETING_UIDS
    assert [e.decoded("SEQUENCE") for e in before.walk("VEVENT")] == [0, 0]
    assert [e.decoded("SEQUENCE") for e in after.walk("VEVENT")] == [1, 1]
    assert "DTSTART;TZID=Europe/Copenhagen:20190228T140000" in raw.decode().splitlines()
    # A cancellation raises it again; the file still answers, so calendars drop the entries.
    meeting["cancelled"] = True
    await put_event(operator_bot, meeting)
    _, cancelled = await fetch_calendar(operator_bot, f"/api/events/{MEETING}.ics")
    vevents = cancelled.walk("VEVENT")
    assert [str(e["UID"]) for e in vevents] == MEETING_UIDS
    assert [(e.decoded("SEQUENCE"), str(e["STATUS"])) for e in vevents] == [(2, "CANCELLED")] * 2
    assert not cancelled.walk("VALARM")


async def test_every_event_answer_links_its_calendar_file(bot: BotUnderTest) -> None:
    reply = await bot.ask_one("kommende arrangementer")
    assert reply.card is not None
    links = calendar_links(reply.card)
    assert len(links) == 6  # one per event shown
    assert links[0] == "http://127.0.0.1:3978/api/events/workshop-drift-og-forvaltning-2019.ics"
    assert "→ Tilføj til kalender: " + links[0] in reply.text
    # The link leads to the event's file on this bot.
    _, calendar = await fetch_calendar(bot, urlsplit(links[0]).path)
    (vevent,) = calendar.walk("VEVENT")
    assert vevent["SUMMARY"] == "Workshop om drift og forvaltning"
    assert vevent["LOCATION"] == "Vadehavet, KOMBIT"
    assert "senest 28/1-2019" in str(vevent["DESCRIPTION"])


async def test_links_use_the_public_url_and_the_answers_language(operator_bot: BotUnderTest) -> None:
    reply = await operator_bot.ask_one("when is the next programme leader meeting?", locale="en-US")
    assert reply.card is not None
    (link,) = calendar_links(reply.card)
    assert link == f"https://klikbot.example.dk/api/events/{MEETING}.ics?lang=en"
    assert "→ Add to calendar: " + link in reply.text
    parts = urlsplit(link)
    _, calendar = await fetch_calendar(operator_bot, f"{parts.path}?{parts.query}")
    description = str(calendar.walk("VEVENT")[0]["DESCRIPTION"])
    assert "For: KOMBIT-programledere" in description and "Registration: " in description


def test_the_public_url_defaults_to_the_served_address() -> None:
    assert _with_public_url(Settings(), "127.0.0.1", 3978).public_url == "http://127.0.0.1:3978"
    assert _with_public_url(Settings(), "::1", 8080).public_url == "http://[::1]:8080"
    given = Settings(public_url="https://klikbot.kombit.dk")
    assert _with_public_url(given, "127.0.0.1", 3978).public_url == "https://klikbot.kombit.dk"


def test_chat_shows_the_calendar_link(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KLIKBOT_", "Microsoft"))}
    env["KLIKBOT_PUBLIC_URL"] = "https://klikbot.example.dk"
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--demo", "--municipality", "Vejle"],
        input="hvornår er næste programledermøde?\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    link = f"https://klikbot.example.dk/api/events/{MEETING}.ics"
    assert f"→ Tilføj til kalender: {link}" in result.stdout
