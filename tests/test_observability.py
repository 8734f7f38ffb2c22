"""Logs and metrics (issue 8): one JSON line per turn and per delivery, with ids and no text or
names; a request id through each turn; Prometheus metrics at GET /metrics."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text as sql
from sqlalchemy.exc import IntegrityError

from bot.broadcast import WorkerConfig
from bot.observability import (
    OBSERVABILITY,
    JsonFormatter,
    RequestContext,
    RequestContextFilter,
    TextFormatter,
    configure_logging,
    request_context,
    request_id_from,
)
from storage.db import create_engine
from tests.conftest import DEMO_NOW
from tests.harness import VEJLE, BotUnderTest, start_bot

TOKEN = "metrics-and-operator-token"
FAST = WorkerConfig(poll=0.05, backoff_base=0.01, backoff_cap=0.05, lease=5.0, flush_interval=0.01)
INCIDENT = {
    "title": "Nedbrud på Adgangsstyring",
    "description": "BBR, DAR og SAPA er utilgængelige.",
    "affected_systems": ["Adgangsstyring", "BBR"],
    "started_at": "2018-12-10T02:21:00+01:00",
    "severity": "A",
}
SECRET_TEXT = "hvilke opgaver mangler vi? zebrafinke"
USER_NAME = "Mette Vinther"


class JsonLines(logging.Handler):
    """The root logger's records as the server writes them: JSON lines with the request context."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.addFilter(RequestContextFilter())
        self.lines: list[str] = []
        self._changed = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        self._changed.set()

    @property
    def entries(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines]

    def of(self, logger: str) -> list[dict[str, Any]]:
        return [e for e in self.entries if e["logger"] == logger]

    async def wait_for(self, predicate: Callable[[JsonLines], bool], limit: float = 10.0) -> None:
        """Until `predicate` holds, checked after every new line."""

        async def wait() -> None:
            while not predicate(self):
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(wait(), limit)


@pytest.fixture
def logs() -> Iterator[JsonLines]:
    """Log as `klikbot serve` does (configure_logging): INFO, aiohttp's access log off."""
    handler = JsonLines()
    root, access = logging.getLogger(), logging.getLogger("aiohttp.access")
    levels = root.level, access.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    access.setLevel(logging.WARNING)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        access.setLevel(levels[1])


@pytest.fixture
async def notice_bot(database_url: str) -> AsyncIterator[BotUnderTest]:
    bot, connector = await start_bot(database_url, now=DEMO_NOW, admin_token=TOKEN, delivery=FAST)
    try:
        yield bot
    finally:
        if connector.gate is not None:
            connector.gate.set()
        await bot.http.close()
        await bot.server.close()
        await connector.close()


