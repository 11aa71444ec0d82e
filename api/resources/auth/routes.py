"""Sign-in, token refresh, sign-out, enrollment and the current user."""

from __future__ import annotations

from flask import request

from api.auditing import note, persist_on_failure
from api.auth import current_actor
from api.context import identity_settings, rate_limits, request_session
from api.db import utcnow
from api.domain import identity
from api.models import User
from api.resources.auth.schemas import (
    EnrollSchema,
    LoginSchema,
    MeSchema,
    PasswordChangeSchema,
    RefreshSchema,
    TokenSchema,
)
from api.resources.links import location
from api.smorest import Blueprint, audited

blp = Blueprint("auth", __name__, url_prefix="/v1", description="Sign-in and tokens")


def _limit(scope: str, account: str) -> None:
    rate_limits().hit(scope, address=request.remote_addr, account=account)


def _note_user(user: User) -> None:
    note(actor_id=user.id, actor_role=user.role, clinic_id=user.clinic_id, resource_id=user.id)


@blp.route("/auth/login", methods=["POST"])
@audited("auth.login", "user")
@blp.public
@blp.arguments(LoginSchema)
@blp.response(200, TokenSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def login(args):
    """Sign in with email and password"""
    _limit("login", args["email"])
    session = request_session()
    try:
        user, tokens = identity.login(
            session,
            identity_settings(),
            email=args["email"],
            password=args["password"],
            now=utcnow(),
        )
    except identity.LoginFailed as failure:
        if failure.user is not None:
            _note_user(failure.user)
        if failure.locked_now:
            note(extra_action="auth.lockout")
        # Keep the failure count even though the answer is an error.
        persist_on_failure()
        raise
    _note_user(user)
    return tokens


@blp.route("/auth/refresh", methods=["POST"])
@audited("auth.refresh", "user")
@blp.public
@blp.arguments(RefreshSchema)
@blp.response(200, TokenSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
def refresh(args):
    """Exchange a refresh token for a new pair; the old refresh token stops working"""
    session = request_session()
    try:
        user, tokens = identity.refresh(
            session, identity_settings(), refresh_token=args["refresh_token"], now=utcnow()
        )
    except identity.RefreshFailed as failure:
        if failure.user is not None:
            _note_user(failure.user)
        if failure.reuse:
            note(extra_action="auth.refresh_reuse_detected")
        # A detected reuse revokes the family; that must stick although the answer is 401.
        persist_on_failure()
        raise
    _note_user(user)
    return tokens


@blp.route("/auth/logout", methods=["POST"])
@audited("auth.logout", "user")
@blp.public
@blp.arguments(RefreshSchema)
@blp.response(204)
def logout(args):
    """Sign out: the refresh token's whole family stops working"""
    user = identity.logout(
        request_session(), identity_settings(), refresh_token=args["refresh_token"], now=utcnow()
    )
    if user is not None:
        _note_user(user)


@blp.route("/auth/enroll", methods=["POST"])
@audited("auth.enroll", "user")
@blp.public
@blp.arguments(EnrollSchema)
@blp.response(201, TokenSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def enroll(args):
    """Redeem an enrollment code: set a password and sign in"""
    _limit("enroll", args["email"])
    # Each code is tried a limited number of times, whatever email comes with it.
    rate_limits().hit_secret("enroll", args["code"])
    user, tokens = identity.enroll(
        request_session(),
        identity_settings(),
        code=args["code"],
        email=args["email"],
        password=args["password"],
        now=utcnow(),
    )
    _note_user(user)
    return tokens, location("/v1/me")


@blp.route("/me", methods=["GET"])
@blp.auth()
@blp.response(200, MeSchema)
def me():
    """The signed-in user, and the clinic's crisis information for the app to keep offline"""
    found = identity.profile(request_session(), current_actor())
    return {
        "user_id": found.user.id,
        "email": found.user.email,
        "display_name": found.user.display_name,
        "role": found.user.role,
        "clinic_id": found.user.clinic_id,
        "patient_id": found.patient_id,
        "crisis": found.crisis,
    }


@blp.route("/me/password", methods=["POST"])
@audited("auth.password_change", "user")
@blp.auth()
@blp.arguments(PasswordChangeSchema)
@blp.response(204)
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def change_password(args):
    """Change your password; every session, this one included, is signed out"""
    actor = current_actor()
    note(resource_id=actor.user_id)
    _limit("password", str(actor.user_id))
    try:
        identity.change_password(
            request_session(),
            identity_settings(),
            actor=actor,
            current_password=args["current_password"],
            new_password=args["new_password"],
            now=utcnow(),
        )
    except identity.PasswordChangeFailed as failure:
        if failure.locked_now:
            note(extra_action="auth.lockout")
        # A wrong current password counts toward the lockout, as a failed sign-in does.
        persist_on_failure()
        raise
