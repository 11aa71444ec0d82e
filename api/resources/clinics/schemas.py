"""Clinic staff bodies."""

import marshmallow as ma

from api.fields import StrictBoolean
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
    role = ma.fields.String(required=True, metadata={"enum_name": "StaffRole"})
    active = ma.fields.Boolean(required=True)
    enrolled = ma.fields.Boolean(required=True)


class StaffUpdateSchema(Schema):
    active = StrictBoolean(required=True)


# What a crisis resource links to: an http(s) address in printable ASCII (an international
# domain in its xn-- form), checked by this pattern alone, the same in every regex engine.
WEB_ADDRESS = r"^https?://[!-~]+$"


class CrisisResourceSchema(Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    phone = ma.fields.String(validate=ma.validate.Length(max=40))
    sms = ma.fields.String(validate=ma.validate.Length(max=40))
    url = ma.fields.String(
        validate=[ma.validate.Length(max=500), ma.validate.Regexp(WEB_ADDRESS)],
        metadata={"pattern": WEB_ADDRESS, "description": "A web address, http(s)://…"},
    )
    note = ma.fields.String(validate=ma.validate.Length(max=500))


class ClinicSchema(Schema):
    id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    crisis_message = ma.fields.String(
        required=True,
        metadata={"description": "Shown at once when stored answers endorse a safety item"},
    )
    crisis_message_not_sent = ma.fields.String(
        required=True,
        metadata={
            "description": "Shown when answers that endorse a safety item were not sent "
            "(refused, offline, any error): it must never say anyone was alerted"
        },
    )
    crisis_resources = ma.fields.List(ma.fields.Nested(CrisisResourceSchema), required=True)
    uses_default_crisis_information = ma.fields.Boolean(required=True)
    bp_flag_systolic = ma.fields.Integer(required=True)
    bp_flag_diastolic = ma.fields.Integer(required=True)


class ClinicUpdateSchema(Schema):
    name = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    crisis_message = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(min=20, max=2000),
        metadata={"description": "null restores the default"},
    )
    crisis_message_not_sent = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(min=20, max=2000),
        metadata={"description": "null restores the default"},
    )
    crisis_resources = ma.fields.List(
        ma.fields.Nested(CrisisResourceSchema),
        allow_none=True,
        validate=ma.validate.Length(min=1, max=10),
        metadata={"description": "null restores the default"},
    )
    bp_flag_systolic = ma.fields.Integer(
        allow_none=True,
        strict=True,
        validate=ma.validate.Range(120, 250),
        metadata={"description": "Local protocol parameter (not a standard); null: default"},
    )
    bp_flag_diastolic = ma.fields.Integer(
        allow_none=True,
        strict=True,
        validate=ma.validate.Range(70, 150),
        metadata={"description": "Local protocol parameter (not a standard); null: default"},
    )
