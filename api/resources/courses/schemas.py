"""Course, infusion and due-list bodies."""

import marshmallow as ma

from api.context import questionnaire_registry
from api.domain.courses import INDICATIONS, SIDE_EFFECTS
from api.domain.schedule import (
    PHASES,
    RULE_REQUIRES,
    RULE_SETTINGS,
    RULE_TYPES,
    check_plan_rule,
)
from api.fields import CalendarDate, Instant, StrictBoolean, StrictFloat
from api.smorest import Schema


class PlanRuleSchema(Schema):
    questionnaire = ma.fields.String(
        required=True, metadata={"example": "phq9", "enum_name": "QuestionnaireKey"}
    )
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(RULE_TYPES))
    window_hours = ma.fields.Integer(
        strict=True,
        validate=ma.validate.Range(1, 336),
        metadata={"description": "before: hours before the infusion (48); after: window (24)"},
    )
    offset_hours = ma.fields.Integer(
        strict=True,
        validate=ma.validate.Range(0, 336),
        metadata={"description": "after_each_infusion: hours after the infusion (24)"},
    )
    days = ma.fields.Integer(
        strict=True, validate=ma.validate.Range(1, 90), metadata={"description": "every_n_days: n"}
    )
    phases = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(PHASES)),
        metadata={"description": "every_n_days: only in these phases"},
    )
    allow_short_interval = StrictBoolean(
        metadata={
            "description": "Ask PHQ-9, GAD-7 or PCL-5 more often than once in 7 days "
            "(CLINICAL.md advises against it)"
        }
    )

    @ma.validates_schema
    def check_rule(self, data, **kwargs):
        definition = questionnaire_registry().get(data["questionnaire"])
        if definition is None:
            raise ma.ValidationError("Unknown questionnaire.", "questionnaire")
        kind = data["type"]
        for setting in RULE_REQUIRES.get(kind, ()):
            if setting not in data:
                raise ma.ValidationError(f"Required for {kind}.", setting)
        for setting in sorted(data.keys() - {"questionnaire", "type"} - set(RULE_SETTINGS[kind])):
            raise ma.ValidationError(f"{kind} does not take {setting}.", setting)
        too_often = check_plan_rule(data, definition.minimum_interval_days)
        if too_often:
            raise ma.ValidationError(too_often, "days")


class CourseCreateSchema(Schema):
    indications = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(INDICATIONS)),
        required=True,
        validate=ma.validate.Length(min=1, max=len(INDICATIONS)),
    )
    started_on = CalendarDate(required=True, metadata={"example": "2026-11-01"})
    induction_infusions = ma.fields.Integer(
        load_default=6, strict=True, validate=ma.validate.Range(1, 20)
    )
    plan = ma.fields.List(
        ma.fields.Nested(PlanRuleSchema),
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=20),
        metadata={"description": "null or absent: the default plan"},
    )


class CourseUpdateSchema(Schema):
    indications = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(INDICATIONS)),
        validate=ma.validate.Length(min=1, max=len(INDICATIONS)),
    )
    started_on = CalendarDate()
    induction_infusions = ma.fields.Integer(strict=True, validate=ma.validate.Range(1, 20))
    plan = ma.fields.List(
        ma.fields.Nested(PlanRuleSchema), allow_none=True, validate=ma.validate.Length(max=20)
    )
    status = ma.fields.String(validate=ma.validate.OneOf(["active", "completed"]))
    completed_on = CalendarDate(allow_none=True)


class BaselineSchema(Schema):
    questionnaire = ma.fields.String(required=True, metadata={"enum_name": "QuestionnaireKey"})
    check_in_id = ma.fields.UUID(required=True)
    completed_at = ma.fields.AwareDateTime(required=True)
    total = ma.fields.Integer(required=True)
    source = ma.fields.String(required=True, metadata={"enum": ["pre_infusion", "first_available"]})
    acute_effect = ma.fields.Boolean(
        required=True,
        metadata={
            "description": "A first_available baseline taken within 72 hours after an infusion: "
            "it reflects the infusion's acute effect (CLINICAL.md)"
        },
    )


class CourseSchema(Schema):
    id = ma.fields.UUID(required=True)
    patient_id = ma.fields.UUID(required=True)
    indications = ma.fields.List(
        ma.fields.String(metadata={"enum_name": "Indication"}), required=True
    )
    started_on = ma.fields.Date(required=True)
    completed_on = ma.fields.Date(allow_none=True, required=True)
    status = ma.fields.String(required=True, metadata={"enum": ["active", "completed"]})
    induction_infusions = ma.fields.Integer(required=True)
    plan = ma.fields.List(ma.fields.Nested(PlanRuleSchema), required=True)
    plan_is_default = ma.fields.Boolean(required=True)
    baselines = ma.fields.List(ma.fields.Nested(BaselineSchema), required=True)
    created_at = ma.fields.AwareDateTime(required=True)


SYSTOLIC = (50, 300)
DIASTOLIC = (20, 200)
READING_RULE = "[systolic, diastolic] in mmHg: 50–300 over 20–200, systolic higher."
# JSON Schema cannot compare two items; the rest of the rule it states exactly.
READING_DOC = {
    "type": "array",
    "description": READING_RULE,
    "minItems": 2,
    "maxItems": 2,
    "prefixItems": [
        {"type": "integer", "minimum": SYSTOLIC[0], "maximum": SYSTOLIC[1]},
        {"type": "integer", "minimum": DIASTOLIC[0], "maximum": DIASTOLIC[1]},
    ],
    "items": {"type": "integer"},
}


