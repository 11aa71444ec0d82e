"""db.insert_new: new rows stored in one statement, the same way whatever their number (a
multi-row VALUES, or on PostgreSQL from 3 check-ins one array a column)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.exc import DataError

from api import factories
from api.db import insert_new
from api.models import CheckIn

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
LEFT_OUT = object()


def new_check_in(app, patient, **changes) -> CheckIn:
    """A pain rating of 4, every column with a default given (changes may leave one out)."""
    pain = app.extensions["interval.questionnaires"].get("pain")
    given = factories.check_in_values(patient, patient.user_id, pain, {"1": 4}, NOW) | changes
    return CheckIn(**{k: v for k, v in given.items() if v is not LEFT_OUT})


@pytest.mark.postgres_only
@pytest.mark.parametrize("count", [1, 3], ids=["values", "arrays"])
def test_an_over_length_string_is_refused_however_many_rows(app, session, patient, count):
    """A version longer than its column's 20 characters is refused, never cut short (a cast
    to VARCHAR(20)[] would cut it)."""
    records = [new_check_in(app, patient) for _ in range(count - 1)]
    records.append(new_check_in(app, patient, questionnaire_version="v" * 21))
    with pytest.raises(DataError):
        insert_new(session, records)


@pytest.mark.parametrize("count", [1, 3], ids=["values", "arrays"])
def test_a_record_leaving_out_a_column_with_a_default_is_refused(app, session, patient, count):
    """One INSERT … SELECT would work a default out once for all its rows (one id for all)."""
    records = [new_check_in(app, patient, id=LEFT_OUT) for _ in range(count)]
    with pytest.raises(ValueError, match=r"\['id'\]"):
        insert_new(session, records)


@pytest.mark.parametrize("count", [1, 3], ids=["values", "arrays"])
def test_what_is_stored_reads_back_as_given(app, session, patient, count):
    given = [
        new_check_in(app, patient, idempotency_key=f'k"{n},{{}}\\', flags=["a", ["b"]], answers={})
        for n in range(count)
    ]
    expected = {c.id: (c.idempotency_key, c.flags, c.answers, c.completed_at) for c in given}
    assert insert_new(session, given) == set(expected)
    session.expunge_all()
    stored = session.query(CheckIn).filter(CheckIn.id.in_(expected)).all()
    assert {c.id: (c.idempotency_key, c.flags, c.answers, c.completed_at) for c in stored} == (
        expected
    )
