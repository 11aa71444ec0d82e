"""Clinic staff: invitations, listing, deactivation."""

from __future__ import annotations

import uuid

from flask import current_app
from flask.views import MethodView
from sqlalchemy import select

from api.auditing import note
from api.auth import current_actor
from api.context import identity_settings, request_session
from api.db import utcnow
from api.domain import identity
from api.domain.access import require_clinic_admin
from api.domain.courses import bp_threshold
from api.domain.errors import NotFound
from api.domain.safety import crisis_card
from api.models import Clinic, User
from api.models.identity import STAFF_ROLES
from api.resources.clinics.schemas import (
    ClinicSchema,
    ClinicUpdateSchema,
    StaffInvitedSchema,
    StaffInviteSchema,
    StaffSchema,
    StaffUpdateSchema,
)
from api.smorest import Blueprint, audited

blp = Blueprint("clinics", __name__, url_prefix="/v1/clinics", description="Clinics and staff")


def present_staff(user: User) -> dict:
    return {
        "user_id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
        "active": user.is_active,
        "enrolled": user.password_hash is not None,
    }


def present_clinic(clinic: Clinic) -> dict:
    crisis = crisis_card(clinic)
    systolic, diastolic = bp_threshold(clinic, current_app.config["INFUSION_BP_THRESHOLD"])
    return {
        "id": clinic.id,
        "name": clinic.name,
        "crisis_message": crisis["message_when_sent"],
        "crisis_message_not_sent": crisis["message_when_not_sent"],
        "crisis_resources": crisis["resources"],
        "uses_default_crisis_information": not (
            clinic.crisis_message or clinic.crisis_message_not_sent or clinic.crisis_resources
        ),
        "bp_flag_systolic": systolic,
        "bp_flag_diastolic": diastolic,
    }


def own_clinic(clinic_id: uuid.UUID) -> Clinic:
    if clinic_id != current_actor().clinic_id:
        raise NotFound("Clinic not found.")
    return request_session().get(Clinic, clinic_id)


@blp.route("/<uuid:clinic_id>")
class ClinicById(MethodView):
    @audited("clinic.read", "clinic")
    @blp.auth("clinician", "clinic_admin")
    @blp.response(200, ClinicSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, clinic_id: uuid.UUID):
        """Your clinic, with the crisis information patients are shown"""
        return present_clinic(own_clinic(clinic_id))

    @audited("clinic.update", "clinic")
    @blp.auth("clinic_admin")
    @blp.arguments(ClinicUpdateSchema)
    @blp.response(200, ClinicSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, args, clinic_id: uuid.UUID):
        """Rename the clinic or set its crisis message and resources (null: the default)"""
        require_clinic_admin(current_actor(), clinic_id)
        clinic = own_clinic(clinic_id)
        for field, value in args.items():
            setattr(clinic, field, value)
        note(resource_id=clinic_id)
        return present_clinic(clinic)


@blp.route("/<uuid:clinic_id>/staff")
class Staff(MethodView):
    @audited("staff.list", "user")
    @blp.auth("clinician", "clinic_admin")
    @blp.response(200, StaffSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, clinic_id: uuid.UUID):
        """The clinic's clinicians and admins, to choose care-team members from"""
        actor = current_actor()
        if clinic_id != actor.clinic_id:
            raise NotFound("Clinic not found.")
        users = request_session().scalars(
            select(User)
            .where(User.clinic_id == clinic_id, User.role.in_(STAFF_ROLES))
            .order_by(User.display_name, User.id)
        )
        return [present_staff(u) for u in users]

    @audited("staff.invite", "user")
    @blp.auth("clinic_admin")
    @blp.arguments(StaffInviteSchema)
    @blp.response(201, StaffInvitedSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, args, clinic_id: uuid.UUID):
        """Invite a clinician or admin; the answer holds their enrollment code"""
        user, code, expires_at = identity.invite_staff(
            request_session(),
            identity_settings(),
            actor=current_actor(),
            clinic_id=clinic_id,
            now=utcnow(),
            **args,
        )
        note(resource_id=user.id)
        return {"user_id": user.id, "enrollment": {"code": code, "expires_at": expires_at}}


@blp.route("/<uuid:clinic_id>/staff/<uuid:user_id>", methods=["PATCH"])
@audited("staff.update", "user")
@blp.auth("clinic_admin")
@blp.arguments(StaffUpdateSchema)
@blp.response(200, StaffSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def update_staff(args, clinic_id: uuid.UUID, user_id: uuid.UUID):
    """Deactivate (signing out every session) or reactivate a staff member"""
    note(resource_id=user_id)
    user = identity.set_staff_active(
        request_session(),
        actor=current_actor(),
        clinic_id=clinic_id,
        user_id=user_id,
        active=args["active"],
        now=utcnow(),
    )
    return present_staff(user)
