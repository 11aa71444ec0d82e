"""The current actor: bearer-token authentication for each request."""

from __future__ import annotations

from flask import g, request
from sqlalchemy import bindparam, select

from api.auditing import note
from api.context import identity_settings, request_session
from api.domain.access import Actor
from api.domain.credentials import decode_access_token
from api.domain.errors import Unauthorized
from api.models import Patient, RefreshFamily, User


def bearer_token() -> str:
    """The token from the Authorization header, the only place a token is read from."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("A bearer access token is required.")
    return token.strip()


# Built once: the statement is the same for every request, only its parameters differ.
SIGNED_IN = (
    select(User.id, User.role, User.clinic_id, User.is_active, RefreshFamily.revoked_at, Patient.id)
    .join(RefreshFamily, RefreshFamily.user_id == User.id)
    .outerjoin(Patient, Patient.user_id == User.id)
    .where(User.id == bindparam("user_id"), RefreshFamily.id == bindparam("family_id"))
)


def authenticate() -> Actor:
    """Verify the access token, then check the user is active and the session not revoked."""
    claims = decode_access_token(identity_settings().tokens, bearer_token())
    row = (
        request_session()
        .execute(SIGNED_IN, {"user_id": claims.user_id, "family_id": claims.family_id})
        .one_or_none()
    )
    if row is None:
        raise Unauthorized("The access token is invalid or has expired.")
    user_id, role, clinic_id, is_active, revoked_at, patient_id = row
    if not is_active or revoked_at is not None:
        raise Unauthorized("The access token is invalid or has expired.")
    actor = Actor(
        user_id=user_id,
        role=role,
        clinic_id=clinic_id,
        patient_id=patient_id,
        family_id=claims.family_id,
    )
    g.actor = actor
    note(actor=actor)
    return actor


def current_actor() -> Actor:
    return g.actor
