"""Scoring: pure functions of (definition, answers), exactly as each instrument publishes it."""

from __future__ import annotations

import math
from dataclasses import dataclass

from api.domain.questionnaires import Definition, Flag, QuestionnaireError, require


class AnswerError(ValueError):
    """Answers that cannot be scored; `errors` maps "answers.<item>" to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("invalid answers")
        self.errors = errors


@dataclass(frozen=True)
class Score:
    total: int
    severity: str
    subscales: dict[str, int]
    flags: tuple[str, ...]


def validate_answers(definition: Definition, answers: dict) -> None:
    """Every scored item present with one of its option values; no unknown items; optional
    items, when given, valid too. Booleans and floats are not integers here."""
    errors: dict[str, list[str]] = {}
    known = {item.id: item for item in definition.items}
    for item_id in answers:
        if item_id not in known:
            errors[f"answers.{item_id}"] = [f"Unknown item for {definition.key}."]
    for item in definition.items:
        path = f"answers.{item.id}"
        if item.id not in answers:
            if item.scored:
                errors[path] = ["Required: every scored item must be answered."]
            continue
        value = answers[item.id]
        if type(value) is not int:
            errors[path] = ["Must be a whole number."]
        elif value not in item.values:
            errors[path] = [f"Must be one of {sorted(item.values)}."]
    if errors:
        raise AnswerError(errors)


def _flag_raised(flag: Flag, answers: dict[str, int], definition: Definition) -> bool:
    rule = flag.rule
    if rule["type"] == "item_at_least":
        return answers[str(rule["item"])] >= rule["value"]
    # subscale_items_at_least: enough items endorsed (>= value) in every named subscale.
    subscales = {s.key: s for s in definition.subscales}
    return all(
        sum(1 for item_id in subscales[key].items if answers[item_id] >= rule["value"]) >= needed
        for key, needed in rule["minimum"].items()
    )


def score(definition: Definition, answers: dict[str, int]) -> Score:
    """Total, severity band, subscale sums and raised flags. Answers must already be valid."""
    total = sum(answers[item.id] for item in definition.scored_items)
    subscales = {s.key: sum(answers[item_id] for item_id in s.items) for s in definition.subscales}
    flags = tuple(f.key for f in definition.flags if _flag_raised(f, answers, definition))
    return Score(total, definition.band_for(total).band, subscales, flags)


def safety_flags(definition: Definition, flags: tuple[str, ...] | list[str]) -> list[str]:
    """The raised flags that need crisis resources shown at once."""
    safety = {f.key for f in definition.flags if f.safety}
    return [flag for flag in flags if flag in safety]


def level(value: object) -> float | None:
    """An answer read as loosely as a person would: 2, 2.0, "2", true (1)."""
    if isinstance(value, bool | int):
        return float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def endorsed_safety_flags(definition: Definition, answers: object) -> list[str]:
    """Safety flags that refused answers endorse, read loosely: other items may be missing or
    invalid, and the item itself may be a string, a float or above its range. A refusal must
    err on the side of showing crisis information."""
    if not isinstance(answers, dict):
        return []
    endorsed = []
    for flag in definition.flags:
        if not flag.safety or flag.rule["type"] != "item_at_least":
            continue
        answer = level(answers.get(str(flag.rule["item"])))
        if answer is not None and answer >= flag.rule["value"]:
            endorsed.append(flag.key)
    return endorsed


def check_examples(definition: Definition) -> None:
    """Every worked example of the definition scores as the file says."""
    for example in definition.examples:
        try:
            validate_answers(definition, example.answers)
        except AnswerError as error:
            raise QuestionnaireError(f"example {example.name!r}: {error.errors}") from error
        result = score(definition, example.answers)
        got = {
            "total": result.total,
            "severity": result.severity,
            "subscales": result.subscales,
            "flags": list(result.flags),
        }
        expected = {
            "total": example.expect["total"],
            "severity": example.expect["severity"],
            "subscales": dict(example.expect.get("subscales") or {}),
            "flags": list(example.expect.get("flags") or []),
        }
        require(got == expected, f"example {example.name!r} scores {got}, the file says {expected}")
