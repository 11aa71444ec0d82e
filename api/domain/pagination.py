"""Keyset pagination with opaque, tamper-evident cursors."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from api.domain.errors import DomainError

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


class BadCursor(DomainError):
    status = 400
    type = "bad-cursor"
    title = "Invalid cursor"

    def __init__(self) -> None:
        super().__init__("The cursor is not valid; start again without it.")


@dataclass
class Page:
    items: list
    next_key: dict | None


class CursorCodec:
    """Signs and verifies cursors so a client can neither forge nor edit one."""

    def __init__(self, key: str):
        self._key = hashlib.sha256(b"cursor:" + key.encode()).digest()

    def _sign(self, payload: bytes) -> str:
        digest = hmac.new(self._key, payload, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def encode(self, key: dict) -> str:
        payload = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
        body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return f"{body}.{self._sign(payload)}"

    def decode(self, cursor: str) -> dict:
        try:
            body, signature = cursor.split(".", 1)
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            if not hmac.compare_digest(signature, self._sign(payload)):
                raise ValueError("signature")
            key = json.loads(payload)
            if not isinstance(key, dict):
                raise ValueError("shape")
            return key
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadCursor() from exc


def _to_json(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _from_json(column: InstrumentedAttribute, value: Any) -> Any:
    python_type = column.type.python_type
    try:
        if python_type is dt.datetime:
            return dt.datetime.fromisoformat(value)
        if python_type is uuid.UUID:
            return uuid.UUID(value)
        return python_type(value)
    except (TypeError, ValueError) as exc:
        raise BadCursor() from exc


def keyset_page(
    session: Session,
    stmt: Select,
    *,
    keys: list[InstrumentedAttribute],
    limit: int,
    cursor: dict | None,
    descending: bool | list[bool] = True,
) -> Page:
    """One page of `stmt` ordered by `keys` (unique together), after the cursor's position.
    `descending` is one direction for all keys or one per key."""
    directions = descending if isinstance(descending, list) else [descending] * len(keys)
    if cursor is not None:
        try:
            after = [_from_json(column, cursor[column.key]) for column in keys]
        except KeyError as exc:
            raise BadCursor() from exc
        stmt = stmt.where(_after(keys, after, directions))
    order = [c.desc() if d else c.asc() for c, d in zip(keys, directions, strict=True)]
    rows = list(session.scalars(stmt.order_by(*order).limit(limit + 1)))
    if len(rows) <= limit:
        return Page(rows, None)
    last = rows[limit - 1]
    next_key = {column.key: _to_json(getattr(last, column.key)) for column in keys}
    return Page(rows[:limit], next_key)


def _after(keys: list[InstrumentedAttribute], values: list, directions: list[bool]):
    """(k1, k2, ...) strictly after (v1, v2, ...) in the sort order, portable SQL."""
    clauses = []
    for i, column in enumerate(keys):
        equal_prefix = [keys[j] == values[j] for j in range(i)]
        beyond = column < values[i] if directions[i] else column > values[i]
        clauses.append(and_(*equal_prefix, beyond))
    return or_(*clauses)
