"""Check-ins: one completed questionnaire each, never edited or deleted."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, load_only, mapped_column

from api.db import Base, id_column


class CheckIn(Base):
    __tablename__ = "check_ins"
    __table_args__ = (
        # The id is the device's own UUID, so a retried upload meets its first copy here;
        # the Idempotency-Key is unique per patient for clients that send one.
        UniqueConstraint("patient_id", "idempotency_key"),
        Index("ix_check_ins_patient_id_completed_at", "patient_id", "completed_at"),
        # Whether a patient's progress is stale (progress.is_stale): one probe each, not a read
        # of every check-in they ever sent.
        Index("ix_check_ins_patient_id_received_at", "patient_id", "received_at"),
        Index(
            "ix_check_ins_patient_id_entered_in_error_at",
            "patient_id",
            "entered_in_error_at",
            sqlite_where=text("entered_in_error_at IS NOT NULL"),
            postgresql_where=text("entered_in_error_at IS NOT NULL"),
        ),
        CheckConstraint("status IN ('final', 'entered_in_error')", name="status"),
        CheckConstraint("source IN ('patient', 'clinic')", name="source"),
    )

    id: Mapped[uuid.UUID] = id_column()
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    questionnaire: Mapped[str] = mapped_column(String(40))
    questionnaire_version: Mapped[str] = mapped_column(String(20))
    answers: Mapped[dict] = mapped_column(JSON)
    total: Mapped[int]
    severity: Mapped[str] = mapped_column(String(40))
    subscales: Mapped[dict] = mapped_column(JSON)
    flags: Mapped[list] = mapped_column(JSON)
    completed_at: Mapped[dt.datetime]
    # The device's UTC offset, so the time reads back as the patient saw it.
    completed_offset_minutes: Mapped[int]
    received_at: Mapped[dt.datetime]
    late: Mapped[bool]
    status: Mapped[str] = mapped_column(String(20), default="final")
    source: Mapped[str] = mapped_column(String(10))
    entered_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    body_hash: Mapped[str] = mapped_column(String(64))
    entered_in_error_at: Mapped[dt.datetime | None]
    entered_in_error_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    entered_in_error_reason: Mapped[str | None] = mapped_column(Text)


# A loader option for reading many check-ins' scores (progress, what is due): the answers and
# details stay in the database; touching them raises instead of loading row by row.
SCORES_ONLY = load_only(
    CheckIn.id,
    CheckIn.patient_id,
    CheckIn.questionnaire,
    CheckIn.total,
    CheckIn.severity,
    CheckIn.completed_at,
    CheckIn.completed_offset_minutes,
    raiseload=True,
)
