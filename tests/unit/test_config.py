"""Production refuses unsafe settings; development makes its own key."""

from __future__ import annotations

import pytest

from api.app import create_app
from api.config import ConfigError, load
from tests.conftest import PRODUCTION_SECRET


def test_production_refuses_a_missing_key(tmp_path, monkeypatch):
    monkeypatch.delenv("INTERVAL_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="must be set"):
        load({"ENV": "production", "INSTANCE_DIR": str(tmp_path)})


def test_production_refuses_a_short_key(tmp_path):
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        load({"ENV": "production", "INSTANCE_DIR": str(tmp_path), "SECRET_KEY": "short"})


def test_production_refuses_weak_argon2(tmp_path):
    with pytest.raises(ConfigError, match="OWASP"):
        load(
            {
                "ENV": "production",
                "INSTANCE_DIR": str(tmp_path),
                "SECRET_KEY": PRODUCTION_SECRET,
                "ARGON2_MEMORY_KIB": 4096,
            }
        )


def test_production_never_reads_the_development_key_file(tmp_path, monkeypatch):
    monkeypatch.delenv("INTERVAL_SECRET_KEY", raising=False)
    load({"INSTANCE_DIR": str(tmp_path)})
    assert (tmp_path / "secret_key").exists()
    with pytest.raises(ConfigError):
        load({"ENV": "production", "INSTANCE_DIR": str(tmp_path)})


def test_development_key_is_random_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("INTERVAL_SECRET_KEY", raising=False)
    first = load({"INSTANCE_DIR": str(tmp_path)})["SECRET_KEY"]
    second = load({"INSTANCE_DIR": str(tmp_path)})["SECRET_KEY"]
    other = load({"INSTANCE_DIR": str(tmp_path / "other")})["SECRET_KEY"]
    assert first == second != other and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_turns_off_the_docs(tmp_path, monkeypatch):
    monkeypatch.delenv("INTERVAL_DOCS", raising=False)
    monkeypatch.setenv("INTERVAL_ENV", "production")
    app = create_app(
        {
            "SECRET_KEY": PRODUCTION_SECRET,
            "INSTANCE_DIR": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
        }
    )
    assert app.test_client().get("/docs").status_code == 404
    assert app.test_client().get("/openapi.json").status_code == 404
    app.extensions["interval.db"].dispose()


def test_production_docs_on_request(tmp_path, monkeypatch):
    monkeypatch.setenv("INTERVAL_ENV", "production")
    monkeypatch.setenv("INTERVAL_DOCS", "1")
    app = create_app(
        {
            "SECRET_KEY": PRODUCTION_SECRET,
            "INSTANCE_DIR": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
        }
    )
    assert app.test_client().get("/docs").status_code == 200
    app.extensions["interval.db"].dispose()
