"""Clinic staff bodies."""

import marshmallow as ma

from api.models.identity import STAFF_ROLES
from api.resources.patients.schemas import EnrollmentSchema
from api.smorest import Schema


class StaffInviteSchema(Schema):
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=320))
    display_name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(STAFF_ROLES))


class StaffInvitedSchema(Schema):
    user_id = ma.fields.UUID(required=True)
    enrollment = ma.fields.Nested(EnrollmentSchema, required=True)


class StaffSchema(Schema):
    user_id = ma.fields.UUID(required=True)
    email = ma.fields.String(required=True)
    display_name = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    active = ma.fields.Boolean(required=True)
    enrolled = ma.fields.Boolean(required=True)


class StaffUpdateSchema(Schema):
    active = ma.fields.Boolean(required=True, truthy={True}, falsy={False})
