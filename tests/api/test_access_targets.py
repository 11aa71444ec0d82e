"""Whose record a write targets matters as much as who calls: a target in another clinic (a user
to deactivate, a clinician to add to a care team, a patient whose team is changed) answers 404, or
for a reference in the body the same 422 as an id that names no one, and nothing changes."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from api.models import CareTeamMember, User


@dataclass
class Clinics:
    admin: User
    care_clinician: User
    colleague: User
    patient: object
    other_admin: User
    other_clinician: User
    other_patient: object
    clinic: object
    other_clinic: object


@pytest.fixture
def clinics(make_clinic, make_user, make_patient) -> Clinics:
    clinic, other_clinic = make_clinic("Clinic A"), make_clinic("Clinic Z")
    care_clinician = make_user(clinic, "clinician")
    other_clinician = make_user(other_clinic, "clinician")
    return Clinics(
        admin=make_user(clinic, "clinic_admin"),
        care_clinician=care_clinician,
        colleague=make_user(clinic, "clinician"),
        patient=make_patient(clinic, care_team=(care_clinician,)),
        other_admin=make_user(other_clinic, "clinic_admin"),
        other_clinician=other_clinician,
        other_patient=make_patient(other_clinic, care_team=(other_clinician,)),
        clinic=clinic,
        other_clinic=other_clinic,
    )


def team(session, patient) -> set:
    session.expire_all()
    return set(
        session.scalars(
            select(CareTeamMember.user_id).where(CareTeamMember.patient_id == patient.id)
        )
    )


@pytest.mark.parametrize("caller", ["admin", "care_clinician"])
def test_adding_another_clinics_clinician_to_a_care_team(client, auth, session, clinics, caller):
    response = client.post(
        f"/v1/patients/{clinics.patient.id}/care-team",
        json={"user_id": str(clinics.other_clinician.id)},
        headers=auth(getattr(clinics, caller)),
    )
    # The same answer as for an id that names no one: nothing about the other clinic.
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"user_id": ["Not a clinician of this clinic."]}
    assert team(session, clinics.patient) == {clinics.care_clinician.id}


@pytest.mark.parametrize("caller", ["admin", "care_clinician"])
def test_adding_a_colleague_to_another_clinics_patient(client, auth, session, clinics, caller):
    response = client.post(
        f"/v1/patients/{clinics.other_patient.id}/care-team",
        json={"user_id": str(clinics.colleague.id)},
        headers=auth(getattr(clinics, caller)),
    )
    assert response.status_code == 404
    assert team(session, clinics.other_patient) == {clinics.other_clinician.id}


def test_removing_another_clinics_care_team_member(client, auth, session, clinics):
    response = client.delete(
        f"/v1/patients/{clinics.other_patient.id}/care-team/{clinics.other_clinician.id}",
        headers=auth(clinics.admin),
    )
    assert response.status_code == 404
    assert team(session, clinics.other_patient) == {clinics.other_clinician.id}


def test_a_colleague_of_the_same_clinic_can_be_added(client, auth, session, clinics):
    response = client.post(
        f"/v1/patients/{clinics.patient.id}/care-team",
        json={"user_id": str(clinics.colleague.id)},
        headers=auth(clinics.care_clinician),
    )
    assert response.status_code == 204
    assert team(session, clinics.patient) == {clinics.care_clinician.id, clinics.colleague.id}


@pytest.mark.parametrize("through", ["own clinic", "their clinic"])
def test_deactivating_another_clinics_user(client, auth, session, clinics, through):
    clinic = clinics.clinic if through == "own clinic" else clinics.other_clinic
    response = client.patch(
        f"/v1/clinics/{clinic.id}/staff/{clinics.other_clinician.id}",
        json={"active": False},
        headers=auth(clinics.admin),
    )
    assert response.status_code == 404
    session.refresh(clinics.other_clinician)
    assert clinics.other_clinician.is_active


def test_deactivating_a_patient_account_through_the_staff_route(client, auth, session, clinics):
    response = client.patch(
        f"/v1/clinics/{clinics.clinic.id}/staff/{clinics.patient.user_id}",
        json={"active": False},
        headers=auth(clinics.admin),
    )
    assert response.status_code == 404
    assert session.get(User, clinics.patient.user_id).is_active


def test_inviting_staff_into_another_clinic(client, auth, session, clinics):
    response = client.post(
        f"/v1/clinics/{clinics.other_clinic.id}/staff",
        json={"email": "mole@example.test", "display_name": "Mole", "role": "clinic_admin"},
        headers=auth(clinics.admin),
    )
    assert response.status_code == 404
    assert session.scalar(select(User).where(User.email == "mole@example.test")) is None


def test_changing_another_clinics_settings(client, auth, session, clinics):
    response = client.patch(
        f"/v1/clinics/{clinics.other_clinic.id}",
        json={"name": "Taken over"},
        headers=auth(clinics.admin),
    )
    assert response.status_code == 404
    session.refresh(clinics.other_clinic)
    assert clinics.other_clinic.name == "Clinic Z"


def test_only_a_clinician_joins_a_care_team(client, auth, session, clinics):
    response = client.post(
        f"/v1/patients/{clinics.patient.id}/care-team",
        json={"user_id": str(clinics.admin.id)},
        headers=auth(clinics.care_clinician),
    )
    assert (response.status_code, response.get_json()["errors"]) == (
        422,
        {"user_id": ["Not a clinician of this clinic."]},
    )
    assert team(session, clinics.patient) == {clinics.care_clinician.id}


def test_who_added_a_member_is_recorded(client, auth, session, clinics):
    client.post(
        f"/v1/patients/{clinics.patient.id}/care-team",
        json={"user_id": str(clinics.colleague.id)},
        headers=auth(clinics.admin),
    )
    member = session.get(CareTeamMember, (clinics.patient.id, clinics.colleague.id))
    assert member.added_by == clinics.admin.id and member.clinic_id == clinics.clinic.id


def test_removing_someone_on_another_patients_team_only(
    client, auth, session, clinics, make_patient
):
    neighbour = make_patient(clinics.clinic, care_team=(clinics.colleague,))
    response = client.delete(
        f"/v1/patients/{clinics.patient.id}/care-team/{clinics.colleague.id}",
        headers=auth(clinics.admin),
    )
    assert (response.status_code, response.get_json()["detail"]) == (
        404,
        "That clinician is not on this care team.",
    )
    assert team(session, neighbour) == {clinics.colleague.id}


def test_removing_one_member_leaves_the_others(client, auth, session, clinics, make_patient):
    neighbour = make_patient(clinics.clinic, care_team=(clinics.care_clinician,))
    response = client.delete(
        f"/v1/patients/{clinics.patient.id}/care-team/{clinics.care_clinician.id}",
        headers=auth(clinics.admin),
    )
    assert response.status_code == 204
    assert team(session, clinics.patient) == set()
    assert team(session, neighbour) == {clinics.care_clinician.id}


def test_the_staff_list_is_the_clinics_staff_by_name(
    client, auth, clinics, make_user, make_patient
):
    make_user(clinics.clinic, "clinician", display_name="Aaron Able")
    make_user(clinics.clinic, "clinician", display_name="Zoe Zed")
    make_patient(clinics.clinic)
    body = client.get(f"/v1/clinics/{clinics.clinic.id}/staff", headers=auth(clinics.admin))
    staff = body.get_json()["items"]
    names = [member["display_name"] for member in staff]
    expected = {clinics.admin, clinics.care_clinician, clinics.colleague}
    assert names[0] == "Aaron Able" and names[-1] == "Zoe Zed" and names == sorted(names)
    assert {member["user_id"] for member in staff} >= {str(u.id) for u in expected}
    assert len(staff) == len(expected) + 2
    assert {member["role"] for member in staff} == {"clinician", "clinic_admin"}
