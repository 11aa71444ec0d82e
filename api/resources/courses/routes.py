"""Treatment courses, infusions and what is due."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TypedDict

from flask.views import MethodView

from api.auditing import note
from api.auth import current_actor
from api.context import request_session, rules
from api.db import utcnow
from api.domain import courses as course_service
from api.domain import schedule
from api.resources.courses.schemas import (
    CourseCreateSchema,
    CourseSchema,
    CourseUpdateSchema,
    DueArgsSchema,
    DueSchema,
    InfusionCreateSchema,
    InfusionSchema,
    InfusionUpdateSchema,
)
from api.resources.links import location
from api.resources.pagination import page_schema, whole
from api.smorest import Blueprint, audited, etag, if_match

blp = Blueprint("courses", __name__, url_prefix="/v1", description="Treatment timeline")
READERS = ("patient", "clinician")


class BaselineBody(TypedDict):
    questionnaire: str
    check_in_id: uuid.UUID
    completed_at: dt.datetime
    total: int
    source: str
    acute_effect: bool


class CourseBody(TypedDict):
    id: uuid.UUID
    patient_id: uuid.UUID
    indications: list[str]
    started_on: dt.date
    completed_on: dt.date | None
    status: str
    induction_infusions: int
    plan: list[schedule.PlanRule]
    plan_is_default: bool
    baselines: list[BaselineBody]
    created_at: dt.datetime


def present_course(record: course_service.CourseRecord) -> tuple[CourseBody, dict]:
    """The course and its ETag."""
    course = record.course
    body = CourseBody(
        id=course.id,
        patient_id=course.patient_id,
        indications=course.indications,
        started_on=course.started_on,
        completed_on=course.completed_on,
        status=course.status,
        induction_infusions=course.induction_infusions,
        plan=record.plan,
        plan_is_default=course.plan is None,
        baselines=[
            BaselineBody(
                questionnaire=key,
                check_in_id=b.check_in.id,
                completed_at=b.check_in.completed_at,
                total=b.check_in.total,
                source=b.source,
                acute_effect=b.acute_effect,
            )
            for key, b in sorted(record.baselines.items())
        ],
        created_at=course.created_at,
    )
    return body, {"ETag": etag(course.version)}


class InfusionSummary(TypedDict):
    """What every reader of an infusion sees: its dates, number and phase."""

    id: uuid.UUID
    course_id: uuid.UUID
    status: str
    scheduled_for: dt.datetime | None
    administered_at: dt.datetime | None
    number: int | None
    phase: str | None


class InfusionBody(InfusionSummary):
    """What a reader who may see an infusion's details sees (access.sees_infusion_details)."""

    phase_set_by_clinician: bool
    dose_mg_per_kg: float | None
    duration_minutes: int | None
    blood_pressure: dict | None
    heart_rate: int | None
    dissociation: int | None
    cadss_total: int | None
    side_effects: list[str]
    serious_side_effects: bool
    notes: str | None
    safety: dict


def present_infusion(record: course_service.InfusionRecord) -> InfusionSummary | InfusionBody:
    infusion = record.infusion
    summary = InfusionSummary(
        id=infusion.id,
        course_id=infusion.course_id,
        status=infusion.status,
        scheduled_for=infusion.scheduled_for,
        administered_at=infusion.administered_at,
        number=record.number,
        phase=record.phase,
    )
    if not record.details:
        return summary
    return InfusionBody(
        **summary,
        phase_set_by_clinician=infusion.phase_override is not None,
        dose_mg_per_kg=infusion.dose_mg_per_kg,
        duration_minutes=infusion.duration_minutes,
        blood_pressure=infusion.blood_pressure,
        heart_rate=infusion.heart_rate,
        dissociation=infusion.dissociation,
        cadss_total=infusion.cadss_total,
        side_effects=infusion.side_effects,
        serious_side_effects=infusion.serious_side_effects,
        notes=infusion.notes,
        safety={"flagged": bool(record.safety_notes), "notes": record.safety_notes},
    )


def with_etag(
    record: course_service.InfusionRecord,
) -> tuple[InfusionSummary | InfusionBody, dict]:
    return present_infusion(record), {"ETag": etag(record.infusion.version)}


@blp.route("/patients/<uuid:patient_id>/courses")
class PatientCourses(MethodView):
    @audited("course.list", "course")
    @blp.auth(*READERS)
    @blp.response(200, page_schema(CourseSchema, "CoursePage"))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, patient_id: uuid.UUID):
        """A patient's treatment courses, newest first"""
        note(resource_id=patient_id, patient_ids=[patient_id])
        records = course_service.list_courses(
            request_session(), rules(), actor=current_actor(), patient_id=patient_id
        )
        return whole([present_course(record)[0] for record in records])

    @audited("course.create", "course")
    @blp.auth("clinician")
    @blp.arguments(CourseCreateSchema)
    @blp.response(201, CourseSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, args, patient_id: uuid.UUID):
        """Start a treatment course (at most one active course per patient)"""
        note(patient_ids=[patient_id])
        record = course_service.create_course(
            request_session(),
            rules(),
            actor=current_actor(),
            patient_id=patient_id,
            now=utcnow(),
            **args,
        )
        note(resource_id=record.course.id)
        body, headers = present_course(record)
        return body, headers | location(f"/v1/courses/{record.course.id}")


