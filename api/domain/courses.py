"""Treatment courses and infusions: recording, correcting, and who may see them."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from api.domain import schedule, timeline
from api.domain.access import Actor, get_patient, get_patient_record, sees_infusion_details
from api.domain.errors import (
    Conflict,
    Invalid,
    PreconditionFailed,
    PreconditionRequired,
)
from api.domain.rules import Rules
from api.domain.timeline import FUTURE_TOLERANCE, Baseline, course_instants
from api.models import Clinic, Course, Infusion, Patient

INDICATIONS = ("depression", "anxiety", "ptsd", "chronic_pain")
SIDE_EFFECTS = (
    "nausea",
    "vomiting",
    "dizziness",
    "headache",
    "dissociation",
    "anxiety",
    "elevated_blood_pressure",
    "sedation",
    "other",
)
# Beyond these, a date is a typing mistake rather than a plan.
COURSE_DATES_AHEAD = dt.timedelta(days=366)
SCHEDULE_AHEAD = dt.timedelta(days=2 * 366)


def course_problems(course: Course, now: dt.datetime) -> dict[str, list[str]]:
    """What is inconsistent about a course as it would be stored (a pure function)."""
    latest = (now + COURSE_DATES_AHEAD).date()
    problems = {
        name: ["Must not be more than a year from today."]
        for name in ("started_on", "completed_on")
        if getattr(course, name) is not None and getattr(course, name) > latest
    }
    if course.status == "completed" and course.completed_on is None:
        problems["completed_on"] = ["Required to complete a course."]
    if course.status == "active" and course.completed_on is not None:
        problems["completed_on"] = ["Only a completed course has an end date."]
    if course.completed_on is not None and course.completed_on < course.started_on:
        problems["completed_on"] = ["Must not be before started_on."]
    return problems


def refuse(problems: dict[str, list[str]], *, changing: bool) -> None:
    """A new record's problems are the request's (422); a change's may come from what was
    stored before it, so they conflict with the record's state (409)."""
    if not problems:
        return
    if changing:
        raise Conflict(
            "The change would leave the record inconsistent; see errors.", errors=problems
        )
    raise Invalid(errors=problems)


@dataclass(frozen=True)
class CourseRecord:
    """A course with its measurement plan (the default one when it has none) and each
    instrument's baseline."""

    course: Course
    plan: list[schedule.PlanRule]
    baselines: dict[str, Baseline]


@dataclass(frozen=True)
class InfusionRecord:
    """An infusion with its number and phase (null until given). `details` says whether the
    reader may see dose, vital signs, side effects and notes; `safety_notes` are why a
    clinician should look again."""

    infusion: Infusion
    number: int | None
    phase: str | None
    details: bool
    safety_notes: list[str]


def course_record(session: Session, rules: Rules, course: Course) -> CourseRecord:
    return CourseRecord(
        course,
        schedule.plan_of(course),
        timeline.baselines(session, course, grace=rules.in_chair_grace),
    )


def infusion_records(
    session: Session, rules: Rules, actor: Actor, course: Course, infusions: list[Infusion]
) -> list[InfusionRecord]:
    numbers = timeline.infusion_numbers(session, course.id)
    details = sees_infusion_details(actor)
    threshold = (
        blood_pressure_threshold(session.get_one(Clinic, course.clinic_id), rules)
        if details
        else rules.blood_pressure_threshold
    )
    found = []
    for infusion in infusions:
        number = numbers.get(infusion.id)
        phase = (
            None
            if number is None
            else timeline.infusion_phase(
                number, course.induction_infusions, infusion.phase_override
            )
        )
        notes = safety_notes(infusion, threshold) if details else []
        found.append(InfusionRecord(infusion, number, phase, details, notes))
    return found


def _set_instants(course: Course, patient: Patient) -> None:
    for name, value in course_instants(
        course.started_on, course.completed_on, patient.timezone
    ).items():
        setattr(course, name, value)


