"""Render a Document as an Adaptive Card 1.5 (what Teams renders), with its text fallback."""

from __future__ import annotations

from typing import Any

from dialogs.document import Action, Document, Section
from dialogs.text import render_text

CARD_VERSION = "1.5"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"

Json = dict[str, Any]


def render_card(doc: Document) -> Json:
    body: list[Json] = [
        _text(doc.title, size="Medium", weight="Bolder", color=_tone_color(doc.tone)),
    ]
    if doc.intro:
        body.append(_text(doc.intro, spacing="Small"))
    body.extend(_section(section) for section in doc.sections)
    if doc.note:
        body.append(_text(doc.note, isSubtle=True, spacing="Medium", size="Small"))
    card: Json = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "fallbackText": render_text(doc),
        "body": body,
    }
    if doc.actions:
        card["actions"] = [_action(a) for a in doc.actions]
    return card


def _tone_color(tone: str) -> str:
    return {"attention": "Attention", "good": "Good"}.get(tone, "Default")


def _section(section: Section) -> Json:
    items: list[Json] = []
    if section.heading:
        items.append(_text(section.heading, weight="Bolder"))
    if section.subheading:
        items.append(_text(section.subheading, isSubtle=True, spacing="None", size="Small"))
    if section.warning:
        items.append(_text(f"⚠ {section.warning}", color="Attention", weight="Bolder", spacing="Small"))
    items.extend(_text(line, spacing="None") for line in section.lines)
    if section.body:
        items.append(_text(section.body, spacing="Small"))
    if section.facts:
        items.append(
            {
                "type": "FactSet",
                "spacing": "Small",
                "facts": [{"title": label, "value": value} for label, value in section.facts],
            }
        )
    if section.actions:
        items.append({"type": "ActionSet", "actions": [_action(a) for a in section.actions]})
    container: Json = {"type": "Container", "separator": True, "spacing": "Medium", "items": items}
    if section.select is not None:
        container["selectAction"] = _action(section.select)
    return container


def _text(text: str, **style: Any) -> Json:
    block: Json = {"type": "TextBlock", "text": text, "wrap": True}
    block.update({k: v for k, v in style.items() if v not in (None, "Default")})
    return block


def _action(action: Action) -> Json:
    if action.url is not None:
        return {"type": "Action.OpenUrl", "title": action.title, "url": action.url}
    submit: Json = {"type": "Action.Submit", "title": action.title, "data": dict(action.data or {})}
    if action.style:
        submit["style"] = action.style
    if action.verb is None:
        return submit
    execute: Json = {
        "type": "Action.Execute",
        "title": action.title,
        "verb": action.verb,
        "data": dict(action.data or {}),
        "fallback": submit,
    }
    if action.style:
        execute["style"] = action.style
    return execute
