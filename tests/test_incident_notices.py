"""Incident notices end to end: the bot remembers where it is installed, channels choose to
subscribe, and KOMBIT's operator API announces, updates and resolves an incident that every
subscribed conversation sees as one card, edited in place."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.broadcast import WorkerConfig
from storage import subscriptions
from storage.db import create_engine
from storage.models import ConversationRef, Incident
from storage.subscriptions import TERMINAL, ConversationInfo
from tests.conftest import DEMO_NOW
from tests.harness import KOMBIT, VEJLE, BotUnderTest, running_bot

TOKEN = "s3cret-operator-token"
TEAM = "19:team@thread.tacv2"
FAST = WorkerConfig(poll=0.05, backoff_base=0.01, backoff_cap=0.05, lease=5.0, flush_interval=0.01)

ADGANGSSTYRING = {
    "title": "Nedbrud på Adgangsstyring",
    "description": "BBR, DAR, SAPA og tokenbaserede services på Serviceplatformen er utilgængelige.",
    "affected_systems": ["Adgangsstyring", "BBR", "DAR", "SAPA"],
    "started_at": "2018-12-10T02:21:00+01:00",
    "severity": "A",
}


@pytest.fixture
async def notice_bot(database_url: str) -> AsyncIterator[BotUnderTest]:
    async with running_bot(database_url, now=DEMO_NOW, admin_token=TOKEN, delivery=FAST) as bot:
        yield bot


async def install(bot: BotUnderTest, conversation_id: str, conversation_type: str, **kwargs: Any) -> None:
    body = bot.activity(
        None,
        activity_type="installationUpdate",
        action="add",
        conversation_id=conversation_id,
        conversation_type=conversation_type,
        **kwargs,
    )
    response = await bot.post(body)
    assert response.status in (200, 201), await response.text()
    bot.connector.take()  # the welcome


async def refs(database_url: str) -> dict[str, Any]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as db:
            rows = (await db.execute(select(ConversationRef.__table__))).all()
    finally:
        await engine.dispose()
    return {r.conversation_id: r for r in rows}


def api(bot: BotUnderTest, path: str) -> str:
    return str(bot.server.make_url(path))


async def call(
    bot: BotUnderTest, method: str, path: str, body: Any = None, token: str | None = TOKEN
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else (body if isinstance(body, str | bytes) else json.dumps(body))
    async with bot.http.request(method, api(bot, path), data=data, headers=headers) as response:
        text = await response.text()
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, text


async def settled(bot: BotUnderTest, incident: int, limit: float = 10.0) -> dict[str, Any]:
    """The incident once nothing is pending any more (its outcomes are written in batches)."""

    async def check() -> dict[str, Any]:
        while True:
            status, report = await call(bot, "GET", f"/api/incidents/{incident}")
            assert status == 200, report
            if report["pending"] == 0:
                return dict(report)
            await asyncio.sleep(0.02)

    return await asyncio.wait_for(check(), limit)


def facts_of(card: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in card["body"]:
        for block in item.get("items", []):
            if block["type"] == "FactSet":
                found.update({f["title"]: f["value"] for f in block["facts"]})
    return found


async def test_install_remembers_conversations_with_default_subscriptions(
    notice_bot: BotUnderTest, database_url: str
) -> None:
    await install(notice_bot, TEAM, "channel")
    await install(notice_bot, "19:other-channel@thread.tacv2", "channel")
    await install(notice_bot, "a:personal-1", "personal")
    await install(notice_bot, "19:group@thread.v2", "groupChat")
    stored = await refs(database_url)
    assert {k: (r.subscribed, r.active) for k, r in stored.items()} == {
        TEAM: (True, True),  # the channel it was installed in first (General)
        "19:other-channel@thread.tacv2": (False, True),  # one channel per team
        "a:personal-1": (True, True),
        "19:group@thread.v2": (True, True),
    }
    assert stored[TEAM].team_id == TEAM and stored[TEAM].tenant_id == VEJLE

    remove = notice_bot.activity(
        None, activity_type="installationUpdate", action="remove", conversation_id="a:personal-1"
    )
    assert (await notice_bot.post(remove)).status in (200, 201)
    deleted = notice_bot.activity(
        None,
        activity_type="conversationUpdate",
        conversation_id=TEAM,
        conversation_type="channel",
    )
    deleted["channelData"]["eventType"] = "teamDeleted"
    assert (await notice_bot.post(deleted)).status in (200, 201)
    stored = await refs(database_url)
    assert not stored["a:personal-1"].active
    assert not stored[TEAM].active and not stored["19:other-channel@thread.tacv2"].active
    assert stored["19:group@thread.v2"].active


async def test_bot_removed_from_a_group_chat_is_forgotten(
    notice_bot: BotUnderTest, database_url: str
) -> None:
    await install(notice_bot, "19:group@thread.v2", "groupChat")
    removed = notice_bot.activity(
        None,
        activity_type="conversationUpdate",
        conversation_id="19:group@thread.v2",
        conversation_type="groupChat",
        membersRemoved=[{"id": "28:klikbot-test", "name": "klikbot"}],
    )
    assert (await notice_bot.post(removed)).status in (200, 201)
    assert not (await refs(database_url))["19:group@thread.v2"].active


async def test_channel_subscription_commands(notice_bot: BotUnderTest, database_url: str) -> None:
    await install(notice_bot, TEAM, "channel")
    other = "19:drift@thread.tacv2"
    reply = await notice_bot.ask_one(
        "abonner på SAPA og BBR", conversation_id=other, conversation_type="channel", mention=True
    )
    assert "Denne kanal får nu KOMBITs driftsmeddelelser om BBR og SAPA." in reply.text
    stored = await refs(database_url)
    assert stored[other].subscribed and stored[other].systems == "|BBR|SAPA|"
    assert not stored[TEAM].subscribed  # the team's subscription moved to this channel

    shown = await notice_bot.ask_one("abonnement", conversation_id=TEAM, conversation_type="channel")
    assert "Denne kanal får ikke KOMBITs driftsmeddelelser. En anden kanal i teamet får dem." in shown.text

    english = await notice_bot.ask_one(
        "subscription", conversation_id=other + ";messageid=123", conversation_type="channel", locale="en-US"
    )
    assert "This channel gets KOMBIT's incident notices about BBR and SAPA." in english.text

    gone = await notice_bot.ask_one("afmeld", conversation_id=other, conversation_type="channel")
    assert "får ikke længere" in gone.text
    assert not (await refs(database_url))[other].subscribed

    bad = await notice_bot.ask_one(
        "abonner på [evil](http://x)", conversation_id=other, conversation_type="channel"
    )
    assert "er ikke et systemnavn" in bad.text


async def test_operator_api_is_off_without_a_token(bot: BotUnderTest) -> None:
    status, body = await call(bot, "POST", "/api/incidents", ADGANGSSTYRING)
    assert status == 404 and "error" in body


@pytest.mark.parametrize(
    ("body", "token", "status", "error"),
    [
        (ADGANGSSTYRING, None, 401, "bearer token"),
        (ADGANGSSTYRING, "wrong", 401, "bearer token"),
        ("{not json", TOKEN, 400, "not valid JSON"),
        ([1, 2], TOKEN, 400, "JSON object"),
        ({**ADGANGSSTYRING, "title": ""}, TOKEN, 400, "title"),
        ({**ADGANGSSTYRING, "title": "x" * 201}, TOKEN, 400, "title is longer"),
        ({**ADGANGSSTYRING, "title": 7}, TOKEN, 400, "title must be a string"),
        ({**ADGANGSSTYRING, "description": "y" * 4001}, TOKEN, 400, "description"),
        ({**ADGANGSSTYRING, "affected_systems": []}, TOKEN, 400, "affected_systems"),
        ({**ADGANGSSTYRING, "affected_systems": "SAPA"}, TOKEN, 400, "affected_systems"),
        ({**ADGANGSSTYRING, "affected_systems": ["S" * 41]}, TOKEN, 400, "system"),
        ({**ADGANGSSTYRING, "affected_systems": ["[x](http://evil)"]}, TOKEN, 400, "system"),
        ({**ADGANGSSTYRING, "affected_systems": [f"S{i}" for i in range(11)]}, TOKEN, 400, "at most"),
        ({**ADGANGSSTYRING, "started_at": "yesterday"}, TOKEN, 400, "started_at"),
        ({**ADGANGSSTYRING, "started_at": "2018-12-10T02:21:00"}, TOKEN, 400, "offset"),
        ({**ADGANGSSTYRING, "severity": "urgent"}, TOKEN, 400, "severity"),
        ({**ADGANGSSTYRING, "extra": 1}, TOKEN, 400, "unknown field"),
    ],
)
async def test_operator_api_refuses_bad_requests(
    notice_bot: BotUnderTest, body: Any, token: str | None, status: int, error: str
) -> None:
    got, answer = await call(notice_bot, "POST", "/api/incidents", body, token=token)
    assert got == status, answer
    assert error in answer["error"]


async def test_operator_api_limits_body_size(notice_bot: BotUnderTest) -> None:
    big = json.dumps({**ADGANGSSTYRING, "description": "x" * (1024 * 1024 + 10)})
    status, answer = await call(notice_bot, "POST", "/api/incidents", big)
    assert status == 413 and "error" in answer


async def test_updates_are_validated(notice_bot: BotUnderTest) -> None:
    status, created = await call(notice_bot, "POST", "/api/incidents", ADGANGSSTYRING)
    assert status == 201
    path = f"/api/incidents/{created['id']}/updates"
    for body, expected in [
        ({"status": "done", "message": "x"}, 400),
        ({"status": "identified", "message": ""}, 400),
        ({"status": "identified", "message": "x", "resolved_at": "2018-12-10T23:35:00+01:00"}, 400),
        ({"status": "resolved", "message": "x", "resolved_at": "2018-12-01T00:00:00+01:00"}, 400),
    ]:
        got, answer = await call(notice_bot, "POST", path, body)
        assert got == expected, (body, answer)
    assert (
        await call(
            notice_bot, "POST", "/api/incidents/999999/updates", {"status": "identified", "message": "x"}
        )
    )[0] == 404
    assert (await call(notice_bot, "GET", "/api/incidents/abc"))[0] == 404
    assert (await call(notice_bot, "GET", "/api/incidents/999999"))[0] == 404


async def test_announce_update_resolve_reaches_every_subscribed_conversation_once(
    notice_bot: BotUnderTest,
) -> None:
    connector = notice_bot.connector
    await install(notice_bot, TEAM, "channel")
    await install(notice_bot, "a:personal-1", "personal", locale="en-US")
    await install(notice_bot, "19:group@thread.v2", "groupChat")
    await install(notice_bot, "19:aula-only@thread.v2", "groupChat", tenant=KOMBIT)
    await notice_bot.ask_one(
        "abonner på AULA",
        conversation_id="19:aula-only@thread.v2",
        conversation_type="groupChat",
        tenant=KOMBIT,
    )
    connector.take()  # the welcomes and the confirmation

    hostile = {**ADGANGSSTYRING, "title": "Nedbrud på **Adgangsstyring** [klik](http://x)"}
    status, created = await call(notice_bot, "POST", "/api/incidents", hostile)
    assert status == 201 and created["queued"] == 3
    incident = created["id"]
    await connector.wait_for(lambda: len(connector.received) >= 3)
    posts = connector.take()
    assert sorted(p.conversation_id for p in posts) == sorted([TEAM, "a:personal-1", "19:group@thread.v2"])
    assert {p.method for p in posts} == {"send"}
    by_conversation = {p.conversation_id: p for p in posts}
    danish = by_conversation[TEAM].card
    assert danish is not None
    assert (
        danish["body"][0]["text"]
        == r"Driftsforstyrrelse: Nedbrud på \*\*Adgangsstyring\*\* \[klik\]\(http://x\)"
    )
    assert facts_of(danish) == {
        "Status": "Undersøges",
        "Siden": "10/12-2018 kl. 02.21",
        "Berørte systemer": "ADGANGSSTYRING, BBR, DAR, SAPA",
        "Prioritet": "A (kritisk)",
    }
    english = by_conversation["a:personal-1"].card
    assert english is not None and facts_of(english)["Status"] == "Investigating"

    status, updated = await call(
        notice_bot,
        "POST",
        f"/api/incidents/{incident}/updates",
        {"status": "identified", "message": "Leverandøren har fundet fejlen: spærrelister for certifikater."},
    )
    assert status == 201 and updated["version"] == 2
    await connector.wait_for(lambda: len(connector.received) >= 3)
    edits = connector.take()
    assert {e.method for e in edits} == {"update"}
    assert {(e.conversation_id, e.activity_id) for e in edits} == {
        (p.conversation_id, p.response_id) for p in posts
    }
    edited = next(e for e in edits if e.conversation_id == TEAM).card
    assert edited is not None and facts_of(edited)["Status"] == "Identificeret"
    assert "spærrelister" in next(e for e in edits if e.conversation_id == TEAM).text

    status, _ = await call(
        notice_bot,
        "POST",
        f"/api/incidents/{incident}/updates",
        {"status": "resolved", "message": "Løst.", "resolved_at": "2018-12-10T23:35:00+01:00"},
    )
    assert status == 201
    await connector.wait_for(lambda: len(connector.received) >= 6)
    final = connector.take()
    assert sorted(f.method for f in final) == ["reply"] * 3 + ["update"] * 3
    for item in final:
        post = by_conversation[item.conversation_id]
        assert (item.reply_to_id if item.method == "reply" else item.activity_id) == post.response_id
    resolved_card = next(f for f in final if f.method == "update" and f.conversation_id == TEAM).card
    assert resolved_card is not None and facts_of(resolved_card)["Status"] == "Løst"
    assert (
        "er løst (10/12-2018 kl. 23.35)"
        in next(f for f in final if f.method == "reply" and f.conversation_id == TEAM).text
    )

    report = await settled(notice_bot, incident)
    assert report["delivery"]["sent"] == 12 and report["pending"] == 0 and report["failed"] == 0
    assert report["status"] == "resolved" and report["version"] == 3
    assert [u["status"] for u in report["updates"]] == ["investigating", "identified", "resolved"]
    again, answer = await call(
        notice_bot, "POST", f"/api/incidents/{incident}/updates", {"status": "monitoring", "message": "x"}
    )
    assert again == 409 and "resolved" in answer["error"]

    # Users asking get the incident too.
    asked = await notice_bot.ask_one("er der driftsforstyrrelser?")
    assert "Ingen driftsforstyrrelser" in asked.text
    assert "Adgangsstyring" in asked.text


async def test_a_filtered_channel_gets_only_its_systems(notice_bot: BotUnderTest) -> None:
    connector = notice_bot.connector
    await install(notice_bot, TEAM, "channel")
    await notice_bot.ask_one("abonner på DAR", conversation_id=TEAM, conversation_type="channel")
    await install(notice_bot, "a:personal-1", "personal")
    connector.take()
    status, _ = await call(
        notice_bot, "POST", "/api/incidents", {**ADGANGSSTYRING, "affected_systems": ["AULA"]}
    )
    assert status == 201
    await connector.wait_for(lambda: len(connector.received) >= 1)
    status, second = await call(
        notice_bot, "POST", "/api/incidents", {**ADGANGSSTYRING, "affected_systems": ["dar"]}
    )
    assert status == 201
    await connector.wait_for(lambda: len(connector.received) >= 3)
    got = connector.take()
    assert sorted(g.conversation_id for g in got) == sorted(["a:personal-1", "a:personal-1", TEAM])
    report = await settled(notice_bot, second["id"])
    assert report["sent"] == 2


def submit_data(card: dict[str, Any], title: str) -> dict[str, Any]:
    """The data of the card's button with this title."""
    actions = list(card.get("actions", []))
    for item in card["body"]:
        for block in item.get("items", []):
            if block.get("type") == "ActionSet":
                actions += block["actions"]
    return dict(next(a for a in actions if a["title"] == title)["data"])


