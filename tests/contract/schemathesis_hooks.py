"""What schemathesis is told beyond openapi.yaml, for rules a JSON Schema cannot state: the
document names them in words, and these hooks generate data that keeps them.

- A time zone (`format: iana-time-zone`) is one of the tz database's names.
- A blood-pressure reading's systolic value is higher than its diastolic one.
- A birth year is not after the current year; an infusion is not given in the future nor
  scheduled more than two years ahead; a new course starts within a year from today.
- A cursor is one the service issued (it is signed) for the same order: the test passes real
  ones in INTERVAL_CONTRACT_CURSORS, by path and, for the panel's attention order, by sort;
  a clinician named in a body is a real one (INTERVAL_CONTRACT_CLINICIAN).
- An Idempotency-Key is new for each check-in (a key reused with another body is refused,
  as the Idempotency-Key draft says), and If-Match names what is current (`*`): stale
  versions and reused keys are tested in tests/api.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
import zoneinfo
from collections.abc import MutableMapping

import schemathesis
from hypothesis import strategies as st

schemathesis.openapi.format(
    "iana-time-zone", st.sampled_from(sorted(zoneinfo.available_timezones()))
)

CURSORS: dict[str, str] = json.loads(os.environ.get("INTERVAL_CONTRACT_CURSORS", "{}"))
CLINICIAN = os.environ.get("INTERVAL_CONTRACT_CLINICIAN")


@schemathesis.hook
def before_call(context, case, kwargs):
    """Every phase's requests pass here (schemathesis classifies them again afterwards)."""
    if isinstance(case.headers, MutableMapping):
        if isinstance(case.headers.get("Idempotency-Key"), str):
            case.headers["Idempotency-Key"] = str(uuid.uuid4())
        if isinstance(case.headers.get("If-Match"), str):
            case.headers["If-Match"] = "*"
    if isinstance(case.query, MutableMapping) and "cursor" in case.query:
        cursor = CURSORS.get(cursor_key(case.operation.path, case.query))
        if cursor is None:
            del case.query["cursor"]
        else:
            case.query["cursor"] = cursor
    if isinstance(case.body, dict):
        keep_body_rules(case.body)


def cursor_key(path: str, query: MutableMapping) -> str:
    """Where INTERVAL_CONTRACT_CURSORS keeps a cursor for this path and order."""
    return f"{path}?sort=attention" if query.get("sort") == "attention" else path


def higher_first(reading):
    """[systolic, diastolic] with systolic the higher, when both are whole numbers."""
    if (
        isinstance(reading, list)
        and len(reading) == 2
        and all(type(v) in (int, float) and float(v).is_integer() for v in reading)
        and reading[0] <= reading[1]
    ):
        high, low = int(reading[1]), int(reading[0])
        return [high, low - 1] if high == low else [high, low]
    return reading


def no_later_than(value, latest: dt.datetime):
    """An RFC 3339 time, moved back to `latest` when after it; anything else as it is."""
    try:
        instant = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return value
    if instant.tzinfo is None or instant <= latest:
        return value
    return latest.isoformat()


def is_uuid(value) -> bool:
    try:
        uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def keep_body_rules(body: dict) -> None:
    if CLINICIAN and is_uuid(body.get("user_id")):
        body["user_id"] = CLINICIAN
    pressure = body.get("blood_pressure")
    if isinstance(pressure, dict):
        body["blood_pressure"] = {k: higher_first(v) for k, v in pressure.items()}
    year = body.get("birth_year")
    this_year = dt.date.today().year
    if type(year) in (int, float) and this_year < year <= 2100:
        body["birth_year"] = this_year
    now = dt.datetime.now(dt.UTC)
    if "administered_at" in body:
        body["administered_at"] = no_later_than(body["administered_at"], now)
    if "scheduled_for" in body:
        body["scheduled_for"] = no_later_than(body["scheduled_for"], now + dt.timedelta(days=700))
    if "started_on" in body and isinstance(body["started_on"], str):
        latest = (dt.date.today() + dt.timedelta(days=300)).isoformat()
        body["started_on"] = min(body["started_on"], latest)
