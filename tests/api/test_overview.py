"""A patient at a glance (api/domain/overview.py): what the summary holds for whom, and the
open alerts it and the report list."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import update

from api.domain import overview, trends
from api.domain.access import Actor
from api.models import CheckIn
from tests.api.test_trends import START, at, phq9
from tests.conftest import NOW, check_in_body

SEVERE_GAD7 = {f"i{n}": 3 for n in range(1, 8)}


@pytest.fixture
def not_improving(clock, course_api, patient, submit):
    """Four induction infusions and a PHQ-9 barely better than baseline: a signal."""
    course = course_api.start(patient, started_on=START.date().isoformat())
    submit(patient, check_in_body(completed_at=at(-1), **phq9(19)))
    for day in (0, 2, 4, 7):
        course_api.infuse(course, at(day))
    submit(patient, check_in_body(completed_at=at(8), **phq9(18)))
    return course


def summary_for(app, session, who: Actor, patient) -> overview.Summary:
    rules = app.extensions["interval.rules"]
    return overview.summary(session, rules, actor=who, patient_id=patient.id, now=NOW)


def as_patient(patient) -> Actor:
    return Actor(patient.user_id, "patient", patient.clinic_id, patient_id=patient.id)


def as_clinician(clinician) -> Actor:
    return Actor(clinician.id, "clinician", clinician.clinic_id)


class TestSummary:
    def test_signals_and_alerts_are_for_the_care_team(
        self, app, session, patient, clinician, not_improving
    ):
        [seen] = summary_for(app, session, as_clinician(clinician), patient).instruments
        assert [s.kind for s in seen.trend.signals] == ["early_non_improvement"]
        own = summary_for(app, session, as_patient(patient), patient)
        assert [i.trend.signals for i in own.instruments] == [[]]
        assert own.open_alerts is None

    def test_without_a_course_there_is_no_phase(self, app, session, clock, patient, submit):
        submit(patient, check_in_body(**phq9(12)))
        found = summary_for(app, session, as_patient(patient), patient)
        assert (found.course, found.phase, found.infusion_count) == (None, None, 0)

    def test_what_is_done_is_not_listed_as_due(
        self, app, session, clock, patient, course_api, submit
    ):
        course_api.start(patient, indications=["chronic_pain"], started_on=NOW.date().isoformat())
        before = summary_for(app, session, as_patient(patient), patient)
        assert [(d.questionnaire, d.status) for d in before.due] == [("pain", "due")]
        submit(patient, check_in_body("pain", completed_at=NOW.isoformat(), i1=3))
        after = summary_for(app, session, as_patient(patient), patient)
        assert [d.questionnaire for d in after.due if d.questionnaire == "pain"] == []
        assert all(d.status != "done" for d in after.due)

    def test_an_instrument_no_longer_defined_is_left_out_and_the_rest_summarised(
        self, app, session, clock, patient, submit
    ):
        """Check-ins of an instrument a later release retires stay stored; the summary shows
        the instruments it still defines, whichever sorts first."""
        retired = submit(patient, check_in_body(**phq9(12))).get_json()["id"]
        submit(patient, check_in_body(**phq9(9)))
        session.execute(
            update(CheckIn).where(CheckIn.id == uuid.UUID(retired)).values(questionnaire="bdi2")
        )
        found = summary_for(app, session, as_patient(patient), patient)
        assert [(i.trend.definition.key, i.trend.latest.total) for i in found.instruments] == [
            ("phq9", 9)
        ]


def open_alert_kinds(client, auth, clinician, patient) -> list[tuple]:
    body = client.get(f"/v1/patients/{patient.id}/summary", headers=auth(clinician)).get_json()
    return [(a["kind"], a["questionnaire"], a["status"]) for a in body["open_alerts"]]


class TestOpenAlerts:
    def test_the_patients_own_open_and_acknowledged_most_urgent_then_latest(
        self, clock, client, auth, clinic, clinician, patient, make_patient, submit
    ):
        submit(patient, check_in_body(i9=1))
        clock.advance(minutes=1)
        submit(patient, check_in_body("gad7", **SEVERE_GAD7))
        clock.advance(minutes=1)
        submit(patient, check_in_body(**phq9(20)))
        other = make_patient(clinic, care_team=(clinician,))
        submit(other, check_in_body(i9=1))
        alerts = client.get("/v1/alerts", headers=auth(clinician)).get_json()["items"]
        [urgent] = [
            a for a in alerts if a["patient_id"] == str(patient.id) and a["priority"] == "urgent"
        ]
        client.post(f"/v1/alerts/{urgent['id']}/acknowledge", json={}, headers=auth(clinician))
        assert open_alert_kinds(client, auth, clinician, patient) == [
            ("suicidal_ideation", "phq9", "acknowledged"),
            ("severe_symptoms", "phq9", "open"),
            ("severe_symptoms", "gad7", "open"),
        ]
        clock.advance(minutes=1)
        submit(patient, check_in_body("gad7", **SEVERE_GAD7))  # a new occurrence: latest now
        assert open_alert_kinds(client, auth, clinician, patient)[1:] == [
            ("severe_symptoms", "gad7", "open"),
            ("severe_symptoms", "phq9", "open"),
        ]

    def test_resolved_alerts_are_not_listed(self, client, auth, clinician, patient, submit):
        submit(patient, check_in_body(i9=1))
        [alert] = client.get("/v1/alerts", headers=auth(clinician)).get_json()["items"]
        url = f"/v1/alerts/{alert['id']}"
        client.post(f"{url}/acknowledge", json={}, headers=auth(clinician))
        client.post(
            f"{url}/resolve", json={"note": "Safety plan reviewed"}, headers=auth(clinician)
        )
        assert open_alert_kinds(client, auth, clinician, patient) == []


def test_a_patients_own_trend_has_no_signals(app, session, patient, clinician, not_improving):
    rules = app.extensions["interval.rules"]

    def signals(who: Actor) -> list[str]:
        found = trends.trend(session, rules, actor=who, patient_id=patient.id, questionnaire="phq9")
        return [s.kind for s in found.signals]

    assert signals(as_clinician(clinician)) == ["early_non_improvement"]
    assert signals(as_patient(patient)) == []


def test_a_check_in_at_the_first_instant_of_the_look_back_is_the_courses(
    client, auth, patient, course_api, submit
):
    """Thirty days of 24 hours before the course's local start, and not a second earlier."""
    course = course_api.start(patient, started_on="2026-11-02")  # New York: 05:00 UTC
    for instant in ("2026-10-03T04:59:59+00:00", "2026-10-03T05:00:00+00:00"):
        submit(patient, check_in_body(completed_at=instant, **phq9(12)))
    body = client.get(f"/v1/patients/{patient.id}/trends/phq9", headers=auth(patient)).get_json()
    assert body["course_id"] == course["id"]
    assert [p["completed_at"] for p in body["points"]] == ["2026-10-03T05:00:00+00:00"]


