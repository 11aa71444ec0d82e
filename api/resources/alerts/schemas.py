"""Alert inbox bodies."""

import marshmallow as ma

from api.models.alert import ALERT_KINDS, ALERT_PRIORITIES, ALERT_STATUSES
from api.resources.pagination import PageArgsSchema, page_schema
from api.smorest import Schema


class AlertListArgsSchema(PageArgsSchema):
    status = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(ALERT_STATUSES)),
        load_default=None,
        metadata={"description": "Repeatable; default: open and acknowledged"},
    )
    kind = ma.fields.String(load_default=None, validate=ma.validate.OneOf(ALERT_KINDS))
    patient_id = ma.fields.UUID(load_default=None)


class FlaggedAnswerSchema(Schema):
    item = ma.fields.String(required=True, metadata={"example": "9"})
    value = ma.fields.Integer(required=True, metadata={"example": 2})
    label = ma.fields.String(required=True, metadata={"example": "More than half the days"})


class AlertBaselineSchema(Schema):
    check_in_id = ma.fields.UUID(required=True)
    total = ma.fields.Integer(required=True)
    source = ma.fields.String(required=True, metadata={"enum": ["pre_infusion", "first_available"]})


class OccurrenceSchema(Schema):
    check_in_id = ma.fields.UUID(required=True)
    total = ma.fields.Integer(required=True)
    completed_at = ma.fields.AwareDateTime(required=True)
    received_at = ma.fields.AwareDateTime(required=True)
    check_in_status = ma.fields.String(required=True)
    answer = ma.fields.Nested(FlaggedAnswerSchema, allow_none=True, required=True)


class ActionSchema(Schema):
    at = ma.fields.AwareDateTime(required=True)
    by = ma.fields.UUID(required=True)
    note = ma.fields.String(allow_none=True, required=True)


class AlertSchema(Schema):
    id = ma.fields.UUID(required=True)
    patient_id = ma.fields.UUID(required=True)
    patient_display_name = ma.fields.String(required=True)
    check_in_id = ma.fields.UUID(required=True)
    questionnaire = ma.fields.String(required=True, metadata={"enum_name": "QuestionnaireKey"})
    kind = ma.fields.String(required=True, metadata={"enum": list(ALERT_KINDS)})
    priority = ma.fields.String(required=True, metadata={"enum": list(ALERT_PRIORITIES)})
    status = ma.fields.String(required=True, metadata={"enum": list(ALERT_STATUSES)})
    completed_at = ma.fields.AwareDateTime(required=True)
    received_at = ma.fields.AwareDateTime(required=True)
    raised_at = ma.fields.AwareDateTime(required=True)
    last_received_at = ma.fields.AwareDateTime(
        required=True, metadata={"description": "When the latest triggering check-in arrived"}
    )
    check_in_entered_in_error = ma.fields.Boolean(
        required=True, metadata={"description": "The triggering check-in was entered in error"}
    )
    answer = ma.fields.Nested(
        FlaggedAnswerSchema,
        allow_none=True,
        required=True,
        metadata={"description": "For an alert raised by an item (PHQ-9 item 9): its answer"},
    )
    baseline = ma.fields.Nested(
        AlertBaselineSchema,
        allow_none=True,
        required=True,
        metadata={"description": "For a deterioration alert: the baseline it was compared with"},
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
