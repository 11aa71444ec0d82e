"""What is written is what was asked, and refusals say exactly why: found missing by mutation
testing (docs/testing.md) — a patient's MRN and birth year, a password set at enrollment, who
added a care-team member, why a session ended, and the words of each refusal."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

from sqlalchemy import select

from api.domain import identity
from api.domain.identity import BAD_CODE
from api.models import CareTeamMember, Clinic, EnrollmentCode, Patient, RefreshFamily, User
from api.ratelimit import RateLimits
from tests.conftest import PASSWORD, check_in_body

NEW_PASSWORD = "a new long password"


def create_patient(client, auth, clinician, **body):
    body = {"display_name": "Jordan Rivera", "timezone": "America/New_York", **body}
    return client.post("/v1/patients", json=body, headers=auth(clinician))


def enroll(client, code: str, email: str, password: str = NEW_PASSWORD):
    return client.post("/v1/auth/enroll", json={"code": code, "email": email, "password": password})


def login(client, email: str, password: str):
    return client.post("/v1/auth/login", json={"email": email, "password": password})


LOW_ID = "00000000-0000-4000-8000-000000000001"
HIGH_ID = "ffffffff-ffff-4fff-bfff-ffffffffffff"


def clinician_with_id(session, clinic, user_id: str, name: str, password_hash: str) -> User:
    """A clinician whose id is chosen, to test an order that falls back on ids."""
    user = User(
        id=uuid.UUID(user_id),
        clinic_id=clinic.id,
        email=f"{name.split()[0].lower()}-{user_id[:2]}@example.test",
        display_name=name,
        role="clinician",
        password_hash=password_hash,
        is_active=True,
        created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    session.add(user)
    session.commit()
    return user


class TestPatientsAsWritten:
    def test_mrn_and_birth_year_are_kept(self, client, auth, clinician, session, clock):
        created = create_patient(client, auth, clinician, mrn="RK-10442", birth_year=1984)
        assert created.status_code == 201
        read = client.get(f"/v1/patients/{created.get_json()['id']}", headers=auth(clinician))
        assert (read.get_json()["mrn"], read.get_json()["birth_year"]) == ("RK-10442", 1984)
        stored = session.get(Patient, uuid.UUID(read.get_json()["id"]))
        assert stored.created_at == clock.now
        member = session.scalars(
            select(CareTeamMember).where(CareTeamMember.patient_id == stored.id)
        ).one()
        assert (member.user_id, member.added_by, member.added_at) == (
            clinician.id,
            clinician.id,
            clock.now,
        )

    def test_a_second_patient_with_the_same_mrn_is_refused_in_words(
        self, client, auth, clinician, make_clinic, make_user
    ):
        assert create_patient(client, auth, clinician, mrn="RK-1").status_code == 201
        again = create_patient(client, auth, clinician, mrn="RK-1")
        assert again.status_code == 409
        body = again.get_json()
        assert body["detail"] == "A patient with this MRN already exists."
        assert body["errors"] == {"mrn": ["In use."]}
        assert create_patient(client, auth, clinician, mrn="RK-2").status_code == 201
        elsewhere = make_user(make_clinic("Another clinic"), "clinician")
        assert create_patient(client, auth, elsewhere, mrn="RK-1").status_code == 201

    def test_a_patient_shows_their_care_team_by_name(
        self, client, auth, clinic, make_user, session, password_hash
    ):
        # Joined, and named, against the order of their names.
        zed = clinician_with_id(session, clinic, LOW_ID, "Zed Okafor", password_hash)
        amy = clinician_with_id(session, clinic, HIGH_ID, "Amy Chen", password_hash)
        make_user(clinic, "clinician", display_name="Bo Park")  # not on the team
        created = create_patient(client, auth, zed).get_json()
        added = client.post(
            f"/v1/patients/{created['id']}/care-team",
            json={"user_id": str(amy.id)},
            headers=auth(zed),
        )
        assert added.status_code == 204
        read = client.get(f"/v1/patients/{created['id']}", headers=auth(amy)).get_json()
        assert read["care_team"] == [
            {"user_id": str(amy.id), "display_name": "Amy Chen"},
            {"user_id": str(zed.id), "display_name": "Zed Okafor"},
        ]
        assert created["care_team"] == [{"user_id": str(zed.id), "display_name": "Zed Okafor"}]

    def test_namesakes_on_a_care_team_keep_one_order(
        self, client, auth, clinic, session, password_hash
    ):
        # Added highest id first: listed by id all the same. (SQLite reads a care team in its
        # key's order anyway; PostgreSQL, in the order added.)
        high = clinician_with_id(session, clinic, HIGH_ID, "Sam Lee", password_hash)
        low = clinician_with_id(session, clinic, LOW_ID, "Sam Lee", password_hash)
        created = create_patient(client, auth, high).get_json()
        client.post(
            f"/v1/patients/{created['id']}/care-team",
            json={"user_id": str(low.id)},
            headers=auth(high),
        )
        read = client.get(f"/v1/patients/{created['id']}", headers=auth(high)).get_json()
        assert [member["user_id"] for member in read["care_team"]] == [LOW_ID, HIGH_ID]

    def test_a_care_team_member_records_who_added_them_and_when(
        self, client, auth, clinician, admin, patient, make_user, clinic, session, clock
    ):
        colleague = make_user(clinic, "clinician")
        clock.advance(hours=1)
        added = client.post(
            f"/v1/patients/{patient.id}/care-team",
            json={"user_id": str(colleague.id)},
            headers=auth(admin),
        )
        assert added.status_code == 204
        member = session.get(CareTeamMember, (patient.id, colleague.id))
        assert (member.added_by, member.added_at) == (admin.id, clock.now)

    def test_a_care_team_reference_to_no_clinician_says_so(
        self, client, auth, clinician, patient, admin
    ):
        refused = client.post(
            f"/v1/patients/{patient.id}/care-team",
            json={"user_id": str(admin.id)},
            headers=auth(clinician),
        )
        assert refused.status_code == 422
        assert refused.get_json()["detail"] == "No clinician of this clinic has that id."


class TestAccountsAsWritten:
    def test_an_enrolled_patient_signs_in_with_the_password_they_chose(
        self, client, auth, clinician, session, clock
    ):
        code = create_patient(client, auth, clinician).get_json()["enrollment"]["code"]
        assert enroll(client, code, "jordan@example.test").status_code == 201
        assert login(client, "jordan@example.test", NEW_PASSWORD).status_code == 200
        assert login(client, "jordan@example.test", PASSWORD).status_code == 401
        account = session.scalar(select(User).where(User.email == "jordan@example.test"))
        assert account.created_at == clock.now and account.role == "patient"

    def test_an_invited_clinician_signs_in_with_the_password_they_chose(
        self, client, auth, admin, clinic
    ):
        invite = client.post(
            f"/v1/clinics/{clinic.id}/staff",
            json={"email": "dr.new@example.test", "display_name": "Dr. New", "role": "clinician"},
            headers=auth(admin),
        )
        code = invite.get_json()["enrollment"]["code"]
        refused = enroll(client, code, "someone.else@example.test")
        assert (refused.status_code, refused.get_json()["detail"]) == (401, BAD_CODE)
        assert enroll(client, code, "dr.new@example.test").status_code == 201
        assert login(client, "dr.new@example.test", NEW_PASSWORD).status_code == 200

    def test_a_clinic_and_its_first_admin_are_dated_when_created(self, app, session):
        created_at = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
        clinic, admin = identity.create_clinic(
            session,
            app.extensions["interval.identity"],
            name="Lakeside",
            admin_email="Admin@Lakeside.test",
            admin_password=NEW_PASSWORD,
            now=created_at,
        )
        session.commit()
        session.expire_all()
        assert session.get(Clinic, clinic.id).created_at == created_at
        assert session.get(User, admin.id).created_at == created_at

    def test_a_bad_code_is_refused_in_the_same_words(self, client):
        refused = enroll(client, "AAAA-BBBB-CCCC", "who@example.test")
        assert (refused.status_code, refused.get_json()["detail"]) == (401, BAD_CODE)

    def test_a_new_code_for_an_enrolled_patient_is_refused_in_words(
        self, client, auth, clinician, patient
    ):
        refused = client.post(f"/v1/patients/{patient.id}/enrollment", headers=auth(clinician))
        assert refused.status_code == 409
        assert refused.get_json()["detail"] == "This patient has already enrolled."

    def test_a_reissued_code_records_who_issued_it(
        self, client, auth, clinician, clinic, make_patient, session
    ):
        waiting = make_patient(clinic, care_team=(clinician,), enrolled=False)
        assert (
            client.post(f"/v1/patients/{waiting.id}/enrollment", headers=auth(clinician))
        ).status_code == 201
        code = session.scalars(
            select(EnrollmentCode).where(EnrollmentCode.patient_id == waiting.id)
        ).one()
        assert code.created_by == clinician.id

    def test_inviting_someone_already_on_the_staff_is_refused_in_words(
        self, client, auth, admin, clinic, clinician
    ):
        again = client.post(
            f"/v1/clinics/{clinic.id}/staff",
            json={"email": clinician.email, "display_name": "Again", "role": "clinician"},
            headers=auth(admin),
        )
        assert again.status_code == 409
        body = again.get_json()
        assert body["detail"] == "This email is already on your clinic's staff."
        assert body["errors"] == {"email": ["Already on the staff list."]}

    def test_the_staff_list_breaks_ties_between_names_by_id(
        self, client, auth, admin, clinic, session, password_hash
    ):
        # Added highest id first, so that neither the order added nor chance gives the answer.
        for user_id in (HIGH_ID, LOW_ID):
            clinician_with_id(session, clinic, user_id, "Alex Kim", password_hash)
        staff = client.get(f"/v1/clinics/{clinic.id}/staff", headers=auth(admin)).get_json()
        named = [m["user_id"] for m in staff["items"] if m["display_name"] == "Alex Kim"]
        assert named == [LOW_ID, HIGH_ID]


class TestWhySessionsEnded:
    """Each revocation keeps its reason, and touches only the sessions it names."""

    def families(self, session, user) -> dict:
        session.expire_all()
        found = session.scalars(select(RefreshFamily).where(RefreshFamily.user_id == user.id))
        return {f.id: f.revoked_reason for f in found}

    def refresh(self, client, token):
        return client.post("/v1/auth/refresh", json={"refresh_token": token})

    def test_logout(self, client, clinician, tokens_for, session):
        kept, ended = tokens_for(clinician), tokens_for(clinician)
        client.post("/v1/auth/logout", json={"refresh_token": ended.refresh_token})
        assert sorted(self.families(session, clinician).values(), key=str) == [None, "logout"]
        assert self.refresh(client, kept.refresh_token).status_code == 200

    def test_reuse(self, client, clinician, tokens_for, session):
        pair = tokens_for(clinician)
        self.refresh(client, pair.refresh_token)
        self.refresh(client, pair.refresh_token)
        assert list(self.families(session, clinician).values()) == ["reuse_detected"]

    def test_idle_expiry(self, client, clinician, tokens_for, session, clock):
        pair = tokens_for(clinician)
        clock.advance(days=7, seconds=1)
        assert self.refresh(client, pair.refresh_token).status_code == 401
        assert list(self.families(session, clinician).values()) == ["expired"]

    def test_refresh_just_inside_the_idle_limit_works(self, client, clinician, tokens_for, clock):
        pair = tokens_for(clinician)
        clock.advance(days=7)
        assert self.refresh(client, pair.refresh_token).status_code == 200

    def test_password_change_ends_only_this_users_sessions(
        self, client, clinician, admin, tokens_for, auth, session
    ):
        tokens_for(clinician), tokens_for(admin)
        changed = client.post(
            "/v1/me/password",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            headers=auth(clinician),
        )
        assert changed.status_code == 204
        assert set(self.families(session, clinician).values()) == {"password_changed"}
        assert None in self.families(session, admin).values()

    def test_the_revocation_time_is_kept(self, client, clinician, tokens_for, session, clock):
        pair = tokens_for(clinician)
        client.post("/v1/auth/logout", json={"refresh_token": pair.refresh_token})
        session.expire_all()
        family = session.scalars(
            select(RefreshFamily).where(RefreshFamily.user_id == clinician.id)
        ).one()
        assert family.revoked_at == clock.now


class TestStaffStatus:
    """Deactivation ends sessions for good, cancels only that person's codes, and refuses
    what cannot be: found by mutation testing."""

    def staff(self, client, auth, admin, clinic, user_id, active: bool):
        return client.patch(
            f"/v1/clinics/{clinic.id}/staff/{user_id}",
            json={"active": active},
            headers=auth(admin),
        )

    def invite(self, client, auth, admin, clinic, email: str):
        answer = client.post(
            f"/v1/clinics/{clinic.id}/staff",
            json={"email": email, "display_name": email, "role": "clinician"},
            headers=auth(admin),
        )
        return answer.get_json()

    def test_reactivation_does_not_revive_old_sessions(
        self, client, auth, admin, clinic, clinician, tokens_for, session
    ):
        old = tokens_for(clinician)

        def reasons():
            session.expire_all()
            return session.scalars(
                select(RefreshFamily.revoked_reason).where(RefreshFamily.user_id == clinician.id)
            ).all()

        assert self.staff(client, auth, admin, clinic, clinician.id, False).status_code == 200
        assert reasons() == ["deactivated"]
        assert self.staff(client, auth, admin, clinic, clinician.id, True).status_code == 200
        refreshed = client.post("/v1/auth/refresh", json={"refresh_token": old.refresh_token})
        assert refreshed.status_code == 401
        assert login(client, clinician.email, PASSWORD).status_code == 200
        assert sorted(reasons(), key=str) == [None, "deactivated"]
        assert session.get(User, clinician.id).deactivated_at is None

    def test_deactivation_is_dated(self, client, auth, admin, clinic, clinician, session, clock):
        self.staff(client, auth, admin, clinic, clinician.id, False)
        session.expire_all()
        assert session.get(User, clinician.id).deactivated_at == clock.now

    def test_an_admin_cannot_deactivate_themself(self, client, auth, admin, clinic):
        refused = self.staff(client, auth, admin, clinic, admin.id, False)
        assert refused.status_code == 409
        assert refused.get_json()["detail"] == "You cannot deactivate your own account."
        assert self.staff(client, auth, admin, clinic, admin.id, True).status_code == 200

    def test_someone_not_enrolled_cannot_be_activated(self, client, auth, admin, clinic):
        invited = self.invite(client, auth, admin, clinic, "later@example.test")
        refused = self.staff(client, auth, admin, clinic, invited["user_id"], True)
        assert refused.status_code == 409
        assert refused.get_json()["detail"] == "This person has not enrolled yet."

    def test_deactivating_an_invitee_cancels_their_code_only(
        self, client, auth, admin, clinic, session, clock
    ):
        first = self.invite(client, auth, admin, clinic, "first@example.test")
        second = self.invite(client, auth, admin, clinic, "second@example.test")
        listed = client.get(
            f"/v1/clinics/{clinic.id}/staff/{first['user_id']}", headers=auth(admin)
        ).get_json()
        assert (listed["active"], listed["enrolled"]) == (False, False)
        assert self.staff(client, auth, admin, clinic, first["user_id"], False).status_code == 200
        session.expire_all()
        used = {
            str(c.user_id): c.used_at
            for c in session.scalars(
                select(EnrollmentCode).where(EnrollmentCode.user_id.is_not(None))
            )
        }
        assert (used[first["user_id"]], used[second["user_id"]]) == (clock.now, None)
        code = first["enrollment"]["code"]
        assert enroll(client, code, "first@example.test").status_code == 401
        assert (
            enroll(client, second["enrollment"]["code"], "second@example.test").status_code == 201
        )

    def test_a_redeemed_code_keeps_the_time_it_was_used(
        self, client, auth, admin, clinic, session, clock
    ):
        invited = self.invite(client, auth, admin, clinic, "dr.new@example.test")
        clock.advance(hours=1)
        redeemed_at = clock.now
        code = invited["enrollment"]["code"]
        assert enroll(client, code, "dr.new@example.test").status_code == 201
        clock.advance(hours=1)
        assert self.staff(client, auth, admin, clinic, invited["user_id"], False).status_code == 200
        session.expire_all()
        stored = session.scalars(
            select(EnrollmentCode).where(EnrollmentCode.user_id == uuid.UUID(invited["user_id"]))
        ).one()
        assert stored.used_at == redeemed_at

    def test_an_email_a_patient_of_the_clinic_signs_in_with_is_not_on_the_staff(
        self, client, auth, admin, clinic, patient, session
    ):
        email = session.get(User, patient.user_id).email
        invited = client.post(
            f"/v1/clinics/{clinic.id}/staff",
            json={"email": email, "display_name": "Dr. Same", "role": "clinician"},
            headers=auth(admin),
        )
        assert invited.status_code == 201
        # Invited like any other address; its code will not redeem, as the address is taken.
        refused = enroll(client, invited.get_json()["enrollment"]["code"], email)
        assert (refused.status_code, refused.get_json()["detail"]) == (401, BAD_CODE)

    def test_an_invitation_records_who_sent_it(self, client, auth, admin, clinic, session):
        invited = self.invite(client, auth, admin, clinic, "new@example.test")
        code = session.scalars(
            select(EnrollmentCode).where(EnrollmentCode.user_id == uuid.UUID(invited["user_id"]))
        ).one()
        assert code.created_by == admin.id


class TestCheckInRecords:
    def test_a_refused_batch_item_carries_the_clinics_own_crisis_words(
        self, client, auth, patient, clinic, session
    ):
        clinic.crisis_message_not_sent = "Not sent. Call the Riverside crisis line: 555-0100."
        session.commit()
        bad = {"questionnaire": "phq9", "answers": {"9": 2}}  # item 9 endorsed, the rest missing
        answer = client.post(
            f"/v1/patients/{patient.id}/check-ins/batch",
            json={"check_ins": [bad]},
            headers=auth(patient),
        )
        [result] = answer.get_json()["results"]
        assert result["status"] == 422 and result["id"] is None
        safety = result["problem"]["safety"]
        assert safety["answers_sent"] is False
        assert safety["message"] == "Not sent. Call the Riverside crisis line: 555-0100."

    def test_entered_in_error_is_dated_and_only_once(
        self, client, auth, patient, clinician, submit, session, clock
    ):
        sent = submit(patient, i1=1).get_json()
        path = f"/v1/check-ins/{sent['id']}/entered-in-error"
        first = client.post(path, json={"reason": "Wrong week"}, headers=auth(clinician))
        assert first.status_code == 200
        assert first.get_json()["entered_in_error"]["at"] == clock.now.isoformat()
        again = client.post(path, json={"reason": "Again"}, headers=auth(clinician))
        assert again.status_code == 409
        assert again.get_json()["detail"] == "This check-in is already marked entered in error."

    def test_an_unknown_check_in_is_named_in_the_refusal(self, client, auth, clinician):
        unknown = f"/v1/check-ins/{uuid.uuid4()}"
        missing = client.get(unknown, headers=auth(clinician))
        assert (missing.status_code, missing.get_json()["detail"]) == (404, "Check-in not found.")
        marked = client.post(
            f"{unknown}/entered-in-error", json={"reason": "x"}, headers=auth(clinician)
        )
        assert (marked.status_code, marked.get_json()["detail"]) == (404, "Check-in not found.")


class TestCancelledInfusions:
    def test_a_cancelled_infusion_stays_cancelled_but_keeps_notes(self, patient, course_api):
        course = course_api.start(patient)
        given = course_api.infuse(course, "2026-10-02T14:00:00Z")
        assert course_api.patch_infusion(given, status="cancelled").status_code == 200
        revived = course_api.patch_infusion(given, status="completed")
        assert revived.status_code == 409
        assert revived.get_json()["detail"] == (
            "A cancelled infusion stays cancelled; record a new one."
        )
        noted = course_api.patch_infusion(given, notes="Cancelled: patient unwell.")
        assert noted.status_code == 200 and noted.get_json()["status"] == "cancelled"

    def test_an_infusion_given_is_not_scheduled_again(self, client, auth, patient, course_api):
        """Cancelling retracts what an EHR imported (the FHIR export marks it entered in
        error); moving it back to the schedule would only make it vanish from there."""
        course = course_api.start(patient)
        given = course_api.infuse(course, "2026-10-02T14:00:00Z")
        moved = course_api.patch_infusion(
            given, status="scheduled", scheduled_for="2026-12-20T14:00:00Z", administered_at=None
        )
        assert moved.status_code == 409
        assert moved.get_json()["detail"] == (
            "An infusion given stays given; if it was recorded in error, cancel it."
        )
        kept = course_api.infusions(course)
        assert [(i["id"], i["status"]) for i in kept] == [(given["id"], "completed")]


class TestAuditFilters:
    """Filters select exactly: one patient's events only; `from` inclusive, `to` exclusive."""

    def test_by_patient_and_time(self, client, auth, admin, clinician, clinic, make_patient, clock):
        first = make_patient(clinic, care_team=(clinician,))
        second = make_patient(clinic, care_team=(clinician,))
        start = clock.now
        client.get(f"/v1/patients/{first.id}", headers=auth(clinician))
        clock.advance(minutes=1)
        client.get(f"/v1/patients/{second.id}", headers=auth(clinician))
        clock.advance(minutes=1)
        client.get(f"/v1/patients/{first.id}", headers=auth(clinician))

        def times(query: str) -> list[str]:
            page = client.get(f"/v1/audit-events?{query}", headers=auth(admin)).get_json()
            return sorted(e["occurred_at"] for e in page["items"] if e["action"] == "patient.read")

        def at(minutes: int) -> str:
            return (start + dt.timedelta(minutes=minutes)).isoformat()

        assert times(f"patient_id={first.id}") == [at(0), at(2)]
        assert times(f"patient_id={second.id}") == [at(1)]
        window = f"from={at(1)}&to={at(2)}".replace("+", "%2B")
        assert times(window) == [at(1)]


