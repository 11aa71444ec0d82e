"""Password hashing, access tokens, enrollment codes, cursors."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import jwt
import pytest
import time_machine

from api.domain.credentials import (
    AccessClaims,
    Passwords,
    TokenSettings,
    decode_access_token,
    issue_access_token,
    new_enrollment_code,
    normalize_code,
)
from api.domain.errors import Invalid, Unauthorized
from api.domain.identity import check_password_strength
from api.domain.pagination import BadCursor, CursorCodec

passwords = Passwords(time_cost=2, memory_kib=19456, parallelism=1)


def test_hash_is_argon2id_at_least_owasp_minimum():
    stored = passwords.hash("a long password")
    assert stored.startswith("$argon2id$") and "m=19456,t=2,p=1" in stored


def test_verify():
    stored = passwords.hash("a long password")
    assert passwords.verify(stored, "a long password")
    assert not passwords.verify(stored, "a long passwore")
    assert not passwords.verify(None, "a long password")
    assert not passwords.verify("not-a-hash", "a long password")


def test_needs_rehash_when_parameters_change():
    stronger = Passwords(time_cost=3, memory_kib=65536, parallelism=4)
    assert stronger.needs_rehash(passwords.hash("a long password"))
    assert not passwords.needs_rehash(passwords.hash("a long password"))


def test_the_domain_refuses_a_short_password_itself_naming_the_field():
    """The request schemas refuse a short password first; the domain stands alone."""
    with pytest.raises(Invalid) as refused:
        check_password_strength("nine char")
    assert (refused.value.detail, refused.value.errors) == (
        "The password is too short.",
        {"password": ["Use at least 10 characters."]},
    )
    check_password_strength("ten chars!")


def test_enrollment_codes_are_random_and_readable():
    codes = {new_enrollment_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == 14 and c.count("-") == 2 for c in codes)
    assert not any(set(c) & set("ILOU") for c in codes)
    # Every one of the twelve characters is drawn anew: none is the same in all 200 codes.
    drawn = [c.replace("-", "") for c in codes]
    assert all(len({code[i] for code in drawn}) > 1 for i in range(12))


def test_code_normalisation_forgives_case_spaces_and_lookalikes():
    assert normalize_code("k7qm 4xzt-9prd") == "K7QM4XZT9PRD"
    assert normalize_code("O1L0") == "0110"


def test_cursor_round_trip_and_tamper():
    codec = CursorCodec("key-" * 10)
    cursor = codec.encode({"id": 42})
    assert codec.decode(cursor) == {"id": 42}
    with pytest.raises(BadCursor):
        CursorCodec("other-" * 10).decode(cursor)
    for bad in ["", "abc", "a.b", cursor + "x", "e30." + cursor.split(".")[1]]:
        with pytest.raises(BadCursor):
            codec.decode(bad)


class TestAccessTokenRefusals:
    SETTINGS = TokenSettings(
        key="k" * 64, issuer="interval", audience="interval-api", lifetime_seconds=900
    )

    def claims(self, **changes) -> dict:
        now = int(time.time())
        return {
            "iss": "interval",
            "aud": "interval-api",
            "sub": str(uuid.uuid4()),
            "sid": str(uuid.uuid4()),
            "typ": "access",
            "jti": "j",
            "iat": now,
            "nbf": now,
            "exp": now + 900,
        } | changes

    def refused(self, token: str) -> str:
        with pytest.raises(Unauthorized) as refused:
            decode_access_token(self.SETTINGS, token)
        return refused.value.detail

    def test_another_kind_of_token(self):
        token = jwt.encode(self.claims(typ="refresh"), self.SETTINGS.key, algorithm="HS256")
        assert self.refused(token) == "Not an access token."

    def test_an_expired_or_forged_token(self):
        expired = jwt.encode(self.claims(exp=int(time.time()) - 1), "k" * 64, algorithm="HS256")
        assert self.refused(expired) == "The access token is invalid or has expired."
        assert self.refused("not.a.token") == "The access token is invalid or has expired."


def refusal(settings: TokenSettings, token: str) -> str:
    with pytest.raises(Unauthorized) as refused:
        decode_access_token(settings, token)
    return refused.value.detail


def test_a_token_verified_before_is_still_refused_once_it_expires():
    """Verified tokens are remembered (api.domain.credentials._verified); the clock is not:
    the same token, accepted a second before its expiry, is refused at it."""
    issued_at = dt.datetime(2026, 10, 5, 14, 0, tzinfo=dt.UTC)
    settings = TestAccessTokenRefusals.SETTINGS
    user_id, family_id = uuid.uuid4(), uuid.uuid4()
    token = issue_access_token(settings, user_id=user_id, family_id=family_id, now=issued_at)
    expiry = issued_at + dt.timedelta(seconds=settings.lifetime_seconds)
    with time_machine.travel(issued_at, tick=False) as traveller:
        assert decode_access_token(settings, token) == AccessClaims(user_id, family_id)
        traveller.move_to(expiry - dt.timedelta(seconds=1))
        assert decode_access_token(settings, token) == AccessClaims(user_id, family_id)
        traveller.move_to(expiry)
        assert refusal(settings, token) == "The access token is invalid or has expired."


def test_a_token_verified_before_is_refused_if_the_clock_goes_back_before_it_was_issued():
    """A remembered token is held to its not-before time too, as PyJWT would hold it."""
    issued_at = dt.datetime(2026, 10, 5, 14, 0, tzinfo=dt.UTC)
    settings = TestAccessTokenRefusals.SETTINGS
    token = issue_access_token(
        settings, user_id=uuid.uuid4(), family_id=uuid.uuid4(), now=issued_at
    )
    with time_machine.travel(issued_at, tick=False) as traveller:
        assert decode_access_token(settings, token).family_id is not None
        traveller.move_to(issued_at - dt.timedelta(seconds=1))
        assert refusal(settings, token) == "The access token is invalid or has expired."


def test_a_token_refused_before_it_is_valid_is_accepted_when_it_is():
    """A refusal is not remembered: a token presented before its not-before time is refused,
    and the same token is accepted once that time comes."""
    starts = dt.datetime(2026, 10, 5, 14, 0, tzinfo=dt.UTC)
    settings = TestAccessTokenRefusals.SETTINGS
    token = issue_access_token(settings, user_id=uuid.uuid4(), family_id=uuid.uuid4(), now=starts)
    with time_machine.travel(starts - dt.timedelta(seconds=5), tick=False) as traveller:
        assert refusal(settings, token) == "The access token is invalid or has expired."
        traveller.move_to(starts)
        assert decode_access_token(settings, token).family_id is not None


def test_each_access_token_is_one_of_its_kind():
    """Two tokens of one session at one instant still differ: each names itself (jti)."""
    now = dt.datetime(2026, 10, 5, 14, 0, tzinfo=dt.UTC)
    issued = [
        issue_access_token(
            TestAccessTokenRefusals.SETTINGS,
            user_id=uuid.UUID(int=1),
            family_id=uuid.UUID(int=2),
            now=now,
        )
        for _ in range(2)
    ]
    assert issued[0] != issued[1]
    ids = {jwt.decode(t, options={"verify_signature": False})["jti"] for t in issued}
    assert len(ids) == 2 and all(uuid.UUID(i) for i in ids)
