"""The conversation registry: where the bot is installed, and which conversations subscribe to
incident notices (optionally only for some systems).

Defaults: a personal or group chat is subscribed when the bot is installed there; in a team,
the channel where the bot was installed (usually General) is subscribed, unless another channel
of the team already is. `abonner` in a channel moves the team's subscription to that channel
(one channel per team gets notices); `afmeld` turns it off.

A conversation id longer than its column (Teams allows 1,024 characters) is stored as its hash,
which every lookup here computes the same way (storage.limits.FittedId); the whole id, which a
proactive send needs, is kept in bot_state under that hash (`full_conversation_ids`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.limits import FittedId, fit, is_fitted
from storage.models import BotState, ConversationRef, Tenant

_REF = cast(Table, ConversationRef.__table__)
_TENANT = cast(Table, Tenant.__table__)
_STATE = cast(Table, BotState.__table__)
CONVERSATION_ID_SIZE = cast(FittedId, _REF.c.conversation_id.type).size
# bot_state keys of the whole ids of conversations whose id is stored as a hash.
_FULL_ID_KEY = "klikbot/conversation-id/"
# System names: letters (Danish too), digits, space, dot, dash, slash; no LIKE wildcards or bars.
_SYSTEM = re.compile(r"[0-9A-ZÆØÅÉÜÖÄ][0-9A-ZÆØÅÉÜÖÄ .\-/]{0,39}")
MAX_SYSTEMS = 10


# Where a conversation_ref row came from, which decides whether the bot's token may go to its
# service URL (bot/connector.py): an activity whose token the Bot Framework channel signed for
# that service URL; no-auth mode (nobody vouched for the URL); `klikbot chat` (never a network
# send); or a row older than this column (trusted only at Microsoft's Teams service hosts).
CHANNEL, NOAUTH, TERMINAL, UNKNOWN = "channel", "noauth", "terminal", "unknown"


@dataclass(frozen=True, slots=True)
class ConversationInfo:
    conversation_id: str
    service_url: str
    tenant_id: str | None
    conversation_type: str  # personal, channel, groupChat
    team_id: str | None = None
    channel: str = "msteams"
    lang: str = "da"
    origin: str = UNKNOWN  # CHANNEL, NOAUTH, TERMINAL


@dataclass(frozen=True, slots=True)
class Subscription:
    conversation_id: str
    subscribed: bool
    systems: tuple[str, ...]  # empty: every system
    # In a team: the channel that does get notices, when it is another one.
    team_channel: str | None = None


def base_conversation_id(conversation_id: str) -> str:
    """A channel thread's id ("19:x@thread.tacv2;messageid=1") without the thread: the channel."""
    return conversation_id.split(";messageid=", 1)[0]


def normalize_system(name: str) -> str | None:
    """SAPA, BBR, "Serviceplatformen" → upper case; None if it is not a plausible system name."""
    cleaned = " ".join(name.split()).upper()
    return cleaned if _SYSTEM.fullmatch(cleaned) else None


def encode_systems(systems: Iterable[str]) -> str:
    unique = sorted({s for s in systems if s})
    return "|" + "|".join(unique) + "|" if unique else ""


def decode_systems(value: str) -> tuple[str, ...]:
    return tuple(s for s in value.split("|") if s)


async def remember(db: AsyncConnection, info: ConversationInfo, now: datetime) -> None:
    """The bot was installed (or spoken to) in a conversation: record it, active. A new
    conversation gets the default subscription; a known one keeps its setting."""
    conversation_id = base_conversation_id(info.conversation_id)
    await _keep_full_id(db, conversation_id)
    existing = (await db.execute(select(_REF.c.id).where(_REF.c.conversation_id == conversation_id))).first()
    values = {
        "service_url": info.service_url,
        "tenant_id": info.tenant_id,
        "conversation_type": info.conversation_type,
        "team_id": info.team_id,
        "channel": info.channel,
        "origin": info.origin,
        "active": True,
        "inactive_reason": "",
        "updated_at": now,
    }
    if existing is not None:
        await db.execute(update(_REF).where(_REF.c.id == existing.id).values(**values))
        return
    subscribed = True
    if info.conversation_type == "channel" and info.team_id:
        other = await _team_subscribed_channel(db, info.team_id, conversation_id)
        subscribed = other is None
    await db.execute(
        _REF.insert().values(
            conversation_id=conversation_id,
            lang=info.lang,
            subscribed=subscribed,
            news=subscribed,
            systems="",
            **values,
        )
    )


async def _keep_full_id(db: AsyncConnection, conversation_id: str) -> None:
    """Keep the whole id of a conversation whose id is too long for the column, under its hash."""
    stored = fit(conversation_id, CONVERSATION_ID_SIZE)
    if stored == conversation_id:
        return
    insert = pg_insert if db.dialect.name == "postgresql" else sqlite_insert
    await db.execute(
        insert(_STATE)
        .values(key=_FULL_ID_KEY + stored, data={"conversation_id": conversation_id}, etag=uuid.uuid4().hex)
        .on_conflict_do_nothing()
    )


async def full_conversation_ids(db: AsyncConnection, stored: Iterable[str]) -> dict[str, str]:
    """The whole ids of conversations stored as a hash (conversation_ref.conversation_id and the
    rows copied from it), by stored id; ids stored as they are are not in the result."""
    keys = {_FULL_ID_KEY + s: s for s in stored if is_fitted(s)}
    if not keys:
        return {}
    rows = await db.execute(select(_STATE.c.key, _STATE.c.data).where(_STATE.c.key.in_(list(keys))))
    found: dict[str, str] = {}
    for key, data in rows:
        whole = data.get("conversation_id") if isinstance(data, dict) else None
        if isinstance(whole, str):
            found[keys[key]] = whole
    return found


