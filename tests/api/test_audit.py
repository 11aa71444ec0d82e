"""Each endpoint class writes exactly the audit events it should; the trail is append-only."""

from __future__ import annotations

import logging
import uuid

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from api.models import AuditEvent, RefreshFamily
from tests.conftest import PASSWORD, POSTGRES, check_in_body


@pytest.fixture
def events(session):
    """The audit events written since the fixture started, oldest first."""
    start = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0

    def written() -> list[AuditEvent]:
        session.expire_all()
        return list(
            session.scalars(select(AuditEvent).where(AuditEvent.id > start).order_by(AuditEvent.id))
        )

    return written


def test_reading_a_patient_writes_one_event(client, clinician, patient, auth, events):
    client.get(
        f"/v1/patients/{patient.id}",
        headers=auth(clinician),
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    [event] = events()
    assert (event.action, event.outcome, event.patient_id) == ("patient.read", 200, patient.id)
    assert (event.actor_id, event.actor_role, event.clinic_id) == (
        clinician.id,
        "clinician",
        clinician.clinic_id,
    )
    assert event.resource_type == "patient" and event.resource_id == str(patient.id)
    assert event.client_address == "10.1.2.3" and event.request_id
    assert event.occurred_at.tzinfo is not None


def test_out_of_scope_attempt_is_recorded(client, make_user, clinic, patient, auth, events):
    outsider = make_user(clinic, "clinician")
    assert client.get(f"/v1/patients/{patient.id}", headers=auth(outsider)).status_code == 404
    [event] = events()
    assert (event.action, event.outcome, event.actor_id) == ("patient.read", 404, outsider.id)


def test_listing_records_every_patient_shown(client, admin, clinic, make_patient, auth, events):
    shown = {make_patient(clinic).id for _ in range(3)}
    client.get("/v1/patients", headers=auth(admin))
    [event] = events()
    assert event.action == "patient.list"
    assert {str(p) for p in shown} == set(event.patient_ids)


def test_creating_a_patient(client, clinician, auth, events):
    response = client.post(
        "/v1/patients", headers=auth(clinician), json={"display_name": "New", "timezone": "UTC"}
    )
    [event] = events()
    assert (event.action, event.outcome) == ("patient.create", 201)
    assert str(event.patient_id) == response.get_json()["id"]


def test_refused_write_records_its_failure(client, clinician, auth, events):
    client.post("/v1/patients", headers=auth(clinician), json={"display_name": "New"})
    [event] = events()
    assert (event.action, event.outcome) == ("patient.create", 422)


def test_login_success_and_failure(client, clinician, events):
    client.post("/v1/auth/login", json={"email": clinician.email, "password": PASSWORD})
    client.post("/v1/auth/login", json={"email": clinician.email, "password": "wrong one!"})
    client.post("/v1/auth/login", json={"email": "ghost@example.test", "password": "x"})
    success, failure, unknown = events()
    assert (success.action, success.outcome, success.actor_id) == ("auth.login", 200, clinician.id)
    assert (failure.action, failure.outcome, failure.actor_id) == ("auth.login", 401, clinician.id)
    assert (unknown.action, unknown.outcome, unknown.actor_id) == ("auth.login", 401, None)


def test_a_refused_sign_in_of_a_known_account_is_recorded_against_it(
    client, clinician, make_user, clinic, events
):
    """Deactivated, or locked (even with the right password): the attempt names the account."""
    gone = make_user(clinic, "clinician", active=False)
    client.post("/v1/auth/login", json={"email": gone.email, "password": PASSWORD})
    for _ in range(10):
        client.post("/v1/auth/login", json={"email": clinician.email, "password": "wrong one!"})
    client.post("/v1/auth/login", json={"email": clinician.email, "password": PASSWORD})
    written = events()
    assert (written[0].outcome, written[0].actor_id) == (401, gone.id)
    assert (written[-1].action, written[-1].outcome, written[-1].actor_id) == (
        "auth.login",
        401,
        clinician.id,
    )


def test_lockout_is_its_own_event(client, clinician, events):
    for _ in range(10):
        client.post("/v1/auth/login", json={"email": clinician.email, "password": "wrong one!"})
    actions = [e.action for e in events()]
    assert actions == ["auth.login"] * 10 + ["auth.lockout"]


def test_refresh_reuse_and_logout(client, clinician, tokens_for, events):
    pair = tokens_for(clinician)
    client.post("/v1/auth/refresh", json={"refresh_token": pair.refresh_token})
    client.post("/v1/auth/refresh", json={"refresh_token": pair.refresh_token})
    other = tokens_for(clinician)
    client.post("/v1/auth/logout", json={"refresh_token": other.refresh_token})
    recorded = [(e.action, e.outcome, e.actor_id) for e in events()]
    assert recorded == [
        ("auth.refresh", 200, clinician.id),
        ("auth.refresh", 401, clinician.id),
        ("auth.refresh_reuse_detected", 401, clinician.id),
        ("auth.logout", 204, clinician.id),
    ]


def test_a_refused_refresh_names_whose_session_it_was_and_why_it_ended(
    clock, client, session, clinician, tokens_for, events
):
    """After a logout or seven idle days, a refresh is refused and recorded against its user;
    each session (family) keeps the reason it ended."""
    reused, logged_out, idle = (tokens_for(clinician) for _ in range(3))
    client.post("/v1/auth/refresh", json={"refresh_token": reused.refresh_token})
    client.post("/v1/auth/refresh", json={"refresh_token": reused.refresh_token})
    client.post("/v1/auth/logout", json={"refresh_token": reused.refresh_token})  # ended already
    client.post("/v1/auth/logout", json={"refresh_token": logged_out.refresh_token})
    refused = client.post("/v1/auth/refresh", json={"refresh_token": logged_out.refresh_token})
    assert refused.get_json()["detail"] == "The refresh token is invalid or has expired."
    clock.advance(days=7, seconds=1)
    client.post("/v1/auth/refresh", json={"refresh_token": idle.refresh_token})
    recorded = [(e.action, e.outcome, e.actor_id) for e in events()][-2:]
    assert recorded == [("auth.refresh", 401, clinician.id)] * 2
    current = tokens_for(clinician)
    changed = client.post(
        "/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "a brand new password"},
        headers={"Authorization": f"Bearer {current.access_token}"},
    )
    assert changed.status_code == 204
    reasons = session.scalars(
        select(RefreshFamily.revoked_reason).where(RefreshFamily.user_id == clinician.id)
    )
    # A session already ended keeps its reason when the password change ends the rest.
    assert sorted(reasons) == ["expired", "logout", "password_changed", "reuse_detected"]


def test_requests_without_patient_data_are_not_audited(client, clinician, auth, events):
    client.get("/v1/me", headers=auth(clinician))
    client.get("/healthz")
    assert events() == []


class TestAuditEndpoint:
    def test_admin_reads_own_clinic_only(
        self, client, admin, clinician, patient, auth, make_clinic, make_user
    ):
        client.get(f"/v1/patients/{patient.id}", headers=auth(clinician))
        other_admin = make_user(make_clinic("Elsewhere"), "clinic_admin")
        mine = client.get("/v1/audit-events", headers=auth(admin)).get_json()["items"]
        theirs = client.get("/v1/audit-events", headers=auth(other_admin)).get_json()["items"]
        assert any(e["action"] == "patient.read" for e in mine)
        assert all(e["clinic_id"] == str(other_admin.clinic_id) for e in theirs)
        assert not any(str(patient.id) in e["patient_ids"] for e in theirs)

    def test_filters(self, client, admin, clinician, patient, make_patient, clinic, auth):
        other = make_patient(clinic, care_team=(clinician,))
        client.get(f"/v1/patients/{patient.id}", headers=auth(clinician))
        client.get(f"/v1/patients/{other.id}", headers=auth(clinician))
        client.get("/v1/patients", headers=auth(clinician))
        by_patient = client.get(
            f"/v1/audit-events?patient_id={patient.id}", headers=auth(admin)
        ).get_json()["items"]
        assert [e["action"] for e in by_patient] == ["patient.list", "patient.read"]
        by_action = client.get(
            "/v1/audit-events?action=patient.read", headers=auth(admin)
        ).get_json()["items"]
        assert len(by_action) == 2
        by_actor = client.get(
            f"/v1/audit-events?actor_id={clinician.id}", headers=auth(admin)
        ).get_json()["items"]
        assert {e["actor_id"] for e in by_actor} == {str(clinician.id)}
        future = client.get(
            "/v1/audit-events?from=2099-01-01T00:00:00Z", headers=auth(admin)
        ).get_json()["items"]
        assert future == []

    def test_naive_time_filter_is_refused(self, client, admin, auth):
        response = client.get("/v1/audit-events?from=2026-01-01T00:00:00", headers=auth(admin))
        assert response.status_code == 422 and "from" in response.get_json()["errors"]

    def test_pages_newest_first(self, client, admin, clinician, patient, auth):
        for _ in range(3):
            client.get(f"/v1/patients/{patient.id}", headers=auth(clinician))
        first = client.get("/v1/audit-events?limit=2", headers=auth(admin)).get_json()
        second = client.get(
            f"/v1/audit-events?limit=2&cursor={first['next_cursor']}", headers=auth(admin)
        ).get_json()
        ids = [e["id"] for e in first["items"] + second["items"]]
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)


