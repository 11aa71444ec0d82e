"""Sign-in, tokens, rotation, reuse detection, lockout, enrollment."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest
from sqlalchemy import select, update

from api import factories
from api.domain import identity
from api.models import EnrollmentCode, RefreshFamily, User
from tests.conftest import PASSWORD, TEST_SECRET


def login(client, email, password=PASSWORD, **kwargs):
    return client.post("/v1/auth/login", json={"email": email, "password": password}, **kwargs)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_login_answers_a_token_pair(client, clinician):
    response = login(client, clinician.email)
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert 0 < body["expires_in"] <= 900
    assert client.get("/v1/me", headers=bearer(body["access_token"])).get_json()["user_id"] == str(
        clinician.id
    )


def test_login_email_is_case_insensitive(client, clinician):
    assert login(client, clinician.email.upper()).status_code == 200


def test_an_invitation_elsewhere_under_the_same_email_does_not_hide_the_account(
    client, session, make_clinic, make_user, clinic
):
    """Invitations not yet redeemed may share an email with an account; sign-in finds the one
    that has a password, whichever was made first."""
    invited = factories.user(session, make_clinic("Elsewhere"), email="shared@example.test")
    session.commit()
    enrolled = make_user(clinic, email="shared@example.test")
    response = login(client, "shared@example.test")
    assert response.status_code == 200
    me = client.get("/v1/me", headers=bearer(response.get_json()["access_token"])).get_json()
    assert me["user_id"] == str(enrolled.id) != str(invited.id)


def test_stored_password_hash_is_argon2id(client, session, clinic):
    from api.domain import identity

    settings = client.application.extensions["interval.identity"]
    _, admin = identity.create_clinic(
        session,
        settings,
        name="New clinic",
        admin_email="new-admin@example.test",
        admin_password="a long enough password",
        now=dt.datetime.now(dt.UTC),
    )
    session.commit()
    stored = session.scalar(select(User.password_hash).where(User.id == admin.id))
    assert stored.startswith("$argon2id$")
    assert login(client, "new-admin@example.test", "a long enough password").status_code == 200


def test_wrong_password_and_unknown_email_answer_alike(client, clinician):
    wrong = login(client, clinician.email, "not the password")
    unknown = login(client, "nobody@example.test", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json()["detail"] == unknown.get_json()["detail"]
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer")


def test_inactive_user_cannot_sign_in(client, make_user, clinic):
    user = make_user(clinic, active=False)
    assert login(client, user.email).status_code == 401


def test_login_rehashes_when_parameters_change(client, session, clinic, make_user):
    from argon2 import PasswordHasher

    user = make_user(clinic)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    session.execute(update(User).where(User.id == user.id).values(password_hash=weak))
    session.commit()
    assert login(client, user.email).status_code == 200
    session.expire_all()
    stored = session.get(User, user.id).password_hash
    assert stored != weak and "m=19456,t=2" in stored


class TestLockout:
    def test_ten_failures_lock_the_account_even_for_the_right_password(self, client, clinician):
        for _ in range(10):
            assert login(client, clinician.email, "wrong password!").status_code == 401
        locked = login(client, clinician.email)
        assert locked.status_code == 401
        assert locked.get_json()["detail"] == "The email or password is incorrect."

    def test_lock_lifts_after_fifteen_minutes(self, clock, client, clinician):
        for _ in range(10):
            login(client, clinician.email, "wrong password!")
        clock.advance(minutes=15, seconds=-1)
        assert login(client, clinician.email).status_code == 401
        clock.advance(seconds=1)
        assert login(client, clinician.email).status_code == 200

    def test_success_resets_the_failure_count(self, client, clinician):
        for _ in range(9):
            login(client, clinician.email, "wrong password!")
        assert login(client, clinician.email).status_code == 200
        for _ in range(9):
            login(client, clinician.email, "wrong password!")
        assert login(client, clinician.email).status_code == 200


class TestRateLimits:
    @pytest.fixture
    def strict_limits(self, app, monkeypatch):
        from api.ratelimit import RateLimits

        limits = RateLimits(
            storage_uri="memory://",
            per_address="5/minute",
            per_account="3/minute",
            check_ins="1000/hour",
        )
        monkeypatch.setitem(app.extensions, "interval.rate_limits", limits)
        return limits

    def test_per_account_limit_answers_429_with_retry_after(self, client, clinician, strict_limits):
        statuses = [login(client, clinician.email, "wrong password!").status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]
        response = login(client, clinician.email)
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) >= 1
        assert response.mimetype == "application/problem+json"

    def test_unknown_email_is_limited_the_same_way(self, client, strict_limits):
        statuses = [login(client, "ghost@example.test", "whatever!").status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]

    def test_the_deployments_password_checks_have_a_budget(self, app, clock, client, monkeypatch):
        """Many addresses and accounts at once: 429 once the budget of the second is spent,
        before any more hashing; the next second has its own."""
        from api.ratelimit import RateLimits

        budget = RateLimits(
            storage_uri="memory://",
            per_address="1000/minute",
            per_account="1000/minute",
            check_ins="1000/hour",
            password_checks="3/second",
        )
        monkeypatch.setitem(app.extensions, "interval.rate_limits", budget)

        def attempt(n: int):
            return client.post(
                "/v1/auth/login",
                json={"email": f"user{n}@example.test", "password": "whatever!"},
                environ_base={"REMOTE_ADDR": f"203.0.113.{n}"},
            )

        statuses = [attempt(n).status_code for n in range(4)]
        assert statuses == [401, 401, 401, 429]
        refused = attempt(9)
        assert (refused.status_code, refused.headers["Retry-After"]) == (429, "1")
        clock.advance(seconds=1.01)  # as Retry-After said
        assert attempt(10).status_code == 401

    def test_per_address_limit_spans_accounts(self, client, strict_limits):
        statuses = [
            login(client, f"user{i}@example.test", "whatever!").status_code for i in range(6)
        ]
        assert statuses == [401] * 5 + [429]

    def test_other_addresses_are_not_limited(self, client, strict_limits):
        for i in range(5):
            login(client, f"user{i}@example.test", "whatever!")
        other = login(
            client, "user9@example.test", "whatever!", environ_base={"REMOTE_ADDR": "10.9.9.9"}
        )
        assert other.status_code == 401

    def test_counters_can_live_in_redis(self, client, clinician, app, monkeypatch):
        import redis

        from api.ratelimit import RateLimits

        try:
            redis.Redis.from_url("redis://127.0.0.1:6379/15").ping()
        except redis.RedisError:
            pytest.skip("no Redis on 127.0.0.1:6379")
        limits = RateLimits(
            storage_uri="redis://127.0.0.1:6379/15",
            per_address="50/minute",
            per_account="2/minute",
            check_ins="1000/hour",
        )
        limits.reset()
        monkeypatch.setitem(app.extensions, "interval.rate_limits", limits)
        statuses = [login(client, clinician.email, "wrong password!").status_code for _ in range(3)]
        limits.reset()
        assert statuses == [401, 401, 429]

    def test_enroll_is_limited_too(self, client, strict_limits):
        body = {"code": "AAAA-BBBB-CCCC", "email": "p@example.test", "password": "x" * 12}
        statuses = [client.post("/v1/auth/enroll", json=body).status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]


class TestAccessTokens:
    @pytest.fixture
    def claims(self, clinician, tokens_for):
        pair = tokens_for(clinician)
        return jwt.decode(
            pair.access_token, TEST_SECRET, algorithms=["HS256"], audience="interval-api"
        )

    def encode(self, claims, key=TEST_SECRET, algorithm="HS256", **headers):
        return jwt.encode(claims, key, algorithm=algorithm, headers=headers or None)

    def test_a_valid_token_is_accepted(self, client, claims):
        assert client.get("/v1/me", headers=bearer(self.encode(claims))).status_code == 200

    def test_access_token_lifetime_is_at_most_fifteen_minutes(self, claims):
        assert claims["exp"] - claims["iat"] <= 900

    @pytest.mark.parametrize(
        "change",
        [
            {"aud": "someone-else"},
            {"iss": "someone-else"},
            {"typ": "refresh"},
            {"sub": "not-a-uuid"},
            {"exp": 1_000_000_000},
            {"nbf": 4_000_000_000},
        ],
        ids=["audience", "issuer", "type", "subject", "expired", "not-yet-valid"],
    )
    def test_wrong_claims_answer_401(self, client, claims, change):
        response = client.get("/v1/me", headers=bearer(self.encode({**claims, **change})))
        assert response.status_code == 401
        assert "WWW-Authenticate" in response.headers

    @pytest.mark.parametrize("missing", ["exp", "iat", "nbf", "iss", "aud", "sub", "typ", "jti"])
    def test_each_required_claim_is_required(self, client, claims, missing):
        claims.pop(missing)
        assert client.get("/v1/me", headers=bearer(self.encode(claims))).status_code == 401

    def test_wrong_signature(self, client, claims):
        token = self.encode(claims, key="another-key-" + "z" * 40)
        assert client.get("/v1/me", headers=bearer(token)).status_code == 401

    def test_other_algorithm_with_the_same_key(self, client, claims):
        token = self.encode(claims, algorithm="HS512")
        assert client.get("/v1/me", headers=bearer(token)).status_code == 401

    def test_alg_none(self, client, claims):
        token = jwt.encode(claims, None, algorithm="none")
        assert client.get("/v1/me", headers=bearer(token)).status_code == 401

    def test_garbage_token(self, client):
        assert client.get("/v1/me", headers=bearer("not.a.jwt")).status_code == 401

    def test_refresh_token_is_not_an_access_token(self, client, clinician, tokens_for):
        pair = tokens_for(clinician)
        assert client.get("/v1/me", headers=bearer(pair.refresh_token)).status_code == 401

    def test_token_in_query_string_is_ignored(self, client, clinician, tokens_for):
        pair = tokens_for(clinician)
        response = client.get(f"/v1/me?access_token={pair.access_token}")
        assert response.status_code == 401

    def test_other_scheme_is_refused(self, client, clinician, tokens_for):
        pair = tokens_for(clinician)
        headers = {"Authorization": f"Token {pair.access_token}"}
        assert client.get("/v1/me", headers=headers).status_code == 401


class TestRefresh:
    def refresh(self, client, token):
        return client.post("/v1/auth/refresh", json={"refresh_token": token})

    def test_rotation_gives_a_new_pair_and_kills_the_old_refresh_token(
        self, client, clinician, tokens_for
    ):
        first = tokens_for(clinician)
        rotated = self.refresh(client, first.refresh_token)
        assert rotated.status_code == 200
        second = rotated.get_json()
        assert second["refresh_token"] != first.refresh_token
        assert client.get("/v1/me", headers=bearer(second["access_token"])).status_code == 200

    def test_reuse_revokes_the_whole_family(self, client, clinician, tokens_for):
        first = tokens_for(clinician)
        second = self.refresh(client, first.refresh_token).get_json()
        reused = self.refresh(client, first.refresh_token)
        assert reused.status_code == 401
        # The family's current tokens die with it.
        assert self.refresh(client, second["refresh_token"]).status_code == 401
        assert client.get("/v1/me", headers=bearer(second["access_token"])).status_code == 401

    def test_reuse_leaves_other_sessions_alone(self, client, clinician, tokens_for):
        stolen = tokens_for(clinician)
        other = tokens_for(clinician)
        self.refresh(client, stolen.refresh_token)
        self.refresh(client, stolen.refresh_token)
        assert client.get("/v1/me", headers=bearer(other.access_token)).status_code == 200

    def test_unknown_refresh_token(self, client):
        assert self.refresh(client, "nonsense").status_code == 401

    def test_idle_for_seven_days_expires(self, clock, client, clinician, tokens_for):
        pair = tokens_for(clinician)
        clock.advance(days=7, minutes=1)
        assert self.refresh(client, pair.refresh_token).status_code == 401

    def test_absolute_lifetime_is_thirty_days(self, clock, client, clinician, tokens_for):
        refresh_token = tokens_for(clinician).refresh_token
        for _ in range(5):
            clock.advance(days=6)
            refresh_token = self.refresh(client, refresh_token).get_json()["refresh_token"]
        clock.advance(days=0, minutes=1)
        assert self.refresh(client, refresh_token).status_code == 401

    def test_the_lifetime_counts_from_the_time_the_session_was_given(self, app, session, clinician):
        """The domain takes its time from the caller, never from the machine's clock."""
        settings = app.extensions["interval.identity"]
        start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        pair = identity.start_session(session, settings, user=clinician, now=start)
        family = session.scalars(select(RefreshFamily).where(RefreshFamily.user_id == clinician.id))
        assert family.one().created_at == start
        for days in (6, 12, 18, 24, 30):
            _, pair = identity.refresh(
                session,
                settings,
                refresh_token=pair.refresh_token,
                now=start + dt.timedelta(days=days),
            )
        with pytest.raises(identity.RefreshFailed):
            identity.refresh(
                session,
                settings,
                refresh_token=pair.refresh_token,
                now=start + dt.timedelta(days=30, minutes=1),
            )

    def test_refresh_within_lifetimes_works(self, clock, client, clinician, tokens_for):
        refresh_token = tokens_for(clinician).refresh_token
        for _ in range(4):
            clock.advance(days=6, hours=23)
            response = self.refresh(client, refresh_token)
            assert response.status_code == 200
            refresh_token = response.get_json()["refresh_token"]

    def test_logout_revokes_the_family(self, client, clinician, tokens_for):
        pair = tokens_for(clinician)
        response = client.post("/v1/auth/logout", json={"refresh_token": pair.refresh_token})
        assert response.status_code == 204
        assert self.refresh(client, pair.refresh_token).status_code == 401
        assert client.get("/v1/me", headers=bearer(pair.access_token)).status_code == 401

    def test_password_change_revokes_every_family(self, client, clinician, tokens_for):
        one, two = tokens_for(clinician), tokens_for(clinician)
        response = client.post(
            "/v1/me/password",
            json={"current_password": PASSWORD, "new_password": "a brand new password"},
            headers=bearer(one.access_token),
        )
        assert response.status_code == 204
        for pair in (one, two):
            assert self.refresh(client, pair.refresh_token).status_code == 401
            assert client.get("/v1/me", headers=bearer(pair.access_token)).status_code == 401
        assert login(client, clinician.email, "a brand new password").status_code == 200

    def test_password_change_needs_the_current_password(self, client, clinician, auth):
        response = client.post(
            "/v1/me/password",
            json={"current_password": "wrong one!", "new_password": "a brand new password"},
            headers=auth(clinician),
        )
        assert response.status_code == 403
        assert response.get_json()["errors"] == {"current_password": ["Incorrect."]}

    def test_deactivation_revokes_every_family(
        self, client, clinic, admin, clinician, auth, tokens_for
    ):
        pair = tokens_for(clinician)
        response = client.patch(
            f"/v1/clinics/{clinic.id}/staff/{clinician.id}",
            json={"active": False},
            headers=auth(admin),
        )
        assert response.status_code == 200
        assert response.get_json()["active"] is False
        assert client.get("/v1/me", headers=bearer(pair.access_token)).status_code == 401
        assert self.refresh(client, pair.refresh_token).status_code == 401
        assert login(client, clinician.email).status_code == 401


