"""Trend, summary and outcome bodies."""

import marshmallow as ma

from api.domain.schedule import PHASES
from api.fields import CalendarDate, Instant, QueryBoolean
from api.resources.alerts.schemas import AlertSchema
from api.resources.courses.schemas import DueItemSchema
from api.smorest import Schema

SIGNAL_KINDS = ["early_non_improvement", "waning", "relapse"]


class TrendArgsSchema(Schema):
    course_id = ma.fields.UUID(
        load_default=None, metadata={"description": "Default: the active course, or the latest"}
    )
    since = Instant(
        load_default=None, data_key="from", metadata={"description": "Points from (inclusive)"}
    )
    until = Instant(
        load_default=None, data_key="to", metadata={"description": "Points up to (exclusive)"}
    )


class TrendBaselineSchema(Schema):
    check_in_id = ma.fields.UUID(required=True)
    completed_at = ma.fields.AwareDateTime(required=True)
    total = ma.fields.Integer(required=True)
    source = ma.fields.String(required=True, metadata={"enum": ["pre_infusion", "first_available"]})
    acute_effect = ma.fields.Boolean(
        required=True,
        metadata={"description": "A first_available baseline taken within 72 h after an infusion"},
    )


class LatestSchema(Schema):
    check_in_id = ma.fields.UUID(required=True)
    completed_at = ma.fields.AwareDateTime(required=True)
    total = ma.fields.Integer(required=True)
    severity = ma.fields.String(required=True, metadata={"enum_name": "Severity"})


class ChangeSchema(Schema):
    absolute = ma.fields.Integer(required=True, metadata={"description": "latest − baseline"})
    percent = ma.fields.Float(
        allow_none=True,
        required=True,
        metadata={"description": "Of the baseline, one decimal; null from a baseline of 0"},
    )


class StatusSchema(Schema):
    response = ma.fields.Boolean(allow_none=True, required=True)
    remission = ma.fields.Boolean(allow_none=True, required=True)
    reliable_change = ma.fields.String(
        allow_none=True,
        required=True,
        metadata={"enum": ["improved", "deteriorated", "none"]},
    )
    mcid_reached = ma.fields.Boolean(allow_none=True, required=True)


class ThresholdsSchema(Schema):
    response = ma.fields.String(
        allow_none=True, required=True, metadata={"example": "≥50% reduction"}
    )
    response_min_baseline = ma.fields.Integer(allow_none=True, required=True)
    remission_below = ma.fields.Integer(allow_none=True, required=True)
    remission_min_baseline = ma.fields.Integer(allow_none=True, required=True)
    reliable_change = ma.fields.Integer(allow_none=True, required=True)
    mcid = ma.fields.Integer(allow_none=True, required=True)
    sustained_deterioration = ma.fields.Dict(allow_none=True, required=True)
    sources = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True)


class PointSchema(Schema):
    check_in_id = ma.fields.UUID(required=True)
    completed_at = ma.fields.AwareDateTime(required=True)
    total = ma.fields.Integer(required=True)
    severity = ma.fields.String(required=True, metadata={"enum_name": "Severity"})
    phase = ma.fields.String(allow_none=True, required=True, metadata={"enum": list(PHASES)})
    infusion_number = ma.fields.Integer(allow_none=True, required=True)
    days_since_infusion = ma.fields.Float(allow_none=True, required=True)
    flags = ma.fields.List(ma.fields.String(metadata={"enum_name": "FlagKey"}), required=True)


class PhaseSummarySchema(Schema):
    phase = ma.fields.String(allow_none=True, required=True, metadata={"enum_name": "Phase"})
    start = ma.fields.AwareDateTime(required=True, data_key="from")
    end = ma.fields.AwareDateTime(required=True, data_key="to")
    count = ma.fields.Integer(required=True)
    mean = ma.fields.Float(required=True)
    min = ma.fields.Integer(required=True)
    max = ma.fields.Integer(required=True)
    last = ma.fields.Integer(required=True)


class TrendInfusionSchema(Schema):
    number = ma.fields.Integer(required=True)
    administered_at = ma.fields.AwareDateTime(required=True)
    phase = ma.fields.String(required=True, metadata={"enum": ["induction", "maintenance"]})


class BenefitSchema(Schema):
    infusion_number = ma.fields.Integer(required=True)
    administered_at = ma.fields.AwareDateTime(required=True)
    phase = ma.fields.String(required=True, metadata={"enum_name": "InfusionPhase"})
    before = ma.fields.Integer(allow_none=True, required=True)
    best_after = ma.fields.Integer(allow_none=True, required=True)
    last_after = ma.fields.Integer(allow_none=True, required=True)
    days_observed = ma.fields.Float(allow_none=True, required=True)
    days_of_benefit = ma.fields.Float(
        allow_none=True,
        required=True,
        metadata={
            "description": "Days until the score came back within the minimal important "
            "difference of the score before the infusion; null while it has not"
        },
    )
    still_improved = ma.fields.Boolean(allow_none=True, required=True)


class DurabilitySchema(Schema):
    median_days_of_benefit = ma.fields.Float(allow_none=True, required=True)
    infusions_counted = ma.fields.Integer(required=True)
    summary = ma.fields.String(required=True)


class SignalSchema(Schema):
    kind = ma.fields.String(required=True, metadata={"enum": SIGNAL_KINDS})
    rule = ma.fields.String(required=True, metadata={"description": "The rule in words"})
    check_in_ids = ma.fields.List(ma.fields.UUID(), required=True)


