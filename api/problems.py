"""RFC 9457 problem bodies and responses: every error the service answers has this shape."""

from __future__ import annotations

import http

from flask import Response, g, json

from api.domain.errors import DomainError

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_body(
    status: int,
    detail: str | None = None,
    *,
    type_slug: str | None = None,
    title: str | None = None,
    errors: dict | None = None,
) -> dict:
    """The JSON of an RFC 9457 problem (also used inside 207 batch results)."""
    phrase = http.HTTPStatus(status).phrase
    body = {
        "type": f"/problems/{type_slug}" if type_slug else "about:blank",
        "title": title or phrase,
        "status": status,
        "detail": detail or phrase,
    }
    if errors:
        body["errors"] = errors
    request_id = g.get("request_id")
    if request_id:
        body["request_id"] = request_id
    return body


def problem(
    status: int,
    detail: str | None = None,
    *,
    type_slug: str | None = None,
    title: str | None = None,
    errors: dict | None = None,
    headers: dict | None = None,
) -> Response:
    """An RFC 9457 problem response."""
    body = problem_body(status, detail, type_slug=type_slug, title=title, errors=errors)
    return problem_response(body, headers)


def problem_response(body: dict, headers: dict | None = None) -> Response:
    """Send a problem body with its status and the headers its status calls for."""
    status = body["status"]
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_CONTENT_TYPE)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="interval"'
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def domain_problem_body(error: DomainError) -> dict:
    return problem_body(
        error.status, error.detail, type_slug=error.type, title=error.title, errors=error.errors
    )


def flatten_errors(messages, prefix: str = "") -> dict[str, list[str]]:
    """webargs/marshmallow nested messages → {"answers.9": ["..."]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_errors(value, path))
    elif isinstance(messages, list | tuple) and all(isinstance(m, str) for m in messages):
        flat[prefix or "_body"] = [str(m) for m in messages]
    elif isinstance(messages, list | tuple):
        for index, value in enumerate(messages):
            flat.update(flatten_errors(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        flat[prefix or "_body"] = [str(messages)]
    return flat


def validation_errors(data: dict) -> dict[str, list[str]]:
    """Drop webargs' location level ("json", "query") so errors name the field itself."""
    messages = data.get("messages") or data.get("errors") or {}
    flat: dict[str, list[str]] = {}
    for location_messages in messages.values() if isinstance(messages, dict) else [messages]:
        flat.update(flatten_errors(location_messages))
    return flat
