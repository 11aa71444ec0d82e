"""The holes found in review, each closed: deactivation and enrollment, what invitations reveal,
password-change guessing, concurrent alert transitions, logs, the audit trail, headers and
CORS."""

from __future__ import annotations

import dataclasses
import logging
import re
import uuid

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from api import factories
from api.app import create_app
from api.config import ConfigError, load
from api.db import utcnow
from api.domain import identity
from api.logs import JsonFormatter
from api.models import AuditEvent, Patient, User
from api.ratelimit import RateLimits
from tests.api.test_concurrency import committed_patient, committed_user, race
from tests.conftest import PASSWORD, PRODUCTION_SECRET, app_config, check_in_body


def enroll(client, code, email, password="long password!"):
    return client.post("/v1/auth/enroll", json={"code": code, "email": email, "password": password})


def invite(client, auth, admin, clinic, email):
    return client.post(
        f"/v1/clinics/{clinic.id}/staff",
        json={"email": email, "display_name": "New Colleague", "role": "clinician"},
        headers=auth(admin),
    )


class TestDeactivation:
    def test_deactivating_cancels_a_pending_invitation(self, client, auth, admin, clinic, session):
        invited = invite(client, auth, admin, clinic, "colleague@example.test").get_json()
        client.patch(
            f"/v1/clinics/{clinic.id}/staff/{invited['user_id']}",
            json={"active": False},
            headers=auth(admin),
        )
        response = enroll(client, invited["enrollment"]["code"], "colleague@example.test")
        assert response.status_code == 401
        user = session.get(User, uuid.UUID(invited["user_id"]))
        session.refresh(user)
        assert user.is_active is False

    def test_enrollment_never_reactivates_a_deactivated_account(
        self, app, client, auth, admin, clinic, make_user, session
    ):
        colleague = make_user(clinic, "clinician")
        client.patch(
            f"/v1/clinics/{clinic.id}/staff/{colleague.id}",
            json={"active": False},
            headers=auth(admin),
        )
        # A code issued some other way (say, before the fix) must not revive the account.
        code, _ = identity.issue_code(
            session,
            app.extensions["interval.identity"],
            clinic_id=clinic.id,
            user_id=colleague.id,
            created_by=admin.id,
            now=utcnow(),
        )
        session.commit()
        assert enroll(client, code, colleague.email).status_code == 401
        session.refresh(colleague)
        assert colleague.is_active is False

    def test_reactivation_clears_the_mark(self, client, auth, admin, clinic, clinician, session):
        url = f"/v1/clinics/{clinic.id}/staff/{clinician.id}"
        client.patch(url, json={"active": False}, headers=auth(admin))
        assert client.patch(url, json={"active": True}, headers=auth(admin)).status_code == 200
        session.refresh(clinician)
        assert clinician.is_active and clinician.deactivated_at is None


def test_one_code_is_tried_a_limited_number_of_times(app, client, auth, clinician, monkeypatch):
    limits = RateLimits(
        storage_uri="memory://",
        per_address="1000/minute",
        per_account="3/minute",
        check_ins="1000/hour",
    )
    monkeypatch.setitem(app.extensions, "interval.rate_limits", limits)
    code = client.post(
        "/v1/patients",
        json={"display_name": "New Patient", "timezone": "UTC"},
        headers=auth(clinician),
    ).get_json()["enrollment"]["code"]
    statuses = [
        enroll(client, code, clinician.email if n < 3 else f"free-{n}@example.test").status_code
        for n in range(4)
    ]
    assert statuses == [401, 401, 401, 429]


class TestInvitationsRevealNothing:
    def test_an_email_taken_at_another_clinic_is_invited_like_any(
        self, client, auth, admin, clinic, make_clinic, make_user
    ):
        elsewhere = make_user(make_clinic("Other clinic"), "clinician")
        taken = invite(client, auth, admin, clinic, elsewhere.email)
        fresh = invite(client, auth, admin, clinic, "nobody-yet@example.test")
        assert taken.status_code == fresh.status_code == 201
        assert taken.get_json().keys() == fresh.get_json().keys()
        # The code cannot take over the existing account, and says so as for a bad code.
        response = enroll(client, taken.get_json()["enrollment"]["code"], elsewhere.email)
        assert response.status_code == 401

    def test_an_email_already_on_this_clinics_staff_is_refused(
        self, client, auth, admin, clinic, clinician
    ):
        assert invite(client, auth, admin, clinic, clinician.email).status_code == 409

    def test_the_staff_list_looks_the_same_either_way(
        self, client, auth, admin, clinic, make_clinic, make_user
    ):
        elsewhere = make_user(make_clinic("Other clinic"), "clinician")
        invite(client, auth, admin, clinic, elsewhere.email)
        invite(client, auth, admin, clinic, "nobody-yet@example.test")
        staff = client.get(f"/v1/clinics/{clinic.id}/staff", headers=auth(admin)).get_json()[
            "items"
        ]
        invited = [s for s in staff if not s["enrolled"]]
        assert sorted(s["email"] for s in invited) == sorted(
            [elsewhere.email, "nobody-yet@example.test"]
        )


