"""Domain errors; the web layer turns each into an RFC 9457 problem."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: `status`, a problem `type` slug and a safe, human `detail`."""

    status = 400
    type = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str | None = None, *, errors: dict | None = None, headers=None):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.headers = headers or {}


class NotFound(DomainError):
    status = 404
    type = "not-found"
    title = "Not found"


class Forbidden(DomainError):
    status = 403
    type = "forbidden"
    title = "Forbidden"


class Unauthorized(DomainError):
    status = 401
    type = "unauthorized"
    title = "Authentication required"


class Conflict(DomainError):
    status = 409
    type = "conflict"
    title = "Conflict"


class NotAcceptable(DomainError):
    status = 406
    type = "not-acceptable"
    title = "Not acceptable"


class Invalid(DomainError):
    status = 422
    type = "validation-error"
    title = "Invalid request"


class RateLimited(DomainError):
    status = 429
    type = "rate-limited"
    title = "Too many requests"

    def __init__(self, retry_after: int):
        super().__init__(
            f"Too many attempts; try again in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )


class PreconditionRequired(DomainError):
    status = 428
    type = "precondition-required"
    title = "If-Match required"


class PreconditionFailed(DomainError):
    status = 412
    type = "precondition-failed"
    title = "Changed since read"

    def __init__(self, detail: str = "It was changed since you read it; read it again."):
        super().__init__(detail)
