"""The aiohttp web app: /api/messages for Teams, /healthz for the load balancer."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import cast

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes
from sqlalchemy import String

from bot.activities import to_activity
from bot.bot_connector import activity_json, connector_fault
from bot.broadcast import DeliveryWorker, WorkerConfig, utcnow
from bot.calendar_api import add_calendar_routes
from bot.catalogue_api import add_catalogue_routes
from bot.http_input import BadJson, is_ascii_token, parse_json
from bot.notice_transport import BotConnectorTransport
from bot.observability import OBSERVABILITY, add_observability
from bot.operator_api import OPERATOR, OperatorContext, add_operator_routes
from bot.operator_auth import FAILED_LOGINS, FailedLogins
from bot.runtime import Runtime, open_runtime
from bot.scheduler import SCHEDULER, Scheduler, standard_jobs
from bot.settings import Settings
from bot.teams_bot import database_unavailable_text
from dialogs.answers import say
from dialogs.model import Reply
from dialogs.understanding import detect_language
from storage.db import database_unavailable, ping
from storage.models import ConversationRef, NoticeDelivery

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # CONTRACT.md: bodies over 1 MiB get 413
# The longest serviceUrl the bot takes: what conversation_ref and notice_delivery can hold.
MAX_SERVICE_URL = min(
    cast(String, ConversationRef.__table__.c.service_url.type).length or 0,
    cast(String, NoticeDelivery.__table__.c.service_url.type).length or 0,
)

SETTINGS = web.AppKey("settings", Settings)
RUNTIME = web.AppKey("runtime", Runtime)
ADAPTER = web.AppKey("adapter", CloudAdapter)
DELIVERY = web.AppKey("delivery", DeliveryWorker)


def json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def messages(request: web.Request) -> web.StreamResponse:
    if "application/json" not in request.headers.get("Content-Type", ""):
        return json_error(415, "activities are JSON: Content-Type must be application/json")
    try:
        # Lone surrogates in any string (text, names, ids) become U+FFFD here (bot.http_input).
        body = parse_json(await request.read())
    except web.HTTPRequestEntityTooLarge:
        return json_error(413, f"the body is larger than {MAX_BODY} bytes")
    except BadJson:
        return json_error(400, "the body is not valid JSON")
    authorization = request.headers.get("Authorization", "")
    if not is_ascii_token(authorization):
        # A Bot Framework token is ASCII: a header with other bytes is not one.
        return json_error(401, "the request is not authenticated")
    problem = _activity_problem(body)
    if problem:
        return json_error(400, problem)
    try:
        activity = Activity().deserialize(body)
    except Exception:  # msrest raises a variety of errors on malformed models
        return json_error(400, "the body is not a Bot Framework activity")
    runtime = request.app[RUNTIME]
    adapter = request.app[ADAPTER]
    try:
        response = await adapter.process_activity(authorization, activity, runtime.bot.on_turn)
    except PermissionError:
        return json_error(401, "the request is not authenticated")
    if response is not None:
        return web.json_response(activity_json(response.body), status=response.status)
    return web.Response(status=201)


def _activity_problem(body: object) -> str | None:
    """What makes a body unusable as an activity, before botbuilder sees it."""
    if not isinstance(body, dict):
        return "an activity is a JSON object"
    if not isinstance(body.get("type"), str) or not body["type"]:
        return "the activity has no type"
    conversation = body.get("conversation")
    if (
        not isinstance(conversation, dict)
        or not isinstance(conversation.get("id"), str)
        or not conversation["id"]
    ):
        return "the activity has no conversation id"
    service_url = body.get("serviceUrl")
    if not isinstance(service_url, str) or not service_url.startswith(("http://", "https://")):
        return "the activity has no serviceUrl"
    if len(service_url) > MAX_SERVICE_URL:
        # The bot keeps it to send to the conversation later; Bot Framework service URLs are short.
        return f"the activity's serviceUrl is longer than {MAX_SERVICE_URL} characters"
    channel_id = body.get("channelId")
    if not isinstance(channel_id, str) or not channel_id:
        return "the activity has no channelId"  # the conversation's state is kept under it
    for key in ("from", "recipient", "channelData"):
        if key in body and not isinstance(body[key], dict):
            return f"the activity's {key} must be an object"
    if body.get("deliveryMode") == "expectReplies":
        # Skills and Direct Line ask for the replies in the HTTP response; Teams never does, and
        # botbuilder cannot serialize some invoke answers that way.
        return "deliveryMode expectReplies is not supported: replies go to the serviceUrl"
    text = body.get("text")
    if text is not None and not isinstance(text, str):
        return "the activity's text must be a string"
    return None


async def healthz(request: web.Request) -> web.Response:
    if await ping(request.app[RUNTIME].engine):
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "database unavailable"}, status=503)


async def on_turn_error(context: TurnContext, error: Exception) -> None:
    """Log the fault for the operator; tell the user briefly, no details.

    The Bot Connector failing (an error status, no answer in time) is logged and nothing more
    is sent: the apology would go the same way, and the turn must end within the request
    timeout. The database being unreachable is a known outage, logged without a traceback, and
    the user is told to try again (it resumes by itself). Anything else is a bug: traceback."""
    cause = error.__cause__ or error.__context__
    if connector_fault(error):
        log.error("turn failed: the Bot Connector did not take the reply: %s (from %s)", error, cause)
        return
    unavailable = database_unavailable(error)
    if unavailable:
        log.error("turn failed: the database is unavailable: %s (from %s)", error, cause)
    else:
        log.exception("turn failed", exc_info=error)
    activity = context.activity
    if activity is None or activity.type != ActivityTypes.message:
        return
    lang = detect_language(activity.text or "", activity.locale)
    if unavailable:
        text = database_unavailable_text(lang)
    else:
        text = say(
            lang,
            "Beklager, noget gik galt hos mig. Prøv igen om lidt.",
            "Sorry, something went wrong on my side. Please try again in a moment.",
        )
    try:
        await context.send_activity(to_activity(Reply(text=text)))
    except Exception:
        log.exception("could not tell the user about the failed turn")


def create_app(settings: Settings) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app[SETTINGS] = settings
    app[FAILED_LOGINS] = FailedLogins()
    app.cleanup_ctx.append(_runtime_ctx)
    app.cleanup_ctx.append(_delivery_ctx)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    # /metrics: open only in no-auth mode (loopback) while no operator token is set.
    add_observability(
        app, token=settings.admin_token, open_without_token=not settings.has_credentials, max_body=MAX_BODY
    )
    add_operator_routes(app)
    add_catalogue_routes(app)
    add_calendar_routes(app)
    if settings.admin_port is not None:
        app.middlewares.append(listener_split(settings.admin_port))
    return app


def listener_split(admin_port: int) -> Middleware:
    """With `serve --admin-port`: the operator API and /metrics answer only on the admin
    listener, and everything else (the chat's endpoint, calendar files) only on the main one;
    /healthz on both. Elsewhere a route is as absent as an unknown one (404)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        sockname = request.transport.get_extra_info("sockname") if request.transport is not None else None
        on_admin = isinstance(sockname, tuple) and len(sockname) >= 2 and sockname[1] == admin_port
        operator = bool(getattr(request.match_info.handler, "klikbot_operator", False))
        if request.path != "/healthz" and operator != on_admin:
            return web.json_response({"error": "not found"}, status=404)
        return await handler(request)

    return middleware


async def _delivery_ctx(app: web.Application) -> AsyncIterator[None]:
    """The incident notice worker runs with the app; at shutdown (SIGTERM) it hands back what
    it has not sent."""
    runtime, settings = app[RUNTIME], app[SETTINGS]
    config = settings.delivery or WorkerConfig(tenant_rate=settings.tenant_rate)
    observability = app[OBSERVABILITY]
    transport = observability.observed(BotConnectorTransport(runtime.authentication, settings.app_id))
    worker = DeliveryWorker(runtime.engine, transport, config, pacing=runtime.pacing)
    observability.watch(runtime.engine, worker)
    app[DELIVERY] = worker
    scheduler = Scheduler(standard_jobs(runtime.engine, runtime.conversation, settings.clock()), worker.wake)
    app[SCHEDULER] = scheduler

    def wake() -> None:
        worker.wake()
        scheduler.wake()

    # A reply Teams would not take in time is queued: the worker is woken for it, and /metrics counts it.
    runtime.bot.replies.wake = worker.wake
    runtime.bot.replies.count = observability.count_reply
    app[OPERATOR] = OperatorContext(runtime.engine, settings.admin_token, settings.clock(), utcnow, wake)
    worker.start()
    scheduler.start()
    try:
        yield
    finally:
        await scheduler.stop()
        await worker.stop()


async def _runtime_ctx(app: web.Application) -> AsyncIterator[None]:
    async with open_runtime(app[SETTINGS]) as runtime:
        adapter = CloudAdapter(runtime.authentication)
        adapter.on_turn_error = on_turn_error
        app[RUNTIME] = runtime
        app[ADAPTER] = adapter
        yield
