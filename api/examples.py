"""Request and response examples for every operation of the OpenAPI document, captured from
the real service rather than written by hand: `interval openapi examples` runs the patient's,
the clinician's and the admin's journeys against a throwaway SQLite database and writes what
each operation was sent and answered to `api/openapi_examples.json`; the document embeds them
(api/spec.py) and a test validates each against its schema, so they cannot drift silently.

Tokens are replaced by placeholders and long lists in answers cut to four entries."""

from __future__ import annotations

import datetime as dt
import json
import re
import tempfile
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from api import factories
from api.app import create_app
from api.db import utcnow
from api.migrate import upgrade
from api.resources.fhir.routes import MEDIA_TYPES
from api.spec import EXAMPLES_PATH, OPERATION_IDS

PASSWORD = "correct horse battery staple"  # noqa: S105  # a throwaway database  # nosec B105
SHOWN_ITEMS = 4
# Tokens are shown as placeholders, never as issued (even by a throwaway service).
PLACEHOLDERS = {  # placeholders, not tokens  # nosec B105
    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJleGFtcGxlIn0.c2lnbmF0dXJl",
    "refresh_token": "r3fr3sh-t0k3n-3xampl3-0nly-n0t-a-r3al-t0k3n-xx",
}


def shorten(value: Any, shown: int | None = SHOWN_ITEMS) -> Any:
    """Lists cut to their first `shown` entries, tokens replaced: an example to read, not a
    dump."""
    if isinstance(value, dict):
        return {key: PLACEHOLDERS.get(key) or shorten(item, shown) for key, item in value.items()}
    if isinstance(value, list):
        return [shorten(item, shown) for item in value[:shown]]
    return value


class Recorder:
    """A test client that keeps, per operation, the first body it sent and the first answer
    of each status."""

    def __init__(self, app: Flask, client: FlaskClient) -> None:
        self.client = client
        self.adapter = app.url_map.bind("localhost")
        self.examples: dict[str, dict] = {}

    def operation(self, method: str, path: str) -> str:
        rule, _ = self.adapter.match(path.split("?")[0], method=method.upper(), return_rule=True)
        openapi_path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        return OPERATION_IDS[(method.lower(), openapi_path)]

    def call(self, method: str, path: str, token: str | None = None, body=None, **headers):
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = self.client.open(path, method=method.upper(), json=body, headers=headers)
        example = self.examples.setdefault(self.operation(method, path), {"responses": {}})
        if body is not None and response.status_code < 400:
            example.setdefault("request", shorten(body, None))
        answer = self.answer(response)
        if answer is not None:
            answers = example["responses"].setdefault(str(response.status_code), {})
            answers.setdefault(response.mimetype, answer)
        return response

    @staticmethod
    def answer(response) -> Any:
        """What to show of an answer: JSON shortened, a page's or a table's first lines."""
        if response.is_json and response.data:
            return shorten(response.get_json())
        if response.mimetype == "text/csv":
            return "".join(response.get_data(as_text=True).splitlines(keepends=True)[:3])
        if response.mimetype == "text/html":
            return response.get_data(as_text=True)[:120] + "…"
        return None


def _login(recorder: Recorder, email: str) -> str:
    answer = recorder.call("post", "/v1/auth/login", body={"email": email, "password": PASSWORD})
    return answer.get_json()["access_token"]


def _staff(recorder: Recorder, app: Flask) -> dict[str, Any]:
    """A clinic with an admin and a clinician who sign in (login, refresh, me)."""
    session = app.extensions["interval.db"].session()
    hashed = app.extensions["interval.identity"].passwords.hash(PASSWORD)
    clinic = factories.clinic(session, "Riverside Ketamine Clinic")
    people = {
        role: factories.user(
            session,
            clinic,
            role,
            email=f"{name}@riverside.example",
            password_hash=hashed,
            display_name=display,
        )
        for role, name, display in (
            ("clinic_admin", "admin", "Ana Admin"),
            ("clinician", "dr.lee", "Dr. Morgan Lee"),
        )
    }
    session.commit()
    ids = {"clinic": str(clinic.id), "admin": str(people["clinic_admin"].id)}
    ids["clinician"] = str(people["clinician"].id)
    session.close()
    refresh = recorder.call(
        "post", "/v1/auth/login", body={"email": "dr.lee@riverside.example", "password": PASSWORD}
    ).get_json()["refresh_token"]
    tokens = recorder.call("post", "/v1/auth/refresh", body={"refresh_token": refresh}).get_json()
    ids["clinician_token"] = tokens["access_token"]
    ids["admin_token"] = _login(recorder, "admin@riverside.example")
    recorder.call("get", "/v1/me", ids["clinician_token"])
    return ids


