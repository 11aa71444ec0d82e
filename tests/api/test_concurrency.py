"""Races that only real, separately committed transactions can show."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import OperationalError

from api import factories
from api.db import rows_affected, utcnow
from api.domain import alerts, identity
from api.models import Alert, AlertOccurrence, CheckIn, Clinic, Patient, User
from tests.conftest import check_in_body


def committed_user(app, role: str = "clinician") -> User:
    """A user committed outright (no test transaction), with a unique clinic of its own."""
    with app.extensions["interval.db"].session() as session:
        user = factories.user(session, factories.clinic(session, "Race clinic"), role)
        session.commit()
        return user


def committed_patient(app) -> tuple[Patient, str]:
    """An enrolled patient committed outright, and an access token for them."""
    with app.extensions["interval.db"].session() as session:
        of_clinic = factories.clinic(session, "Race clinic")
        account = factories.user(session, of_clinic, "patient")
        patient = factories.patient(session, of_clinic, account=account, timezone="UTC")
        pair = identity.start_session(
            session, app.extensions["interval.identity"], user=account, now=utcnow()
        )
        session.commit()
    return patient, pair.access_token


def race(app, workers: int, request) -> list:
    """Run `request(client)` from `workers` threads released at the same instant."""
    barrier = Barrier(workers)

    def run(_):
        client = app.test_client()
        barrier.wait()
        return request(client)

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(run, range(workers)))


def count(app, model, patient: Patient) -> int:
    with app.extensions["interval.db"].session() as session:
        return session.scalar(select(func.count()).where(model.patient_id == patient.id))


def test_concurrent_refreshes_with_one_token_succeed_at_most_once(app):
    user = committed_user(app)
    with app.extensions["interval.db"].session() as session:
        pair = identity.start_session(
            session, app.extensions["interval.identity"], user=user, now=utcnow()
        )
        session.commit()
    workers = 8
    responses = race(
        app,
        workers,
        lambda client: client.post("/v1/auth/refresh", json={"refresh_token": pair.refresh_token}),
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [401] * (workers - 1)
    # The others presented a spent token: reuse, so the winner's new pair dies with the family.
    [winner] = [r.get_json() for r in responses if r.status_code == 200]
    again = app.test_client().post(
        "/v1/auth/refresh", json={"refresh_token": winner["refresh_token"]}
    )
    assert again.status_code == 401


def test_twenty_concurrent_identical_submissions_store_one_row(app):
    patient, token = committed_patient(app)
    body = check_in_body(id=uuid.uuid4(), i9=1)
    responses = race(
        app,
        20,
        lambda client: client.post(
            f"/v1/patients/{patient.id}/check-ins",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        ),
    )
    assert sorted(r.status_code for r in responses) == [200] * 19 + [201]
    assert len({r.get_data(as_text=True) for r in responses}) == 1
    assert (count(app, CheckIn, patient), count(app, Alert, patient)) == (1, 1)


def test_concurrent_submissions_with_one_idempotency_key(app):
    patient, token = committed_patient(app)
    body = check_in_body(i1=2)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "race-key-0001"}
    responses = race(
        app,
        10,
        lambda client: client.post(
            f"/v1/patients/{patient.id}/check-ins", json=body, headers=headers
        ),
    )
    assert sorted(r.status_code for r in responses) == [200] * 9 + [201]
    assert count(app, CheckIn, patient) == 1


def test_concurrent_severe_check_ins_merge_into_one_alert(app):
    patient, token = committed_patient(app)
    severe = {f"i{i}": 3 for i in range(1, 8)}
    responses = race(
        app,
        6,
        lambda client: client.post(
            f"/v1/patients/{patient.id}/check-ins",
            json=check_in_body(**severe),
            headers={"Authorization": f"Bearer {token}"},
        ),
    )
    assert [r.status_code for r in responses] == [201] * 6
    with app.extensions["interval.db"].session() as session:
        alerts = session.execute(
            select(Alert.kind, func.count(AlertOccurrence.id))
            .join(AlertOccurrence, AlertOccurrence.alert_id == Alert.id)
            .where(Alert.patient_id == patient.id)
            .group_by(Alert.id, Alert.kind)
        ).all()
    assert [tuple(row) for row in alerts] == [("severe_symptoms", 6)]


def test_concurrent_patches_of_one_infusion_one_wins(app):
    clinician = committed_user(app)
    database = app.extensions["interval.db"]
    with database.session() as session:
        of_clinic = session.get_one(Clinic, clinician.clinic_id)
        patient = factories.patient(session, of_clinic, care_team=[clinician], timezone="UTC")
        token = identity.start_session(
            session, app.extensions["interval.identity"], user=clinician, now=utcnow()
        ).access_token
        session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    course = client.post(
        f"/v1/patients/{patient.id}/courses",
        headers=headers,
        json={"indications": ["depression"], "started_on": "2026-10-01"},
    )
    infusion = client.post(
        f"/v1/courses/{course.get_json()['id']}/infusions",
        headers=headers,
        json={
            "status": "completed",
            "administered_at": "2026-10-02T15:00:00Z",
            "dose_mg_per_kg": 0.5,
        },
    ).get_json()
    url = f"/v1/infusions/{infusion['id']}"
    etag = client.get(url, headers=headers).headers["ETag"]
    responses = race(
        app,
        2,
        lambda c: c.patch(
            url, json={"notes": f"note {uuid.uuid4()}"}, headers={**headers, "If-Match": etag}
        ),
    )
    assert sorted(r.status_code for r in responses) == [200, 412]
    winner = next(r for r in responses if r.status_code == 200).get_json()
    assert client.get(url, headers=headers).get_json()["notes"] == winner["notes"]


def test_concurrent_item_9_check_ins_open_one_urgent_alert(app):
    patient, token = committed_patient(app)
    responses = race(
        app,
        6,
        lambda client: client.post(
            f"/v1/patients/{patient.id}/check-ins",
            json=check_in_body(i9=1),
            headers={"Authorization": f"Bearer {token}"},
        ),
    )
    assert [r.status_code for r in responses] == [201] * 6
    with app.extensions["interval.db"].session() as session:
        alerts = session.execute(
            select(Alert.kind, func.count(AlertOccurrence.id))
            .join(AlertOccurrence, AlertOccurrence.alert_id == Alert.id)
            .where(Alert.patient_id == patient.id)
            .group_by(Alert.id, Alert.kind)
        ).all()
    assert [tuple(row) for row in alerts] == [("suicidal_ideation", 6)]


@pytest.mark.postgres_only
def test_an_alert_being_joined_is_acknowledged_only_after_the_join_commits(app):
    """A check-in that joins the open severe-symptoms alert while it also opens a
    deterioration alert can wait on that INSERT (another check-in is opening the same one).
    Meanwhile the alert it joins stays locked: an acknowledgement waits for the join, instead
    of committing first and leaving the new occurrence inside an alert that is no longer open,
    where no inbox would show it."""
    patient, token = committed_patient(app)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    severe = {f"i{i}": 3 for i in range(1, 8)}
    ids = []
    for body in (check_in_body(**severe), check_in_body(i1=1), check_in_body(i1=2)):
        response = client.post(f"/v1/patients/{patient.id}/check-ins", json=body, headers=headers)
        assert response.status_code == 201
        ids.append(uuid.UUID(response.get_json()["id"]))
    database = app.extensions["interval.db"]
    now = utcnow()
    deteriorated = alerts.Trigger("reliable_deterioration", "normal")
    acknowledge = (
        update(Alert)
        .where(Alert.patient_id == patient.id, Alert.kind == "severe_symptoms")
        .values(status="acknowledged")
    )

    def join_and_open(session) -> None:
        check_in = session.get(CheckIn, ids[1])
        both = [(check_in, alerts.Trigger("severe_symptoms", "high")), (check_in, deteriorated)]
        alerts.raise_all(session, both, now=now)
        session.commit()

    with database.session() as opening, database.session() as joining:
        alerts.raise_all(opening, [(opening.get(CheckIn, ids[2]), deteriorated)], now=now)
        pool = ThreadPoolExecutor(1)
        joined = pool.submit(join_and_open, joining)
        try:
            wait_until_blocked(database)
            with database.session() as clinician:
                clinician.execute(text("SET LOCAL lock_timeout = '200ms'"))
                with pytest.raises(OperationalError, match="lock timeout"):
                    clinician.execute(acknowledge)
        finally:
            opening.commit()
            joined.result(timeout=10)
            pool.shutdown()
    with database.session() as clinician:
        assert rows_affected(clinician, acknowledge) == 1
        clinician.commit()
        found = clinician.execute(
            select(Alert.kind, Alert.status, func.count(AlertOccurrence.id))
            .join(AlertOccurrence, AlertOccurrence.alert_id == Alert.id)
            .where(Alert.patient_id == patient.id)
            .group_by(Alert.id, Alert.kind, Alert.status)
            .order_by(Alert.kind)
        ).all()
    assert [tuple(row) for row in found] == [
        ("reliable_deterioration", "open", 2),
        ("severe_symptoms", "acknowledged", 2),
    ]


def wait_until_blocked(database, seconds: float = 5.0) -> None:
    """Until some session of this database waits for a lock."""
    deadline = time.monotonic() + seconds
    with database.session() as session:
        while time.monotonic() < deadline:
            waiting = session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            session.rollback()
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("no session came to wait for a lock")
