"""Links the service hands out: the next page (Link) and a created resource (Location)."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app


def public_url(path: str, query: dict | None = None) -> str:
    """`path` at the configured public address, never the request's Host header (which a
    client chooses); without one, the path alone, relative to the request."""
    base = (current_app.config["PUBLIC_BASE_URL"] or "").rstrip("/")
    return f"{base}{path}" + (f"?{urlencode(query)}" if query else "")


def location(path: str) -> dict[str, str]:
    """The Location header of a 201: where the new resource can be read."""
    return {"Location": public_url(path)}