def test_each_refusal_names_what_is_missing(client, auth, admin, clinic, clinician, patient):
    def detail(path: str, who, method: str = "GET", **kwargs) -> tuple[int, str]:
        answer = client.open(path, method=method, headers=auth(who), **kwargs)
        return answer.status_code, answer.get_json()["detail"]

    nobody = uuid.uuid4()
    assert detail(f"/v1/patients/{patient.id}/trends/phq10", clinician) == (
        404,
        "No such questionnaire.",
    )
    assert detail(f"/v1/clinics/{clinic.id}/staff/{nobody}", admin) == (
        404,
        "Staff member not found.",
    )
    assert detail(f"/v1/alerts/{nobody}/acknowledge", clinician, "POST", json={}) == (
        404,
        "Alert not found.",
    )


def test_a_stale_change_is_refused_in_words(patient, course_api, client, auth, clinician):
    course = course_api.start(patient)
    stale = client.patch(
        f"/v1/courses/{course['id']}",
        json={"induction_infusions": 6},
        headers={**auth(clinician), "If-Match": '"999"'},
    )
    assert stale.status_code == 412
    assert stale.get_json()["detail"] == "It was changed since you read it; read it again."


def test_a_completed_course_stays_completed(patient, course_api, client, auth, clinician):
    course = course_api.start(patient)
    path = f"/v1/courses/{course['id']}"

    def change(**body):
        etag = client.get(path, headers=auth(clinician)).headers["ETag"]
        return client.patch(path, json=body, headers={**auth(clinician), "If-Match": etag})

    assert change(status="completed", completed_on="2026-11-01").status_code == 200
    reopened = change(status="active")
    assert reopened.status_code == 409
    assert reopened.get_json()["detail"] == (
        "A completed course stays completed; start a new course instead."
    )
    assert change(induction_infusions=5).status_code == 200


