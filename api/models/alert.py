"""Alerts raised by check-ins, and each check-in that (re)triggered one."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, id_column

ALERT_KINDS = ("suicidal_ideation", "severe_symptoms", "reliable_deterioration")
ALERT_PRIORITIES = ("urgent", "high", "normal")  # the inbox's order
ALERT_STATUSES = ("open", "acknowledged", "resolved")
MERGEABLE_OPEN = "status = 'open' AND kind <> 'suicidal_ideation'"


def one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        # At most one open, mergeable alert per patient, kind and instrument: concurrent
        # triggers meet here and merge instead of duplicating.
        Index(
            "uq_alerts_patient_id_kind_questionnaire_open",
            "patient_id",
            "kind",
            "questionnaire",
            unique=True,
            sqlite_where=text(MERGEABLE_OPEN),
            postgresql_where=text(MERGEABLE_OPEN),
        ),
        Index("ix_alerts_clinic_id_status", "clinic_id", "status"),
        CheckConstraint(one_of("status", ALERT_STATUSES), name="status"),
        CheckConstraint(one_of("priority", ALERT_PRIORITIES), name="priority"),
    )

    id: Mapped[uuid.UUID] = id_column()
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    check_in_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("check_ins.id"))
    questionnaire: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(40))
    priority: Mapped[str] = mapped_column(String(10))
    # 0 for urgent, 1 for high, 2 for normal: the inbox sorts on it.
    priority_rank: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default="open")
    raised_at: Mapped[dt.datetime]
    completed_at: Mapped[dt.datetime]
    received_at: Mapped[dt.datetime]
    # When the latest triggering check-in arrived: a merged occurrence moves the alert up.
    last_received_at: Mapped[dt.datetime]
    # What a deterioration alert compared with: the course baseline at the time.
    baseline_check_in_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("check_ins.id"))
    baseline_total: Mapped[int | None]
    baseline_source: Mapped[str | None] = mapped_column(String(20))
    acknowledged_at: Mapped[dt.datetime | None]
    acknowledged_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_note: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[dt.datetime | None]
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    resolved_note: Mapped[str | None] = mapped_column(Text)


class AlertOccurrence(Base):
    __tablename__ = "alert_occurrences"

    id: Mapped[uuid.UUID] = id_column()
    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alerts.id"), index=True)
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id"))
    check_in_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("check_ins.id"), index=True)
    total: Mapped[int]
    completed_at: Mapped[dt.datetime]
    received_at: Mapped[dt.datetime]
