"""Request fields that refuse what a lenient parser would let through to a crash later.

Times are RFC 3339 with an offset and must convert to UTC and fall in a plausible clinical
range; numbers are JSON numbers, never strings; booleans are JSON booleans, never 0 or 1.
"""

from __future__ import annotations

import datetime as dt
import math
import re

import marshmallow as ma

from api.domain.timeline import plausible

RANGE_MESSAGE = "Must be from 1900 up to (not including) 2100."

RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE
)
CALENDAR_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# The years accepted, as written (the document states them as a pattern).
YEARS = ("19", "20")
YEAR_PATTERN = "^(19|20)[0-9]{2}-"


def with_year_pattern(kwargs: dict) -> dict:
    """Field arguments whose documentation states the accepted years."""
    return {**kwargs, "metadata": {"pattern": YEAR_PATTERN, **kwargs.get("metadata", {})}}


class Instant(ma.fields.AwareDateTime):
    """An RFC 3339 date-time with an offset, representable in UTC, from 1900 up to 2100.

    The value keeps the offset it was sent with (a check-in shows the time the patient saw)."""

    default_error_messages = {
        "rfc3339": "Give an RFC 3339 time with an offset, e.g. 2026-11-20T08:15:00-05:00.",
        "range": RANGE_MESSAGE,
    }

    def __init__(self, **kwargs) -> None:
        super().__init__(**with_year_pattern(kwargs))

    def _deserialize(self, value, attr, data, **kwargs) -> dt.datetime:
        if not isinstance(value, str) or not RFC3339.match(value):
            raise self.make_error("rfc3339")
        if not value.startswith(YEARS):
            raise self.make_error("range")
        try:
            parsed = dt.datetime.fromisoformat(value.upper())
        except ValueError as error:
            raise self.make_error("rfc3339") from error
        try:
            in_utc = parsed.astimezone(dt.UTC)
        except OverflowError as error:
            raise self.make_error("range") from error
        if not plausible(in_utc):
            raise self.make_error("range")
        return parsed


class CalendarDate(ma.fields.Date):
    """A calendar date, YYYY-MM-DD, from 1900 up to 2100."""

    default_error_messages = {"range": RANGE_MESSAGE}

    def __init__(self, **kwargs) -> None:
        super().__init__(**with_year_pattern(kwargs))

    def _deserialize(self, value, attr, data, **kwargs) -> dt.date:
        if not isinstance(value, str) or not CALENDAR_DATE.match(value):
            raise self.make_error("invalid")
        if not value.startswith(YEARS):
            raise self.make_error("range")
        return super()._deserialize(value, attr, data, **kwargs)


class MaxEntries(ma.validate.Validator):
    """At most `n` entries in an object (documented as maxProperties)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __call__(self, value: dict) -> dict:
        if len(value) > self.n:
            raise ma.ValidationError(f"At most {self.n} entries.")
        return value


class StrictFloat(ma.fields.Float):
    """A JSON number: "0.5" (a string) and true (a boolean) are refused, as are NaN and ±inf."""

    def _deserialize(self, value, attr, data, **kwargs) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.make_error("special")
        return super()._deserialize(value, attr, data, **kwargs)


class StrictBoolean(ma.fields.Boolean):
    """A JSON true or false; 0, 1 and "true" are refused (1 == True in Python, not in JSON)."""

    def _deserialize(self, value, attr, data, **kwargs) -> bool:
        if type(value) is not bool:
            raise self.make_error("invalid")
        return value


class QueryBoolean(ma.fields.Boolean):
    """A query-string flag: exactly `true` or `false`."""

    def __init__(self, **kwargs):
        super().__init__(truthy={"true"}, falsy={"false"}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> bool:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)