async def test_kombit_announces_from_chat_with_a_form_a_preview_and_a_confirmation(
    notice_bot: BotUnderTest,
) -> None:
    connector = notice_bot.connector
    await install(notice_bot, "a:personal-vejle", "personal")
    await install(notice_bot, TEAM, "channel")
    admin_chat = "a:personal-kombit"
    form = await notice_bot.ask_one("ny driftsmeddelelse", tenant=KOMBIT, conversation_id=admin_chat)
    assert form.card is not None
    inputs = {b["id"]: b for b in form.card["body"] if b["type"].startswith("Input.")}
    assert set(inputs) == {"title", "description", "systems", "severity", "start_date", "start_time"}
    assert inputs["start_date"]["value"] == "2019-01-23" and inputs["start_time"]["value"] == "10:00"

    typed = {
        "title": "Nedbrud på Adgangsstyring",
        "description": "BBR, DAR og SAPA er utilgængelige.",
        "systems": "Adgangsstyring, SAPA og BBR",
        "severity": "A",
        "start_date": "2018-12-10",
        "start_time": "02:21",
    }
    wrong = await notice_bot.ask_one(
        "",
        tenant=KOMBIT,
        conversation_id=admin_chat,
        value={**submit_data(form.card, "Vis eksempel"), **typed, "systems": ""},
    )
    assert "Skriv 1-10 berørte systemer" in str(wrong.card)  # the form again, with what was typed
    preview = await notice_bot.ask_one(
        "",
        tenant=KOMBIT,
        conversation_id=admin_chat,
        value={**submit_data(form.card, "Vis eksempel"), **typed},
    )
    assert preview.card is not None
    assert preview.card["body"][0]["text"] == "Eksempel: Driftsforstyrrelse: Nedbrud på Adgangsstyring"
    assert "Den sendes til 2 samtaler, der abonnerer." in preview.text
    assert connector.received == []  # nothing sent before the confirmation

    # Someone outside KOMBIT replaying the button gets nowhere.
    send = submit_data(preview.card, "Send")
    outsider = await notice_bot.ask_one("", tenant=VEJLE, conversation_id=admin_chat, value=send)
    assert "Kun for KOMBIT" in outsider.text

    sent = await notice_bot.ask_one("", tenant=KOMBIT, conversation_id=admin_chat, value=send)
    assert "sendes nu til 2 samtaler" in sent.text
    await connector.wait_for(lambda: len(connector.received) >= 2)
    notices = connector.take()
    assert sorted(n.conversation_id for n in notices) == sorted(["a:personal-vejle", TEAM])
    assert notices[0].card is not None
    assert facts_of(notices[0].card)["Siden"] == "10/12-2018 kl. 02.21"
    twice = await notice_bot.ask_one("", tenant=KOMBIT, conversation_id=admin_chat, value=send)
    assert "allerede sendt" in twice.text

    progress = await notice_bot.ask_one(
        "", tenant=KOMBIT, conversation_id=admin_chat, value=submit_data(sent.card or {}, "Vis levering")
    )
    assert "Levering af driftsmeddelelse" in progress.text
    update_form = await notice_bot.ask_one(
        "",
        tenant=KOMBIT,
        conversation_id=admin_chat,
        value=submit_data(progress.card or {}, "Skriv en opdatering"),
    )
    assert update_form.card is not None
    sent = await notice_bot.ask(
        "",
        tenant=KOMBIT,
        conversation_id=admin_chat,
        value={
            **submit_data(update_form.card, "Send opdatering"),
            "status": "monitoring",
            "message": "Overvåges.",
        },
    )
    # The worker's edits may come before or after the answer (they share Teams' pacing).
    updated = [r for r in sent if r.conversation_id == admin_chat]
    assert len(updated) == 1 and "Opdateringen er sendt" in updated[0].text
    connector.received[:0] = [r for r in sent if r.conversation_id != admin_chat]
    await connector.wait_for(lambda: len(connector.received) >= 2)
    edits = connector.take()
    assert {e.method for e in edits} == {"update"}
    assert {e.activity_id for e in edits} == {n.response_id for n in notices}
    shown = await notice_bot.ask_one("levering", tenant=KOMBIT, conversation_id=admin_chat)
    assert "Levering af driftsmeddelelse" in shown.text and "Overvåges" in shown.text


