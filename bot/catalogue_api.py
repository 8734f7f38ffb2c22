"""The operator API for the catalogue (CONTRACT.md), with the same format and rules as
`klikbot import` (docs/catalogue.md):

- `PUT /api/tasks/{id}`: one task (the body is a task entry; its id, if given, must match) →
  201 when created, 200 when updated or unchanged, with the import report;
- `PUT /api/events/{id}`: one event, likewise;
- `POST /api/import[?dry_run=true]`: a whole catalogue → 200 with the report. Tasks and events
  missing from a section that is present are closed / cancelled, as with the CLI.

Bodies are JSON (`application/json`) or YAML (`application/yaml`, `text/yaml`), at most 1 MiB
(413), read in a worker thread within `storage.catalogue.PARSE_SECONDS` (10 s; longer: 413). The
bearer token check and the JSON errors are the incident API's (bot/operator_api.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from aiohttp import web

import storage.catalogue as catalogue_format  # PARSE_SECONDS is read per request (tests shorten it)
from bot.operator_api import BadInput, OperatorContext, _guarded
from storage.catalogue import (
    Budget,
    Catalogue,
    CatalogueError,
    ParseTimeout,
    identifier_problem,
    load_document,
    parse_catalogue,
    read_catalogue,
)
from storage.catalogue_import import ImportReport, import_catalogue

T = TypeVar("T")

_YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


async def _read(request: web.Request, read: Callable[[bytes, bool, Budget], T]) -> T:
    """The body, read by `read(raw, json_only, budget)` in a worker thread within
    PARSE_SECONDS: the event loop goes on serving turns and /healthz meanwhile."""
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type != "application/json" and content_type not in _YAML_TYPES:
        raise BadInput(415, "the body must be JSON (application/json) or YAML (application/yaml)")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as error:
        raise BadInput(413, "the body is larger than 1 MiB") from error
    json_only = content_type == "application/json"
    return await catalogue_format.in_worker(
        lambda budget: read(raw, json_only, budget), catalogue_format.PARSE_SECONDS
    )


def _errors(error: CatalogueError) -> web.Response:
    return web.json_response(
        {"error": "the catalogue was not imported: nothing was changed", "errors": error.errors[:100]},
        status=413 if isinstance(error, ParseTimeout) else 400,
    )


def _dry_run(request: web.Request) -> bool:
    value = request.query.get("dry_run", "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise BadInput(400, "dry_run must be true or false")


async def _apply(
    context: OperatorContext, catalogue: Catalogue, *, dry_run: bool = False, reconcile: bool = True
) -> ImportReport:
    report = await import_catalogue(
        context.engine, catalogue, context.clock(), dry_run=dry_run, reconcile=reconcile
    )
    if report.news and not dry_run:
        context.wake()  # new tasks or moved deadlines: the news go out now, not at the next poll
    return report


async def _put_one(request: web.Request, context: OperatorContext, section: str, key: str) -> web.Response:
    entry_id = request.match_info.get(key, "")
    problem = identifier_problem(entry_id)
    if problem:
        raise BadInput(400, f"the path's id: {problem}")

    def read(raw: bytes, json_only: bool, budget: Budget) -> Catalogue:
        body = load_document(raw, json_only=json_only, budget=budget)
        if "id" in body and body["id"] != entry_id:
            raise BadInput(400, f"the body's id {str(body['id'])[:64]!r} is not the id in the path")
        return parse_catalogue({section: [{**body, "id": entry_id}]}, budget=budget)

    try:
        catalogue = await _read(request, read)
        report = await _apply(context, catalogue, reconcile=False)
    except CatalogueError as error:
        return _errors(error)
    counts = report.tasks if section == "tasks" else report.events
    return web.json_response(report.as_dict(), status=201 if counts.created else 200)


async def put_task(request: web.Request, context: OperatorContext) -> web.Response:
    return await _put_one(request, context, "tasks", "task_id")


async def put_event(request: web.Request, context: OperatorContext) -> web.Response:
    return await _put_one(request, context, "events", "event_id")


async def post_import(request: web.Request, context: OperatorContext) -> web.Response:
    dry_run = _dry_run(request)
    try:
        catalogue = await _read(
            request, lambda raw, json_only, budget: read_catalogue(raw, json_only=json_only, budget=budget)
        )
        report = await _apply(context, catalogue, dry_run=dry_run)
    except CatalogueError as error:
        return _errors(error)
    return web.json_response(report.as_dict())


def add_catalogue_routes(app: web.Application) -> None:
    app.router.add_put("/api/tasks/{task_id}", _guarded(put_task))
    app.router.add_put("/api/events/{event_id}", _guarded(put_event))
    app.router.add_post("/api/import", _guarded(post_import))
