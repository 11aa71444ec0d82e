"""List endpoints run the same number of queries for 2 items as for 20 (no N+1)."""

from __future__ import annotations

import datetime as dt
import uuid

import marshmallow as ma
import pytest
from sqlalchemy import select

from api.models import Alert, AlertOccurrence
from tests.conftest import check_in_body

START = dt.datetime(2026, 10, 5, 14, 0, tzinfo=dt.UTC)


def queries_for(count_queries, call) -> int:
    with count_queries() as statements:
        response = call()
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize("path", ["check-ins", "alerts", "infusions", "patients"])
def test_list_cost_does_not_grow_with_items(
    client, auth, clinician, patient, make_patient, clinic, submit, course_api, count_queries, path
):
    course = course_api.start(patient)
    urls = {
        "check-ins": f"/v1/patients/{patient.id}/check-ins",
        "alerts": "/v1/alerts",
        "infusions": f"/v1/courses/{course['id']}/infusions",
        "patients": "/v1/patients",
    }

    def add(n: int) -> None:
        for k in range(n):
            when = (START + dt.timedelta(days=k, hours=len(urls))).isoformat()
            submit(patient, check_in_body(completed_at=when, i9=1))
            course_api.infuse(course, (START + dt.timedelta(days=k, hours=1)).isoformat())
            make_patient(clinic, care_team=(clinician,))

    headers = auth(clinician)

    def call():
        return client.get(urls[path], headers=headers)

    add(2)
    few = queries_for(count_queries, call)
    add(18)
    many = queries_for(count_queries, call)
    assert many == few


def test_a_submission_runs_five_statements_and_the_commit(
    client, auth, patient, submit, course_api, count_queries, clock
):
    """The hot path (docs/performance.md): authentication, the patient in scope with their
    timeline, insert-or-replay, the course baseline (read because a score of 12 could be a
    deterioration), the audit event; then the commit. A repeat reads its stored copy instead
    of the baseline."""
    course = course_api.start(patient, started_on="2026-11-01")
    for day in (2, 4, 6):
        course_api.infuse(course, f"2026-11-{day:02d}T14:00:00Z")
    twelve = {"i1": 3, "i2": 3, "i3": 3, "i4": 3}
    submit(patient, check_in_body(completed_at="2026-11-01T09:00:00Z", **twelve))
    headers = auth(patient)
    body = check_in_body(completed_at="2026-11-19T09:00:00Z", **twelve)
    body["id"] = "6f1c2a4e-0d7b-4c55-9a51-3f2e8c1d9b70"
    for status in (201, 200):
        with count_queries() as statements:
            response = client.post(
                f"/v1/patients/{patient.id}/check-ins", json=body, headers=headers
            )
        assert response.status_code == status
        assert [verb_and_table(s) for s in statements] == [
            "SELECT users",
            "SELECT patients",  # joined with courses and infusions
            "INSERT check_ins",  # ON CONFLICT DO NOTHING
            "SELECT check_ins",  # the baseline (201) or the stored copy (200)
            "INSERT audit_events",
        ]


@pytest.mark.parametrize(
    ("key", "items"), [("phq9", {"i1": 3, "i2": 2}), ("pain", {"i1": 1})], ids=["phq9", "pain"]
)
def test_a_score_that_cannot_be_a_deterioration_reads_no_baseline_nor_recent_ratings(
    client, auth, patient, course_api, count_queries, clock, key, items
):
    """PHQ-9 5 is less than its 6 points above the lowest score, pain 1 less than its 2: no
    baseline can make either a deterioration, so neither it nor the recent ratings are read."""
    course = course_api.start(patient, started_on="2026-11-01")
    course_api.infuse(course, "2026-11-02T14:00:00Z")
    body = check_in_body(key, completed_at="2026-11-19T09:00:00Z", **items)
    headers = auth(patient)
    with count_queries() as statements:
        response = client.post(f"/v1/patients/{patient.id}/check-ins", json=body, headers=headers)
    assert response.status_code == 201
    assert [verb_and_table(s) for s in statements] == [
        "SELECT users",
        "SELECT patients",
        "INSERT check_ins",
        "INSERT audit_events",
    ]


def test_a_submission_makes_no_schema(client, auth, patient, monkeypatch):
    """Bodies are read with schema instances made once (api/smorest.py, Blueprint.arguments):
    webargs would otherwise make one for every request."""
    headers = auth(patient)
    url = f"/v1/patients/{patient.id}/check-ins"
    assert client.post(url, json=check_in_body(), headers=headers).status_code == 201
    made: list[str] = []
    original = ma.Schema.__init__

    def counted(self, *args, **kwargs):
        made.append(type(self).__name__)
        original(self, *args, **kwargs)

    monkeypatch.setattr(ma.Schema, "__init__", counted)
    assert client.post(url, json=check_in_body(), headers=headers).status_code == 201
    assert made == []


