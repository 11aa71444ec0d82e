"""Clinic outcomes: on the demo clinic they equal a plain-Python recomputation from the trends
of each patient's current course; numbers about fewer than five patients are withheld."""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import Counter

import pytest
from sqlalchemy import select, update

from api.demo import DEMO_CLINIC_ID
from api.domain import trends
from api.domain.outcomes import t_quantile
from api.domain.progress import current_course
from api.models import Course, InfusionBenefit, Patient, PatientProgress
from tests.conftest import check_in_body

# The demo clinic is loaded once for the module; each test runs in a savepoint of it.
pytestmark = pytest.mark.module_transaction


def recompute(app, session, key: str) -> dict:
    """The outcomes from each patient's trend, the long way round."""
    rules = app.extensions["interval.rules"]
    definition = rules.registry[key]
    found = []
    for patient in session.scalars(select(Patient).where(Patient.clinic_id == DEMO_CLINIC_ID)):
        courses = list(
            session.scalars(
                select(Course).where(Course.patient_id == patient.id).order_by(Course.starts_at)
            )
        )
        course = current_course(courses)
        data = trends.load(session, patient=patient, course=course, questionnaires=[key])
        if key in data.check_ins:
            found.append(
                trends.build(
                    definition, course, data.check_ins[key], data.infusions, rules.in_chair_grace
                )
            )
    with_baseline = [t for t in found if t.baseline]
    followed = [t for t in with_baseline if t.latest.id != t.baseline.check_in.id]
    changes = [t.change.absolute for t in followed]
    mean = statistics.fmean(changes)
    margin = t_quantile(len(changes) - 1) * statistics.stdev(changes) / math.sqrt(len(changes))
    responders = [t.status.response for t in followed if t.status.response is not None]
    remitters = [t.status.remission for t in followed if t.status.remission is not None]
    before = {}
    for t in with_baseline:
        for b in t.by_infusion:
            if b.before is not None and b.infusion.infusion.number <= 12:
                before.setdefault(b.infusion.infusion.number, []).append(b.before)
    maintenance = [
        b.days_of_benefit
        for t in with_baseline
        for b in t.by_infusion
        if b.infusion.phase == "maintenance" and b.days_of_benefit is not None
    ]
    return {
        "patients_with_baseline": len(with_baseline),
        "patients_with_follow_up": len(followed),
        "response": round(sum(responders) / len(responders), 3),
        "remission": round(sum(remitters) / len(remitters), 3),
        "mean": round(mean, 1),
        "ci": (round(mean - margin, 1), round(mean + margin, 1)),
        "baseline_bands": Counter(t.baseline.check_in.severity for t in with_baseline),
        "latest_bands": Counter(t.latest.severity for t in with_baseline),
        "by_infusion": {n: (len(v), round(statistics.fmean(v), 1)) for n, v in before.items()},
        "median_days": round(statistics.median(maintenance), 1),
    }


def test_demo_outcomes_equal_a_plain_recomputation(app, client, auth, session, demo):
    response = client.get(
        f"/v1/clinics/{DEMO_CLINIC_ID}/outcomes?questionnaire=phq9&suppress=false",
        headers=auth(demo),
    )
    body = response.get_json()
    expected = recompute(app, session, "phq9")
    assert body["suppressed"] is False
    assert body["patients_with_baseline"] == expected["patients_with_baseline"] >= 25
    assert body["patients_with_follow_up"] == expected["patients_with_follow_up"]
    assert body["response"]["rate"] == expected["response"]
    assert body["remission"]["rate"] == expected["remission"]
    assert body["mean_change"]["mean"] == expected["mean"]
    assert (body["mean_change"]["ci95_low"], body["mean_change"]["ci95_high"]) == expected["ci"]
    assert body["severity"]["baseline"] == dict(expected["baseline_bands"])
    assert body["severity"]["latest"] == dict(expected["latest_bands"])
    by_number = {
        row["infusion_number"]: (row["patients"], row["mean_total"]) for row in body["by_infusion"]
    }
    assert sorted(by_number) == list(range(1, 13))  # the first twelve, each shown
    for number in by_number:
        assert by_number[number] == expected["by_infusion"].get(number, (0, None))
    assert body["maintenance_benefit"]["median_days_of_benefit"] == expected["median_days"]


