"""Safety and symptom alerts: raised with the check-in, merged while open, never urgent ones."""

from __future__ import annotations

import pytest

from tests.conftest import check_in_body, one_a_page

SEVERE_PHQ9 = {"i1": 3, "i2": 3, "i3": 3, "i4": 3, "i5": 3, "i6": 3, "i7": 2}  # 20


def inbox(client, auth, who, query=""):
    return client.get(f"/v1/alerts{query}", headers=auth(who)).get_json()["items"]


def test_item_9_at_a_low_total_raises_an_urgent_alert_and_safety(
    client, auth, submit, patient, clinician
):
    body = submit(patient, check_in_body(i1=1, i2=1, i9=1)).get_json()
    assert body["score"]["total"] == 3
    assert body["safety"]["resources"][0]["phone"] == "988"
    [alert] = inbox(client, auth, clinician)
    assert (alert["kind"], alert["priority"], alert["status"]) == (
        "suicidal_ideation",
        "urgent",
        "open",
    )
    assert alert["check_in_id"] == body["id"]
    assert alert["completed_at"] and alert["received_at"]
    assert alert["patient_display_name"] == patient.display_name


def test_no_safety_without_item_9(submit, patient):
    assert "safety" not in submit(patient, check_in_body(i1=3)).get_json()


def test_clinic_crisis_message_is_used(client, auth, submit, patient, admin, clinic):
    message = "Call our on-call line at 555-0100, or 988, or 911 in an emergency."
    updated = client.patch(
        f"/v1/clinics/{clinic.id}",
        headers=auth(admin),
        json={
            "crisis_message": message,
            "crisis_resources": [{"name": "Clinic on-call", "phone": "555-0100"}],
        },
    )
    assert updated.status_code == 200
    safety = submit(patient, check_in_body(i9=1)).get_json()["safety"]
    assert safety == {
        "answers_sent": True,
        "message": message,
        "resources": [{"name": "Clinic on-call", "phone": "555-0100"}],
    }


def test_urgent_alerts_of_one_day_merge(client, auth, submit, patient, clinician):
    submit(patient, check_in_body(i9=1))
    submit(patient, check_in_body(i9=2))
    [alert] = inbox(client, auth, clinician)
    assert (alert["kind"], alert["occurrence_count"]) == ("suicidal_ideation", 2)


def test_severe_symptoms_merge_while_open(client, auth, submit, patient, clinician):
    submit(patient, check_in_body(**SEVERE_PHQ9))
    submit(patient, check_in_body(**SEVERE_PHQ9, i8=3))
    [alert] = inbox(client, auth, clinician)
    assert (alert["kind"], alert["priority"], alert["occurrence_count"]) == (
        "severe_symptoms",
        "high",
        2,
    )
    assert [o["total"] for o in alert["occurrences"]] == [20, 23]
    ack = client.post(
        f"/v1/alerts/{alert['id']}/acknowledge",
        json={"note": "Calling today"},
        headers=auth(clinician),
    )
    assert ack.status_code == 200
    submit(patient, check_in_body(**SEVERE_PHQ9))
    kinds = [(a["kind"], a["status"]) for a in inbox(client, auth, clinician)]
    assert sorted(kinds) == [("severe_symptoms", "acknowledged"), ("severe_symptoms", "open")]


def test_gad7_severe_threshold(client, auth, submit, patient, clinician):
    submit(patient, check_in_body("gad7", i1=3, i2=3, i3=3, i4=3, i5=2))
    assert inbox(client, auth, clinician) == []
    submit(patient, check_in_body("gad7", i1=3, i2=3, i3=3, i4=3, i5=3))
    assert [a["questionnaire"] for a in inbox(client, auth, clinician)] == ["gad7"]


def test_urgent_first(client, auth, submit, patient, clinician):
    submit(patient, check_in_body(i9=1))
    submit(patient, check_in_body("gad7", i1=3, i2=3, i3=3, i4=3, i5=3))
    assert [a["priority"] for a in inbox(client, auth, clinician)] == ["urgent", "high"]


def test_acknowledge_and_resolve_record_who_and_when(client, auth, submit, patient, clinician):
    submit(patient, check_in_body(i9=1))
    [alert] = inbox(client, auth, clinician)
    url = f"/v1/alerts/{alert['id']}"
    acked = client.post(f"{url}/acknowledge", json={}, headers=auth(clinician)).get_json()
    assert acked["acknowledged"]["by"] == str(clinician.id) and acked["resolved"] is None
    again = client.post(f"{url}/acknowledge", json={}, headers=auth(clinician))
    assert (again.status_code, again.get_json()["detail"]) == (
        409,
        "The alert is already acknowledged.",
    )
    assert client.post(f"{url}/resolve", json={}, headers=auth(clinician)).status_code == 422
    resolved = client.post(
        f"{url}/resolve", json={"note": "Safety plan reviewed by phone"}, headers=auth(clinician)
    ).get_json()
    assert resolved["status"] == "resolved"
    assert resolved["resolved"]["note"] == "Safety plan reviewed by phone"
    assert inbox(client, auth, clinician) == []
    assert len(inbox(client, auth, clinician, "?status=resolved")) == 1


