"""Clinics and staff: the clinic's settings, the staff list, invitations, deactivation."""

from __future__ import annotations

import uuid
from typing import TypedDict

from flask.views import MethodView

from api.auditing import note
from api.auth import current_actor
from api.context import identity_settings, request_session, rules
from api.db import utcnow
from api.domain import clinics as clinic_service
from api.domain import outcomes as outcome_service
from api.models import User
from api.resources.clinics.schemas import (
    ClinicSchema,
    ClinicUpdateSchema,
    StaffInvitedSchema,
    StaffInviteSchema,
    StaffSchema,
    StaffUpdateSchema,
)
from api.resources.links import location
from api.resources.pagination import page_schema, whole
from api.resources.trends.schemas import OutcomesArgsSchema, OutcomesSchema
from api.smorest import Blueprint, audited

blp = Blueprint("clinics", __name__, url_prefix="/v1/clinics", description="Clinics and staff")


class StaffBody(TypedDict):
    user_id: uuid.UUID
    email: str
    display_name: str
    role: str
    active: bool
    enrolled: bool


def present_staff(user: User) -> StaffBody:
    return StaffBody(
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=user.role,
        active=user.is_active,
        enrolled=user.password_hash is not None,
    )


class ClinicBody(TypedDict):
    id: uuid.UUID
    name: str
    crisis_message: str
    crisis_message_not_sent: str
    crisis_resources: list[dict]
    uses_default_crisis_information: bool
    bp_flag_systolic: int
    bp_flag_diastolic: int


def present_clinic(record: clinic_service.ClinicRecord) -> ClinicBody:
    clinic = record.clinic
    systolic, diastolic = record.blood_pressure_threshold
    return ClinicBody(
        id=clinic.id,
        name=clinic.name,
        crisis_message=record.crisis["message_when_sent"],
        crisis_message_not_sent=record.crisis["message_when_not_sent"],
        crisis_resources=record.crisis["resources"],
        uses_default_crisis_information=not (
            clinic.crisis_message or clinic.crisis_message_not_sent or clinic.crisis_resources
        ),
        bp_flag_systolic=systolic,
        bp_flag_diastolic=diastolic,
    )


@blp.route("/<uuid:clinic_id>")
class ClinicById(MethodView):
    @audited("clinic.read", "clinic")
    @blp.auth("clinician", "clinic_admin")
    @blp.response(200, ClinicSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, clinic_id: uuid.UUID):
        """Your clinic, with the crisis information patients are shown"""
        note(resource_id=clinic_id)
        return present_clinic(
            clinic_service.get_clinic(
                request_session(), rules(), actor=current_actor(), clinic_id=clinic_id
            )
        )

    @audited("clinic.update", "clinic")
    @blp.auth("clinic_admin")
    @blp.arguments(ClinicUpdateSchema, required=False)
    @blp.response(200, ClinicSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, args, clinic_id: uuid.UUID):
        """Rename the clinic or set its crisis message and resources (null: the default)"""
        note(resource_id=clinic_id)
        return present_clinic(
            clinic_service.update_clinic(
                request_session(),
                rules(),
                actor=current_actor(),
                clinic_id=clinic_id,
                changes=args,
            )
        )


@blp.route("/<uuid:clinic_id>/staff")
class Staff(MethodView):
    @audited("staff.list", "user")
    @blp.auth("clinician", "clinic_admin")
    @blp.response(200, page_schema(StaffSchema, "StaffPage"))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, clinic_id: uuid.UUID):
        """The clinic's clinicians and admins, to choose care-team members from"""
        staff = clinic_service.list_staff(
            request_session(), actor=current_actor(), clinic_id=clinic_id
        )
        return whole([present_staff(user) for user in staff])

    @audited("staff.invite", "user")
    @blp.auth("clinic_admin")
    @blp.arguments(StaffInviteSchema)
    @blp.response(201, StaffInvitedSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, args, clinic_id: uuid.UUID):
        """Invite a clinician or admin; the answer holds their enrollment code"""
        user, code, expires_at = clinic_service.invite_staff(
            request_session(),
            identity_settings(),
            actor=current_actor(),
            clinic_id=clinic_id,
            now=utcnow(),
            **args,
        )
        note(resource_id=user.id)
        body = {"user_id": user.id, "enrollment": {"code": code, "expires_at": expires_at}}
        return body, location(f"/v1/clinics/{clinic_id}/staff/{user.id}")


@blp.route("/<uuid:clinic_id>/staff/<uuid:user_id>")
class StaffMember(MethodView):
    @audited("staff.read", "user")
    @blp.auth("clinician", "clinic_admin")
    @blp.response(200, StaffSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, clinic_id: uuid.UUID, user_id: uuid.UUID):
        """One clinician or admin of the clinic"""
        note(resource_id=user_id)
        user = clinic_service.get_staff(
            request_session(), actor=current_actor(), clinic_id=clinic_id, user_id=user_id
        )
        return present_staff(user)

    @audited("staff.update", "user")
    @blp.auth("clinic_admin")
    @blp.arguments(StaffUpdateSchema)
    @blp.response(200, StaffSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, args, clinic_id: uuid.UUID, user_id: uuid.UUID):
        """Deactivate (signing out every session) or reactivate a staff member"""
        note(resource_id=user_id)
        user = clinic_service.set_staff_active(
            request_session(),
            actor=current_actor(),
            clinic_id=clinic_id,
            user_id=user_id,
            active=args["active"],
            now=utcnow(),
        )
        return present_staff(user)


@blp.route("/<uuid:clinic_id>/outcomes", methods=["GET"])
@audited("outcomes.read", "clinic")
@blp.auth("clinician", "clinic_admin")
@blp.arguments(OutcomesArgsSchema, location="query")
@blp.response(200, OutcomesSchema)
@blp.alt_response(404, response="NOT_FOUND")
def clinic_outcomes(args, clinic_id: uuid.UUID):
    """Cohort outcomes on one instrument; numbers about fewer than 5 patients withheld"""
    note(resource_id=clinic_id)
    found = outcome_service.outcomes(
        request_session(),
        rules(),
        actor=current_actor(),
        clinic_id=clinic_id,
        questionnaire=args["questionnaire"],
        since=args["since"],
        until=args["until"],
        suppress=args["suppress"],
        now=utcnow(),
    )
    return {
        "clinic_id": clinic_id,
        "questionnaire": found.questionnaire,
        "suppressed": found.suppressed,
        "minimum_cell": outcome_service.MINIMUM_CELL,
        "patients_with_baseline": found.with_baseline,
        "patients_with_follow_up": found.with_follow_up,
        "response": vars(found.response),
        "remission": vars(found.remission),
        "mean_change": {
            "patients": found.mean_change.patients,
            "mean": found.mean_change.mean,
            "ci95_low": found.mean_change.low,
            "ci95_high": found.mean_change.high,
        },
        "severity": {"baseline": found.severity_at_baseline, "latest": found.severity_latest},
        "by_infusion": [
            {"infusion_number": i.number, "patients": i.patients, "mean_total": i.mean_total}
            for i in found.by_infusion
        ],
        "maintenance_benefit": {
            "patients": found.benefit_patients,
            "median_days_of_benefit": found.median_days_of_benefit,
        },
    }
