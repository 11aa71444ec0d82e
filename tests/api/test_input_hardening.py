"""Nothing may lose a check-in: unrepresentable or implausible times, malformed JSON, values the
database refuses and failures inside one batch item all answer 4xx (or the item's own problem),
and nothing stored is lost or doubled."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError

from api.app import create_app
from api.domain import check_ins as check_in_service
from api.models import CheckIn, Infusion
from api.smorest import PUBLIC
from tests.conftest import app_config, check_in_body

PROBLEM = "application/problem+json"
BAD_TIMES = [
    "0001-01-01T00:00:00+05:00",  # year 1 moved to UTC is before year 1
    "9999-12-31T23:59:59-05:00",  # year 9999 moved to UTC is after it
    "1899-12-31T23:59:59Z",
    "2100-01-01T00:00:00Z",
    "2026-11-20 08:15:00Z",  # a space, not RFC 3339's T
    "20261120T081500Z",  # ISO 8601 basic format
    "2026-11-20T08:15:00",  # no offset
    "2026-11-20T08:15:00+24:00",
    "2026-02-30T08:00:00Z",
    "now",
]


def refused(response, field: str, status: int = 422) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert field in body.get("errors", {}), body
    return body


@pytest.mark.parametrize("value", BAD_TIMES)
def test_check_in_times(submit, patient, value):
    refused(submit(patient, check_in_body() | {"completed_at": value}), "completed_at")


@pytest.mark.parametrize("value", BAD_TIMES)
@pytest.mark.parametrize("field", ["administered_at", "scheduled_for"])
def test_infusion_times(client, auth, course_api, patient, clinician, field, value):
    course = course_api.start(patient)
    body = {"status": "completed", "dose_mg_per_kg": 0.5, field: value}
    response = client.post(
        f"/v1/courses/{course['id']}/infusions", json=body, headers=auth(clinician)
    )
    refused(response, field)


@pytest.mark.parametrize("value", ["0001-01-01", "1899-12-31", "2100-01-01", "2026-11-1", 20261101])
def test_course_dates(client, auth, patient, clinician, value):
    response = client.post(
        f"/v1/patients/{patient.id}/courses",
        json={"indications": ["depression"], "started_on": value},
        headers=auth(clinician),
    )
    refused(response, "started_on")


def test_a_course_more_than_a_year_ahead_is_refused(client, auth, patient, clinician):
    response = client.post(
        f"/v1/patients/{patient.id}/courses",
        json={"indications": ["depression"], "started_on": "2099-01-01"},
        headers=auth(clinician),
    )
    refused(response, "started_on")


def test_an_infusion_scheduled_years_ahead_is_refused(client, auth, course_api, patient, clinician):
    course = course_api.start(patient)
    response = client.post(
        f"/v1/courses/{course['id']}/infusions",
        json={"status": "scheduled", "scheduled_for": "2099-01-01T10:00:00Z"},
        headers=auth(clinician),
    )
    refused(response, "scheduled_for")


def test_completing_a_course_checks_its_end_date(client, auth, course_api, patient, clinician):
    course = course_api.start(patient)
    response = client.patch(
        f"/v1/courses/{course['id']}",
        json={"status": "completed", "completed_on": "0001-01-01"},
        headers={**auth(clinician), "If-Match": course_api.course(course).headers["ETag"]},
    )
    refused(response, "completed_on")


@pytest.mark.parametrize(
    "path,parameter",
    [
        ("/v1/patients/{patient}/check-ins", "from"),
        ("/v1/patients/{patient}/check-ins", "to"),
        ("/v1/patients/{patient}/due", "at"),
        ("/v1/audit-events", "from"),
        ("/v1/audit-events", "to"),
    ],
)
@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+05:00", "2026-11-20 08:15:00Z"])
def test_time_query_parameters(client, auth, patient, clinician, admin, path, parameter, value):
    who = admin if path.startswith("/v1/audit") else clinician
    response = client.get(
        path.format(patient=patient.id), query_string={parameter: value}, headers=auth(who)
    )
    refused(response, parameter)


def test_an_impossible_infusion_never_blocks_later_check_ins(
    client, auth, course_api, patient, clinician, submit
):
    course = course_api.start(patient)
    response = client.post(
        f"/v1/courses/{course['id']}/infusions",
        json={
            "status": "completed",
            "administered_at": "0001-01-01T00:00:00+00:00",
            "dose_mg_per_kg": 0.5,
        },
        headers=auth(clinician),
    )
    assert response.status_code == 422
    stored = submit(patient, check_in_body(i9=1))
    assert stored.status_code == 201 and stored.get_json()["safety"]["answers_sent"]


def post_json(client, headers, path, data: str):
    return client.post(path, data=data, headers={**headers, "Content-Type": "application/json"})


@pytest.mark.parametrize(
    "raw,status",
    [
        ('{"questionnaire": "phq9", "answers": ' + "[" * 100_000 + "]" * 100_000 + "}", 400),
        ('{"questionnaire": "phq9", "answers": {"1": ' + "9" * 5000 + "}}", 400),
        ('{"questionnaire": "phq9", "answers": {"1": NaN}}', 400),
        ('{"questionnaire": "phq9", "answers": {"1": 1e999}}', 400),
        (b'{"questionnaire": "phq\xff9"}', 400),
        ('{"questionnaire": "phq9", "answers": ' + "[" * 40 + "]" * 40 + "}", 422),
        ('{"questionnaire": "phq\\u00009", "answers": {}}', 422),
        ('{"questionnaire": "\\ud800", "answers": {}}', 422),
        ('{"questionnaire": "phq9", "answers": {"1\\u0000": 0}}', 422),
    ],
    ids=[
        "deeply nested",
        "5000-digit integer",
        "NaN",
        "infinite number",
        "not UTF-8",
        "nested past the limit",
        "NUL in a value",
        "lone surrogate",
        "NUL in a field name",
    ],
)
def test_malformed_bodies(client, auth, patient, raw, status):
    response = post_json(client, auth(patient), f"/v1/patients/{patient.id}/check-ins", raw)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM


def test_unstorable_strings_are_named(client, auth, clinician):
    response = client.post(
        "/v1/patients",
        json={"display_name": "Ann\x00e", "timezone": "UTC", "mrn": "\ud83d"},
        headers=auth(clinician),
    )
    body = refused(response, "display_name")
    assert "mrn" in body["errors"]


@pytest.mark.parametrize(
    "query", ["questionnaire=phq%009", "status=final%00", "cursor=%00", "limit=1%00"]
)
def test_nul_in_a_query_string(client, auth, patient, query):
    response = client.get(f"/v1/patients/{patient.id}/check-ins?{query}", headers=auth(patient))
    assert response.status_code == 422 and response.mimetype == PROBLEM


@pytest.mark.parametrize(
    "field,value",
    [
        ("dose_mg_per_kg", "0.5"),
        ("dose_mg_per_kg", True),
        ("heart_rate", "80"),
        ("duration_minutes", 40.5),
        ("serious_side_effects", 1),
        ("serious_side_effects", "true"),
    ],
)
def test_numbers_and_booleans_are_json_numbers_and_booleans(
    client, auth, course_api, patient, clinician, field, value
):
    course = course_api.start(patient)
    body = {
        "status": "completed",
        "administered_at": "2026-10-05T14:00:00Z",
        "dose_mg_per_kg": 0.5,
        field: value,
    }
    response = client.post(
        f"/v1/courses/{course['id']}/infusions", json=body, headers=auth(clinician)
    )
    refused(response, field)


@pytest.mark.parametrize("value", [0, 1, "false"])
def test_staff_activation_takes_a_boolean(client, auth, admin, clinic, clinician, value):
    response = client.patch(
        f"/v1/clinics/{clinic.id}/staff/{clinician.id}", json={"active": value}, headers=auth(admin)
    )
    refused(response, "active")


@pytest.mark.parametrize("value", ["1", "yes", "True"])
def test_query_flags_are_true_or_false(client, auth, clinician, value):
    response = client.get(f"/v1/patients?overdue={value}", headers=auth(clinician))
    refused(response, "overdue")


def test_a_value_the_database_refuses_is_a_422(tmp_path):
    app = create_app(app_config(f"sqlite:///{tmp_path / 'x.db'}", str(tmp_path)))

    @app.route("/test-data-error")
    def refuses():
        raise DataError("INSERT ...", {"value": "secret"}, Exception("value out of range"))

    refuses._access = PUBLIC
    response = app.test_client().get("/test-data-error")
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert "secret" not in response.get_data(as_text=True)
    app.extensions["interval.db"].dispose()


def stored(session, patient) -> set[str]:
    session.expire_all()
    return {
        str(i) for i in session.scalars(select(CheckIn.id).where(CheckIn.patient_id == patient.id))
    }


def test_a_failure_inside_one_batch_item_spares_the_others(
    client, auth, patient, session, monkeypatch, caplog
):
    real_score = check_in_service.score

    def score_failing_on_item_1_at_3(definition, answers):
        if answers.get("1") == 3:
            raise RuntimeError("injected failure")
        return real_score(definition, answers)

    monkeypatch.setattr(check_in_service, "score", score_failing_on_item_1_at_3)
    items = [check_in_body(id=uuid.uuid4(), i1=n) for n in (1, 3, 2)]
    items[1]["answers"]["9"] = 1
    with caplog.at_level(logging.ERROR, logger="interval"):
        response = client.post(
            f"/v1/patients/{patient.id}/check-ins/batch",
            json={"check_ins": items},
            headers={**auth(patient), "X-Request-ID": "batch-req-0001"},
        )
    assert response.status_code == 207
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [201, 500, 201]
    assert results[1]["problem"]["safety"]["answers_sent"] is False
    assert results[1]["problem"]["detail"] == (
        "This check-in could not be processed and was not stored; send it again later."
    )
    assert "safety" not in results[0]["check_in"]  # stored without a safety item: nothing to say
    assert stored(session, patient) == {items[0]["id"], items[2]["id"]}
    [record] = [r for r in caplog.records if getattr(r, "event", None) == "batch_item_failed"]
    assert record.request_id == "batch-req-0001" and record.item == 1
    assert record.getMessage() == "batch item failed"


@pytest.mark.parametrize("item", ["a string", 7, None, ["a", "list"]])
def test_a_batch_item_that_is_not_an_object_is_refused_alone(client, auth, patient, item):
    good = check_in_body(id=uuid.uuid4())
    response = client.post(
        f"/v1/patients/{patient.id}/check-ins/batch",
        json={"check_ins": [good, item, {"id": 5, "questionnaire": "phq9"}]},
        headers=auth(patient),
    )
    results = response.get_json()["results"]
    assert [(r["status"], r["id"]) for r in results] == [
        (201, good["id"]),
        (422, None),
        (422, None),
    ]
    assert results[1]["problem"]["errors"] == {"_body": ["Each check-in must be a JSON object."]}


def test_a_batch_item_with_unstorable_text_is_refused_alone(client, auth, patient, session):
    good = check_in_body(id=uuid.uuid4())
    bad = check_in_body(id=uuid.uuid4()) | {"questionnaire": "phq\x009"}
    response = client.post(
        f"/v1/patients/{patient.id}/check-ins/batch",
        data=json.dumps({"check_ins": [good, bad]}),
        headers={**auth(patient), "Content-Type": "application/json"},
    )
    assert [r["status"] for r in response.get_json()["results"]] == [201, 422]
    assert stored(session, patient) == {good["id"]}


def test_a_retried_batch_after_an_item_failure_stores_each_once(
    client, auth, patient, session, monkeypatch
):
    items = [check_in_body(id=uuid.uuid4(), i1=n) for n in (1, 2)]
    path = f"/v1/patients/{patient.id}/check-ins/batch"
    real_score = check_in_service.score
    monkeypatch.setattr(
        check_in_service,
        "score",
        lambda d, a: (_ for _ in ()).throw(RuntimeError()) if a["1"] == 2 else real_score(d, a),
    )
    client.post(path, json={"check_ins": items}, headers=auth(patient))
    monkeypatch.setattr(check_in_service, "score", real_score)
    again = client.post(path, json={"check_ins": items}, headers=auth(patient)).get_json()
    assert [r["status"] for r in again["results"]] == [200, 201]
    count = session.scalar(select(func.count()).where(CheckIn.patient_id == patient.id))
    assert count == 2


def test_an_impossible_infusion_already_stored_is_left_out_of_the_timeline(
    course_api, patient, submit, session
):
    course = course_api.start(patient)
    infusion = course_api.infuse(course, "2026-10-02T15:00:00Z")
    stored = session.get(Infusion, uuid.UUID(infusion["id"]))
    # As a row written before dates were checked might hold.
    stored.administered_at = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
    session.commit()
    response = submit(patient, check_in_body(i9=1))
    assert response.status_code == 201
    assert response.get_json()["context"]["phase"] == "baseline"