@pytest.mark.skipif(not POSTGRES, reason="the append-only trigger exists on PostgreSQL")
@pytest.mark.parametrize(
    "statement",
    [
        update(AuditEvent).values(action="tampered"),
        delete(AuditEvent),
    ],
)
def test_database_refuses_to_edit_the_trail(session, client, clinician, patient, auth, statement):
    client.get(f"/v1/patients/{patient.id}", headers=auth(clinician))
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(statement)
    session.rollback()


@pytest.mark.skipif(not POSTGRES, reason="the append-only trigger exists on PostgreSQL")
def test_trigger_is_installed(session):
    assert (
        session.scalar(
            text("SELECT count(*) FROM pg_trigger WHERE tgname = 'audit_events_append_only'")
        )
        == 1
    )


def test_logs_hold_no_tokens_or_passwords(client, clinician, tokens_for, caplog):
    with caplog.at_level(logging.DEBUG):
        login = client.post(
            "/v1/auth/login", json={"email": clinician.email, "password": PASSWORD}
        ).get_json()
        client.post("/v1/auth/login", json={"email": clinician.email, "password": "Wr0ng-pass!"})
        client.get("/v1/me", headers={"Authorization": f"Bearer {login['access_token']}"})
        client.post("/v1/auth/refresh", json={"refresh_token": login["refresh_token"]})
        client.post(
            "/v1/auth/enroll",
            json={"code": "ABCD-EFGH-JKMN", "email": "a@b.test", "password": "Enroll-secret-1"},
        )
    logged = caplog.text + "".join(str(vars(r)) for r in caplog.records)
    assert "request" in logged  # the access log was captured
    for secret in (
        PASSWORD,
        "Wr0ng-pass!",
        "Enroll-secret-1",
        "ABCD-EFGH-JKMN",
        login["access_token"],
        login["refresh_token"],
        clinician.email,
    ):
        assert secret not in logged


