"""Races that only real, separately committed transactions can show."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

from api.db import utcnow
from api.domain import identity
from api.models import Clinic, User


def committed_user(app) -> User:
    """A user committed outright (no test transaction), with a unique clinic of its own."""
    database = app.extensions["interval.db"]
    with database.session() as session:
        clinic = Clinic(id=uuid.uuid4(), name="Race clinic", created_at=utcnow())
        user = User(
            id=uuid.uuid4(),
            clinic_id=clinic.id,
            role="clinician",
            email=f"race-{uuid.uuid4().hex}@example.test",
            display_name="Racer",
            is_active=True,
            created_at=utcnow(),
        )
        session.add(clinic)
        session.flush()
        session.add(user)
        session.commit()
        return user


def test_concurrent_refreshes_with_one_token_succeed_at_most_once(app):
    user = committed_user(app)
    database = app.extensions["interval.db"]
    with database.session() as session:
        pair = identity.start_session(
            session, app.extensions["interval.identity"], user=user, now=utcnow()
        )
        session.commit()
    workers = 8
    barrier = Barrier(workers)

    def refresh(_):
        client = app.test_client()
        barrier.wait()
        return client.post("/v1/auth/refresh", json={"refresh_token": pair.refresh_token})

    with ThreadPoolExecutor(workers) as pool:
        responses = list(pool.map(refresh, range(workers)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [401] * (workers - 1)
    # The others presented a spent token: reuse, so the winner's new pair dies with the family.
    [winner] = [r.get_json() for r in responses if r.status_code == 200]
    again = app.test_client().post(
        "/v1/auth/refresh", json={"refresh_token": winner["refresh_token"]}
    )
    assert again.status_code == 401
