"""where each conversation_ref row came from (who vouched for its service URL)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Rows written before this revision get "unknown": with Bot Framework credentials the bot sends to
them only at Microsoft's Teams service hosts until an authenticated activity from the
conversation marks them "channel". Rows `klikbot chat` wrote (channel "terminal") get "terminal"
and are never sent to over the network.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversation_ref", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(length=16), server_default="unknown", nullable=False))
    op.execute("UPDATE conversation_ref SET origin = 'terminal' WHERE channel = 'terminal'")


def downgrade() -> None:
    with op.batch_alter_table("conversation_ref", schema=None) as batch_op:
        batch_op.drop_column("origin")