class TestCheckInAudit:
    def test_submission_read_list_and_correction(
        self, client, submit, patient, clinician, auth, events
    ):
        created = submit(patient).get_json()
        client.get(f"/v1/check-ins/{created['id']}", headers=auth(clinician))
        client.get(f"/v1/patients/{patient.id}/check-ins", headers=auth(clinician))
        client.post(
            f"/v1/check-ins/{created['id']}/entered-in-error",
            json={"reason": "duplicate"},
            headers=auth(clinician),
        )
        recorded = [(e.action, e.outcome, e.patient_id, e.resource_id) for e in events()]
        assert recorded == [
            ("check_in.create", 201, patient.id, created["id"]),
            ("check_in.read", 200, patient.id, created["id"]),
            ("check_in.list", 200, patient.id, str(patient.id)),
            ("check_in.entered_in_error", 200, patient.id, created["id"]),
        ]

    def test_batch_and_alert_actions(self, client, auth, patient, clinician, events):
        client.post(
            f"/v1/patients/{patient.id}/check-ins/batch",
            json={"check_ins": [check_in_body(i9=1)]},
            headers=auth(patient),
        )
        [alert] = client.get("/v1/alerts", headers=auth(clinician)).get_json()["items"]
        client.post(f"/v1/alerts/{alert['id']}/acknowledge", json={}, headers=auth(clinician))
        client.post(
            f"/v1/alerts/{alert['id']}/resolve", json={"note": "ok"}, headers=auth(clinician)
        )
        recorded = [(e.action, e.outcome, e.patient_id) for e in events()]
        assert recorded == [
            ("check_in.batch", 207, patient.id),
            ("alert.list", 200, patient.id),
            ("alert.acknowledge", 200, patient.id),
            ("alert.resolve", 200, patient.id),
        ]

    def test_a_batch_lists_the_check_ins_it_stored_or_found_stored(
        self, client, auth, submit, patient, admin, events
    ):
        earlier = submit(patient).get_json()["id"]
        new = str(uuid.uuid4())
        answer = client.post(
            f"/v1/patients/{patient.id}/check-ins/batch",
            json={
                "check_ins": [
                    check_in_body(id=new),
                    {"questionnaire": "phq9", "id": str(uuid.uuid4())},
                    check_in_body(id=earlier) | {"completed_at": None},
                ]
            },
            headers=auth(patient),
        )
        statuses = [r["status"] for r in answer.get_json()["results"]]
        assert statuses == [201, 422, 422]
        replay = client.get(f"/v1/check-ins/{earlier}", headers=auth(patient)).get_json()
        body = {k: replay[k] for k in ("id", "questionnaire", "answers", "completed_at")}
        client.post(
            f"/v1/patients/{patient.id}/check-ins/batch",
            json={"check_ins": [body, check_in_body()]},
            headers=auth(patient),
        )
        batches = [e for e in events() if e.action == "check_in.batch"]
        second_new = batches[1].resource_ids[1]
        assert [(e.resource_id, e.resource_ids) for e in batches] == [
            (None, [new]),
            (None, [earlier, second_new]),
        ]
        listed = client.get(
            "/v1/audit-events?action=check_in.batch", headers=auth(admin)
        ).get_json()["items"]
        assert [e["resource_ids"] for e in listed] == [[earlier, second_new], [new]]
        [created] = client.get(
            "/v1/audit-events?action=check_in.create", headers=auth(admin)
        ).get_json()["items"]
        assert created["resource_ids"] == [created["resource_id"]] == [earlier]

    def test_refused_submission_is_recorded_and_nothing_else(self, submit, patient, events):
        submit(patient, {"questionnaire": "phq9"})
        assert [(e.action, e.outcome) for e in events()] == [("check_in.create", 422)]


def test_timeline_reads_and_writes_are_audited(client, auth, course_api, patient, events):
    course = course_api.start(patient)
    infusion = course_api.infuse(course, "2026-10-02T15:00:00Z")
    course_api.patch_infusion(infusion, notes="ok")
    client.get(f"/v1/patients/{patient.id}/due", headers=auth(patient))
    recorded = [(e.action, e.outcome, e.patient_id) for e in events()]
    assert recorded == [
        ("course.create", 201, patient.id),
        ("infusion.create", 201, patient.id),
        ("infusion.read", 200, patient.id),
        ("infusion.update", 200, patient.id),
        ("due.read", 200, patient.id),
    ]
