"""What a patient reads about their own progress, in one place a clinician can review.

One short sentence per instrument: never alarming, never about a single item (PHQ-9 item 9) or
about signals, hopeful where the numbers allow and neutral where they do not. A higher score is
worse on every instrument here, so "lower" is better. Each case is tested word for word in
tests/unit/test_wording.py.
"""

from __future__ import annotations

from api.domain.questionnaires import Definition

# What the instrument is called in a sentence, and what its number is called.
NAMES = {
    "phq9": ("PHQ-9", "score"),
    "gad7": ("GAD-7", "score"),
    "pcl5": ("PCL-5", "score"),
    "pain": ("pain", "rating"),
}

# {name}: PHQ-9, pain; {noun}: score, rating; {points}: "11 points"; {than}: what the baseline was.
SENTENCES = {
    "none_yet": "No {name} check-ins yet. Your care team will let you know when one is due.",
    "no_baseline": (
        "Your {name} answers are saved. Keep checking in so your care team can see how you are "
        "doing over time."
    ),
    "starting_point": (
        "Your latest {name} check-in is your starting point for this course. Your next check-ins "
        "will show how things change."
    ),
    "meaningfully_lower": (
        "Your {name} {noun} is {points} lower than {than} — a meaningful improvement."
    ),
    "lower": (
        "Your {name} {noun} is {points} lower than {than}. Keep checking in so your care team "
        "can follow your progress."
    ),
    "same": (
        "Your {name} {noun} is the same as {than}. Your care team reviews every check-in and "
        "can talk it through with you."
    ),
    "higher": (
        "Your {name} {noun} is {points} higher than {than}. Your care team reviews every "
        "check-in and can talk it through with you."
    ),
}
BEFORE_TREATMENT = "before treatment"
FIRST_CHECK_IN = "at your first check-in of this course"


def points(n: int) -> str:
    return "1 point" if n == 1 else f"{n} points"


def case_of(
    definition: Definition, baseline: int | None, latest: int | None, followed_up: bool
) -> str:
    """Which sentence fits: a key of SENTENCES."""
    if latest is None:
        return "none_yet"
    if baseline is None:
        return "no_baseline"
    if not followed_up:
        return "starting_point"
    fall = baseline - latest
    mcid = (definition.change.get("mcid") or {}).get("points")
    if fall > 0:
        return "meaningfully_lower" if mcid is not None and fall >= mcid else "lower"
    return "same" if fall == 0 else "higher"


def progress_sentence(
    definition: Definition,
    *,
    baseline: int | None,
    latest: int | None,
    followed_up: bool,
    before_treatment: bool = True,
) -> str:
    """The sentence for an instrument from its `baseline` total to its `latest` one, with
    `followed_up` when a check-in was completed after the baseline; `before_treatment` says whether
    the baseline was taken before the first infusion."""
    name, noun = NAMES.get(definition.key, (definition.short_title, "score"))
    fall = (baseline or 0) - (latest or 0)
    return SENTENCES[case_of(definition, baseline, latest, followed_up)].format(
        name=name,
        noun=noun,
        points=points(abs(fall)),
        than=BEFORE_TREATMENT if before_treatment else FIRST_CHECK_IN,
    )