def _patient(recorder: Recorder, ids: dict) -> dict:
    """The clinician registers a patient, who enrolls with the code."""
    doctor = ids["clinician_token"]
    created = recorder.call(
        "post",
        "/v1/patients",
        doctor,
        {
            "display_name": "Jordan Rivera",
            "timezone": "America/New_York",
            "mrn": "RK-10442",
            "birth_year": 1984,
        },
    ).get_json()
    enrolled = recorder.call(
        "post",
        "/v1/auth/enroll",
        body={
            "code": created["enrollment"]["code"],
            "email": "jordan@example.com",
            "password": PASSWORD,
        },
    ).get_json()
    waiting = recorder.call(
        "post",
        "/v1/patients",
        doctor,
        {"display_name": "Sam Okafor", "timezone": "America/Chicago"},
    ).get_json()
    recorder.call("post", f"/v1/patients/{waiting['id']}/enrollment", doctor)
    recorder.call("get", f"/v1/patients/{created['id']}", doctor)
    return {"id": created["id"], "token": enrolled["access_token"]}


def _timeline(recorder: Recorder, ids: dict, patient: dict, now: dt.datetime) -> None:
    doctor = ids["clinician_token"]
    started = (now - dt.timedelta(days=10)).date().isoformat()
    course = recorder.call(
        "post",
        f"/v1/patients/{patient['id']}/courses",
        doctor,
        {"indications": ["depression"], "started_on": started, "induction_infusions": 6},
    )
    course_id = course.get_json()["id"]
    recorder.call("get", f"/v1/patients/{patient['id']}/courses", doctor)
    recorder.call(
        "patch",
        f"/v1/courses/{course_id}",
        doctor,
        {"induction_infusions": 6},
        **{"If-Match": course.headers["ETag"]},
    )
    infusion = recorder.call(
        "post",
        f"/v1/courses/{course_id}/infusions",
        doctor,
        {
            "status": "completed",
            "administered_at": (now - dt.timedelta(days=8)).isoformat(),
            "dose_mg_per_kg": 0.5,
            "duration_minutes": 40,
            "blood_pressure": {"before": [122, 80], "peak": [146, 92], "after": [126, 82]},
            "heart_rate": 78,
            "side_effects": ["nausea"],
            "notes": "Tolerated well.",
        },
    )
    recorder.call(
        "post",
        f"/v1/courses/{course_id}/infusions",
        doctor,
        {"status": "scheduled", "scheduled_for": (now + dt.timedelta(days=2)).isoformat()},
    )
    infusion_id = infusion.get_json()["id"]
    recorder.call(
        "patch",
        f"/v1/infusions/{infusion_id}",
        doctor,
        {"dissociation": 3},
        **{"If-Match": infusion.headers["ETag"]},
    )
    recorder.call("get", f"/v1/infusions/{infusion_id}", doctor)
    recorder.call("get", f"/v1/courses/{course_id}", doctor)
    recorder.call("get", f"/v1/courses/{course_id}/infusions", doctor)
    recorder.call("get", f"/v1/patients/{patient['id']}/due", patient["token"])


def _check_in(key: str, answers: dict, at: dt.datetime, check_in_id: str | None = None) -> dict:
    body = {"questionnaire": key, "answers": answers, "completed_at": at.isoformat()}
    return {"id": check_in_id, **body} if check_in_id else body


def _check_ins(recorder: Recorder, ids: dict, patient: dict, now: dt.datetime) -> str:
    """A baseline, a flagged PHQ-9 (safety, an urgent alert), a batch; returns the alert."""
    me, path = patient["token"], f"/v1/patients/{patient['id']}/check-ins"
    phq9 = {str(i): 2 for i in range(1, 10)} | {"9": 0, "10": 1}
    recorder.call("post", path, me, _check_in("phq9", phq9, now - dt.timedelta(days=9, hours=1)))
    flagged = phq9 | {"1": 1, "2": 1, "9": 1}
    sent = _check_in(
        "phq9", flagged, now - dt.timedelta(hours=2), "6f1c0b6e-2d1a-4c7e-9a55-0b8f4c7d2e11"
    )
    stored = recorder.call("post", path, me, sent).get_json()
    recorder.call("post", path, me, sent)  # a retry: 200, the stored copy
    gad7 = _check_in("gad7", {str(i): 1 for i in range(1, 8)}, now - dt.timedelta(hours=3))
    pain = _check_in(
        "pain", {"1": 4}, now - dt.timedelta(hours=1), "0c3b9a4e-8f61-4e0b-b1b5-6a2f8d4e7c90"
    )
    recorder.call(
        "post",
        f"{path}/batch",
        me,
        {"check_ins": [pain, pain, {"questionnaire": "gad7", "answers": {"1": 9}}, gad7]},
    )
    doctor = ids["clinician_token"]
    recorder.call("get", f"{path}?questionnaire=phq9", doctor)
    recorder.call("get", f"{path}?questionnaire=phq9", doctor, Accept="text/csv")
    recorder.call("get", f"/v1/check-ins/{stored['id']}", doctor)
    recorder.call(
        "post",
        f"/v1/check-ins/{pain['id']}/entered-in-error",
        doctor,
        {"reason": "Answered for the wrong day"},
    )
    alerts = recorder.call("get", "/v1/alerts?status=open", doctor).get_json()
    return alerts["items"][0]["id"]


