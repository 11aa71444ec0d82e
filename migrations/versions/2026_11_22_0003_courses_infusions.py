"""courses and infusions

Revision ID: 797dce575b00
Revises: bccff17cb1dd
Create Date: 2026-11-22 04:17:13.962804
"""

import sqlalchemy as sa
from alembic import op

revision = "797dce575b00"
down_revision = "bccff17cb1dd"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "courses",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("indications", sa.JSON(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("induction_infusions", sa.Integer(), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("status IN ('active', 'completed')", name=op.f("ck_courses_status")),
        sa.CheckConstraint(
            "induction_infusions BETWEEN 1 AND 20", name=op.f("ck_courses_induction_infusions")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_courses_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_courses_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_courses_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses")),
    )
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_courses_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(
            "uq_courses_patient_id_active",
            ["patient_id"],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )

    op.create_table(
        "infusions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=True),
        sa.Column("administered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dose_mg_per_kg", sa.Float(), nullable=True),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("blood_pressure", sa.JSON(), nullable=True),
        sa.Column("heart_rate", sa.Integer(), nullable=True),
        sa.Column("dissociation", sa.Integer(), nullable=True),
        sa.Column("cadss_total", sa.Integer(), nullable=True),
        sa.Column("side_effects", sa.JSON(), nullable=False),
        sa.Column("serious_side_effects", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("phase_override", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "phase_override IS NULL OR phase_override IN ('induction', 'maintenance')",
            name=op.f("ck_infusions_phase_override"),
        ),
        sa.CheckConstraint(
            "status <> 'completed' OR administered_at IS NOT NULL",
            name=op.f("ck_infusions_completed_has_time"),
        ),
        sa.CheckConstraint(
            "status IN ('scheduled', 'completed', 'cancelled')", name=op.f("ck_infusions_status")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_infusions_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_infusions_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_infusions_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_infusions_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_infusions")),
    )
    with op.batch_alter_table("infusions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_infusions_course_id_status_administered_at",
            ["course_id", "status", "administered_at"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_infusions_patient_id"), ["patient_id"], unique=False)

    with op.batch_alter_table("clinics", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bp_flag_systolic", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("bp_flag_diastolic", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clinics", schema=None) as batch_op:
        batch_op.drop_column("bp_flag_diastolic")
        batch_op.drop_column("bp_flag_systolic")

    with op.batch_alter_table("infusions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_infusions_patient_id"))
        batch_op.drop_index("ix_infusions_course_id_status_administered_at")

    op.drop_table("infusions")
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_courses_patient_id_active",
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )
        batch_op.drop_index(batch_op.f("ix_courses_patient_id"))

    op.drop_table("courses")
