"""Progress: what trends computed for each patient, kept so the clinician's panel and clinic
outcomes are SQL over whole clinics. Derived data only: api/domain/progress.py recomputes a
patient's rows whenever their check-ins, infusions or courses changed since `refreshed_at`."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import JSON, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base


class PatientProgress(Base):
    """One row a patient: their current course, its primary instrument and when the next
    unfinished measurement window closes (overdue once that has passed)."""

    __tablename__ = "patient_progress"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id"), index=True)
    course_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("courses.id"))
    primary_questionnaire: Mapped[str | None] = mapped_column(String(40))
    next_due_by: Mapped[dt.datetime | None]
    refreshed_at: Mapped[dt.datetime]


class CourseProgress(Base):
    """One row a course and instrument: baseline, latest, change, status, signals, durability."""

    __tablename__ = "course_progress"
    __table_args__ = (
        Index("ix_course_progress_clinic_id_questionnaire", "clinic_id", "questionnaire"),
    )

    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id"), primary_key=True)
    questionnaire: Mapped[str] = mapped_column(String(40), primary_key=True)
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    check_in_count: Mapped[int]
    baseline_check_in_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("check_ins.id"))
    baseline_total: Mapped[int | None]
    baseline_severity: Mapped[str | None] = mapped_column(String(40))
    baseline_source: Mapped[str | None] = mapped_column(String(20))
    latest_check_in_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("check_ins.id"))
    latest_total: Mapped[int | None]
    latest_severity: Mapped[str | None] = mapped_column(String(40))
    latest_completed_at: Mapped[dt.datetime | None]
    change_absolute: Mapped[int | None]
    change_percent: Mapped[float | None] = mapped_column(Float)
    response: Mapped[bool | None]
    remission: Mapped[bool | None]
    reliable_change: Mapped[str | None] = mapped_column(String(20))
    mcid_reached: Mapped[bool | None]
    signals: Mapped[list] = mapped_column(JSON)
    signal_count: Mapped[int]
    median_days_of_benefit: Mapped[float | None] = mapped_column(Float)


class InfusionBenefit(Base):
    """One row an infusion and instrument: the score before it and how long its benefit lasted."""

    __tablename__ = "infusion_benefits"
    __table_args__ = (
        Index("ix_infusion_benefits_clinic_id_questionnaire", "clinic_id", "questionnaire"),
        # Clinic outcomes join the cohort's courses to their benefits (docs/performance.md).
        Index("ix_infusion_benefits_course_id_questionnaire", "course_id", "questionnaire"),
    )

    infusion_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("infusions.id"), primary_key=True)
    questionnaire: Mapped[str] = mapped_column(String(40), primary_key=True)
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id"))
    number: Mapped[int]
    phase: Mapped[str] = mapped_column(String(20))
    before: Mapped[int | None]
    best_after: Mapped[int | None]
    last_after: Mapped[int | None]
    days_observed: Mapped[float | None] = mapped_column(Float)
    days_of_benefit: Mapped[float | None] = mapped_column(Float)
    still_improved: Mapped[bool | None]
