"""SQLAlchemy 2 typed models: the catalogue (programmes, tasks, events), the municipalities
with their statuses, incidents, and the bot's conversation state."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.domain import TaskState, TaskStatus
from storage.limits import CappedText, FittedId

# Stable constraint names, so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which has no time zones) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _enum(cls: type[Any], name: str) -> Enum:
    # Stored by value (the lowercase words), checked by a CHECK constraint, not a PG enum type,
    # so adding a value later is a plain migration on both databases.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Municipality(Base):
    __tablename__ = "municipality"

    code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class Tenant(Base):
    """An Azure AD tenant whose users speak for a municipality."""

    __tablename__ = "tenant"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    municipality_code: Mapped[int] = mapped_column(
        ForeignKey("municipality.code", ondelete="CASCADE"), index=True
    )
    municipality: Mapped[Municipality] = relationship(lazy="joined")


class Programme(Base):
    __tablename__ = "programme"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")


class Task(Base):
    __tablename__ = "task"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    programme_id: Mapped[str] = mapped_column(ForeignKey("programme.id"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    mandatory: Mapped[bool] = mapped_column(Boolean, default=False)
    critical_path: Mapped[bool] = mapped_column(Boolean, default=False)
    # Either a fixed deadline, or a rule by which the municipality sets its own.
    deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    deadline_rule: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[TaskState] = mapped_column(_enum(TaskState, "task_state"), index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    # Other words people use for the task ("kontaktpunkt", "contact point"), for loose matching.
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What a municipality says when it has done the task ("skemaet er sendt til KDI").
    completion_signals: Mapped[list[str]] = mapped_column(JSON, default=list)

    programme: Mapped[Programme] = relationship(lazy="joined")


class CatalogueVersion(Base):
    """One row: bumped by every catalogue import, so each instance knows when to rebuild the
    vocabulary its understanding uses (dialogs/lexicon.py) without reloading it every turn."""

    __tablename__ = "catalogue_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class MunicipalityTaskStatus(Base):
    """One municipality's status on one task: exactly one row per pair once the task is active."""

    __tablename__ = "task_status"

    municipality_code: Mapped[int] = mapped_column(
        ForeignKey("municipality.code", ondelete="CASCADE"), primary_key=True
    )
    task_id: Mapped[str] = mapped_column(
        ForeignKey("task.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    status: Mapped[TaskStatus] = mapped_column(_enum(TaskStatus, "task_status_value"))
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Who made the last change, for the card's "Fuldført af Mette, 24/1 10:12".
    changed_by_name: Mapped[str] = mapped_column(CappedText(200), default="", server_default="")
    # Bumped by every change: a change made against an older version is refused, not lost.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Who in the municipality is responsible for the task (a name; the AAD id when it is the sender).
    responsible_name: Mapped[str] = mapped_column(CappedText(200), default="", server_default="")
    responsible_aad_id: Mapped[str | None] = mapped_column(FittedId(64), nullable=True)


class StatusChange(Base):
    """The history of a municipality's status on a task: who, when, old -> new, from where."""

    __tablename__ = "status_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    municipality_code: Mapped[int] = mapped_column(ForeignKey("municipality.code", ondelete="CASCADE"))
    task_id: Mapped[str] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"))
    old_status: Mapped[TaskStatus | None] = mapped_column(
        _enum(TaskStatus, "status_change_old"), nullable=True
    )
    new_status: Mapped[TaskStatus] = mapped_column(_enum(TaskStatus, "status_change_new"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The Teams user (channel account id), their Azure AD object id and display name.
    user_id: Mapped[str] = mapped_column(FittedId(200), default="")
    aad_object_id: Mapped[str | None] = mapped_column(FittedId(64), nullable=True)
    user_name: Mapped[str] = mapped_column(CappedText(200), default="")
    tenant_id: Mapped[str | None] = mapped_column(FittedId(64), nullable=True)
    # text (free text), card (a button), import (a KLIK export)
    source: Mapped[str] = mapped_column(String(16))

    __table_args__ = (
        Index("ix_status_change_municipality_task", "municipality_code", "task_id", "changed_at"),
    )


class Event(Base):
    __tablename__ = "event"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    # What kind of event it is, for "the next programledermøde": programledermoede, workshop, ...
    kind: Mapped[str] = mapped_column(String(64), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    audience: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(300), default="")
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    registration_url: Mapped[str] = mapped_column(String(500), default="")
    registration_note: Mapped[str] = mapped_column(Text, default="")
    registration_deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Raised whenever the event moves (slot times change) or is cancelled or reinstated: with the
    # stable UID (storage.catalogue_import.event_uid) it is the iCalendar SEQUENCE (RFC 5545).
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    slots: Mapped[list[EventSlot]] = relationship(
        back_populates="event",
        order_by="EventSlot.starts_at",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class EventSlot(Base):
    """One occurrence of an event: programme-leader meetings have two slots a month."""

    __tablename__ = "event_slot"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Only the dates are known ("Den 21. maj i Aarhus"): shown without times.
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    location: Mapped[str] = mapped_column(String(300), default="")
    sold_out: Mapped[bool] = mapped_column(Boolean, default=False)
    registration_url: Mapped[str] = mapped_column(String(500), default="")

    event: Mapped[Event] = relationship(back_populates="slots")


class Incident(Base):
    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    affected_systems: Mapped[list[str]] = mapped_column(JSON, default=list)
    severity: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(32), default="investigating")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    latest_update: Mapped[str] = mapped_column(Text, default="")
    # Bumped by every update: each version is delivered (posted or edited in place) once.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class BotState(Base):
    """The bot's conversation and user state, a key-value store with eTags."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    etag: Mapped[str] = mapped_column(String(64))


class ConversationRef(Base):
    """A Teams conversation the bot is installed in (team channel, group chat or personal chat),
    with what it needs for proactive messages and whether it subscribes to incident notices."""

    __tablename__ = "conversation_ref"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # A conversation id longer than the column is stored as its hash (storage.limits), the
    # whole id beside it in bot_state (storage.subscriptions).
    conversation_id: Mapped[str] = mapped_column(FittedId(512), unique=True)
    service_url: Mapped[str] = mapped_column(String(500))
    tenant_id: Mapped[str | None] = mapped_column(FittedId(64), nullable=True)
    conversation_type: Mapped[str] = mapped_column(String(16))  # personal, channel, groupChat
    team_id: Mapped[str | None] = mapped_column(FittedId(255), nullable=True, index=True)
    channel: Mapped[str] = mapped_column(FittedId(32), default="msteams")  # the Bot Framework channel
    # Who vouched for service_url: channel, noauth, terminal, unknown (storage/subscriptions.py).
    origin: Mapped[str] = mapped_column(String(16), default="unknown", server_default="unknown")
    lang: Mapped[str] = mapped_column(String(8), default="da")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    inactive_reason: Mapped[str] = mapped_column(String(200), default="")
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    # Only notices about these systems, upper-cased between bars ("|SAPA|BBR|"); empty: every notice.
    systems: Mapped[str] = mapped_column(String(500), default="")
    # Gets "Ny KLIK-opgave" cards (task news) when its tenant speaks for a municipality.
    news: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_conversation_ref_subscribed", "active", "subscribed"),)


class IncidentUpdate(Base):
    """One version of an incident notice: the announcement (version 1) and each update."""

    __tablename__ = "incident_update"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(CappedText(200), default="")

    __table_args__ = (Index("ix_incident_update_version", "incident_id", "version", unique=True),)


class OutboxMessage(Base):
    """A proactive message other than an incident notice (task news, reminders), rendered once
    per audience (municipality and language) and delivered through notice_delivery."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(200))  # what it is about: "news:12:630:da"
    body: Mapped[str] = mapped_column(Text)  # the reply as JSON (dialogs.model.Reply)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NoticeDelivery(Base):
    """The durable delivery queue: one row per (notice version, conversation, kind), sent once.

    kind: post (the card, version 1), update (edit the card in place), reply (the resolution's
    short reply in the card's thread) for incident notices; message (an outbox message: task
    news, a reminder). A worker claims a row by setting claimed_by/lease_until; a claim whose
    lease ran out (the worker died) is claimed again by another worker.
    """

    __tablename__ = "notice_delivery"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), nullable=True
    )
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="CASCADE"), nullable=True
    )
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))
    conversation_ref_id: Mapped[int] = mapped_column(
        ForeignKey("conversation_ref.id", ondelete="CASCADE"), index=True
    )
    # Copied from the conversation when queued, so a claim returns everything a send needs.
    conversation_id: Mapped[str] = mapped_column(String(512))
    service_url: Mapped[str] = mapped_column(String(500))
    lane: Mapped[str] = mapped_column(String(64), default="")  # the tenant: rate limits are per tenant
    lang: Mapped[str] = mapped_column(String(8), default="da")
    state: Mapped[str] = mapped_column(String(8), default="pending")  # pending, sent, failed
    available_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    activity_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    rendered_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(String(500), default="")

    __table_args__ = (
        Index(
            "ix_notice_delivery_unique", "incident_id", "conversation_ref_id", "kind", "version", unique=True
        ),
        Index("ix_notice_delivery_due", "state", "lane", "available_at"),
        Index("ix_notice_delivery_message", "message_id", "conversation_ref_id", unique=True),
    )


