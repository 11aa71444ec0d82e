"""A refusal says what is wrong in words a client can show as they are (PRODUCT.md: problem
details): each is checked word for word here, with the case just inside the rule."""

from __future__ import annotations


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
