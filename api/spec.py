"""What the OpenAPI document says beyond the schemas: each operation's id, who may call it, the
errors it can answer and the headers of its responses. Applied to every operation as the
document is built (an apispec plugin), so nothing here is repeated on the routes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from apispec import BasePlugin

from api.domain.courses import INDICATIONS, SIDE_EFFECTS
from api.domain.registry import Registry
from api.domain.schedule import PHASES, RULE_REQUIRES, RULE_SETTINGS, RULE_TYPES
from api.models.alert import ALERT_KINDS, ALERT_PRIORITIES, ALERT_STATUSES
from api.models.identity import ROLES, STAFF_ROLES
from api.smorest import ANY_USER, PUBLIC, route_policy

# Every operation's id: stable names for generated clients. A new route without one fails the
# document's generation (and so the drift test) rather than shipping unnamed.
OPERATION_IDS: dict[tuple[str, str], str] = {
    ("post", "/v1/auth/login"): "login",
    ("post", "/v1/auth/refresh"): "refreshTokens",
    ("post", "/v1/auth/logout"): "logout",
    ("post", "/v1/auth/enroll"): "enroll",
    ("get", "/v1/me"): "getMe",
    ("post", "/v1/me/password"): "changePassword",
    ("get", "/v1/patients"): "listPatients",
    ("post", "/v1/patients"): "createPatient",
    ("get", "/v1/patients/{patient_id}"): "getPatient",
    ("post", "/v1/patients/{patient_id}/care-team"): "addCareTeamMember",
    ("delete", "/v1/patients/{patient_id}/care-team/{user_id}"): "removeCareTeamMember",
    ("post", "/v1/patients/{patient_id}/enrollment"): "issueEnrollmentCode",
    ("get", "/v1/questionnaires"): "listQuestionnaires",
    ("get", "/v1/questionnaires/{key}"): "getQuestionnaire",
    ("get", "/v1/patients/{patient_id}/check-ins"): "listCheckIns",
    ("post", "/v1/patients/{patient_id}/check-ins"): "submitCheckIn",
    ("post", "/v1/patients/{patient_id}/check-ins/batch"): "submitCheckInBatch",
    ("get", "/v1/check-ins/{check_in_id}"): "getCheckIn",
    ("post", "/v1/check-ins/{check_in_id}/entered-in-error"): "markCheckInEnteredInError",
    ("get", "/v1/alerts"): "listAlerts",
    ("post", "/v1/alerts/{alert_id}/acknowledge"): "acknowledgeAlert",
    ("post", "/v1/alerts/{alert_id}/resolve"): "resolveAlert",
    ("get", "/v1/patients/{patient_id}/courses"): "listCourses",
    ("post", "/v1/patients/{patient_id}/courses"): "createCourse",
    ("get", "/v1/courses/{course_id}"): "getCourse",
    ("patch", "/v1/courses/{course_id}"): "updateCourse",
    ("get", "/v1/courses/{course_id}/infusions"): "listInfusions",
    ("post", "/v1/courses/{course_id}/infusions"): "createInfusion",
    ("get", "/v1/infusions/{infusion_id}"): "getInfusion",
    ("patch", "/v1/infusions/{infusion_id}"): "updateInfusion",
    ("get", "/v1/patients/{patient_id}/due"): "getDue",
    ("get", "/v1/patients/{patient_id}/trends/{questionnaire}"): "getTrend",
    ("get", "/v1/patients/{patient_id}/summary"): "getSummary",
    ("get", "/v1/patients/{patient_id}/report"): "getReport",
    ("get", "/v1/patients/{patient_id}/fhir"): "exportPatientFhir",
    ("get", "/v1/fhir/Questionnaire/{key}"): "getFhirQuestionnaire",
    ("get", "/v1/clinics/{clinic_id}"): "getClinic",
    ("patch", "/v1/clinics/{clinic_id}"): "updateClinic",
    ("get", "/v1/clinics/{clinic_id}/staff"): "listStaff",
    ("post", "/v1/clinics/{clinic_id}/staff"): "inviteStaff",
    ("get", "/v1/clinics/{clinic_id}/staff/{user_id}"): "getStaffMember",
    ("patch", "/v1/clinics/{clinic_id}/staff/{user_id}"): "updateStaffMember",
    ("get", "/v1/clinics/{clinic_id}/outcomes"): "getClinicOutcomes",
    ("get", "/v1/audit-events"): "listAuditEvents",
    ("get", "/healthz"): "getHealth",
    ("get", "/readyz"): "getReadiness",
}

# Captured by `interval openapi examples` (api/examples.py): operationId → {"request": body,
# "responses": {status: {media type: body}}}.
EXAMPLES_PATH = Path(__file__).resolve().parent / "openapi_examples.json"


def load_examples() -> dict[str, dict]:
    return json.loads(EXAMPLES_PATH.read_text()) if EXAMPLES_PATH.exists() else {}


# Operations whose answers carry the resource's version as an ETag (for If-Match).
VERSIONED = {"createCourse", "getCourse", "updateCourse"} | {
    "createInfusion",
    "getInfusion",
    "updateInfusion",
}

# A repeated check-in answers 200 with where the stored copy lives.
CONTENT_LOCATION = {("submitCheckIn", "200")}

# Every enumeration, named once in the document, so a generated client has one type for each.
# A field is matched by its set of values, or names its enumeration (`enum_name` metadata) when
# the values come from the questionnaire definitions.
ENUMS: dict[str, tuple[str, ...]] = {
    "Phase": PHASES,
    "InfusionPhase": ("induction", "maintenance"),
    "InfusionStatus": ("scheduled", "completed", "cancelled"),
    "NewInfusionStatus": ("scheduled", "completed"),
    "CourseStatus": ("active", "completed"),
    "Indication": INDICATIONS,
    "SideEffect": SIDE_EFFECTS,
    "PlanRuleType": RULE_TYPES,
    "DueStatus": ("overdue", "due", "upcoming", "done"),
    "CheckInStatus": ("final", "entered_in_error"),
    "CheckInSource": ("patient", "clinic"),
    "BaselineSource": ("pre_infusion", "first_available"),
    "ReliableChange": ("improved", "deteriorated", "none"),
    "SignalKind": ("early_non_improvement", "waning", "relapse"),
    "AlertKind": ALERT_KINDS,
    "AlertPriority": ALERT_PRIORITIES,
    "AlertStatus": ALERT_STATUSES,
    "Role": ROLES,
    "StaffRole": STAFF_ROLES,
    "PatientSort": ("newest", "attention"),
}
NAME_OF_VALUES = {frozenset(values): name for name, values in ENUMS.items()}


def registry_enums(registry: Registry) -> dict[str, tuple[str, ...]]:
    """The enumerations the questionnaire definitions give, in their order."""
    definitions = registry.all()
    return {
        "QuestionnaireKey": tuple(d.key for d in definitions),
        "Severity": tuple(dict.fromkeys(b.band for d in definitions for b in d.bands)),
        "FlagKey": tuple(dict.fromkeys(f.key for d in definitions for f in d.flags)),
    }


def plan_rule_variants(definition: dict, registry: Registry) -> dict[str, tuple[str, dict]]:
    """One schema per kind of rule, with the settings it takes (RULE_SETTINGS); an every_n_days
    rule asks each instrument at most as often as its definition allows (check_plan_rule)."""
    properties = definition["properties"]
    variants = {}
    for kind in RULE_TYPES:
        settings = RULE_SETTINGS[kind]
        variant: dict[str, Any] = {
            "type": "object",
            "properties": {
                "questionnaire": properties["questionnaire"],
                "type": {"type": "string", "const": kind},
                **{setting: properties[setting] for setting in settings},
            },
            "required": ["questionnaire", "type", *RULE_REQUIRES.get(kind, ())],
            "additionalProperties": False,
        }
        if kind == "every_n_days":
            variant["allOf"] = spacing_rules(registry)
        name = "".join(part.title() for part in kind.split("_")) + "Rule"
        variants[kind] = (name, variant)
    return variants


def spacing_rules(registry: Registry) -> list[dict]:
    """For each minimum interval the definitions set: `days` at least that, for those
    instruments, unless `allow_short_interval` is true."""
    by_interval: dict[int, list[str]] = {}
    for questionnaire in registry.all():
        if questionnaire.minimum_interval_days is not None:
            by_interval.setdefault(questionnaire.minimum_interval_days, []).append(
                questionnaire.key
            )
    return [
        {
            "if": {
                "properties": {
                    "questionnaire": {"enum": keys},
                    "allow_short_interval": {"not": {"const": True}},
                }
            },
            "then": {"properties": {"days": {"minimum": days}}},
        }
        for days, keys in sorted(by_interval.items())
    ]


def option_values(values: frozenset[int]) -> dict:
    """An item's option values: a range when they run without a gap (0–3), else each."""
    low, high = min(values), max(values)
    if len(values) == high - low + 1:
        return {"minimum": low, "maximum": high}
    return {"enum": sorted(values)}


