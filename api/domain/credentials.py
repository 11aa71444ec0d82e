"""Password hashing (Argon2id), access tokens (JWT) and opaque secrets kept only as hashes."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import secrets
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from api.domain.errors import Unauthorized

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub", "typ", "jti"]
MIN_PASSWORD_LENGTH = 10
# Crockford base32 without I, L, O, U: easy to read aloud and to type on a phone.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class Passwords:
    """Argon2id hashing with the configured cost; verification never reveals a missing account."""

    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int):
        self.hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        self._dummy_hash: str | None = None

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when the password matches; with no stored hash, spend the same time and fail."""
        if stored_hash is None:
            self._verify_dummy(password)
            return False
        try:
            return self.hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _verify_dummy(self, password: str) -> None:
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))
        with suppress(VerificationError, InvalidHashError):
            self.hasher.verify(self._dummy_hash, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        return self.hasher.check_needs_rehash(stored_hash)


@dataclass(frozen=True)
class TokenSettings:
    key: str
    issuer: str
    audience: str
    lifetime_seconds: int


def issue_access_token(
    settings: TokenSettings, *, user_id: uuid.UUID, family_id: uuid.UUID, now: dt.datetime
) -> str:
    claims = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": str(user_id),
        "typ": "access",
        "sid": str(family_id),
        "jti": str(uuid.uuid4()),
        "iat": now,
        "nbf": now,
        "exp": now + dt.timedelta(seconds=settings.lifetime_seconds),
    }
    return jwt.encode(claims, settings.key, algorithm=ALGORITHM)


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    family_id: uuid.UUID


def decode_access_token(settings: TokenSettings, token: str) -> AccessClaims:
    """Verify signature (HS256 only), time claims, issuer, audience and type; or Unauthorized.

    A token verified once is not verified again while it is valid: its signature and claims
    cannot change, only the clock can, so a remembered one is checked against its time claims
    alone, as PyJWT compares them. Refused tokens are never remembered (the cache raises, and
    keeps nothing)."""
    try:
        claims, valid_from, expires_at = _verified(settings, token)
    except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
        raise Unauthorized("The access token is invalid or has expired.") from exc
    if not valid_from <= time.time() < expires_at:
        raise Unauthorized("The access token is invalid or has expired.")
    return claims


@functools.lru_cache(maxsize=4096)
def _verified(settings: TokenSettings, token: str) -> tuple[AccessClaims, int, int]:
    """The token's claims, the instant it is valid from (`nbf`, and not before `iat`) and its
    expiry, once PyJWT has verified it (a few thousand: the access tokens of the sessions a
    worker serves within their 15 minutes)."""
    claims = jwt.decode(
        token,
        settings.key,
        algorithms=[ALGORITHM],
        audience=settings.audience,
        issuer=settings.issuer,
        options={"require": REQUIRED_CLAIMS},
    )
    if claims["typ"] != "access":
        raise Unauthorized("Not an access token.")
    valid_from = max(int(claims["nbf"]), int(claims["iat"]))
    access = AccessClaims(uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"]))
    return access, valid_from, int(claims["exp"])


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_enrollment_code() -> str:
    """Twelve characters (60 bits) in three groups, e.g. K7QM-4XZT-9PRD."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))


def normalize_code(code: str) -> str:
    cleaned = code.upper().replace("-", "").replace(" ", "")
    return cleaned.translate(str.maketrans("OIL", "011"))


def secret_digest(key: str, secret: str) -> str:
    """Keyed hash of a refresh token or enrollment code: a leaked table alone reveals nothing."""
    return hmac.new(key.encode(), secret.encode(), hashlib.sha256).hexdigest()
