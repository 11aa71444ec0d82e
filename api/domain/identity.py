"""Sign-in, token rotation, enrollment, staff and clinics."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db import rows_affected
from api.domain.access import Actor
from api.domain.credentials import (
    MIN_PASSWORD_LENGTH,
    Passwords,
    TokenSettings,
    issue_access_token,
    new_enrollment_code,
    new_secret,
    normalize_code,
    secret_digest,
)
from api.domain.errors import Conflict, Forbidden, Invalid, Unauthorized
from api.domain.safety import crisis_card
from api.models import Clinic, EnrollmentCode, Patient, RefreshFamily, RefreshToken, User

BAD_CREDENTIALS = "The email or password is incorrect."
BAD_REFRESH = "The refresh token is invalid or has expired."
# One answer for a wrong, spent or expired code and for an email that cannot be used with it,
# so enrollment never tells whether an address has an account somewhere.
BAD_CODE = "The enrollment code is invalid or has expired, or cannot be used with this email."


@dataclass(frozen=True)
class IdentitySettings:
    passwords: Passwords
    tokens: TokenSettings
    secret_key: str
    refresh_idle: dt.timedelta
    refresh_absolute: dt.timedelta
    enrollment_lifetime: dt.timedelta
    lockout_threshold: int
    lockout_duration: dt.timedelta


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - the scheme name, not a secret


class LoginFailed(Unauthorized):
    """Wrong email, wrong password or a locked account: one answer for all three."""

    def __init__(self, *, user: User | None = None, locked_now: bool = False):
        super().__init__(BAD_CREDENTIALS)
        self.user = user
        self.locked_now = locked_now


class PasswordChangeFailed(Forbidden):
    """A well-formed request refused: the current password does not match (403, not 422)."""

    def __init__(self, *, locked_now: bool):
        super().__init__(
            "The current password is incorrect.", errors={"current_password": ["Incorrect."]}
        )
        self.locked_now = locked_now


class RefreshFailed(Unauthorized):
    """A refresh refused; `user` when the token was known (for the audit trail)."""

    def __init__(self, *, user: User | None = None, reuse: bool = False):
        super().__init__(BAD_REFRESH)
        self.user = user
        self.reuse = reuse


def normalize_email(email: str) -> str:
    return email.strip().lower()


def email_taken(session: Session, email: str) -> bool:
    """Whether an account that can sign in has this email (login takes only email and
    password, so an enrolled email names one account across all clinics)."""
    return bool(
        session.scalar(
            select(func.count()).where(User.email == email, User.password_hash.is_not(None))
        )
    )


def refuse_taken_email(session: Session, email: str) -> None:
    """For operators (the CLI), who may be told that an address is taken."""
    if email_taken(session, email):
        raise Conflict("An account with this email already exists.")


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            "The password is too short.",
            errors={"password": [f"Use at least {MIN_PASSWORD_LENGTH} characters."]},
        )


def _issue_tokens(
    session: Session,
    settings: IdentitySettings,
    *,
    user: User,
    family: RefreshFamily,
    now: dt.datetime,
) -> TokenPair:
    secret = new_secret()
    session.add(
        RefreshToken(
            family_id=family.id,
            token_hash=secret_digest(settings.secret_key, secret),
            created_at=now,
        )
    )
    session.flush()
    access = issue_access_token(settings.tokens, user_id=user.id, family_id=family.id, now=now)
    return TokenPair(access, secret, settings.tokens.lifetime_seconds)


def start_session(
    session: Session, settings: IdentitySettings, *, user: User, now: dt.datetime
) -> TokenPair:
    family = RefreshFamily(user_id=user.id, created_at=now)
    session.add(family)
    session.flush()
    return _issue_tokens(session, settings, user=user, family=family, now=now)


def login(
    session: Session, settings: IdentitySettings, *, email: str, password: str, now: dt.datetime
) -> tuple[User, TokenPair]:
    """Tokens for a correct email and password; LoginFailed otherwise.

    The caller commits before answering a failure so the failure count survives the 401.
    """
    user = session.scalar(
        select(User).where(User.email == normalize_email(email), User.password_hash.is_not(None))
    )
    if user is None or not user.is_active:
        settings.passwords.verify(None, password)  # the same cost as a real check
        raise LoginFailed(user=user)
    matches = settings.passwords.verify(user.password_hash, password)
    if is_locked(user, now):
        raise LoginFailed(user=user)
    if not matches:
        raise LoginFailed(user=user, locked_now=count_failure(user, settings, now))
    user.failed_logins = 0
    user.locked_until = None
    if user.password_hash and settings.passwords.needs_rehash(user.password_hash):
        user.password_hash = settings.passwords.hash(password)
    return user, start_session(session, settings, user=user, now=now)


def is_locked(user: User, now: dt.datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def count_failure(user: User, settings: IdentitySettings, now: dt.datetime) -> bool:
    """One more wrong password; lock the account once the threshold is reached (True then)."""
    user.failed_logins += 1
    if user.failed_logins < settings.lockout_threshold:
        return False
    user.locked_until = now + settings.lockout_duration
    user.failed_logins = 0
    return True


def revoke_family(session: Session, family_id: uuid.UUID, *, reason: str, now: dt.datetime):
    session.execute(
        update(RefreshFamily)
        .where(RefreshFamily.id == family_id, RefreshFamily.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )


def revoke_all_families(session: Session, user_id: uuid.UUID, *, reason: str, now: dt.datetime):
    session.execute(
        update(RefreshFamily)
        .where(RefreshFamily.user_id == user_id, RefreshFamily.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )


def refresh(
    session: Session, settings: IdentitySettings, *, refresh_token: str, now: dt.datetime
) -> tuple[User, TokenPair]:
    """Rotate: a new pair, the old refresh token spent. A spent token presented again revokes
    its whole family (the caller commits before answering, so the revocation sticks)."""
    digest = secret_digest(settings.secret_key, refresh_token)
    row = session.execute(
        select(RefreshToken, RefreshFamily, User)
        .join(RefreshFamily, RefreshFamily.id == RefreshToken.family_id)
        .join(User, User.id == RefreshFamily.user_id)
        .where(RefreshToken.token_hash == digest)
    ).one_or_none()
    if row is None:
        raise RefreshFailed()
    token, family, user = row
    if family.revoked_at is not None or not user.is_active:
        raise RefreshFailed(user=user)
    if token.used_at is not None:
        revoke_family(session, family.id, reason="reuse_detected", now=now)
        raise RefreshFailed(user=user, reuse=True)
    expired = (
        now - family.created_at > settings.refresh_absolute
        or now - token.created_at > settings.refresh_idle
    )
    if expired:
        revoke_family(session, family.id, reason="expired", now=now)
        raise RefreshFailed(user=user)
    # Claim the token atomically: of two concurrent refreshes only one updates the row; the
    # other sees it spent and is treated as reuse.
    claimed = rows_affected(
        session,
        update(RefreshToken)
        .where(RefreshToken.id == token.id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False),
    )
    if claimed != 1:
        revoke_family(session, family.id, reason="reuse_detected", now=now)
        raise RefreshFailed(user=user, reuse=True)
    return user, _issue_tokens(session, settings, user=user, family=family, now=now)


def logout(
    session: Session, settings: IdentitySettings, *, refresh_token: str, now: dt.datetime
) -> User | None:
    """Revoke the token's family; its user when the token was known."""
    digest = secret_digest(settings.secret_key, refresh_token)
    row = session.execute(
        select(RefreshFamily, User)
        .join(RefreshToken, RefreshToken.family_id == RefreshFamily.id)
        .join(User, User.id == RefreshFamily.user_id)
        .where(RefreshToken.token_hash == digest)
    ).one_or_none()
    if row is None:
        return None
    family, user = row
    revoke_family(session, family.id, reason="logout", now=now)
    return user