def _progress(recorder: Recorder, ids: dict, patient: dict, alert_id: str) -> None:
    doctor, pid = ids["clinician_token"], patient["id"]
    recorder.call(
        "post",
        f"/v1/alerts/{alert_id}/acknowledge",
        doctor,
        {"note": "Called the patient; safe, plan agreed."},
    )
    recorder.call(
        "post", f"/v1/alerts/{alert_id}/resolve", doctor, {"note": "Seen in clinic the same day."}
    )
    recorder.call("get", "/v1/patients?sort=attention", doctor)
    for path in ("trends/phq9", "summary", "report"):
        recorder.call("get", f"/v1/patients/{pid}/{path}", doctor)
    recorder.call("get", "/v1/questionnaires", None)
    recorder.call("get", "/v1/questionnaires/phq9", None)
    for media_type in MEDIA_TYPES:
        recorder.call("get", f"/v1/patients/{pid}/fhir", doctor, Accept=media_type)
        recorder.call("get", "/v1/fhir/Questionnaire/phq9", None, Accept=media_type)


def _clinic(recorder: Recorder, ids: dict, patient: dict) -> None:
    admin, clinic = ids["admin_token"], ids["clinic"]
    recorder.call("get", f"/v1/clinics/{clinic}", admin)
    recorder.call("patch", f"/v1/clinics/{clinic}", admin, {"bp_flag_systolic": 180})
    invited = recorder.call(
        "post",
        f"/v1/clinics/{clinic}/staff",
        admin,
        {
            "email": "dr.patel@riverside.example",
            "display_name": "Dr. Priya Patel",
            "role": "clinician",
        },
    ).get_json()
    recorder.call("get", f"/v1/clinics/{clinic}/staff", admin)
    recorder.call("get", f"/v1/clinics/{clinic}/staff/{invited['user_id']}", admin)
    doctor = ids["clinician_token"]
    team = f"/v1/patients/{patient['id']}/care-team"
    recorder.call("post", team, doctor, {"user_id": invited["user_id"]})
    recorder.call("delete", f"{team}/{invited['user_id']}", doctor)
    recorder.call(
        "patch", f"/v1/clinics/{clinic}/staff/{invited['user_id']}", admin, {"active": False}
    )
    recorder.call("get", f"/v1/clinics/{clinic}/outcomes?questionnaire=phq9", admin)
    recorder.call("get", f"/v1/audit-events?patient_id={patient['id']}", admin)
    recorder.call("get", "/healthz")
    recorder.call("get", "/readyz")


def _accounts(recorder: Recorder, ids: dict) -> None:
    refresh = recorder.call(
        "post", "/v1/auth/login", body={"email": "admin@riverside.example", "password": PASSWORD}
    ).get_json()["refresh_token"]
    recorder.call("post", "/v1/auth/logout", body={"refresh_token": refresh})
    recorder.call(
        "post",
        "/v1/me/password",
        ids["admin_token"],
        {"current_password": PASSWORD, "new_password": "a longer passphrase, 2026"},  # nosec B105
    )


def capture() -> dict[str, dict]:
    """Run every journey against a throwaway database; operationId → examples."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "SECRET_KEY": "examples-only-" + "x" * 40,
                "DATABASE_URL": f"sqlite:///{folder}/examples.db",
                "INSTANCE_DIR": folder,
                "ENV": "development",
                "ARGON2_TIME_COST": 2,
                "ARGON2_MEMORY_KIB": 19456,
                "ARGON2_PARALLELISM": 1,
            }
        )
        with app.extensions["interval.db"].engine.begin() as connection:
            upgrade(connection)
        now = utcnow().replace(microsecond=0)
        recorder = Recorder(app, app.test_client())
        ids = _staff(recorder, app)
        patient = _patient(recorder, ids)
        _timeline(recorder, ids, patient, now)
        alert_id = _check_ins(recorder, ids, patient, now)
        _progress(recorder, ids, patient, alert_id)
        _clinic(recorder, ids, patient)
        _accounts(recorder, ids)
        app.extensions["interval.db"].dispose()
    return dict(sorted(recorder.examples.items()))


def write_examples() -> Path:
    EXAMPLES_PATH.write_text(json.dumps(capture(), indent=1, ensure_ascii=False) + "\n")
    return EXAMPLES_PATH
