"""Questionnaire definitions: their structure, and the checks a definition file must pass.

Scoring the worked examples needs scoring.py, which needs these types: api/domain/registry.py
loads files, checks both and holds the result."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from api.models.alert import ALERT_KINDS, ALERT_PRIORITIES


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

    @cached_property
    def values(self) -> frozenset[int]:
        """The option values, worked out once (every answer of every check-in is checked)."""
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


def require(condition: bool, message: str) -> None:
    if not condition:
        raise QuestionnaireError(message)


def parse(raw: Any) -> Definition:
    """Build a Definition from a file's data, checking its structure and internal consistency."""
    require(isinstance(raw, dict), "the file must hold a mapping")
    missing = [key for key in REQUIRED_KEYS if key not in raw]
    require(not missing, f"missing keys: {', '.join(missing)}")
    items = _items(raw)
    scored = [item for item in items if item.scored]
    scoring = raw["scoring"]
    score_min, score_max = _score_range(scoring, scored)
    bands = tuple(
        Band(int(b["min"]), int(b["max"]), b["band"], b["label"]) for b in raw["severity"]["bands"]
    )
    _check_bands(bands, score_min, score_max)
    subscales = _subscales(raw, {item.id for item in scored})
    flags = _flags(raw, {item.id for item in scored}, subscales)
    definition = Definition(
        key=raw["key"],
        version=str(raw["version"]),
        title=raw["title"],
        short_title=raw["short_title"],
        measures=raw["measures"],
        recall_period=raw["recall_period"],
        instructions=raw["instructions"],
        stem=raw.get("stem"),
        items=items,
        score_min=score_min,
        score_max=score_max,
        scoring=scoring,
        severity_source=raw["severity"]["source"],
        bands=bands,
        subscales=subscales,
        flags=flags,
        alerts=_alerts(raw, flags),
        change=_change(raw),
        minimum_interval_days=_minimum_interval(raw),
        loinc=raw["loinc"],
        licence=raw["licence"],
        examples=tuple(
            Example(e["name"], {str(k): v for k, v in e["answers"].items()}, e["expect"])
            for e in raw["examples"]
        ),
        raw=raw,
    )
    require(bool(definition.examples), "no worked examples")
    return definition


def _items(raw: dict) -> tuple[Item, ...]:
    option_sets = {
        name: tuple(Option(int(o["value"]), str(o["label"]), o.get("loinc")) for o in options)
        for name, options in raw["option_sets"].items()
    }
    for name, options in option_sets.items():
        values = [option.value for option in options]
        require(len(values) == len(set(values)), f"option set {name!r} repeats a value")
    items = []
    for entry in raw["items"]:
        require(
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
    require(len(ids) == len(set(ids)), "item ids are not unique")
    require(any(item.scored for item in items), "no item is scored")
    return tuple(items)


def _score_range(scoring: dict, scored: list[Item]) -> tuple[int, int]:
    require(scoring.get("method") == "sum", f"unknown scoring method {scoring.get('method')!r}")
    score_min, score_max = int(scoring["range"]["min"]), int(scoring["range"]["max"])
    require(
        (score_min, score_max)
        == (sum(min(i.values) for i in scored), sum(i.max_value for i in scored)),
        f"scoring range {score_min}–{score_max} is not what the scored items can sum to",
    )
    return score_min, score_max


def _subscales(raw: dict, scored_ids: set[str]) -> tuple[Subscale, ...]:
    subscales = tuple(
        Subscale(s["key"], s["label"], tuple(str(i) for i in s["items"])) for s in raw["subscales"]
    )
    for subscale in subscales:
        unknown = set(subscale.items) - scored_ids
        require(
            not unknown,
            f"subscale {subscale.key} names unscored or unknown items {sorted(unknown)}",
        )
    return subscales


def _flags(raw: dict, scored_ids: set[str], subscales: tuple[Subscale, ...]) -> tuple[Flag, ...]:
    flags = tuple(
        Flag(f["key"], f["label"], dict(f["rule"]), bool(f["safety"]), f["source"])
        for f in raw["flags"]
    )
    for flag in flags:
        _check_flag(flag, scored_ids, {s.key for s in subscales})
    return flags


def _alerts(raw: dict, flags: tuple[Flag, ...]) -> tuple[AlertRule, ...]:
    alerts = tuple(AlertRule(a["kind"], a["priority"], dict(a["when"])) for a in raw["alerts"])
    for alert in alerts:
        require(alert.kind in ALERT_KINDS, f"unknown alert kind {alert.kind!r}")
        require(alert.priority in ALERT_PRIORITIES, f"unknown alert priority {alert.priority!r}")
        flag_key = alert.when.get("flag")
        require(
            flag_key is None or flag_key in {f.key for f in flags},
            f"alert {alert.kind} names unknown flag {flag_key!r}",
        )
    return alerts


def _change(raw: dict) -> dict:
    change = raw["change"]
    for name in ("response", "remission", "reliable_change", "mcid"):
        require(name in change, f"change threshold {name!r} is missing (null if undefined)")
    for name, rule in change.items():
        require(rule is None or rule.get("source"), f"change threshold {name!r} has no source")
    sustained = change.get("sustained_deterioration")
    if sustained is not None:
        for name in ("ratings", "distinct_days", "points"):
            require(
                isinstance(sustained.get(name), int) and sustained[name] > 0,
                f"sustained_deterioration needs a positive whole {name}",
            )
    return change


def _minimum_interval(raw: dict) -> int | None:
    measurement = raw["measurement"]
    interval = measurement.get("minimum_interval_days")
    require(
        interval is None or (isinstance(interval, int) and interval > 0),
        "measurement.minimum_interval_days must be a positive whole number or null",
    )
    require(bool(measurement.get("source")), "measurement has no source")
    return interval


def _check_bands(bands: tuple[Band, ...], low: int, high: int) -> None:
    require(bool(bands), "no severity bands")
    expected = low
    for band in bands:
        require(
            band.min == expected,
            f"severity band {band.band!r} starts at {band.min}, expected {expected}",
        )
        require(band.max >= band.min, f"severity band {band.band!r} is empty")
        expected = band.max + 1
    require(expected - 1 == high, f"severity bands end at {expected - 1}, the range at {high}")
    names = [band.band for band in bands]
    require(len(names) == len(set(names)), "severity band names repeat")


def _check_flag(flag: Flag, scored_ids: set[str], subscale_keys: set[str]) -> None:
    rule_type = flag.rule.get("type")
    require(rule_type in FLAG_RULES, f"flag {flag.key} has unknown rule {rule_type!r}")
    if rule_type == "item_at_least":
        require(
            str(flag.rule["item"]) in scored_ids,
            f"flag {flag.key} names unknown item {flag.rule['item']!r}",
        )
    else:
        unknown = set(flag.rule["minimum"]) - subscale_keys
        require(not unknown, f"flag {flag.key} names unknown subscales {sorted(unknown)}")
