"""One package per resource; MODULES orders the blueprints and the OpenAPI tags. A module's
`SCHEMAS` (name → JSON Schema) join the document's components."""

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
    "fhir",
    "audit_events",
    "health",
)


def register_blueprints(api) -> None:
    for name in MODULES:
        module = import_module(f"api.resources.{name}.routes")
        # Schemas written as JSON Schema rather than marshmallow (FHIR's resources).
        for schema_name, schema in getattr(module, "SCHEMAS", {}).items():
            api.spec.components.schema(schema_name, schema)
        api.register_blueprint(module.blp)
