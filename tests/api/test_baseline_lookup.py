"""The baseline a new check-in is compared with is read with one indexed statement
(check_ins.Comparisons); it must be the one the whole course gives (timeline.baselines, what the
course page shows) for every history: several courses, look-backs, follow-ups, cancelled
infusions, entered-in-error check-ins."""

from __future__ import annotations

import datetime as dt
import uuid

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from api import factories
from api.domain import check_ins, timeline
from api.domain.access import Actor
from api.domain.check_ins import BatchItem, Comparisons, Submission
from api.domain.errors import DomainError
from api.domain.registry import load_registry
from api.domain.rules import Rules
from api.models import Alert, AlertOccurrence, CheckIn, Course, Infusion

REGISTRY = load_registry()
DAY0 = dt.date(2026, 3, 2)
GRACE = dt.timedelta(minutes=15)
TIMEZONE = "America/New_York"

course_plans = st.lists(
    st.tuples(
        st.integers(0, 150),  # start, days after DAY0
        st.one_of(st.none(), st.integers(0, 60)),  # length in days; None: still active
        st.lists(
            st.tuples(
                st.integers(-3, 70),  # given on, days after the course's start
                st.sampled_from(["completed", "cancelled"]),
                # a check-in this many minutes after it (around the in-chair grace and the
                # 72-hour acute effect), or none
                st.sampled_from([None, -1, 0, 14, 15, 16, 72 * 60, 72 * 60 + 1]),
                st.integers(0, 27),
            ),
            max_size=4,
        ),
    ),
    min_size=1,
    max_size=3,
)
check_in_plans = st.lists(
    st.tuples(
        st.integers(-45, 230),  # hours are added below: days after DAY0
        st.integers(0, 23),
        st.sampled_from([0, 14, 15, 16]),  # minutes: infusions start at 15:00, the grace is 15
        st.integers(0, 27),  # PHQ-9 total
        st.sampled_from(["final", "final", "final", "entered_in_error"]),
    ),
    min_size=1,
    max_size=10,
)


def add_course(session, patient, clinician, start: int, length: int | None, active: bool) -> Course:
    started_on = DAY0 + dt.timedelta(days=start)
    completed_on = None if active else started_on + dt.timedelta(days=length or 0)
    course = Course(
        id=uuid.uuid4(),
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        indications=["depression"],
        started_on=started_on,
        completed_on=completed_on,
        induction_infusions=6,
        status="active" if active else "completed",
        created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        created_by=clinician.id,
        changed_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        **timeline.course_instants(started_on, completed_on, TIMEZONE),
    )
    session.add(course)
    return course


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(courses=course_plans, check_ins=check_in_plans)
def test_the_two_candidates_give_the_whole_courses_baseline(
    session, clinic, clinician, make_patient, courses, check_ins
):
    patient = make_patient(clinic, timezone=TIMEZONE)
    phq9 = REGISTRY["phq9"]
    nested = session.begin_nested()
    try:
        near_infusions = []
        for n, (start, length, infusions) in enumerate(courses):
            course = add_course(
                session,
                patient,
                clinician,
                start,
                length,
                active=length is None and n == len(courses) - 1,
            )
            for day, status, minutes_after, total in infusions:
                given_at = dt.datetime.combine(
                    course.started_on + dt.timedelta(days=day), dt.time(15), tzinfo=dt.UTC
                )
                if minutes_after is not None:
                    answers = factories.answers_summing_to(phq9, total)
                    near_infusions.append(
                        (phq9, answers, given_at + dt.timedelta(minutes=minutes_after))
                    )
                session.add(infusion(patient, course, clinician, given_at, status))
        session.flush()
        factories.bulk_check_ins(
            session,
            patient,
            clinician.id,
            [
                (
                    phq9,
                    factories.answers_summing_to(phq9, total),
                    dt.datetime.combine(
                        DAY0 + dt.timedelta(days=day), dt.time(hour, minute), tzinfo=dt.UTC
                    ),
                )
                for day, hour, minute, total, _ in check_ins
            ]
            + near_infusions,
        )
        stored = list(session.scalars(select_check_ins(patient.id)))
        for row, (*_, status) in zip(stored, check_ins, strict=False):
            row.status = status
        session.flush()
        patient_timeline = timeline.of_patient(session, patient.id)
        for check_in in stored:
            if check_in.status != "final":
                continue
            compared = Comparisons(session, patient_timeline, [check_in], grace=GRACE)
            assert choice(compared.baseline(check_in)) == choice(
                whole_course_baseline(session, check_in)
            )
    finally:
        nested.rollback()


