"""Treatment courses, infusions and what is due."""

from __future__ import annotations

import uuid

from flask import current_app
from flask.views import MethodView

from api.auditing import note
from api.auth import current_actor
from api.context import in_chair_grace, questionnaire_registry, request_session
from api.db import utcnow
from api.domain import courses as course_service
from api.domain import schedule, timeline
from api.domain.access import get_patient
from api.models import Clinic, Course, Infusion
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
from api.smorest import Blueprint, audited, etag, if_match_version

blp = Blueprint("courses", __name__, url_prefix="/v1", description="Treatment timeline")
READERS = ("patient", "clinician")


def present_course(course: Course) -> dict:
    baselines = timeline.baselines(request_session(), course, grace=in_chair_grace())
    return {
        "id": course.id,
        "patient_id": course.patient_id,
        "indications": course.indications,
        "started_on": course.started_on,
        "completed_on": course.completed_on,
        "status": course.status,
        "induction_infusions": course.induction_infusions,
        "plan": schedule.plan_of(course),
        "plan_is_default": course.plan is None,
        "baselines": [
            {
                "questionnaire": key,
                "check_in_id": b.check_in.id,
                "completed_at": b.check_in.completed_at,
                "total": b.check_in.total,
                "source": b.source,
                "acute_effect": b.acute_effect,
            }
            for key, b in sorted(baselines.items())
        ],
        "created_at": course.created_at,
    }


def present_infusions(course: Course, infusions: list[Infusion]) -> list[dict]:
    """Clinicians see everything; patients their dates, number and phase only."""
    numbers = timeline.infusion_numbers(request_session(), course.id)
    clinical = current_actor().role != "patient"
    threshold = (
        course_service.bp_threshold(
            request_session().get(Clinic, course.clinic_id),
            current_app.config["INFUSION_BP_THRESHOLD"],
        )
        if clinical
        else None
    )
    presented = []
    for infusion in infusions:
        number = numbers.get(infusion.id)
        body = {
            "id": infusion.id,
            "course_id": infusion.course_id,
            "status": infusion.status,
            "scheduled_for": infusion.scheduled_for,
            "administered_at": infusion.administered_at,
            "number": number,
            "phase": None
            if number is None
            else timeline.infusion_phase(
                number, course.induction_infusions, infusion.phase_override
            ),
        }
        if clinical:
            notes = course_service.safety_notes(infusion, threshold)
            body |= {
                "phase_set_by_clinician": infusion.phase_override is not None,
                "dose_mg_per_kg": infusion.dose_mg_per_kg,
                "duration_minutes": infusion.duration_minutes,
                "blood_pressure": infusion.blood_pressure,
                "heart_rate": infusion.heart_rate,
                "dissociation": infusion.dissociation,
                "cadss_total": infusion.cadss_total,
                "side_effects": infusion.side_effects,
                "serious_side_effects": infusion.serious_side_effects,
                "notes": infusion.notes,
                "safety": {"flagged": bool(notes), "notes": notes},
            }
        presented.append(body)
    return presented


def present_infusion(infusion: Infusion) -> tuple[dict, dict]:
    course = request_session().get(Course, infusion.course_id)
    return present_infusions(course, [infusion])[0], {"ETag": etag(infusion.version)}


@blp.route("/patients/<uuid:patient_id>/courses")
class PatientCourses(MethodView):
    @audited("course.list", "course")
    @blp.auth(*READERS)
    @blp.response(200, CourseSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, patient_id: uuid.UUID):
        """A patient's treatment courses, newest first"""
        note(resource_id=patient_id, patient_ids=[patient_id])
        courses = course_service.list_courses(
            request_session(), actor=current_actor(), patient_id=patient_id
        )
        return [present_course(c) for c in courses]

    @audited("course.create", "course")
    @blp.auth("clinician")
    @blp.arguments(CourseCreateSchema)
    @blp.response(201, CourseSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, args, patient_id: uuid.UUID):
        """Start a treatment course (at most one active course per patient)"""
        note(patient_ids=[patient_id])
        course = course_service.create_course(
            request_session(), actor=current_actor(), patient_id=patient_id, now=utcnow(), **args
        )
        note(resource_id=course.id)
        return present_course(course), {"ETag": etag(course.version)}


