"""The shipped definitions: wording word for word, numbers as published, examples as stated."""

from __future__ import annotations

import pytest

from api.domain.registry import load_registry
from api.domain.scoring import score, validate_answers
from tests.questionnaires.clinical_reference import (
    DIFFICULTY,
    FREQUENCY,
    FREQUENCY_LOINC,
    PCL5_OPTIONS,
    REFERENCE,
)

REGISTRY = load_registry()
EXAMPLES = [
    pytest.param(definition, example, id=f"{definition.key}: {example.name}")
    for definition in REGISTRY.all()
    for example in definition.examples
]


def test_the_four_instruments_ship():
    assert REGISTRY.keys == ["gad7", "pain", "pcl5", "phq9"]


@pytest.mark.parametrize("definition,example", EXAMPLES)
def test_worked_example(definition, example):
    validate_answers(definition, example.answers)
    result = score(definition, example.answers)
    assert result.total == example.expect["total"]
    assert result.severity == example.expect["severity"]
    assert result.subscales == dict(example.expect["subscales"] or {})
    assert list(result.flags) == list(example.expect["flags"] or [])


@pytest.mark.parametrize("key", sorted(REFERENCE))
def test_item_wording_is_word_for_word(key):
    definition, reference = REGISTRY.get(key), REFERENCE[key]
    scored = {item.id: item for item in definition.scored_items}
    assert set(scored) == set(reference["items"])
    for item_id, (text, code) in reference["items"].items():
        assert scored[item_id].text == text
        assert code in (scored[item_id].loinc, scored[item_id].cluster)
    assert definition.instructions == reference.get("instructions")
    assert definition.stem == reference.get("stem")


@pytest.mark.parametrize("key", ["phq9", "gad7"])
def test_frequency_options_and_difficulty_item(key):
    definition, reference = REGISTRY.get(key), REFERENCE[key]
    for item in definition.scored_items:
        assert [(o.value, o.label) for o in item.options] == FREQUENCY
        assert [o.loinc for o in item.options] == FREQUENCY_LOINC
    optional_id, optional_text = reference["optional"]
    optional = definition.item(optional_id)
    assert optional.text == optional_text and not optional.scored
    assert [(o.value, o.label) for o in optional.options] == DIFFICULTY


def test_pcl5_options_and_clusters():
    definition = REGISTRY.get("pcl5")
    for item in definition.items:
        assert [(o.value, o.label) for o in item.options] == PCL5_OPTIONS
    clusters = {s.key: set(s.items) for s in definition.subscales}
    expected = {}
    for item_id, (_, cluster) in REFERENCE["pcl5"]["items"].items():
        expected.setdefault(cluster, set()).add(item_id)
    assert clusters == expected


def test_pain_scale_anchors():
    item = REGISTRY.get("pain").item("1")
    assert [o.value for o in item.options] == list(range(11))
    labels = {o.value: o.label for o in item.options}
    for value, anchor in REFERENCE["pain"]["anchors"].items():
        assert labels[value] == anchor


@pytest.mark.parametrize("key", sorted(REFERENCE))
def test_range_and_bands(key):
    definition, reference = REGISTRY.get(key), REFERENCE[key]
    assert (definition.score_min, definition.score_max) == reference["range"]
    assert [(b.min, b.max, b.band) for b in definition.bands] == reference["bands"]


@pytest.mark.parametrize("key", sorted(REFERENCE))
def test_change_thresholds_and_loinc(key):
    definition, reference = REGISTRY.get(key), REFERENCE[key]
    change = definition.change
    if "response" in reference:
        assert change["response"]["percent"] == reference["response"]
    else:
        assert change["response"]["points"] == reference["response_points"]
    assert change["response"]["min_baseline"] in (reference["min_baseline"], 0)
    if "remission_below" in reference:
        assert change["remission"]["below"] == reference["remission_below"]
        assert change["remission"]["min_baseline"] == reference["min_baseline"]
    else:
        assert change["remission"] is None
    if reference["reliable_change"] is None:
        assert change["reliable_change"] is None
    else:
        assert change["reliable_change"]["points"] == reference["reliable_change"]
        assert change["reliable_change"]["source"]
    sustained = change.get("sustained_deterioration")
    if "sustained_deterioration" in reference:
        assert {k: sustained[k] for k in ("ratings", "distinct_days", "points")} == reference[
            "sustained_deterioration"
        ]
        assert sustained["source"]
    else:
        assert sustained is None
    assert change["mcid"]["points"] == reference["mcid"]
    assert definition.minimum_interval_days == reference["minimum_interval_days"]
    assert (definition.loinc["panel"], definition.loinc["total"]) == reference["loinc"]
    for name in ("response", "mcid"):
        assert change[name]["source"]


def test_pcl5_cutoff_labels_say_they_were_validated_on_the_past_month_form():
    labels = [band.label for band in REGISTRY.get("pcl5").bands]
    assert labels == [
        "Below the cut-off; validated on the past-month form",
        "At or above the cut-off; validated on the past-month form",
    ]
    assert "PTSD" not in " ".join(labels)


def test_pain_bands_say_they_are_a_convention():
    source = REGISTRY.get("pain").severity_source
    assert "not a validated standard" in source and "Serlin et al. 1995" in source


def test_pcl5_loinc_is_marked_as_another_recall_period():
    assert REGISTRY.get("pcl5").loinc["matches_recall_period"] is False


def test_an_item_is_found_by_its_id_and_an_unknown_id_finds_none():
    phq9 = REGISTRY["phq9"]
    assert phq9.item("9").text == phq9.items[8].text
    assert phq9.item("11") is None


def test_only_phq9_item_9_is_a_safety_flag():
    safety = [(d.key, f.key, f.rule) for d in REGISTRY.all() for f in d.flags if f.safety]
    assert safety == [
        ("phq9", "suicidal_ideation", {"type": "item_at_least", "item": "9", "value": 1})
    ]


def test_alert_thresholds():
    rules = {(d.key, a.kind): (a.priority, a.when) for d in REGISTRY.all() for a in d.alerts}
    assert rules == {
        ("phq9", "suicidal_ideation"): ("urgent", {"flag": "suicidal_ideation"}),
        ("phq9", "severe_symptoms"): ("high", {"total_at_least": 20}),
        ("gad7", "severe_symptoms"): ("high", {"total_at_least": 15}),
    }
