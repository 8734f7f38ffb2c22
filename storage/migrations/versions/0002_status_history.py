"""status history, versions and responsibility

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('status_change',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('municipality_code', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=64), nullable=False),
    sa.Column('old_status', sa.Enum('ikke_paabegyndt', 'paabegyndt', 'fuldfoert', 'ikke_aktiv', name='status_change_old', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('new_status', sa.Enum('ikke_paabegyndt', 'paabegyndt', 'fuldfoert', 'ikke_aktiv', name='status_change_new', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.String(length=200), nullable=False),
    sa.Column('aad_object_id', sa.String(length=64), nullable=True),
    sa.Column('user_name', sa.String(length=200), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['municipality_code'], ['municipality.code'], name=op.f('fk_status_change_municipality_code_municipality'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_status_change_task_id_task'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_change'))
    )
    with op.batch_alter_table('status_change', schema=None) as batch_op:
        batch_op.create_index('ix_status_change_municipality_task', ['municipality_code', 'task_id', 'changed_at'], unique=False)

    with op.batch_alter_table('task_status', schema=None) as batch_op:
        batch_op.add_column(sa.Column('changed_by_name', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('responsible_name', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('responsible_aad_id', sa.String(length=64), nullable=True))




def downgrade() -> None:

    with op.batch_alter_table('task_status', schema=None) as batch_op:
        batch_op.drop_column('responsible_aad_id')
        batch_op.drop_column('responsible_name')
        batch_op.drop_column('version')
        batch_op.drop_column('changed_by_name')

    with op.batch_alter_table('status_change', schema=None) as batch_op:
        batch_op.drop_index('ix_status_change_municipality_task')

    op.drop_table('status_change')

