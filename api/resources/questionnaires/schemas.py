"""Questionnaire definitions as the app renders them."""

import marshmallow as ma

from api.smorest import Schema


class OptionSchema(Schema):
    value = ma.fields.Integer(required=True)
    label = ma.fields.String(required=True)
    loinc = ma.fields.String(allow_none=True)


class ItemSchema(Schema):
    id = ma.fields.String(required=True)
    text = ma.fields.String(required=True)
    scored = ma.fields.Boolean(required=True)
    required = ma.fields.Boolean(required=True)
    options = ma.fields.List(ma.fields.Nested(OptionSchema), required=True)
    loinc = ma.fields.String(allow_none=True)
    cluster = ma.fields.String(allow_none=True)


class BandSchema(Schema):
    min = ma.fields.Integer(required=True)
    max = ma.fields.Integer(required=True)
    band = ma.fields.String(required=True, metadata={"enum_name": "Severity"})
    label = ma.fields.String(required=True)


class SubscaleSchema(Schema):
    key = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    items = ma.fields.List(ma.fields.String(), required=True)


class FlagSchema(Schema):
    key = ma.fields.String(required=True, metadata={"enum_name": "FlagKey"})
    label = ma.fields.String(required=True)
    safety = ma.fields.Boolean(required=True)
    source = ma.fields.String(required=True)


class ScoringSchema(Schema):
    method = ma.fields.String(required=True)
    min = ma.fields.Integer(required=True)
    max = ma.fields.Integer(required=True)
    missing_items = ma.fields.String(required=True)
    severity_source = ma.fields.String(required=True)
    bands = ma.fields.List(ma.fields.Nested(BandSchema), required=True)
    subscales = ma.fields.List(ma.fields.Nested(SubscaleSchema), required=True)
    flags = ma.fields.List(ma.fields.Nested(FlagSchema), required=True)


class RecallPeriodSchema(Schema):
    iso = ma.fields.String(required=True, metadata={"example": "P2W"})
    text = ma.fields.String(required=True, metadata={"example": "the last 2 weeks"})


class QuestionnaireSummarySchema(Schema):
    key = ma.fields.String(required=True, metadata={"enum_name": "QuestionnaireKey"})
    version = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    short_title = ma.fields.String(required=True)
    measures = ma.fields.String(required=True)
    recall_period = ma.fields.Nested(RecallPeriodSchema, required=True)
    item_count = ma.fields.Integer(required=True)


class QuestionnaireSchema(QuestionnaireSummarySchema):
    instructions = ma.fields.String(allow_none=True, required=True)
    stem = ma.fields.String(allow_none=True, required=True)
    items = ma.fields.List(ma.fields.Nested(ItemSchema), required=True)
    scoring = ma.fields.Nested(ScoringSchema, required=True)
    change = ma.fields.Dict(
        required=True,
        metadata={"description": "response, remission, reliable_change, mcid with sources"},
    )
    loinc = ma.fields.Dict(required=True)
    licence = ma.fields.String(required=True)
