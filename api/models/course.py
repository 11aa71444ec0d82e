"""Treatment courses and their infusions."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, id_column


class Course(Base):
    __tablename__ = "courses"
    __table_args__ = (
        # At most one active course per patient, enforced by the database.
        Index(
            "uq_courses_patient_id_active",
            "patient_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        CheckConstraint("status IN ('active', 'completed')", name="status"),
        CheckConstraint("induction_infusions BETWEEN 1 AND 20", name="induction_infusions"),
    )
    id: Mapped[uuid.UUID] = id_column()
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    indications: Mapped[list] = mapped_column(JSON)
    started_on: Mapped[dt.date] = mapped_column(Date)
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    induction_infusions: Mapped[int] = mapped_column(default=6)
    # Null: the default plan for the indications (api.domain.schedule).
    plan: Mapped[list | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="active")
    # Instants derived from the dates in the patient's time zone, kept with every change:
    # check-ins from window_start (30 days before the start) belong to this course.
    starts_at: Mapped[dt.datetime]
    window_start: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    # When the course last changed: its patient's progress is recomputed after it.
    changed_at: Mapped[dt.datetime]
    # Optimistic locking: every UPDATE names the version it read (the ETag).
    version: Mapped[int] = mapped_column()
    __mapper_args__ = {"version_id_col": version}


class Infusion(Base):
    __tablename__ = "infusions"
    __table_args__ = (
        Index(
            "ix_infusions_course_id_status_administered_at",
            "course_id",
            "status",
            "administered_at",
        ),
        CheckConstraint("status IN ('scheduled', 'completed', 'cancelled')", name="status"),
        CheckConstraint(
            "phase_override IS NULL OR phase_override IN ('induction', 'maintenance')",
            name="phase_override",
        ),
        CheckConstraint(
            "status <> 'completed' OR administered_at IS NOT NULL", name="completed_has_time"
        ),
    )
    id: Mapped[uuid.UUID] = id_column()
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id"))
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    scheduled_for: Mapped[dt.datetime | None]
    administered_at: Mapped[dt.datetime | None]
    dose_mg_per_kg: Mapped[float | None] = mapped_column(Float)
    duration_minutes: Mapped[int | None]
    # {"before": [systolic, diastolic], "peak": [...], "after": [...]}
    blood_pressure: Mapped[dict | None] = mapped_column(JSON)
    heart_rate: Mapped[int | None]
    dissociation: Mapped[int | None]
    cadss_total: Mapped[int | None]
    side_effects: Mapped[list] = mapped_column(JSON, default=list)
    serious_side_effects: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str | None] = mapped_column(Text)
    phase_override: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[dt.datetime]
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime]
    version: Mapped[int] = mapped_column()
    __mapper_args__ = {"version_id_col": version}