class TrendSchema(Schema):
    questionnaire = ma.fields.String(required=True, metadata={"enum_name": "QuestionnaireKey"})
    course_id = ma.fields.UUID(allow_none=True, required=True)
    baseline = ma.fields.Nested(TrendBaselineSchema, allow_none=True, required=True)
    latest = ma.fields.Nested(LatestSchema, allow_none=True, required=True)
    change = ma.fields.Nested(ChangeSchema, allow_none=True, required=True)
    status = ma.fields.Nested(StatusSchema, required=True)
    thresholds = ma.fields.Nested(ThresholdsSchema, required=True)
    points = ma.fields.List(ma.fields.Nested(PointSchema), required=True)
    phases = ma.fields.List(ma.fields.Nested(PhaseSummarySchema), required=True)
    infusions = ma.fields.List(ma.fields.Nested(TrendInfusionSchema), required=True)
    by_infusion = ma.fields.List(ma.fields.Nested(BenefitSchema), required=True)
    durability = ma.fields.Nested(DurabilitySchema, required=True)
    signals = ma.fields.List(
        ma.fields.Nested(SignalSchema),
        metadata={"description": "For clinicians only; never alerts, never shown to patients"},
    )


class InstrumentSummarySchema(TrendSchema):
    title = ma.fields.String(required=True)
    check_in_count = ma.fields.Integer(required=True)
    sentence = ma.fields.String(
        required=True, metadata={"description": "How the patient is doing, in plain words"}
    )

    class Meta(Schema.Meta):
        exclude = ("points", "phases", "infusions", "by_infusion", "thresholds")


class SummaryCourseSchema(Schema):
    id = ma.fields.UUID(required=True)
    status = ma.fields.String(required=True, metadata={"enum_name": "CourseStatus"})
    indications = ma.fields.List(
        ma.fields.String(metadata={"enum_name": "Indication"}), required=True
    )
    started_on = ma.fields.Date(required=True)
    phase = ma.fields.String(allow_none=True, required=True, metadata={"enum_name": "Phase"})
    infusion_count = ma.fields.Integer(required=True)


class SummarySchema(Schema):
    patient_id = ma.fields.UUID(required=True)
    as_of = ma.fields.AwareDateTime(required=True)
    course = ma.fields.Nested(SummaryCourseSchema, allow_none=True, required=True)
    instruments = ma.fields.List(ma.fields.Nested(InstrumentSummarySchema), required=True)
    due = ma.fields.List(ma.fields.Nested(DueItemSchema), required=True)
    open_alerts = ma.fields.List(
        ma.fields.Nested(AlertSchema), metadata={"description": "For clinicians only"}
    )


class OutcomesArgsSchema(Schema):
    questionnaire = ma.fields.String(
        required=True, metadata={"example": "phq9", "enum_name": "QuestionnaireKey"}
    )
    since = CalendarDate(
        load_default=None, data_key="from", metadata={"description": "Courses started from"}
    )
    until = CalendarDate(
        load_default=None, data_key="to", metadata={"description": "Courses started before"}
    )
    suppress = QueryBoolean(
        load_default=True,
        metadata={
            "description": "Withhold any number about fewer than 5 patients; only a clinic "
            "admin may ask for false"
        },
    )


class RateSchema(Schema):
    patients = ma.fields.Integer(allow_none=True, required=True)
    rate = ma.fields.Float(allow_none=True, required=True, metadata={"description": "0 to 1"})


class MeanChangeSchema(Schema):
    patients = ma.fields.Integer(allow_none=True, required=True)
    mean = ma.fields.Float(allow_none=True, required=True)
    ci95_low = ma.fields.Float(allow_none=True, required=True)
    ci95_high = ma.fields.Float(allow_none=True, required=True)


class AtInfusionSchema(Schema):
    infusion_number = ma.fields.Integer(required=True)
    patients = ma.fields.Integer(allow_none=True, required=True)
    mean_total = ma.fields.Float(
        allow_none=True,
        required=True,
        metadata={"description": "Mean of each patient's score before that infusion"},
    )


class SeverityCountsSchema(Schema):
    baseline = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(allow_none=True))
    latest = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(allow_none=True))


class BenefitSummarySchema(Schema):
    patients = ma.fields.Integer(allow_none=True, required=True)
    median_days_of_benefit = ma.fields.Float(allow_none=True, required=True)


class OutcomesSchema(Schema):
    clinic_id = ma.fields.UUID(required=True)
    questionnaire = ma.fields.String(required=True, metadata={"enum_name": "QuestionnaireKey"})
    suppressed = ma.fields.Boolean(
        required=True, metadata={"description": "Numbers about fewer than 5 patients are null"}
    )
    minimum_cell = ma.fields.Integer(required=True)
    patients_with_baseline = ma.fields.Integer(allow_none=True, required=True)
    patients_with_follow_up = ma.fields.Integer(allow_none=True, required=True)
    response = ma.fields.Nested(RateSchema, required=True)
    remission = ma.fields.Nested(RateSchema, required=True)
    mean_change = ma.fields.Nested(MeanChangeSchema, required=True)
    severity = ma.fields.Nested(SeverityCountsSchema, required=True)
    by_infusion = ma.fields.List(ma.fields.Nested(AtInfusionSchema), required=True)
    maintenance_benefit = ma.fields.Nested(BenefitSummarySchema, required=True)
