"""Rate limits for login and enrollment, per client address and per account.

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
from limits.strategies import MovingWindowRateLimiter

from api.domain.errors import RateLimited


class RateLimits:
    def __init__(self, *, storage_uri: str, per_address: str, per_account: str):
        self.storage = storage_from_string(storage_uri)
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.per_address = parse(per_address)
        self.per_account = parse(per_account)

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

    def reset(self) -> None:
        self.storage.reset()