def create_course(
    session: Session,
    rules: Rules,
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    indications: list[str],
    started_on: dt.date,
    induction_infusions: int,
    plan: list[schedule.PlanRule] | None,
    now: dt.datetime,
) -> CourseRecord:
    patient = get_patient(session, actor, patient_id)
    active = session.scalar(
        select(exists().where(Course.patient_id == patient.id, Course.status == "active"))
    )
    if active:
        raise Conflict("This patient already has an active course; complete it first.")
    course = Course(
        id=uuid.uuid4(),
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        indications=list(dict.fromkeys(indications)),
        started_on=started_on,
        induction_infusions=induction_infusions,
        plan=plan,
        status="active",
        created_at=now,
        created_by=actor.user_id,
        changed_at=now,
    )
    refuse(course_problems(course, now), changing=False)
    _set_instants(course, patient)
    session.add(course)
    session.flush()
    return course_record(session, rules, course)


def list_courses(
    session: Session, rules: Rules, *, actor: Actor, patient_id: uuid.UUID
) -> list[CourseRecord]:
    """A patient's courses, newest first."""
    patient = get_patient(session, actor, patient_id)
    courses = session.scalars(
        select(Course)
        .where(Course.patient_id == patient.id)
        .order_by(Course.starts_at.desc(), Course.id.desc())
    )
    return [course_record(session, rules, course) for course in courses]


def read_course(
    session: Session, rules: Rules, *, actor: Actor, course_id: uuid.UUID
) -> CourseRecord:
    return course_record(session, rules, get_course(session, actor, course_id))


def get_course(session: Session, actor: Actor, course_id: uuid.UUID) -> Course:
    return get_patient_record(session, actor, Course, course_id, "Course")


@dataclass(frozen=True)
class IfMatch:
    """What an If-Match header named (RFC 9110 §13.1.1): any current version (`*`), or some
    versions (a list of ETags; weak or malformed ones never match)."""

    any: bool = False
    versions: frozenset[int] = frozenset()

    def admits(self, current: int) -> bool:
        return self.any or current in self.versions


def check_version(current: int, expected: IfMatch | None) -> None:
    """Optimistic concurrency: the caller must name the version it read (If-Match). The
    UPDATE checks the version again, so `*` still loses to a concurrent writer."""
    if expected is None:
        raise PreconditionRequired("Send If-Match with the ETag you read.")
    if not expected.admits(current):
        raise PreconditionFailed()


def update_course(
    session: Session,
    rules: Rules,
    *,
    actor: Actor,
    course_id: uuid.UUID,
    expected_version: IfMatch | None,
    changes: dict,
    now: dt.datetime,
) -> CourseRecord:
    course = get_course(session, actor, course_id)
    check_version(course.version, expected_version)
    if course.status == "completed" and changes.get("status") == "active":
        raise Conflict("A completed course stays completed; start a new course instead.")
    for field in (
        "indications",
        "induction_infusions",
        "plan",
        "started_on",
        "completed_on",
        "status",
    ):
        if field in changes:
            setattr(course, field, changes[field])
    refuse(course_problems(course, now), changing=True)
    _set_instants(course, session.get_one(Patient, course.patient_id))
    course.changed_at = now
    session.flush()
    return course_record(session, rules, course)


def infusion_problems(infusion: Infusion, now: dt.datetime) -> dict[str, list[str]]:
    """Rules that span fields, on an infusion as it would be stored (a pure function); each
    field's own range is checked by the schema."""
    problems = {}
    if infusion.status == "completed":
        if infusion.administered_at is None:
            problems["administered_at"] = ["Required for a completed infusion."]
        elif infusion.administered_at > now + FUTURE_TOLERANCE:
            problems["administered_at"] = ["Must not be in the future."]
        if infusion.dose_mg_per_kg is None:
            problems["dose_mg_per_kg"] = ["Required for a completed infusion."]
    if infusion.status == "scheduled" and infusion.scheduled_for is None:
        problems["scheduled_for"] = ["Required for a scheduled infusion."]
    if infusion.status == "scheduled" and infusion.administered_at is not None:
        problems["administered_at"] = ["Only an infusion given has this time."]
    if infusion.scheduled_for is not None and infusion.scheduled_for > now + SCHEDULE_AHEAD:
        problems["scheduled_for"] = ["Must not be more than two years ahead."]
    return problems


INFUSION_FIELDS = (
    "status",
    "scheduled_for",
    "administered_at",
    "dose_mg_per_kg",
    "duration_minutes",
    "blood_pressure",
    "heart_rate",
    "dissociation",
    "cadss_total",
    "side_effects",
    "serious_side_effects",
    "notes",
)


