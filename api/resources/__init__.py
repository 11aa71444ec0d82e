"""One package per resource; MODULES orders the blueprints and the OpenAPI tags."""

from __future__ import annotations

from importlib import import_module

MODULES = (
    "auth",
    "patients",
    "questionnaires",
    "check_ins",
    "alerts",
    "courses",
    "trends",
    "clinics",
    "audit_events",
    "health",
)


def register_blueprints(api) -> None:
    for name in MODULES:
        module = import_module(f"api.resources.{name}.routes")
        api.register_blueprint(module.blp)
