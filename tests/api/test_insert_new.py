"""db.insert_new: new rows stored in one statement, the same way whatever their number (a
multi-row VALUES, or on PostgreSQL from 3 check-ins one array a column)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy.exc import DataError

from api.db import insert_new
from api.models import CheckIn

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
LEFT_OUT = object()


def new_check_in(patient, **changes) -> CheckIn:
    given = {
        "id": uuid.uuid4(),
        "clinic_id": patient.clinic_id,
        "patient_id": patient.id,
        "questionnaire": "pain",
        "questionnaire_version": "1",
        "answers": {"1": 4},
        "total": 4,
        "severity": "moderate",
        "subscales": {},
        "flags": [],
        "completed_at": NOW,
        "completed_offset_minutes": 0,
        "received_at": NOW,
        "late": False,
        "status": "final",
        "source": "patient",
        "entered_by": patient.user_id,
        "idempotency_key": None,
        "body_hash": "0" * 64,
        "entered_in_error_at": None,
        "entered_in_error_by": None,
        "entered_in_error_reason": None,
    } | changes
    return CheckIn(**{k: v for k, v in given.items() if v is not LEFT_OUT})


@pytest.mark.postgres_only
@pytest.mark.parametrize("count", [1, 3], ids=["values", "arrays"])
def test_an_over_length_string_is_refused_however_many_rows(session, patient, count):
    """A version longer than its column's 20 characters is refused, never cut short (a cast
    to VARCHAR(20)[] would cut it)."""
    records = [new_check_in(patient) for _ in range(count - 1)]
    records.append(new_check_in(patient, questionnaire_version="v" * 21))
    with pytest.raises(DataError):
        insert_new(session, records)


@pytest.mark.parametrize("count", [1, 3], ids=["values", "arrays"])
def test_a_record_leaving_out_a_column_with_a_default_is_refused(session, patient, count):
    """One INSERT … SELECT would work a default out once for all its rows (one id for all)."""
    records = [new_check_in(patient, id=LEFT_OUT) for _ in range(count)]
    with pytest.raises(ValueError, match=r"\['id'\]"):
        insert_new(session, records)


@pytest.mark.parametrize("count", [1, 3], ids=["values", "arrays"])
def test_what_is_stored_reads_back_as_given(session, patient, count):
    given = [
        new_check_in(patient, idempotency_key=f'k"{n},{{}}\\', flags=["a", ["b"]], answers={})
        for n in range(count)
    ]
    expected = {c.id: (c.idempotency_key, c.flags, c.answers, c.completed_at) for c in given}
    assert insert_new(session, given) == set(expected)
    session.expunge_all()
    stored = session.query(CheckIn).filter(CheckIn.id.in_(expected)).all()
    assert {c.id: (c.idempotency_key, c.flags, c.answers, c.completed_at) for c in stored} == (
        expected
    )
