"""Every route × every kind of caller: the expected status, and no leak of another patient."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from api import factories
from api.db import utcnow
from api.domain import identity
from api.smorest import PUBLIC, route_policy
from tests.conftest import check_in_body

ACTORS = [
    "anonymous",
    "patient_a",
    "patient_b",
    "care_clinician",
    "clinic_clinician",
    "other_clinician",
    "admin",
    "other_admin",
]


@dataclass
class World:
    check_in_id: str
    alert_id: str
    course_id: str
    infusion_id: str
    clinic: object
    other_clinic: object
    patient_a: object
    patient_b: object
    care_clinician: object
    clinic_clinician: object
    other_clinician: object
    admin: object
    other_admin: object


pytestmark = pytest.mark.module_transaction


@pytest.fixture(scope="module")
def world(app, module_connection, password_hash) -> World:
    """Built once for the module, in its transaction; each test runs in a savepoint of it, so
    what one test changes the next never sees."""
    with app.extensions["interval.db"].session() as session:
        return build_world(app, session, password_hash)


def build_world(app, session, password_hash) -> World:
    settings = app.extensions["interval.identity"]
    client = app.test_client()

    def user(clinic, role):
        return factories.user(session, clinic, role, password_hash=password_hash)

    def auth(who) -> dict:
        pair = identity.start_session(session, settings, user=who, now=utcnow())
        session.commit()  # the requests' savepoints must not nest in one left open here
        return {"Authorization": f"Bearer {pair.access_token}"}

    def patient(clinic, care_team, **named):
        account = user(clinic, "patient")
        return factories.patient(
            session, clinic, account=account, care_team=care_team, **named
        ), account

    clinic, other_clinic = (
        factories.clinic(session, "Clinic A"),
        factories.clinic(session, "Clinic Z"),
    )
    care_clinician, clinic_clinician = user(clinic, "clinician"), user(clinic, "clinician")
    patient_a, account_a = patient(
        clinic, (care_clinician,), display_name="Alice Secretname", mrn="MRN-A-0001"
    )
    patient_b, account_b = patient(clinic, (clinic_clinician,), display_name="Bob B.")
    people = [
        other_clinician := user(other_clinic, "clinician"),
        admin := user(clinic, "clinic_admin"),
    ]
    people.append(other_admin := user(other_clinic, "clinic_admin"))
    session.commit()
    path = f"/v1/patients/{patient_a.id}/check-ins"
    check_in = client.post(path, json=check_in_body(i9=1), headers=auth(account_a)).get_json()
    client.post(
        f"/v1/patients/{patient_b.id}/check-ins", json=check_in_body(i9=1), headers=auth(account_b)
    )
    [alert] = client.get("/v1/alerts", headers=auth(care_clinician)).get_json()["items"]
    course = client.post(
        f"/v1/patients/{patient_a.id}/courses",
        headers=auth(care_clinician),
        json={"indications": ["depression"], "started_on": "2026-10-01"},
    ).get_json()
    infusion = client.post(
        f"/v1/courses/{course['id']}/infusions",
        headers=auth(care_clinician),
        json={
            "status": "completed",
            "administered_at": "2026-10-02T15:00:00Z",
            "dose_mg_per_kg": 0.5,
            "notes": "Secret clinical note",
        },
    ).get_json()
    everyone = [
        clinic,
        other_clinic,
        care_clinician,
        clinic_clinician,
        patient_a,
        patient_b,
        *people,
    ]
    for record in everyone:
        session.refresh(record)
    session.expunge_all()  # kept as they are: each test reads them without the database
    return World(
        course_id=course["id"],
        infusion_id=infusion["id"],
        check_in_id=check_in["id"],
        alert_id=alert["id"],
        clinic=clinic,
        other_clinic=other_clinic,
        patient_a=patient_a,
        patient_b=patient_b,
        care_clinician=care_clinician,
        clinic_clinician=clinic_clinician,
        other_clinician=other_clinician,
        admin=admin,
        other_admin=other_admin,
    )


def _statuses(anonymous, patient_a, patient_b, care, clinic, other, admin, other_admin):
    return dict(
        zip(
            ACTORS,
            (anonymous, patient_a, patient_b, care, clinic, other, admin, other_admin),
            strict=True,
        )
    )


# (method, rule, path builder, body builder, expected status per actor)
ROUTES = [
    ("GET", "/v1/me", lambda w: "/v1/me", None, _statuses(401, 200, 200, 200, 200, 200, 200, 200)),
    (
        "POST",
        "/v1/me/password",
        lambda w: "/v1/me/password",
        lambda w: {"current_password": "not the password", "new_password": "whatever long"},
        _statuses(401, 403, 403, 403, 403, 403, 403, 403),
    ),
    (
        "GET",
        "/v1/patients",
        lambda w: "/v1/patients",
        None,
        _statuses(401, 200, 200, 200, 200, 200, 200, 200),
    ),
    (
        "POST",
        "/v1/patients",
        lambda w: "/v1/patients",
        lambda w: {"display_name": "Created", "timezone": "America/Chicago"},
        _statuses(401, 403, 403, 201, 201, 201, 201, 201),
    ),
    (
        "GET",
        "/v1/patients/<uuid:patient_id>",
        lambda w: f"/v1/patients/{w.patient_a.id}",
        None,
        _statuses(401, 200, 404, 200, 404, 404, 200, 404),
    ),
    (
        "POST",
        "/v1/patients/<uuid:patient_id>/care-team",
        lambda w: f"/v1/patients/{w.patient_a.id}/care-team",
        lambda w: {"user_id": str(w.clinic_clinician.id)},
        _statuses(401, 403, 403, 204, 404, 404, 204, 404),
    ),
    (
        "DELETE",
        "/v1/patients/<uuid:patient_id>/care-team/<uuid:user_id>",
        lambda w: f"/v1/patients/{w.patient_a.id}/care-team/{w.care_clinician.id}",
        None,
        _statuses(401, 403, 403, 204, 404, 404, 204, 404),
    ),
    (
        "POST",
        "/v1/patients/<uuid:patient_id>/enrollment",
        lambda w: f"/v1/patients/{w.patient_a.id}/enrollment",
        None,
        _statuses(401, 403, 403, 409, 404, 404, 409, 404),
    ),
    (
        "GET",
        "/v1/clinics/<uuid:clinic_id>/staff",
        lambda w: f"/v1/clinics/{w.clinic.id}/staff",
        None,
        _statuses(401, 403, 403, 200, 200, 404, 200, 404),
    ),
    (
        "POST",
        "/v1/clinics/<uuid:clinic_id>/staff",
        lambda w: f"/v1/clinics/{w.clinic.id}/staff",
        lambda w: {"email": "invitee@example.test", "display_name": "Invitee", "role": "clinician"},
        _statuses(401, 403, 403, 403, 403, 403, 201, 404),
    ),
    (
        "GET",
        "/v1/clinics/<uuid:clinic_id>/staff/<uuid:user_id>",
        lambda w: f"/v1/clinics/{w.clinic.id}/staff/{w.clinic_clinician.id}",
        None,
        _statuses(401, 403, 403, 200, 200, 404, 200, 404),
    ),
    (
        "PATCH",
        "/v1/clinics/<uuid:clinic_id>/staff/<uuid:user_id>",
        lambda w: f"/v1/clinics/{w.clinic.id}/staff/{w.clinic_clinician.id}",
        lambda w: {"active": True},
        _statuses(401, 403, 403, 403, 403, 403, 200, 404),
    ),
    (
        "GET",
        "/v1/clinics/<uuid:clinic_id>",
        lambda w: f"/v1/clinics/{w.clinic.id}",
        None,
        _statuses(401, 403, 403, 200, 200, 404, 200, 404),
    ),
    (
        "PATCH",
        "/v1/clinics/<uuid:clinic_id>",
        lambda w: f"/v1/clinics/{w.clinic.id}",
        lambda w: {"name": "Renamed clinic"},
        _statuses(401, 403, 403, 403, 403, 403, 200, 404),
    ),
    (
        "GET",
        "/v1/patients/<uuid:patient_id>/check-ins",
        lambda w: f"/v1/patients/{w.patient_a.id}/check-ins",
        None,
        _statuses(401, 200, 404, 200, 404, 404, 403, 403),
    ),
    (
        "POST",
        "/v1/patients/<uuid:patient_id>/check-ins",
        lambda w: f"/v1/patients/{w.patient_a.id}/check-ins",
        lambda w: check_in_body("pain", i1=3),
        _statuses(401, 201, 404, 201, 404, 404, 403, 403),
    ),
    (
        "POST",
        "/v1/patients/<uuid:patient_id>/check-ins/batch",
        lambda w: f"/v1/patients/{w.patient_a.id}/check-ins/batch",
        lambda w: {"check_ins": [check_in_body("pain", i1=3)]},
        _statuses(401, 207, 404, 403, 403, 403, 403, 403),
    ),
    (
        "GET",
        "/v1/check-ins/<uuid:check_in_id>",
        lambda w: f"/v1/check-ins/{w.check_in_id}",
        None,
        _statuses(401, 200, 404, 200, 404, 404, 403, 403),
    ),
    (
        "POST",
        "/v1/check-ins/<uuid:check_in_id>/entered-in-error",
        lambda w: f"/v1/check-ins/{w.check_in_id}/entered-in-error",
        lambda w: {"reason": "test"},
        _statuses(401, 403, 403, 200, 404, 404, 403, 403),
    ),
    (
        "GET",
        "/v1/alerts",
        lambda w: "/v1/alerts",
        None,
        _statuses(401, 403, 403, 200, 200, 200, 200, 200),
    ),
    (
        "POST",
        "/v1/alerts/<uuid:alert_id>/acknowledge",
        lambda w: f"/v1/alerts/{w.alert_id}/acknowledge",
        lambda w: {},
        _statuses(401, 403, 403, 200, 404, 404, 200, 404),
    ),
    (
        "POST",
        "/v1/alerts/<uuid:alert_id>/resolve",
        lambda w: f"/v1/alerts/{w.alert_id}/resolve",
        lambda w: {"note": "Called the patient"},
        _statuses(401, 403, 403, 200, 404, 404, 200, 404),
    ),
    (
        "GET",
        "/v1/patients/<uuid:patient_id>/courses",
        lambda w: f"/v1/patients/{w.patient_a.id}/courses",
        None,
        _statuses(401, 200, 404, 200, 404, 404, 403, 403),
    ),
    (
        "POST",
        "/v1/patients/<uuid:patient_id>/courses",
        lambda w: f"/v1/patients/{w.patient_a.id}/courses",
        lambda w: {"indications": ["anxiety"], "started_on": "2026-11-01"},
        _statuses(401, 403, 403, 409, 404, 404, 403, 403),
    ),
    (
        "GET",
        "/v1/courses/<uuid:course_id>",
        lambda w: f"/v1/courses/{w.course_id}",
        None,
        _statuses(401, 200, 404, 200, 404, 404, 403, 403),
    ),
    (
        "PATCH",
        "/v1/courses/<uuid:course_id>",
        lambda w: f"/v1/courses/{w.course_id}",
        lambda w: {"induction_infusions": 8},
        _statuses(401, 403, 403, 428, 404, 404, 403, 403),
    ),
    (
        "GET",
        "/v1/courses/<uuid:course_id>/infusions",
        lambda w: f"/v1/courses/{w.course_id}/infusions",
        None,
        _statuses(401, 200, 404, 200, 404, 404, 403, 403),
    ),
    (
        "POST",
        "/v1/courses/<uuid:course_id>/infusions",
        lambda w: f"/v1/courses/{w.course_id}/infusions",
        lambda w: {"status": "scheduled", "scheduled_for": "2026-12-01T15:00:00Z"},
        _statuses(401, 403, 403, 201, 404, 404, 403, 403),
    ),
    (
        "GET",
        "/v1/infusions/<uuid:infusion_id>",
        lambda w: f"/v1/infusions/{w.infusion_id}",
        None,
        _statuses(401, 403, 403, 200, 404, 404, 403, 403),
    ),
    (
        "PATCH",
        "/v1/infusions/<uuid:infusion_id>",
        lambda w: f"/v1/infusions/{w.infusion_id}",
        lambda w: {"notes": "changed"},
        _statuses(401, 403, 403, 428, 404, 404, 403, 403),
    ),
    (
        "GET",
        "/v1/patients/<uuid:patient_id>/due",
        lambda w: f"/v1/patients/{w.patient_a.id}/due",
        None,
        _statuses(401, 200, 404, 200, 404, 404, 403, 403),
    ),
    (
        "GET",
        "/v1/patients/<uuid:patient_id>/trends/<string:questionnaire>",
        lambda w: f"/v1/patients/{w.patient_a.id}/trends/phq9",
        None,
        _statuses(401, 200, 404, 200, 404, 404, 403, 403),
    ),
    (
        "GET",
        "/v1/patients/<uuid:patient_id>/summary",
        lambda w: f"/v1/patients/{w.patient_a.id}/summary",
        None,
        _statuses(401, 200, 404, 200, 404, 404, 403, 403),
    ),
    (
        "GET",
        "/v1/patients/<uuid:patient_id>/report",
        lambda w: f"/v1/patients/{w.patient_a.id}/report",
        None,
        _statuses(401, 403, 403, 200, 404, 404, 403, 403),
    ),
    (
        "GET",
        "/v1/patients/<uuid:patient_id>/fhir",
        lambda w: f"/v1/patients/{w.patient_a.id}/fhir",
        None,
        _statuses(401, 200, 404, 200, 404, 404, 403, 403),
    ),
    (
        "GET",
        "/v1/clinics/<uuid:clinic_id>/outcomes",
        lambda w: f"/v1/clinics/{w.clinic.id}/outcomes?questionnaire=phq9",
        None,
        _statuses(401, 403, 403, 200, 200, 404, 200, 404),
    ),
    (
        "GET",
        "/v1/audit-events",
        lambda w: "/v1/audit-events",
        None,
        _statuses(401, 403, 403, 403, 403, 403, 200, 200),
    ),
]

OUT_OF_SCOPE_FOR_A = {
    "patient_b",
    "clinic_clinician",
    "other_clinician",
    "other_admin",
    "anonymous",
}


def _call(client, world, auth, actor, method, path, body):
    headers = {} if actor == "anonymous" else auth(getattr(world, actor))
    return client.open(path, method=method, json=body, headers=headers)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(
    "method,rule,path,body,expected", ROUTES, ids=[f"{r[0]} {r[1]}" for r in ROUTES]
)
def test_access(client, world, auth, actor, method, rule, path, body, expected):
    response = _call(client, world, auth, actor, method, path(world), body(world) if body else None)
    assert response.status_code == expected[actor], response.get_data(as_text=True)
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json"
    if actor in OUT_OF_SCOPE_FOR_A:
        text = response.get_data(as_text=True)
        assert "Alice Secretname" not in text
        assert "MRN-A-0001" not in text
        assert str(world.patient_a.id) not in text
        assert world.check_in_id not in text
        assert "Secret clinical note" not in text


@pytest.mark.parametrize(
    "actor,expected",
    [
        ("patient_a", {"patient_a"}),
        ("patient_b", {"patient_b"}),
        ("care_clinician", {"patient_a"}),
        ("clinic_clinician", {"patient_b"}),
        ("other_clinician", set()),
        ("admin", {"patient_a", "patient_b"}),
        ("other_admin", set()),
    ],
)
def test_patient_list_is_scoped(client, world, auth, actor, expected):
    body = client.get("/v1/patients", headers=auth(getattr(world, actor))).get_json()
    wanted = {str(getattr(world, name).id) for name in expected}
    assert {item["id"] for item in body["items"]} == wanted


def test_every_protected_route_is_in_the_matrix(app):
    covered = {(method, rule) for method, rule, *_ in ROUTES}
    protected = set()
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if route_policy(app, rule.endpoint, method) != PUBLIC:
                protected.add((method, rule.rule))
    assert protected == covered


def test_every_route_declares_an_access_policy(app):
    """Deny unless allowed: a route nobody thought about fails here (and is refused at run time)."""
    missing = [
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
        if route_policy(app, rule.endpoint, method) is None
    ]
    assert missing == []


def test_a_route_without_policy_is_refused(app, client):
    app.view_functions["health.healthz"]._access, saved = None, PUBLIC
    try:
        assert client.get("/healthz").status_code == 403
    finally:
        app.view_functions["health.healthz"]._access = saved
