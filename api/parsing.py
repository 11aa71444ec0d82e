"""Reading request bodies and query strings: malformed input is refused here, once, as a 4xx.

JSON that Python cannot read (nested too deeply, integer literals too long, NaN, bytes that are
not UTF-8) answers 400. Well-formed JSON whose strings hold NUL characters or unpaired surrogates
(PostgreSQL and UTF-8 refuse both) answers 422 naming the field. The same check runs on each item
of a batch, so one bad item is refused alone.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from api.domain.errors import DomainError, Invalid

MAX_DEPTH = 32
UNSAFE_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
UNSAFE_MESSAGE = "Must not contain NUL characters or unpaired surrogates."
UNSAFE_NAME_MESSAGE = "Field names must not contain NUL characters or unpaired surrogates."


class MalformedBody(DomainError):
    status = 400
    type = "malformed-body"
    title = "Malformed JSON body"


def _finite(text: str) -> float | int:
    """A JSON number with a fraction or exponent. JSON does not tell 2.0 from 2 (nor does JSON
    Schema's integer), so an integral one is read as the integer."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return int(value) if value.is_integer() else value


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(data: bytes | str) -> Any:
    """Parse a JSON document strictly; MalformedBody (400) when Python cannot read it."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return json.loads(text, parse_float=_finite, parse_constant=_no_constants)
    except RecursionError:
        raise MalformedBody("The JSON is nested too deeply.") from None
    except ValueError:
        # Also UnicodeDecodeError and integer literals longer than Python converts.
        raise MalformedBody("The body is not valid JSON.") from None


def unsafe_paths(value: Any, *, skip: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Field paths whose strings (keys or values) hold NUL or unpaired surrogates, or that nest
    deeper than MAX_DEPTH. `skip` names top-level fields checked later, item by item."""
    problems: dict[str, list[str]] = {}
    stack: list[tuple[str, Any, int]] = [("", value, 0)]
    while stack:
        path, node, depth = stack.pop()
        if depth > MAX_DEPTH:
            problems[path or "_body"] = [f"Nested more than {MAX_DEPTH} levels deep."]
            continue
        if isinstance(node, str):
            if UNSAFE_CHARACTERS.search(node):
                problems[path or "_body"] = [UNSAFE_MESSAGE]
            continue
        if not isinstance(node, dict | list):
            continue
        for key, child in node.items() if isinstance(node, dict) else enumerate(node):
            child_path = f"{path}.{key}" if path else str(key)
            if depth == 0 and key in skip:
                continue
            if isinstance(key, str) and UNSAFE_CHARACTERS.search(key):
                problems[path or "_body"] = [UNSAFE_NAME_MESSAGE]
                continue
            stack.append((child_path, child, depth + 1))
    return problems


def refuse_unsafe(value: Any, *, skip: tuple[str, ...] = ()) -> None:
    """Invalid (422) naming every unsafe field."""
    problems = unsafe_paths(value, skip=skip)
    if problems:
        raise Invalid("Some values cannot be stored; see errors.", errors=problems)


class StrictParser(FlaskParser):
    """webargs' Flask parser with strict JSON and clean query strings."""

    def _raw_load_json(self, req) -> Any:
        if not is_json_request(req):
            return core.missing
        data = req.get_data(cache=True)
        if not data.strip():
            return core.missing
        return loads(data)

    def load_json(self, req, schema) -> Any:
        body = self._raw_load_json(req)
        if body is not core.missing:
            refuse_unsafe(body, skip=getattr(schema, "checked_item_by_item", ()))
        return body

    def load_querystring(self, req, schema) -> Any:
        problems = {
            name: [UNSAFE_MESSAGE]
            for name, values in req.args.lists()
            if UNSAFE_CHARACTERS.search(name) or any(UNSAFE_CHARACTERS.search(v) for v in values)
        }
        if problems:
            raise Invalid("Some query parameters cannot be read; see errors.", errors=problems)
        return super().load_querystring(req, schema)


def _lenient_int(text: str) -> int | None:
    return int(text) if len(text) <= 4000 else None


def read_leniently(req) -> Any:
    """The request's JSON body read as far as anything can be read (None if nothing can), for
    crisis information on a refusal: a body refused for any reason, even one too large or not
    strict JSON, may still endorse a safety item. Never raises."""
    try:
        data = req.get_data(cache=True)
        return json.loads(
            data.decode("utf-8", "replace"),
            parse_int=_lenient_int,
            parse_constant=lambda _name: None,
        )
    except Exception:
        return None
