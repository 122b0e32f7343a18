"""METRC v2: outbox chunk progress, METRC package mirror and drift runs, Retail ID codes

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backoffice.db.types import Quantity, UtcDateTime

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('metrc_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sent_elements', sa.Integer(), server_default='0', nullable=False))
    op.create_table(
        'metrc_package_mirror',
        sa.Column('tag', sa.String(length=24), nullable=False),
        sa.Column('quantity', Quantity(), nullable=False),
        sa.Column('unit', sa.String(length=20), nullable=False),
        sa.Column('location', sa.String(length=120), nullable=False),
        sa.Column('sublocation', sa.String(length=120), nullable=True),
        sa.Column('on_hold', sa.Boolean(), nullable=False),
        sa.Column('on_recall', sa.Boolean(), nullable=False),
        sa.Column('lab_state', sa.String(length=40), nullable=False),
        sa.Column('finished', sa.Boolean(), nullable=False),
        sa.Column('last_modified', UtcDateTime(), nullable=True),
        sa.Column('fetched_at', UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('tag', name=op.f('pk_metrc_package_mirror')),
    )
    op.create_table(
        'metrc_drift_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('started_at', UtcDateTime(), nullable=False),
        sa.Column('finished_at', UtcDateTime(), nullable=False),
        sa.Column('full', sa.Boolean(), nullable=False),
        sa.Column('fetched', sa.Integer(), nullable=False),
        sa.Column('compared', sa.Integer(), nullable=False),
        sa.Column('differences', sa.Integer(), nullable=False),
        sa.Column('by_user_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['by_user_id'], ['users.id'], name=op.f('fk_metrc_drift_runs_by_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_metrc_drift_runs')),
    )
    op.create_table(
        'retail_id_codes',
        sa.Column('short_code', sa.String(length=40), nullable=False),
        sa.Column('url', sa.String(length=300), nullable=False),
        sa.Column('tag', sa.String(length=24), nullable=False),
        sa.Column('fetched_at', UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('short_code', name=op.f('pk_retail_id_codes')),
    )
    op.create_index(op.f('ix_retail_id_codes_tag'), 'retail_id_codes', ['tag'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_retail_id_codes_tag'), table_name='retail_id_codes')
    op.drop_table('retail_id_codes')
    op.drop_table('metrc_drift_runs')
    op.drop_table('metrc_package_mirror')
    with op.batch_alter_table('metrc_outbox', schema=None) as batch_op:
        batch_op.drop_column('sent_elements')
