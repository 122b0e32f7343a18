"""manifest line expiration date

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # the expiration date read off a package's label while receiving (bins are chosen by it)
    with op.batch_alter_table('manifest_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expiration_date', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('manifest_lines', schema=None) as batch_op:
        batch_op.drop_column('expiration_date')
