"""Pruning what proactive messages leave behind, so the tables do not grow for ever.

Kept: incident notice rows (an update edits the posted card in place, so they are needed for
as long as the incident lives), and anything not yet finished. Removed after `keep`:
- delivered or failed task news and reminder rows of the delivery queue, then the outbox
  messages no row refers to any more;
- the record of what a conversation was reminded of: reminders look only at occasions after
  their last run, so an old key can no longer stop anything from being sent twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, delete, exists
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.delivery import MESSAGE, PENDING
from storage.models import NoticeDelivery, OutboxMessage, ReminderSent

_ND = cast(Table, NoticeDelivery.__table__)
_OUTBOX = cast(Table, OutboxMessage.__table__)
_SENT = cast(Table, ReminderSent.__table__)

KEEP = timedelta(days=60)


@dataclass(frozen=True, slots=True)
class Pruned:
    deliveries: int
    messages: int
    reminder_keys: int

    @property
    def total(self) -> int:
        return self.deliveries + self.messages + self.reminder_keys


async def prune(db: AsyncConnection, now: datetime, keep: timedelta = KEEP) -> Pruned:
    before = now - keep
    deliveries = await db.execute(
        delete(_ND).where(_ND.c.kind == MESSAGE, _ND.c.state != PENDING, _ND.c.available_at < before)
    )
    messages = await db.execute(
        delete(_OUTBOX).where(
            _OUTBOX.c.created_at < before, ~exists().where(_ND.c.message_id == _OUTBOX.c.id)
        )
    )
    keys = await db.execute(delete(_SENT).where(_SENT.c.sent_at < before))
    return Pruned(int(deliveries.rowcount or 0), int(messages.rowcount or 0), int(keys.rowcount or 0))
