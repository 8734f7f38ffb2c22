"""A small document model for answers, rendered both as an Adaptive Card and as plain text.

Every answer is built once as a Document; `cards.py` turns it into an Adaptive Card 1.5 and
`text.py` into the text fallback (also what `klikbot chat` prints), so the two never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class Action:
    """A button: either sends data back to the bot, or opens a link."""

    title: str
    data: dict[str, Any] | None = None  # sent back as the activity's value (Action.Submit)
    url: str | None = None  # opened in the browser (Action.OpenUrl)
    # A Universal Action (Action.Execute with this verb: the card updates in place), with an
    # Action.Submit of the same data as fallback for clients without Universal Actions.
    verb: str | None = None
    style: str | None = None  # "positive" or "destructive"


@dataclass(slots=True)
class Section:
    heading: str | None = None
    subheading: str | None = None  # one muted line under the heading
    lines: list[str] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)
    body: str | None = None
    # Something to point out: an overdue deadline, a sold-out slot.
    warning: str | None = None
    select: Action | None = None  # the whole section is clickable
    actions: list[Action] = field(default_factory=list)


@dataclass(slots=True)
class Document:
    title: str
    intro: str | None = None
    sections: list[Section] = field(default_factory=list)
    note: str | None = None
    actions: list[Action] = field(default_factory=list)
    tone: Literal["default", "attention", "good"] = "default"