async def test_send_pressed_twice_at_once_announces_once(notice_bot: BotUnderTest, database_url: str) -> None:
    await install(notice_bot, "a:personal-vejle", "personal")
    admin_chat = "a:personal-kombit-twice"
    form = await notice_bot.ask_one("ny driftsmeddelelse", tenant=KOMBIT, conversation_id=admin_chat)
    assert form.card is not None
    typed = {"title": "Nedbrud", "description": "SAPA er nede.", "systems": "SAPA", "severity": "B",
             "start_date": "2019-01-23", "start_time": "09:30"}  # fmt: skip
    preview = await notice_bot.ask_one(
        "",
        tenant=KOMBIT,
        conversation_id=admin_chat,
        value={**submit_data(form.card, "Vis eksempel"), **typed},
    )
    assert preview.card is not None
    send = submit_data(preview.card, "Send")
    bodies = [
        notice_bot.activity("", tenant=KOMBIT, conversation_id=admin_chat, value=send) for _ in range(2)
    ]
    await asyncio.gather(*(notice_bot.post(body) for body in bodies))
    answers = [r.text for r in notice_bot.connector.take() if r.conversation_id == admin_chat]
    assert sum("sendes nu til" in a for a in answers) == 1
    assert sum("allerede sendt" in a for a in answers) == 1
    engine = create_engine(database_url)
    try:
        async with engine.connect() as db:
            titles = list(await db.scalars(select(Incident.title)))
    finally:
        await engine.dispose()
    assert titles.count("Nedbrud") == 1


