"""Property-based tests (hypothesis): whatever arrives, the bot answers with a 2xx or a 4xx,
never a 500 or a crash inside a turn; text and dates never make the understanding raise.

The examples are derandomised (the same on every run, so CI is reproducible) and bounded;
async tests with @given run each example on the test's event loop (pytest-asyncio), sharing
one bot per test."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from dialogs.dates import find_period
from dialogs.understanding import understand
from storage.domain import COPENHAGEN
from tests.conftest import DEMO_NOW
from tests.harness import KOMBIT, UNKNOWN_TENANT, VEJLE, BotUnderTest, running_bot

TOKEN = "fuzz-operator-token"

FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,  # nothing written to .hypothesis/ in the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
QUICK = settings(FUZZ, max_examples=150)

# -- strategies -------------------------------------------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
JSON: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)

# Words that steer the understanding and the date parser into their deeper branches.
# fmt: off
WORDS = [
    "hvilke", "opgaver", "mangler", "vi", "frist", "frister", "hvornår", "næste", "programledermøde",
    "fortæl", "om", "kontaktpunkt", "sæt", "til", "fuldført", "påbegyndt", "ikke", "jeg", "er",
    "ansvarlig", "for", "hjælp", "abonner", "på", "afmeld", "SAPA", "BBR", "overblik", "status",
    "hvem", "levering", "ny", "driftsmeddelelse", "annuller", "events", "what", "is", "due",
    "next", "week", "in", "march", "inden", "før", "senest", "efter", "fra og med", "mellem", "og",
    "uge", "uger", "ugen", "måned", "måneden", "sidste", "denne", "i dag", "i morgen",
    "overmorgen", "udgangen af", "ultimo", "januar", "februar", "feb.", "maj", "december",
    "31/1", "1.", "15.", "29/2-2019", "31/4", "2019", "2100", "9999", "0", "00/00", "2019-02-30",
    "9999-12-31", "0001-01-01", "0001", "0000", "9998", "uge 53", "uge 0", "week 99", "de næste", "the next", "days",
    "months", "999", "by", "before", "after", "end of", "mandag", "friday", "today", "tomorrow",
    "1st", "of", "'", "\"", "?", "!", "<at>klikbot</at>", "\u200b", "\x00",
]
# fmt: on
PHRASES = st.lists(
    st.sampled_from(WORDS) | st.text(max_size=8) | st.integers(0, 10**7).map(str), max_size=10
).map(" ".join)
TEXTS = PHRASES | st.text(max_size=200)
LOCALES = (
    st.none() | st.sampled_from(["da-DK", "en-US", "en-GB", "da", "", "xx", "da_DK"]) | st.text(max_size=12)
)
MOMENTS = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2090, 12, 31),
    timezones=st.sampled_from([UTC, COPENHAGEN]),
)

# fmt: off
VERBS = [
    "task", "ask", "cancel", "pick_task", "set_status", "task_status", "incident_form",
    "incident_preview", "incident_confirm", "incident_status", "incident_update",
    "incident_update_form",
]
# fmt: on
CARD_DATA = st.fixed_dictionaries(
    {"klikbot": st.sampled_from(VERBS) | JSON},
    optional={
        "id": st.integers(-5, 10**12) | st.text(max_size=10) | JSON,
        "lang": st.sampled_from(["da", "en"]) | JSON,
        "text": TEXTS | JSON,
        "status": st.sampled_from(["completed", "started", "not_started", "inactive", "fuldført"]) | JSON,
        "sig": st.text(max_size=40) | JSON,
        "title": st.text(max_size=40) | JSON,
        "systems": st.text(max_size=40) | JSON,
        "severity": st.sampled_from(["A", "B", "C"]) | JSON,
        "token": st.text(max_size=40) | JSON,
        "extra": JSON,
    },
)
TYPES = st.sampled_from(
    ["message", "invoke", "conversationUpdate", "installationUpdate", "messageReaction", "event", "typing"]
)
TENANTS = st.sampled_from([VEJLE, KOMBIT, UNKNOWN_TENANT])
# Activities Teams could send: the right shapes, odd contents (most reach the bot's handlers).
WELL_FORMED = st.fixed_dictionaries(
    {},
    optional={
        "type": TYPES,
        "text": TEXTS,
        "locale": st.sampled_from(["da-DK", "en-US", "en-GB", "da", "", "xx", "da_DK"])
        | st.text(max_size=12),
        "value": CARD_DATA | st.fixed_dictionaries({"action": st.fixed_dictionaries({"data": CARD_DATA})}),
        "name": st.sampled_from(["adaptiveCard/action", "task/fetch", "composeExtension/query", ""]),
        "action": st.sampled_from(["add", "remove", "add-upgrade"]),
        "channelData": st.fixed_dictionaries(
            {},
            optional={
                "tenant": st.fixed_dictionaries({"id": TENANTS | st.text(max_size=40)}),
                "team": st.fixed_dictionaries(
                    {}, optional={"id": st.text(max_size=20), "name": st.text(max_size=20)}
                ),
                "channel": st.fixed_dictionaries({}, optional={"id": st.text(max_size=20)}),
                "eventType": st.sampled_from(
                    ["teamDeleted", "teamHardDeleted", "channelCreated", "teamRenamed"]
                ),
            },
        ),
        "conversation": st.fixed_dictionaries(
            {"id": st.text(min_size=1, max_size=30)},
            optional={
                "conversationType": st.sampled_from(["personal", "channel", "groupChat"]),
                "tenantId": TENANTS,
                "isGroup": st.booleans(),
            },
        ),
        "from": st.fixed_dictionaries(
            {},
            optional={
                "id": st.text(max_size=20),
                "name": st.text(max_size=20),
                "aadObjectId": st.text(max_size=20),
            },
        ),
        "membersAdded": st.lists(
            st.fixed_dictionaries({"id": st.just("28:klikbot-test") | st.text(max_size=10)})
        ),
        "membersRemoved": st.lists(
            st.fixed_dictionaries({"id": st.just("28:klikbot-test") | st.text(max_size=10)})
        ),
        "replyToId": st.text(max_size=20),
        "entities": st.lists(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["mention", "clientInfo"]) | st.text(max_size=10)},
                optional={
                    "text": st.text(max_size=20),
                    "mentioned": st.fixed_dictionaries({"id": st.text(max_size=20)}),
                },
            ),
            max_size=2,
        ),
        "deliveryMode": st.sampled_from(["normal", "expectReplies"]),
    },
)
# Anything at all in the activity's fields.
GARBAGE = st.fixed_dictionaries(
    {},
    optional={
        key: JSON
        for key in [
            "type",
            "text",
            "locale",
            "value",
            "name",
            "action",
            "channelData",
            "conversation",
            "from",
            "recipient",
            "entities",
            "attachments",
            "membersAdded",
            "membersRemoved",
            "replyToId",
            "timestamp",
            "id",
            "channelId",
            "serviceUrl",
            "deliveryMode",
        ]
    },
)
ACTIVITY_CHANGES = (
    WELL_FORMED | GARBAGE | st.tuples(WELL_FORMED, GARBAGE).map(lambda pair: {**pair[0], **pair[1]})
)
ACTIVITY_DROPS = st.sets(
    st.sampled_from(
        ["type", "id", "from", "recipient", "conversation", "channelData", "serviceUrl", "locale"]
    ),
    max_size=3,
)


def _turn_bugs(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Turns that failed with a traceback: a bug, whatever the HTTP status said."""
    return [
        f"{record.getMessage()}: {record.exc_info[1]!r}"
        for record in caplog.records
        if record.levelno >= logging.ERROR and record.exc_info and record.name.startswith(("bot", "dialogs"))
    ]