async def scrape(bot: BotUnderTest, token: str | None = None) -> dict[str, Any]:
    """GET /metrics, parsed with prometheus_client's parser: family name -> family."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with bot.http.get(bot.server.make_url("/metrics"), headers=headers) as response:
        text = await response.text()
        assert response.status == 200, text
        assert response.headers["Content-Type"].startswith("text/plain")
    return {family.name: family for family in text_string_to_metric_families(text)}


def value(families: dict[str, Any], family: str, sample: str, **labels: str) -> float | None:
    found = families.get(family)
    if found is None:
        return None
    for item in found.samples:
        if item.name == sample and all(item.labels.get(k) == v for k, v in labels.items()):
            return float(item.value)
    return None


def total(families: dict[str, Any], family: str, sample: str) -> float:
    found = families.get(family)
    return sum(s.value for s in found.samples if s.name == sample) if found is not None else 0.0


async def install(bot: BotUnderTest, conversation_id: str) -> None:
    body = bot.activity(
        None, activity_type="installationUpdate", action="add", conversation_id=conversation_id
    )
    response = await bot.post(body)
    assert response.status in (200, 201), await response.text()
    bot.connector.take()  # the welcome


async def announce(bot: BotUnderTest) -> int:
    async with bot.http.post(
        bot.server.make_url("/api/incidents"),
        json=INCIDENT,
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as response:
        body = await response.json()
        assert response.status == 201, body
    return int(body["queued"])


# --- metrics --------------------------------------------------------------------------------


async def test_metrics_count_turns_and_their_latency(bot: BotUnderTest) -> None:
    before = await scrape(bot)
    assert total(before, "klikbot_turns", "klikbot_turns_total") == 0
    await bot.ask("hjælp")
    await bot.ask("hvilke opgaver mangler vi?")

    families = await scrape(bot)
    assert value(families, "klikbot_turns", "klikbot_turns_total", activity_type="message", outcome="ok") == 2
    assert total(families, "klikbot_turns", "klikbot_turns_total") == 2
    assert families["klikbot_turn_duration_seconds"].type == "histogram"
    count = value(
        families,
        "klikbot_turn_duration_seconds",
        "klikbot_turn_duration_seconds_count",
        activity_type="message",
    )
    assert count == 2
    assert (
        value(
            families,
            "klikbot_turn_duration_seconds",
            "klikbot_turn_duration_seconds_bucket",
            activity_type="message",
            le="+Inf",
        )
        == 2
    )
    # Scrapes and health checks are not turns; deliveries, 429s and the queue are there from the start.
    assert value(families, "klikbot_deliveries", "klikbot_deliveries_total", outcome="sent") == 0
    assert value(families, "klikbot_teams_throttled", "klikbot_teams_throttled_total") == 0
    assert value(families, "klikbot_delivery_queue_depth", "klikbot_delivery_queue_depth") == 0

    rejected = await bot.post("{not an activity")
    assert rejected.status == 400
    families = await scrape(bot)
    assert (
        value(families, "klikbot_turns", "klikbot_turns_total", activity_type="none", outcome="rejected") == 1
    )


async def test_queue_depth_follows_pending_deliveries(notice_bot: BotUnderTest, logs: JsonLines) -> None:
    connector = notice_bot.connector
    await install(notice_bot, "a:personal-1")
    await install(notice_bot, "19:group@thread.v2")
    assert (
        value(await scrape(notice_bot, TOKEN), "klikbot_delivery_queue_depth", "klikbot_delivery_queue_depth")
        == 0
    )

    connector.gate = asyncio.Event()  # the sends wait: the rows stay pending
    assert await announce(notice_bot) == 2
    families = await scrape(notice_bot, TOKEN)
    assert value(families, "klikbot_delivery_queue_depth", "klikbot_delivery_queue_depth") == 2

    connector.gate.set()
    await logs.wait_for(lambda lines: len(lines.of("klikbot.delivery")) == 2)

    async def drained() -> dict[str, Any]:
        while True:  # outcomes are written in batches: look until the queue is empty
            families = await scrape(notice_bot, TOKEN)
            if value(families, "klikbot_delivery_queue_depth", "klikbot_delivery_queue_depth") == 0:
                return families
            await asyncio.sleep(0.02)

    families = await asyncio.wait_for(drained(), 10)
    assert value(families, "klikbot_deliveries", "klikbot_deliveries_total", outcome="sent") == 2
    assert (
        value(families, "klikbot_notice_requests", "klikbot_notice_requests_total", kind="post", status="2xx")
        == 2
    )


async def test_metrics_answer_when_the_database_does_not(bot: BotUnderTest) -> None:
    await bot.ask("hjælp")
    observability = bot.server.app[OBSERVABILITY]
    assert observability.engine is not None
    unreachable = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/nothing")
    observability.engine = unreachable
    try:
        families = await scrape(bot)
    finally:
        await unreachable.dispose()
    assert "klikbot_delivery_queue_depth" not in families  # no value rather than a wrong one
    assert total(families, "klikbot_turns", "klikbot_turns_total") == 1


async def test_metrics_take_the_operator_token_when_one_is_set(notice_bot: BotUnderTest) -> None:
    url = notice_bot.server.make_url("/metrics")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        async with notice_bot.http.get(url, headers=headers) as response:
            assert response.status == 401
            assert "klikbot_turns" not in await response.text()
    assert "klikbot_turns" in await scrape(notice_bot, TOKEN)


async def test_metrics_are_off_with_credentials_and_no_token(database_url: str) -> None:
    bot, connector = await start_bot(
        database_url, now=DEMO_NOW, app_id="5b1d0c6e-0000-4000-8000-000000000001", app_password="x"
    )
    try:
        async with bot.http.get(bot.server.make_url("/metrics")) as response:
            assert response.status == 404
            assert "KLIKBOT_ADMIN_TOKEN" in (await response.json())["error"]
    finally:
        await bot.http.close()
        await bot.server.close()
        await connector.close()


# --- logs and the request id ----------------------------------------------------------------


async def test_a_turn_logs_one_json_line_with_ids_and_no_text_or_names(
    bot: BotUnderTest, logs: JsonLines
) -> None:
    body = bot.activity(SECRET_TEXT, conversation_id="a:personal-observed", user_name=USER_NAME)
    response = await bot.post(body, headers={"X-Request-Id": "req-7f3a.1"})
    assert response.status in (200, 201), await response.text()
    assert response.headers["X-Request-Id"] == "req-7f3a.1"
    assert bot.connector.take()  # it answered

    [turn] = logs.of("klikbot.turn")
    assert turn["request_id"] == "req-7f3a.1"
    assert turn["message"] == "turn"
    assert turn["level"] == "INFO"
    assert turn["conversation_id"] == "a:personal-observed"
    assert turn["tenant_id"] == VEJLE
    assert turn["activity_type"] == "message"
    assert turn["outcome"] == "ok" and turn["status"] == response.status
    assert isinstance(turn["duration_ms"], float) and turn["duration_ms"] > 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", turn["ts"])
    for line in logs.lines:
        assert "zebrafinke" not in line and "hvilke opgaver" not in line
        assert "Mette" not in line and "Vinther" not in line
        assert "aad-user-1" not in line


async def test_every_line_of_a_turn_carries_its_request_id(bot: BotUnderTest, logs: JsonLines) -> None:
    detail = await bot.ask_one("fortæl om kontaktpunkt")
    assert detail.card is not None
    execute = next(
        action
        for action in _actions(detail.card)
        if action.get("type") == "Action.Execute" and action.get("title") == "Fuldført"
    )
    edited = {**execute["data"], "sig": "0" * 32}  # refused, with a warning in the log
    body = bot.activity(
        None,
        activity_type="invoke",
        name="adaptiveCard/action",
        value={
            "action": {"type": "Action.Execute", "verb": "setStatus", "data": edited},
            "trigger": "manual",
        },
        conversation_id="a:personal-invoke",
    )
    before = len(logs.lines)
    response = await bot.post(body, headers={"X-Request-Id": "card-42"})
    assert response.status == 200
    assert response.headers["X-Request-Id"] == "card-42"

    during = logs.entries[before:]
    assert len(during) >= 2, during  # the refusal's warning and the turn
    assert any(e["level"] == "WARNING" and "altered" in e["message"] for e in during)
    for entry in during:
        assert entry["request_id"] == "card-42", entry
        assert entry["conversation_id"] == "a:personal-invoke", entry
        assert entry["tenant_id"] == VEJLE, entry
    assert during[-1]["logger"] == "klikbot.turn" and during[-1]["activity_type"] == "invoke"


async def test_a_failed_status_change_logs_the_class_and_table_not_the_name_or_values(
    bot: BotUnderTest, logs: JsonLines, database_url: str
) -> None:
    """A database error quotes its statement's values (SQLAlchemy's "[parameters: ...]", the
    drivers' messages): the log has the error's class, the table and the ids instead."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as db:  # the history table is gone: the change fails there
            await db.execute(sql("DROP TABLE status_change"))
    finally:
        await engine.dispose()
    name = "Zebrafinke Østerbæk-Hansen"
    failed = await bot.ask_one("sæt 'Udpeg kontaktpunkt' til fuldført", user_name=name)
    assert "Ændringen gik ikke igennem" in failed.text

    for line in logs.lines:
        assert "Zebrafinke" not in line and "Østerbæk" not in line
        assert "[parameters" not in line and "[SQL" not in line and "INSERT INTO" not in line
        assert "aad-user-1" not in line and "29:user-1" not in line
    [entry] = [e for e in logs.entries if "status change failed" in e["message"]]
    assert entry["message"] == (
        "a status change failed and was rolled back (municipality 630, task mbp-kontaktpunkt-incident)"
    )
    assert entry["conversation_id"] and entry["tenant_id"] == VEJLE
    # The error's class and the table, on SQLite (OperationalError) and PostgreSQL (ProgrammingError).
    assert re.search(
        r"sqlalchemy\.exc\.(OperationalError|ProgrammingError) \(\w+\) on table status_change",
        entry["exception"],
    )


