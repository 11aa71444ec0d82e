"""The `interval` command: create-clinic, demo data, database upgrade, spec check."""

from __future__ import annotations

import json
import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select

from api.cli import main
from api.models import Clinic, User
from tests.conftest import PRODUCTION_SECRET


@pytest.fixture
def env(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("INTERVAL_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("INTERVAL_ARGON2_TIME_COST", "2")
    monkeypatch.setenv("INTERVAL_ARGON2_MEMORY_KIB", "19456")
    monkeypatch.setenv("INTERVAL_ARGON2_PARALLELISM", "1")
    monkeypatch.delenv("INTERVAL_ENV", raising=False)
    return url


def count(url, *where):
    engine = create_engine(url)
    with engine.connect() as connection:
        value = connection.scalar(select(func.count()).select_from(User).where(*where))
    engine.dispose()
    return value


def test_create_clinic_prints_ids_as_json(env):
    result = CliRunner().invoke(
        main,
        [
            "create-clinic",
            "--name",
            "Lakeside",
            "--admin-email",
            "Boss@Lakeside.test",
            "--admin-password",
            "a long password",
        ],
    )
    assert result.exit_code == 0, result.output
    ids = json.loads(result.output.strip().splitlines()[-1])
    assert set(ids) == {"clinic_id", "admin_user_id"}
    assert count(env, User.email == "boss@lakeside.test", User.role == "clinic_admin") == 1


def test_create_clinic_prompts_for_the_password(env):
    result = CliRunner().invoke(
        main,
        ["create-clinic", "--name", "Lakeside", "--admin-email", "p@lakeside.test"],
        input="a long password\na long password\n",
    )
    assert result.exit_code == 0, result.output
    assert "a long password" not in result.output


@pytest.mark.parametrize(("password", "exit_code"), [("x" * 9, 1), ("x" * 10, 0)])
def test_create_clinic_needs_ten_characters_of_password(env, password, exit_code):
    result = CliRunner().invoke(
        main,
        ["create-clinic", "--name", "L", "--admin-email", "x@l.test", "--admin-password", password],
    )
    assert result.exit_code == exit_code, result.output
    if exit_code:
        assert result.output.splitlines()[-1] == "error: The password is too short."


def create_clinic(name: str, email: str):
    return CliRunner().invoke(
        main,
        [
            "create-clinic",
            "--name",
            name,
            "--admin-email",
            email,
            "--admin-password",
            "a long one!",
        ],
    )


def test_create_clinic_refuses_a_taken_email(env):
    assert create_clinic("Lakeside", "boss@lakeside.test").exit_code == 0
    again = create_clinic("Hillside", "BOSS@lakeside.test")
    assert again.exit_code == 1
    assert again.output.splitlines()[-1] == "error: An account with this email already exists."
    assert count(env, User.email == "boss@lakeside.test") == 1


def test_the_new_clinic_and_its_admin(env):
    printed = json.loads(create_clinic("Lakeside", "boss@lakeside.test").output.splitlines()[-1])
    ids = {name: uuid.UUID(value) for name, value in printed.items()}
    engine = create_engine(env)
    with engine.connect() as connection:
        name = connection.scalar(select(Clinic.name).where(Clinic.id == ids["clinic_id"]))
        admin = connection.execute(
            select(User.clinic_id, User.display_name, User.role, User.is_active).where(
                User.id == ids["admin_user_id"]
            )
        ).one()
    engine.dispose()
    assert name == "Lakeside"
    assert tuple(admin) == (ids["clinic_id"], "Clinic admin", "clinic_admin", True)


def test_demo_is_idempotent(env):
    for _ in range(2):
        result = CliRunner().invoke(main, ["demo"])
        assert result.exit_code == 0, result.output
    engine = create_engine(env)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Clinic)) == 1
    engine.dispose()
    assert count(env, User.role == "clinician") == 2
    assert count(env, User.role == "patient") >= 4
    assert "admin@demo.interval.test" in result.output


def test_demo_refuses_production(env, monkeypatch):
    monkeypatch.setenv("INTERVAL_ENV", "production")
    monkeypatch.setenv("INTERVAL_SECRET_KEY", PRODUCTION_SECRET)
    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code != 0 and "production" in result.output


def test_db_upgrade(env):
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0 and "head" in result.output


def test_openapi_check_passes_on_the_committed_spec():
    result = CliRunner().invoke(main, ["openapi", "check"])
    assert result.exit_code == 0, result.output
