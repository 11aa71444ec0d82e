"""Production serving: gunicorn with the repository's configuration boots workers, logs one
JSON line per request without its query string and stops gracefully; `interval serve
--production` refuses a database behind the code; every patient-data table carries the clinic id
(the distribution column of docs/deployment.md)."""

from __future__ import annotations

import gc
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine

from api import cli, gunicorn_config
from api.db import Base
from api.migrate import upgrade
from tests.conftest import PRODUCTION_SECRET

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def migrated(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'served.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        upgrade(connection)
    engine.dispose()
    return url


GUNICORN = [sys.executable, "-m", "gunicorn", "--config", cli.GUNICORN_CONFIG]


def start_gunicorn(port: int, env: dict, *, cwd: Path | None = None, output=None):
    """gunicorn with the repository's configuration on loopback; its log to `output`."""
    return subprocess.Popen(  # noqa: S603 - gunicorn from our own environment
        [*GUNICORN, "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=cwd,  # the configuration finds wsgi.py itself, wherever this is
        env=env,
        stdout=output,
        stderr=subprocess.PIPE if output is subprocess.PIPE else subprocess.STDOUT,
        text=True,
    )


def wait_until_up(url: str, server: subprocess.Popen) -> None:
    for _ in range(100):
        assert server.poll() is None, server.stderr.read() if server.stderr else ""
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 - our own loopback server
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("gunicorn did not answer")


def test_gunicorn_serves_with_the_repository_configuration(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": migrated(tmp_path),
        "INTERVAL_INSTANCE_DIR": str(tmp_path),
        "INTERVAL_SECRET_KEY": PRODUCTION_SECRET,
        "WEB_CONCURRENCY": "2",
    }
    server = start_gunicorn(port, env, cwd=tmp_path, output=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/healthz", server)
        with urllib.request.urlopen(f"{base}/v1/questionnaires?secret=do-not-log") as answer:  # noqa: S310
            assert json.load(answer)["items"]
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=40)
    assert server.returncode == 0, err
    access = [json.loads(line) for line in out.splitlines() if '"event": "access"' in line]
    listed = next(line for line in access if line["path"] == "/v1/questionnaires")
    assert listed["status"] == 200 and listed["method"] == "GET"
    assert isinstance(listed["duration_ms"], int) and re.fullmatch(
        r"[0-9a-f]{32}", listed["request_id"]
    )
    assert "do-not-log" not in out + err
    assert len(set(re.findall(r"Booting worker with pid: (\d+)", err))) == 2


def test_a_worker_freezes_the_application_out_of_its_garbage_collection():
    class Worker:
        class app:  # gunicorn names it so
            @staticmethod
            def wsgi():
                return object()  # no database, as the benchmark's floor app

    gc.unfreeze()
    try:
        gunicorn_config.post_fork(server=None, worker=Worker())
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


@pytest.fixture
def production_env(tmp_path, monkeypatch):
    monkeypatch.setenv("INTERVAL_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("INTERVAL_SECRET_KEY", PRODUCTION_SECRET)
    monkeypatch.setenv("INTERVAL_ENV", "production")
    monkeypatch.setenv("INTERVAL_DOCS", "0")
    return tmp_path


def test_production_refuses_a_database_behind_the_code(production_env, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{production_env / 'empty.db'}")
    monkeypatch.setattr(os, "execv", lambda *args: pytest.fail("gunicorn must not start"))
    result = CliRunner().invoke(cli.main, ["serve", "--production"])
    assert result.exit_code != 0 and "interval db upgrade" in result.output


def test_production_runs_gunicorn_with_the_repository_configuration(production_env, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", migrated(production_env))
    started = []
    monkeypatch.setattr(os, "execv", lambda path, argv: started.append(argv))
    result = CliRunner().invoke(
        cli.main, ["serve", "--production", "--host", "10.0.0.5", "--port", "9000"]
    )
    assert result.exit_code == 0, result.output
    assert started == [
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "python:api.gunicorn_config",
            "--bind",
            "10.0.0.5:9000",
            "wsgi:app",
        ]
    ]
    assert CliRunner().invoke(cli.main, ["serve", "--production", "--demo"]).exit_code != 0


def patient_data_tables() -> list[str]:
    return sorted(t.name for t in Base.metadata.tables.values() if "patient_id" in t.c)


def test_every_patient_data_table_carries_the_clinic_id():
    missing = [
        name for name in patient_data_tables() if "clinic_id" not in Base.metadata.tables[name].c
    ]
    assert patient_data_tables() and missing == []


def test_the_deployment_guide_places_every_table():
    """docs/deployment.md's Citus table names each table's distribution: none is forgotten."""
    guide = (ROOT / "docs" / "deployment.md").read_text()
    placed = set(re.findall(r"^\| `(\w+)` \|", guide, flags=re.MULTILINE))
    assert placed == set(Base.metadata.tables)
