"""check-ins by arrival: whether a patient's progress is stale is one index probe per patient
(the panel of 200 on a clinic of 1,000 read every check-in of every patient: 46 ms)

Revision ID: 8b1f4e2c7d95
Revises: 5f2a8c4d9e13
Create Date: 2026-12-07 06:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "8b1f4e2c7d95"
down_revision = "5f2a8c4d9e13"
branch_labels = None
depends_on = None

ENTERED_IN_ERROR = sa.text("entered_in_error_at IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_check_ins_patient_id_received_at", "check_ins", ["patient_id", "received_at"]
    )
    op.create_index(
        "ix_check_ins_patient_id_entered_in_error_at",
        "check_ins",
        ["patient_id", "entered_in_error_at"],
        sqlite_where=ENTERED_IN_ERROR,
        postgresql_where=ENTERED_IN_ERROR,
    )


def downgrade() -> None:
    op.drop_index("ix_check_ins_patient_id_entered_in_error_at", table_name="check_ins")
    op.drop_index("ix_check_ins_patient_id_received_at", table_name="check_ins")
