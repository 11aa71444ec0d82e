"""Questionnaire definitions: load and validate the files under questionnaires/; a registry."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_DIRECTORY = Path(__file__).resolve().parents[2] / "questionnaires"


class QuestionnaireError(ValueError):
    """A definition file is invalid; the message names the file and the problem."""


@dataclass(frozen=True)
class Option:
    value: int
    label: str
    loinc: str | None = None


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    options: tuple[Option, ...]
    option_set: str
    scored: bool
    loinc: str | None = None
    cluster: str | None = None

    @property
    def values(self) -> frozenset[int]:
        return frozenset(option.value for option in self.options)

    @property
    def max_value(self) -> int:
        return max(self.values)


@dataclass(frozen=True)
class Band:
    min: int
    max: int
    band: str
    label: str


@dataclass(frozen=True)
class Subscale:
    key: str
    label: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class Flag:
    key: str
    label: str
    rule: dict
    safety: bool
    source: str


@dataclass(frozen=True)
class AlertRule:
    kind: str
    priority: str
    when: dict


@dataclass(frozen=True)
class Example:
    name: str
    answers: dict[str, int]
    expect: dict


@dataclass(frozen=True)
class Definition:
    key: str
    version: str
    title: str
    short_title: str
    measures: str
    recall_period: dict
    instructions: str | None
    stem: str | None
    items: tuple[Item, ...]
    score_min: int
    score_max: int
    scoring: dict
    severity_source: str
    bands: tuple[Band, ...]
    subscales: tuple[Subscale, ...]
    flags: tuple[Flag, ...]
    alerts: tuple[AlertRule, ...]
    change: dict
    # At most one of this instrument in so many days (None: no limit); CLINICAL.md.
    minimum_interval_days: int | None
    loinc: dict
    licence: str
    examples: tuple[Example, ...]
    raw: dict = field(repr=False, compare=False)

    @property
    def scored_items(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.scored)

    def item(self, item_id: str) -> Item | None:
        return next((item for item in self.items if item.id == item_id), None)

    def band_for(self, total: int) -> Band:
        return next(band for band in self.bands if band.min <= total <= band.max)


ALERT_KINDS = {"suicidal_ideation", "severe_symptoms"}
PRIORITIES = {"urgent", "high"}
FLAG_RULES = {"item_at_least", "subscale_items_at_least"}
REQUIRED_KEYS = (
    "key",
    "version",
    "title",
    "short_title",
    "measures",
    "recall_period",
    "instructions",
    "option_sets",
    "items",
    "scoring",
    "severity",
    "subscales",
    "flags",
    "alerts",
    "change",
    "measurement",
    "loinc",
    "licence",
    "examples",
)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise QuestionnaireError(message)


def parse(raw: Any) -> Definition:
    """Build a Definition from a file's data, checking its structure and internal consistency."""
    _require(isinstance(raw, dict), "the file must hold a mapping")
    missing = [key for key in REQUIRED_KEYS if key not in raw]
    _require(not missing, f"missing keys: {', '.join(missing)}")
    option_sets = {
        name: tuple(Option(int(o["value"]), str(o["label"]), o.get("loinc")) for o in options)
        for name, options in raw["option_sets"].items()
    }
    for name, options in option_sets.items():
        values = [option.value for option in options]
        _require(len(values) == len(set(values)), f"option set {name!r} repeats a value")
    items = []
    for entry in raw["items"]:
        _require(
            entry.get("options") in option_sets,
            f"item {entry.get('id')!r} names unknown options {entry.get('options')!r}",
        )
        items.append(
            Item(
                id=str(entry["id"]),
                text=entry["text"],
                options=option_sets[entry["options"]],
                option_set=entry["options"],
                scored=bool(entry["scored"]),
                loinc=entry.get("loinc"),
                cluster=entry.get("cluster"),
            )
        )
    ids = [item.id for item in items]
    _require(len(ids) == len(set(ids)), "item ids are not unique")
    _require(any(item.scored for item in items), "no item is scored")
    scoring = raw["scoring"]
    _require(scoring.get("method") == "sum", f"unknown scoring method {scoring.get('method')!r}")
    score_min, score_max = int(scoring["range"]["min"]), int(scoring["range"]["max"])
    scored = [item for item in items if item.scored]
    _require(
        (score_min, score_max)
        == (sum(min(i.values) for i in scored), sum(i.max_value for i in scored)),
        f"scoring range {score_min}–{score_max} is not what the scored items can sum to",
    )
    bands = tuple(
        Band(int(b["min"]), int(b["max"]), b["band"], b["label"]) for b in raw["severity"]["bands"]
    )
    _check_bands(bands, score_min, score_max)
    subscales = tuple(
        Subscale(s["key"], s["label"], tuple(str(i) for i in s["items"])) for s in raw["subscales"]
    )
    scored_ids = {item.id for item in scored}
    for subscale in subscales:
        unknown = set(subscale.items) - scored_ids
        _require(
            not unknown,
            f"subscale {subscale.key} names unscored or unknown items {sorted(unknown)}",
        )
    flags = tuple(
        Flag(f["key"], f["label"], dict(f["rule"]), bool(f["safety"]), f["source"])
        for f in raw["flags"]
    )
    for flag in flags:
        _check_flag(flag, scored_ids, {s.key for s in subscales})
    alerts = tuple(AlertRule(a["kind"], a["priority"], dict(a["when"])) for a in raw["alerts"])
    for alert in alerts:
        _require(alert.kind in ALERT_KINDS, f"unknown alert kind {alert.kind!r}")
        _require(alert.priority in PRIORITIES, f"unknown alert priority {alert.priority!r}")
        flag_key = alert.when.get("flag")
        _require(
            flag_key is None or flag_key in {f.key for f in flags},
            f"alert {alert.kind} names unknown flag {flag_key!r}",
        )
    change = raw["change"]
    for name in ("response", "remission", "reliable_change", "mcid"):
        _require(name in change, f"change threshold {name!r} is missing (null if undefined)")
    for name, rule in change.items():
        _require(rule is None or rule.get("source"), f"change threshold {name!r} has no source")
    sustained = change.get("sustained_deterioration")
    if sustained is not None:
        for name in ("ratings", "distinct_days", "points"):
            _require(
                isinstance(sustained.get(name), int) and sustained[name] > 0,
                f"sustained_deterioration needs a positive whole {name}",
            )
    measurement = raw["measurement"]
    interval = measurement.get("minimum_interval_days")
    _require(
        interval is None or (isinstance(interval, int) and interval > 0),
        "measurement.minimum_interval_days must be a positive whole number or null",
    )
    _require(bool(measurement.get("source")), "measurement has no source")
    definition = Definition(
        key=raw["key"],
        version=str(raw["version"]),
        title=raw["title"],
        short_title=raw["short_title"],
        measures=raw["measures"],
        recall_period=raw["recall_period"],
        instructions=raw["instructions"],
        stem=raw.get("stem"),
        items=tuple(items),
        score_min=score_min,
        score_max=score_max,
        scoring=scoring,
        severity_source=raw["severity"]["source"],
        bands=bands,
        subscales=subscales,
        flags=flags,
        alerts=alerts,
        change=change,
        minimum_interval_days=interval,
        loinc=raw["loinc"],
        licence=raw["licence"],
        examples=tuple(
            Example(e["name"], {str(k): v for k, v in e["answers"].items()}, e["expect"])
            for e in raw["examples"]
        ),
        raw=raw,
    )
    _require(bool(definition.examples), "no worked examples")
    _check_examples(definition)
    return definition


