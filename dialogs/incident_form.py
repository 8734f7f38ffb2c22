"""KOMBIT staff announce incidents from chat and follow their delivery.

`ny driftsmeddelelse` / `announce incident` → a form card (title, description, affected
systems, severity, start time) → `Vis eksempel` shows the notice exactly as the conversations
will see it, and how many will get it → `Send` announces it (once: the preview carries a
one-time token kept in the conversation's memory). `levering [N]` / `delivery [N]` shows the
delivery progress of incident N (default: the latest), with a form to post an update.

Only KOMBIT staff (admin tenants) get here; the conversation checks that before every step.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from dialogs import formatting as fmt
from dialogs.answers import say
from dialogs.cards import CARD_VERSION, render_card
from dialogs.document import Action, Document
from dialogs.incident_cards import (
    MAX_DESCRIPTION,
    MAX_MESSAGE,
    MAX_TITLE,
    SEVERITY_WORDS,
    STATUS_WORDS,
    delivery_document,
    notice_document,
)
from dialogs.model import Asker, Incoming, Memory, Reply
from dialogs.text import render_text
from dialogs.understanding import Language
from storage.domain import COPENHAGEN
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
)
from storage.models import ConversationRef, Incident
from storage.state_store import StateStore
from storage.subscriptions import MAX_SYSTEMS, normalize_system
from storage.views import IncidentView

_ANNOUNCE = re.compile(
    r"^(?:ny\s+driftsmeddelelse|meld\s+driftsforstyrrelse|announce(?:\s+an)?\s+incident|new\s+incident)$",
    re.IGNORECASE,
)
_DELIVERY = re.compile(
    r"^(?:levering(?:sstatus)?|delivery(?:\s+status)?)(?:\s+(?:af\s+|of\s+)?#?(\d{1,9}))?$", re.IGNORECASE
)
_SPLIT = re.compile(r"\s*(?:,|;|\bog\b|\band\b)\s*", re.IGNORECASE)
FIELDS = ("title", "description", "systems", "severity", "start_date", "start_time")


class FormError(ValueError):
    pass


async def on_text(
    db: AsyncConnection, text: str, incoming: Incoming, memory: Memory, now: datetime
) -> Reply | None:
    cleaned = " ".join(text.split()).strip().rstrip(".!?")
    if _ANNOUNCE.match(cleaned):
        lang: Language = "en" if cleaned.lower().startswith(("announce", "new")) else "da"
        return form_reply({}, lang, now)
    match = _DELIVERY.match(cleaned)
    if match:
        lang = "en" if cleaned.lower().startswith("delivery") else "da"
        incident_id = int(match.group(1)) if match.group(1) else await _latest_incident(db)
        return _doc_reply(await _delivery(db, incident_id, lang))
    return None


async def on_card(
    db: AsyncConnection,
    value: dict[str, Any],
    incoming: Incoming,
    asker: Asker,
    memory: Memory,
    now: datetime,
    lang: Language,
) -> Reply:
    if not asker.is_admin:
        return _doc_reply(
            Document(
                title=say(lang, "Kun for KOMBIT", "KOMBIT staff only"),
                intro=say(
                    lang,
                    "Driftsmeddelelser sendes af KOMBITs medarbejdere.",
                    "Incident notices are sent by KOMBIT staff.",
                ),
            )
        )
    verb = value.get("klikbot")
    fields = {k: value.get(k) for k in FIELDS}
    if verb == "incident_form":
        return form_reply(fields, lang, now)
    if verb == "incident_preview":
        try:
            new = parse_form(fields)
        except FormError as error:
            return form_reply(fields, lang, now, error=str(error))
        token = secrets.token_urlsafe(12)
        memory.pending = {"kind": "incident_preview", "token": token}
        return _doc_reply(await _preview(db, new, fields, token, lang))
    if verb == "incident_confirm":
        pending, memory.pending = memory.pending, {}
        if pending.get("kind") != "incident_preview" or value.get("token") != pending.get("token"):
            return _doc_reply(
                Document(
                    title=say(lang, "Den er allerede sendt eller forældet", "Already sent, or out of date"),
                    intro=say(
                        lang,
                        "Denne forhåndsvisning kan ikke sendes (igen). Skriv \u201eny driftsmeddelelse\u201c for at begynde forfra.",
                        "This preview cannot be sent (again). Write \u201cannounce incident\u201d to start over.",
                    ),
                )
            )
        try:
            new = parse_form(fields)
        except FormError as error:
            return form_reply(fields, lang, now, error=str(error))
        # The conversation state is saved after the turn: two presses at once would both pass
        # the check above. The token is used up in the database, where only one insert wins.
        if not await StateStore(db.engine).create(
            f"klikbot:incident-token:{pending['token']}", {"at": now.isoformat()}
        ):
            return _doc_reply(
                Document(
                    title=say(lang, "Den er allerede sendt", "Already sent"),
                    intro=say(
                        lang,
                        "Denne forhåndsvisning er allerede sendt.",
                        "This preview has already been sent.",
                    ),
                )
            )
        incident_id, queued = await announce(
            db.engine, new, now, datetime.now(UTC), created_by=incoming.sender.name or incoming.sender.id
        )
        return _doc_reply(
            Document(
                title=say(lang, "Driftsmeddelelsen er sendt", "The incident notice is on its way"),
                intro=say(
                    lang,
                    f"\u201e{fmt.plain(new.title, 120)}\u201c sendes nu til {queued} samtaler.",
                    f"\u201c{fmt.plain(new.title, 120)}\u201d is being sent to {queued} conversations.",
                ),
                actions=[_status_action(incident_id, lang)],
                tone="good",
            )
        )
    if verb == "incident_status" and isinstance(value.get("id"), int):
        return _doc_reply(await _delivery(db, int(value["id"]), lang))
    if verb == "incident_update_form" and isinstance(value.get("id"), int):
        return update_form_reply(int(value["id"]), lang)
    if verb == "incident_update" and isinstance(value.get("id"), int):
        return _doc_reply(await _post_update(db, int(value["id"]), value, incoming, now, lang))
    return _doc_reply(
        Document(title=say(lang, "Det forstod jeg ikke", "I didn't understand that"), intro=None)
    )


def _doc_reply(doc: Document) -> Reply:
    return Reply(text=render_text(doc), card=render_card(doc), summary=doc.title)


def _status_action(incident_id: int, lang: Language) -> Action:
    return Action(
        say(lang, "Vis levering", "Show delivery"),
        data={"klikbot": "incident_status", "id": incident_id, "lang": lang},
    )


def _str(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def parse_form(fields: dict[str, Any]) -> NewIncident:
    title = _str(fields.get("title"))
    if not title:
        raise FormError("title")
    if len(title) > MAX_TITLE:
        raise FormError("title_long")
    description = _str(fields.get("description"))
    if len(description) > MAX_DESCRIPTION:
        raise FormError("description_long")
    systems: list[str] = []
    for part in (p for p in _SPLIT.split(_str(fields.get("systems"))) if p):
        name = normalize_system(part)
        if name is None:
            raise FormError("systems")
        if name not in systems:
            systems.append(name)
    if not systems or len(systems) > MAX_SYSTEMS:
        raise FormError("systems")
    severity = _str(fields.get("severity")).upper()
    if severity not in SEVERITIES:
        raise FormError("severity")
    try:
        day = date.fromisoformat(_str(fields.get("start_date")))
        clock = time.fromisoformat(_str(fields.get("start_time")) or "00:00")
    except ValueError as error:
        raise FormError("start") from error
    if not 2000 <= day.year <= 2100:
        raise FormError("start")
    started_at = datetime.combine(day, clock.replace(tzinfo=None), tzinfo=COPENHAGEN)
    return NewIncident(title, description, tuple(systems), started_at, severity)


_ERRORS = {
    "title": ("Skriv en titel.", "Write a title."),
    "title_long": (
        f"Titlen må højst have {MAX_TITLE} tegn.",
        f"The title may have at most {MAX_TITLE} characters.",
    ),
    "description_long": (
        f"Beskrivelsen må højst have {MAX_DESCRIPTION} tegn.",
        f"The description may have at most {MAX_DESCRIPTION} characters.",
    ),
    "systems": (
        f"Skriv 1-{MAX_SYSTEMS} berørte systemer adskilt med komma, fx SAPA, BBR.",
        f"Write 1-{MAX_SYSTEMS} affected systems separated by commas, e.g. SAPA, BBR.",
    ),
    "severity": ("Vælg en prioritet.", "Choose a priority."),
    "start": ("Angiv dato og tidspunkt for starten.", "Give the date and time it started."),
    "message": (
        f"Skriv en opdatering (højst {MAX_MESSAGE} tegn).",
        f"Write an update (at most {MAX_MESSAGE} characters).",
    ),
    "status": ("Vælg en status.", "Choose a status."),
}


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _card(body: list[dict[str, Any]], actions: list[dict[str, Any]], fallback: str) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "fallbackText": fallback,
        "body": body,
        "actions": actions,
    }


def form_reply(fields: dict[str, Any], lang: Language, now: datetime, error: str | None = None) -> Reply:
    local = fmt.local(now)
    title = say(lang, "Ny driftsmeddelelse", "New incident notice")
    body: list[dict[str, Any]] = [
        _text(title, size="Medium", weight="Bolder"),
        _text(
            say(
                lang,
                "Udfyld og vælg \u201eVis eksempel\u201c. Intet sendes, før du bekræfter.",
                "Fill in and choose \u201cPreview\u201d. Nothing is sent until you confirm.",
            ),
            spacing="Small",
        ),
    ]
    if error:
        da, en = _ERRORS.get(error, (error, error))
        body.append(_text("⚠ " + say(lang, da, en), color="Attention", weight="Bolder"))
    body += [
        {
            "type": "Input.Text",
            "id": "title",
            "label": say(lang, "Titel", "Title"),
            "isRequired": True,
            "errorMessage": say(lang, "Skriv en titel", "Write a title"),
            "maxLength": MAX_TITLE,
            "value": _str(fields.get("title"))[:MAX_TITLE],
        },
        {
            "type": "Input.Text",
            "id": "description",
            "label": say(lang, "Beskrivelse", "Description"),
            "isMultiline": True,
            "maxLength": MAX_DESCRIPTION,
            "value": _str(fields.get("description"))[:MAX_DESCRIPTION],
        },
        {
            "type": "Input.Text",
            "id": "systems",
            "label": say(lang, "Berørte systemer (adskilt med komma)", "Affected systems (comma-separated)"),
            "placeholder": "SAPA, BBR, DAR",
            "isRequired": True,
            "errorMessage": say(lang, "Nævn mindst ét system", "Name at least one system"),
            "maxLength": 500,
            "value": _str(fields.get("systems"))[:500],
        },
        {
            "type": "Input.ChoiceSet",
            "id": "severity",
            "label": say(lang, "Prioritet", "Priority"),
            "choices": [
                {"title": say(lang, da, en), "value": key} for key, (da, en) in SEVERITY_WORDS.items()
            ],
            "value": _str(fields.get("severity")).upper()
            if _str(fields.get("severity")).upper() in SEVERITIES
            else "A",
        },
        {
            "type": "Input.Date",
            "id": "start_date",
            "label": say(lang, "Startdato", "Start date"),
            "isRequired": True,
            "errorMessage": say(lang, "Vælg startdatoen", "Pick the start date"),
            "value": _str(fields.get("start_date")) or local.date().isoformat(),
        },
        {
            "type": "Input.Time",
            "id": "start_time",
            "label": say(lang, "Starttidspunkt (dansk tid)", "Start time (Danish time)"),
            "isRequired": True,
            "errorMessage": say(lang, "Vælg starttidspunktet", "Pick the start time"),
            "value": _str(fields.get("start_time")) or f"{local:%H:%M}",
        },
    ]
    actions = [
        {
            "type": "Action.Submit",
            "title": say(lang, "Vis eksempel", "Preview"),
            "data": {"klikbot": "incident_preview", "lang": lang},
        },
        {
            "type": "Action.Submit",
            "title": say(lang, "Annuller", "Cancel"),
            "data": {"klikbot": "cancel", "lang": lang},
            "associatedInputs": "none",
        },
    ]
    fallback = (
        title
        + "\n"
        + say(
            lang,
            "Åbn kortet i Teams for at udfylde formularen.",
            "Open the card in Teams to fill in the form.",
        )
    )
    return Reply(text=fallback, card=_card(body, actions, fallback), summary=title)


async def _audience(db: AsyncConnection, systems: tuple[str, ...]) -> int:
    ref = ConversationRef.__table__.c
    matches = [ref.systems == ""] + [ref.systems.contains(f"|{s}|", autoescape=True) for s in systems]
    query = select(func.count()).where(ref.active.is_(True), ref.subscribed.is_(True), or_(*matches))
    return int((await db.execute(query)).scalar_one())


async def _preview(
    db: AsyncConnection, new: NewIncident, fields: dict[str, Any], token: str, lang: Language
) -> Document:
    view = NoticeView(
        IncidentView(
            id=0,
            title=new.title,
            description=new.description,
            affected_systems=new.affected_systems,
            severity=new.severity,
            status="investigating",
            started_at=new.started_at,
            resolved_at=None,
            latest_update="",
        ),
        1,
        None,
    )
    notice = notice_document(view, lang)
    audience = await _audience(db, new.affected_systems)
    data = {k: fields.get(k) for k in FIELDS}
    return Document(
        title=say(lang, "Eksempel: ", "Preview: ") + notice.title,
        intro=say(
            lang,
            f"Sådan ser meddelelsen ud. Den sendes til {audience} samtaler, der abonnerer. Send den?",
            f"This is how the notice looks. It goes to {audience} subscribed conversations. Send it?",
        ),
        sections=notice.sections,
        actions=[
            Action(
                say(lang, "Send", "Send"),
                data={"klikbot": "incident_confirm", "token": token, "lang": lang, **data},
            ),
            Action(say(lang, "Ret", "Edit"), data={"klikbot": "incident_form", "lang": lang, **data}),
            Action(say(lang, "Annuller", "Cancel"), data={"klikbot": "cancel", "lang": lang}),
        ],
        tone="attention",
    )


async def _latest_incident(db: AsyncConnection) -> int:
    found = (await db.execute(select(func.max(Incident.id)))).scalar()
    return int(found or 0)


async def _delivery(db: AsyncConnection, incident_id: int, lang: Language) -> Document:
    report = await incident_report(db, incident_id)
    if report is None:
        return Document(
            title=say(lang, "Den driftsmeddelelse findes ikke", "No such incident notice"),
            intro=say(lang, "Skriv fx \u201elevering 3\u201c.", "Write e.g. \u201cdelivery 3\u201d."),
        )
    view, counts = report
    doc = delivery_document(view, counts, lang)
    doc.actions = [_status_action(incident_id, lang)]
    if view.incident.resolved_at is None:
        doc.actions.append(
            Action(
                say(lang, "Skriv en opdatering", "Post an update"),
                data={"klikbot": "incident_update_form", "id": incident_id, "lang": lang},
            )
        )
    return doc


def update_form_reply(incident_id: int, lang: Language) -> Reply:
    title = say(
        lang, f"Opdatering af driftsmeddelelse {incident_id}", f"Update of incident notice {incident_id}"
    )
    body = [
        _text(title, size="Medium", weight="Bolder"),
        {
            "type": "Input.ChoiceSet",
            "id": "status",
            "label": say(lang, "Status", "Status"),
            "choices": [{"title": say(lang, da, en), "value": key} for key, (da, en) in STATUS_WORDS.items()],
            "value": "identified",
        },
        {
            "type": "Input.Text",
            "id": "message",
            "label": say(lang, "Opdatering", "Update"),
            "isMultiline": True,
            "isRequired": True,
            "errorMessage": say(lang, "Skriv opdateringen", "Write the update"),
            "maxLength": MAX_MESSAGE,
        },
    ]
    actions = [
        {
            "type": "Action.Submit",
            "title": say(lang, "Send opdatering", "Send update"),
            "data": {"klikbot": "incident_update", "id": incident_id, "lang": lang},
        },
        {
            "type": "Action.Submit",
            "title": say(lang, "Annuller", "Cancel"),
            "data": {"klikbot": "cancel", "lang": lang},
            "associatedInputs": "none",
        },
    ]
    fallback = title
    return Reply(text=fallback, card=_card(body, actions, fallback), summary=title)


async def _post_update(
    db: AsyncConnection,
    incident_id: int,
    value: dict[str, Any],
    incoming: Incoming,
    now: datetime,
    lang: Language,
) -> Document:
    status = _str(value.get("status"))
    message = _str(value.get("message"))
    problem = None
    if status not in STATUSES:
        problem = "status"
    elif not message or len(message) > MAX_MESSAGE:
        problem = "message"
    if problem is not None:
        da, en = _ERRORS[problem]
        return Document(title=say(lang, da, en), actions=[_status_action(incident_id, lang)])
    try:
        version, queued = await add_update(
            db.engine,
            incident_id,
            status,
            message,
            None,
            now,
            datetime.now(UTC),
            created_by=incoming.sender.name or incoming.sender.id,
        )
    except IncidentNotFound:
        return await _delivery(db, incident_id, lang)
    except IncidentClosed:
        return Document(
            title=say(lang, "Driftsforstyrrelsen er allerede løst", "The incident is already resolved"),
            actions=[_status_action(incident_id, lang)],
        )
    da, en = STATUS_WORDS[status]
    return Document(
        title=say(lang, "Opdateringen er sendt", "The update is on its way"),
        intro=say(
            lang,
            f"Status: {da}. {queued} beskeder opdateres (version {version}).",
            f"Status: {en}. {queued} messages are being updated (version {version}).",
        ),
        actions=[_status_action(incident_id, lang)],
        tone="good",
    )