class TestPasswordChange:
    def change(self, client, headers, current):
        return client.post(
            "/v1/me/password",
            json={"current_password": current, "new_password": "a brand new password"},
            headers=headers,
        )

    def test_it_is_rate_limited(self, app, client, auth, clinician, monkeypatch):
        limits = RateLimits(
            storage_uri="memory://",
            per_address="1000/minute",
            per_account="3/minute",
            check_ins="1000/hour",
        )
        monkeypatch.setitem(app.extensions, "interval.rate_limits", limits)
        headers = auth(clinician)
        statuses = [self.change(client, headers, "wrong!").status_code for _ in range(4)]
        assert statuses == [403, 403, 403, 429]

    def test_wrong_current_passwords_lock_the_account_and_end_its_sessions(
        self, app, client, auth, clinician, monkeypatch
    ):
        settings = dataclasses.replace(app.extensions["interval.identity"], lockout_threshold=3)
        monkeypatch.setitem(app.extensions, "interval.identity", settings)
        headers = auth(clinician)
        statuses = [self.change(client, headers, "wrong!").status_code for _ in range(3)]
        assert statuses == [403, 403, 403]
        assert client.get("/v1/me", headers=headers).status_code == 401
        login = client.post("/v1/auth/login", json={"email": clinician.email, "password": PASSWORD})
        assert login.status_code == 401

    def test_failures_are_counted_across_requests(self, app, client, auth, clinician, session):
        headers = auth(clinician)
        self.change(client, headers, "wrong!")
        self.change(client, headers, "wrong again!")
        session.refresh(clinician)
        assert clinician.failed_logins == 2


@pytest.mark.postgres_only
def test_concurrent_acknowledge_and_resolve_end_in_one_consistent_state(app):
    patient, patient_token = committed_patient(app)
    clinician = committed_user(app)
    database = app.extensions["interval.db"]
    with database.session() as session:
        staff = session.get_one(User, clinician.id)
        staff.clinic_id = patient.clinic_id
        factories.join_care_team(session, session.get_one(Patient, patient.id), staff)
        token = identity.start_session(
            session, app.extensions["interval.identity"], user=staff, now=utcnow()
        ).access_token
        session.commit()
    client = app.test_client()
    client.post(
        f"/v1/patients/{patient.id}/check-ins",
        json=check_in_body(i9=1),
        headers={"Authorization": f"Bearer {patient_token}"},
    )
    headers = {"Authorization": f"Bearer {token}"}
    [alert] = client.get("/v1/alerts", headers=headers).get_json()["items"]
    actions = ["acknowledge", "resolve"] * 3
    responses = race(
        app,
        len(actions),
        lambda c: c.post(
            f"/v1/alerts/{alert['id']}/{actions.pop()}", json={"note": "seen"}, headers=headers
        ),
    )
    assert sorted({r.status_code for r in responses}) <= [200, 409]
    final = client.get("/v1/alerts?status=resolved", headers=headers).get_json()["items"]
    [resolved] = final
    assert resolved["resolved"]["by"] == str(clinician.id)
    assert sum(r.status_code == 200 for r in responses) <= 2


class TestLogs:
    def test_engines_hide_statement_parameters(self, app):
        assert app.extensions["interval.db"].engine.hide_parameters is True

    def test_exception_logs_carry_no_message(self):
        try:
            raise ValueError("Key (email)=(private@example.test) already exists")
        except ValueError as error:
            record = logging.LogRecord(
                "interval", logging.ERROR, __file__, 1, "failed", (), (type(error), error, None)
            )
            record.exc_info = (type(error), error, error.__traceback__)
        line = JsonFormatter().format(record)
        assert "private@example.test" not in line
        assert "ValueError" in line

    def test_access_log_has_the_path_without_the_query(self, client, auth, patient, caplog):
        with caplog.at_level(logging.INFO, logger="interval"):
            client.get(
                f"/v1/patients/{patient.id}/check-ins?questionnaire=phq9&from=2026-01-01T00:00:00Z",
                headers=auth(patient),
            )
        [record] = [r for r in caplog.records if getattr(r, "event", None) == "request"]
        assert record.path == f"/v1/patients/{patient.id}/check-ins"
        assert "phq9" not in JsonFormatter().format(record)


