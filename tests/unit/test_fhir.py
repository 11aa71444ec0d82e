"""The FHIR export's pure parts, with no database: which items become Observations of their
own, what an Observation is named, and a stored band the definition no longer names."""

from __future__ import annotations

import copy
import datetime as dt
import uuid

from api.domain import fhir
from api.domain.questionnaires import parse
from api.domain.registry import load_registry
from api.models import CheckIn

REGISTRY = load_registry()
CODES = fhir.Codes("https://interval.example/v1/fhir")
SUBJECT = {"reference": "urn:uuid:8d0f7c1e-3f55-4a8e-9d3c-1b2a3c4d5e6f"}
CHECK_IN_ID = uuid.UUID("0b7c6a52-2f7e-4c1b-9a53-6d1c2e3f4a5b")
# The namespace every Observation id has been derived in since the first export.
OBSERVATION_NAMESPACE = uuid.UUID("5b1c4a8e-8f0e-4d39-9a57-2f1f0d6c1e21")


def check_in(severity: str = "mild", **answers: int) -> CheckIn:
    at = dt.datetime(2026, 10, 5, 14, 0, tzinfo=dt.UTC)
    return CheckIn(
        id=CHECK_IN_ID,
        questionnaire="phq9",
        questionnaire_version=REGISTRY["phq9"].version,
        status="final",
        answers={str(i): answers.get(f"i{i}", 0) for i in range(1, 10)},
        total=sum(answers.values()),
        severity=severity,
        subscales={},
        flags=["suicidal_ideation"] if answers.get("i9") else [],
        completed_at=at,
        completed_offset_minutes=0,
        received_at=at,
        entered_in_error_at=None,
        source="patient",
    )


def exported(found: CheckIn) -> list[dict]:
    definition = REGISTRY["phq9"]
    response = fhir.questionnaire_response(CODES, found, definition, SUBJECT)
    observations = [fhir.total_observation(CODES, found, definition, SUBJECT, response)]
    for item, flag in fhir.safety_items(definition):
        observations.append(
            fhir.item_observation(CODES, found, definition, item, flag, SUBJECT, response)
        )
    return observations


def test_each_observation_keeps_the_id_every_earlier_export_gave_it():
    total, item_9 = exported(check_in(i1=2, i9=1))
    assert total["id"] == str(uuid.uuid5(OBSERVATION_NAMESPACE, f"{CHECK_IN_ID}/total"))
    assert item_9["id"] == str(uuid.uuid5(OBSERVATION_NAMESPACE, f"{CHECK_IN_ID}/item/9"))


def test_a_stored_band_the_definition_no_longer_names_is_exported_by_its_key():
    [total, _] = exported(check_in(severity="retired_band", i1=2))
    severity = total["interpretation"][0]
    assert severity["text"] == "retired_band"
    assert severity["coding"][0] == {
        "system": "https://interval.example/v1/fhir/CodeSystem/phq9-severity",
        "code": "retired_band",
    }


def test_only_safety_flags_on_one_item_become_observations_of_their_own():
    raw = copy.deepcopy(REGISTRY["phq9"].raw)
    raw["flags"].insert(
        0,
        {
            "key": "low_interest",
            "label": "Little interest (item 1)",
            "rule": {"type": "item_at_least", "item": "1", "value": 1},
            "safety": False,
            "source": "A test flag.",
        },
    )
    definition = parse(raw)
    assert [(item.id, flag.key) for item, flag in fhir.safety_items(definition)] == [
        ("9", "suicidal_ideation")
    ]
