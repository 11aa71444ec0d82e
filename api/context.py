"""What a request reaches through the application: its database session, the questionnaire
registry, identity settings, rate limits and timeline settings. The Flask-bound side of the
service; the domain receives these as arguments and never imports this module."""

from __future__ import annotations

import datetime as dt

from flask import current_app, g
from sqlalchemy.orm import Session

from api.domain.identity import IdentitySettings
from api.domain.pagination import CursorCodec
from api.domain.registry import Registry
from api.domain.rules import Rules
from api.ratelimit import RateLimits


def request_session() -> Session:
    """The session of the current request, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["interval.db"].session()
    return g.db_session


def close_request_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def rules() -> Rules:
    """The clinical rules this deployment runs with (registry, in-chair grace, thresholds)."""
    return current_app.extensions["interval.rules"]


def questionnaire_registry() -> Registry:
    """The validated questionnaire definitions loaded at start-up."""
    return current_app.extensions["interval.questionnaires"]


def identity_settings() -> IdentitySettings:
    return current_app.extensions["interval.identity"]


def rate_limits() -> RateLimits:
    return current_app.extensions["interval.rate_limits"]


def cursors() -> CursorCodec:
    return current_app.extensions["interval.cursors"]


def in_chair_grace() -> dt.timedelta:
    """How soon after an infusion's start a check-in still counts as before it."""
    return dt.timedelta(minutes=current_app.config["IN_CHAIR_GRACE_MINUTES"])
