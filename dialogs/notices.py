"""The conversation's entry points for proactive messages: subscription and reminder commands
for everyone; announcing incidents, delivery progress and chasing municipalities for KOMBIT
staff (dialogs/incident_form.py, dialogs/reminders.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from dialogs import incident_form, reminders, subscriptions
from dialogs.cards import render_card
from dialogs.model import Asker, Incoming, Memory, Reply
from dialogs.text import render_text
from dialogs.understanding import Language


async def on_text(
    db: AsyncConnection, text: str, incoming: Incoming, asker: Asker, memory: Memory, now: datetime
) -> Reply | None:
    """The reply when the text is a notice command; None lets the conversation go on."""
    doc = await subscriptions.command(db, text, incoming)
    if doc is None:
        doc = await reminders.command(db, text, incoming, asker, now)
    if doc is None:
        doc = await reminders.chase_preview(db, text, asker, now)
    if doc is not None:
        return Reply(text=render_text(doc), card=render_card(doc), summary=doc.title)
    if asker.is_admin:
        return await incident_form.on_text(db, text, incoming, memory, now)
    return None


def is_notice_verb(verb: object) -> bool:
    return isinstance(verb, str) and verb.startswith("incident_")


async def on_card(
    db: AsyncConnection,
    value: dict[str, Any],
    incoming: Incoming,
    asker: Asker,
    memory: Memory,
    now: datetime,
    lang: Language,
) -> Reply:
    return await incident_form.on_card(db, value, incoming, asker, memory, now, lang)
