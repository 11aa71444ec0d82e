"""A refusal says what is wrong in words a client can show as they are (PRODUCT.md: problem
details): each is checked word for word here, with the case just inside the rule."""

from __future__ import annotations

import datetime as dt
import uuid

from tests.conftest import check_in_body


def detail(response, status: int) -> str:
    assert response.status_code == status, response.get_json()
    return response.get_json()["detail"]


def test_a_role_that_may_not(client, auth, patient):
    response = client.post(
        "/v1/patients", json={"display_name": "X", "timezone": "UTC"}, headers=auth(patient)
    )
    assert detail(response, 403) == "Your role may not do this."


def test_another_clinic(client, auth, admin, make_clinic):
    elsewhere = make_clinic("Elsewhere")
    response = client.get(f"/v1/clinics/{elsewhere.id}/staff", headers=auth(admin))
    assert detail(response, 404) == "Clinic not found."


def test_a_check_in_for_an_unknown_patient(client, auth, patient):
    response = client.post(
        f"/v1/patients/{uuid.uuid4()}/check-ins", json=check_in_body(), headers=auth(patient)
    )
    assert detail(response, 404) == "Patient not found."


def test_an_unknown_course(client, auth, clinician):
    response = client.get(f"/v1/courses/{uuid.uuid4()}", headers=auth(clinician))
    assert detail(response, 404) == "Course not found."


def test_outcomes_of_an_unknown_questionnaire(client, auth, admin, clinic):
    response = client.get(
        f"/v1/clinics/{clinic.id}/outcomes?questionnaire=bdi2", headers=auth(admin)
    )
    assert detail(response, 404) == "No such questionnaire."


def test_small_numbers_are_the_admins(client, auth, clinician, clinic):
    response = client.get(
        f"/v1/clinics/{clinic.id}/outcomes?questionnaire=phq9&suppress=false",
        headers=auth(clinician),
    )
    assert detail(response, 403) == (
        "Only a clinic admin may see numbers about fewer than five patients."
    )


def test_the_attention_order_is_the_clinicians(client, auth, admin):
    response = client.get("/v1/patients?sort=attention", headers=auth(admin))
    assert detail(response, 403) == "The attention order is the clinician's panel."


def infusion_refused(client, auth, clinician, course, body: dict) -> dict:
    response = client.post(
        f"/v1/courses/{course['id']}/infusions", json=body, headers=auth(clinician)
    )
    assert response.status_code == 422, response.get_json()
    return response.get_json()["errors"]


def test_a_completed_infusion_needs_when_and_how_much(client, auth, course_api, patient, clinician):
    course = course_api.start(patient)
    assert infusion_refused(client, auth, clinician, course, {"status": "completed"}) == {
        "administered_at": ["Required for a completed infusion."],
        "dose_mg_per_kg": ["Required for a completed infusion."],
    }


def test_a_scheduled_infusion_needs_its_time(client, auth, course_api, patient, clinician):
    course = course_api.start(patient)
    assert infusion_refused(client, auth, clinician, course, {"status": "scheduled"}) == {
        "scheduled_for": ["Required for a scheduled infusion."]
    }


def test_an_infusion_given_up_to_five_minutes_ahead_of_the_clock(
    clock, client, auth, course_api, patient, clinician
):
    """Five minutes allow for a clinic's clock running ahead of ours; past them, it is a
    mistake."""
    course = course_api.start(patient)
    edge = clock.now + dt.timedelta(minutes=5)
    assert course_api.infuse(course, edge.isoformat())["administered_at"] == edge.isoformat()
    later = (edge + dt.timedelta(seconds=1)).isoformat()
    body = {"status": "completed", "administered_at": later, "dose_mg_per_kg": 0.5}
    assert infusion_refused(client, auth, clinician, course, body) == {
        "administered_at": ["Must not be in the future."]
    }


def test_an_infusion_scheduled_up_to_two_years_ahead(
    clock, client, auth, course_api, patient, clinician
):
    course = course_api.start(patient)
    edge = clock.now + dt.timedelta(days=2 * 366)
    assert course_api.schedule(course, edge.isoformat())["scheduled_for"] == edge.isoformat()
    later = (edge + dt.timedelta(seconds=1)).isoformat()
    body = {"status": "scheduled", "scheduled_for": later}
    assert infusion_refused(client, auth, clinician, course, body) == {
        "scheduled_for": ["Must not be more than two years ahead."]
    }