def test_the_panel_puts_the_silent_first_and_ignores_retracted_check_ins(
    client, auth, clinician, clinic, make_patient, submit, clock
):
    silent = make_patient(clinic, care_team=(clinician,))
    clock.advance(minutes=1)
    answering = make_patient(clinic, care_team=(clinician,))
    sent = submit(answering, i1=1).get_json()

    def order() -> list[str]:
        page = client.get("/v1/patients?sort=attention", headers=auth(clinician)).get_json()
        return [p["id"] for p in page["items"]]

    assert order() == [str(silent.id), str(answering.id)]
    client.post(
        f"/v1/check-ins/{sent['id']}/entered-in-error",
        json={"reason": "Not the patient's answers"},
        headers=auth(clinician),
    )
    assert order() == [str(answering.id), str(silent.id)]  # both silent: newest first


class TestRefusalsInWords:
    def change(self, client, headers, current):
        return client.post(
            "/v1/me/password",
            json={"current_password": current, "new_password": "a brand new password"},
            headers=headers,
        )

    def test_wrong_current_passwords_say_so_and_a_lockout_is_recorded(
        self, app, client, auth, clinician, tokens_for, session, monkeypatch
    ):
        settings = dataclasses.replace(app.extensions["interval.identity"], lockout_threshold=2)
        monkeypatch.setitem(app.extensions, "interval.identity", settings)
        tokens_for(clinician)
        headers = auth(clinician)
        first = self.change(client, headers, "wrong!")
        assert first.get_json()["detail"] == "The current password is incorrect."
        assert first.get_json()["errors"] == {"current_password": ["Incorrect."]}
        self.change(client, headers, "wrong again!")
        session.expire_all()
        reasons = session.scalars(
            select(RefreshFamily.revoked_reason).where(RefreshFamily.user_id == clinician.id)
        ).all()
        assert set(reasons) == {"locked"}

    def test_too_many_attempts_say_when_to_try_again(
        self, app, client, auth, clinician, monkeypatch
    ):
        limits = RateLimits(
            storage_uri="memory://",
            per_address="1000/minute",
            per_account="1/minute",
            check_ins="1000/hour",
        )
        monkeypatch.setitem(app.extensions, "interval.rate_limits", limits)
        headers = auth(clinician)
        self.change(client, headers, "wrong!")
        limited = self.change(client, headers, "wrong!")
        assert limited.status_code == 429
        seconds = limited.headers["Retry-After"]
        assert limited.get_json()["detail"] == f"Too many attempts; try again in {seconds} seconds."

    def test_a_reused_key_or_id_is_refused_in_words(self, client, auth, patient):
        path = f"/v1/patients/{patient.id}/check-ins"
        first = check_in_body(i1=1)
        key = {"Idempotency-Key": "phone-42"}
        assert client.post(path, json=first, headers={**auth(patient), **key}).status_code == 201
        other = check_in_body(i1=2)
        reused = client.post(path, json=other, headers={**auth(patient), **key})
        assert (reused.status_code, reused.get_json()["detail"]) == (
            422,
            "This Idempotency-Key was used for a different check-in.",
        )
        assert reused.get_json()["errors"] == {
            "Idempotency-Key": ["Already used with a different body."]
        }
        same_id = check_in_body(i1=1, id=uuid.uuid4())
        client.post(path, json=same_id, headers=auth(patient))
        clash = client.post(
            path, json={**same_id, "answers": other["answers"]}, headers=auth(patient)
        )
        assert (clash.status_code, clash.get_json()["detail"]) == (
            409,
            "A different check-in with this id is already stored.",
        )
        assert clash.get_json()["errors"] == {"id": ["Already used for a different check-in."]}

    def test_a_panel_cursor_with_a_bad_offset_is_refused(self, app, client, auth, clinician):
        codec = app.extensions["interval.cursors"]
        for offset in (-1, "3"):
            cursor = codec.encode({"offset": offset})
            answer = client.get(
                f"/v1/patients?sort=attention&cursor={cursor}", headers=auth(clinician)
            )
            assert (answer.status_code, answer.get_json()["detail"]) == (
                400,
                "The cursor is not valid; start again without it.",
            )


