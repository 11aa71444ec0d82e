"""Request ids, caching headers, health checks, pagination links."""

from __future__ import annotations


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