def record_infusion(
    session: Session,
    rules: Rules,
    *,
    actor: Actor,
    course_id: uuid.UUID,
    fields: dict,
    now: dt.datetime,
) -> InfusionRecord:
    course = get_course(session, actor, course_id)
    infusion = Infusion(
        id=uuid.uuid4(),
        clinic_id=course.clinic_id,
        course_id=course.id,
        patient_id=course.patient_id,
        side_effects=[],
        serious_side_effects=False,
        created_at=now,
        created_by=actor.user_id,
        updated_at=now,
    )
    _apply(infusion, fields)
    refuse(infusion_problems(infusion, now), changing=False)
    session.add(infusion)
    session.flush()
    return infusion_records(session, rules, actor, course, [infusion])[0]


def _apply(infusion: Infusion, fields: dict) -> None:
    for field in INFUSION_FIELDS:
        if field in fields:
            setattr(infusion, field, fields[field])
    if "phase" in fields:
        infusion.phase_override = fields["phase"]


def list_infusions(
    session: Session, rules: Rules, *, actor: Actor, course_id: uuid.UUID
) -> tuple[Course, list[InfusionRecord]]:
    """A course's infusions in time order, as the actor may see them."""
    course = get_course(session, actor, course_id)
    infusions = list(
        session.scalars(
            select(Infusion)
            .where(Infusion.course_id == course.id)
            .order_by(
                Infusion.administered_at.is_(None),
                Infusion.administered_at,
                Infusion.scheduled_for,
                Infusion.id,
            )
        )
    )
    return course, infusion_records(session, rules, actor, course, infusions)


def get_infusion(session: Session, actor: Actor, infusion_id: uuid.UUID) -> Infusion:
    return get_patient_record(session, actor, Infusion, infusion_id, "Infusion")


def read_infusion(
    session: Session, rules: Rules, *, actor: Actor, infusion_id: uuid.UUID
) -> InfusionRecord:
    infusion = get_infusion(session, actor, infusion_id)
    course = session.get_one(Course, infusion.course_id)
    return infusion_records(session, rules, actor, course, [infusion])[0]


def update_infusion(
    session: Session,
    rules: Rules,
    *,
    actor: Actor,
    infusion_id: uuid.UUID,
    expected_version: IfMatch | None,
    changes: dict,
    now: dt.datetime,
) -> InfusionRecord:
    infusion = get_infusion(session, actor, infusion_id)
    check_version(infusion.version, expected_version)
    if infusion.status == "cancelled" and changes.get("status", "cancelled") != "cancelled":
        raise Conflict("A cancelled infusion stays cancelled; record a new one.")
    if infusion.status == "completed" and changes.get("status") == "scheduled":
        # What an EHR imported as given must be retracted, not vanish: cancelling does that.
        raise Conflict("An infusion given stays given; if it was recorded in error, cancel it.")
    _apply(infusion, changes)
    refuse(infusion_problems(infusion, now), changing=True)
    infusion.updated_at = now
    session.flush()
    course = session.get_one(Course, infusion.course_id)
    return infusion_records(session, rules, actor, course, [infusion])[0]


def blood_pressure_threshold(clinic: Clinic, rules: Rules) -> tuple[int, int]:
    """The clinic's peak blood pressure that flags an infusion, or the service's."""
    systolic, diastolic = rules.blood_pressure_threshold
    return (clinic.bp_flag_systolic or systolic, clinic.bp_flag_diastolic or diastolic)


def safety_notes(infusion: Infusion, threshold: tuple[int, int]) -> list[str]:
    """Why an infusion deserves a second look: a peak blood pressure at or above the clinic's
    threshold (a local protocol parameter, not a standard), or side effects marked serious."""
    notes = []
    peak = (infusion.blood_pressure or {}).get("peak")
    if peak and (peak[0] >= threshold[0] or peak[1] >= threshold[1]):
        notes.append(
            f"Peak blood pressure {peak[0]}/{peak[1]} reached the clinic's threshold of "
            f"{threshold[0]}/{threshold[1]}."
        )
    if infusion.serious_side_effects:
        notes.append("Side effects were marked serious.")
    return notes
