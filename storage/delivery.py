"""The durable delivery queue for proactive messages (table notice_delivery).

Every (notice version, conversation, kind) is one row, sent once:
- `post` (version 1): the incident notice card, posted as a new message;
- `update` (each later version): the card edited in place, after its post was sent;
- `reply` (the resolution): a short reply in the card's thread, since edits notify no one;
- `message`: an outbox message (task news, a reminder), posted once: its rendered body is in
  table outbox_message, shared by every conversation of the same audience.

Workers claim due rows of one lane (tenant) in batches: an UPDATE of the rows picked with
`FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite serializes writers, one process) that sets the
worker's id and a lease. A worker renews its leases while it works; a worker that dies stops
renewing, its leases run out, and another worker claims those rows again. So a row is sent
once, except a send in flight when its worker died, which is sent again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, case, exists, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.models import ConversationRef, NoticeDelivery, OutboxMessage
from storage.subscriptions import (
    TERMINAL,
    ConversationInfo,
    base_conversation_id,
    full_conversation_ids,
    remember,
)

_ND = cast(Table, NoticeDelivery.__table__)
_REF = cast(Table, ConversationRef.__table__)
_POST = _ND.alias("post")
_OTHER = _ND.alias("other")

PENDING, SENT, FAILED = "pending", "sent", "failed"
POST, UPDATE, REPLY, MESSAGE = "post", "update", "reply", "message"
_OUTBOX = cast(Table, OutboxMessage.__table__)


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    incident_id: int | None  # an incident notice's rows
    version: int
    kind: str
    conversation_ref_id: int
    conversation_id: str
    service_url: str
    lane: str
    lang: str
    attempts: int
    # For update and reply rows: the posted card's activity id and the version it showed.
    post_activity_id: str | None = None
    post_rendered_version: int | None = None
    post_failed: bool = False
    message_id: int | None = None  # a message row's outbox message


@dataclass(frozen=True, slots=True)
class Sent:
    id: int
    activity_id: str | None
    rendered_version: int | None
    at: datetime
    note: str = ""


@dataclass(frozen=True, slots=True)
class Retry:
    id: int
    attempts: int
    available_at: datetime
    error: str


@dataclass(frozen=True, slots=True)
class Failed:
    id: int
    attempts: int
    error: str
    # The conversation is gone (Teams answered 403/404): stop sending to it.
    deactivate_ref: int | None = None


Outcome = Sent | Retry | Failed


def _due(now: datetime) -> Any:
    """Rows a worker may claim now: pending, due, not leased; an update or reply only once the
    post it depends on has been sent (or has failed, so it fails too)."""
    depends_ok = or_(
        _ND.c.kind.in_((POST, MESSAGE)),
        exists().where(
            _POST.c.incident_id == _ND.c.incident_id,
            _POST.c.conversation_ref_id == _ND.c.conversation_ref_id,
            _POST.c.kind == POST,
            _POST.c.state != PENDING,
        ),
    )
    return and_(
        _ND.c.state == PENDING,
        _ND.c.available_at <= now,
        or_(_ND.c.lease_until.is_(None), _ND.c.lease_until < now),
        depends_ok,
    )


class DeliveryQueue:
    def __init__(self, engine: AsyncEngine, worker_id: str, lease: timedelta) -> None:
        self._engine = engine
        self.worker_id = worker_id[:64]
        self.lease = lease

    async def due_lanes(self, now: datetime, limit: int = 1000) -> dict[str, int]:
        """Lanes (tenants) with rows to claim now, and how many each."""
        query = (
            select(_ND.c.lane, func.count())
            .where(_due(now))
            .group_by(_ND.c.lane)
            .order_by(_ND.c.lane)
            .limit(limit)
        )
        busy = (
            select(_ND.c.lane)
            .where(
                _ND.c.state == PENDING,
                _ND.c.lease_until >= now,
                _ND.c.claimed_by != self.worker_id,
            )
            .distinct()
        )
        async with self._engine.connect() as db:
            due = {str(lane): int(count) for lane, count in (await db.execute(query)).all()}
            if due:
                for (lane,) in (await db.execute(busy)).all():
                    due.pop(str(lane), None)
        return due

    async def claim(self, lane: str, limit: int, now: datetime) -> list[Claimed]:
        # One worker serves a tenant at a time, so the tenant's ceiling holds across processes:
        # no rows of a lane in which another worker holds live claims.
        held_elsewhere = exists().where(
            _OTHER.c.lane == lane,
            _OTHER.c.state == PENDING,
            _OTHER.c.lease_until >= now,
            _OTHER.c.claimed_by != self.worker_id,
        )
        picked = (
            select(_ND.c.id)
            .where(_ND.c.lane == lane, _due(now), ~held_elsewhere)
            .order_by(_ND.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=_ND)
        )
        statement = (
            update(_ND)
            .where(_ND.c.id.in_(picked.scalar_subquery()))
            .values(claimed_by=self.worker_id, lease_until=now + self.lease)
            .returning(
                _ND.c.id,
                _ND.c.incident_id,
                _ND.c.version,
                _ND.c.kind,
                _ND.c.conversation_ref_id,
                _ND.c.conversation_id,
                _ND.c.service_url,
                _ND.c.lane,
                _ND.c.lang,
                _ND.c.attempts,
                _ND.c.message_id,
            )
        )
        async with self._engine.begin() as db:
            if db.dialect.name == "postgresql":
                # Serialize claims per lane (until commit), so that the check above sees the
                # claims another worker has just made. SQLite has a single writer anyway.
                await db.execute(select(func.pg_advisory_xact_lock(func.hashtext("klikbot-lane:" + lane))))
            rows = (await db.execute(statement)).all()
            dependent = [r for r in rows if r.kind in (UPDATE, REPLY)]
            posts: dict[tuple[int, int], Any] = {}
            if dependent:
                found = await db.execute(
                    select(
                        _ND.c.incident_id,
                        _ND.c.conversation_ref_id,
                        _ND.c.activity_id,
                        _ND.c.rendered_version,
                        _ND.c.state,
                    ).where(
                        _ND.c.kind == POST,
                        _ND.c.incident_id.in_({r.incident_id for r in dependent}),
                        _ND.c.conversation_ref_id.in_({r.conversation_ref_id for r in dependent}),
                    )
                )
                posts = {(p.incident_id, p.conversation_ref_id): p for p in found}
            # A conversation id too long for its column is stored as a hash: send to the whole id.
            whole_ids = await full_conversation_ids(db, {r.conversation_id for r in rows})
        claimed = []
        for r in sorted(rows, key=lambda r: r.id):
            post = posts.get((r.incident_id, r.conversation_ref_id))
            claimed.append(
                Claimed(
                    id=r.id,
                    incident_id=r.incident_id,
                    version=r.version,
                    kind=r.kind,
                    conversation_ref_id=r.conversation_ref_id,
                    conversation_id=whole_ids.get(r.conversation_id, r.conversation_id),
                    service_url=r.service_url,
                    lane=r.lane,
                    lang=r.lang,
                    attempts=r.attempts,
                    post_activity_id=post.activity_id if post is not None else None,
                    post_rendered_version=post.rendered_version if post is not None else None,
                    post_failed=post is not None and post.state == FAILED,
                    message_id=r.message_id,
                )
            )
        return claimed

    async def record(self, outcomes: Sequence[Outcome]) -> None:
        """Write the outcomes of sends in one transaction."""
        sent = [
            {
                "b_id": o.id,
                "b_activity_id": o.activity_id,
                "b_rendered": o.rendered_version,
                "b_at": o.at,
                "b_note": o.note,
            }
            for o in outcomes
            if isinstance(o, Sent)
        ]
        retries = [
            {"b_id": o.id, "b_attempts": o.attempts, "b_available": o.available_at, "b_error": o.error[:500]}
            for o in outcomes
            if isinstance(o, Retry)
        ]
        failed = [
            {"b_id": o.id, "b_attempts": o.attempts, "b_error": o.error[:500]}
            for o in outcomes
            if isinstance(o, Failed)
        ]
        gone = sorted({o.deactivate_ref for o in outcomes if isinstance(o, Failed) and o.deactivate_ref})
        # Retries and failures touch only rows this worker still holds: if its lease ran out,
        # another worker may have claimed the row since, and releasing it would let a third in.
        held = (_ND.c.id == bindparam("b_id"), _ND.c.state == PENDING, _ND.c.claimed_by == self.worker_id)
        async with self._engine.begin() as db:
            if sent:
                await db.execute(
                    update(_ND)
                    .where(_ND.c.id == bindparam("b_id"), _ND.c.state == PENDING)
                    .values(
                        state=SENT,
                        activity_id=bindparam("b_activity_id"),
                        rendered_version=bindparam("b_rendered"),
                        sent_at=bindparam("b_at"),
                        last_error=bindparam("b_note"),
                        attempts=_ND.c.attempts + 1,
                        lease_until=None,
                    ),
                    sent,
                )
            if retries:
                await db.execute(
                    update(_ND)
                    .where(*held)
                    .values(
                        attempts=bindparam("b_attempts"),
                        available_at=bindparam("b_available"),
                        last_error=bindparam("b_error"),
                        claimed_by=None,
                        lease_until=None,
                    ),
                    retries,
                )
            if failed:
                await db.execute(
                    update(_ND)
                    .where(*held)
                    .values(
                        state=FAILED,
                        attempts=bindparam("b_attempts"),
                        last_error=bindparam("b_error"),
                        lease_until=None,
                    ),
                    failed,
                )
            if gone:
                await db.execute(
                    update(_REF)
                    .where(_REF.c.id.in_(gone))
                    .values(active=False, inactive_reason="Teams refused (403/404)")
                )

    async def renew(self, ids: Sequence[int], now: datetime) -> None:
        """Extend the leases of the rows this worker still holds."""
        await self._update_held(ids, lease_until=now + self.lease)

    async def release(self, ids: Sequence[int]) -> None:
        """Hand claimed rows back (shutdown): another worker may take them at once."""
        await self._update_held(ids, claimed_by=None, lease_until=None)

    async def _update_held(self, ids: Sequence[int], **values: Any) -> None:
        """Set `values` on those of `ids` this worker still holds, 500 ids a statement."""
        if not ids:
            return
        async with self._engine.begin() as db:
            for start in range(0, len(ids), 500):
                await db.execute(
                    update(_ND)
                    .where(
                        _ND.c.id.in_(list(ids[start : start + 500])),
                        _ND.c.claimed_by == self.worker_id,
                        _ND.c.state == PENDING,
                    )
                    .values(**values)
                )


# The columns a queued row is written with, in the order the enqueue selects list them.
_QUEUED_COLUMNS = [
    "incident_id",
    "version",
    "kind",
    "conversation_ref_id",
    "conversation_id",
    "service_url",
    "lane",
    "lang",
    "state",
    "available_at",
    "attempts",
    "last_error",
]


def _to_conversations(key: Any, kind: str, now: datetime) -> Any:
    """The SELECT of new pending rows, one per conversation_ref row chosen by its WHERE: `key`
    is the incident id or the message id (the first of the queued columns)."""
    return select(
        key,
        literal(1).label("version"),
        literal(kind).label("kind"),
        _REF.c.id,
        _REF.c.conversation_id,
        _REF.c.service_url,
        func.coalesce(_REF.c.tenant_id, ""),
        _REF.c.lang,
        literal(PENDING).label("state"),
        literal(now, _ND.c.available_at.type).label("available_at"),
        literal(0).label("attempts"),
        literal("").label("last_error"),
    )


async def enqueue_posts(db: AsyncConnection, incident_id: int, systems: Sequence[str], now: datetime) -> int:
    """Queue the notice's post for every active, subscribed conversation whose filter matches
    (a filter matches when it names one of the affected systems). One INSERT ... SELECT: the
    conversations are never loaded into memory."""
    matches = [_REF.c.systems == ""]
    matches += [_REF.c.systems.contains(f"|{s}|", autoescape=True) for s in systems]
    chosen = _to_conversations(literal(incident_id).label("incident_id"), POST, now).where(
        _REF.c.active.is_(True), _REF.c.subscribed.is_(True), _REF.c.origin != TERMINAL, or_(*matches)
    )
    result = await db.execute(_ND.insert().from_select(_QUEUED_COLUMNS, chosen))
    return int(result.rowcount or 0)


async def enqueue_followups(
    db: AsyncConnection, incident_id: int, version: int, kinds: Sequence[str], now: datetime
) -> int:
    """Queue an update (and a reply, for a resolution) for every conversation the notice was
    posted to or is still queued for."""
    total = 0
    for kind in kinds:
        chosen = select(
            _POST.c.incident_id,
            literal(version).label("version"),
            literal(kind).label("kind"),
            _POST.c.conversation_ref_id,
            _POST.c.conversation_id,
            _POST.c.service_url,
            _POST.c.lane,
            _POST.c.lang,
            literal(PENDING).label("state"),
            literal(now, _ND.c.available_at.type).label("available_at"),
            literal(0).label("attempts"),
            literal("").label("last_error"),
        ).where(_POST.c.incident_id == incident_id, _POST.c.kind == POST, _POST.c.state != FAILED)
        result = await db.execute(_ND.insert().from_select(_QUEUED_COLUMNS, chosen))
        total += int(result.rowcount or 0)
    return total


async def add_message(db: AsyncConnection, subject: str, body: str, now: datetime) -> int:
    """Store a rendered outbox message; queue it with enqueue_message."""
    result = await db.execute(
        _OUTBOX.insert().values(subject=subject[:200], body=body, created_at=now).returning(_OUTBOX.c.id)
    )
    return int(result.scalar_one())


async def enqueue_message(db: AsyncConnection, message_id: int, recipients: Any, now: datetime) -> int:
    """Queue an outbox message for every active conversation matching `recipients` (a condition
    on conversation_ref), in one INSERT ... SELECT."""
    chosen = _to_conversations(literal(message_id).label("message_id"), MESSAGE, now).where(
        _REF.c.active.is_(True), _REF.c.origin != TERMINAL, recipients
    )
    columns = ["message_id", *_QUEUED_COLUMNS[1:]]
    result = await db.execute(_ND.insert().from_select(columns, chosen))
    return int(result.rowcount or 0)


async def queue_reply(db: AsyncConnection, info: ConversationInfo, body: str, now: datetime) -> int:
    """A turn's reply that Teams would not take in time: queued for its conversation (recorded
    first if the bot did not know it), for the delivery worker to send with the proactive
    messages. The number of rows queued: 0 if the conversation is no longer active."""
    await remember(db, info, now)
    conversation_id = base_conversation_id(info.conversation_id)
    message_id = await add_message(db, f"reply:{conversation_id}", body, now)
    return await enqueue_message(db, message_id, _REF.c.conversation_id == conversation_id, now)


async def message_bodies(db: AsyncConnection, ids: Sequence[int]) -> dict[int, str]:
    rows = await db.execute(select(_OUTBOX.c.id, _OUTBOX.c.body).where(_OUTBOX.c.id.in_(list(ids))))
    return {int(r.id): str(r.body) for r in rows}


async def queue_depth(db: AsyncConnection) -> int:
    """Rows waiting to be sent (for /metrics)."""
    return int((await db.execute(select(func.count()).where(_ND.c.state == PENDING))).scalar_one())


@dataclass(frozen=True, slots=True)
class DeliveryCounts:
    pending: int
    sent: int
    failed: int
    retrying: int  # pending rows that failed at least once and wait for their next try
    conversations: int  # conversations the notice was posted to (or is queued for)
    failures: tuple[tuple[str, str, str], ...]  # (conversation id, kind, why), a sample

    def as_dict(self) -> dict[str, Any]:
        return {
            "pending": self.pending,
            "sent": self.sent,
            "failed": self.failed,
            "retrying": self.retrying,
            "conversations": self.conversations,
            "failures": [{"conversation_id": c, "kind": k, "error": e} for c, k, e in self.failures],
        }


async def delivery_counts(db: AsyncConnection, incident_id: int, sample: int = 20) -> DeliveryCounts:
    rows = (
        await db.execute(
            select(
                _ND.c.state,
                _ND.c.kind,
                func.count(),
                func.sum(case((_ND.c.attempts > 0, 1), else_=0)),
            )
            .where(_ND.c.incident_id == incident_id)
            .group_by(_ND.c.state, _ND.c.kind)
        )
    ).all()
    counts = {PENDING: 0, SENT: 0, FAILED: 0}
    retrying = 0
    posts = 0
    for state, kind, count, tried in rows:
        counts[str(state)] = counts.get(str(state), 0) + int(count)
        if state == PENDING:
            retrying += int(tried or 0)
        if kind == POST:
            posts += int(count)
    failures = (
        await db.execute(
            select(_ND.c.conversation_id, _ND.c.kind, _ND.c.last_error)
            .where(_ND.c.incident_id == incident_id, _ND.c.state == FAILED)
            .order_by(_ND.c.id)
            .limit(sample)
        )
    ).all()
    return DeliveryCounts(
        pending=counts[PENDING],
        sent=counts[SENT],
        failed=counts[FAILED],
        retrying=retrying,
        conversations=posts,
        failures=tuple((str(c), str(k), str(e)) for c, k, e in failures),
    )