class TestAuditTrail:
    def events(self, client, auth, admin, action):
        return client.get(
            "/v1/audit-events", query_string={"action": action}, headers=auth(admin)
        ).get_json()["items"]

    def test_an_unauthenticated_probe_is_recorded_for_the_clinic(
        self, client, auth, admin, patient
    ):
        client.get(f"/v1/patients/{patient.id}/check-ins")
        [event] = self.events(client, auth, admin, "check_in.list")
        assert (event["actor_role"], event["outcome"]) == ("anonymous", 401)
        assert event["patient_ids"] == [str(patient.id)]

    def test_a_probe_of_a_patients_record_is_recorded_for_the_patient(
        self, client, auth, admin, patient, course_api, submit
    ):
        course = course_api.start(patient)
        infusion = course_api.schedule(course, "2026-10-20T15:00:00+00:00")
        check_in = submit(patient, check_in_body()).get_json()
        for path, action in (
            (f"/v1/courses/{course['id']}", "course.read"),
            (f"/v1/infusions/{infusion['id']}", "infusion.read"),
            (f"/v1/check-ins/{check_in['id']}", "check_in.read"),
        ):
            client.get(path)
            [event] = self.events(client, auth, admin, action)
            assert (event["actor_role"], event["outcome"]) == ("anonymous", 401), path
            assert event["patient_ids"] == [str(patient.id)], path

    def test_a_probe_of_a_clinics_routes_is_recorded_for_it(self, client, auth, admin, clinic):
        client.get(f"/v1/clinics/{clinic.id}/staff")
        [event] = self.events(client, auth, admin, "staff.list")
        assert (event["actor_role"], event["outcome"]) == ("anonymous", 401)

    def test_a_csv_export_is_recorded_as_an_export(self, client, auth, admin, clinician, patient):
        client.get(
            f"/v1/patients/{patient.id}/check-ins",
            headers={**auth(clinician), "Accept": "text/csv"},
        )
        [event] = self.events(client, auth, admin, "check_in.export")
        assert event["patient_ids"] == [str(patient.id)]
        assert self.events(client, auth, admin, "check_in.list") == []

    @pytest.mark.postgres_only
    def test_truncate_is_refused(self, session):
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text("TRUNCATE audit_events"))
        session.rollback()

    @pytest.mark.postgres_only
    def test_a_role_that_does_not_own_the_table_cannot_disable_the_trigger(self, session):
        role = f"interval_app_{uuid.uuid4().hex[:8]}"
        session.execute(text(f"CREATE ROLE {role} NOLOGIN"))
        session.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
        session.execute(text(f"GRANT SELECT, INSERT, TRUNCATE ON audit_events TO {role}"))
        session.execute(text(f"SET LOCAL ROLE {role}"))
        # The savepoint rolls back inside pytest.raises, so the transaction stays usable.
        with pytest.raises(DBAPIError, match="must be owner"), session.begin_nested():
            session.execute(
                text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
            )
        with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
            session.execute(text("TRUNCATE audit_events"))
        session.rollback()


class TestHeaders:
    @pytest.mark.parametrize("path", ["/healthz", "/v1/me", "/v1/nowhere"])
    def test_every_answer_forbids_framing_and_referrers(self, client, path):
        headers = client.get(path).headers
        assert headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["Referrer-Policy"] == "no-referrer"
        assert "Strict-Transport-Security" not in headers

    def test_hsts_when_served_over_tls(self, client):
        headers = client.get("/healthz", base_url="https://localhost").headers
        assert headers["Strict-Transport-Security"].startswith("max-age=")

    def test_links_use_the_configured_address_not_the_host_header(
        self, app, client, auth, admin, clinic, make_patient, monkeypatch
    ):
        make_patient(clinic), make_patient(clinic)
        url = "/v1/patients?limit=1"
        relative = client.get(url, headers={**auth(admin), "Host": "evil.example"})
        assert relative.headers["Link"].startswith("</v1/patients?")
        monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://api.clinic.example/")
        configured = client.get(url, headers={**auth(admin), "Host": "evil.example"})
        assert configured.headers["Link"].startswith("<https://api.clinic.example/v1/patients?")
        assert "evil.example" not in configured.headers["Link"]

    def test_head_and_options_are_answered_without_a_policy_error(
        self, client, auth, clinician, patient, caplog
    ):
        with caplog.at_level(logging.ERROR, logger="interval"):
            head = client.head(f"/v1/patients/{patient.id}", headers=auth(clinician))
            options = client.options(f"/v1/patients/{patient.id}")
        assert head.status_code == 200
        assert options.status_code == 200 and "GET" in options.headers["Allow"]
        assert not [r for r in caplog.records if "access policy" in r.getMessage()]


