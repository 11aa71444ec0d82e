"""Clinics and their staff: the clinic's settings (crisis information, infusion flag
threshold), the staff list, invitations, deactivation and reactivation."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.domain.access import (
    Actor,
    get_clinic_staff,
    require_clinic_admin,
    require_own_clinic,
    require_staff,
)
from api.domain.courses import blood_pressure_threshold
from api.domain.errors import Conflict
from api.domain.identity import (
    IdentitySettings,
    cancel_codes,
    issue_code,
    normalize_email,
    revoke_all_families,
)
from api.domain.rules import Rules
from api.domain.safety import crisis_card
from api.models import Clinic, EnrollmentCode, User
from api.models.identity import STAFF_ROLES

# What an admin may change on the clinic (null restores a default).
CLINIC_SETTINGS = (
    "name",
    "crisis_message",
    "crisis_message_not_sent",
    "crisis_resources",
    "bp_flag_systolic",
    "bp_flag_diastolic",
)


@dataclass(frozen=True)
class ClinicRecord:
    """A clinic with the crisis information its patients are shown and the blood pressure that
    flags an infusion there (its own or the service's)."""

    clinic: Clinic
    crisis: dict
    blood_pressure_threshold: tuple[int, int]


def _record(clinic: Clinic, rules: Rules) -> ClinicRecord:
    return ClinicRecord(clinic, crisis_card(clinic), blood_pressure_threshold(clinic, rules))


def get_clinic(
    session: Session, rules: Rules, *, actor: Actor, clinic_id: uuid.UUID
) -> ClinicRecord:
    """The actor's own clinic (staff only); another clinic's id answers 404."""
    require_staff(actor)
    require_own_clinic(actor, clinic_id)
    return _record(session.get_one(Clinic, clinic_id), rules)


def update_clinic(
    session: Session, rules: Rules, *, actor: Actor, clinic_id: uuid.UUID, changes: dict
) -> ClinicRecord:
    require_clinic_admin(actor, clinic_id)
    clinic = session.get_one(Clinic, clinic_id)
    for field in CLINIC_SETTINGS:
        if field in changes:
            setattr(clinic, field, changes[field])
    session.flush()
    return _record(clinic, rules)


def list_staff(session: Session, *, actor: Actor, clinic_id: uuid.UUID) -> list[User]:
    """The clinic's clinicians and admins, by name (staff pick care-team members from it)."""
    require_staff(actor)
    require_own_clinic(actor, clinic_id)
    return list(
        session.scalars(
            select(User)
            .where(User.clinic_id == clinic_id, User.role.in_(STAFF_ROLES))
            .order_by(User.display_name, User.id)
        )
    )


def get_staff(session: Session, *, actor: Actor, clinic_id: uuid.UUID, user_id: uuid.UUID) -> User:
    """One clinician or admin of the actor's own clinic (staff only)."""
    require_staff(actor)
    require_own_clinic(actor, clinic_id)
    return get_clinic_staff(session, actor, user_id)


def invite_staff(
    session: Session,
    settings: IdentitySettings,
    *,
    actor: Actor,
    clinic_id: uuid.UUID,
    email: str,
    display_name: str,
    role: str,
    now: dt.datetime,
) -> tuple[User, str, dt.datetime]:
    """A staff account without a password, and the code that lets its owner set one.

    Only an address already on this clinic's staff is refused (the admin sees the staff list);
    an address used elsewhere is invited like any other, and its code will not redeem."""
    require_clinic_admin(actor, clinic_id)
    email = normalize_email(email)
    on_staff = session.scalar(
        select(func.count()).where(
            User.email == email, User.clinic_id == clinic_id, User.role.in_(STAFF_ROLES)
        )
    )
    if on_staff:
        raise Conflict(
            "This email is already on your clinic's staff.",
            errors={"email": ["Already on the staff list."]},
        )
    user = User(
        id=uuid.uuid4(),
        clinic_id=clinic_id,
        email=email,
        display_name=display_name,
        role=role,
        is_active=False,
        created_at=now,
    )
    session.add(user)
    session.flush()
    code, expires_at = issue_code(
        session,
        settings,
        clinic_id=clinic_id,
        user_id=user.id,
        created_by=actor.user_id,
        now=now,
    )
    return user, code, expires_at


def set_staff_active(
    session: Session,
    *,
    actor: Actor,
    clinic_id: uuid.UUID,
    user_id: uuid.UUID,
    active: bool,
    now: dt.datetime,
) -> User:
    """Deactivate (signing out every session) or reactivate a staff member of the clinic."""
    require_clinic_admin(actor, clinic_id)
    user = get_clinic_staff(session, actor, user_id)
    if user.id == actor.user_id and not active:
        raise Conflict("You cannot deactivate your own account.")
    if active and user.password_hash is None:
        raise Conflict("This person has not enrolled yet.")
    user.is_active = active
    user.deactivated_at = None if active else now
    if not active:
        revoke_all_families(session, user.id, reason="deactivated", now=now)
        cancel_codes(session, EnrollmentCode.user_id == user.id, now=now)
    return user
