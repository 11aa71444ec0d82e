"""One package per resource; MODULES orders the blueprints and the OpenAPI tags."""

from __future__ import annotations

import datetime as dt
from importlib import import_module

from flask import current_app

from api.domain.questionnaires import Registry

MODULES = (
    "auth",
    "patients",
    "questionnaires",
    "check_ins",
    "alerts",
    "courses",
    "clinics",
    "audit_events",
    "health",
)


def register_blueprints(api) -> None:
    for name in MODULES:
        module = import_module(f"api.resources.{name}.routes")
        api.register_blueprint(module.blp)


def questionnaire_registry() -> Registry:
    """The validated questionnaire definitions loaded at start-up."""
    return current_app.extensions["interval.questionnaires"]


def in_chair_grace() -> dt.timedelta:
    """How soon after an infusion's start a check-in still counts as before it."""
    return dt.timedelta(minutes=current_app.config["IN_CHAIR_GRACE_MINUTES"])