def test_the_twenty_latest_open_alerts_and_no_more(clock, client, auth, clinician, patient, submit):
    """An endorsement of item 9 a day apart opens a new urgent alert each time."""
    answered = []
    for _ in range(21):
        answered.append(submit(patient, check_in_body(i9=1)).get_json()["id"])
        clock.advance(hours=25)
    body = client.get(f"/v1/patients/{patient.id}/summary", headers=auth(clinician)).get_json()
    assert [a["check_in_id"] for a in body["open_alerts"]] == answered[:0:-1]


def test_the_reports_recent_check_ins_in_the_order_of_the_check_in_list(
    app, session, clock, client, auth, clinician, patient, submit
):
    """Three PHQ-9s with the same answering time (sent from several devices, say), stored in
    neither the order of their ids nor its reverse."""
    for digit, version in (("5", "8"), ("f", "b"), ("0", "8")):
        id = f"{digit * 8}-{digit * 4}-4{digit * 3}-{version}{digit * 3}-{digit * 12}"
        submit(patient, check_in_body(completed_at=at(39), id=id, **phq9(12)))
    listed = client.get(f"/v1/patients/{patient.id}/check-ins", headers=auth(clinician))
    rules = app.extensions["interval.rules"]
    found = overview.report(
        session, rules, actor=as_clinician(clinician), patient_id=patient.id, now=NOW
    )
    assert [str(c.id) for c in found.recent_check_ins] == [
        c["id"] for c in listed.get_json()["items"]
    ]
