"""The append-only audit trail."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_clinic_id_occurred_at", "clinic_id", "occurred_at"),
        Index("ix_audit_events_patient_id", "patient_id"),
    )

    # Integer on SQLite so it autoincrements as the rowid; BIGINT identity on PostgreSQL.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # No foreign keys: the trail outlives what it describes and names failed attempts too.
    actor_id: Mapped[uuid.UUID | None]
    actor_role: Mapped[str | None] = mapped_column(String(20))
    clinic_id: Mapped[uuid.UUID | None]
    patient_id: Mapped[uuid.UUID | None]
    patient_ids: Mapped[list[str] | None] = mapped_column(JSON)
    action: Mapped[str] = mapped_column(String(60))
    resource_type: Mapped[str | None] = mapped_column(String(40))
    resource_id: Mapped[str | None] = mapped_column(String(64))
    # Set when a request touched several records (a batch's stored check-ins).
    resource_ids: Mapped[list[str] | None] = mapped_column(JSON)
    outcome: Mapped[int]
    request_id: Mapped[str | None] = mapped_column(String(64))
    client_address: Mapped[str | None] = mapped_column(String(64))