def _check_bands(bands: tuple[Band, ...], low: int, high: int) -> None:
    _require(bool(bands), "no severity bands")
    expected = low
    for band in bands:
        _require(
            band.min == expected,
            f"severity band {band.band!r} starts at {band.min}, expected {expected}",
        )
        _require(band.max >= band.min, f"severity band {band.band!r} is empty")
        expected = band.max + 1
    _require(expected - 1 == high, f"severity bands end at {expected - 1}, the range at {high}")
    names = [band.band for band in bands]
    _require(len(names) == len(set(names)), "severity band names repeat")


def _check_flag(flag: Flag, scored_ids: set[str], subscale_keys: set[str]) -> None:
    rule_type = flag.rule.get("type")
    _require(rule_type in FLAG_RULES, f"flag {flag.key} has unknown rule {rule_type!r}")
    if rule_type == "item_at_least":
        _require(
            str(flag.rule["item"]) in scored_ids,
            f"flag {flag.key} names unknown item {flag.rule['item']!r}",
        )
    else:
        unknown = set(flag.rule["minimum"]) - subscale_keys
        _require(not unknown, f"flag {flag.key} names unknown subscales {sorted(unknown)}")


def _check_examples(definition: Definition) -> None:
    from api.domain.scoring import AnswerError, score, validate_answers

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
        _require(
            got == expected, f"example {example.name!r} scores {got}, the file says {expected}"
        )


def load_file(path: Path) -> Definition:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        definition = parse(raw)
    except QuestionnaireError as error:
        raise QuestionnaireError(f"{path.name}: {error}") from None
    except (yaml.YAMLError, KeyError, TypeError, ValueError) as error:
        raise QuestionnaireError(f"{path.name}: {type(error).__name__}: {error}") from None
    if definition.key != path.stem:
        raise QuestionnaireError(
            f"{path.name}: key {definition.key!r} does not match the file name"
        )
    return definition


class Registry:
    """Every definition, by key; the latest version of each is the one new check-ins use."""

    def __init__(self, definitions: list[Definition]):
        self._by_key = {d.key: d for d in definitions}

    def __contains__(self, key: str) -> bool:
        return key in self._by_key

    def get(self, key: str) -> Definition | None:
        return self._by_key.get(key)

    def find(self, key: str) -> Definition | None:
        """The definition for a key as a person might type it ("PHQ9 "), for leniency where
        strictness would hide something, never to accept a submission."""
        return self.get(key) or self.get(key.strip().lower())

    def all(self) -> list[Definition]:
        return sorted(self._by_key.values(), key=lambda d: d.key)

    @property
    def keys(self) -> list[str]:
        return sorted(self._by_key)


def load_registry(directory: Path = DEFAULT_DIRECTORY) -> Registry:
    """Load and validate every *.yaml file; refuse (QuestionnaireError) on the first problem."""
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise QuestionnaireError(f"{directory}: no questionnaire definitions found")
    return Registry([load_file(path) for path in paths])
