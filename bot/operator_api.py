"""The operator API for incident notices (CONTRACT.md):

- `POST /api/incidents` {"title", "description", "affected_systems": [..], "started_at",
  "severity"?} → 201 {"id", "queued"}: the notice goes to every subscribed conversation;
- `POST /api/incidents/{id}/updates` {"status", "message", "resolved_at"?} → 201 {"version",
  "queued"}: every delivered notice is edited in place, a resolution also replied to;
- `GET /api/incidents/{id}` → the incident, its updates and delivery counts.

`Authorization: Bearer $KLIKBOT_ADMIN_TOKEN`, compared in constant time; without a configured
token the API is off (404). Bad input gets a 4xx with {"error": ...}, never a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.http_input import BadJson, parse_json
from bot.operator_auth import failed_logins, refusal
from dialogs.incident_cards import MAX_DESCRIPTION, MAX_MESSAGE, MAX_TITLE
from storage.db import database_unavailable
from storage.delivery import DeliveryCounts
from storage.incidents import (
    SEVERITIES,
    STATUSES,
    IncidentClosed,
    IncidentNotFound,
    NewIncident,
    NoticeView,
    add_update,
    announce,
    incident_report,
    updates_of,
)
from storage.subscriptions import MAX_SYSTEMS, normalize_system

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class OperatorContext:
    engine: AsyncEngine
    token: str | None
    clock: Callable[[], datetime]  # the bot's clock (fixed in the demo): when an update was made
    queue_clock: Callable[[], datetime]  # the real clock: when rows become due
    wake: Callable[[], None]  # tell the delivery worker there is something to send


OPERATOR = web.AppKey("operator", OperatorContext)


class BadInput(ValueError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _guarded(handler: Callable[[web.Request, OperatorContext], Awaitable[web.Response]]) -> Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        context = request.app.get(OPERATOR)
        if context is None or not context.token:
            return _error(404, "the operator API is off: set KLIKBOT_ADMIN_TOKEN to turn it on")
        refused = refusal(request, context.token, failed_logins(request.app))
        if refused is not None:
            return refused
        try:
            return await handler(request, context)
        except BadInput as error:
            return _error(error.status, str(error))
        except Exception as error:
            if database_unavailable(error):  # an outage, not a bug: the caller should retry
                log.error("operator request failed: the database is unavailable: %s", error)
                return _error(503, "the database is unavailable; try again in a moment")
            raise

    wrapped.klikbot_operator = True  # type: ignore[attr-defined]  # served on the admin listener
    return wrapped


async def _json_object(request: web.Request) -> dict[str, Any]:
    if "application/json" not in request.headers.get("Content-Type", ""):
        raise BadInput(415, "the body must be JSON (Content-Type: application/json)")
    try:
        body = parse_json(await request.read())
    except web.HTTPRequestEntityTooLarge as error:
        raise BadInput(413, "the body is larger than 1 MiB") from error
    except BadJson as error:
        raise BadInput(400, str(error)) from error
    if not isinstance(body, dict):
        raise BadInput(400, "the body must be a JSON object")
    return body


def _only(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadInput(400, f"unknown field(s): {', '.join(unknown)[:200]}")


def _text(body: dict[str, Any], key: str, limit: int, *, required: bool = True) -> str:
    value = body.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise BadInput(400, f"{key} must be a string")
    value = value.strip()
    if required and not value:
        raise BadInput(400, f"{key} must not be empty")
    if len(value) > limit:
        raise BadInput(400, f"{key} is longer than {limit} characters")
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise BadInput(400, f"{key} contains control characters")
    return value


def _moment(body: dict[str, Any], key: str, *, required: bool) -> datetime | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise BadInput(400, f"{key} must be an ISO 8601 time with offset, e.g. 2018-12-10T02:21:00+01:00")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as error:
        raise BadInput(400, f"{key} is not an ISO 8601 time: {value[:40]!r}") from error
    if moment.tzinfo is None:
        raise BadInput(400, f"{key} needs a UTC offset, e.g. 2018-12-10T02:21:00+01:00")
    if not 2000 <= moment.year <= 2100:
        raise BadInput(400, f"{key} is out of range")
    return moment


def _systems(body: dict[str, Any]) -> tuple[str, ...]:
    value = body.get("affected_systems")
    if not isinstance(value, list) or not value:
        raise BadInput(400, "affected_systems must be a non-empty list of system names")
    if len(value) > MAX_SYSTEMS:
        raise BadInput(400, f"affected_systems may name at most {MAX_SYSTEMS} systems")
    systems: list[str] = []
    for item in value:
        name = normalize_system(item) if isinstance(item, str) else None
        if name is None:
            raise BadInput(
                400,
                "each affected system is a name of 1-40 letters, digits, spaces, dots, dashes or slashes",
            )
        if name not in systems:
            systems.append(name)
    return tuple(systems)


def parse_new_incident(body: dict[str, Any]) -> NewIncident:
    _only(body, {"title", "description", "affected_systems", "started_at", "severity"})
    severity = body.get("severity")
    if severity is None or severity == "":
        severity_text = ""
    elif isinstance(severity, str) and severity.strip().upper() in SEVERITIES:
        severity_text = severity.strip().upper()
    else:
        raise BadInput(400, f"severity must be one of {', '.join(SEVERITIES)}")
    started_at = _moment(body, "started_at", required=True)
    assert started_at is not None
    return NewIncident(
        title=_text(body, "title", MAX_TITLE),
        description=_text(body, "description", MAX_DESCRIPTION, required=False),
        affected_systems=_systems(body),
        started_at=started_at,
        severity=severity_text,
    )


def _incident_id(request: web.Request) -> int:
    raw = request.match_info.get("incident_id", "")
    # ASCII digits only ("²" is a digit to str.isdigit, not to int), within the id column's
    # 32 bits (PostgreSQL refuses a larger number with an error, not an empty result).
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or int(raw) > 2**31 - 1:
        raise BadInput(404, "no such incident")
    return int(raw)


async def create_incident(request: web.Request, context: OperatorContext) -> web.Response:
    new = parse_new_incident(await _json_object(request))
    incident_id, queued = await announce(
        context.engine, new, context.clock(), context.queue_clock(), created_by="operator API"
    )
    context.wake()
    log.info("incident %d announced to %d conversations", incident_id, queued)
    return web.json_response({"id": incident_id, "queued": queued}, status=201)


async def post_update(request: web.Request, context: OperatorContext) -> web.Response:
    incident_id = _incident_id(request)
    body = await _json_object(request)
    _only(body, {"status", "message", "resolved_at"})
    status = body.get("status")
    if not isinstance(status, str) or status not in STATUSES:
        raise BadInput(400, f"status must be one of {', '.join(STATUSES)}")
    message = _text(body, "message", MAX_MESSAGE)
    resolved_at = _moment(body, "resolved_at", required=False)
    if resolved_at is not None and status != "resolved":
        raise BadInput(400, "resolved_at is only for status resolved")
    async with context.engine.connect() as db:
        report = await incident_report(db, incident_id)
    if report is None:
        raise BadInput(404, "no such incident")
    if resolved_at is not None and resolved_at < report[0].incident.started_at:
        raise BadInput(400, "resolved_at is before the incident started")
    try:
        version, queued = await add_update(
            context.engine,
            incident_id,
            status,
            message,
            resolved_at,
            context.clock(),
            context.queue_clock(),
            created_by="operator API",
        )
    except IncidentNotFound as error:
        raise BadInput(404, "no such incident") from error
    except IncidentClosed as error:
        raise BadInput(409, "the incident is resolved and takes no more updates") from error
    context.wake()
    return web.json_response({"id": incident_id, "version": version, "queued": queued}, status=201)


def incident_json(view: NoticeView, counts: DeliveryCounts, updates: list[dict[str, Any]]) -> dict[str, Any]:
    incident = view.incident
    delivery = counts.as_dict()
    return {
        "id": incident.id,
        "title": incident.title,
        "description": incident.description,
        "affected_systems": list(incident.affected_systems),
        "severity": incident.severity,
        "status": incident.status,
        "started_at": incident.started_at.isoformat(),
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "latest_update": incident.latest_update,
        "version": view.version,
        "updates": updates,
        "delivery": delivery,
        "pending": counts.pending,
        "sent": counts.sent,
        "failed": counts.failed,
    }


async def get_incident(request: web.Request, context: OperatorContext) -> web.Response:
    incident_id = _incident_id(request)
    async with context.engine.connect() as db:
        report = await incident_report(db, incident_id)
        if report is None:
            raise BadInput(404, "no such incident")
        updates = await updates_of(db, incident_id)
    return web.json_response(incident_json(report[0], report[1], updates))


def add_operator_routes(app: web.Application) -> None:
    app.router.add_post("/api/incidents", _guarded(create_incident))
    app.router.add_post("/api/incidents/{incident_id}/updates", _guarded(post_update))
    app.router.add_get("/api/incidents/{incident_id}", _guarded(get_incident))
