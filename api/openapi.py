"""The OpenAPI document as the code generates it; openapi.yaml at the root is a copy of it."""

from __future__ import annotations

from pathlib import Path

import yaml

from api.app import create_app

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"


def generate() -> str:
    app = create_app(
        {
            "SECRET_KEY": "spec-generation-only-" + "x" * 32,
            "DATABASE_URL": "sqlite://",
            "DOCS_ENABLED": True,
            "ENV": "development",
        }
    )
    with app.app_context():
        spec = app.extensions["interval.api"].spec.to_dict()
    app.extensions["interval.db"].dispose()
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=100)
