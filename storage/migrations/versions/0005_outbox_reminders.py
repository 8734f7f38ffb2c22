"""outbox messages (task news, reminders), task news subscription, reminder settings

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
    )
    op.create_table(
        "reminder_sent",
        sa.Column("conversation_ref_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_ref_id"],
            ["conversation_ref.id"],
            name=op.f("fk_reminder_sent_conversation_ref_id_conversation_ref"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_ref_id", "key", name=op.f("pk_reminder_sent")),
    )
    op.create_table(
        "reminder_setting",
        sa.Column("conversation_ref_id", sa.Integer(), nullable=False),
        sa.Column("deadlines", sa.Boolean(), nullable=False),
        sa.Column("deadline_days", sa.String(length=40), nullable=False),
        sa.Column("events", sa.Boolean(), nullable=False),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("digest_weekday", sa.Integer(), nullable=False),
        sa.Column("digest_minute", sa.Integer(), nullable=False),
        sa.Column("send_minute", sa.Integer(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_ref_id"],
            ["conversation_ref.id"],
            name=op.f("fk_reminder_setting_conversation_ref_id_conversation_ref"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_ref_id", name=op.f("pk_reminder_setting")),
    )
    with op.batch_alter_table("reminder_setting", schema=None) as batch_op:
        batch_op.create_index("ix_reminder_setting_next_run", ["next_run_at"], unique=False)

    with op.batch_alter_table("conversation_ref", schema=None) as batch_op:
        batch_op.add_column(sa.Column("news", sa.Boolean(), server_default=sa.true(), nullable=False))
    # Existing conversations get task news where they get incident notices (as new ones do):
    # not the channels a team unsubscribed, not the conversations that said "afmeld".
    op.execute("UPDATE conversation_ref SET news = subscribed")

    with op.batch_alter_table("notice_delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_id", sa.Integer(), nullable=True))
        batch_op.alter_column("incident_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index("ix_notice_delivery_message", ["message_id", "conversation_ref_id"], unique=True)
        batch_op.create_foreign_key(
            batch_op.f("fk_notice_delivery_message_id_outbox_message"),
            "outbox_message",
            ["message_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    op.execute("DELETE FROM notice_delivery WHERE incident_id IS NULL")
    with op.batch_alter_table("notice_delivery", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_notice_delivery_message_id_outbox_message"), type_="foreignkey")
        batch_op.drop_index("ix_notice_delivery_message")
        batch_op.alter_column("incident_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("message_id")

    with op.batch_alter_table("conversation_ref", schema=None) as batch_op:
        batch_op.drop_column("news")

    with op.batch_alter_table("reminder_setting", schema=None) as batch_op:
        batch_op.drop_index("ix_reminder_setting_next_run")

    op.drop_table("reminder_setting")
    op.drop_table("reminder_sent")
    op.drop_table("outbox_message")