# -- /api/messages ----------------------------------------------------------------------------


@FUZZ
@given(changes=ACTIVITY_CHANGES, drops=ACTIVITY_DROPS)
# Found by this test: each failed a turn (or gave a 500) before it was fixed.
@example(changes={"text": "hvad har frist inden januar 0001?"}, drops=set())
@example(changes={"type": "conversationUpdate", "membersAdded": [{"id": "29:someone"}]}, drops=set())
@example(changes={"type": "conversationUpdate", "membersRemoved": [{"id": "x"}]}, drops={"channelData"})
@example(changes={"type": "invoke", "name": "adaptiveCard/action"}, drops=set())
@example(changes={"channelId": None}, drops=set())
@example(changes={"type": "conversationUpdate", "channelData": []}, drops=set())
async def test_any_activity_gets_a_2xx_or_4xx(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture, changes: dict[str, Any], drops: set[str]
) -> None:
    caplog.clear()
    body = bot.activity("hvilke opgaver mangler vi?")
    for key in drops:
        body.pop(key, None)
    body.update(changes)
    response = await bot.post(body)
    # 501 is the Bot Framework's answer to an invoke the bot does not handle (botbuilder's
    # ActivityHandler), which Teams expects; any other 5xx is a failure.
    unhandled_invoke = response.status == 501 and body.get("type") == "invoke"
    event(f"HTTP {response.status}")  # --hypothesis-show-statistics: how many got past the checks
    assert response.status < 500 or unhandled_invoke, (response.status, await response.text())
    assert _turn_bugs(caplog) == []
    bot.connector.take()


