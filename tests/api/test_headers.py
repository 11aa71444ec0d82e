"""Request ids, caching headers, health checks, pagination links."""

from __future__ import annotations

import uuid

import flask
import pytest
from flask.sessions import NullSession

from tests.conftest import check_in_body, one_a_page


def test_request_id_is_generated(client):
    assert len(client.get("/healthz").headers["X-Request-ID"]) >= 16


def test_well_formed_request_id_is_kept(client):
    response = client.get("/healthz", headers={"X-Request-ID": "app-7f3a9c21"})
    assert response.headers["X-Request-ID"] == "app-7f3a9c21"


def test_malformed_request_id_is_replaced(client):
    response = client.get("/healthz", headers={"X-Request-ID": "<script>"})
    assert response.headers["X-Request-ID"] != "<script>"


def test_patient_data_is_not_cached(client, clinician, patient, auth):
    response = client.get(f"/v1/patients/{patient.id}", headers=auth(clinician))
    assert response.headers["Cache-Control"] == "no-store"


def test_no_cookie_session_is_read_or_kept(app, client):
    """Callers sign in with a bearer token; Flask's cookie session is never opened, so a
    session cookie sent along is ignored and writing one fails instead of setting it."""
    with app.test_request_context("/healthz", headers={"Cookie": "session=eyJ1c2VyIjoxfQ.x.y"}):
        session = app.session_interface.open_session(app, flask.request)
        assert isinstance(session, NullSession) and dict(session) == {}
        with pytest.raises(RuntimeError):
            session["user"] = 1
    assert "Set-Cookie" not in client.get("/healthz").headers


