"""Patients and their care teams."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, id_column, utcnow


class Patient(Base):
    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("clinic_id", "mrn"),)

    id: Mapped[uuid.UUID] = id_column()
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id"), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    mrn: Mapped[str | None] = mapped_column(String(64))
    birth_year: Mapped[int | None]
    timezone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CareTeamMember(Base):
    """A clinician assigned to a patient; clinic_id is kept for tenant-scoped queries."""

    __tablename__ = "care_team_members"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id"))
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    added_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