async def _team_subscribed_channel(db: AsyncConnection, team_id: str, besides: str) -> str | None:
    row = (
        await db.execute(
            select(_REF.c.conversation_id).where(
                _REF.c.team_id == team_id,
                _REF.c.conversation_id != besides,
                _REF.c.active.is_(True),
                _REF.c.subscribed.is_(True),
            )
        )
    ).first()
    return str(row.conversation_id) if row is not None else None


async def forget(db: AsyncConnection, conversation_id: str, reason: str, now: datetime) -> None:
    await db.execute(
        update(_REF)
        .where(_REF.c.conversation_id == base_conversation_id(conversation_id))
        .values(active=False, inactive_reason=reason[:200], updated_at=now)
    )


async def forget_team(db: AsyncConnection, team_id: str, reason: str, now: datetime) -> None:
    await db.execute(
        update(_REF)
        .where(_REF.c.team_id == team_id)
        .values(active=False, inactive_reason=reason[:200], updated_at=now)
    )


async def subscribe(
    db: AsyncConnection, info: ConversationInfo, systems: Iterable[str], now: datetime
) -> Subscription:
    """Subscribe this conversation (only for `systems`, if any). In a channel, the team's other
    channels stop getting notices: one channel per team."""
    await remember(db, info, now)
    conversation_id = base_conversation_id(info.conversation_id)
    encoded = encode_systems(systems)
    await _turn_off_other_channels(db, info, conversation_id, now, subscribed=False)
    await db.execute(
        update(_REF)
        .where(_REF.c.conversation_id == conversation_id)
        .values(subscribed=True, systems=encoded, lang=info.lang, updated_at=now)
    )
    return Subscription(conversation_id, True, decode_systems(encoded))


async def _turn_off_other_channels(
    db: AsyncConnection, info: ConversationInfo, conversation_id: str, now: datetime, **off: bool
) -> None:
    """One channel per team: in a channel, the team's other channels lose what `off` names."""
    if info.conversation_type == "channel" and info.team_id:
        await db.execute(
            update(_REF)
            .where(and_(_REF.c.team_id == info.team_id, _REF.c.conversation_id != conversation_id))
            .values(updated_at=now, **off)
        )


async def unsubscribe(db: AsyncConnection, info: ConversationInfo, now: datetime) -> Subscription:
    await remember(db, info, now)
    conversation_id = base_conversation_id(info.conversation_id)
    await db.execute(
        update(_REF)
        .where(_REF.c.conversation_id == conversation_id)
        .values(subscribed=False, systems="", updated_at=now)
    )
    return Subscription(conversation_id, False, ())


async def subscription(db: AsyncConnection, info: ConversationInfo) -> Subscription:
    conversation_id = base_conversation_id(info.conversation_id)
    row = (
        await db.execute(
            select(_REF.c.subscribed, _REF.c.systems, _REF.c.active).where(
                _REF.c.conversation_id == conversation_id
            )
        )
    ).first()
    subscribed = bool(row is not None and row.active and row.subscribed)
    systems = decode_systems(row.systems) if row is not None else ()
    team_channel = None
    if not subscribed and info.conversation_type == "channel" and info.team_id:
        team_channel = await _team_subscribed_channel(db, info.team_id, conversation_id)
    return Subscription(conversation_id, subscribed, systems if subscribed else (), team_channel)


# --- task news ("Ny KLIK-opgave") ----------------------------------------------------------------


async def set_news(db: AsyncConnection, info: ConversationInfo, on: bool, now: datetime) -> None:
    """Turn task news on or off here. In a channel, the team's other channels stop getting them:
    like incident notices, one channel per team."""
    await remember(db, info, now)
    conversation_id = base_conversation_id(info.conversation_id)
    if on:
        await _turn_off_other_channels(db, info, conversation_id, now, news=False)
    await db.execute(
        update(_REF)
        .where(_REF.c.conversation_id == conversation_id)
        .values(news=on, lang=info.lang, updated_at=now)
    )


async def set_language(db: AsyncConnection, conversation_id: str, lang: str, now: datetime) -> None:
    """The language proactive messages (notices, news, reminders) use in this conversation."""
    await db.execute(
        update(_REF)
        .where(_REF.c.conversation_id == base_conversation_id(conversation_id))
        .values(lang=lang, updated_at=now)
    )


async def news_setting(db: AsyncConnection, conversation_id: str) -> bool:
    row = (
        await db.execute(
            select(_REF.c.news, _REF.c.active).where(
                _REF.c.conversation_id == base_conversation_id(conversation_id)
            )
        )
    ).first()
    return bool(row is not None and row.active and row.news)


def news_recipients(municipality_code: int, lang: str) -> Any:
    """The conversations (a condition on conversation_ref) that get a municipality's task news in
    one language: active, subscribed to news, in a tenant that speaks for the municipality."""
    return and_(
        _REF.c.active.is_(True),
        _REF.c.news.is_(True),
        _REF.c.lang == lang,
        _REF.c.tenant_id.in_(
            select(_TENANT.c.tenant_id).where(_TENANT.c.municipality_code == municipality_code)
        ),
    )


async def news_audiences(db: AsyncConnection) -> list[tuple[int, str]]:
    """(municipality code, language) of every conversation that gets task news."""
    rows = await db.execute(
        select(_TENANT.c.municipality_code, _REF.c.lang)
        .join(_TENANT, _TENANT.c.tenant_id == _REF.c.tenant_id)
        .where(_REF.c.active.is_(True), _REF.c.news.is_(True))
        .distinct()
        .order_by(_TENANT.c.municipality_code, _REF.c.lang)
    )
    return [(int(code), str(lang)) for code, lang in rows]