@QUICK
@given(body=JSON)
async def test_any_json_gets_a_4xx(bot: BotUnderTest, body: Any) -> None:
    response = await bot.post(body)
    assert 400 <= response.status < 500, (response.status, await response.text())


@QUICK
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
async def test_any_bytes_get_a_2xx_or_4xx(bot: BotUnderTest, raw: bytes) -> None:
    response = await bot.http.post(bot.url, data=raw, headers={"Content-Type": "application/json"})
    assert response.status < 500, (response.status, await response.text())


# -- understanding and dates (no I/O: many examples are cheap) --------------------------------


@settings(FUZZ, max_examples=500)
@given(text=TEXTS, now=MOMENTS, locale=LOCALES)
def test_understanding_never_raises(text: str, now: datetime, locale: str | None) -> None:
    understood = understand(text, now, locale)
    assert understood.language in ("da", "en")


@settings(FUZZ, max_examples=500)
@given(text=TEXTS, now=MOMENTS, language=st.sampled_from(["da", "en"]))
@example(text="9999-12-31", now=DEMO_NOW, language="da")  # these two raised OverflowError
@example(text="udgangen af december 9999", now=DEMO_NOW, language="da")
@example(text="inden januar 0001", now=DEMO_NOW, language="da")  # a period the answers could not show
def test_periods_are_ordered_and_aware(text: str, now: datetime, language: Any) -> None:
    period = find_period(text, now, language)
    if period is None:
        return
    assert period.start is not None or period.end is not None
    for moment in (period.start, period.end):
        assert moment is None or moment.tzinfo is not None
        # Far from the calendar's edges, so it can be shifted to UTC and shown.
        assert moment is None or 1900 <= moment.year < 3000, (text, period)
    if period.start is not None and period.end is not None:
        assert period.start < period.end, (text, period)


# -- the operator API -------------------------------------------------------------------------