class TaskNews(Base):
    """News about a task for the municipalities, recorded by the catalogue import in the same
    transaction as the change that caused it, and sent later ("Ny KLIK-opgave" cards).

    kind: new (the task became active), deadline_changed (an active task's deadline moved).
    At most one pending row per (task, kind): a second change before sending updates it.
    """

    __tablename__ = "task_news"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    old_deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (Index("ix_task_news_pending", "sent_at", "task_id", "kind"),)


class ReminderSetting(Base):
    """A conversation's reminders: which are on, when, in which time zone; and when the planner
    looks next (next_run_at, claimed with FOR UPDATE SKIP LOCKED) and last looked (last_run_at:
    occasions after it and up to now are due)."""

    __tablename__ = "reminder_setting"

    conversation_ref_id: Mapped[int] = mapped_column(
        ForeignKey("conversation_ref.id", ondelete="CASCADE"), primary_key=True
    )
    deadlines: Mapped[bool] = mapped_column(Boolean, default=False)
    deadline_days: Mapped[str] = mapped_column(String(40), default="7,1")
    events: Mapped[bool] = mapped_column(Boolean, default=False)
    digest: Mapped[bool] = mapped_column(Boolean, default=False)
    digest_weekday: Mapped[int] = mapped_column(Integer, default=0)
    digest_minute: Mapped[int] = mapped_column(Integer, default=480)
    send_minute: Mapped[int] = mapped_column(Integer, default=480)
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Copenhagen")
    last_run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_reminder_setting_next_run", "next_run_at"),)


class ReminderSent(Base):
    """What a conversation has been reminded of (an occasion key), so nothing is sent twice.
    Written in the transaction that queues the message."""

    __tablename__ = "reminder_sent"

    conversation_ref_id: Mapped[int] = mapped_column(
        ForeignKey("conversation_ref.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