def test_a_scheduled_infusion_has_no_time_given(
    clock, client, auth, course_api, patient, clinician
):
    course = course_api.start(patient)
    ahead = (clock.now + dt.timedelta(days=7)).isoformat()
    body = {"status": "scheduled", "scheduled_for": ahead, "administered_at": ahead}
    assert infusion_refused(client, auth, clinician, course, body) == {
        "administered_at": ["Only an infusion given has this time."]
    }
    planned = course_api.schedule(course, ahead)
    moved = course_api.patch_infusion(planned, administered_at=clock.now.isoformat())
    assert moved.status_code == 409
    assert moved.get_json()["errors"] == {
        "administered_at": ["Only an infusion given has this time."]
    }


def course_change(client, auth, clinician, course_api, course, changes: dict):
    current = course_api.course(course)
    return client.patch(
        f"/v1/courses/{course['id']}",
        json=changes,
        headers={**auth(clinician), "If-Match": current.headers["ETag"]},
    )


def test_a_course_starts_up_to_a_year_ahead(clock, client, auth, course_api, patient, clinician):
    edge = (clock.now + dt.timedelta(days=366)).date()
    response = client.post(
        f"/v1/patients/{patient.id}/courses",
        json={
            "indications": ["depression"],
            "started_on": (edge + dt.timedelta(days=1)).isoformat(),
        },
        headers=auth(clinician),
    )
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["errors"] == {
        "started_on": ["Must not be more than a year from today."]
    }
    assert course_api.start(patient, started_on=edge.isoformat())["started_on"] == edge.isoformat()


def test_a_second_active_course(client, auth, course_api, patient, clinician):
    course_api.start(patient)
    response = client.post(
        f"/v1/patients/{patient.id}/courses",
        json={"indications": ["depression"], "started_on": "2026-10-02"},
        headers=auth(clinician),
    )
    assert detail(response, 409) == "This patient already has an active course; complete it first."


def test_an_active_course_has_no_end_date(client, auth, course_api, patient, clinician):
    course = course_api.start(patient)
    response = course_change(
        client, auth, clinician, course_api, course, {"completed_on": "2026-10-20"}
    )
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["errors"] == {
        "completed_on": ["Only a completed course has an end date."]
    }


def test_a_course_ends_no_earlier_than_it_starts(client, auth, course_api, patient, clinician):
    course = course_api.start(patient, started_on="2026-10-01")
    assert course_api.complete(course, "2026-10-01")["completed_on"] == "2026-10-01"
    response = course_change(
        client, auth, clinician, course_api, course, {"completed_on": "2026-09-30"}
    )
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["errors"] == {"completed_on": ["Must not be before started_on."]}


def test_an_unknown_patient(client, auth, clinician):
    response = client.get(f"/v1/patients/{uuid.uuid4()}", headers=auth(clinician))
    assert detail(response, 404) == "Patient not found."


def test_answers_missing_or_out_of_range(client, auth, patient):
    body = check_in_body()
    del body["answers"]["1"]
    body["answers"]["9"] = 4
    response = client.post(f"/v1/patients/{patient.id}/check-ins", json=body, headers=auth(patient))
    assert detail(response, 422) == "Some answers are missing or out of range."
    # Every item is checked: the one missing does not hide the one out of range.
    assert response.get_json()["errors"] == {
        "answers.1": ["Required: every scored item must be answered."],
        "answers.9": ["Must be one of [0, 1, 2, 3]."],
    }


def test_an_answer_that_is_not_a_whole_number(client, auth, patient):
    body = check_in_body()
    body["answers"] |= {"2": "1", "3": 1.5, "4": True}
    response = client.post(f"/v1/patients/{patient.id}/check-ins", json=body, headers=auth(patient))
    assert detail(response, 422) == "Some answers are missing or out of range."
    assert response.get_json()["errors"] == {
        f"answers.{item}": ["Must be a whole number."] for item in ("2", "3", "4")
    }


def test_an_unknown_questionnaire_names_those_known(client, auth, patient):
    body = check_in_body() | {"questionnaire": "bdi2"}
    response = client.post(f"/v1/patients/{patient.id}/check-ins", json=body, headers=auth(patient))
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["errors"] == {
        "questionnaire": ["Unknown; one of gad7, pain, pcl5, phq9."]
    }
