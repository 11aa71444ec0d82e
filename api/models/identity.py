"""Users, refresh-token families and enrollment codes."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, id_column, utcnow

ROLES = ("patient", "clinician", "clinic_admin")
STAFF_ROLES = ("clinician", "clinic_admin")


ENROLLED = "password_hash IS NOT NULL"


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('patient', 'clinician', 'clinic_admin')", name="role"),
        # An email names one account that can sign in. Invitations not yet redeemed may share
        # an address with an account elsewhere, so inviting never reveals that it exists.
        Index(
            "uq_users_email_enrolled",
            "email",
            unique=True,
            sqlite_where=text(ENROLLED),
            postgresql_where=text(ENROLLED),
        ),
        Index("ix_users_email", "email"),
    )

    id: Mapped[uuid.UUID] = id_column()
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    # Null until the user sets a password by enrolling.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=False)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Set when an admin deactivates the account; nothing but reactivation clears it.
    deactivated_at: Mapped[dt.datetime | None]


class RefreshFamily(Base):
    """One login session: every refresh token rotated from one login shares a family."""

    __tablename__ = "refresh_families"

    id: Mapped[uuid.UUID] = id_column()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(40))


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = id_column()
    family_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("refresh_families.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Set when the token is exchanged; a second exchange is reuse.
    used_at: Mapped[dt.datetime | None]


class EnrollmentCode(Base):
    """A single-use code that lets a patient or an invited staff member set a password."""

    __tablename__ = "enrollment_codes"
    __table_args__ = (
        CheckConstraint(
            "(patient_id IS NOT NULL) <> (user_id IS NOT NULL)", name="patient_or_user"
        ),
        Index("ix_enrollment_codes_patient_id", "patient_id"),
    )

    id: Mapped[uuid.UUID] = id_column()
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    patient_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patients.id"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