def test_health_and_readiness(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ok"}


def test_docs_page_is_served_with_local_assets(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/docs/static/swagger-ui-bundle.js" in page.get_data(as_text=True)
    with client.get("/docs/static/swagger-ui-bundle.js") as asset:
        assert asset.status_code == 200


def test_pagination_walks_every_patient_once(client, clinic, admin, make_patient, auth):
    created = {str(make_patient(clinic).id) for _ in range(5)}
    seen, url, pages = [], "/v1/patients?limit=2", 0
    while url:
        response = client.get(url, headers=auth(admin))
        body = response.get_json()
        seen += [item["id"] for item in body["items"]]
        pages += 1
        if body["next_cursor"]:
            assert 'rel="next"' in response.headers["Link"]
            url = f"/v1/patients?limit=2&cursor={body['next_cursor']}"
        else:
            assert "Link" not in response.headers
            url = None
    assert sorted(seen) == sorted(created) and pages == 3


def test_pages_run_newest_first_and_ties_by_id(
    clock, client, clinic, admin, clinician, make_patient, auth
):
    """Patients added in the same instant keep one order across pages: by id, descending."""
    older = sorted((str(make_patient(clinic).id) for _ in range(3)), reverse=True)
    clock.advance(minutes=1)
    newer = sorted((str(make_patient(clinic).id) for _ in range(3)), reverse=True)
    assert one_a_page(client, auth(admin), "/v1/patients") == newer + older


def test_the_attention_order_pages_by_offset(clock, client, clinic, clinician, make_patient, auth):
    created = [make_patient(clinic, care_team=(clinician,)) for _ in range(3)]
    whole = client.get("/v1/patients?sort=attention", headers=auth(clinician)).get_json()
    in_one = [item["id"] for item in whole["items"]]
    assert sorted(in_one) == sorted(str(p.id) for p in created) and whole["next_cursor"] is None
    assert one_a_page(client, auth(clinician), "/v1/patients?sort=attention") == in_one


@pytest.mark.parametrize(
    "position",
    [
        {"id": str(uuid.uuid4())},
        {"created_at": "yesterday", "id": "x"},
        {"created_at": 5, "id": "x"},
    ],
)
def test_a_signed_cursor_that_is_not_a_position_is_refused(
    app, client, clinic, admin, make_patient, auth, position
):
    cursor = app.extensions["interval.cursors"].encode(position)
    response = client.get(f"/v1/patients?cursor={cursor}", headers=auth(admin))
    assert response.status_code == 400
    assert response.get_json()["type"] == "/problems/bad-cursor"


def test_tampered_cursor_is_refused(client, clinic, admin, make_patient, auth):
    for _ in range(3):
        make_patient(clinic)
    cursor = client.get("/v1/patients?limit=1", headers=auth(admin)).get_json()["next_cursor"]
    body, signature = cursor.split(".")
    tampered = ("A" if body[0] != "A" else "B") + body[1:] + "." + signature
    response = client.get(f"/v1/patients?cursor={tampered}", headers=auth(admin))
    assert response.status_code == 400
    assert response.get_json()["type"] == "/problems/bad-cursor"


def test_readiness_fails_cleanly_without_a_database(tmp_path):
    from api.app import create_app
    from tests.conftest import app_config

    app = create_app(app_config("postgresql+psycopg://nobody@127.0.0.1:1/none", str(tmp_path)))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert app.test_client().get("/healthz").status_code == 200
    app.extensions["interval.db"].dispose()


def test_database_outage_answers_503_not_500(tmp_path):
    from api.app import create_app
    from tests.conftest import app_config

    app = create_app(app_config("postgresql+psycopg://nobody@127.0.0.1:1/none", str(tmp_path)))
    response = app.test_client().post(
        "/v1/auth/login", json={"email": "a@b.test", "password": "whatever!"}
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    app.extensions["interval.db"].dispose()


def follow(client, response, headers) -> dict:
    """GET the created resource's Location; its body."""
    assert response.status_code == 201, response.get_json()
    found = client.get(response.headers["Location"], headers=headers)
    assert found.status_code == 200, response.headers["Location"]
    return found.get_json()


def test_every_201_says_where_the_new_resource_is(
    client, auth, clinic, admin, clinician, patient, course_api
):
    made = client.post(
        "/v1/patients",
        json={"display_name": "Robin", "timezone": "Europe/London"},
        headers=auth(clinician),
    )
    assert follow(client, made, auth(clinician))["id"] == made.get_json()["id"]
    code = client.post(f"/v1/patients/{made.get_json()['id']}/enrollment", headers=auth(admin))
    assert follow(client, code, auth(admin))["id"] == made.get_json()["id"]
    enrolled = client.post(
        "/v1/auth/enroll",
        json={"code": code.get_json()["code"], "email": "robin@example.test", "password": "x" * 12},
    )
    access = {"Authorization": f"Bearer {enrolled.get_json()['access_token']}"}
    assert follow(client, enrolled, access)["email"] == "robin@example.test"
    check_in = client.post(
        f"/v1/patients/{patient.id}/check-ins", json=check_in_body(), headers=auth(patient)
    )
    assert follow(client, check_in, auth(patient))["id"] == check_in.get_json()["id"]
    course = client.post(
        f"/v1/patients/{patient.id}/courses",
        json={"indications": ["depression"], "started_on": "2026-10-01"},
        headers=auth(clinician),
    )
    assert follow(client, course, auth(clinician))["id"] == course.get_json()["id"]
    infusion = client.post(
        f"/v1/courses/{course.get_json()['id']}/infusions",
        json={"status": "scheduled", "scheduled_for": "2027-01-05T15:00:00+00:00"},
        headers=auth(clinician),
    )
    assert follow(client, infusion, auth(clinician))["id"] == infusion.get_json()["id"]
    invited = client.post(
        f"/v1/clinics/{clinic.id}/staff",
        json={"email": "new@example.test", "display_name": "Dr New", "role": "clinician"},
        headers=auth(admin),
    )
    assert follow(client, invited, auth(admin))["user_id"] == invited.get_json()["user_id"]


def test_a_repeated_check_in_says_where_the_stored_copy_is(client, auth, patient):
    body = check_in_body(id="7d1c1b8e-2f59-4a39-9a5c-4a3b3f6f0b11")
    first = client.post(f"/v1/patients/{patient.id}/check-ins", json=body, headers=auth(patient))
    again = client.post(f"/v1/patients/{patient.id}/check-ins", json=body, headers=auth(patient))
    assert again.status_code == 200 and "Location" not in again.headers
    assert again.headers["Content-Location"] == first.headers["Location"]
    assert first.headers["Location"] == f"/v1/check-ins/{first.get_json()['id']}"


def test_405_names_the_methods_allowed(client):
    response = client.put("/v1/alerts")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert response.mimetype == "application/problem+json"
