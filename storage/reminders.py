"""Reminder settings per conversation, and the planner's claim on conversations that are due.

A conversation's row says which reminders are on (storage.reminder_rules.ReminderSettings),
when the planner last looked (`last_run_at`: occasions after it are due) and when it looks next
(`next_run_at`, None when everything is off). The planner claims due rows with
`FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite has one writer), queues at most one message per
conversation, records what it reminded of in reminder_sent and moves `next_run_at` on, all in
one transaction: a crash repeats nothing and skips nothing, and several bot processes share the
work without sending twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import take_sqlite_write_lock
from storage.models import ConversationRef, ReminderSent, ReminderSetting, Tenant
from storage.reminder_rules import ReminderSettings, format_days, next_run, settings_from_row
from storage.subscriptions import base_conversation_id

_SETTING = cast(Table, ReminderSetting.__table__)
_SENT = cast(Table, ReminderSent.__table__)
_REF = cast(Table, ConversationRef.__table__)
_TENANT = cast(Table, Tenant.__table__)


def settings_of(row: Any) -> ReminderSettings:
    return settings_from_row(dict(row._mapping))


def _values(settings: ReminderSettings) -> dict[str, object]:
    return {
        "deadlines": settings.deadlines,
        "deadline_days": format_days(settings.deadline_days),
        "events": settings.events,
        "digest": settings.digest,
        "digest_weekday": settings.digest_weekday,
        "digest_minute": settings.digest_minute,
        "send_minute": settings.send_minute,
        "time_zone": settings.time_zone,
    }


async def _ref_id(db: AsyncConnection, conversation_id: str) -> int | None:
    # A channel thread ("19:x;messageid=1") keeps the channel's settings.
    wanted = base_conversation_id(conversation_id)
    row = (await db.execute(select(_REF.c.id).where(_REF.c.conversation_id == wanted))).first()
    return int(row.id) if row is not None else None


async def reminder_settings(db: AsyncConnection, conversation_id: str) -> ReminderSettings:
    """The conversation's settings (everything off when it has none)."""
    ref_id = await _ref_id(db, conversation_id)
    if ref_id is None:
        return ReminderSettings()
    row = (await db.execute(select(_SETTING).where(_SETTING.c.conversation_ref_id == ref_id))).first()
    return settings_of(row) if row is not None else ReminderSettings()


async def save_reminder_settings(
    db: AsyncConnection, conversation_id: str, settings: ReminderSettings, now: datetime
) -> None:
    """Store the settings of a conversation the registry knows (storage.subscriptions.remember
    first). Occasions before `now` are not reminded of: the planner starts looking from here."""
    ref_id = await _ref_id(db, conversation_id)
    if ref_id is None:
        raise LookupError(f"unknown conversation {conversation_id!r}")
    values = {
        **_values(settings),
        "last_run_at": now,
        "next_run_at": next_run(settings, now) if settings.enabled else None,
        "updated_at": now,
    }
    # One statement, so two commands at the same moment do not both insert.
    dialect_insert = postgresql_insert if db.dialect.name == "postgresql" else sqlite_insert
    statement = dialect_insert(_SETTING).values(conversation_ref_id=ref_id, **values)
    await db.execute(
        statement.on_conflict_do_update(index_elements=[_SETTING.c.conversation_ref_id], set_=values)
    )


@dataclass(frozen=True, slots=True)
class DueConversation:
    conversation_ref_id: int
    conversation_id: str
    tenant_id: str | None
    municipality_code: int | None
    lang: str
    settings: ReminderSettings
    last_run_at: datetime


async def claim_due(db: AsyncConnection, now: datetime, limit: int = 50) -> list[DueConversation]:
    """Conversations whose reminders are due, locked for this transaction: another process
    skips them (PostgreSQL) or waits for the write lock (SQLite) and then finds them moved on."""
    await take_sqlite_write_lock(db)  # PostgreSQL: SKIP LOCKED below
    picked = (
        select(_SETTING)
        .where(_SETTING.c.next_run_at.is_not(None), _SETTING.c.next_run_at <= now)
        .order_by(_SETTING.c.next_run_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = (await db.execute(picked)).all()
    if not rows:
        return []
    refs = {
        r.id: r
        for r in await db.execute(
            select(
                _REF.c.id,
                _REF.c.conversation_id,
                _REF.c.tenant_id,
                _REF.c.lang,
                _REF.c.active,
                _TENANT.c.municipality_code,
            )
            .outerjoin(_TENANT, _TENANT.c.tenant_id == _REF.c.tenant_id)
            .where(_REF.c.id.in_([r.conversation_ref_id for r in rows]))
        )
    }
    due = []
    for row in rows:
        ref = refs.get(row.conversation_ref_id)
        if ref is None or not ref.active:
            # The bot is not in the conversation (removed, or Teams refused a send): remind of
            # nothing now, and look again later, in case it is installed again.
            settings = settings_of(row)
            await db.execute(
                update(_SETTING)
                .where(_SETTING.c.conversation_ref_id == row.conversation_ref_id)
                .values(last_run_at=now, next_run_at=next_run(settings, now))
            )
            continue
        due.append(
            DueConversation(
                conversation_ref_id=int(row.conversation_ref_id),
                conversation_id=str(ref.conversation_id),
                tenant_id=ref.tenant_id,
                municipality_code=int(ref.municipality_code) if ref.municipality_code is not None else None,
                lang=str(ref.lang),
                settings=settings_of(row),
                last_run_at=row.last_run_at,
            )
        )
    return due


async def sent_keys(db: AsyncConnection, conversation_ref_id: int) -> set[str]:
    rows = await db.execute(select(_SENT.c.key).where(_SENT.c.conversation_ref_id == conversation_ref_id))
    return {str(k) for (k,) in rows}


async def record_run(
    db: AsyncConnection,
    due: DueConversation,
    keys: list[str],
    now: datetime,
) -> None:
    """What was reminded of, and when to look next."""
    if keys:
        await db.execute(
            insert(_SENT),
            [{"conversation_ref_id": due.conversation_ref_id, "key": k[:200], "sent_at": now} for k in keys],
        )
    await db.execute(
        update(_SETTING)
        .where(_SETTING.c.conversation_ref_id == due.conversation_ref_id)
        .values(last_run_at=now, next_run_at=next_run(due.settings, now))
    )
