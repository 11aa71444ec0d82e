"""Rate limits: sign-in, enrollment and password changes per client address and per account,
and the password checks of the whole deployment; check-in submissions per patient.

Flask-Limiter's own decorators key on the request alone; the per-account key comes from the
validated body, so the views call its engine, the `limits` package, directly. Counters live in
memory by default and in Redis when REDIS_URL is set, so every worker shares them.
"""

from __future__ import annotations

import hashlib
import math
import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from api.domain.errors import RateLimited


class RateLimits:
    def __init__(
        self,
        *,
        storage_uri: str,
        per_address: str,
        per_account: str,
        check_ins: str,
        password_checks: str | None = None,
    ):
        self.storage = storage_from_string(storage_uri)
        self.limiter = MovingWindowRateLimiter(self.storage)
        # One counter per patient and window: cheap on the ingest path, and precise enough for
        # a limit that only a runaway device reaches.
        self.counter = FixedWindowRateLimiter(self.storage)
        self.per_address = parse(per_address)
        self.per_account = parse(per_account)
        self.check_ins = parse(check_ins)
        # Each sign-in costs an Argon2 hash: a budget for all of them together keeps a storm
        # from many addresses and accounts from taking every core from ingest (docs/deployment.md).
        self.password_checks = parse(password_checks) if password_checks else None

    def hit(self, scope: str, *, address: str | None, account: str) -> None:
        """Count one attempt; raise RateLimited (429, Retry-After) once any limit is spent: the
        address's, the account's or the deployment's budget of password checks."""
        # The account key is hashed so an email address never reaches the counter store.
        self._spend(self.limiter, self.per_address, (scope, "address", address or "unknown"))
        self._spend(self.limiter, self.per_account, (scope, "account", _digest(account.lower())))
        if self.password_checks is not None:
            self._spend(self.limiter, self.password_checks, ("password_checks",))

    def hit_secret(self, scope: str, secret: str) -> None:
        """Count one attempt with a secret (an enrollment code), however many addresses or
        emails it is tried with; the account limit applies."""
        self._spend(self.limiter, self.per_account, (scope, "secret", _digest(secret.upper())))

    def spend_check_ins(self, patient_id: object, count: int) -> None:
        """Count `count` submitted check-ins against the patient's hourly allowance."""
        self._spend(self.counter, self.check_ins, ("check_ins", str(patient_id)), count)

    @staticmethod
    def _spend(limiter, item, identifiers: tuple[str, ...], cost: int = 1) -> None:
        if not limiter.hit(item, *identifiers, cost=cost):
            reset_at = limiter.get_window_stats(item, *identifiers).reset_time
            raise RateLimited(max(1, math.ceil(reset_at - time.time())))

    def reset(self) -> None:
        self.storage.reset()


def _digest(value: str) -> str:
    return hashlib.sha256(value.strip().encode()).hexdigest()