def near(valid: dict[str, Any], fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """A valid body with up to three fields changed (to plausible or arbitrary values) or left
    out, or anything at all: most requests get past the first check and reach the deeper ones."""

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        body = dict(valid)
        for key in draw(st.lists(st.sampled_from(sorted(fields)), max_size=3, unique=True)):
            if draw(st.integers(0, 4)) == 0:
                body.pop(key, None)
            else:
                body[key] = draw(fields[key] | JSON)
        return body

    return build() | build() | JSON  # two in three near a valid body


MOMENT_TEXTS = st.sampled_from(
    [
        "2018-12-10T02:21:00+01:00",
        "2019-01-23T10:00:00Z",
        "2019-01-23",
        "2019-01-23T10:00",
        "2019-13-01T00:00:00+01:00",
        "9999-12-31T23:59:59+14:00",
        "0001-01-01T00:00:00+00:00",
        "",
    ]
) | st.text(max_size=30)
DATES = st.sampled_from(["2019-03-01", "2019-02-30", "0001-01-01", "9999-12-31", "1.3.2019", ""]) | st.text(
    max_size=12
)
IDS = st.sampled_from(["mbp-kontaktpunkt-incident", "ny-opgave", "a", "-x", "a" * 65, "æøå"]) | st.text(
    st.characters(codec="ascii", categories=["L", "N"]) | st.sampled_from("._-"), min_size=1, max_size=20
)
TEXT = st.text(max_size=40) | st.sampled_from(["", " ", "x" * 301, "<b>fed</b>", "\x00"])

INCIDENTS = near(
    {
        "title": "Nedbrud på Adgangsstyring",
        "description": "BBR er utilgængelig",
        "affected_systems": ["Adgangsstyring", "BBR"],
        "started_at": "2018-12-10T02:21:00+01:00",
        "severity": "A",
    },
    {
        "title": TEXT | st.text(min_size=195, max_size=210),
        "description": TEXT,
        "affected_systems": st.lists(
            st.sampled_from(["Adgangsstyring", "BBR", "SAPA", "DAR", "", "x" * 41]) | st.text(max_size=45),
            max_size=12,
        ),
        "started_at": MOMENT_TEXTS,
        "severity": st.sampled_from(["A", "b", " C ", "", "D"]),
        "extra": JSON,
    },
)
UPDATES = near(
    {"status": "identified", "message": "Årsagen er fundet"},
    {
        "status": st.sampled_from(["investigating", "identified", "monitoring", "resolved", "Løst", ""]),
        "message": TEXT,
        "resolved_at": MOMENT_TEXTS,
        "extra": JSON,
    },
)
TASKS = near(
    {
        "title": "Udpeg fuzz-ansvarlig",
        "programme": "ydelsesrefusion",
        "state": "active",
        "deadline": "2019-03-01",
    },
    {
        "id": IDS,
        "title": TEXT,
        "programme": st.sampled_from(["monopolbrud", "aula", "ydelsesrefusion", "ukendt"]),
        "state": st.sampled_from(["announced", "active", "closed", "aktiv", "afsluttet", "x"]),
        "description": TEXT,
        "mandatory": st.booleans(),
        "critical_path": st.booleans(),
        "deadline": DATES,
        "deadline_rule": TEXT,
        "contact": TEXT,
        "keywords": st.lists(TEXT, max_size=4),
        "counts": JSON,
    },
)
SLOT = near(
    {"start": "2019-03-01T10:00", "end": "2019-03-01T12:00"},
    {"start": MOMENT_TEXTS | DATES, "end": MOMENT_TEXTS | DATES, "all_day": st.booleans(), "location": TEXT},
)
EVENTS = near(
    {
        "title": "Fuzz-workshop",
        "kind": "workshop",
        "slots": [{"start": "2019-03-01T10:00", "end": "2019-03-01T12:00"}],
    },
    {
        "id": IDS,
        "title": TEXT,
        "kind": st.sampled_from(["programledermoede", "workshop", ""]),
        "location": TEXT,
        "online": st.booleans(),
        "registration_url": st.sampled_from(["https://kombit.dk/tilmeld", "ftp://x", ""]),
        "registration_deadline": DATES,
        "cancelled": st.booleans(),
        "slots": st.lists(SLOT, max_size=3),
    },
)
CATALOGUES = near(
    {"format": "klikbot-catalogue/1"},
    {
        "format": st.just("klikbot-catalogue/2"),
        "programmes": st.lists(
            near(
                {"id": "fuzz", "name": "Fuzzprogrammet", "short_name": "FZ"},
                {"id": IDS, "name": TEXT, "short_name": TEXT},
            ),
            max_size=2,
        ),
        "tasks": st.lists(
            TASKS.map(lambda t: {"id": "fuzz-opgave", **t} if isinstance(t, dict) else t), max_size=2
        ),
        "events": st.lists(
            EVENTS.map(lambda e: {"id": "fuzz-event", **e} if isinstance(e, dict) else e), max_size=2
        ),
        "municipalities": st.lists(
            near({"code": 630, "name": "Vejle"}, {"code": st.integers(-1, 1000), "name": TEXT}), max_size=2
        ),
        "tenants": st.lists(
            near(
                {"tenant_id": "00000000-0000-4000-8000-000000000630", "municipality": 630},
                {"tenant_id": TEXT, "municipality": st.integers(-1, 1000) | TEXT},
            ),
            max_size=2,
        ),
        "clock": JSON,
    },
)


@pytest.fixture
async def operator_bot(database_url: str) -> AsyncIterator[BotUnderTest]:
    async with running_bot(database_url, now=DEMO_NOW, admin_token=TOKEN) as bot:
        yield bot


async def _call(bot: BotUnderTest, method: str, path: str, body: Any) -> tuple[int, str]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    async with bot.http.request(method, bot.server.make_url(path), data=data, headers=headers) as response:
        return response.status, await response.text()


def _no_server_error(status: int, text: str) -> None:
    event(f"HTTP {status}")  # --hypothesis-show-statistics: how deep the examples got
    assert status < 500, (status, text)


@pytest.fixture
async def open_incidents(operator_bot: BotUnderTest) -> list[str]:
    """Three incidents to update (a resolved one takes no more updates)."""
    ids = []
    for _ in range(3):
        body = {"title": "Nedbrud", "affected_systems": ["SAPA"], "started_at": "2019-01-23T09:00:00+01:00"}
        status, text = await _call(operator_bot, "POST", "/api/incidents", body)
        assert status == 201, text
        ids.append(str(json.loads(text)["id"]))
    return ids


@QUICK
@given(body=INCIDENTS)
async def test_new_incidents_get_2xx_or_4xx(operator_bot: BotUnderTest, body: Any) -> None:
    status, text = await _call(operator_bot, "POST", "/api/incidents", body)
    _no_server_error(status, text)


@QUICK
@given(which=st.integers(0, 5), body=UPDATES)
@example(which=4, body={"status": "identified", "message": "x"})
@example(which=5, body={"status": "identified", "message": "x"})
async def test_incident_updates_get_2xx_or_4xx(
    operator_bot: BotUnderTest, open_incidents: list[str], which: int, body: Any
) -> None:
    incident = [*open_incidents, "0", "999999999999", "²"][which]  # the last two gave a 500
    status, text = await _call(operator_bot, "POST", f"/api/incidents/{incident}/updates", body)
    _no_server_error(status, text)


@QUICK
@given(task_id=IDS, body=TASKS)
async def test_task_puts_get_2xx_or_4xx(operator_bot: BotUnderTest, task_id: str, body: Any) -> None:
    status, text = await _call(operator_bot, "PUT", f"/api/tasks/{task_id}", body)
    _no_server_error(status, text)


@QUICK
@given(event_id=IDS, body=EVENTS)
async def test_event_puts_get_2xx_or_4xx(operator_bot: BotUnderTest, event_id: str, body: Any) -> None:
    status, text = await _call(operator_bot, "PUT", f"/api/events/{event_id}", body)
    _no_server_error(status, text)


@QUICK
@given(body=CATALOGUES, dry_run=st.sampled_from(["", "?dry_run=true"]))
async def test_imports_get_2xx_or_4xx(operator_bot: BotUnderTest, body: Any, dry_run: str) -> None:
    status, text = await _call(operator_bot, "POST", f"/api/import{dry_run}", body)
    _no_server_error(status, text)
