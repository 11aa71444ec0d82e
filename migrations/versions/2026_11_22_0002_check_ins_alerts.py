"""check-ins and alerts

Revision ID: bccff17cb1dd
Revises: ce8741239818
Create Date: 2026-11-22 04:06:07.236194
"""

import sqlalchemy as sa
from alembic import op

revision = "bccff17cb1dd"
down_revision = "ce8741239818"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "check_ins",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("questionnaire", sa.String(length=40), nullable=False),
        sa.Column("questionnaire_version", sa.String(length=20), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=40), nullable=False),
        sa.Column("subscales", sa.JSON(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_offset_minutes", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("entered_by", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("entered_in_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entered_in_error_by", sa.Uuid(), nullable=True),
        sa.Column("entered_in_error_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("source IN ('patient', 'clinic')", name=op.f("ck_check_ins_source")),
        sa.CheckConstraint(
            "status IN ('final', 'entered_in_error')", name=op.f("ck_check_ins_status")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_check_ins_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["entered_by"], ["users.id"], name=op.f("fk_check_ins_entered_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["entered_in_error_by"],
            ["users.id"],
            name=op.f("fk_check_ins_entered_in_error_by_users"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_check_ins_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_ins")),
        sa.UniqueConstraint(
            "patient_id", "idempotency_key", name=op.f("uq_check_ins_patient_id_idempotency_key")
        ),
    )
    with op.batch_alter_table("check_ins", schema=None) as batch_op:
        batch_op.create_index(
            "ix_check_ins_patient_id_completed_at", ["patient_id", "completed_at"], unique=False
        )

    op.create_table(
        "alerts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("check_in_id", sa.Uuid(), nullable=False),
        sa.Column("questionnaire", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("priority_rank", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.Uuid(), nullable=True),
        sa.Column("acknowledged_note", sa.Text(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.Uuid(), nullable=True),
        sa.Column("resolved_note", sa.Text(), nullable=True),
        sa.CheckConstraint("priority IN ('urgent', 'high')", name=op.f("ck_alerts_priority")),
        sa.CheckConstraint(
            "status IN ('open', 'acknowledged', 'resolved')", name=op.f("ck_alerts_status")
        ),
        sa.ForeignKeyConstraint(
            ["acknowledged_by"], ["users.id"], name=op.f("fk_alerts_acknowledged_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["check_in_id"], ["check_ins.id"], name=op.f("fk_alerts_check_in_id_check_ins")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_alerts_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_alerts_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"], ["users.id"], name=op.f("fk_alerts_resolved_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index("ix_alerts_clinic_id_status", ["clinic_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(
            "uq_alerts_patient_id_kind_questionnaire_open",
            ["patient_id", "kind", "questionnaire"],
            unique=True,
            sqlite_where=sa.text("status = 'open' AND kind <> 'suicidal_ideation'"),
            postgresql_where=sa.text("status = 'open' AND kind <> 'suicidal_ideation'"),
        )

    op.create_table(
        "alert_occurrences",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("check_in_id", sa.Uuid(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_alert_occurrences_alert_id_alerts")
        ),
        sa.ForeignKeyConstraint(
            ["check_in_id"],
            ["check_ins.id"],
            name=op.f("fk_alert_occurrences_check_in_id_check_ins"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_alert_occurrences_clinic_id_clinics")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_occurrences")),
    )
    with op.batch_alter_table("alert_occurrences", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alert_occurrences_alert_id"), ["alert_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_alert_occurrences_check_in_id"), ["check_in_id"], unique=False
        )

    with op.batch_alter_table("clinics", schema=None) as batch_op:
        batch_op.add_column(sa.Column("crisis_message", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("crisis_resources", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clinics", schema=None) as batch_op:
        batch_op.drop_column("crisis_resources")
        batch_op.drop_column("crisis_message")

    with op.batch_alter_table("alert_occurrences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_occurrences_check_in_id"))
        batch_op.drop_index(batch_op.f("ix_alert_occurrences_alert_id"))

    op.drop_table("alert_occurrences")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_alerts_patient_id_kind_questionnaire_open",
            sqlite_where=sa.text("status = 'open' AND kind <> 'suicidal_ideation'"),
            postgresql_where=sa.text("status = 'open' AND kind <> 'suicidal_ideation'"),
        )
        batch_op.drop_index(batch_op.f("ix_alerts_patient_id"))
        batch_op.drop_index("ix_alerts_clinic_id_status")

    op.drop_table("alerts")
    with op.batch_alter_table("check_ins", schema=None) as batch_op:
        batch_op.drop_index("ix_check_ins_patient_id_completed_at")

    op.drop_table("check_ins")