def test_a_patients_check_in_list_holds_only_theirs_within_its_window(
    client, auth, clinician, clinic, make_patient, submit
):
    mine = make_patient(clinic, care_team=(clinician,))
    neighbour = make_patient(clinic, care_team=(clinician,))
    at = ["2026-11-10T09:00:00+00:00", "2026-11-12T09:00:00+00:00", "2026-11-14T09:00:00+00:00"]
    ids = [submit(mine, completed_at=when, i1=1).get_json()["id"] for when in at]
    submit(neighbour, completed_at=at[1], i1=2)

    def listed(query: str = "") -> list[str]:
        path = f"/v1/patients/{mine.id}/check-ins?{query}"
        return [c["id"] for c in client.get(path, headers=auth(clinician)).get_json()["items"]]

    assert sorted(listed()) == sorted(ids)
    window = f"from={at[1]}&to={at[2]}".replace("+", "%2B")
    assert listed(window) == [ids[1]]  # from inclusive, to exclusive


def test_a_batch_shows_crisis_words_whatever_comes_before_the_endorsing_item(client, auth, patient):
    endorsing = {"questionnaire": "phq9", "answers": {"9": 3}}
    body = {"check_ins": [42, {"questionnaire": 7}, endorsing]}
    answer = client.post(
        f"/v1/patients/{patient.id}/check-ins/batch", json=body, headers=auth(patient)
    )
    results = answer.get_json()["results"]
    assert [r["status"] for r in results] == [422, 422, 422]
    assert "safety" in results[2]["problem"]
    refused = client.post(
        f"/v1/patients/{patient.id}/check-ins", json=[42, endorsing], headers=auth(patient)
    )
    assert refused.status_code in (400, 422)
    assert refused.get_json()["safety"]["answers_sent"] is False
