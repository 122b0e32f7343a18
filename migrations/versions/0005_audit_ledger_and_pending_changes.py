"""Audit chain covers ledger rows; changes from imported files that wait for a manager

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backoffice.db.types import UtcDateTime

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('stock_ledger', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audit_event_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_stock_ledger_audit_event_id'), ['audit_event_id'], unique=False)
    # rows written before the chain covered the ledger: 0, "not covered" (verify names none of them)
    op.execute("UPDATE stock_ledger SET audit_event_id = 0")
    op.create_table(
        'pending_package_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('package_id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=200), nullable=False),
        sa.Column('changes', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', UtcDateTime(), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('note', sa.String(length=400), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_pending_package_changes_created_by_id_users')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_pending_package_changes_decided_by_id_users')),
        sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_pending_package_changes_package_id_packages')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_package_changes')),
    )
    with op.batch_alter_table('pending_package_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_package_changes_package_id'), ['package_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_package_changes_status'), ['status'], unique=False)


def downgrade() -> None:
    op.drop_table('pending_package_changes')
    with op.batch_alter_table('stock_ledger', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_ledger_audit_event_id'))
        batch_op.drop_column('audit_event_id')