def cancel_codes(session: Session, target, *, now: dt.datetime) -> None:
    """Unused codes matching `target` stop working."""
    session.execute(
        update(EnrollmentCode)
        .where(target, EnrollmentCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )


def issue_code(
    session: Session,
    settings: IdentitySettings,
    *,
    clinic_id: uuid.UUID,
    patient_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    created_by: uuid.UUID | None,
    now: dt.datetime,
) -> tuple[str, dt.datetime]:
    """A fresh code; earlier unused codes for the same person stop working."""
    target = (
        EnrollmentCode.patient_id == patient_id
        if patient_id
        else (EnrollmentCode.user_id == user_id)
    )
    cancel_codes(session, target, now=now)
    code = new_enrollment_code()
    expires_at = now + settings.enrollment_lifetime
    session.add(
        EnrollmentCode(
            clinic_id=clinic_id,
            code_hash=secret_digest(settings.secret_key, normalize_code(code)),
            patient_id=patient_id,
            user_id=user_id,
            created_by=created_by,
            created_at=now,
            expires_at=expires_at,
        )
    )
    session.flush()
    return code, expires_at


def patient_enrollment_code(
    session: Session,
    settings: IdentitySettings,
    *,
    actor: Actor,
    patient: Patient,
    now: dt.datetime,
) -> tuple[str, dt.datetime]:
    if patient.user_id is not None:
        raise Conflict("This patient has already enrolled.")
    return issue_code(
        session,
        settings,
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        created_by=actor.user_id,
        now=now,
    )


def enroll(
    session: Session,
    settings: IdentitySettings,
    *,
    code: str,
    email: str,
    password: str,
    now: dt.datetime,
) -> tuple[User, TokenPair]:
    """Redeem a code: a patient gets a new account; an invited staff member sets a password.

    An email that already names an account answers exactly as a bad code does, and leaves the
    code unspent; a deactivated account is never reactivated by a code."""
    check_password_strength(password)
    email = normalize_email(email)
    if email_taken(session, email):
        raise Unauthorized(BAD_CODE)
    enrollment = _claim_code(session, settings, code, now)
    password_hash = settings.passwords.hash(password)
    if enrollment.user_id is not None:
        user = _invited_staff(session, enrollment, email, password_hash)
    else:
        user = _new_patient_account(session, enrollment, email, password_hash, now)
    session.flush()
    return user, start_session(session, settings, user=user, now=now)


def _claim_code(
    session: Session, settings: IdentitySettings, code: str, now: dt.datetime
) -> EnrollmentCode:
    """Claim the code atomically, so two redemptions of one code cannot both succeed."""
    digest = secret_digest(settings.secret_key, normalize_code(code))
    claimed = rows_affected(
        session,
        update(EnrollmentCode)
        .where(
            EnrollmentCode.code_hash == digest,
            EnrollmentCode.used_at.is_(None),
            EnrollmentCode.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False),
    )
    if claimed != 1:
        raise Unauthorized(BAD_CODE)
    return session.scalars(select(EnrollmentCode).where(EnrollmentCode.code_hash == digest)).one()


def _invited_staff(
    session: Session, enrollment: EnrollmentCode, email: str, password_hash: str
) -> User:
    user = session.get_one(User, enrollment.user_id)
    # Each refusal answers as a bad code: a code holder must not learn which addresses are
    # taken, and a deactivated account stays deactivated.
    if user.deactivated_at is not None or user.password_hash is not None or user.email != email:
        raise Unauthorized(BAD_CODE)
    user.password_hash = password_hash
    user.is_active = True
    return user


def _new_patient_account(
    session: Session, enrollment: EnrollmentCode, email: str, password_hash: str, now: dt.datetime
) -> User:
    patient = session.get_one(Patient, enrollment.patient_id)
    if patient.user_id is not None:
        raise Unauthorized(BAD_CODE)
    user = User(
        id=uuid.uuid4(),
        clinic_id=patient.clinic_id,
        email=email,
        display_name=patient.display_name,
        role="patient",
        password_hash=password_hash,
        is_active=True,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError:
        # The same email enrolled a moment ago, concurrently.
        raise Unauthorized(BAD_CODE) from None
    patient.user_id = user.id
    return user


def change_password(
    session: Session,
    settings: IdentitySettings,
    *,
    actor: Actor,
    current_password: str,
    new_password: str,
    now: dt.datetime,
) -> None:
    """Set a new password and sign out every session, this one included.

    A wrong current password counts toward the lockout like a failed sign-in. Reaching it also
    signs out every session, since whoever is guessing holds one of them."""
    user = session.get_one(User, actor.user_id)
    matches = settings.passwords.verify(user.password_hash, current_password)
    if is_locked(user, now) or not matches:
        locked_now = not is_locked(user, now) and count_failure(user, settings, now)
        if locked_now:
            revoke_all_families(session, user.id, reason="locked", now=now)
        raise PasswordChangeFailed(locked_now=locked_now)
    check_password_strength(new_password)
    user.password_hash = settings.passwords.hash(new_password)
    revoke_all_families(session, user.id, reason="password_changed", now=now)


def create_clinic(
    session: Session,
    settings: IdentitySettings,
    *,
    name: str,
    admin_email: str,
    admin_password: str,
    now: dt.datetime,
) -> tuple[Clinic, User]:
    check_password_strength(admin_password)
    email = normalize_email(admin_email)
    refuse_taken_email(session, email)
    clinic = Clinic(id=uuid.uuid4(), name=name, created_at=now)
    admin = User(
        id=uuid.uuid4(),
        clinic_id=clinic.id,
        email=email,
        display_name="Clinic admin",
        role="clinic_admin",
        password_hash=settings.passwords.hash(admin_password),
        is_active=True,
        created_at=now,
    )
    session.add_all([clinic, admin])
    session.flush()
    return clinic, admin


@dataclass(frozen=True)
class Profile:
    """The signed-in user, their patient record's id (patients), and their clinic's crisis
    information for the app to keep and show offline."""

    user: User
    patient_id: uuid.UUID | None
    crisis: dict


def profile(session: Session, actor: Actor) -> Profile:
    user = session.get_one(User, actor.user_id)
    return Profile(user, actor.patient_id, crisis_card(session.get(Clinic, user.clinic_id)))