@blp.route("/courses/<uuid:course_id>")
class CourseById(MethodView):
    @audited("course.read", "course")
    @blp.auth(*READERS)
    @blp.response(200, CourseSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, course_id: uuid.UUID):
        """One course, with each instrument's baseline"""
        note(resource_id=course_id)
        record = course_service.read_course(
            request_session(), rules(), actor=current_actor(), course_id=course_id
        )
        note(patient_ids=[record.course.patient_id])
        return present_course(record)

    @audited("course.update", "course")
    @blp.auth("clinician")
    @blp.arguments(CourseUpdateSchema, required=False)
    @blp.response(200, CourseSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.if_match_required
    def patch(self, args, course_id: uuid.UUID):
        """Change a course's plan or induction count, or complete it (If-Match required)"""
        note(resource_id=course_id)
        record = course_service.update_course(
            request_session(),
            rules(),
            actor=current_actor(),
            course_id=course_id,
            expected_version=if_match(),
            changes=args,
            now=utcnow(),
        )
        note(patient_ids=[record.course.patient_id])
        return present_course(record)


@blp.route("/courses/<uuid:course_id>/infusions")
class CourseInfusions(MethodView):
    @audited("infusion.list", "infusion")
    @blp.auth(*READERS)
    @blp.response(200, page_schema(InfusionSchema, "InfusionPage"))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, course_id: uuid.UUID):
        """A course's infusions in time order (patients: dates, number and phase only)"""
        note(resource_id=course_id)
        course, records = course_service.list_infusions(
            request_session(), rules(), actor=current_actor(), course_id=course_id
        )
        note(patient_ids=[course.patient_id])
        return whole([present_infusion(record) for record in records])

    @audited("infusion.create", "infusion")
    @blp.auth("clinician")
    @blp.arguments(InfusionCreateSchema)
    @blp.response(201, InfusionSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, args, course_id: uuid.UUID):
        """Record a completed infusion (back-filling is fine) or schedule one"""
        record = course_service.record_infusion(
            request_session(),
            rules(),
            actor=current_actor(),
            course_id=course_id,
            fields=args,
            now=utcnow(),
        )
        note(resource_id=record.infusion.id, patient_ids=[record.infusion.patient_id])
        body, headers = with_etag(record)
        return body, headers | location(f"/v1/infusions/{record.infusion.id}")


@blp.route("/infusions/<uuid:infusion_id>")
class InfusionById(MethodView):
    @audited("infusion.read", "infusion")
    @blp.auth("clinician")
    @blp.response(200, InfusionSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, infusion_id: uuid.UUID):
        """One infusion"""
        note(resource_id=infusion_id)
        record = course_service.read_infusion(
            request_session(), rules(), actor=current_actor(), infusion_id=infusion_id
        )
        note(patient_ids=[record.infusion.patient_id])
        return with_etag(record)

    @audited("infusion.update", "infusion")
    @blp.auth("clinician")
    @blp.arguments(InfusionUpdateSchema, required=False)
    @blp.response(200, InfusionSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.if_match_required
    def patch(self, args, infusion_id: uuid.UUID):
        """Complete, cancel, re-date or correct an infusion (If-Match required)"""
        note(resource_id=infusion_id)
        record = course_service.update_infusion(
            request_session(),
            rules(),
            actor=current_actor(),
            infusion_id=infusion_id,
            expected_version=if_match(),
            changes=args,
            now=utcnow(),
        )
        note(patient_ids=[record.infusion.patient_id])
        return with_etag(record)


@blp.route("/patients/<uuid:patient_id>/due", methods=["GET"])
@audited("due.read", "patient")
@blp.auth(*READERS)
@blp.arguments(DueArgsSchema, location="query")
@blp.response(200, DueSchema)
@blp.alt_response(404, response="NOT_FOUND")
def due(args, patient_id: uuid.UUID):
    """What is due now and next, and why, in the patient's time zone"""
    note(resource_id=patient_id, patient_ids=[patient_id])
    found = schedule.due(
        request_session(),
        rules().registry,
        actor=current_actor(),
        patient_id=patient_id,
        at=args["at"] or utcnow(),
    )
    return {
        "patient_id": found.patient.id,
        "course_id": found.course.id if found.course else None,
        "at": found.at,
        "timezone": found.patient.timezone,
        "items": [vars(item) for item in found.items],
    }
