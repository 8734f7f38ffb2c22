"""The edge between Bot Framework activities and the bot's own Incoming/Reply types."""

from __future__ import annotations

import html
import re
from contextvars import ContextVar
from typing import Any

from botbuilder.schema import Activity, ActivityTypes, Attachment

from dialogs.cards import CARD_CONTENT_TYPE
from dialogs.model import ConversationType, Incoming, Reply, Sender

_AT_TAG = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]{0,200}>")
_CONVERSATION_TYPES: dict[str, ConversationType] = {
    "personal": "personal",
    "channel": "channel",
    "groupChat": "groupChat",
}


def _tenant_places(activity: Activity) -> list[tuple[str, object]]:
    """Where a Teams activity names its tenant. Teams sends `conversation.tenantId`, which
    botbuilder's model (expecting "tenantID") leaves in additional_properties, and CloudAdapter
    does not copy `channelData.tenant.id` over: so all three places are read."""
    places: list[tuple[str, object]] = []
    conversation = activity.conversation
    if conversation is not None:
        places.append(("conversation.tenantID", getattr(conversation, "tenant_id", None)))
        extra = getattr(conversation, "additional_properties", None) or {}
        places.append(("conversation.tenantId", extra.get("tenantId")))
    channel_data = activity.channel_data
    if isinstance(channel_data, dict):
        tenant = channel_data.get("tenant")
        if isinstance(tenant, dict):
            places.append(("channelData.tenant.id", tenant.get("id")))
    return places


def _named(places: list[tuple[str, object]]) -> dict[str, str]:
    """The tenant each place names, lower-cased; places naming none are left out."""
    return {
        place: value.strip().lower() for place, value in places if isinstance(value, str) and value.strip()
    }


def consistent_tenant(places: list[tuple[str, object]]) -> str | None:
    """The one tenant the places name, or None: none named, or they disagree. A sender whose
    activity names two tenants is an unknown tenant, never either of them."""
    tenants = set(_named(places).values())
    return tenants.pop() if len(tenants) == 1 else None


def tenant_of(activity: Activity) -> str | None:
    """The tenant of a Teams activity, lower-cased, when every place that names one
    (`conversation.tenantId`, `conversation.tenantID`, `channelData.tenant.id`) names the same;
    else None (an unknown tenant)."""
    return consistent_tenant(_tenant_places(activity))


def tenant_disagreement(activity: Activity) -> list[str]:
    """The places of an activity that name different tenants (empty when they agree)."""
    named = _named(_tenant_places(activity))
    return sorted(named) if len(set(named.values())) > 1 else []


def text_without_mentions(activity: Activity) -> str:
    """The message text without the bot's @mention (channels and group chats add it)."""
    text = activity.text or ""
    bot_id = activity.recipient.id if activity.recipient is not None else None
    for entity in activity.entities or []:
        props: dict[str, Any] = entity.additional_properties or {}
        if entity.type != "mention":
            continue
        mentioned = props.get("mentioned") or {}
        mention_text = props.get("text")
        if (
            isinstance(mention_text, str)
            and mention_text
            and (not isinstance(mentioned, dict) or mentioned.get("id") in (bot_id, None))
        ):
            text = text.replace(mention_text, " ")
    text = _AT_TAG.sub(" ", text)
    # Teams may send HTML (formatted messages); the bot reads only the words.
    text = html.unescape(_TAG.sub(" ", text))
    return " ".join(text.split())


def team_of(activity: Activity) -> str | None:
    """The Teams team of a channel activity (`channelData.team.id`)."""
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    team = channel_data.get("team")
    team_id = team.get("id") if isinstance(team, dict) else None
    return team_id if isinstance(team_id, str) and team_id else None


# Set by the authentication (bot/connector.py) for the length of a turn: "channel" when the Bot
# Framework channel's token vouched for the activity's service URL, else "noauth".
turn_origin: ContextVar[str] = ContextVar("klikbot_turn_origin", default="noauth")


def to_incoming(activity: Activity) -> Incoming:
    sender = activity.from_property
    conversation = activity.conversation
    conversation_type = _CONVERSATION_TYPES.get(
        getattr(conversation, "conversation_type", None) or "", "personal"
    )
    value = activity.value if isinstance(activity.value, dict) else None
    team_id = team_of(activity)
    return Incoming(
        text=text_without_mentions(activity),
        conversation_id=str(conversation.id) if conversation is not None and conversation.id else "",
        sender=Sender(
            id=str(sender.id) if sender is not None and sender.id else "",
            name=str(sender.name) if sender is not None and sender.name else "",
            aad_object_id=getattr(sender, "aad_object_id", None) if sender is not None else None,
        ),
        tenant_id=tenant_of(activity),
        locale=activity.locale,
        conversation_type=conversation_type,
        value=value,
        service_url=activity.service_url or "",
        team_id=team_id,
        channel_id=activity.channel_id or "",
        activity_id=activity.id,
        timezone=activity.local_timezone if isinstance(activity.local_timezone, str) else None,
        origin="terminal" if activity.channel_id == "terminal" else turn_origin.get(),
    )


def to_activity(reply: Reply) -> Activity:
    if reply.card is None:
        return Activity(type=ActivityTypes.message, text=reply.text)
    return Activity(
        type=ActivityTypes.message,
        summary=reply.summary or None,
        attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=reply.card)],
    )