class TestEnrollment:
    @pytest.fixture
    def code(self, client, clinician, auth):
        response = client.post(
            "/v1/patients",
            json={"display_name": "New Patient", "timezone": "America/New_York"},
            headers=auth(clinician),
        )
        assert response.status_code == 201
        return response.get_json()["enrollment"]["code"]

    def enroll(self, client, code, email="new.patient@example.test", password="long password"):
        return client.post(
            "/v1/auth/enroll", json={"code": code, "email": email, "password": password}
        )

    def test_patient_enrolls_and_sees_themself(self, client, code):
        response = self.enroll(client, code)
        assert response.status_code == 201
        me = client.get("/v1/me", headers=bearer(response.get_json()["access_token"])).get_json()
        assert me["role"] == "patient" and me["patient_id"] is not None

    def test_code_is_single_use(self, client, code):
        assert self.enroll(client, code).status_code == 201
        assert self.enroll(client, code, email="other@example.test").status_code == 401

    def test_code_is_typed_loosely(self, client, code):
        assert self.enroll(client, code.lower().replace("-", " ")).status_code == 201

    def test_code_expires_after_seven_days(self, clock, client, clinician, auth):
        code = client.post(
            "/v1/patients",
            json={"display_name": "Someone", "timezone": "Europe/London"},
            headers=auth(clinician),
        ).get_json()["enrollment"]["code"]
        clock.advance(days=7)
        assert self.enroll(client, code).status_code == 401

    def test_code_lifetime_is_seven_days(self, clock, client, clinician, auth):
        response = client.post(
            "/v1/patients",
            json={"display_name": "Someone", "timezone": "Europe/London"},
            headers=auth(clinician),
        )
        expires = dt.datetime.fromisoformat(response.get_json()["enrollment"]["expires_at"])
        assert expires == clock.now + dt.timedelta(days=7)

    def test_code_is_stored_only_as_a_hash(self, session, code):
        hashes = session.scalars(select(EnrollmentCode.code_hash)).all()
        assert hashes and all(code.replace("-", "") not in h.upper() for h in hashes)

    def test_short_password_is_refused_and_code_survives(self, client, code):
        response = self.enroll(client, code, password="short")
        assert response.status_code == 422
        assert "password" in response.get_json()["errors"]
        assert self.enroll(client, code).status_code == 201

    def test_existing_email_answers_as_a_bad_code_and_keeps_the_code(self, client, code, clinician):
        taken = self.enroll(client, code, email=clinician.email)
        bad = self.enroll(client, "AAAA-BBBB-CCCC")
        assert taken.status_code == bad.status_code == 401
        assert {k: v for k, v in taken.get_json().items() if k != "request_id"} == {
            k: v for k, v in bad.get_json().items() if k != "request_id"
        }
        assert self.enroll(client, code).status_code == 201

    def test_reissued_code_replaces_the_old_one(self, client, code, clinician, auth, session):
        from api.models import Patient

        patient = session.scalar(select(Patient).where(Patient.display_name == "New Patient"))
        reissued = client.post(f"/v1/patients/{patient.id}/enrollment", headers=auth(clinician))
        assert reissued.status_code == 201
        assert self.enroll(client, code).status_code == 401
        assert self.enroll(client, reissued.get_json()["code"]).status_code == 201

    def test_a_new_code_for_one_person_leaves_everyone_elses_working(
        self, client, clinic, clinician, admin, auth, session
    ):
        from api.models import Patient

        first = self.new_patient_code(client, auth, clinician, "First Patient")
        second = self.new_patient_code(client, auth, clinician, "Second Patient")
        invited = [
            client.post(
                f"/v1/clinics/{clinic.id}/staff",
                json={"email": f"dr.{n}@example.test", "display_name": "Dr", "role": "clinician"},
                headers=auth(admin),
            ).get_json()["enrollment"]["code"]
            for n in (1, 2)
        ]
        patient = session.scalar(select(Patient).where(Patient.display_name == "First Patient"))
        client.post(f"/v1/patients/{patient.id}/enrollment", headers=auth(clinician))
        assert self.enroll(client, first).status_code == 401  # replaced
        assert self.enroll(client, second, email="second@example.test").status_code == 201
        assert self.enroll(client, invited[0], email="dr.1@example.test").status_code == 201
        assert self.enroll(client, invited[1], email="dr.2@example.test").status_code == 201

    def new_patient_code(self, client, auth, clinician, name: str) -> str:
        response = client.post(
            "/v1/patients",
            json={"display_name": name, "timezone": "Europe/London"},
            headers=auth(clinician),
        )
        return response.get_json()["enrollment"]["code"]

    def test_a_refused_code_says_no_more_than_that(self, client):
        response = self.enroll(client, "AAAA-BBBB-CCCC")
        assert response.get_json()["detail"] == (
            "The enrollment code is invalid or has expired, or cannot be used with this email."
        )

    def test_staff_invite_needs_the_invited_email(self, client, clinic, admin, auth):
        invite = client.post(
            f"/v1/clinics/{clinic.id}/staff",
            json={"email": "Dr.New@Example.test", "display_name": "Dr. New", "role": "clinician"},
            headers=auth(admin),
        )
        assert invite.status_code == 201
        code = invite.get_json()["enrollment"]["code"]
        # Answered as a bad code: the holder learns nothing about other addresses.
        assert self.enroll(client, code, email="someone.else@example.test").status_code == 401
        # The refused attempt did not spend the code.
        enrolled = self.enroll(client, code, email="dr.new@example.test")
        assert enrolled.status_code == 201
        me = client.get("/v1/me", headers=bearer(enrolled.get_json()["access_token"])).get_json()
        assert me["role"] == "clinician" and me["patient_id"] is None
