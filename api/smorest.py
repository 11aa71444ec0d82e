"""Our Api, Blueprint and Schema: problem+json errors and access policies documented in the spec."""

from __future__ import annotations

import http
import logging
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

import flask_smorest
import marshmallow as ma
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import request
from flask_smorest.utils import prepare_response
from redis.exceptions import RedisError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from api import dumping
from api.auditing import start_note
from api.auth import authenticate
from api.domain.courses import IfMatch
from api.domain.errors import DomainError, Forbidden, PreconditionFailed
from api.domain.safety import DEFAULT_RESOURCES, NOT_SENT_MESSAGE
from api.parsing import StrictParser
from api.problems import (
    PROBLEM_CONTENT_TYPE,
    domain_problem_body,
    problem,
    problem_response,
    validation_errors,
)

log = logging.getLogger("interval")

PUBLIC = "public"
ANY_USER = "any_user"


class Schema(ma.Schema):
    """Base schema: unknown fields are refused, output keeps declaration order, and dumping
    takes the short way of api/dumping.py."""

    class Meta:
        unknown = ma.RAISE
        ordered = True

    def _serialize(self, obj: Any, *, many: bool = False) -> Any:
        # Planned again if the fields change (a copy made by Nested(only=…) re-inits them).
        planned_for, steps = self.__dict__.get("_dump_steps", (None, None))
        if planned_for is not self.dump_fields:
            steps = dumping.plan(self)
            self._dump_steps = (self.dump_fields, steps)
        if steps is None:
            return super()._serialize(obj, many=many)
        if many and obj is not None:
            dumped: Any = [dumping.serialize(steps, item) for item in obj]
        else:
            dumped = dumping.serialize(steps, obj)
        if dumping.VERIFY:
            dumping.check(dumped, super()._serialize(obj, many=many))
        return dumped


dumping.OWN_SERIALIZE.add(Schema._serialize)


# Crisis information: on a stored check-in whose answers endorse a safety item, and on any
# refusal of one (so it lives with the problem schema).
class ResourceSchema(Schema):
    name = ma.fields.String(required=True)
    phone = ma.fields.String()
    sms = ma.fields.String()
    url = ma.fields.String()
    note = ma.fields.String()


class SafetySchema(Schema):
    answers_sent = ma.fields.Boolean(
        required=True,
        metadata={
            "description": "true: the answers were stored and the care team will see them; "
            "false: they were NOT sent (say so)"
        },
    )
    message = ma.fields.String(required=True)
    resources = ma.fields.List(ma.fields.Nested(ResourceSchema), required=True)


class ProblemSchema(Schema):
    type = ma.fields.String(
        required=True, metadata={"description": "Problem type, a URI reference"}
    )
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(required=True)
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Field path → messages, for validation problems"},
    )
    request_id = ma.fields.String()
    safety = ma.fields.Nested(
        SafetySchema,
        metadata={
            "description": "On a refused check-in whose answers endorse a safety item: the "
            "crisis message and resources to show at once (as on a stored check-in)"
        },
    )


def problem_example(status: http.HTTPStatus) -> dict:
    """An example problem of this status, as the service writes one (a refused check-in for
    422)."""
    example: dict = {"type": "about:blank", "title": status.phrase, "status": int(status)}
    example["detail"] = status.phrase
    example["request_id"] = "8d0c3f1e5b7a4c29a1e6f0b2d4c8e7a1"
    if status == 422:
        example |= REFUSED_CHECK_IN
    return example