def test_database_errors_are_logged_by_class_and_table_in_json_and_text() -> None:
    """Whether passed as an argument or raised: never the statement's values."""
    statement = "INSERT INTO status_change (user_name, tenant_id) VALUES (?, ?)"
    error = IntegrityError(
        statement, ("Zebrafinke Hansen", "tenant-x"), sqlite3.IntegrityError("FOREIGN KEY")
    )
    try:
        try:
            raise error
        except IntegrityError as inner:
            raise RuntimeError("the change failed") from inner
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "klikbot.test", logging.ERROR, __file__, 1, "could not save: %s (%r)", (error, error), exc_info
    )
    for formatter in (JsonFormatter(), TextFormatter()):
        line = formatter.format(record)
        assert "Zebrafinke" not in line and "tenant-x" not in line and "VALUES" not in line, line
        assert "could not save: IntegrityError (IntegrityError) on table status_change" in line
        assert "sqlalchemy.exc.IntegrityError (IntegrityError) on table status_change" in line
        assert "The above exception was the direct cause of the following exception" in line
        assert "RuntimeError: the change failed" in line


async def test_a_540_kb_card_field_is_not_logged(bot: BotUnderTest, logs: JsonLines) -> None:
    detail = await bot.ask_one("fortæl om kontaktpunkt")
    assert detail.card is not None
    submit = next(
        action
        for action in _actions(detail.card)
        if action.get("type") == "Action.Submit" and action.get("title") == "Fuldført"
    )
    huge = "Kvækkerkvak" * 50_000  # 550,000 characters, in a field the bot checks and refuses
    payload = {**submit["data"], "municipality": huge}
    before = len(logs.lines)
    refused = await bot.ask_one("", value=payload)
    assert "ikke" in refused.text.lower()
    during = logs.lines[before:]
    for line in during:
        assert "Kvækkerkvak" not in line[:1000], line[:1000]
        assert len(line) < 2_000, len(line)
    assert any("refused a card for another municipality" in line for line in during)