def check_in_variants(definition: dict, registry: Registry) -> dict[str, tuple[str, dict]]:
    """One schema per questionnaire: its items, each with its option values, the scored ones
    required (api/domain/scoring.py validate_answers)."""
    properties = definition["properties"]
    variants = {}
    for questionnaire in registry.all():
        answers = {
            "type": "object",
            "description": "Item id → option value",
            "properties": {
                item.id: {"type": "integer", **option_values(item.values), "description": item.text}
                for item in questionnaire.items
            },
            "required": [item.id for item in questionnaire.items if item.scored],
            "additionalProperties": False,
        }
        key = questionnaire.key
        variants[key] = (
            f"CheckInSubmit{key.title()}",
            {
                "type": "object",
                "description": f"A {questionnaire.short_title} check-in",
                "properties": {
                    **properties,
                    "questionnaire": {"type": "string", "const": key},
                    "answers": answers,
                },
                "required": definition["required"],
                "additionalProperties": False,
            },
        )
    return variants


# Rules across fields of a new record (api/domain/courses.py infusion_problems); a change to a
# stored one that breaks them is a conflict with its state (409), which no schema can state.
CONDITIONS: dict[str, list[dict]] = {
    "InfusionCreate": [
        {
            "if": {"properties": {"status": {"const": "completed"}}},
            "then": {
                "required": ["administered_at", "dose_mg_per_kg"],
                "properties": {
                    "administered_at": {"type": "string"},
                    "dose_mg_per_kg": {"type": "number"},
                },
            },
        },
        {
            "if": {"properties": {"status": {"const": "scheduled"}}},
            "then": {
                "required": ["scheduled_for"],
                # Only an infusion given has the time it was given.
                "properties": {
                    "scheduled_for": {"type": "string"},
                    "administered_at": {"type": "null"},
                },
            },
        },
    ],
}