def verb_and_table(statement: str) -> str:
    verb = statement.split()[0]
    if verb == "UPDATE":
        return f"UPDATE {statement.split()[1]}"
    table = statement.split("FROM" if verb == "SELECT" else "INTO")[1].split()[0]
    return f"{verb} {table}"


def test_a_batch_runs_as_many_statements_for_40_items_as_for_4(
    client, auth, patient, course_api, count_queries, clock
):
    """Set-based ingest: one INSERT for the new items, one read for repeats, one for the
    baseline of each course and instrument, whatever the batch's size."""
    course = course_api.start(patient, started_on="2026-10-01")
    course_api.infuse(course, "2026-10-02T14:00:00Z")
    headers = auth(patient)
    path = f"/v1/patients/{patient.id}/check-ins/batch"

    def statements_for(count: int, first_day: int) -> list[str]:
        items = [
            check_in_body(
                completed_at=(START + dt.timedelta(days=first_day + n)).isoformat(),
                id=str(uuid.uuid4()),
                i1=3,
                i2=3,
                i3=3,
                i4=3,
            )
            for n in range(count)
        ]
        repeat = items[0]
        with count_queries() as statements:
            response = client.post(path, json={"check_ins": [*items, repeat]}, headers=headers)
        assert [r["status"] for r in response.get_json()["results"]] == [201] * count + [200]
        return [verb_and_table(s) for s in statements]

    assert (
        statements_for(4, 0)
        == statements_for(40, 4)
        == [
            "SELECT users",
            "SELECT patients",
            "INSERT check_ins",
            "SELECT check_ins",  # the stored copies of repeats
            "SELECT check_ins",  # the baseline's candidates
            "INSERT audit_events",
        ]
    )


@pytest.mark.postgres_only
def test_a_batch_is_one_insert_statement_whatever_its_size_on_postgresql(
    client, auth, patient, count_queries, clock
):
    """On PostgreSQL a batch's new check-ins go in as one array a column (db.insert_new): the
    INSERT is the same text for 3 items as for 40, so psycopg parses it once and PostgreSQL
    prepares it. A multi-row VALUES would differ with each size and run to 880 parameters."""
    headers = auth(patient)
    path = f"/v1/patients/{patient.id}/check-ins/batch"

    def insert_for(count: int, first_day: int) -> str:
        items = [
            check_in_body(completed_at=(START + dt.timedelta(days=first_day + n)).isoformat())
            for n in range(count)
        ]
        with count_queries() as statements:
            response = client.post(path, json={"check_ins": items}, headers=headers)
        assert [r["status"] for r in response.get_json()["results"]] == [201] * count
        [insert] = [s for s in statements if verb_and_table(s) == "INSERT check_ins"]
        return insert

    assert insert_for(3, 0) == insert_for(40, 3)


def test_a_batch_raises_its_alerts_in_as_many_statements_for_40_items_as_for_4(
    client, auth, clinic, clinician, make_patient, count_queries, clock, session
):
    """Set-based alerts: every item endorses item 9 and scores 21, so each raises an urgent
    and a severe-symptoms alert. The patient's row is locked once, the open alerts read once,
    both new alerts written in one INSERT and every occurrence in another; the patient's next
    batch joins the two open alerts, one UPDATE each."""

    def statements_for(patient, count: int, first_hour: int) -> list[str]:
        items = [
            check_in_body(
                completed_at=(START + dt.timedelta(hours=first_hour + n)).isoformat(),
                id=str(uuid.uuid4()),
                **{f"i{k}": 3 for k in range(1, 7)},
                i9=3,
            )
            for n in range(count)
        ]
        headers = auth(patient)
        with count_queries() as statements:
            response = client.post(
                f"/v1/patients/{patient.id}/check-ins/batch",
                json={"check_ins": items},
                headers=headers,
            )
        assert [r["status"] for r in response.get_json()["results"]] == [201] * count
        return [verb_and_table(s) for s in statements]

    opening = [
        "SELECT users",
        "SELECT patients",
        "INSERT check_ins",
        "SELECT patients",  # the patient's row locked: an urgent alert is raised
        "SELECT alerts",  # the open ones
        "INSERT alerts",  # both kinds at once
        "INSERT alert_occurrences",  # every item's, at once
        "SELECT clinics",  # the crisis information's wording, read once
        "INSERT audit_events",
    ]
    few, many = (make_patient(clinic, care_team=(clinician,)) for _ in range(2))
    assert statements_for(few, 4, 0) == statements_for(many, 40, 0) == opening
    joining = [*opening[:5], "UPDATE alerts", "UPDATE alerts", *opening[6:]]
    assert statements_for(few, 40, 4) == statements_for(many, 4, 40) == joining
    for patient in (few, many):
        alerts = session.scalars(select(Alert).where(Alert.patient_id == patient.id)).all()
        assert sorted(a.kind for a in alerts) == ["severe_symptoms", "suicidal_ideation"]
        for alert in alerts:
            occurrences = session.scalars(
                select(AlertOccurrence).where(AlertOccurrence.alert_id == alert.id)
            ).all()
            assert len(occurrences) == 44
