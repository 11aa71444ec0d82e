"""Alert inbox bodies."""

import marshmallow as ma

from api.domain.alerts import STATUSES
from api.resources.pagination import PageArgsSchema, page_schema
from api.smorest import Schema

KINDS = ["suicidal_ideation", "severe_symptoms", "reliable_deterioration"]


class AlertListArgsSchema(PageArgsSchema):
    status = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(STATUSES)),
        load_default=None,
        metadata={"description": "Repeatable; default: open and acknowledged"},
    )
    kind = ma.fields.String(load_default=None, validate=ma.validate.OneOf(KINDS))
    patient_id = ma.fields.UUID(load_default=None)


class OccurrenceSchema(Schema):
    check_in_id = ma.fields.UUID(required=True)
    total = ma.fields.Integer(required=True)
    completed_at = ma.fields.AwareDateTime(required=True)
    received_at = ma.fields.AwareDateTime(required=True)
    check_in_status = ma.fields.String(required=True)


class ActionSchema(Schema):
    at = ma.fields.AwareDateTime(required=True)
    by = ma.fields.UUID(required=True)
    note = ma.fields.String(allow_none=True, required=True)


class AlertSchema(Schema):
    id = ma.fields.UUID(required=True)
    patient_id = ma.fields.UUID(required=True)
    patient_display_name = ma.fields.String(required=True)
    check_in_id = ma.fields.UUID(required=True)
    questionnaire = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, metadata={"enum": KINDS})
    priority = ma.fields.String(required=True, metadata={"enum": ["urgent", "high"]})
    status = ma.fields.String(required=True, metadata={"enum": list(STATUSES)})
    completed_at = ma.fields.AwareDateTime(required=True)
    received_at = ma.fields.AwareDateTime(required=True)
    raised_at = ma.fields.AwareDateTime(required=True)
    last_received_at = ma.fields.AwareDateTime(
        required=True, metadata={"description": "When the latest triggering check-in arrived"}
    )
    check_in_entered_in_error = ma.fields.Boolean(
        required=True, metadata={"description": "The triggering check-in was entered in error"}
    )
    occurrence_count = ma.fields.Integer(required=True)
    occurrences = ma.fields.List(ma.fields.Nested(OccurrenceSchema), required=True)
    acknowledged = ma.fields.Nested(ActionSchema, allow_none=True, required=True)
    resolved = ma.fields.Nested(ActionSchema, allow_none=True, required=True)


AlertPageSchema = page_schema(AlertSchema, "AlertPage")


class AcknowledgeSchema(Schema):
    note = ma.fields.String(load_default=None, validate=ma.validate.Length(max=2000))


class ResolveSchema(Schema):
    note = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=2000))