ROLE_NAMES = {"patient": "patients", "clinician": "clinicians", "clinic_admin": "clinic admins"}

HEADERS: dict[str, dict[str, Any]] = {
    "Location": {
        "description": "Where the created resource can be read",
        "schema": {"type": "string", "format": "uri-reference"},
    },
    "Content-Location": {
        "description": "Where the stored copy can be read",
        "schema": {"type": "string", "format": "uri-reference"},
    },
    "ETag": {
        "description": "The resource's version; send it back in If-Match to change it",
        "schema": {"type": "string", "pattern": '^"[0-9]+"$'},
    },
    "Link": {
        "description": 'The next page, `<url>; rel="next"`; absent on the last page',
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 0},
    },
}

# Errors any operation of a kind can answer, beyond those its route declares.
BODY_ERRORS = {
    "400": "BAD_REQUEST",  # a body that is not JSON
    "413": "REQUEST_ENTITY_TOO_LARGE",
    "415": "UNSUPPORTED_MEDIA_TYPE",
    "422": "UNPROCESSABLE_ENTITY",
}
SIGNED_IN_ERRORS = {"401": "UNAUTHORIZED", "403": "FORBIDDEN"}
DATABASE_ERRORS = {"503": "SERVICE_UNAVAILABLE"}


def who_may_call(policy: object) -> tuple[str, list[str]]:
    """A sentence for the description, and the roles for `x-roles`."""
    if policy == PUBLIC:
        return "Anyone may call this, signed in or not.", []
    roles = list(ROLE_NAMES) if policy == ANY_USER or not policy else list(policy)  # type: ignore[call-overload]
    names = ", ".join(ROLE_NAMES[role] for role in roles)
    return f"Who may call: {names} (each within their own records).", roles


