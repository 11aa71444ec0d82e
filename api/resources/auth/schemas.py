"""Auth request and response bodies."""

import marshmallow as ma

from api.domain.credentials import MIN_PASSWORD_LENGTH
from api.smorest import ResourceSchema, Schema


def password_field(minimum: int = 1) -> ma.fields.String:
    """A password as sent: never echoed back, at most 1 KiB (Argon2 hashes any length); a new
    one at least MIN_PASSWORD_LENGTH characters."""
    return ma.fields.String(
        required=True,
        validate=[
            ma.validate.Length(max=1024),
            ma.validate.Length(min=minimum, error="Use at least {min} characters."),
        ],
        load_only=True,
    )


class LoginSchema(Schema):
    email = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=320))
    password = password_field()


class RefreshSchema(Schema):
    refresh_token = ma.fields.String(
        required=True, validate=ma.validate.Length(min=1, max=200), load_only=True
    )


class EnrollSchema(Schema):
    code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=40))
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=320))
    password = password_field(MIN_PASSWORD_LENGTH)


class PasswordChangeSchema(Schema):
    current_password = password_field()
    new_password = password_field(MIN_PASSWORD_LENGTH)


class TokenSchema(Schema):
    access_token = ma.fields.String(required=True)
    refresh_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = ma.fields.Integer(
        required=True, metadata={"description": "Access-token lifetime in seconds"}
    )


class CrisisCardSchema(Schema):
    message_when_sent = ma.fields.String(
        required=True, metadata={"description": "Shown when stored answers endorse a safety item"}
    )
    message_when_not_sent = ma.fields.String(
        required=True,
        metadata={
            "description": "Shown when answers that endorse a safety item could not be sent "
            "(offline, refused, any error)"
        },
    )
    resources = ma.fields.List(ma.fields.Nested(ResourceSchema), required=True)


class MeSchema(Schema):
    user_id = ma.fields.UUID(required=True)
    email = ma.fields.String(required=True)
    display_name = ma.fields.String(required=True)
    role = ma.fields.String(required=True, metadata={"enum_name": "Role"})
    clinic_id = ma.fields.UUID(required=True)
    patient_id = ma.fields.UUID(allow_none=True, required=True)
    crisis = ma.fields.Nested(
        CrisisCardSchema,
        required=True,
        metadata={"description": "The clinic's crisis information: keep it, show it offline"},
    )
