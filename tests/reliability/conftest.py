"""A real deployment in miniature for failure tests: gunicorn with the repository's
configuration, two worker processes, on a PostgreSQL database of its own (created and dropped
here, so nothing committed leaks into the other tests)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api import factories
from api.app import create_app
from api.db import utcnow
from api.domain import identity
from api.migrate import upgrade
from tests.conftest import POSTGRES, TEST_SECRET, app_config
from tests.test_deployment import free_port, start_gunicorn, wait_until_up


@dataclass(frozen=True)
class Deployment:
    base_url: str
    database_url: str
    database: str
    patient_id: str
    patient_token: str
    server_pid: int  # gunicorn's master

    def workers(self) -> list[int]:
        children = f"/proc/{self.server_pid}/task/{self.server_pid}/children"
        with open(children) as listed:
            return [int(pid) for pid in listed.read().split()]

    def admin(self):
        """A connection to the server's maintenance database, in autocommit."""
        url = make_url(self.database_url).set(database="postgres")
        return create_engine(url, isolation_level="AUTOCOMMIT")


def seed(url: str, folder: str) -> tuple[str, str]:
    """A clinic, a clinician and an enrolled patient; the patient's access token."""
    app = create_app(app_config(url, folder))
    database = app.extensions["interval.db"]
    with database.engine.begin() as connection:
        upgrade(connection)
    with database.session() as session:
        clinic = factories.clinic(session, "Failure Clinic")
        clinician = factories.user(session, clinic, "clinician")
        account = factories.user(session, clinic, "patient")
        patient = factories.patient(session, clinic, account=account, care_team=(clinician,))
        pair = identity.start_session(
            session, app.extensions["interval.identity"], user=account, now=utcnow()
        )
        session.commit()
        found = (str(patient.id), pair.access_token)
    database.dispose()
    return found


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Iterator[Deployment]:
    if not POSTGRES:
        pytest.skip("needs PostgreSQL (set TEST_DATABASE_URL)")
    base = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"{base.database}_failures_{os.getpid()}"
    maintenance = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with maintenance.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    folder = tmp_path_factory.mktemp("failures")
    patient_id, token = seed(url, str(folder))
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "INTERVAL_INSTANCE_DIR": str(folder),
        "INTERVAL_SECRET_KEY": TEST_SECRET,
        "INTERVAL_ARGON2_TIME_COST": "2",
        "INTERVAL_ARGON2_MEMORY_KIB": "19456",
        "INTERVAL_ARGON2_PARALLELISM": "1",
        "WEB_CONCURRENCY": "2",
        "INTERVAL_ACCESS_LOG": "0",
    }
    log = (folder / "gunicorn.log").open("w")
    server = start_gunicorn(port, env, output=log)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", server)
        yield Deployment(f"http://127.0.0.1:{port}", url, name, patient_id, token, server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=40)
        log.close()
        with maintenance.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        maintenance.dispose()
