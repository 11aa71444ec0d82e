"""The clinic: the tenant every patient row belongs to."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, id_column, utcnow


class Clinic(Base):
    __tablename__ = "clinics"

    id: Mapped[uuid.UUID] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Shown to a patient at once when a safety item is endorsed; null means the default. One
    # text for answers that were stored, one for answers that were not.
    crisis_message: Mapped[str | None] = mapped_column(Text)
    crisis_message_not_sent: Mapped[str | None] = mapped_column(Text)
    crisis_resources: Mapped[list | None] = mapped_column(JSON)
    # Local protocol parameter, not a standard: an infusion whose peak blood pressure reaches
    # either number is flagged. Null means the service default (INFUSION_BP_THRESHOLD).
    bp_flag_systolic: Mapped[int | None]
    bp_flag_diastolic: Mapped[int | None]
