"""Cross-cutting request handling: request ids, content types, security and caching headers,
CORS, access log."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Request, Response, current_app, g, request
from flask.sessions import NullSession, SessionInterface, SessionMixin
from flask_cors import CORS

from api import crisis
from api.auditing import finish_request
from api.context import close_request_session
from api.problems import problem
from api.smorest import route_policy

log = logging.getLogger("interval")

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
BODY_METHODS = {"POST", "PUT", "PATCH"}


def _start() -> Response | None:
    g.started = time.perf_counter()
    offered = request.headers.get("X-Request-ID", "")
    g.request_id = offered if REQUEST_ID.match(offered) else uuid.uuid4().hex
    rule = request.url_rule
    # Deny unless allowed: a view that declares no access policy is never served. OPTIONS is
    # answered by Flask itself (methods allowed) and by CORS, never by a view.
    if (
        rule is not None
        and request.method != "OPTIONS"
        and route_policy(current_app, rule.endpoint, request.method) is None
    ):
        log.error("route without access policy", extra={"endpoint": rule.endpoint})
        return problem(403, "This route is not available.", type_slug="forbidden")
    if request.method in BODY_METHODS and _has_body() and not request.is_json:
        return problem(
            415,
            "Send the body as application/json.",
            type_slug="unsupported-media-type",
        )
    return None


def _has_body() -> bool:
    return bool(request.content_length) or request.headers.get("Transfer-Encoding") == "chunked"


def _finish(response: Response) -> Response:
    response = crisis.add_to_refusal(finish_request(response))
    response.headers["X-Request-ID"] = g.get("request_id", "")
    if request.path.startswith("/v1/") and "Cache-Control" not in response.headers:
        # Every /v1 answer may hold patient data unless a view says otherwise.
        response.headers["Cache-Control"] = "no-store"
    _security_headers(response)
    actor = g.get("actor")
    log.info(
        "request",
        extra={
            "event": "request",
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(
                (time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1
            ),
            "user_id": str(actor.user_id) if actor else None,
        },
    )
    return response


def _security_headers(response: Response) -> None:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    # Data answers load nothing; the docs page runs Swagger UI's own scripts and styles.
    policy = "frame-ancestors 'none'"
    if request.endpoint not in DOCS_ENDPOINTS:
        policy = "default-src 'none'; " + policy
    headers.setdefault("Content-Security-Policy", policy)
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


DOCS_ENDPOINTS = frozenset({"api-docs.openapi_swagger_ui", "swagger_ui_asset"})
CORS_ALLOWED_HEADERS = [
    "Authorization",
    "Content-Type",
    "If-Match",
    "Idempotency-Key",
    "X-Request-ID",
]
CORS_EXPOSED_HEADERS = ["ETag", "Link", "Location", "Retry-After", "X-Request-ID"]


class NoCookieSession(SessionInterface):
    """No cookie session: every caller signs in with a bearer token, so Flask neither reads
    nor signs a session cookie on any request."""

    def open_session(self, app: Flask, request: Request) -> NullSession:
        return self.make_null_session(app)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        return None


def init_app(app: Flask) -> None:
    app.session_interface = NoCookieSession()
    app.before_request(_start)
    app.after_request(_finish)
    app.teardown_appcontext(close_request_session)
    if app.config["CORS_ORIGINS"]:
        CORS(
            app,
            origins=app.config["CORS_ORIGINS"],
            allow_headers=CORS_ALLOWED_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            supports_credentials=False,
            max_age=600,
        )
    # werkzeug's own request lines carry query strings, which can hold patient data; the
    # access log above records the path alone.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