async def test_updates_at_once_each_get_their_own_version(notice_bot: BotUnderTest) -> None:
    status, created = await call(notice_bot, "POST", "/api/incidents", ADGANGSSTYRING)
    assert status == 201, created
    incident = created["id"]
    updates = [{"status": "identified", "message": f"Opdatering {n}"} for n in range(6)]
    results = await asyncio.gather(
        *(call(notice_bot, "POST", f"/api/incidents/{incident}/updates", u) for u in updates)
    )
    assert [s for s, _ in results] == [201] * len(updates), results
    assert sorted(r["version"] for _, r in results) == list(range(2, 2 + len(updates)))
    status, report = await call(notice_bot, "GET", f"/api/incidents/{incident}")
    assert status == 200
    messages = [u["message"] for u in report["updates"]]
    assert sorted(m for m in messages if m.startswith("Opdatering")) == sorted(u["message"] for u in updates)


async def test_a_conversation_of_klikbot_chat_never_gets_a_network_send(
    notice_bot: BotUnderTest, database_url: str
) -> None:
    """`klikbot chat` records its conversation too (channel "terminal"): even when its row names
    a reachable service URL, nothing is queued for it, so nothing is sent there."""
    await install(notice_bot, "a:personal-real", "personal")
    engine = create_engine(database_url)
    try:
        async with engine.begin() as db:
            await subscriptions.remember(
                db,
                ConversationInfo(
                    "terminal-1a2b3c4d",
                    notice_bot.connector.url + "/",
                    VEJLE,
                    "personal",
                    channel="terminal",
                    origin=TERMINAL,
                ),
                DEMO_NOW,
            )
    finally:
        await engine.dispose()
    status, created = await call(notice_bot, "POST", "/api/incidents", ADGANGSSTYRING)
    assert status == 201 and created["queued"] == 1
    await notice_bot.connector.wait_for(lambda: len(notice_bot.connector.received) >= 1)
    await settled(notice_bot, created["id"])
    assert [r.conversation_id for r in notice_bot.connector.take()] == ["a:personal-real"]
