"""The application factory: config → database → Api → identity → blueprints → questionnaires."""

from __future__ import annotations

import datetime as dt
from importlib.util import find_spec
from pathlib import Path
from typing import cast

from flask import Flask, send_from_directory
from flask.json.provider import DefaultJSONProvider
from werkzeug.middleware.proxy_fix import ProxyFix

from api import config as config_module
from api import hooks, logs
from api.db import Database
from api.domain.credentials import Passwords, TokenSettings
from api.domain.identity import IdentitySettings
from api.domain.pagination import CursorCodec
from api.domain.registry import DEFAULT_DIRECTORY, load_registry
from api.domain.rules import Rules, parse_blood_pressure
from api.ratelimit import RateLimits
from api.resources import register_blueprints
from api.smorest import PUBLIC, Api, mark
from api.spec import InterfacePlugin

API_VERSION = "1.0.0"


def openapi_settings(docs_enabled: bool) -> dict:
    settings = {
        "API_TITLE": "Interval",
        "API_VERSION": API_VERSION,
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": "/" if docs_enabled else None,
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        "OPENAPI_SWAGGER_UI_URL": "/docs/static/",
        "API_SPEC_OPTIONS": {
            "info": {
                "description": (
                    "Outcome tracking for IV ketamine clinics. Errors are RFC 9457 "
                    "application/problem+json; lists use cursor pagination. No text may "
                    "contain a NUL character or an unpaired surrogate (they cannot be "
                    "stored): such a request is refused with 422."
                )
            },
            "servers": [{"url": "/"}],
        },
    }
    return settings


def build_identity_settings(config: dict) -> IdentitySettings:
    return IdentitySettings(
        passwords=Passwords(
            time_cost=config["ARGON2_TIME_COST"],
            memory_kib=config["ARGON2_MEMORY_KIB"],
            parallelism=config["ARGON2_PARALLELISM"],
        ),
        tokens=TokenSettings(
            key=config["SECRET_KEY"],
            issuer=config["JWT_ISSUER"],
            audience=config["JWT_AUDIENCE"],
            lifetime_seconds=min(config["ACCESS_TOKEN_SECONDS"], 900),
        ),
        secret_key=config["SECRET_KEY"],
        refresh_idle=dt.timedelta(seconds=config["REFRESH_IDLE_SECONDS"]),
        refresh_absolute=dt.timedelta(seconds=config["REFRESH_ABSOLUTE_SECONDS"]),
        enrollment_lifetime=dt.timedelta(seconds=config["ENROLLMENT_CODE_SECONDS"]),
        lockout_threshold=config["LOCKOUT_THRESHOLD"],
        lockout_duration=dt.timedelta(seconds=config["LOCKOUT_SECONDS"]),
    )


def create_app(config: dict | None = None) -> Flask:
    """The application: config → database → Api → identity → blueprints."""
    settings = config_module.load(config)
    app = Flask(__name__, instance_path=settings["INSTANCE_DIR"], static_folder=None)
    app.config.update(settings)
    app.config.update(openapi_settings(settings["DOCS_ENABLED"]))
    cast(DefaultJSONProvider, app.json).sort_keys = False
    logs.configure(settings.get("LOG_LEVEL", "INFO"))
    if settings["TRUSTED_PROXIES"]:
        proxies = settings["TRUSTED_PROXIES"]
        # Flask's documented way to wrap the WSGI application.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies
        )

    database = Database(settings["DATABASE_URL"])
    app.extensions["interval.db"] = database
    app.extensions["interval.identity"] = build_identity_settings(settings)
    app.extensions["interval.cursors"] = CursorCodec(settings["SECRET_KEY"])
    app.extensions["interval.rate_limits"] = RateLimits(
        storage_uri=settings["REDIS_URL"] or "memory://",
        per_address=settings["RATE_LIMIT_PER_ADDRESS"],
        per_account=settings["RATE_LIMIT_PER_ACCOUNT"],
        check_ins=settings["CHECK_IN_RATE_LIMIT"],
        password_checks=settings["RATE_LIMIT_PASSWORD_CHECKS"],
    )

    # Refuses to start, naming the file and the problem, if any definition is invalid.
    registry = load_registry(Path(settings.get("QUESTIONNAIRES_DIR") or DEFAULT_DIRECTORY))
    app.extensions["interval.questionnaires"] = registry
    app.extensions["interval.rules"] = Rules(
        registry,
        in_chair_grace=dt.timedelta(minutes=settings["IN_CHAIR_GRACE_MINUTES"]),
        blood_pressure_threshold=parse_blood_pressure(settings["INFUSION_BP_THRESHOLD"]),
    )
    api = Api(app, spec_kwargs={"extra_plugins": [InterfacePlugin(app)]})
    app.extensions["interval.api"] = api
    hooks.init_app(app)
    register_blueprints(api)
    if settings["DOCS_ENABLED"]:
        _serve_swagger_assets(app)
    return app


# The package's static files only: finding the package does not import its framework glue.
SWAGGER_UI_FILES = Path(cast(str, find_spec("swagger_ui").origin)).parent / "static"  # type: ignore[union-attr]


def _serve_swagger_assets(app: Flask) -> None:
    """Swagger UI 5 (it reads OpenAPI 3.1) from the swagger-ui-py package's files, so /docs
    works without a CDN."""

    @app.route("/docs/static/<path:filename>")
    def swagger_ui_asset(filename: str):
        return send_from_directory(SWAGGER_UI_FILES, filename, max_age=3600)

    mark(swagger_ui_asset, _access=PUBLIC)
