"""count METRC agreement and METRC fixes from count lines

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # METRC agreement per count, frozen at submit beside the physical accuracy figures
    with op.batch_alter_table('count_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('metrc_lines_compared', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('metrc_lines_agreeing', sa.Integer(), nullable=True))
    # corrections sent to METRC from a count line (missing receipt, METRC-only adjustment)
    op.create_table('count_metrc_fixes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=24), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('quantity_delta', sa.BigInteger(), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.Column('reason', sa.String(length=80), nullable=True),
    sa.Column('receipt_number', sa.String(length=40), nullable=True),
    sa.Column('note', sa.String(length=400), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['outbox_id'], ['metrc_outbox.id'], name=op.f('fk_count_metrc_fixes_outbox_id_metrc_outbox')),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_count_metrc_fixes_package_id_packages')),
    sa.ForeignKeyConstraint(['session_id'], ['count_sessions.id'],
                            name=op.f('fk_count_metrc_fixes_session_id_count_sessions')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_count_metrc_fixes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_count_metrc_fixes'))
    )
    with op.batch_alter_table('count_metrc_fixes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_count_metrc_fixes_session_id'), ['session_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('count_metrc_fixes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_count_metrc_fixes_session_id'))
    op.drop_table('count_metrc_fixes')
    with op.batch_alter_table('count_sessions', schema=None) as batch_op:
        batch_op.drop_column('metrc_lines_agreeing')
        batch_op.drop_column('metrc_lines_compared')