# A refused check-in whose answers endorse item 9: the crisis information says they were not
# sent (the default resources; a clinic may set its own).
REFUSED_CHECK_IN = {
    "type": "/problems/validation-error",
    "title": "Invalid request",
    "detail": "Some answers are missing or out of range.",
    "errors": {"answers.9": ["Must be one of [0, 1, 2, 3]."]},
    "safety": {
        "answers_sent": False,
        "message": NOT_SENT_MESSAGE,
        "resources": DEFAULT_RESOURCES,
    },
}


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ProblemSchema

    def __init__(self, app=None, *, spec_kwargs=None):
        spec_kwargs = dict(spec_kwargs or {})
        spec_kwargs.setdefault("marshmallow_plugin", MarshmallowPlugin())
        super().__init__(app, spec_kwargs=spec_kwargs)

    def init_app(self, app, *, spec_kwargs=None):
        super().init_app(app, spec_kwargs=spec_kwargs)
        self.spec.components.security_scheme(
            "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        )
        app.register_error_handler(DomainError, handle_domain_error)
        app.register_error_handler(IntegrityError, handle_integrity_error)
        app.register_error_handler(StaleDataError, handle_stale_data)
        app.register_error_handler(OperationalError, handle_database_unavailable)
        app.register_error_handler(DataError, handle_refused_value)
        app.register_error_handler(RedisError, handle_rate_limit_store_unavailable)
        app.register_error_handler(Exception, handle_unexpected_error)

    def _register_responses(self):
        """Every documented error is problem+json."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                response["example"] = problem_example(status)
                prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            if status in (429, 503):
                response["headers"] = {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}
            self.spec.components.response(status.name, response, lazy=True)
        response = {
            "description": "Error (RFC 9457 problem)",
            "schema": self.ERROR_SCHEMA,
            "example": problem_example(http.HTTPStatus.INTERNAL_SERVER_ERROR),
        }
        prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def handle_http_exception(self, error: HTTPException):
        data = getattr(error, "data", None) or {}
        status = error.code or 500
        if status == 500:
            return handle_unexpected_error(error)
        errors = validation_errors(data) if status in (400, 422) and data else None
        detail: str | None
        if status == 422:
            detail = "The request did not validate; see errors."
        elif errors:
            detail = next(iter(errors.values()))[0]
        else:
            detail = data.get("message") or error.description
        slug = "validation-error" if status == 422 else http.HTTPStatus(status).name.lower()
        # The exception's own headers (a 405's Allow) and any a view attached.
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        headers.update(data.get("headers") or {})
        return problem(
            status, detail, type_slug=slug.replace("_", "-"), errors=errors, headers=headers
        )


def handle_domain_error(error: DomainError):
    return problem_response(domain_problem_body(error), error.headers)


def handle_integrity_error(error: IntegrityError):
    log.info("integrity conflict", extra={"event": "integrity_conflict"})
    return problem(409, "The request conflicts with stored data.", type_slug="conflict")


def handle_stale_data(error: StaleDataError):
    # Two writers read the same version; the other one's change landed first.
    return handle_domain_error(PreconditionFailed())


def handle_database_unavailable(error: OperationalError):
    log.error("database unavailable", extra={"event": "database_unavailable"})
    return problem(
        503,
        "The database is unavailable; retry later.",
        type_slug="unavailable",
        headers={"Retry-After": "5"},
    )


def handle_refused_value(error: DataError):
    # The database refused a value the parser let through (say, a number out of its range);
    # the message is not echoed, as it may quote the value.
    log.info("value refused by the database", extra={"event": "data_error"})
    return problem(422, "A value in the request cannot be stored.", type_slug="validation-error")


def handle_rate_limit_store_unavailable(error: RedisError):
    log.error("rate-limit store unavailable", extra={"event": "redis_unavailable"})
    return problem(
        503,
        "The service is briefly unavailable; retry later.",
        type_slug="unavailable",
        headers={"Retry-After": "5"},
    )


def handle_unexpected_error(error: BaseException):
    # Log the exception type and traceback, never the request body.
    log.error("unhandled exception", exc_info=error, extra={"event": "unhandled_exception"})
    return problem(500, "An unexpected error occurred.", type_slug="internal-error")


def mark(view: Callable, **attributes: object) -> Callable:
    """Set attributes our hooks read on a view (its access policy, its audit action)."""
    for name, value in attributes.items():
        setattr(view, name, value)
    return view


class Blueprint(flask_smorest.Blueprint):
    """A blueprint whose views each declare who may call them."""

    ARGUMENTS_PARSER = StrictParser()

    def arguments(self, schema, *args, **kwargs) -> Callable:
        """flask-smorest's `arguments`, with a schema class made an instance once: webargs
        would make one for every request (loading keeps no state on it)."""
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)

    def public(self, func: Callable) -> Callable:
        """Anyone may call this view, signed in or not."""
        return mark(func, _access=PUBLIC)

    def auth(self, *roles: str) -> Callable:
        """Require a valid access token; with roles, only those roles (others get 403)."""

        def decorator(func: Callable) -> Callable:
            @wraps(func)
            def wrapper(*args, **kwargs):
                actor = authenticate()
                if roles and actor.role not in roles:
                    raise Forbidden("Your role may not do this.")
                return func(*args, **kwargs)

            view = mark(wrapper, _access=roles or ANY_USER)
            view = self.doc(security=[{"bearerAuth": []}])(view)
            view = self.alt_response(401, response="UNAUTHORIZED")(view)
            if roles:
                view = self.alt_response(403, response="FORBIDDEN")(view)
            return view

        return decorator

    def crisis_information_on_refusal(self, func: Callable) -> Callable:
        """A check-in submission: any refusal of answers that endorse a safety item carries
        crisis information worded for answers that were not sent."""
        return mark(func, _crisis_on_refusal=True)

    def if_match_required(self, func: Callable) -> Callable:
        """Document the optimistic-concurrency contract of an update: If-Match with the ETag
        you read; 428 without it, 412 when stale."""
        func = self.doc(parameters=[IF_MATCH_DOC])(func)
        func = self.alt_response(412, response="PRECONDITION_FAILED")(func)
        return self.alt_response(428, response="PRECONDITION_REQUIRED")(func)


def audited(action: str, resource_type: str | None = None) -> Callable:
    """Record one audit event for each call of this view, whatever its outcome."""

    def decorator(func):
        @wraps(func)
        def wrapper(*args, **kwargs):
            start_note(action, resource_type)
            return func(*args, **kwargs)

        return mark(wrapper, _audit=action)

    return decorator


# flask-smorest's documentation views carry no attribute of ours; they are public by design.
FRAMEWORK_PUBLIC_ENDPOINTS = frozenset({"api-docs.openapi_json", "api-docs.openapi_swagger_ui"})


def view_attribute(app, endpoint: str | None, method: str, name: str):
    """An attribute our decorators set on the view that serves this endpoint and method."""
    view = app.view_functions.get(endpoint)
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        # HEAD is answered by GET, as Flask itself does.
        view = getattr(view_class, "get" if method == "HEAD" else method.lower(), None)
    return getattr(view, name, None)


def route_policy(app, endpoint: str, method: str):
    """The access policy a view declared (PUBLIC, ANY_USER or a tuple of roles), or None."""
    if endpoint in FRAMEWORK_PUBLIC_ENDPOINTS:
        return PUBLIC
    return view_attribute(app, endpoint, method, "_access")


def etag(version: int) -> str:
    return f'"{version}"'


def if_match() -> IfMatch | None:
    """What If-Match names; None when the header is absent."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    tags = [tag.strip() for tag in header.split(",")]
    if "*" in tags:
        return IfMatch(any=True)
    # Strong comparison: a weak tag (W/"3") or one we never issue matches nothing.
    return IfMatch(versions=frozenset(int(t[1:-1]) for t in tags if STRONG_ETAG.fullmatch(t)))


STRONG_ETAG = re.compile(r'"[0-9]{1,18}"')


IF_MATCH_DOC = {
    "in": "header",
    "name": "If-Match",
    "required": True,
    "schema": {"type": "string"},
    "description": "The ETag from your last read (or several, or `*` for whatever is current); "
    "428 without it, 412 when none matches.",
}
