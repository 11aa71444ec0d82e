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
    with pytest.raises(QuestionnaireError, match=r"bad\.yaml"):
        load_registry(tmp_path)


def test_an_empty_directory_is_refused(tmp_path):
    with pytest.raises(QuestionnaireError, match="no questionnaire"):
        load_registry(tmp_path)
