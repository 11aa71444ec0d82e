"""The loader refuses a broken definition, naming the file and the problem."""

from __future__ import annotations

import shutil

import pytest
import yaml

from api.app import create_app
from api.domain.questionnaires import QuestionnaireError
from api.domain.registry import DEFAULT_DIRECTORY, load_registry
from tests.conftest import app_config


def broken(tmp_path, key: str, change) -> None:
    for path in DEFAULT_DIRECTORY.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    data = yaml.safe_load((tmp_path / f"{key}.yaml").read_text())
    change(data)
    (tmp_path / f"{key}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))


def set_band(index, **values):
    def change(data):
        data["severity"]["bands"][index].update(values)

    return change


CASES = [
    ("phq9", set_band(1, min=6), "starts at 6, expected 5"),
    ("phq9", set_band(1, min=4), "starts at 4, expected 5"),
    ("phq9", set_band(4, max=26), "end at 26"),
    ("gad7", lambda d: d["items"][1].update(id="1"), "not unique"),
    ("pcl5", lambda d: d["subscales"][0]["items"].append("21"), "subscale B"),
    ("phq9", lambda d: d["flags"][0]["rule"].update(item="12"), "unknown item"),
    ("phq9", lambda d: d["examples"][1]["expect"].update(total=13), "scores"),
    ("phq9", lambda d: d["examples"][0]["expect"].update(flags=["suicidal_ideation"]), "scores"),
    ("phq9", lambda d: d["scoring"]["range"].update(max=30), "scoring range"),
    ("phq9", lambda d: d["change"]["mcid"].pop("source"), "no source"),
    ("gad7", lambda d: d.pop("examples"), "missing keys: examples"),
    ("pain", lambda d: d["items"][0].update(options="nope"), "unknown options"),
    ("phq9", lambda d: d["alerts"][0].update(kind="mystery"), "unknown alert kind"),
    ("phq9", lambda d: d.update(key="phq10"), "does not match the file name"),
]

# Refusals checked word for word (the whole message after the file's name).
EXACT = [
    ("gad7", lambda d: d["items"][1].update(id="1"), "item ids are not unique"),
    (
        "gad7",
        lambda d: [d.pop(k) for k in ("examples", "licence")],
        "missing keys: licence, examples",
    ),
    (
        "pain",
        lambda d: d["items"][0].update(options="nope"),
        "item '1' names unknown options 'nope'",
    ),
    ("phq9", lambda d: d.update(examples=[]), "no worked examples"),
    ("pain", lambda d: d["items"][0].update(scored=False), "no item is scored"),
    ("phq9", lambda d: d["scoring"].update(method="mean"), "unknown scoring method 'mean'"),
    ("phq9", lambda d: d["severity"].update(bands=[]), "no severity bands"),
    (
        "phq9",
        lambda d: d["severity"]["bands"][1].update(band="minimal"),
        "severity band names repeat",
    ),
    ("phq9", lambda d: d["measurement"].pop("source"), "measurement has no source"),
    *[
        (
            "phq9",
            lambda d, days=days: d["measurement"].update(minimum_interval_days=days),
            "measurement.minimum_interval_days must be a positive whole number or null",
        )
        for days in (0, "7")
    ],
    *[
        (
            "pain",
            lambda d, n=n: d["change"]["sustained_deterioration"].update(ratings=n),
            "sustained_deterioration needs a positive whole ratings",
        )
        for n in (0, "3")
    ],
    (
        "phq9",
        lambda d: d["alerts"][0]["when"].update(flag="nope"),
        "alert suicidal_ideation names unknown flag 'nope'",
    ),
    (
        "phq9",
        lambda d: d["examples"][0]["answers"].update({"1": 7}),
        "example 'no symptoms': {'answers.1': ['Must be one of [0, 1, 2, 3].']}",
    ),
]


@pytest.mark.parametrize(
    "key,change,message", EXACT, ids=[f"{c[2]} ({n})" for n, c in enumerate(EXACT)]
)
def test_a_refusal_says_exactly_what_is_wrong(tmp_path, key, change, message):
    broken(tmp_path, key, change)
    with pytest.raises(QuestionnaireError) as refused:
        load_registry(tmp_path)
    assert str(refused.value) == f"{key}.yaml: {message}"


def test_one_is_the_least_interval_and_the_least_count_of_ratings(tmp_path):
    broken(tmp_path, "phq9", lambda d: d["measurement"].update(minimum_interval_days=1))
    broken_too = tmp_path / "pain.yaml"
    data = yaml.safe_load(broken_too.read_text())
    data["change"]["sustained_deterioration"].update(ratings=1)
    broken_too.write_text(yaml.safe_dump(data, allow_unicode=True))
    registry = load_registry(tmp_path)
    assert registry["phq9"].minimum_interval_days == 1
    assert registry["pain"].change["sustained_deterioration"]["ratings"] == 1


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path):
    for path in DEFAULT_DIRECTORY.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "phq9.yaml").write_text("- just\n- a list\n")
    with pytest.raises(QuestionnaireError) as refused:
        load_registry(tmp_path)
    assert str(refused.value) == "phq9.yaml: the file must hold a mapping"


@pytest.mark.parametrize("path", sorted(DEFAULT_DIRECTORY.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_field_of_the_file_is_carried(path):
    """Read against the file itself, not against another parse of it."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    definition = load_registry(DEFAULT_DIRECTORY)[raw["key"]]
    assert definition.version == str(raw["version"])
    assert (definition.instructions, definition.stem) == (raw["instructions"], raw.get("stem"))
    for item, entry in zip(definition.items, raw["items"], strict=True):
        assert (item.id, item.loinc, item.cluster) == (
            str(entry["id"]),
            entry.get("loinc"),
            entry.get("cluster"),
        )
        options = raw["option_sets"][entry["options"]]
        assert [(o.value, o.label, o.loinc) for o in item.options] == [
            (o["value"], o["label"], o.get("loinc")) for o in options
        ]
    sustained = raw["change"].get("sustained_deterioration")
    assert definition.change.get("sustained_deterioration") == sustained
    assert definition.minimum_interval_days == raw["measurement"]["minimum_interval_days"]


@pytest.mark.parametrize("key,change,message", CASES, ids=[c[2] for c in CASES])
def test_broken_definition_is_refused(tmp_path, key, change, message):
    broken(tmp_path, key, change)
    with pytest.raises(QuestionnaireError) as refused:
        load_registry(tmp_path)
    assert str(refused.value).startswith(f"{key}.yaml: ")
    assert message in str(refused.value)


def test_service_refuses_to_start(tmp_path):
    broken(tmp_path, "gad7", set_band(0, max=5))
    with pytest.raises(QuestionnaireError, match=r"gad7\.yaml"):
        create_app(app_config("sqlite://", str(tmp_path), QUESTIONNAIRES_DIR=str(tmp_path)))


def test_unreadable_yaml_is_named(tmp_path):
    (tmp_path / "bad.yaml").write_text("key: [unclosed")
    with pytest.raises(QuestionnaireError) as refused:
        load_registry(tmp_path)
    assert str(refused.value).startswith("bad.yaml: ParserError: ")


def test_an_empty_directory_is_refused(tmp_path):
    with pytest.raises(QuestionnaireError, match="no questionnaire"):
        load_registry(tmp_path)
