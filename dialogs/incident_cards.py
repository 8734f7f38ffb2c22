"""Incident notices as the conversations see them: the card (posted once, then edited in place
on every update) and the short reply a resolution posts in the card's thread.

Everything the operator typed is shown as typed: markdown characters are escaped
(formatting.plain), so a title can never turn into links or formatting.
"""

from __future__ import annotations

from typing import Any

from dialogs import formatting as fmt
from dialogs.answers import say
from dialogs.cards import render_card
from dialogs.document import Document, Section
from dialogs.model import Reply
from dialogs.text import render_text
from dialogs.understanding import Language
from storage.delivery import DeliveryCounts
from storage.incidents import NoticeView

STATUS_WORDS = {
    "investigating": ("Undersøges", "Investigating"),
    "identified": ("Identificeret", "Identified"),
    "monitoring": ("Overvåges", "Monitoring"),
    "resolved": ("Løst", "Resolved"),
}
SEVERITY_WORDS = {
    "A": ("A (kritisk)", "A (critical)"),
    "B": ("B (alvorlig)", "B (major)"),
    "C": ("C (mindre)", "C (minor)"),
}

MAX_TITLE = 200
MAX_DESCRIPTION = 4000
MAX_MESSAGE = 2000


def status_word(status: str, lang: Language) -> str:
    da, en = STATUS_WORDS.get(status, (status, status))
    return say(lang, da, en)


def notice_document(notice: NoticeView, lang: Language) -> Document:
    incident = notice.incident
    resolved = incident.resolved_at is not None
    title = fmt.plain(incident.title, MAX_TITLE)
    heading = say(lang, "Driftsforstyrrelse: ", "Incident: ") + title
    if resolved:
        heading = say(lang, "Løst: ", "Resolved: ") + title
    since = fmt.timestamp(incident.started_at, lang)
    facts = [
        (say(lang, "Status", "Status"), status_word(incident.status, lang)),
        (say(lang, "Siden", "Since"), since),
    ]
    if resolved and incident.resolved_at is not None:
        facts.append((say(lang, "Løst", "Resolved"), fmt.timestamp(incident.resolved_at, lang)))
    facts.append(
        (
            say(lang, "Berørte systemer", "Affected systems"),
            ", ".join(fmt.plain(s, 40) for s in incident.affected_systems) or "–",
        )
    )
    if incident.severity:
        da, en = SEVERITY_WORDS.get(incident.severity, (incident.severity, incident.severity))
        facts.append(
            (
                say(lang, "Prioritet", "Priority"),
                say(lang, da, en)
                if incident.severity in SEVERITY_WORDS
                else fmt.plain(incident.severity, 40),
            )
        )
    sections = [Section(body=fmt.plain(incident.description, MAX_DESCRIPTION) or None, facts=facts)]
    if incident.latest_update:
        when = fmt.timestamp(notice.updated_at, lang) if notice.updated_at is not None else ""
        sections.append(
            Section(
                heading=say(lang, "Seneste opdatering", "Latest update") + (f" ({when})" if when else ""),
                body=fmt.plain(incident.latest_update, MAX_MESSAGE),
            )
        )
    return Document(
        title=heading,
        intro=say(
            lang,
            "KOMBIT informerer om en driftsforstyrrelse i den fælleskommunale infrastruktur. Denne besked opdateres, når der er nyt.",
            "KOMBIT reports an incident in the joint municipal infrastructure. This message is updated when there is news.",
        )
        if not resolved
        else None,
        sections=sections,
        tone="good" if resolved else "attention",
    )


def notice_reply(notice: NoticeView, lang: Language) -> Reply:
    doc = notice_document(notice, lang)
    return Reply(text=render_text(doc), card=render_card(doc), summary=doc.title)


def resolution_text(notice: NoticeView, lang: Language) -> str:
    incident = notice.incident
    when = fmt.timestamp(incident.resolved_at, lang) if incident.resolved_at is not None else ""
    return say(
        lang,
        f"Driftsforstyrrelsen \u201e{fmt.plain(incident.title, 120)}\u201c er løst ({when}). Beskeden ovenfor er opdateret.",
        f"The incident \u201c{fmt.plain(incident.title, 120)}\u201d is resolved ({when}). The message above has been updated.",
    )


def delivery_document(notice: NoticeView, counts: DeliveryCounts, lang: Language) -> Document:
    """Delivery progress for KOMBIT staff."""
    incident = notice.incident
    facts = [
        (say(lang, "Status", "Status"), status_word(incident.status, lang)),
        (say(lang, "Version", "Version"), str(notice.version)),
        (say(lang, "Samtaler", "Conversations"), str(counts.conversations)),
        (say(lang, "Sendt", "Sent"), str(counts.sent)),
        (say(lang, "Afventer", "Pending"), str(counts.pending)),
        (say(lang, "Heraf genforsøg", "Of which retrying"), str(counts.retrying)),
        (say(lang, "Fejlet", "Failed"), str(counts.failed)),
    ]
    sections = [Section(facts=facts)]
    if counts.failures:
        sections.append(
            Section(
                heading=say(lang, "Fejl", "Failures"),
                lines=[f"{fmt.plain(c, 60)} ({k}): {fmt.plain(e, 120)}" for c, k, e in counts.failures[:10]],
            )
        )
    return Document(
        title=say(
            lang, f"Levering af driftsmeddelelse {incident.id}", f"Delivery of incident notice {incident.id}"
        )
        + f": {fmt.plain(incident.title, 80)}",
        sections=sections,
        tone="attention" if counts.failed else "default",
    )


def card_json(reply: Reply) -> dict[str, Any] | None:
    return reply.card