class TestConfiguration:
    @pytest.mark.parametrize("key", ["ab" * 32, "password" * 5, "0123456789" * 4])
    def test_production_refuses_a_guessable_key(self, tmp_path, key):
        with pytest.raises(ConfigError, match="guessable"):
            load({"ENV": "production", "INSTANCE_DIR": str(tmp_path), "SECRET_KEY": key})

    def test_production_accepts_a_random_key(self, tmp_path):
        load({"ENV": "production", "INSTANCE_DIR": str(tmp_path), "SECRET_KEY": PRODUCTION_SECRET})

    @staticmethod
    def production_warnings(tmp_path, caplog, **settings) -> set[str]:
        """The events of the warnings a production configuration with `settings` logs."""
        with caplog.at_level(logging.WARNING, logger="interval"):
            load(
                {
                    "ENV": "production",
                    "INSTANCE_DIR": str(tmp_path),
                    "SECRET_KEY": PRODUCTION_SECRET,
                    **settings,
                }
            )
        return {getattr(r, "event", "") for r in caplog.records}

    @pytest.mark.parametrize("base,warned", [(None, True), ("https://api.clinic.example", False)])
    def test_production_warns_without_a_public_address(self, tmp_path, caplog, base, warned):
        events = self.production_warnings(tmp_path, caplog, PUBLIC_BASE_URL=base)
        assert ("public_base_url_unset" in events) is warned

    @pytest.mark.parametrize("redis,warned", [(None, True), ("redis://127.0.0.1:6379/0", False)])
    def test_production_warns_of_per_worker_rate_limits(self, tmp_path, caplog, redis, warned):
        events = self.production_warnings(tmp_path, caplog, WORKERS=4, REDIS_URL=redis)
        assert ("rate_limits_in_memory" in events) is warned

    def test_an_unreachable_rate_limit_store_answers_503(self, app, client, monkeypatch):
        limits = RateLimits(
            storage_uri="redis://127.0.0.1:1/0",
            per_address="5/minute",
            per_account="5/minute",
            check_ins="1000/hour",
        )
        monkeypatch.setitem(app.extensions, "interval.rate_limits", limits)
        response = client.post("/v1/auth/login", json={"email": "a@b.test", "password": "x" * 12})
        assert response.status_code == 503
        assert response.mimetype == "application/problem+json"
        assert response.headers["Retry-After"]


class TestCors:
    ORIGIN = "https://app.clinic.example"

    @pytest.fixture
    def cors_app(self, tmp_path, database_url):
        app = create_app(app_config(database_url, str(tmp_path), CORS_ORIGINS=[self.ORIGIN]))
        yield app
        app.extensions["interval.db"].dispose()

    def preflight(self, app, origin):
        return app.test_client().options(
            f"/v1/patients/{uuid.uuid4()}/check-ins",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "Authorization, Content-Type, Idempotency-Key",
            },
        )

    def test_an_allowed_origin_passes_the_preflight(self, cors_app):
        response = self.preflight(cors_app, self.ORIGIN)
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == self.ORIGIN
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        allowed = response.headers["Access-Control-Allow-Headers"].lower()
        assert "idempotency-key" in allowed and "authorization" in allowed

    def test_another_origin_gets_no_cors_headers(self, cors_app):
        response = self.preflight(cors_app, "https://evil.example")
        assert "Access-Control-Allow-Origin" not in response.headers

    def test_every_route_answers_the_preflight_and_options_never_403(self, cors_app):
        """Function and class-based views alike; HEAD and OPTIONS are never refused."""
        client = cors_app.test_client()
        for rule in cors_app.url_map.iter_rules():
            path = re.sub(r"<(?:\w+:)?\w+>", str(uuid.uuid4()), rule.rule)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.options(
                    path,
                    headers={"Origin": self.ORIGIN, "Access-Control-Request-Method": method},
                )
                assert response.status_code == 200, f"{method} {rule.rule}"
                assert response.headers["Access-Control-Allow-Origin"] == self.ORIGIN
                assert method in response.headers["Access-Control-Allow-Methods"]
            if "GET" in rule.methods:
                assert client.head(path).status_code != 403, rule.rule

    def test_none_by_default(self, app):
        response = self.preflight(app, self.ORIGIN)
        assert "Access-Control-Allow-Origin" not in response.headers


def test_no_audit_event_lost_to_an_anonymous_probe_of_an_unknown_id(client, session):
    client.get(f"/v1/patients/{uuid.uuid4()}/check-ins")
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.actor_role, event.outcome, event.clinic_id) == ("anonymous", 401, None)