class InterfacePlugin(BasePlugin):
    """Completes every operation of the document (see the module's docstring)."""

    def __init__(self, app) -> None:
        super().__init__()
        self.app = app

    def init_spec(self, spec) -> None:
        super().init_spec(spec)
        self.spec = spec
        self.enums = ENUMS | registry_enums(self.app.extensions["interval.questionnaires"])
        self.examples = load_examples()
        for name, header in HEADERS.items():
            spec.components.header(name, header)

        def document_field(converter, field, ret: dict, **kwargs) -> dict:
            documented = field.metadata.get("documented_as")
            if documented is not None:
                ret.clear()
                return copy.deepcopy(documented)
            return self.named_enum(field, ret)

        for plugin in spec.plugins:
            if hasattr(plugin, "converter"):
                plugin.converter.add_attribute_function(document_field)

    def schema_helper(self, name, definition, **kwargs) -> None:
        """Schemas the marshmallow ones cannot state: one variant per kind of plan rule and
        per questionnaire, each exact."""
        registry = self.app.extensions["interval.questionnaires"]
        if name in CONDITIONS:
            definition["allOf"] = copy.deepcopy(CONDITIONS[name])
        if name == "PlanRule":
            self._variants(definition, "type", plan_rule_variants(definition, registry))
        elif name == "CheckInSubmit":
            self._variants(definition, "questionnaire", check_in_variants(definition, registry))

    def _variants(self, definition: dict, discriminator: str, variants: dict) -> None:
        """Replace `definition` by oneOf the named variants, told apart by one property."""
        mapping = {}
        for value, (name, variant) in variants.items():
            self.spec.components.schema(name, variant)
            mapping[value] = f"#/components/schemas/{name}"
        description = definition.get("description")
        definition.clear()
        definition["oneOf"] = [{"$ref": ref} for ref in mapping.values()]
        definition["discriminator"] = {"propertyName": discriminator, "mapping": mapping}
        if description:
            definition["description"] = description

    def named_enum(self, field, ret: dict, **kwargs) -> dict:
        """A field of an enumeration refers to the enumeration's schema (nullable: anyOf it or
        null). An enumeration without a name stops the document's generation."""
        name = field.metadata.get("enum_name")
        values = [v for v in ret.get("enum", []) if v is not None]
        if name is None and not values:
            return {}
        if name is None:
            name = NAME_OF_VALUES.get(frozenset(values))
            if name is None:
                raise ValueError(f"Name this enumeration in api/spec.py ENUMS: {values}")
        if name not in self.spec.components.schemas:
            self.spec.components.schema(name, {"type": "string", "enum": list(self.enums[name])})
        nullable = field.allow_none
        for key in ("enum", "type"):
            ret.pop(key, None)
        reference = {"$ref": f"#/components/schemas/{name}"}
        return {"anyOf": [reference, {"type": "null"}]} if nullable else reference

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        rule = kwargs["rule"]
        for method, operation in (operations or {}).items():
            operation_id = OPERATION_IDS[(method, path)]
            operation["operationId"] = operation_id
            policy = route_policy(self.app, rule.endpoint, method.upper())
            sentence, roles = who_may_call(policy)
            description = operation.get("description")
            operation["description"] = f"{description}\n\n{sentence}" if description else sentence
            operation["x-roles"] = roles
            responses = operation.setdefault("responses", {})
            self._errors(operation, responses, policy, path)
            self._headers(operation_id, responses)
            self._examples(operation, self.examples.get(operation_id, {}))
            # In status order, the catch-all last.
            operation["responses"] = dict(sorted(responses.items(), key=lambda r: str(r[0])))

    def _errors(self, operation: dict, responses: dict, policy: object, path: str) -> None:
        extra = dict(DATABASE_ERRORS) if path != "/healthz" else {}
        if "requestBody" in operation:
            extra |= BODY_ERRORS
        if any(p.get("in") == "query" for p in operation.get("parameters", [])):
            extra["422"] = "UNPROCESSABLE_ENTITY"
        if policy != PUBLIC:
            extra |= SIGNED_IN_ERRORS
        if "{" in path:
            extra["404"] = "NOT_FOUND"
        for status, name in extra.items():
            responses.setdefault(status, name)

    def _examples(self, operation: dict, captured: dict) -> None:
        """The captured request body and successful answers, beside their schemas."""
        if "request" in captured and "requestBody" in operation:
            for media in operation["requestBody"].get("content", {}).values():
                media["example"] = captured["request"]
        for status, response in operation["responses"].items():
            answers = captured.get("responses", {}).get(str(status), {})
            if not isinstance(response, dict):
                continue  # a component, with its own example
            for media_type, media in response.get("content", {}).items():
                if media_type in answers:
                    media["example"] = answers[media_type]

    def _headers(self, operation_id: str, responses: dict) -> None:
        for status, response in responses.items():
            if not isinstance(response, dict):
                continue  # a component, documented once
            headers = response.setdefault("headers", {})
            if str(status) == "201":
                headers["Location"] = {"$ref": "#/components/headers/Location"}
            if (operation_id, str(status)) in CONTENT_LOCATION:
                headers["Content-Location"] = {"$ref": "#/components/headers/Content-Location"}
            if str(status).startswith("2") and operation_id in VERSIONED:
                headers["ETag"] = {"$ref": "#/components/headers/ETag"}
            schema = (response.get("content", {}).get("application/json") or {}).get("schema")
            if isinstance(schema, dict) and schema.get("$ref", "").endswith("Page"):
                headers["Link"] = {"$ref": "#/components/headers/Link"}
            if not headers:
                del response["headers"]