def reading() -> ma.fields.List:
    return ma.fields.List(
        ma.fields.Integer(strict=True),
        validate=ma.validate.Length(equal=2),
        metadata={"documented_as": READING_DOC},
    )


class BloodPressureSchema(Schema):
    before = reading()
    peak = reading()
    after = reading()

    @ma.validates_schema
    def plausible(self, data, **kwargs):
        for moment, (systolic, diastolic) in data.items():
            if not (
                SYSTOLIC[0] <= systolic <= SYSTOLIC[1]
                and DIASTOLIC[0] <= diastolic <= DIASTOLIC[1]
                and systolic > diastolic
            ):
                raise ma.ValidationError(READING_RULE, moment)


INFUSION_FIELDS: dict[str, ma.fields.Field] = {
    "scheduled_for": Instant(allow_none=True),
    "administered_at": Instant(allow_none=True),
    "dose_mg_per_kg": StrictFloat(
        allow_none=True,
        validate=ma.validate.Range(0.05, 2.0),
        metadata={"description": "mg/kg, 0.05–2.0 (usual: 0.5)"},
    ),
    "duration_minutes": ma.fields.Integer(
        allow_none=True, strict=True, validate=ma.validate.Range(1, 600)
    ),
    "blood_pressure": ma.fields.Nested(BloodPressureSchema, allow_none=True),
    "heart_rate": ma.fields.Integer(
        allow_none=True, strict=True, validate=ma.validate.Range(20, 250)
    ),
    "dissociation": ma.fields.Integer(
        allow_none=True,
        strict=True,
        validate=ma.validate.Range(0, 10),
        metadata={"description": "0–10 rating"},
    ),
    "cadss_total": ma.fields.Integer(
        allow_none=True,
        strict=True,
        validate=ma.validate.Range(0, 92),
        metadata={"description": "Clinician-Administered Dissociative States Scale total"},
    ),
    "side_effects": ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(SIDE_EFFECTS))),
    "serious_side_effects": StrictBoolean(),
    "notes": ma.fields.String(allow_none=True, validate=ma.validate.Length(max=4000)),
    "phase": ma.fields.String(
        allow_none=True,
        validate=ma.validate.OneOf(["induction", "maintenance"]),
        metadata={"description": "Clinician override; null: by number"},
    ),
}

InfusionCreateSchema = Schema.from_dict(
    {
        "status": ma.fields.String(
            required=True, validate=ma.validate.OneOf(["scheduled", "completed"])
        ),
        **INFUSION_FIELDS,
    },
    name="InfusionCreate",
)
InfusionUpdateSchema = Schema.from_dict(
    {
        "status": ma.fields.String(
            validate=ma.validate.OneOf(["scheduled", "completed", "cancelled"])
        ),
        **INFUSION_FIELDS,
    },
    name="InfusionUpdate",
)


class InfusionSafetySchema(Schema):
    flagged = ma.fields.Boolean(required=True)
    notes = ma.fields.List(ma.fields.String(), required=True)


class InfusionSchema(Schema):
    """Patients see the first seven fields only: dates, number and phase."""

    id = ma.fields.UUID(required=True)
    course_id = ma.fields.UUID(required=True)
    status = ma.fields.String(required=True, metadata={"enum_name": "InfusionStatus"})
    scheduled_for = ma.fields.AwareDateTime(allow_none=True, required=True)
    administered_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    number = ma.fields.Integer(
        allow_none=True, required=True, metadata={"description": "Order among completed infusions"}
    )
    phase = ma.fields.String(
        allow_none=True, required=True, metadata={"enum_name": "InfusionPhase"}
    )
    phase_set_by_clinician = ma.fields.Boolean()
    dose_mg_per_kg = ma.fields.Float(allow_none=True)
    duration_minutes = ma.fields.Integer(allow_none=True)
    blood_pressure = ma.fields.Nested(BloodPressureSchema, allow_none=True)
    heart_rate = ma.fields.Integer(allow_none=True)
    dissociation = ma.fields.Integer(allow_none=True)
    cadss_total = ma.fields.Integer(allow_none=True)
    side_effects = ma.fields.List(ma.fields.String(metadata={"enum_name": "SideEffect"}))
    serious_side_effects = ma.fields.Boolean()
    notes = ma.fields.String(allow_none=True)
    safety = ma.fields.Nested(InfusionSafetySchema)


class DueArgsSchema(Schema):
    at = Instant(
        load_default=None, metadata={"description": "Evaluate at this instant (default: now)"}
    )


class DueItemSchema(Schema):
    questionnaire = ma.fields.String(required=True, metadata={"enum_name": "QuestionnaireKey"})
    rule = ma.fields.String(required=True, metadata={"enum": list(RULE_TYPES)})
    due_from = ma.fields.AwareDateTime(required=True)
    due_by = ma.fields.AwareDateTime(required=True)
    status = ma.fields.String(
        required=True, metadata={"enum": ["due", "overdue", "upcoming", "done"]}
    )
    reason = ma.fields.String(
        required=True, metadata={"example": "PHQ-9 before infusion 4 on Thursday"}
    )
    infusion_id = ma.fields.UUID(allow_none=True, required=True)
    check_in_id = ma.fields.UUID(allow_none=True, required=True)


class DueSchema(Schema):
    patient_id = ma.fields.UUID(required=True)
    course_id = ma.fields.UUID(allow_none=True, required=True)
    at = ma.fields.AwareDateTime(required=True)
    timezone = ma.fields.String(required=True)
    items = ma.fields.List(ma.fields.Nested(DueItemSchema), required=True)
