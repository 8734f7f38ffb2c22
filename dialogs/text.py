"""Render a Document as readable plain text: the card's fallback and the terminal chat's output."""

from __future__ import annotations

from dialogs.document import Document


def render_text(doc: Document) -> str:
    out: list[str] = [doc.title]
    if doc.intro:
        out.append(doc.intro)
    for section in doc.sections:
        out.append("")
        if section.heading:
            out.append(f"• {section.heading}")
        indent = "  " if section.heading else ""
        if section.subheading:
            out.append(f"{indent}{section.subheading}")
        if section.warning:
            out.append(f"{indent}⚠ {section.warning}")
        out.extend(f"{indent}{line}" for line in section.lines)
        if section.body:
            out.append(f"{indent}{section.body}")
        out.extend(f"{indent}{label}: {value}" for label, value in section.facts)
        out.extend(f"{indent}→ {a.title}: {a.url}" for a in section.actions if a.url)
    if doc.note:
        out.extend(["", doc.note])
    links = [a for a in doc.actions if a.url]
    if links:
        out.append("")
        out.extend(f"→ {a.title}: {a.url}" for a in links)
    return "\n".join(out).strip()
