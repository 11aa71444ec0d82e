"""The integrators' view: a service of its own (SQLite in a temporary folder, whatever
TEST_DATABASE_URL says), a clinic with an admin, and the same service on a real port."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from werkzeug.serving import make_server

from api.app import create_app
from api.db import utcnow
from api.domain import identity
from api.migrate import upgrade
from tests.conftest import PASSWORD, app_config


@dataclass(frozen=True)
class Clinic:
    id: str
    admin_email: str
    password: str


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    folder = tmp_path_factory.mktemp("contract")
    app = create_app(
        app_config(
            f"sqlite:///{folder / 'contract.db'}",
            str(folder),
            # Thousands of requests a minute from one address: the limits are tested elsewhere.
            RATE_LIMIT_PER_ADDRESS="1000000/minute",
            RATE_LIMIT_PER_ACCOUNT="1000000/minute",
            RATE_LIMIT_PASSWORD_CHECKS="1000000/second",
        )
    )
    with app.extensions["interval.db"].engine.begin() as connection:
        upgrade(connection)
    yield app
    app.extensions["interval.db"].dispose()


@pytest.fixture(scope="module")
def clinic(service) -> Clinic:
    with service.extensions["interval.db"].session() as session:
        made, admin = identity.create_clinic(
            session,
            service.extensions["interval.identity"],
            name="Contract clinic",
            admin_email="admin@contract.test",
            admin_password=PASSWORD,
            now=utcnow(),
        )
        session.commit()
        return Clinic(str(made.id), admin.email, PASSWORD)


@pytest.fixture(scope="module")
def base_url(service) -> Iterator[str]:
    """The service on 127.0.0.1 at a free port, for as long as the module's tests run."""
    server = make_server("127.0.0.1", 0, service, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
