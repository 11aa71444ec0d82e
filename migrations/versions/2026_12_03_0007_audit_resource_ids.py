"""audit resource ids: a batch's one audit event lists every check-in it stored or replayed

Revision ID: 5f2a8c4d9e13
Revises: 3c9d1e6a2b70
Create Date: 2026-12-03 20:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "5f2a8c4d9e13"
down_revision = "3c9d1e6a2b70"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("resource_ids", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("audit_events", "resource_ids")
