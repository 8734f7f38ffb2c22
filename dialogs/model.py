"""The bot's own view of a turn, free of any Bot Framework types.

bot/ turns Teams activities into an Incoming and Replies back into activities, so a move to
another SDK touches only that edge.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

ConversationType = Literal["personal", "channel", "groupChat"]


@dataclass(frozen=True, slots=True)
class Sender:
    id: str
    name: str = ""
    aad_object_id: str | None = None


@dataclass(frozen=True, slots=True)
class Incoming:
    text: str
    conversation_id: str
    sender: Sender
    tenant_id: str | None = None
    locale: str | None = None
    conversation_type: ConversationType = "personal"
    # A card's submitted data (Action.Submit / Action.Execute), if the turn came from a button.
    value: dict[str, Any] | None = None
    # Where the conversation lives, for proactive messages later (subscriptions, reminders).
    service_url: str = ""
    team_id: str | None = None  # Teams team (channelData.team.id) of a channel conversation
    channel_id: str = ""  # the Bot Framework channel ("msteams", "emulator", "terminal")
    activity_id: str | None = None
    timezone: str | None = None  # the client's IANA time zone, when Teams gives one (localTimezone)
    # How it reached the bot: "channel" (a token the Bot Framework signed for its service URL),
    # "noauth" (no-auth mode, or a token that does not vouch for the URL), "terminal".
    origin: str = "noauth"


@dataclass(frozen=True, slots=True)
class Reply:
    text: str  # the plain-text rendering: the card's fallback, and the whole answer in a terminal
    card: dict[str, Any] | None = None
    summary: str = ""  # a one-line summary for notifications
    # The answer to a button replaces the card the button was on (it updates in place).
    replaces_card: bool = False

    def to_json(self) -> str:
        """For messages queued in the database (task news, reminders) and sent later."""
        return json.dumps(
            {"text": self.text, "card": self.card, "summary": self.summary}, ensure_ascii=False
        )

    @classmethod
    def from_json(cls, body: str) -> Reply:
        data = json.loads(body)
        card = data.get("card")
        return cls(
            text=str(data.get("text", "")),
            card=card if isinstance(card, dict) else None,
            summary=str(data.get("summary", "")),
        )


@dataclass(frozen=True, slots=True)
class Asker:
    """Who is asking, as far as the rules are concerned. Comes from the tenant, never the text."""

    tenant_id: str | None
    municipality_code: int | None = None
    municipality_name: str | None = None
    is_admin: bool = False


@dataclass(slots=True)
class Memory:
    """What the conversation remembers between turns (stored with the conversation state)."""

    pending: dict[str, Any] = field(default_factory=dict)
    last_task: str | None = None  # the task last shown, for "Anne er ansvarlig"

    def to_dict(self) -> dict[str, Any]:
        return {"pending": dict(self.pending), "last_task": self.last_task}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Memory:
        pending = (data or {}).get("pending")
        last_task = (data or {}).get("last_task")
        return cls(
            pending=dict(pending) if isinstance(pending, dict) else {},
            last_task=last_task if isinstance(last_task, str) else None,
        )
