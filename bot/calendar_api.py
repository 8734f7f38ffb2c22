"""`GET /api/events/{id}.ics`: an event as an iCalendar file (CONTRACT.md), for anyone.

The links come from the event answers' "Tilføj til kalender" button. Cancelled events are served
too (STATUS:CANCELLED), so a calendar that fetches the file again removes the entry. `?lang=en`
gives English labels in the description. An unknown id, or one that cannot be an event id, gets
404 with a JSON error. The response has a weak ETag (the file differs only in DTSTAMP while
the event is the same), so a client that sends it back in If-None-Match gets 304.
"""

from __future__ import annotations

import hashlib
from typing import Any

from aiohttp import web

from dialogs.calendar_file import MEDIA_TYPE, calendar_file
from dialogs.understanding import Language
from storage.catalogue import identifier_problem
from storage.queries import event_for_calendar

# Part of the ETag: a change to how files are written changes every ETag.
_FORMAT = "1"



def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _etag(*parts: Any) -> str:
    digest = hashlib.sha256(repr((_FORMAT, *parts)).encode()).hexdigest()[:32]
    return f'W/"{digest}"'


def _matches(if_none_match: str, etag: str) -> bool:
    wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in wanted or etag.removeprefix("W/") in wanted


def add_calendar_routes(app: web.Application) -> None:
    # bot.app imports this module to call this function, so its key is imported here, at call time.
    from bot.app import RUNTIME

    async def event_calendar(request: web.Request) -> web.Response:
        event_id = request.match_info["event_id"]
        if identifier_problem(event_id):  # as the catalogue allows them, matched whole
            return _error(404, "there is no such event")
        lang_text = request.query.get("lang", "da")
        if lang_text not in ("da", "en"):
            return _error(400, "lang must be da or en")
        lang: Language = "da" if lang_text == "da" else "en"
        runtime = request.app[RUNTIME]
        async with runtime.engine.connect() as db:
            found = await event_for_calendar(db, event_id)
        if found is None:
            return _error(404, f"there is no event with id {event_id!r}")
        view, sequence, cancelled = found
        etag = _etag(view, sequence, cancelled, lang)
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if _matches(request.headers.get("If-None-Match", ""), etag):
            return web.Response(status=304, headers=headers)
        body = calendar_file(
            view, sequence=sequence, cancelled=cancelled, stamp=runtime.settings.clock()(), lang=lang
        )
        headers["Content-Disposition"] = f'attachment; filename="{event_id}.ics"'
        return web.Response(body=body, content_type=MEDIA_TYPE, charset="utf-8", headers=headers)

    app.router.add_get("/api/events/{event_id}.ics", event_calendar)
