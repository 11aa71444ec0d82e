"""Offline sync: 207 with a result per item; one bad item never blocks the others."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select

from api.models import Alert, CheckIn
from tests.conftest import check_in_body


def post_batch(client, auth, patient, items, who=None):
    return client.post(
        f"/v1/patients/{patient.id}/check-ins/batch",
        json={"check_ins": items},
        headers=auth(who or patient),
    )


def stored_ids(session, patient) -> set[str]:
    session.expire_all()
    return {
        str(i) for i in session.scalars(select(CheckIn.id).where(CheckIn.patient_id == patient.id))
    }


def test_mixed_batch(client, auth, submit, patient, make_patient, clinic, session):
    earlier = check_in_body(id=uuid.uuid4(), i1=1)
    submit(patient, earlier)
    other = make_patient(clinic)
    theirs = submit(other, check_in_body(id=uuid.uuid4())).get_json()
    valid = check_in_body(id=uuid.uuid4(), i1=2)
    invalid = check_in_body(id=uuid.uuid4())
    invalid["answers"]["1"] = 7
    changed = {**earlier, "answers": {**earlier["answers"], "2": 3}}
    other_patient_field = {**check_in_body(id=uuid.uuid4()), "patient_id": str(other.id)}
    other_patients_id = check_in_body(id=theirs["id"])
    items = [
        valid,
        earlier,
        valid,
        invalid,
        changed,
        other_patient_field,
        other_patients_id,
        "not an object",
    ]
    response = post_batch(client, auth, patient, items)
    assert response.status_code == 207
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [201, 200, 200, 422, 409, 422, 409, 422]
    assert [r["id"] for r in results[:7]] == [
        valid["id"],
        earlier["id"],
        valid["id"],
        invalid["id"],
        earlier["id"],
        other_patient_field["id"],
        theirs["id"],
    ]
    assert results[0]["check_in"]["score"]["total"] == 2
    assert "answers.1" in results[3]["problem"]["errors"]
    assert "patient_id" in results[5]["problem"]["errors"]
    assert stored_ids(session, patient) == {earlier["id"], valid["id"]}
    assert "check_in" not in results[6] and str(other.id) not in str(results[6])


def test_safety_item_in_a_late_batch_among_invalid_items(
    clock, client, auth, patient, clinician, session
):
    late = (clock.now - dt.timedelta(days=40)).isoformat()
    bad = check_in_body()
    bad["answers"].pop("3")
    positive = check_in_body(id=uuid.uuid4(), completed_at=late, i1=1, i2=1, i9=1)
    response = post_batch(client, auth, patient, [bad, positive, {"questionnaire": "phq9"}])
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [422, 201, 422]
    check_in = results[1]["check_in"]
    assert check_in["late"] is True and check_in["score"]["total"] == 3
    assert check_in["score"]["flags"] == ["suicidal_ideation"]
    assert "988" in check_in["safety"]["message"]
    inbox = client.get("/v1/alerts", headers=auth(clinician)).get_json()["items"]
    assert [(a["kind"], a["priority"], a["check_in_id"]) for a in inbox] == [
        ("suicidal_ideation", "urgent", positive["id"])
    ]


def test_replayed_batch_stores_nothing_new(client, auth, patient, session):
    items = [check_in_body(id=uuid.uuid4(), i1=n) for n in range(3)]
    first = post_batch(client, auth, patient, items).get_json()["results"]
    again = post_batch(client, auth, patient, items).get_json()["results"]
    assert [r["status"] for r in first] == [201] * 3
    assert [r["status"] for r in again] == [200] * 3
    assert [r["check_in"] for r in again] == [r["check_in"] for r in first]
    assert len(stored_ids(session, patient)) == 3


def test_replayed_safety_check_in_raises_no_second_alert(client, auth, patient, session):
    item = check_in_body(id=uuid.uuid4(), i9=2)
    post_batch(client, auth, patient, [item])
    replay = post_batch(client, auth, patient, [item]).get_json()["results"][0]
    assert replay["status"] == 200 and "safety" in replay["check_in"]
    session.expire_all()
    assert session.scalar(select(func.count()).where(Alert.patient_id == patient.id)) == 1


def test_batch_limits(client, auth, patient):
    assert post_batch(client, auth, patient, []).status_code == 422
    too_many = [check_in_body() for _ in range(101)]
    response = post_batch(client, auth, patient, too_many)
    assert response.status_code == 422 and "check_ins" in response.get_json()["errors"]


def test_batch_for_another_patient_is_404(client, auth, patient, make_patient, clinic):
    other = make_patient(clinic)
    response = post_batch(client, auth, other, [check_in_body()], who=patient)
    assert response.status_code == 404
