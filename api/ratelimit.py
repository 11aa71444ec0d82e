"""Rate limits: sign-in, enrollment and password changes per client address and per account;
check-in submissions per patient.

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
    def __init__(self, *, storage_uri: str, per_address: str, per_account: str, check_ins: str):
        self.storage = storage_from_string(storage_uri)
        self.limiter = MovingWindowRateLimiter(self.storage)
        # One counter per patient and window: cheap on the ingest path, and precise enough for
        # a limit that only a runaway device reaches.
        self.counter = FixedWindowRateLimiter(self.storage)
        self.per_address = parse(per_address)
        self.per_account = parse(per_account)
        self.check_ins = parse(check_ins)

    def hit(self, scope: str, *, address: str | None, account: str) -> None:
        """Count one attempt; raise RateLimited (429, Retry-After) once either limit is spent."""
        # The account key is hashed so an email address never reaches the counter store.
        account_key = hashlib.sha256(account.strip().lower().encode()).hexdigest()
        checks = [
            (self.per_address, (scope, "address", address or "unknown")),
            (self.per_account, (scope, "account", account_key)),
        ]
        for item, identifiers in checks:
            if not self.limiter.hit(item, *identifiers):
                reset_at = self.limiter.get_window_stats(item, *identifiers).reset_time
                raise RateLimited(max(1, math.ceil(reset_at - time.time())))

    def spend_check_ins(self, patient_id: object, count: int) -> None:
        """Count `count` submitted check-ins against the patient's hourly allowance."""
        identifiers = ("check_ins", str(patient_id))
        if not self.counter.hit(self.check_ins, *identifiers, cost=count):
            reset_at = self.counter.get_window_stats(self.check_ins, *identifiers).reset_time
            raise RateLimited(max(1, math.ceil(reset_at - time.time())))

    def reset(self) -> None:
        self.storage.reset()
