"""Submitting check-ins: exact scoring, validation, idempotency, late arrival, CSV, errors."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid

import pytest
from sqlalchemy import func, select

from api.models import CheckIn
from tests.conftest import NOW, check_in_body


def stored(session, patient) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).where(CheckIn.patient_id == patient.id))


def test_submission_is_scored_and_stored(submit, patient, session):
    response = submit(patient, check_in_body(i1=2, i2=1, i3=3, i4=2, i6=1, i7=2, i9=1))
    assert response.status_code == 201
    body = response.get_json()
    assert body["score"] == {
        "total": 12,
        "severity": "moderate",
        "subscales": {},
        "flags": ["suicidal_ideation"],
    }
    assert body["questionnaire_version"] == "1"
    assert (body["status"], body["late"], body["source"]) == ("final", False, "patient")
    assert set(body["context"]) == {"course_id", "phase", "infusion_number", "days_since_infusion"}
    assert stored(session, patient) == 1


def test_device_offset_is_kept(submit, patient):
    body = check_in_body(completed_at="2026-11-01T08:15:00-05:00")
    got = submit(patient, body).get_json()
    assert got["completed_at"] == "2026-11-01T08:15:00-05:00"
    assert dt.datetime.fromisoformat(got["received_at"]).utcoffset() == dt.timedelta(0)


def test_optional_difficulty_item_is_stored_not_scored(submit, patient):
    body = check_in_body(i1=1)
    body["answers"]["10"] = 3
    got = submit(patient, body).get_json()
    assert got["answers"]["10"] == 3 and got["score"]["total"] == 1


def test_clinician_enters_a_check_in_for_a_care_team_patient(submit, patient, clinician):
    response = submit(patient, as_user=clinician)
    assert response.status_code == 201
    assert response.get_json()["source"] == "clinic"


class TestRepeats:
    def test_same_id_same_body_returns_the_stored_check_in(self, submit, patient, session):
        body = check_in_body(id=uuid.uuid4(), i1=2)
        first = submit(patient, body)
        again = submit(patient, body)
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.get_json() == first.get_json()
        assert stored(session, patient) == 1

    def test_same_id_different_body_is_409(self, submit, patient, session):
        original = check_in_body(id=uuid.uuid4(), i1=2)
        first = submit(patient, original).get_json()
        changed = submit(patient, {**original, "answers": {**original["answers"], "1": 3}})
        assert changed.status_code == 409
        assert "id" in changed.get_json()["errors"]
        assert stored(session, patient) == 1
        assert submit(patient, original).get_json() == first

    def test_same_idempotency_key_same_body(self, submit, patient, session):
        body = check_in_body(i1=2)
        key = {"Idempotency-Key": "sync-2026-11-20-0001"}
        first = submit(patient, body, headers=key)
        again = submit(patient, body, headers=key)
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.get_json() == first.get_json()
        assert stored(session, patient) == 1

    def test_same_idempotency_key_different_body_is_422(self, submit, patient, session):
        key = {"Idempotency-Key": "sync-2026-11-20-0002"}
        submit(patient, check_in_body(i1=2), headers=key)
        changed = submit(patient, check_in_body(i1=1), headers=key)
        assert changed.status_code == 422
        assert "Idempotency-Key" in changed.get_json()["errors"]
        assert stored(session, patient) == 1

    def test_idempotency_keys_are_per_patient(self, submit, patient, make_patient, clinic):
        other = make_patient(clinic)
        key = {"Idempotency-Key": "same-key-different-patients"}
        assert submit(patient, check_in_body(i1=2), headers=key).status_code == 201
        assert submit(other, check_in_body(i1=2), headers=key).status_code == 201

    def test_malformed_idempotency_key(self, submit, patient):
        response = submit(patient, headers={"Idempotency-Key": "x" * 201})
        assert response.status_code == 422

    def test_another_patients_id_is_refused_without_leaking(
        self, submit, patient, make_patient, clinic
    ):
        theirs = submit(patient, check_in_body(id=uuid.uuid4(), i1=3)).get_json()
        intruder = make_patient(clinic)
        response = submit(intruder, check_in_body(id=theirs["id"], i1=3))
        assert response.status_code == 409
        text = response.get_data(as_text=True)
        assert str(patient.id) not in text and '"answers"' not in text


REFUSALS = [
    ("out of range", lambda b: b["answers"].update({"1": 4}), "answers.1"),
    ("negative", lambda b: b["answers"].update({"2": -1}), "answers.2"),
    ("missing scored item", lambda b: b["answers"].pop("9"), "answers.9"),
    ("unknown item", lambda b: b["answers"].update({"11": 0}), "answers.11"),
    ("string for a number", lambda b: b["answers"].update({"1": "2"}), "answers.1"),
    ("fraction for an integer", lambda b: b["answers"].update({"1": 2.5}), "answers.1"),
    ("boolean for an integer", lambda b: b["answers"].update({"1": True}), "answers.1"),
    ("null value", lambda b: b["answers"].update({"1": None}), "answers.1"),
    ("unknown questionnaire", lambda b: b.update(questionnaire="bdi2"), "questionnaire"),
    ("naive timestamp", lambda b: b.update(completed_at="2026-11-20T08:15:00"), "completed_at"),
    ("not a timestamp", lambda b: b.update(completed_at="yesterday"), "completed_at"),
    (
        "far future",
        lambda b: b.update(completed_at=(NOW + dt.timedelta(minutes=5, seconds=1)).isoformat()),
        "completed_at",
    ),
    ("answers not an object", lambda b: b.update(answers=[1, 2, 3]), "answers"),
    ("missing answers", lambda b: b.pop("answers"), "answers"),
    ("unknown field", lambda b: b.update(mood="fine"), "mood"),
    ("server-owned score", lambda b: b.update(score={"total": 0}), "score"),
    ("server-owned patient_id", lambda b: b.update(patient_id=str(uuid.uuid4())), "patient_id"),
    (
        "server-owned received_at",
        lambda b: b.update(received_at="2026-11-20T08:15:00Z"),
        "received_at",
    ),
    ("id not a uuid", lambda b: b.update(id="abc"), "id"),
]


@pytest.mark.parametrize("change,field", [c[1:] for c in REFUSALS], ids=[c[0] for c in REFUSALS])
def test_refused_submissions_name_the_field_and_store_nothing(
    clock, submit, patient, session, change, field
):
    body = check_in_body()
    change(body)
    response = submit(patient, body)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]
    assert stored(session, patient) == 0


def test_five_minutes_ahead_is_accepted(clock, submit, patient):
    soon = (NOW + dt.timedelta(minutes=5)).isoformat()
    assert submit(patient, check_in_body(completed_at=soon)).status_code == 201


@pytest.mark.parametrize(
    "age,late", [(dt.timedelta(days=30), False), (dt.timedelta(days=30, seconds=1), True)]
)
def test_a_check_in_older_than_30_days_is_late_but_accepted(clock, submit, patient, age, late):
    old = (NOW - age).isoformat()
    body = submit(patient, check_in_body(completed_at=old)).get_json()
    assert body["late"] is late


@pytest.mark.parametrize(
    "key,items,total,severity",
    [
        ("gad7", {"i1": 3, "i2": 3, "i3": 3, "i4": 3, "i5": 3}, 15, "severe"),
        ("pcl5", {"i1": 2, "i6": 2, "i8": 2, "i9": 2, "i15": 2, "i16": 2}, 12, "below_cutoff"),
        ("pain", {"i1": 7}, 7, "severe"),
    ],
)
def test_each_instrument_is_accepted(submit, patient, key, items, total, severity):
    body = submit(patient, check_in_body(key, **items)).get_json()
    assert (body["score"]["total"], body["score"]["severity"]) == (total, severity)


def test_worked_examples_through_the_api(submit, patient, app):
    for definition in app.extensions["interval.questionnaires"].all():
        for example in definition.examples:
            body = check_in_body(definition.key)
            body["answers"] = example.answers
            score = submit(patient, body).get_json()["score"]
            assert score == {
                **example.expect,
                "subscales": example.expect["subscales"] or {},
                "flags": example.expect["flags"] or [],
            }, example.name


class TestReading:
    def test_get_one(self, client, submit, patient, clinician, auth):
        created = submit(patient).get_json()
        for who in (patient, clinician):
            got = client.get(f"/v1/check-ins/{created['id']}", headers=auth(who))
            assert got.status_code == 200 and got.get_json() == created

    def test_list_filters_and_order(self, clock, client, submit, patient, auth):
        now = clock.now
        for days, key in [(3, "phq9"), (2, "gad7"), (1, "phq9")]:
            submit(
                patient,
                check_in_body(key, completed_at=(now - dt.timedelta(days=days)).isoformat()),
            )
        url = f"/v1/patients/{patient.id}/check-ins"
        items = client.get(url, headers=auth(patient)).get_json()["items"]
        assert [i["questionnaire"] for i in items] == ["phq9", "gad7", "phq9"]
        phq9 = client.get(f"{url}?questionnaire=phq9", headers=auth(patient)).get_json()["items"]
        assert len(phq9) == 2
        since = (now - dt.timedelta(days=2, hours=1)).isoformat().replace("+00:00", "Z")
        recent = client.get(f"{url}?from={since}", headers=auth(patient)).get_json()["items"]
        assert len(recent) == 2
        paged = client.get(f"{url}?limit=2", headers=auth(patient)).get_json()
        rest = client.get(
            f"{url}?limit=2&cursor={paged['next_cursor']}", headers=auth(patient)
        ).get_json()
        assert len(paged["items"]) == 2 and len(rest["items"]) == 1

    def test_csv(self, client, submit, patient, clinician, auth):
        submit(patient, check_in_body(i1=2, i9=1))
        submit(patient, check_in_body("pcl5", i1=4))
        response = client.get(
            f"/v1/patients/{patient.id}/check-ins",
            headers={**auth(clinician), "Accept": "text/csv"},
        )
        assert response.mimetype == "text/csv"
        rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
        assert len(rows) == 2
        by_key = {row["questionnaire"]: row for row in rows}
        assert by_key["phq9"]["phq9_item_9"] == "1" and by_key["phq9"]["total"] == "3"
        assert by_key["phq9"]["flags"] == "suicidal_ideation"
        assert by_key["pcl5"]["pcl5_subscale_B"] == "4" and by_key["pcl5"]["phq9_item_1"] == ""
        assert response.headers["Cache-Control"] == "no-store"


class TestEnteredInError:
    def test_marks_keeps_and_says_who(self, client, submit, patient, clinician, auth, session):
        created = submit(patient).get_json()
        url = f"/v1/check-ins/{created['id']}/entered-in-error"
        response = client.post(
            url, json={"reason": "Answered for the wrong day"}, headers=auth(clinician)
        )
        assert response.status_code == 200
        body = response.get_json()
        assert body["status"] == "entered_in_error"
        assert body["entered_in_error"]["by"] == str(clinician.id)
        assert body["entered_in_error"]["reason"] == "Answered for the wrong day"
        assert stored(session, patient) == 1
        again = client.post(url, json={"reason": "again"}, headers=auth(clinician))
        assert again.status_code == 409

    def test_needs_a_reason(self, client, submit, patient, clinician, auth):
        created = submit(patient).get_json()
        response = client.post(
            f"/v1/check-ins/{created['id']}/entered-in-error", json={}, headers=auth(clinician)
        )
        assert response.status_code == 422 and "reason" in response.get_json()["errors"]

    def test_status_filter(self, client, submit, patient, clinician, auth):
        kept = submit(patient).get_json()
        wrong = submit(patient).get_json()
        client.post(
            f"/v1/check-ins/{wrong['id']}/entered-in-error",
            json={"reason": "dup"},
            headers=auth(clinician),
        )
        url = f"/v1/patients/{patient.id}/check-ins?status=final"
        items = client.get(url, headers=auth(clinician)).get_json()["items"]
        assert [i["id"] for i in items] == [kept["id"]]


def test_an_integral_number_is_the_integer(submit, patient):
    # JSON does not tell 2.0 from 2, nor does the document's `integer`.
    body = check_in_body(i1=1)
    body["answers"]["2"] = 2.0
    response = submit(patient, body)
    assert response.status_code == 201
    assert response.get_json()["answers"]["2"] == 2 and response.get_json()["score"]["total"] == 3
