"""Patient request and response bodies."""

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import marshmallow as ma

from api.fields import QueryBoolean
from api.resources.pagination import PageArgsSchema, page_schema
from api.resources.trends.schemas import ChangeSchema, LatestSchema, StatusSchema
from api.smorest import Schema


def not_in_the_future(year: int) -> None:
    if year > dt.date.today().year:
        raise ma.ValidationError("Must not be after this year.")


def validate_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ma.ValidationError("Not an IANA time zone, e.g. America/New_York.") from exc


class EnrollmentSchema(Schema):
    code = ma.fields.String(required=True, metadata={"example": "K7QM-4XZT-9PRD"})
    expires_at = ma.fields.AwareDateTime(required=True)


class CareTeamMemberSchema(Schema):
    user_id = ma.fields.UUID(required=True)
    display_name = ma.fields.String(required=True)


class PatientCreateSchema(Schema):
    display_name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    timezone = ma.fields.String(
        required=True,
        validate=[ma.validate.Length(max=64), validate_timezone],
        metadata={
            "example": "America/New_York",
            "format": "iana-time-zone",
            "description": "A time zone of the IANA tz database",
        },
    )
    mrn = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=64))
    # The document states a fixed range; the current year, checked when a request arrives,
    # never enters it (a document that changes with the clock breaks its own drift check).
    birth_year = ma.fields.Integer(
        load_default=None,
        strict=True,
        validate=[ma.validate.Range(min=1900, max=2100), not_in_the_future],
        metadata={"description": "From 1900 up to the current year"},
    )


class PatientSchema(Schema):
    id = ma.fields.UUID(required=True)
    clinic_id = ma.fields.UUID(required=True)
    display_name = ma.fields.String(required=True)
    mrn = ma.fields.String(allow_none=True, required=True)
    birth_year = ma.fields.Integer(allow_none=True, required=True)
    timezone = ma.fields.String(required=True)
    enrolled = ma.fields.Boolean(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    care_team = ma.fields.List(ma.fields.Nested(CareTeamMemberSchema), required=True)


class PatientCreatedSchema(PatientSchema):
    enrollment = ma.fields.Nested(EnrollmentSchema, required=True)


class PanelAlertsSchema(Schema):
    urgent = ma.fields.Integer(required=True)
    high = ma.fields.Integer(required=True)


class PanelSchema(Schema):
    course_id = ma.fields.UUID(allow_none=True, required=True)
    questionnaire = ma.fields.String(
        allow_none=True,
        required=True,
        metadata={
            "description": "The course's primary instrument (its first indication)",
            "enum_name": "QuestionnaireKey",
        },
    )
    latest = ma.fields.Nested(LatestSchema, allow_none=True, required=True)
    baseline_total = ma.fields.Integer(allow_none=True, required=True)
    change = ma.fields.Nested(ChangeSchema, allow_none=True, required=True)
    status = ma.fields.Nested(StatusSchema, allow_none=True, required=True)
    signals = ma.fields.List(ma.fields.String(metadata={"enum_name": "SignalKind"}), required=True)
    open_alerts = ma.fields.Nested(PanelAlertsSchema, required=True)
    days_since_last_check_in = ma.fields.Float(allow_none=True, required=True)
    last_check_in_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    next_infusion_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    next_due_by = ma.fields.AwareDateTime(allow_none=True, required=True)
    overdue = ma.fields.Boolean(required=True)


class PanelPatientSchema(PatientSchema):
    progress = ma.fields.Nested(PanelSchema, metadata={"description": "For clinicians only"})


class PatientListArgsSchema(PageArgsSchema):
    overdue = QueryBoolean(
        load_default=False,
        metadata={"description": "Only patients with an overdue check-in (clinic view)"},
    )
    sort = ma.fields.String(
        load_default="newest",
        validate=ma.validate.OneOf(["newest", "attention"]),
        metadata={"description": "attention (clinicians): urgent alerts, signals, overdue, quiet"},
    )


PatientPageSchema = page_schema(PanelPatientSchema, "PatientPage")


class CareTeamAddSchema(Schema):
    user_id = ma.fields.UUID(required=True)
