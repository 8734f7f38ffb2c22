"""incident notices: conversation registry, incident updates, delivery queue

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('conversation_ref',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.String(length=512), nullable=False),
    sa.Column('service_url', sa.String(length=500), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=True),
    sa.Column('conversation_type', sa.String(length=16), nullable=False),
    sa.Column('team_id', sa.String(length=255), nullable=True),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('inactive_reason', sa.String(length=200), nullable=False),
    sa.Column('subscribed', sa.Boolean(), nullable=False),
    sa.Column('systems', sa.String(length=500), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_ref')),
    sa.UniqueConstraint('conversation_id', name=op.f('uq_conversation_ref_conversation_id'))
    )
    with op.batch_alter_table('conversation_ref', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_ref_subscribed', ['active', 'subscribed'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversation_ref_team_id'), ['team_id'], unique=False)

    op.create_table('incident_update',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_incident_update_incident_id_incident'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_update'))
    )
    with op.batch_alter_table('incident_update', schema=None) as batch_op:
        batch_op.create_index('ix_incident_update_version', ['incident_id', 'version'], unique=True)

    op.create_table('notice_delivery',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('conversation_ref_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=512), nullable=False),
    sa.Column('service_url', sa.String(length=500), nullable=False),
    sa.Column('lane', sa.String(length=64), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('available_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('activity_id', sa.String(length=255), nullable=True),
    sa.Column('rendered_version', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['conversation_ref_id'], ['conversation_ref.id'], name=op.f('fk_notice_delivery_conversation_ref_id_conversation_ref'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_notice_delivery_incident_id_incident'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_delivery'))
    )
    with op.batch_alter_table('notice_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_delivery_conversation_ref_id'), ['conversation_ref_id'], unique=False)
        batch_op.create_index('ix_notice_delivery_due', ['state', 'lane', 'available_at'], unique=False)
        batch_op.create_index('ix_notice_delivery_unique', ['incident_id', 'conversation_ref_id', 'kind', 'version'], unique=True)

    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))




def downgrade() -> None:

    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_column('version')

    with op.batch_alter_table('notice_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_notice_delivery_unique')
        batch_op.drop_index('ix_notice_delivery_due')
        batch_op.drop_index(batch_op.f('ix_notice_delivery_conversation_ref_id'))

    op.drop_table('notice_delivery')
    with op.batch_alter_table('incident_update', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_update_version')

    op.drop_table('incident_update')
    with op.batch_alter_table('conversation_ref', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_ref_team_id'))
        batch_op.drop_index('ix_conversation_ref_subscribed')

    op.drop_table('conversation_ref')