def select_check_ins(patient_id):
    return (
        select(CheckIn)
        .where(CheckIn.patient_id == patient_id)
        .order_by(CheckIn.completed_at, CheckIn.id)
    )


def choice(baseline: timeline.Baseline | None) -> tuple | None:
    """What a baseline chose, whichever record (a stored CheckIn or a PointRow) carries it."""
    if baseline is None:
        return None
    chosen = baseline.check_in
    return (chosen.id, chosen.total, chosen.completed_at, baseline.source, baseline.acute_effect)


def whole_course_baseline(session, check_in: CheckIn) -> timeline.Baseline | None:
    """Every check-in of the course read and chosen among (what the course page shows)."""
    courses = timeline.courses_of(session, [check_in.patient_id])[check_in.patient_id]
    course = timeline.course_for(check_in.completed_at, courses)
    if course is None:
        return None
    found = timeline.baselines(session, course, [check_in.questionnaire], grace=GRACE)
    baseline = found.get(check_in.questionnaire)
    return None if baseline is None or baseline.check_in.id == check_in.id else baseline


batch_plans = st.lists(
    st.tuples(
        st.integers(0, 5),  # which id the item carries: a repeated one is a repeat
        st.sampled_from(["phq9", "pain"]),
        st.integers(-35, 40),  # completed, days after the course's start
        st.integers(0, 10),  # score: PHQ-9 total / 2.7, the pain rating
        st.booleans(),  # PHQ-9 item 9 endorsed
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(infusion_days=st.lists(st.integers(0, 30), max_size=4), items=batch_plans)
# A deterioration against an earlier item of the batch; none against a later one (sent after
# it); pain's three ratings in a row, two of them in the batch.
@example(infusion_days=[2], items=[(0, "phq9", -1, 1, False), (1, "phq9", 10, 8, False)])
@example(infusion_days=[2], items=[(1, "phq9", 10, 8, False), (0, "phq9", -1, 1, False)])
@example(
    infusion_days=[2],
    items=[(0, "pain", -1, 1, False), *((n, "pain", 3 + n, 6, False) for n in (1, 2, 3))],
)
# A deterioration against the first check-in (normal), then a pre-infusion check-in arrives
# and the next one compares with it (high): one alert, at the higher priority, showing the
# latest comparison's baseline.
@example(
    infusion_days=[2],
    items=[
        (0, "phq9", 10, 1, False),
        (1, "phq9", 20, 8, False),
        (2, "phq9", -1, 0, False),
        (3, "phq9", 25, 9, False),
    ],
)
def test_a_batch_stores_and_alerts_as_its_items_sent_one_by_one(
    session, clinic, clinician, make_patient, infusion_days, items
):
    """Sent as one batch, or one request per item: the same statuses, rows and alerts (each
    item compared only with what was stored before it, its batch's earlier items included)."""
    rules = Rules(REGISTRY)
    now = dt.datetime.combine(DAY0 + dt.timedelta(days=60), dt.time(12), tzinfo=dt.UTC)
    patients = [make_patient(clinic, timezone=TIMEZONE) for _ in range(2)]
    nested = session.begin_nested()
    try:
        outcomes = []
        for one_by_one, patient in zip((False, True), patients, strict=True):
            course = add_course(session, patient, clinician, 0, None, active=True)
            for day in infusion_days:
                given_at = dt.datetime.combine(
                    DAY0 + dt.timedelta(days=day), dt.time(15), tzinfo=dt.UTC
                )
                session.add(infusion(patient, course, clinician, given_at, "completed"))
            session.flush()
            ids = [uuid.uuid4() for _ in range(6)]
            submissions = [
                Submission(
                    questionnaire=key,
                    answers=answers_for(key, score, item9),
                    completed_at=dt.datetime.combine(
                        DAY0 + dt.timedelta(days=day), dt.time(9), tzinfo=dt.UTC
                    ),
                    id=ids[which],
                )
                for which, key, day, score, item9 in items
            ]
            actor = Actor(patient.user_id, "patient", patient.clinic_id, patient_id=patient.id)
            sent = dict(actor=actor, patient_id=patient.id, now=now, allowance=lambda *_: None)
            if one_by_one:
                statuses = [status_alone(session, rules, sent, s) for s in submissions]
            else:
                results = check_ins.submit_batch(
                    session, rules, items=[BatchItem({}, s) for s in submissions], **sent
                )
                statuses = [r.status for r in results]
            outcomes.append(
                (statuses, stored_of(session, patient, ids), alerts_of(session, patient))
            )
        assert outcomes[0] == outcomes[1]
    finally:
        nested.rollback()


def answers_for(key: str, score: int, item9: bool) -> dict:
    definition = REGISTRY[key]
    if key == "pain":
        return factories.answers_summing_to(definition, score)
    total = max(int(item9), min(24 + int(item9), int(score * 2.7)))
    return factories.answers_summing_to(definition, total, {"9": int(item9)})


def status_alone(session, rules, sent, submission) -> int:
    try:
        submitted = check_ins.submit(session, rules, submission=submission, **sent)
    except DomainError as error:
        return error.status
    return 201 if submitted.created else 200


def stored_of(session, patient, ids) -> list:
    rows = session.scalars(select(CheckIn).where(CheckIn.patient_id == patient.id))
    return sorted((ids.index(c.id), c.total, c.completed_at) for c in rows)


def alerts_of(session, patient) -> list:
    found = session.execute(
        select(
            Alert.kind, Alert.priority, Alert.baseline_total, Alert.baseline_source, func.count()
        )
        .join(AlertOccurrence, AlertOccurrence.alert_id == Alert.id)
        .where(Alert.patient_id == patient.id)
        .group_by(Alert.id, Alert.kind, Alert.priority, Alert.baseline_total, Alert.baseline_source)
    )
    return sorted(tuple(row) for row in found)


def infusion(patient, course, clinician, given_at, status) -> Infusion:
    return Infusion(
        id=uuid.uuid4(),
        clinic_id=patient.clinic_id,
        course_id=course.id,
        patient_id=patient.id,
        status=status,
        administered_at=given_at,
        created_at=given_at,
        created_by=clinician.id,
        updated_at=given_at,
        version=1,
    )


def candidates_of(session, patient, course: Course, questionnaire: str = "phq9") -> set:
    found = timeline.baseline_candidates(
        session, timeline.of_patient(session, patient.id), course, questionnaire, grace=GRACE
    )
    return {c.id for c in found}


def stored_at(session, patient, clinician, *rows: tuple[str, dt.datetime]) -> list[uuid.UUID]:
    """PHQ-9 or GAD-7 check-ins (all items 0) at these instants: their ids, in that order."""
    factories.bulk_check_ins(
        session,
        patient,
        clinician.id,
        [(REGISTRY[key], factories.answers_summing_to(REGISTRY[key], 0), at) for key, at in rows],
    )
    found = session.scalars(select_check_ins(patient.id)).all()
    return [next(c.id for c in found if c.completed_at == at) for _, at in rows]


def test_a_check_in_at_the_first_instant_of_the_look_back_is_a_candidate(
    session, clinic, clinician, make_patient
):
    patient = make_patient(clinic, timezone=TIMEZONE)
    course = add_course(session, patient, clinician, 30, None, active=True)
    (first,) = stored_at(session, patient, clinician, ("phq9", course.window_start))
    assert candidates_of(session, patient, course) == {first}


def test_a_check_in_at_the_next_courses_start_is_its_not_the_previous_ones(
    session, clinic, clinician, make_patient
):
    # Re-induction the day after a course ends: the first course's instants end where the
    # second's begin, its look-back included.
    patient = make_patient(clinic, timezone=TIMEZONE)
    previous = add_course(session, patient, clinician, 0, 20, active=False)
    course = add_course(session, patient, clinician, 21, None, active=True)
    assert previous.ends_at == course.starts_at
    earlier, at_start = stored_at(
        session,
        patient,
        clinician,
        ("phq9", previous.starts_at + dt.timedelta(days=1)),
        ("phq9", course.starts_at),
    )
    assert candidates_of(session, patient, previous) == {earlier}
    assert candidates_of(session, patient, course) == {at_start}


def test_another_questionnaire_is_never_a_candidate(session, clinic, clinician, make_patient):
    patient = make_patient(clinic, timezone=TIMEZONE)
    course = add_course(session, patient, clinician, 0, None, active=True)
    _, phq9 = stored_at(
        session,
        patient,
        clinician,
        ("gad7", course.starts_at + dt.timedelta(hours=9)),
        ("phq9", course.starts_at + dt.timedelta(hours=10)),
    )
    assert candidates_of(session, patient, course) == {phq9}


def test_only_final_check_ins_of_the_courses_time_are_candidates(
    session, clinic, clinician, make_patient
):
    """Before any infusion the candidates are the course's first and latest: a check-in entered
    in error is not the first, nor one from before the look-back."""
    patient = make_patient(clinic, timezone=TIMEZONE)
    course = add_course(session, patient, clinician, 30, None, active=True)
    start = course.starts_at
    _, withdrawn, first, latest = stored_at(
        session,
        patient,
        clinician,
        ("phq9", course.window_start - dt.timedelta(seconds=1)),
        ("phq9", start + dt.timedelta(hours=9)),
        ("phq9", start + dt.timedelta(hours=10)),
        ("phq9", start + dt.timedelta(hours=11)),
    )
    session.get_one(CheckIn, withdrawn).status = "entered_in_error"
    session.flush()
    assert candidates_of(session, patient, course) == {first, latest}


def baseline_ids(session, course: Course) -> dict[str, uuid.UUID]:
    found = timeline.baselines(session, course, grace=GRACE)
    return {key: baseline.check_in.id for key, baseline in found.items()}


def test_a_check_in_at_the_first_instant_of_the_look_back_is_the_courses_baseline(
    session, clinic, clinician, make_patient
):
    patient = make_patient(clinic, timezone=TIMEZONE)
    course = add_course(session, patient, clinician, 30, None, active=True)
    (first,) = stored_at(session, patient, clinician, ("phq9", course.window_start))
    assert baseline_ids(session, course) == {"phq9": first}


def test_a_courses_baseline_is_its_own_patients(session, clinic, clinician, make_patient):
    """Another patient's check-in, later in the same days, is never this course's baseline."""
    patient, other = (make_patient(clinic, timezone=TIMEZONE) for _ in range(2))
    course = add_course(session, patient, clinician, 30, None, active=True)
    add_course(session, other, clinician, 30, None, active=True)
    (own,) = stored_at(session, patient, clinician, ("phq9", course.starts_at))
    stored_at(session, other, clinician, ("phq9", course.starts_at + dt.timedelta(hours=1)))
    assert baseline_ids(session, course) == {"phq9": own}
