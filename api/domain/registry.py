"""The questionnaire registry: every definition file under questionnaires/, loaded, checked
(structure, then worked examples scored) and held by key."""

from __future__ import annotations

from pathlib import Path

import yaml

try:  # libyaml's safe loader when PyYAML was built with it (eight times quicker at start-up)
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml import SafeLoader  # type: ignore[assignment]

from api.domain.questionnaires import Definition, QuestionnaireError, parse
from api.domain.scoring import check_examples

DEFAULT_DIRECTORY = Path(__file__).resolve().parents[2] / "questionnaires"


def load_file(path: Path) -> Definition:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SafeLoader)
        definition = parse(raw)
        check_examples(definition)
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

    def __getitem__(self, key: str) -> Definition:
        return self._by_key[key]

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
