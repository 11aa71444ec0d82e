"""Clinic staff: invitations, listing, deactivation."""

from __future__ import annotations

import uuid

from flask.views import MethodView
from sqlalchemy import select

from api.auditing import note
from api.auth import current_actor, settings
from api.db import request_session, utcnow
from api.domain import identity
from api.domain.errors import NotFound
from api.models import User
from api.models.identity import STAFF_ROLES
from api.resources.clinics.schemas import (
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


@blp.route("/<uuid:clinic_id>/staff")
class Staff(MethodView):
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
            settings(),
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