@pytest.mark.parametrize(
    "query,count",
    [("?kind=suicidal_ideation", 1), ("?kind=severe_symptoms", 1), ("?status=resolved", 0)],
)
def test_filters(client, auth, submit, patient, clinician, query, count):
    submit(patient, check_in_body(**SEVERE_PHQ9, i9=1))
    found = inbox(client, auth, clinician, query)
    assert len(found) == count
    if "kind=" in query:
        assert [a["kind"] for a in found] == [query.split("=")[1]]


def test_one_patients_alerts_page_by_page(
    clock, client, auth, submit, clinic, clinician, patient, make_patient
):
    other = make_patient(clinic, care_team=(clinician,))
    submit(other, check_in_body(i9=1))
    for key, items in (
        ("phq9", {**SEVERE_PHQ9, "i9": 1}),
        ("gad7", {f"i{n}": 3 for n in range(1, 8)}),
    ):
        clock.advance(minutes=1)
        submit(patient, check_in_body(key, **items))
    whole = inbox(client, auth, clinician, f"?patient_id={patient.id}")
    assert {a["patient_id"] for a in whole} == {str(patient.id)} and len(whole) == 3
    seen = one_a_page(client, auth(clinician), f"/v1/alerts?patient_id={patient.id}")
    assert seen == [a["id"] for a in whole]


def test_entered_in_error_keeps_the_alert_and_says_so(client, auth, submit, patient, clinician):
    body = submit(patient, check_in_body(i9=1)).get_json()
    client.post(
        f"/v1/check-ins/{body['id']}/entered-in-error",
        json={"reason": "Tapped the wrong answer"},
        headers=auth(clinician),
    )
    [alert] = inbox(client, auth, clinician)
    assert alert["check_in_entered_in_error"] is True
    assert alert["occurrences"][0]["check_in_status"] == "entered_in_error"


def test_inbox_is_scoped(client, auth, submit, patient, make_patient, make_user, clinic, admin):
    other_clinician = make_user(clinic, "clinician")
    other = make_patient(clinic, care_team=(other_clinician,))
    submit(patient, check_in_body(i9=1))
    submit(other, check_in_body(i9=1))
    assert {a["patient_id"] for a in inbox(client, auth, other_clinician)} == {str(other.id)}
    assert len(inbox(client, auth, admin)) == 2
    mine = inbox(client, auth, other_clinician)[0]["id"]
    theirs = next(a for a in inbox(client, auth, admin) if a["id"] != mine)["id"]
    response = client.post(
        f"/v1/alerts/{theirs}/acknowledge", json={}, headers=auth(other_clinician)
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b["answers"].pop("3"),
        lambda b: b.update(completed_at="2026-11-20T08:15:00"),
        lambda b: b.update(mood="low"),
        lambda b: b["answers"].update({"1": 7}),
    ],
    ids=["missing item", "naive time", "unknown field", "out of range"],
)
def test_a_refused_submission_still_shows_crisis_resources(submit, patient, change):
    body = check_in_body(i9=2)
    change(body)
    response = submit(patient, body)
    assert response.status_code == 422
    assert "988" in response.get_json()["safety"]["message"]


def test_a_refused_submission_without_item_9_has_no_safety(submit, patient):
    body = check_in_body(i9=0)
    body["answers"].pop("3")
    assert "safety" not in submit(patient, body).get_json()


def test_a_refused_batch_item_still_shows_crisis_resources(client, auth, patient):
    body = check_in_body(i9=1)
    body["answers"].pop("2")
    response = client.post(
        f"/v1/patients/{patient.id}/check-ins/batch",
        json={"check_ins": [body]},
        headers=auth(patient),
    )
    [result] = response.get_json()["results"]
    assert result["status"] == 422 and "safety" in result["problem"]


def test_a_listed_check_in_carries_its_safety_text(client, auth, submit, patient):
    flagged = submit(patient, check_in_body(i9=1)).get_json()
    submit(patient, check_in_body(i1=1))
    listed = client.get(f"/v1/patients/{patient.id}/check-ins", headers=auth(patient)).get_json()
    with_safety = [c["id"] for c in listed["items"] if "safety" in c]
    assert with_safety == [flagged["id"]]
