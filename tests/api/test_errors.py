"""Bad input always answers a 4xx problem+json, never a 500; an unexpected error hides itself."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from api.app import create_app
from api.models import Patient
from api.smorest import PUBLIC
from tests.conftest import app_config

PROBLEM = "application/problem+json"


def assert_problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    return body


def test_malformed_json(client, clinician, auth):
    response = client.post(
        "/v1/patients",
        data="{not json",
        headers={**auth(clinician), "Content-Type": "application/json"},
    )
    assert_problem(response, 400)


def test_wrong_content_type(client, clinician, auth):
    response = client.post(
        "/v1/patients",
        data="display_name=x",
        headers={**auth(clinician), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_problem(response, 415)


def test_oversized_body(client, clinician, auth):
    huge = '{"display_name": "' + "x" * (1024 * 1024 + 10) + '"}'
    response = client.post(
        "/v1/patients", data=huge, headers={**auth(clinician), "Content-Type": "application/json"}
    )
    assert_problem(response, 413)


def test_unknown_field_is_named(client, clinician, auth):
    response = client.post(
        "/v1/patients",
        headers=auth(clinician),
        json={"display_name": "X", "timezone": "UTC", "favourite_colour": "blue"},
    )
    body = assert_problem(response, 422)
    assert "favourite_colour" in body["errors"]


@pytest.mark.parametrize(
    "body,field",
    [
        ({"display_name": 42, "timezone": "UTC"}, "display_name"),
        ({"display_name": "X", "timezone": "Mars/Olympus"}, "timezone"),
        ({"display_name": "X", "timezone": "UTC", "birth_year": "1980"}, "birth_year"),
        ({"display_name": "X", "timezone": "UTC", "birth_year": 1980.5}, "birth_year"),
        ({"display_name": "X", "timezone": "UTC", "birth_year": True}, "birth_year"),
        ({"display_name": "X", "timezone": "UTC", "birth_year": 1850}, "birth_year"),
        ({"timezone": "UTC"}, "display_name"),
        ({"display_name": None, "timezone": "UTC"}, "display_name"),
    ],
)
def test_wrong_types_and_values_are_named(client, clinician, auth, body, field):
    response = client.post("/v1/patients", headers=auth(clinician), json=body)
    assert field in assert_problem(response, 422)["errors"]


def test_body_that_is_not_an_object(client, clinician, auth):
    response = client.post("/v1/patients", headers=auth(clinician), json=[1, 2, 3])
    assert_problem(response, 422)


def test_empty_body(client, clinician, auth):
    response = client.post(
        "/v1/patients", headers={**auth(clinician), "Content-Type": "application/json"}
    )
    assert response.status_code in (400, 422)
    assert response.mimetype == PROBLEM


def test_nothing_is_stored_by_a_refused_request(client, clinician, auth):
    before = client.get("/v1/patients", headers=auth(clinician)).get_json()["items"]
    client.post("/v1/patients", headers=auth(clinician), json={"display_name": "X"})
    after = client.get("/v1/patients", headers=auth(clinician)).get_json()["items"]
    assert after == before


def test_unknown_route(client):
    assert_problem(client.get("/v1/nowhere"), 404)


def test_bad_uuid_in_path_is_404(client, clinician, auth):
    assert_problem(client.get("/v1/patients/not-a-uuid", headers=auth(clinician)), 404)


def test_wrong_method(client):
    assert_problem(client.delete("/v1/auth/login"), 405)


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=abc", "cursor=garbage"])
def test_bad_paging_arguments(client, clinician, auth, query):
    response = client.get(f"/v1/patients?{query}", headers=auth(clinician))
    assert response.status_code in (400, 422)
    assert response.mimetype == PROBLEM


def test_unexpected_error_answers_generic_500_and_logs_request_id(tmp_path, caplog):
    app = create_app(app_config(f"sqlite:///{tmp_path / 'x.db'}", str(tmp_path)))

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    boom._access = PUBLIC
    with caplog.at_level(logging.ERROR, logger="interval"):
        response = app.test_client().get("/boom", headers={"X-Request-ID": "req-12345678"})
    body = assert_problem(response, 500)
    assert "secret internal detail" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert body["request_id"] == "req-12345678"
    records = [r for r in caplog.records if getattr(r, "event", None) == "unhandled_exception"]
    assert records and records[0].request_id == "req-12345678"
    app.extensions["interval.db"].dispose()


def test_a_failed_commit_answers_503_and_stores_nothing(
    client, clinician, auth, session, commit_fails
):
    response = client.post(
        "/v1/patients",
        headers=auth(clinician),
        json={"display_name": "Never Stored", "timezone": "UTC"},
    )
    body = assert_problem(response, 503)
    assert response.headers["Retry-After"] and body["type"] == "/problems/unavailable"
    assert session.scalar(select(Patient).where(Patient.display_name == "Never Stored")) is None