def test_every_logged_value_is_capped() -> None:
    """One argument, the message, a field and an exception each have a ceiling."""
    huge = "x" * 540_000
    record = logging.LogRecord(
        "klikbot.test", logging.WARNING, __file__, 1, "got %s and %r", (huge, [huge]), None
    )
    record.conversation_id = huge
    try:
        raise ValueError(huge)
    except ValueError:
        record.exc_info = sys.exc_info()
    for formatter in (JsonFormatter(),):
        line = formatter.format(record)
        assert len(line) < 12_000, len(line)
        entry = json.loads(line)
        assert len(entry["message"]) <= 1000 and entry["message"].endswith("…")
        assert len(entry["conversation_id"]) == 256 and entry["conversation_id"].endswith("…")
        assert "ValueError: xxx" in entry["exception"] and len(entry["exception"]) <= 8000
    lone = logging.LogRecord("klikbot.test", logging.INFO, __file__, 1, "name %s", ("Mette\ud800",), None)
    assert json.loads(JsonFormatter().format(lone))["message"] == "name Mette\ufffd"


async def test_an_unusable_request_id_is_replaced(bot: BotUnderTest, logs: JsonLines) -> None:
    for sent in ("has spaces in it", "x" * 129, "<script>"):
        response = await bot.post(bot.activity("hjælp"), headers={"X-Request-Id": sent})
        assert response.status in (200, 201)
        returned = response.headers["X-Request-Id"]
        assert returned != sent and re.fullmatch(r"[0-9a-f]{32}", returned)
    response = await bot.post(bot.activity("hjælp"))
    generated = response.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert logs.of("klikbot.turn")[-1]["request_id"] == generated
    assert len({e["request_id"] for e in logs.of("klikbot.turn")}) == 4


async def test_a_delivery_logs_one_json_line(notice_bot: BotUnderTest, logs: JsonLines) -> None:
    await install(notice_bot, "a:personal-delivery")
    assert await announce(notice_bot) == 1
    await logs.wait_for(lambda lines: bool(lines.of("klikbot.delivery")))

    [line] = logs.of("klikbot.delivery")
    assert line["delivery_kind"] == "post"
    assert line["conversation_id"] == "a:personal-delivery"
    assert line["outcome"] == "sent" and line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["request_id"] is None  # the worker's, not the operator request's
    for text in logs.lines:
        assert "Adgangsstyring" not in text and "utilgængelige" not in text
        assert TOKEN not in text


