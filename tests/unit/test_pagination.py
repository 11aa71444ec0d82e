"""Cursors: their exact form (canonical JSON, unpadded base64url, a 128-bit signature), every
length of payload round-tripping, and why a refused cursor was refused."""

from __future__ import annotations

import base64
import json

import pytest

from api.domain.pagination import BadCursor, CursorCodec

CODEC = CursorCodec("key-" * 10)
REFUSAL = "The cursor is not valid; start again without it."


def unpadded(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def test_a_cursor_is_canonical_json_and_a_128_bit_signature():
    cursor = CODEC.encode({"b": 1, "a": "x"})
    body, signature = cursor.split(".")
    assert body == unpadded(b'{"a":"x","b":1}')
    assert len(signature) == 22 and "=" not in signature  # 16 bytes, unpadded
    assert CODEC.encode({"a": "x", "b": 1}) == cursor  # key order does not matter


@pytest.mark.parametrize("length", range(1, 13))
def test_every_payload_length_round_trips(length):
    key = {"k": "v" * length}
    cursor = CODEC.encode(key)
    assert "=" not in cursor  # unpadded whatever the length: it goes into a URL as it is
    assert CODEC.decode(cursor) == key


def refusal_of(cursor: str) -> BadCursor:
    with pytest.raises(BadCursor) as refused:
        CODEC.decode(cursor)
    assert refused.value.detail == REFUSAL
    return refused.value


def test_a_foreign_signature_is_refused_as_such():
    cursor = CursorCodec("other-" * 10).encode({"id": 1})
    assert refusal_of(cursor).__cause__.args == ("signature",)


def test_a_signed_value_that_is_not_an_object_is_refused_as_such():
    payload = json.dumps([1, 2]).encode()
    cursor = f"{unpadded(payload)}.{CODEC._sign(payload)}"
    assert refusal_of(cursor).__cause__.args == ("shape",)