def test_the_median_benefit_of_an_odd_and_an_even_count(client, auth, session, demo):
    """The middle one of an odd count, the mean of the middle two of an even one (the demo's
    measured days, made distinct so a neighbour of the middle would show)."""

    def median_shown():
        return client.get(
            f"/v1/clinics/{DEMO_CLINIC_ID}/outcomes?questionnaire=phq9&suppress=false",
            headers=auth(demo),
        ).get_json()["maintenance_benefit"]["median_days_of_benefit"]

    median_shown()  # the read model is filled; nothing below is read again from the trends
    session.execute(
        update(PatientProgress)
        .where(PatientProgress.clinic_id == DEMO_CLINIC_ID)
        .values(refreshed_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    )
    current = []
    for patient in session.scalars(select(Patient).where(Patient.clinic_id == DEMO_CLINIC_ID)):
        courses = session.scalars(select(Course).where(Course.patient_id == patient.id)).all()
        current.append(current_course(list(courses)).id)
    measured = session.scalars(
        select(InfusionBenefit).where(
            InfusionBenefit.course_id.in_(current),
            InfusionBenefit.questionnaire == "phq9",
            InfusionBenefit.phase == "maintenance",
            InfusionBenefit.days_of_benefit.is_not(None),
        )
    ).all()
    assert len(measured) >= 4
    for n, benefit in enumerate(measured):
        benefit.days_of_benefit = 10.0 * (len(measured) - n)
    session.flush()
    odd_and_even = []
    for count in (len(measured), len(measured) - 1):
        odd_and_even.append(count % 2)
        assert median_shown() == round(statistics.median(10.0 * d for d in range(1, count + 1)), 1)
        # The longest no longer measured: one fewer.
        measured[0].days_of_benefit = None
        session.flush()
    assert sorted(odd_and_even) == [0, 1]


def test_demo_outcomes_are_not_all_withheld(client, auth, session, demo):
    body = client.get(
        f"/v1/clinics/{DEMO_CLINIC_ID}/outcomes?questionnaire=phq9", headers=auth(demo)
    ).get_json()
    assert body["suppressed"] is True
    assert body["response"]["rate"] is not None and body["mean_change"]["mean"] is not None
    assert body["maintenance_benefit"]["median_days_of_benefit"] is not None


@pytest.fixture
def small_clinic(clock, clinic, clinician, make_patient, course_api, submit):
    for n in range(3):
        someone = make_patient(clinic, care_team=(clinician,))
        course = course_api.start(someone, started_on="2026-10-01")
        course_api.infuse(course, "2026-10-03T15:00:00+00:00")
        submit(
            someone, check_in_body(completed_at="2026-10-02T12:00:00+00:00", i1=3, i2=3, i3=3, i4=3)
        )
        submit(someone, check_in_body(completed_at="2026-11-02T12:00:00+00:00", i1=n))


def test_small_cells_are_withheld(client, auth, clinic, clinician, small_clinic):
    body = client.get(
        f"/v1/clinics/{clinic.id}/outcomes?questionnaire=phq9", headers=auth(clinician)
    ).get_json()
    assert body["suppressed"] is True
    assert body["patients_with_baseline"] is None and body["response"] == {
        "patients": None,
        "rate": None,
    }
    assert body["mean_change"]["mean"] is None


def test_an_admin_may_see_them(client, auth, clinic, admin, small_clinic):
    body = client.get(
        f"/v1/clinics/{clinic.id}/outcomes?questionnaire=phq9&suppress=false", headers=auth(admin)
    ).get_json()
    assert body["suppressed"] is False and body["patients_with_baseline"] == 3
    assert body["response"] == {"patients": 3, "rate": 1.0}


def test_a_clinician_may_not(client, auth, clinic, clinician, small_clinic):
    response = client.get(
        f"/v1/clinics/{clinic.id}/outcomes?questionnaire=phq9&suppress=false",
        headers=auth(clinician),
    )
    assert response.status_code == 403


@pytest.fixture
def six_patients(clock, clinic, clinician, make_patient, course_api, submit):
    """Baselines: five moderate (12), one severe (22); one of the five responds (12 → 3), the
    others fall by a point."""
    moderate = {"i1": 3, "i2": 3, "i3": 3, "i4": 3}
    severe = {**moderate, "i5": 3, "i6": 3, "i7": 3, "i8": 1}
    for n in range(6):
        someone = make_patient(clinic, care_team=(clinician,))
        course = course_api.start(someone, started_on="2026-10-01")
        course_api.infuse(course, "2026-10-03T15:00:00+00:00")
        baseline = severe if n == 5 else moderate
        submit(someone, check_in_body(completed_at="2026-10-02T12:00:00+00:00", **baseline))
        later = {"i1": 3} if n == 0 else {**baseline, "i4": 2}
        submit(someone, check_in_body(completed_at="2026-11-02T12:00:00+00:00", **later))


def test_nothing_withheld_can_be_worked_back(client, auth, clinic, clinician, six_patients):
    body = client.get(
        f"/v1/clinics/{clinic.id}/outcomes?questionnaire=phq9", headers=auth(clinician)
    ).get_json()
    assert body["patients_with_baseline"] == 6
    # One responder of six: the rate would name them.
    assert body["response"] == {"patients": 6, "rate": None}
    # One severe baseline hidden, so its complement is hidden too (6 − 5 would give it away).
    assert body["severity"]["baseline"] == {"moderate": None, "severe": None}
    assert body["mean_change"]["mean"] is not None


def test_the_same_numbers_unwithheld(client, auth, clinic, admin, six_patients):
    body = client.get(
        f"/v1/clinics/{clinic.id}/outcomes?questionnaire=phq9&suppress=false", headers=auth(admin)
    ).get_json()
    assert body["response"] == {"patients": 6, "rate": round(1 / 6, 3)}
    assert body["severity"]["baseline"] == {"moderate": 5, "severe": 1}


def test_an_unknown_questionnaire(client, auth, clinic, admin):
    response = client.get(
        f"/v1/clinics/{clinic.id}/outcomes?questionnaire=bdi2", headers=auth(admin)
    )
    assert response.status_code == 404


def course_with_follow_up(someone, course_api, submit, started_on: str) -> None:
    """A course from `started_on`: a PHQ-9 of 12 the day before its first infusion, then 11."""
    start = dt.date.fromisoformat(started_on)
    course = course_api.start(someone, started_on=started_on)
    course_api.infuse(course, f"{start + dt.timedelta(days=2)}T15:00:00+00:00")
    moderate = {"i1": 3, "i2": 3, "i3": 3, "i4": 3}
    submit(
        someone,
        check_in_body(completed_at=f"{start + dt.timedelta(days=1)}T12:00:00+00:00", **moderate),
    )
    later = f"{start + dt.timedelta(days=30)}T12:00:00+00:00"
    submit(someone, check_in_body(completed_at=later, **moderate | {"i4": 2}))


def test_courses_are_counted_from_the_first_day_up_to_the_last(
    client, auth, clock, clinic, admin, clinician, make_patient, course_api, submit
):
    """`from` is inclusive and `to` exclusive, on the courses' start dates."""
    for started_on in ("2026-09-01", "2026-09-08", "2026-09-08"):
        course_with_follow_up(
            make_patient(clinic, care_team=(clinician,)), course_api, submit, started_on
        )

    def counted(query: str) -> int:
        body = client.get(
            f"/v1/clinics/{clinic.id}/outcomes?questionnaire=phq9&suppress=false{query}",
            headers=auth(admin),
        ).get_json()
        return body["patients_with_baseline"]

    assert counted("") == 3
    assert counted("&from=2026-09-08") == 2
    assert counted("&from=2026-09-02") == 2
    assert counted("&to=2026-09-08") == 1
    assert counted("&from=2026-09-01&to=2026-09-09") == 3
    assert counted("&to=2026-09-01") == 0


def test_another_clinics_patients_are_not_counted(
    client,
    auth,
    clock,
    clinic,
    admin,
    clinician,
    make_clinic,
    make_user,
    make_patient,
    course_api,
    course_api_as,
    submit,
):
    elsewhere = make_clinic("Elsewhere")
    their_admin = make_user(elsewhere, "clinic_admin")
    their_clinician = make_user(elsewhere, "clinician")
    theirs = course_api_as(their_clinician)
    for _ in range(2):
        course_with_follow_up(
            make_patient(elsewhere, care_team=(their_clinician,)), theirs, submit, "2026-09-01"
        )
    course_with_follow_up(
        make_patient(clinic, care_team=(clinician,)), course_api, submit, "2026-09-01"
    )
    query = "outcomes?questionnaire=phq9&suppress=false"
    # Their progress is computed first, so it is there to be wrongly counted.
    assert (
        client.get(f"/v1/clinics/{elsewhere.id}/{query}", headers=auth(their_admin)).get_json()[
            "patients_with_baseline"
        ]
        == 2
    )
    body = client.get(f"/v1/clinics/{clinic.id}/{query}", headers=auth(admin)).get_json()
    assert body["patients_with_baseline"] == 1


def test_a_patient_with_only_a_baseline_counts_there_and_nowhere_after(
    client, auth, clinic, admin, clinician, make_patient, course_api, submit, six_patients
):
    """Seven with a baseline; the seventh has nothing after it, so follow-up, response,
    remission and the mean change stay about the six."""
    someone = make_patient(clinic, care_team=(clinician,))
    course = course_api.start(someone, started_on="2026-10-01")
    course_api.infuse(course, "2026-10-03T15:00:00+00:00")
    submit(someone, check_in_body(completed_at="2026-10-02T12:00:00+00:00", i1=3, i2=3, i3=3, i4=3))
    body = client.get(
        f"/v1/clinics/{clinic.id}/outcomes?questionnaire=phq9&suppress=false", headers=auth(admin)
    ).get_json()
    assert body["patients_with_baseline"] == 7
    assert body["patients_with_follow_up"] == 6
    assert body["response"]["patients"] == 6
    assert body["remission"]["patients"] == 6
    assert body["mean_change"]["patients"] == 6
    assert body["severity"]["baseline"] == {"moderate": 6, "severe": 1}


def test_only_each_patients_current_course_counts(
    client, auth, clock, clinic, admin, clinician, make_patient, course_api, submit
):
    """An earlier course, followed up and with an infusion's benefit measured, is history:
    the patient counts with the current course, which has a baseline only."""
    someone = make_patient(clinic, care_team=(clinician,))
    course_with_follow_up(someone, course_api, submit, "2026-08-01")
    [earlier] = client.get(
        f"/v1/patients/{someone.id}/courses", headers=auth(clinician)
    ).get_json()["items"]
    course_api.complete(earlier, "2026-09-15")
    course_api.start(someone, started_on="2026-11-01")
    submit(someone, check_in_body(completed_at="2026-11-01T12:00:00+00:00", i1=3, i2=3))
    body = client.get(
        f"/v1/clinics/{clinic.id}/outcomes?questionnaire=phq9&suppress=false", headers=auth(admin)
    ).get_json()
    assert (body["patients_with_baseline"], body["patients_with_follow_up"]) == (1, 0)
    assert body["severity"]["baseline"] == {"mild": 1}  # 6: the current course's
    assert [row["patients"] for row in body["by_infusion"]] == [0] * 12
    assert body["maintenance_benefit"] == {"patients": 0, "median_days_of_benefit": None}


def scored(total: int, items: int) -> dict:
    """Items 1 to `items` summing to `total`, each at most 3."""
    given, left = {}, total
    for n in range(1, items + 1):
        given[f"i{n}"] = min(3, left)
        left -= given[f"i{n}"]
    return given


def benefit_lasting(someone, course, course_api, submit, given_at: dt.datetime, days: dict):
    """A maintenance infusion (set by the clinician) at `given_at`; per instrument, a score the
    day before, one at least the minimal important difference better the day after, and one
    back within it `days[key]` days after the infusion (phq9 from 15, gad7 from 18)."""
    course_api.infuse(course, given_at.isoformat(), phase="maintenance")
    scores = {"phq9": (15, 5, 14, 9), "gad7": (18, 6, 16, 7)}
    for key, lasted in days.items():
        before, better, back, items = scores[key]
        for when, total in (
            (given_at - dt.timedelta(days=1), before),
            (given_at + dt.timedelta(days=1), better),
            (given_at + dt.timedelta(days=lasted), back),
        ):
            submit(
                someone, check_in_body(key, completed_at=when.isoformat(), **scored(total, items))
            )


@pytest.fixture
def maintenance(clock, clinic, clinician, make_patient, course_api, submit):
    """Two patients whose current course's PHQ-9 benefit lasted 9 and 9.5 days; the first also
    has a GAD-7 benefit of 5 days and an earlier, completed course whose benefit lasted 3."""
    first, second = (make_patient(clinic, care_team=(clinician,)) for _ in range(2))
    earlier = course_api.start(first, started_on="2026-07-01")
    july = dt.datetime(2026, 7, 3, 15, tzinfo=dt.UTC)
    benefit_lasting(first, earlier, course_api, submit, july, {"phq9": 3})
    course_api.complete(earlier, "2026-07-31")
    october = dt.datetime(2026, 10, 3, 15, tzinfo=dt.UTC)
    current = course_api.start(first, started_on="2026-10-01")
    benefit_lasting(first, current, course_api, submit, october, {"phq9": 9, "gad7": 5})
    other = course_api.start(second, started_on="2026-10-01")
    benefit_lasting(second, other, course_api, submit, october, {"phq9": 9.5})
    return first, second


def test_the_maintenance_benefit_is_each_current_courses_on_the_instrument(
    client, auth, clinic, admin, maintenance
):
    body = client.get(
        f"/v1/clinics/{clinic.id}/outcomes?questionnaire=phq9&suppress=false", headers=auth(admin)
    ).get_json()
    # The median of 9 and 9.5 days, 9.25, to a tenth of a day.
    assert body["maintenance_benefit"] == {"patients": 2, "median_days_of_benefit": 9.2}


def test_the_score_before_each_infusion_is_the_instruments_own(
    client, auth, clinic, admin, clinician, make_patient, course_api, submit, maintenance
):
    """Both PHQ-9s before the first infusion were 15 (the GAD-7 18); a third patient, whose
    first check-in came after their first infusion, had no score before it."""
    late = make_patient(clinic, care_team=(clinician,))
    course = course_api.start(late, started_on="2026-10-01")
    course_api.infuse(course, "2026-10-03T15:00:00+00:00")
    submit(late, check_in_body(completed_at="2026-10-05T12:00:00+00:00", **scored(10, 9)))
    body = client.get(
        f"/v1/clinics/{clinic.id}/outcomes?questionnaire=phq9&suppress=false", headers=auth(admin)
    ).get_json()
    assert body["patients_with_baseline"] == 3
    assert body["by_infusion"][0] == {"infusion_number": 1, "patients": 2, "mean_total": 15.0}


@pytest.mark.parametrize("changes", [(0, 0), (-2, 2)], ids=["unchanged", "opposite"])
def test_a_mean_change_of_nothing(
    client, auth, clock, clinic, admin, clinician, make_patient, course_api, submit, changes
):
    """Two patients from 12: both unchanged (no spread at all), or one 2 points down and one 2
    up (a mean of 0, spread by 2 either side)."""
    for change in changes:
        someone = make_patient(clinic, care_team=(clinician,))
        course = course_api.start(someone, started_on="2026-10-01")
        course_api.infuse(course, "2026-10-03T15:00:00+00:00")
        for completed_at, total in (("2026-10-02", 12), ("2026-11-02", 12 + change)):
            submit(
                someone,
                check_in_body(completed_at=f"{completed_at}T12:00:00+00:00", **scored(total, 9)),
            )
    body = client.get(
        f"/v1/clinics/{clinic.id}/outcomes?questionnaire=phq9&suppress=false", headers=auth(admin)
    ).get_json()
    margin = round(t_quantile(1) * statistics.stdev(changes) / math.sqrt(2), 1)
    assert body["mean_change"] == {
        "patients": 2,
        "mean": 0.0,
        "ci95_low": -margin,
        "ci95_high": margin,
    }