async def test_a_429_is_logged_and_counted(notice_bot: BotUnderTest, logs: JsonLines) -> None:
    await install(notice_bot, "a:personal-throttled")
    notice_bot.connector.script["a:personal-throttled"] = [(429, 0.01)]
    assert await announce(notice_bot) == 1
    await logs.wait_for(lambda lines: len(lines.of("klikbot.delivery")) == 2)

    throttled, sent = logs.of("klikbot.delivery")
    assert (throttled["outcome"], throttled["status"], throttled["level"]) == ("retry", 429, "WARNING")
    assert (sent["outcome"], sent["status"]) == ("sent", 200)
    families = await scrape(notice_bot, TOKEN)
    assert value(families, "klikbot_teams_throttled", "klikbot_teams_throttled_total") == 1
    assert (
        value(families, "klikbot_notice_requests", "klikbot_notice_requests_total", kind="post", status="429")
        == 1
    )
    assert value(families, "klikbot_deliveries", "klikbot_deliveries_total", outcome="retry") == 1
    assert value(families, "klikbot_deliveries", "klikbot_deliveries_total", outcome="sent") == 1


# --- the formatter and the logging setup ----------------------------------------------------


def test_json_lines_keep_only_whitelisted_fields() -> None:
    record = logging.LogRecord("klikbot.test", logging.ERROR, __file__, 1, "failed: %s", ("boom",), None)
    for key, item in {
        "text": "secret text",
        "user_name": USER_NAME,
        "token": TOKEN,
        "tenant_id": VEJLE,
    }.items():
        setattr(record, key, item)
    try:
        raise RuntimeError("inner")
    except RuntimeError:
        record.exc_info = sys.exc_info()
    entry = json.loads(JsonFormatter().format(record))
    assert (
        entry["message"] == "failed: boom" and entry["level"] == "ERROR" and entry["logger"] == "klikbot.test"
    )
    assert entry["tenant_id"] == VEJLE and entry["request_id"] is None
    assert "RuntimeError: inner" in entry["exception"]
    assert not {"text", "user_name", "token"} & set(entry)


def test_configure_logging_writes_json_or_text_with_the_request_id() -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        for as_json in (True, False):
            stream = io.StringIO()
            configure_logging(json=as_json, level=logging.INFO, stream=stream)
            reset = request_context.set(RequestContext("rid-1", conversation_id="a:1"))
            try:
                logging.getLogger("klikbot.test").info("hello")
            finally:
                request_context.reset(reset)
            logging.getLogger("klikbot.test").info("outside")
            first, second = stream.getvalue().splitlines()
            if as_json:
                assert json.loads(first)["request_id"] == "rid-1"
                assert json.loads(first)["conversation_id"] == "a:1"
                assert json.loads(second)["request_id"] is None
            else:
                assert first.endswith("hello [request rid-1]")
                assert second.endswith("outside")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])


@pytest.mark.parametrize(
    ("header", "kept"),
    [
        ("3f2a9c1e-7b4d-4e2a-9f00-123456789abc", True),
        ("Root=1-5759e988-bd862e3fe1be46a994272793", True),
        ("a b", False),
        ("", False),
        (None, False),
        ("ø", False),
        ("x" * 128, True),
        ("x" * 129, False),
    ],
)
def test_request_id_from_header(header: str | None, kept: bool) -> None:
    result = request_id_from(header)
    assert (result == header) is kept
    if not kept:
        assert re.fullmatch(r"[0-9a-f]{32}", result)


def _actions(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if str(node.get("type", "")).startswith("Action."):
            yield node
        for item in node.values():
            yield from _actions(item)
    elif isinstance(node, list):
        for item in node:
            yield from _actions(item)


def test_a_card_press_does_not_log_msrest_warnings() -> None:
    """Teams sends "trigger" with every Action.Execute; botbuilder's model does not know it and
    msrest warned once per press. The serve logging keeps that out."""
    from botbuilder.schema import AdaptiveCardInvokeValue

    root = logging.getLogger()
    msrest = logging.getLogger("msrest.serialization")
    saved = (list(root.handlers), root.level, msrest.level)
    try:
        stream = io.StringIO()
        configure_logging(json=True, level=logging.INFO, stream=stream)
        # What botbuilder does with an adaptiveCard/action invoke's value.
        AdaptiveCardInvokeValue(**{"action": {"type": "Action.Execute"}, "trigger": "manual"})
        assert "trigger" not in stream.getvalue()
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
        msrest.setLevel(saved[2])
