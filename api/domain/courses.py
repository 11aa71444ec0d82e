"""Treatment courses and infusions: recording, correcting, and who may see them."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from api.domain.access import Actor, get_patient, get_patient_record
from api.domain.errors import (
    Conflict,
    Invalid,
    PreconditionFailed,
    PreconditionRequired,
)
from api.domain.timeline import course_instants
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
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
# Beyond these, a date is a typing mistake rather than a plan.
COURSE_DATES_AHEAD = dt.timedelta(days=366)
SCHEDULE_AHEAD = dt.timedelta(days=2 * 366)


def _check_course_dates(course: Course, now: dt.datetime) -> None:
    latest = (now + COURSE_DATES_AHEAD).date()
    errors = {
        name: ["Must not be more than a year from today."]
        for name in ("started_on", "completed_on")
        if getattr(course, name) is not None and getattr(course, name) > latest
    }
    if errors:
        raise Invalid(errors=errors)


def _set_instants(course: Course, patient: Patient) -> None:
    for name, value in course_instants(
        course.started_on, course.completed_on, patient.timezone
    ).items():
        setattr(course, name, value)


def create_course(
    session: Session,
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    indications: list[str],
    started_on: dt.date,
    induction_infusions: int,
    plan: list[dict] | None,
    now: dt.datetime,
) -> Course:
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
    )
    _check_course_dates(course, now)
    _set_instants(course, patient)
    session.add(course)
    session.flush()
    return course


def list_courses(session: Session, *, actor: Actor, patient_id: uuid.UUID) -> list[Course]:
    patient = get_patient(session, actor, patient_id)
    return list(
        session.scalars(
            select(Course)
            .where(Course.patient_id == patient.id)
            .order_by(Course.starts_at.desc(), Course.id.desc())
        )
    )


def get_course(session: Session, actor: Actor, course_id: uuid.UUID) -> Course:
    return get_patient_record(session, actor, Course, course_id, "Course")


def check_version(current: int, expected: int | None) -> None:
    """Optimistic concurrency: the caller must name the version it read (If-Match)."""
    if expected is None:
        raise PreconditionRequired("Send If-Match with the ETag you read.")
    if expected != current:
        raise PreconditionFailed("It was changed since you read it; read it again.")


def update_course(
    session: Session,
    *,
    actor: Actor,
    course_id: uuid.UUID,
    expected_version: int | None,
    changes: dict,
    now: dt.datetime,
) -> Course:
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
    if course.status == "completed" and course.completed_on is None:
        raise Invalid(errors={"completed_on": ["Required to complete a course."]})
    if course.status == "active" and course.completed_on is not None:
        raise Invalid(errors={"completed_on": ["Only a completed course has an end date."]})
    if course.completed_on is not None and course.completed_on < course.started_on:
        raise Invalid(errors={"completed_on": ["Must not be before started_on."]})
    _check_course_dates(course, now)
    _set_instants(course, session.get_one(Patient, course.patient_id))
    session.flush()
    return course


def _check_infusion(infusion: Infusion, now: dt.datetime) -> None:
    """Rules that span fields; each field's own range is checked by the schema."""
    if infusion.status == "completed":
        errors = {}
        if infusion.administered_at is None:
            errors["administered_at"] = ["Required for a completed infusion."]
        elif infusion.administered_at > now + FUTURE_TOLERANCE:
            errors["administered_at"] = ["Must not be in the future."]
        if infusion.dose_mg_per_kg is None:
            errors["dose_mg_per_kg"] = ["Required for a completed infusion."]
        if errors:
            raise Invalid(errors=errors)
    if infusion.status == "scheduled" and infusion.scheduled_for is None:
        raise Invalid(errors={"scheduled_for": ["Required for a scheduled infusion."]})
    if infusion.scheduled_for is not None and infusion.scheduled_for > now + SCHEDULE_AHEAD:
        raise Invalid(errors={"scheduled_for": ["Must not be more than two years ahead."]})


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
    *,
    actor: Actor,
    course_id: uuid.UUID,
    fields: dict,
    now: dt.datetime,
) -> Infusion:
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
    _check_infusion(infusion, now)
    session.add(infusion)
    session.flush()
    return infusion


def _apply(infusion: Infusion, fields: dict) -> None:
    for field in INFUSION_FIELDS:
        if field in fields:
            setattr(infusion, field, fields[field])
    if "phase" in fields:
        infusion.phase_override = fields["phase"]


def list_infusions(
    session: Session, *, actor: Actor, course_id: uuid.UUID
) -> tuple[Course, list[Infusion]]:
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
    return course, infusions


def get_infusion(session: Session, actor: Actor, infusion_id: uuid.UUID) -> Infusion:
    return get_patient_record(session, actor, Infusion, infusion_id, "Infusion")


def update_infusion(
    session: Session,
    *,
    actor: Actor,
    infusion_id: uuid.UUID,
    expected_version: int | None,
    changes: dict,
    now: dt.datetime,
) -> Infusion:
    infusion = get_infusion(session, actor, infusion_id)
    check_version(infusion.version, expected_version)
    if infusion.status == "cancelled" and changes.get("status", "cancelled") != "cancelled":
        raise Conflict("A cancelled infusion stays cancelled; record a new one.")
    _apply(infusion, changes)
    _check_infusion(infusion, now)
    infusion.updated_at = now
    session.flush()
    return infusion


def bp_threshold(clinic: Clinic, default: str) -> tuple[int, int]:
    """The clinic's blood-pressure flag threshold, or the service default ("180/110")."""
    systolic, diastolic = (int(part) for part in default.split("/"))
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
