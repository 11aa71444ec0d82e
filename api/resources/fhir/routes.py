"""FHIR R4 (PRODUCT.md §9): instrument definitions as Questionnaires, a patient's data as a
Bundle. Answers are `application/fhir+json` (or `application/json` when only that is
accepted)."""

from __future__ import annotations

import uuid

from flask import Response, current_app, json, request
from werkzeug.datastructures import MIMEAccept

from api.auditing import note
from api.auth import current_actor
from api.context import questionnaire_registry, request_session, rules
from api.db import utcnow
from api.domain import fhir
from api.domain.errors import NotAcceptable, NotFound
from api.resources.fhir.schemas import ExportArgsSchema
from api.resources.questionnaires.routes import PUBLIC_CACHE_HEADERS
from api.smorest import Blueprint, audited

blp = Blueprint("fhir", __name__, url_prefix="/v1", description="FHIR R4 interoperability")

FHIR_JSON = "application/fhir+json"
MEDIA_TYPES = (FHIR_JSON, "application/json")
SPECIFICATION = "https://hl7.org/fhir/R4/"


def resource_schema(resource_type: str, properties: dict, required: list[str]) -> dict:
    """The outline of a FHIR resource as JSON Schema: the fields clients read first; the rest
    is as HL7's R4 specification defines it."""
    return {
        "type": "object",
        "description": f"A FHIR R4 {resource_type} ({SPECIFICATION}{resource_type.lower()}.html)",
        "required": ["resourceType", *required],
        "properties": {"resourceType": {"type": "string", "enum": [resource_type]}, **properties},
        "additionalProperties": True,
    }


ANY_RESOURCE = {
    "type": "object",
    "required": ["resourceType", "id"],
    "properties": {"resourceType": {"type": "string"}, "id": {"type": "string"}},
    "additionalProperties": True,
}
QUESTIONNAIRE = resource_schema(
    "Questionnaire",
    {
        "id": {"type": "string"},
        "url": {"type": "string"},
        "version": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "string"},
        "item": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
    },
    ["id", "url", "version", "status", "item"],
)
BUNDLE = resource_schema(
    "Bundle",
    {
        "type": {"type": "string", "enum": ["collection"]},
        "timestamp": {"type": "string", "format": "date-time"},
        "entry": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["fullUrl", "resource"],
                "properties": {"fullUrl": {"type": "string"}, "resource": ANY_RESOURCE},
                "additionalProperties": False,
            },
        },
    },
    ["type", "timestamp", "entry"],
)


SCHEMAS = {"FhirQuestionnaire": QUESTIONNAIRE, "FhirBundle": BUNDLE}


def documented(description: str, schema_name: str) -> dict:
    schema = {"$ref": f"#/components/schemas/{schema_name}"}
    content = {media_type: {"schema": schema} for media_type in MEDIA_TYPES}
    return {"200": {"description": description, "content": content}}


def media_type() -> str:
    """The media type to answer in: FHIR's own unless only plain JSON is accepted. Parameters
    are ignored (`charset`, and `fhirVersion` when it names R4); a `fhirVersion` other than
    4.0 is not served."""
    accepted = request.accept_mimetypes
    if not accepted:
        return FHIR_JSON
    bare = []
    for value, quality in accepted:
        kind, *parameters = (part.strip() for part in value.split(";"))
        versions = [p.split("=", 1)[1] for p in parameters if p.startswith("fhirversion=")]
        if all(version.startswith("4.0") for version in versions):
            bare.append((kind, quality))
    chosen = MIMEAccept(bare).best_match(MEDIA_TYPES)
    if chosen is None:
        raise NotAcceptable(
            "FHIR resources are JSON, FHIR R4 (4.0).",
            errors={"Accept": [", ".join(MEDIA_TYPES)]},
        )
    return chosen


def fhir_response(resource: dict, chosen: str, headers: dict | None = None) -> Response:
    answer = Response(json.dumps(resource), mimetype=chosen, headers=headers)
    answer.vary.add("Accept")
    return answer


def codes() -> fhir.Codes:
    """Canonical URLs at the configured public address; without one, at this server's own
    (set INTERVAL_PUBLIC_BASE_URL in production so that they never change)."""
    base = current_app.config["PUBLIC_BASE_URL"] or request.host_url
    return fhir.Codes(f"{base.rstrip('/')}/v1/fhir")


@blp.route("/fhir/Questionnaire/<string:key>", methods=["GET"])
@blp.public
@blp.doc(responses=documented("The instrument as a FHIR R4 Questionnaire", "FhirQuestionnaire"))
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(406, response="NOT_ACCEPTABLE")
def get_fhir_questionnaire(key: str):
    """One instrument as a FHIR Questionnaire: wording, LOINC codes, ordinal answer values"""
    definition = questionnaire_registry().get(key)
    if definition is None:
        raise NotFound("No such questionnaire.")
    chosen = media_type()
    return fhir_response(fhir.questionnaire(codes(), definition), chosen, PUBLIC_CACHE_HEADERS)


@blp.route("/patients/<uuid:patient_id>/fhir", methods=["GET"])
@audited("fhir.export", "patient")
@blp.auth("patient", "clinician")
@blp.arguments(ExportArgsSchema, location="query")
@blp.doc(
    responses=documented(
        "A Bundle (collection): the Patient, a QuestionnaireResponse and Observations per "
        "check-in, a Procedure per completed infusion",
        "FhirBundle",
    )
)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(406, response="NOT_ACCEPTABLE")
def export_patient_fhir(args, patient_id: uuid.UUID):
    """A patient's scores, answers and infusions as a FHIR R4 Bundle for an EHR"""
    note(resource_id=patient_id, patient_ids=[patient_id])
    chosen = media_type()
    # Taken before reading: a client that passes it back as `_since` misses nothing committed
    # after the read began (check-ins committed by slower requests: see docs/decisions.md).
    now = utcnow()
    export = fhir.load(
        request_session(),
        rules(),
        actor=current_actor(),
        patient_id=patient_id,
        since=args["since"],
    )
    return fhir_response(fhir.bundle(codes(), export, now), chosen)
