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
from api.domain import patients as patient_service
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


@blp.route("")
class Patients(MethodView):
    @audited("patient.list", "patient")
    @blp.auth()
    @blp.arguments(PatientListArgsSchema, location="query")
    @blp.response(200, PatientPageSchema)
    def get(self, args):
        """List the patients you may see"""
        page = patient_service.list_patients(
            request_session(),
            rules().registry,
            current_actor(),
            overdue=args["overdue"],
            now=utcnow(),
            limit=args["limit"],
            cursor=decode_cursor(args),
        )
        note(patient_ids=[record.patient.id for record in page.items])
        return paged(page, [present(record) for record in page.items])

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
        return body


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
    return {"code": code, "expires_at": expires_at}
