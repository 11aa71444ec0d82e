"""Patients, their care teams and enrollment codes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import NotRequired, TypedDict

from flask.views import MethodView

from api.auditing import note
from api.auth import current_actor
from api.context import identity_settings, request_session, rules
from api.db import utcnow
from api.domain import panel
from api.domain import patients as patient_service
from api.domain.timeline import days_between
from api.resources.links import location
from api.resources.pagination import decode_cursor, paged
from api.resources.patients.schemas import (
    CareTeamAddSchema,
    EnrollmentSchema,
    PatientCreatedSchema,
    PatientCreateSchema,
    PatientListArgsSchema,
    PatientPageSchema,
    PatientSchema,
)
from api.smorest import Blueprint, audited

blp = Blueprint("patients", __name__, url_prefix="/v1/patients", description="Patients")


class CareTeamMemberBody(TypedDict):
    user_id: uuid.UUID
    display_name: str


class PatientBody(TypedDict):
    id: uuid.UUID
    clinic_id: uuid.UUID
    display_name: str
    mrn: str | None
    birth_year: int | None
    timezone: str
    enrolled: bool
    created_at: dt.datetime
    care_team: list[CareTeamMemberBody]
    enrollment: NotRequired[dict]
    progress: NotRequired[PanelBody]


def present(record: patient_service.PatientRecord) -> PatientBody:
    patient = record.patient
    return PatientBody(
        id=patient.id,
        clinic_id=patient.clinic_id,
        display_name=patient.display_name,
        mrn=patient.mrn,
        birth_year=patient.birth_year,
        timezone=patient.timezone,
        enrolled=patient.user_id is not None,
        created_at=patient.created_at,
        care_team=[
            CareTeamMemberBody(user_id=u.id, display_name=u.display_name) for u in record.care_team
        ],
    )


class PanelBody(TypedDict):
    course_id: uuid.UUID | None
    questionnaire: str | None
    latest: dict | None
    baseline_total: int | None
    change: dict | None
    status: dict | None
    signals: list[str]
    open_alerts: dict
    days_since_last_check_in: float | None
    last_check_in_at: dt.datetime | None
    next_infusion_at: dt.datetime | None
    next_due_by: dt.datetime | None
    overdue: bool


def present_panel(progress: panel.Progress, now: dt.datetime) -> PanelBody:
    row = progress.row
    last = progress.last_check_in_at
    return PanelBody(
        course_id=progress.course_id,
        questionnaire=progress.questionnaire,
        latest=None
        if row is None or row.latest_total is None
        else {
            "check_in_id": row.latest_check_in_id,
            "total": row.latest_total,
            "severity": row.latest_severity,
            "completed_at": row.latest_completed_at,
        },
        baseline_total=row.baseline_total if row else None,
        change=None
        if row is None or row.change_absolute is None
        else {"absolute": row.change_absolute, "percent": row.change_percent},
        status=None
        if row is None
        else {
            "response": row.response,
            "remission": row.remission,
            "reliable_change": row.reliable_change,
            "mcid_reached": row.mcid_reached,
        },
        signals=row.signals if row else [],
        open_alerts={"urgent": progress.open_urgent_alerts, "high": progress.open_high_alerts},
        days_since_last_check_in=None if last is None else days_between(last, now),
        last_check_in_at=last,
        next_infusion_at=progress.next_infusion_at,
        next_due_by=progress.next_due_by,
        overdue=progress.overdue,
    )


def present_row(row: panel.PanelRecord, now: dt.datetime) -> PatientBody:
    body = present(row.record)
    if row.progress is not None:
        body["progress"] = present_panel(row.progress, now)
    return body


@blp.route("")
class Patients(MethodView):
    @audited("patient.list", "patient")
    @blp.auth()
    @blp.arguments(PatientListArgsSchema, location="query")
    @blp.response(200, PatientPageSchema)
    def get(self, args):
        """List the patients you may see; for clinicians, the panel (`sort=attention`: urgent
        alerts, then signals, then overdue, then no recent check-in)"""
        now = utcnow()
        page = panel.list_patients(
            request_session(),
            rules(),
            current_actor(),
            overdue=args["overdue"],
            sort=args["sort"],
            now=now,
            limit=args["limit"],
            cursor=decode_cursor(args),
        )
        note(patient_ids=[row.record.patient.id for row in page.items])
        return paged(page, [present_row(row, now) for row in page.items])

    @audited("patient.create", "patient")
    @blp.auth("clinician", "clinic_admin")
    @blp.arguments(PatientCreateSchema)
    @blp.response(201, PatientCreatedSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, args):
        """Create a patient and a one-time enrollment code"""
        record, code, expires_at = patient_service.create_patient(
            request_session(), identity_settings(), actor=current_actor(), now=utcnow(), **args
        )
        note(resource_id=record.patient.id, patient_ids=[record.patient.id])
        body = present(record)
        body["enrollment"] = {"code": code, "expires_at": expires_at}
        return body, location(f"/v1/patients/{record.patient.id}")


@blp.route("/<uuid:patient_id>")
class PatientById(MethodView):
    @audited("patient.read", "patient")
    @blp.auth()
    @blp.response(200, PatientSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, patient_id: uuid.UUID):
        """One patient"""
        note(resource_id=patient_id, patient_ids=[patient_id])
        return present(
            patient_service.read_patient(
                request_session(), actor=current_actor(), patient_id=patient_id
            )
        )


@blp.route("/<uuid:patient_id>/care-team", methods=["POST"])
@audited("care_team.add", "patient")
@blp.auth("clinician", "clinic_admin")
@blp.arguments(CareTeamAddSchema)
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
def add_care_team_member(args, patient_id: uuid.UUID):
    """Add a clinician of the clinic to the patient's care team"""
    note(resource_id=patient_id, patient_ids=[patient_id])
    patient_service.add_to_care_team(
        request_session(),
        actor=current_actor(),
        patient_id=patient_id,
        user_id=args["user_id"],
        now=utcnow(),
    )


@blp.route("/<uuid:patient_id>/care-team/<uuid:user_id>", methods=["DELETE"])
@audited("care_team.remove", "patient")
@blp.auth("clinician", "clinic_admin")
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
def remove_care_team_member(patient_id: uuid.UUID, user_id: uuid.UUID):
    """Remove a clinician from the patient's care team"""
    note(resource_id=patient_id, patient_ids=[patient_id])
    patient_service.remove_from_care_team(
        request_session(), actor=current_actor(), patient_id=patient_id, user_id=user_id
    )


@blp.route("/<uuid:patient_id>/enrollment", methods=["POST"])
@audited("patient.enrollment_code", "patient")
@blp.auth("clinician", "clinic_admin")
@blp.response(201, EnrollmentSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def new_enrollment_code(patient_id: uuid.UUID):
    """Issue a new enrollment code; earlier unused codes stop working"""
    note(resource_id=patient_id, patient_ids=[patient_id])
    code, expires_at = patient_service.new_enrollment_code(
        request_session(),
        identity_settings(),
        actor=current_actor(),
        patient_id=patient_id,
        now=utcnow(),
    )
    # The code is not a resource of its own: Location names the patient it enrolls.
    return {"code": code, "expires_at": expires_at}, location(f"/v1/patients/{patient_id}")
