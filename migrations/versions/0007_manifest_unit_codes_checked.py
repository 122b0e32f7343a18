"""receiving: when a manifest's Retail ID unit codes were fetched

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # the packages METRC lists no unit codes for are flagged from the stored codes once this is
    # set, so the flags outlive the window that fetched them (and the CLI sees them too)
    with op.batch_alter_table('manifests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_codes_checked_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('manifests', schema=None) as batch_op:
        batch_op.drop_column('unit_codes_checked_at')
