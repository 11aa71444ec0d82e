"""Every sentence a patient can read about their progress, word for word."""

from __future__ import annotations

import pytest

from api.domain.registry import load_registry
from api.domain.wording import SENTENCES, progress_sentence

REGISTRY = load_registry()


@pytest.mark.parametrize(
    "key,baseline,latest,after,before_treatment,sentence",
    [
        (
            "phq9",
            None,
            None,
            0,
            True,
            "No PHQ-9 check-ins yet. Your care team will let you know when one is due.",
        ),
        (
            "gad7",
            None,
            8,
            0,
            True,
            "Your GAD-7 answers are saved. Keep checking in so your care team can see how you "
            "are doing over time.",
        ),
        (
            "phq9",
            19,
            19,
            0,
            True,
            "Your latest PHQ-9 check-in is your starting point for this course. Your next "
            "check-ins will show how things change.",
        ),
        (
            "phq9",
            19,
            8,
            3,
            True,
            "Your PHQ-9 score is 11 points lower than before treatment — a meaningful improvement.",
        ),
        (
            "phq9",
            19,
            15,
            2,
            True,
            "Your PHQ-9 score is 4 points lower than before treatment. Keep checking in so "
            "your care team can follow your progress.",
        ),
        (
            "pain",
            7,
            6,
            2,
            True,
            "Your pain rating is 1 point lower than before treatment. Keep checking in so "
            "your care team can follow your progress.",
        ),
        (
            "pain",
            7,
            5,
            2,
            False,
            "Your pain rating is 2 points lower than at your first check-in of this course — "
            "a meaningful improvement.",
        ),
        (
            "pcl5",
            40,
            40,
            1,
            True,
            "Your PCL-5 score is the same as before treatment. Your care team reviews every "
            "check-in and can talk it through with you.",
        ),
        (
            "gad7",
            10,
            14,
            1,
            True,
            "Your GAD-7 score is 4 points higher than before treatment. Your care team reviews "
            "every check-in and can talk it through with you.",
        ),
    ],
)
def test_sentence(key, baseline, latest, after, before_treatment, sentence):
    assert (
        progress_sentence(
            REGISTRY[key],
            baseline=baseline,
            latest=latest,
            followed_up=after > 0,
            before_treatment=before_treatment,
        )
        == sentence
    )


@pytest.mark.parametrize("text", SENTENCES.values())
def test_no_sentence_alarms_or_mentions_an_item_or_a_signal(text):
    lowered = text.lower()
    for word in ("item", "suicid", "signal", "warning", "alert", "danger", "relapse", "worse"):
        assert word not in lowered
