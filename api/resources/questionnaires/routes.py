"""Questionnaire definitions: what the app needs to render a form."""

from __future__ import annotations

from api.context import questionnaire_registry
from api.domain.errors import NotFound
from api.domain.questionnaires import Definition
from api.resources.pagination import page_schema, whole
from api.resources.questionnaires.schemas import QuestionnaireSchema, QuestionnaireSummarySchema
from api.smorest import Blueprint

blp = Blueprint(
    "questionnaires",
    __name__,
    url_prefix="/v1/questionnaires",
    description="Instrument definitions",
)
# Public definitions, not patient data: clients may cache them briefly.
PUBLIC_CACHE_HEADERS = {"Cache-Control": "public, max-age=300"}


def summary(definition: Definition) -> dict:
    return {
        "key": definition.key,
        "version": definition.version,
        "title": definition.title,
        "short_title": definition.short_title,
        "measures": definition.measures,
        "recall_period": definition.recall_period,
        "item_count": len(definition.items),
    }


def detail(definition: Definition) -> dict:
    return {
        **summary(definition),
        "instructions": definition.instructions,
        "stem": definition.stem,
        "items": [
            {
                "id": item.id,
                "text": item.text,
                "scored": item.scored,
                "required": item.scored,
                "options": [vars(option) for option in item.options],
                "loinc": item.loinc,
                "cluster": item.cluster,
            }
            for item in definition.items
        ],
        "scoring": {
            "method": definition.scoring["method"],
            "min": definition.score_min,
            "max": definition.score_max,
            "missing_items": definition.scoring["missing_items"],
            "severity_source": definition.severity_source,
            "bands": [vars(band) for band in definition.bands],
            "subscales": [vars(subscale) for subscale in definition.subscales],
            "flags": [vars(flag) for flag in definition.flags],
        },
        "change": definition.change,
        "loinc": definition.loinc,
        "licence": definition.licence,
    }


@blp.route("", methods=["GET"])
@blp.public
@blp.response(200, page_schema(QuestionnaireSummarySchema, "QuestionnairePage"))
def list_questionnaires():
    """Every instrument the service scores"""
    return whole([summary(d) for d in questionnaire_registry().all()]), PUBLIC_CACHE_HEADERS


@blp.route("/<string:key>", methods=["GET"])
@blp.public
@blp.response(200, QuestionnaireSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_questionnaire(key: str):
    """One instrument: items, options, recall period, scoring rules, version"""
    definition = questionnaire_registry().get(key)
    if definition is None:
        raise NotFound("No such questionnaire.")
    return detail(definition), PUBLIC_CACHE_HEADERS
