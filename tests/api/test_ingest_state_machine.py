"""Ingest as phones really use it, interleaved at random (a Hypothesis state machine): new
check-ins, retries, lost answers, batches mixing new and repeated items, a different body under
a used id, check-ins marked entered in error. Whatever the order, the rows stored are exactly
the distinct ids sent, and every check-in endorsing PHQ-9 item 9 has reached the care team."""

from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from api.models import AlertOccurrence, CheckIn
from tests.conftest import NOW, check_in_body

scores = st.tuples(st.integers(0, 3), st.integers(0, 3))  # item 1, item 9


class Ingest(RuleBasedStateMachine):
    """One patient's phone (and their clinician) in a random order of steps; `given` holds the
    test's fixtures."""

    given: SimpleNamespace
    sent = Bundle("sent")

    def __init__(self):
        super().__init__()
        given = self.given
        self.patient = given.make_patient(given.clinic, care_team=(given.clinician,))
        self.as_patient = given.auth(self.patient)
        self.as_clinician = given.auth(given.clinician)
        self.bodies: dict[str, dict] = {}  # every id stored, with the body that stored it
        self.minutes = 0

    def body(self, item_1: int, item_9: int) -> dict:
        self.minutes += 1  # each answered a minute after the one before
        completed = NOW - dt.timedelta(days=3) + dt.timedelta(minutes=self.minutes)
        return check_in_body(
            completed_at=completed.isoformat(), id=str(uuid.uuid4()), i1=item_1, i9=item_9
        )

    def post(self, body: dict):
        return self.given.client.post(
            f"/v1/patients/{self.patient.id}/check-ins", json=body, headers=self.as_patient
        )

    @rule(target=sent, score=scores)
    def submit(self, score):
        body = self.body(*score)
        assert self.post(body).status_code == 201
        self.bodies[body["id"]] = body
        return body["id"]

    @rule(check_in_id=sent)
    def retry(self, check_in_id):
        assert self.post(self.bodies[check_in_id]).status_code == 200

    @rule(target=sent, score=scores)
    def answer_lost(self, score):
        """The first answer never reached the phone: it sends again and hears the same."""
        body = self.body(*score)
        first = self.post(body)
        again = self.post(body)
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.get_json() == first.get_json()
        self.bodies[body["id"]] = body
        return body["id"]

    @rule(check_in_id=sent, score=scores)
    def different_body_same_id(self, check_in_id, score):
        body = self.body(*score) | {"id": check_in_id}
        assert self.post(body).status_code == 409

    @rule(
        target=sent,
        new=st.lists(scores, min_size=1, max_size=4),
        repeats=st.lists(sent, max_size=3),
    )
    def batch(self, new, repeats):
        fresh = [self.body(*score) for score in new]
        items = fresh + [self.bodies[check_in_id] for check_in_id in repeats]
        response = self.given.client.post(
            f"/v1/patients/{self.patient.id}/check-ins/batch",
            json={"check_ins": items},
            headers=self.as_patient,
        )
        statuses = [r["status"] for r in response.get_json()["results"]]
        assert statuses == [201] * len(fresh) + [200] * len(repeats)
        self.bodies |= {body["id"]: body for body in fresh}
        return multiple(*(body["id"] for body in fresh))

    @rule(check_in_id=sent)
    def entered_in_error(self, check_in_id):
        response = self.given.client.post(
            f"/v1/check-ins/{check_in_id}/entered-in-error",
            json={"reason": "answered for the wrong week"},
            headers=self.as_clinician,
        )
        assert response.status_code in (200, 409)  # 409: marked already

    @invariant()
    def stored_once_and_alerted(self):
        session = self.given.session
        session.expire_all()
        stored = {
            str(c.id): c
            for c in session.scalars(select(CheckIn).where(CheckIn.patient_id == self.patient.id))
        }
        assert stored.keys() == self.bodies.keys()
        alerted = set(
            session.scalars(
                select(AlertOccurrence.check_in_id).where(
                    AlertOccurrence.check_in_id.in_([c.id for c in stored.values()])
                )
            )
        )
        endorsed = {c.id for c in stored.values() if c.answers["9"] > 0}
        assert endorsed <= alerted


def test_stored_rows_are_the_ids_sent_and_every_item_9_has_its_alert(
    client, auth, clinic, clinician, make_patient, session, clock
):
    Ingest.given = SimpleNamespace(
        client=client,
        auth=auth,
        clinic=clinic,
        clinician=clinician,
        make_patient=make_patient,
        session=session,
    )
    run_state_machine_as_test(
        Ingest,
        settings=settings(
            max_examples=12,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
