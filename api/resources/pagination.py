"""Cursor pagination for list endpoints: arguments, page schema, Link header."""

from __future__ import annotations

import marshmallow as ma
from flask import request

from api.context import cursors
from api.domain.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from api.resources.links import public_url
from api.smorest import Schema


class PageArgsSchema(Schema):
    limit = ma.fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=ma.validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Page size, at most {MAX_LIMIT}"},
    )
    cursor = ma.fields.String(
        load_default=None, metadata={"description": "Opaque cursor from `next_cursor`"}
    )


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A `{"items": [...], "next_cursor": ...}` schema for one item type."""
    return Schema.from_dict(
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
            "next_cursor": ma.fields.String(allow_none=True, required=True),
        },
        name=name,
    )


def whole(items: list) -> dict:
    """A list short enough to answer at once, in the page shape every list has (so a client
    pages through every list the same way: this one has no next page)."""
    return {"items": items, "next_cursor": None}


def decode_cursor(args: dict) -> dict | None:
    cursor = args.get("cursor")
    if not cursor:
        return None
    return cursors().decode(cursor)


def paged(page: Page, items: list) -> tuple[dict, dict]:
    """The body and a `Link: rel="next"` header for one page."""
    next_cursor = None
    headers = {}
    if page.next_key is not None:
        next_cursor = cursors().encode(page.next_key)
        params = {k: v for k, v in request.args.items() if k != "cursor"}
        params["cursor"] = next_cursor
        headers["Link"] = f'<{public_url(request.path, params)}>; rel="next"'
    return {"items": items, "next_cursor": next_cursor}, headers
