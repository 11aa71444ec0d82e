"""progress read model: what trends computed per patient, course and infusion, for the panel
and clinic outcomes; courses.changed_at tells when a course's patient must be recomputed

Revision ID: e8e407e27e66
Revises: 5f2a9c1d7e34
Create Date: 2026-11-29 09:47:36.266353
"""

import sqlalchemy as sa
from alembic import op

revision = "e8e407e27e66"
down_revision = "5f2a9c1d7e34"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "course_progress",
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("questionnaire", sa.String(length=40), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("check_in_count", sa.Integer(), nullable=False),
        sa.Column("baseline_check_in_id", sa.Uuid(), nullable=True),
        sa.Column("baseline_total", sa.Integer(), nullable=True),
        sa.Column("baseline_severity", sa.String(length=40), nullable=True),
        sa.Column("baseline_source", sa.String(length=20), nullable=True),
        sa.Column("latest_check_in_id", sa.Uuid(), nullable=True),
        sa.Column("latest_total", sa.Integer(), nullable=True),
        sa.Column("latest_severity", sa.String(length=40), nullable=True),
        sa.Column("latest_completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("change_absolute", sa.Integer(), nullable=True),
        sa.Column("change_percent", sa.Float(), nullable=True),
        sa.Column("response", sa.Boolean(), nullable=True),
        sa.Column("remission", sa.Boolean(), nullable=True),
        sa.Column("reliable_change", sa.String(length=20), nullable=True),
        sa.Column("mcid_reached", sa.Boolean(), nullable=True),
        sa.Column("signals", sa.JSON(), nullable=False),
        sa.Column("signal_count", sa.Integer(), nullable=False),
        sa.Column("median_days_of_benefit", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["baseline_check_in_id"],
            ["check_ins.id"],
            name=op.f("fk_course_progress_baseline_check_in_id_check_ins"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_course_progress_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_course_progress_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["latest_check_in_id"],
            ["check_ins.id"],
            name=op.f("fk_course_progress_latest_check_in_id_check_ins"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_course_progress_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("course_id", "questionnaire", name=op.f("pk_course_progress")),
    )
    op.create_index(
        "ix_course_progress_clinic_id_questionnaire",
        "course_progress",
        ["clinic_id", "questionnaire"],
        unique=False,
    )
    op.create_index(
        op.f("ix_course_progress_patient_id"), "course_progress", ["patient_id"], unique=False
    )
    op.create_table(
        "patient_progress",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=True),
        sa.Column("primary_questionnaire", sa.String(length=40), nullable=True),
        sa.Column("next_due_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_patient_progress_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_patient_progress_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_patient_progress_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_patient_progress")),
    )
    op.create_index(
        op.f("ix_patient_progress_clinic_id"), "patient_progress", ["clinic_id"], unique=False
    )
    op.create_table(
        "infusion_benefits",
        sa.Column("infusion_id", sa.Uuid(), nullable=False),
        sa.Column("questionnaire", sa.String(length=40), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(length=20), nullable=False),
        sa.Column("before", sa.Integer(), nullable=True),
        sa.Column("best_after", sa.Integer(), nullable=True),
        sa.Column("last_after", sa.Integer(), nullable=True),
        sa.Column("days_observed", sa.Float(), nullable=True),
        sa.Column("days_of_benefit", sa.Float(), nullable=True),
        sa.Column("still_improved", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_infusion_benefits_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_infusion_benefits_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["infusion_id"],
            ["infusions.id"],
            name=op.f("fk_infusion_benefits_infusion_id_infusions"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_infusion_benefits_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("infusion_id", "questionnaire", name=op.f("pk_infusion_benefits")),
    )
    op.create_index(
        "ix_infusion_benefits_clinic_id_questionnaire",
        "infusion_benefits",
        ["clinic_id", "questionnaire"],
        unique=False,
    )
    op.create_index(
        op.f("ix_infusion_benefits_patient_id"), "infusion_benefits", ["patient_id"], unique=False
    )
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE courses SET changed_at = created_at")
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.alter_column(
            "changed_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_column("changed_at")
    op.drop_index(op.f("ix_infusion_benefits_patient_id"), table_name="infusion_benefits")
    op.drop_index("ix_infusion_benefits_clinic_id_questionnaire", table_name="infusion_benefits")
    op.drop_table("infusion_benefits")
    op.drop_index(op.f("ix_patient_progress_clinic_id"), table_name="patient_progress")
    op.drop_table("patient_progress")
    op.drop_index(op.f("ix_course_progress_patient_id"), table_name="course_progress")
    op.drop_index("ix_course_progress_clinic_id_questionnaire", table_name="course_progress")
    op.drop_table("course_progress")
