"""Property-based tests of scoring, against independent restatements of the published rules."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.domain.registry import load_registry
from api.domain.scoring import AnswerError, score, validate_answers

REGISTRY = load_registry()
CLUSTERS = {"B": range(1, 6), "C": range(6, 8), "D": range(8, 15), "E": range(15, 21)}


def answers_for(key: str, with_optional: bool = False):
    definition = REGISTRY.get(key)
    items = [i for i in definition.items if i.scored or with_optional]
    return st.fixed_dictionaries({i.id: st.sampled_from(sorted(i.values)) for i in items})


@pytest.mark.parametrize("key", REGISTRY.keys)
@given(data=st.data())
def test_total_is_the_sum_of_scored_items(key, data):
    definition = REGISTRY.get(key)
    answers = data.draw(answers_for(key, with_optional=data.draw(st.booleans())))
    validate_answers(definition, answers)
    expected = sum(v for k, v in answers.items() if definition.item(k).scored)
    assert score(definition, answers).total == expected


@pytest.mark.parametrize("key", REGISTRY.keys)
def test_severity_at_every_total(key):
    definition = REGISTRY.get(key)
    for total in range(definition.score_min, definition.score_max + 1):
        [band] = [b for b in definition.bands if b.min <= total <= b.max]
        assert definition.band_for(total) == band
    edges = [(b.min, b.max) for b in definition.bands]
    assert edges[0][0] == definition.score_min and edges[-1][1] == definition.score_max
    assert all(a[1] + 1 == b[0] for a, b in itertools.pairwise(edges))


@given(answers=answers_for("phq9"))
def test_phq9_bands_and_item_9(answers):
    result = score(REGISTRY.get("phq9"), answers)
    total = sum(answers[str(i)] for i in range(1, 10))
    expected_band = (
        "minimal"
        if total <= 4
        else "mild"
        if total <= 9
        else "moderate"
        if total <= 14
        else "moderately_severe"
        if total <= 19
        else "severe"
    )
    assert result.severity == expected_band
    assert ("suicidal_ideation" in result.flags) == (answers["9"] >= 1)


@given(answers=answers_for("pcl5"))
def test_pcl5_clusters_sum_to_total_and_dsm5_rule(answers):
    result = score(REGISTRY.get("pcl5"), answers)
    sums = {c: sum(answers[str(i)] for i in items) for c, items in CLUSTERS.items()}
    assert result.subscales == sums
    assert sum(result.subscales.values()) == result.total
    endorsed = {c: sum(answers[str(i)] >= 2 for i in items) for c, items in CLUSTERS.items()}
    met = endorsed["B"] >= 1 and endorsed["C"] >= 1 and endorsed["D"] >= 2 and endorsed["E"] >= 2
    assert ("dsm5_criteria_met" in result.flags) == met
    assert result.severity == ("above_cutoff" if result.total >= 33 else "below_cutoff")


@pytest.mark.parametrize(
    "cluster,count,met",
    [
        ("B", 0, False),
        ("B", 1, True),
        ("C", 0, False),
        ("C", 1, True),
        ("D", 1, False),
        ("D", 2, True),
        ("E", 1, False),
        ("E", 2, True),
    ],
)
def test_dsm5_rule_at_its_edges(cluster, count, met):
    needed = {"B": 1, "C": 1, "D": 2, "E": 2}
    answers = {str(i): 0 for i in range(1, 21)}
    for name, items in CLUSTERS.items():
        endorse = count if name == cluster else needed[name]
        for i in list(items)[:endorse]:
            answers[str(i)] = 2
        # "A little bit" (1) never counts as endorsed.
        for i in list(items)[endorse:]:
            answers[str(i)] = 1
    assert ("dsm5_criteria_met" in score(REGISTRY.get("pcl5"), answers).flags) == met


@pytest.mark.parametrize("key", REGISTRY.keys)
@given(data=st.data())
def test_any_missing_scored_item_is_refused(key, data):
    definition = REGISTRY.get(key)
    answers = data.draw(answers_for(key))
    missing = data.draw(st.sampled_from(sorted(answers)))
    del answers[missing]
    with pytest.raises(AnswerError) as refused:
        validate_answers(definition, answers)
    assert f"answers.{missing}" in refused.value.errors


@pytest.mark.parametrize("key", REGISTRY.keys)
@given(data=st.data())
def test_out_of_range_or_non_integer_values_are_refused(key, data):
    definition = REGISTRY.get(key)
    answers = data.draw(answers_for(key))
    target = data.draw(st.sampled_from(sorted(answers)))
    item = definition.item(target)
    answers[target] = data.draw(
        st.one_of(
            st.integers().filter(lambda v: v not in item.values),
            st.floats(allow_nan=False),
            st.text(),
            st.booleans(),
            st.none(),
        )
    )
    with pytest.raises(AnswerError) as refused:
        validate_answers(definition, answers)
    assert f"answers.{target}" in refused.value.errors