@blp.route("/courses/<uuid:course_id>")
class CourseById(MethodView):
    @audited("course.read", "course")
    @blp.auth(*READERS)
    @blp.response(200, CourseSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, course_id: uuid.UUID):
        """One course, with each instrument's baseline"""
        note(resource_id=course_id)
        course = course_service.get_course(request_session(), current_actor(), course_id)
        note(patient_ids=[course.patient_id])
        return present_course(course), {"ETag": etag(course.version)}

    @audited("course.update", "course")
    @blp.auth("clinician")
    @blp.arguments(CourseUpdateSchema)
    @blp.response(200, CourseSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.if_match_required
    def patch(self, args, course_id: uuid.UUID):
        """Change a course's plan or induction count, or complete it (If-Match required)"""
        note(resource_id=course_id)
        course = course_service.update_course(
            request_session(),
            actor=current_actor(),
            course_id=course_id,
            expected_version=if_match_version(),
            changes=args,
            now=utcnow(),
        )
        note(patient_ids=[course.patient_id])
        return present_course(course), {"ETag": etag(course.version)}


@blp.route("/courses/<uuid:course_id>/infusions")
class CourseInfusions(MethodView):
    @audited("infusion.list", "infusion")
    @blp.auth(*READERS)
    @blp.response(200, InfusionSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, course_id: uuid.UUID):
        """A course's infusions in time order (patients: dates, number and phase only)"""
        note(resource_id=course_id)
        course, infusions = course_service.list_infusions(
            request_session(), actor=current_actor(), course_id=course_id
        )
        note(patient_ids=[course.patient_id])
        return present_infusions(course, infusions)

    @audited("infusion.create", "infusion")
    @blp.auth("clinician")
    @blp.arguments(InfusionCreateSchema)
    @blp.response(201, InfusionSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, args, course_id: uuid.UUID):
        """Record a completed infusion (back-filling is fine) or schedule one"""
        infusion = course_service.record_infusion(
            request_session(),
            actor=current_actor(),
            course_id=course_id,
            fields=args,
            now=utcnow(),
        )
        note(resource_id=infusion.id, patient_ids=[infusion.patient_id])
        return present_infusion(infusion)


@blp.route("/infusions/<uuid:infusion_id>")
class InfusionById(MethodView):
    @audited("infusion.read", "infusion")
    @blp.auth("clinician")
    @blp.response(200, InfusionSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, infusion_id: uuid.UUID):
        """One infusion"""
        note(resource_id=infusion_id)
        infusion = course_service.get_infusion(request_session(), current_actor(), infusion_id)
        note(patient_ids=[infusion.patient_id])
        return present_infusion(infusion)

    @audited("infusion.update", "infusion")
    @blp.auth("clinician")
    @blp.arguments(InfusionUpdateSchema)
    @blp.response(200, InfusionSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.if_match_required
    def patch(self, args, infusion_id: uuid.UUID):
        """Complete, cancel, re-date or correct an infusion (If-Match required)"""
        note(resource_id=infusion_id)
        infusion = course_service.update_infusion(
            request_session(),
            actor=current_actor(),
            infusion_id=infusion_id,
            expected_version=if_match_version(),
            changes=args,
            now=utcnow(),
        )
        note(patient_ids=[infusion.patient_id])
        return present_infusion(infusion)


@blp.route("/patients/<uuid:patient_id>/due", methods=["GET"])
@audited("due.read", "patient")
@blp.auth(*READERS)
@blp.arguments(DueArgsSchema, location="query")
@blp.response(200, DueSchema)
@blp.alt_response(404, response="NOT_FOUND")
def due(args, patient_id: uuid.UUID):
    """What is due now and next, and why, in the patient's time zone"""
    note(resource_id=patient_id, patient_ids=[patient_id])
    session = request_session()
    patient = get_patient(session, current_actor(), patient_id)
    at = args["at"] or utcnow()
    course, items = schedule.due_items(session, questionnaire_registry(), patient=patient, at=at)
    return {
        "patient_id": patient.id,
        "course_id": course.id if course else None,
        "at": at,
        "timezone": patient.timezone,
        "items": [vars(item) for item in items],
    }
