"""Fixtures: one migrated database per run (SQLite, or TEST_DATABASE_URL); each test in a
transaction that is rolled back; factories for clinics, users and patients."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from hypothesis import HealthCheck, settings
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from api import auditing, dumping, factories
from api.app import create_app
from api.db import make_engine, utcnow
from api.demo import load_demo
from api.domain import identity
from api.migrate import upgrade
from api.models import Clinic, Patient, User

# The instant time-dependent tests run at: the clock is frozen there, never read.
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery"
TEST_SECRET = "test-signing-key-" + "k" * 50
# A key production accepts: long, and of many distinct characters (never used to sign anything).
PRODUCTION_SECRET = "Zq3vX8nR2tLw6yKb9mFh4sJd7pGc1aVe5uNx0oTi_-QzWrYkHlMeBgCfDjSaPn"
POSTGRES = bool(os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"))
# Every response the tests produce is dumped both ways and must come out the same.
dumping.VERIFY = True

# Under mutation testing (make mutate) every call is slower and each run must find the same
# examples, so the property tests are derandomized and not timed.
settings.register_profile(
    "mutation",
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_collection_modifyitems(config, items):
    """Races and guards that only PostgreSQL can show run there and are skipped on SQLite.
    Under `make mutate`, a mutant's tests run module by module, its own module's first."""
    if "MUTANT_UNDER_TEST" in os.environ:
        items[:] = quickest_modules_first(items, os.environ["MUTANT_UNDER_TEST"])
    if POSTGRES:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set TEST_DATABASE_URL)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


def quickest_modules_first(items: list, mutant: str) -> list:
    """mutmut hands a mutant's tests over in no particular order, so modules interleave (their
    shared data, such as the demo clinic, is built again at every switch) and a slow test may
    run before the quick one that fails. Each module's tests in the order written; first the
    modules named after the mutant's own (tests/api/test_alerts.py for api.domain.alerts), then
    the rest by the mean time of their tests in mutmut's own record (unit tests first without
    one)."""
    from mutmut.state import state  # only under `make mutate`

    took = state().duration_by_test
    own = mutant.removeprefix("api.domain.").split(".")[0]
    modules: dict[str, list] = {}
    for item in items:
        modules.setdefault(item.location[0], []).append(item)

    def mean_time(path: str) -> tuple[bool, float, bool, str]:
        tests = modules[path]
        mean = sum(took.get(t.nodeid, 0.0) for t in tests) / len(tests)
        return own not in path, mean, not path.startswith("tests/unit/"), path

    return [
        item
        for path in sorted(modules, key=mean_time)
        for item in sorted(modules[path], key=lambda t: t.location[1])
    ]


def app_config(database_url: str, instance_dir: str, **overrides) -> dict:
    config = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET,
        "ENV": "development",
        "INSTANCE_DIR": instance_dir,
        # The OWASP minimum keeps the suite quick while still exercising Argon2id.
        "ARGON2_TIME_COST": 2,
        "ARGON2_MEMORY_KIB": 19456,
        "ARGON2_PARALLELISM": 1,
        "RATE_LIMIT_PER_ADDRESS": "1000/minute",
        "RATE_LIMIT_PER_ACCOUNT": "1000/minute",
        "RATE_LIMIT_PASSWORD_CHECKS": "1000/second",
        "DOCS_ENABLED": True,
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return os.environ.get("TEST_DATABASE_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    )


# The migrated SQLite schema, kept for the life of the process: mutation testing forks one
# test session per mutant from a process that has already migrated once.
_MIGRATED_SQLITE: dict[str, bytes] = {}


def _copy_migrated_sqlite(database_url: str) -> None:
    """Give the SQLite file at the URL the schema at head, migrating at most once a process."""
    path = Path(database_url.split("///", 1)[1])
    if "head" not in _MIGRATED_SQLITE:
        template = path.with_name("migrated.db")
        engine = make_engine(f"sqlite:///{template}")
        with engine.begin() as connection:
            upgrade(connection)
        engine.dispose()  # the last connection to close folds the write-ahead log into the file
        _MIGRATED_SQLITE["head"] = template.read_bytes()
    path.write_bytes(_MIGRATED_SQLITE["head"])


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    if database_url.startswith("sqlite"):
        _copy_migrated_sqlite(database_url)
    app = create_app(app_config(database_url, str(tmp_path_factory.mktemp("instance"))))
    engine = app.extensions["interval.db"].engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
            upgrade(connection)
    yield app
    app.extensions["interval.db"].dispose()


@contextlib.contextmanager
def rolled_back(app) -> Iterator:
    """One connection in an outer transaction that every session of the application joins
    (each commit releases a savepoint); rolled back at the end."""
    database = app.extensions["interval.db"]
    connection = database.engine.connect()
    outer = connection.begin()
    saved = dict(database.session_factory.kw)
    database.session_factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield connection
    finally:
        database.session_factory.kw.clear()
        database.session_factory.kw.update(saved)
        outer.rollback()
        connection.close()


@pytest.fixture(scope="module")
def module_connection(request, app) -> Iterator:
    """The transaction of a module marked `module_transaction`, whose tests share data built
    once (the demo clinic, the access matrix's world); rolled back after the module."""
    assert request.node.get_closest_marker("module_transaction"), (
        "data built once per module needs `pytestmark = pytest.mark.module_transaction`"
    )
    with rolled_back(app) as connection:
        yield connection


@pytest.fixture
def connection(request, app) -> Iterator:
    """Every session of the test joins one outer transaction, rolled back at the end; in a
    module marked `module_transaction`, a savepoint of the module's transaction."""
    app.extensions["interval.rate_limits"].reset()
    if request.node.get_closest_marker("module_transaction") is None:
        with rolled_back(app) as connection:
            yield connection
        return
    shared = request.getfixturevalue("module_connection")
    test = shared.begin_nested()
    yield shared
    test.rollback()


class Clock:
    """The frozen time of a test; `advance(days=7)` moves it on."""

    def __init__(self, traveller):
        self._traveller = traveller

    @property
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def advance(self, **delta: float) -> None:
        self._traveller.shift(dt.timedelta(**delta))


@pytest.fixture
def clock() -> Iterator[Clock]:
    """Freeze time at NOW for a test whose behaviour depends on it."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield Clock(traveller)


@pytest.fixture
def session(app, connection) -> Iterator[Session]:
    with app.extensions["interval.db"].session() as session:
        yield session


@pytest.fixture
def client(app, connection):
    return app.test_client()


@pytest.fixture(scope="session")
def password_hash(app) -> str:
    return app.extensions["interval.identity"].passwords.hash(PASSWORD)


@pytest.fixture
def make_clinic(session):
    def make(name: str = "Clinic") -> Clinic:
        clinic = factories.clinic(session, name)
        session.commit()
        return clinic

    return make


@pytest.fixture
def make_user(session, password_hash):
    def make(
        clinic: Clinic,
        role: str = "clinician",
        *,
        email: str | None = None,
        display_name: str | None = None,
        active: bool = True,
    ) -> User:
        user = factories.user(
            session,
            clinic,
            role,
            email=email,
            display_name=display_name,
            password_hash=password_hash,
            active=active,
        )
        session.commit()
        return user

    return make


@pytest.fixture
def make_patient(session, make_user):
    def make(
        clinic: Clinic,
        *,
        care_team: tuple[User, ...] = (),
        enrolled: bool = True,
        display_name: str | None = None,
        mrn: str | None = None,
        timezone: str = "America/New_York",
    ) -> Patient:
        patient = factories.patient(
            session,
            clinic,
            account=make_user(clinic, "patient") if enrolled else None,
            care_team=care_team,
            display_name=display_name,
            mrn=mrn,
            timezone=timezone,
        )
        session.commit()
        return patient

    return make


@pytest.fixture
def tokens_for(app, session):
    """A signed-in session for a user, without the cost of a password check."""

    def issue(user: User) -> identity.TokenPair:
        pair = identity.start_session(
            session, app.extensions["interval.identity"], user=user, now=utcnow()
        )
        session.commit()
        return pair

    return issue


@pytest.fixture
def auth(tokens_for, session):
    """Authorization headers for a user (or a patient, through their user)."""

    def headers(who) -> dict:
        user = session.get(User, who.user_id) if isinstance(who, Patient) else who
        return {"Authorization": f"Bearer {tokens_for(user).access_token}"}

    return headers


@pytest.fixture
def clinic(make_clinic):
    return make_clinic("Riverside Ketamine Clinic")


@pytest.fixture
def clinician(make_user, clinic):
    return make_user(clinic, "clinician")


@pytest.fixture
def admin(make_user, clinic):
    return make_user(clinic, "clinic_admin")


@pytest.fixture
def patient(make_patient, clinic, clinician):
    return make_patient(clinic, care_team=(clinician,))


def answers(key: str, total_items: dict | None = None, **items) -> dict:
    """All scored items of an instrument at 0, with some set: answers("phq9", i9=1)."""
    counts = {"phq9": 9, "gad7": 7, "pcl5": 20, "pain": 1}
    given = {name.lstrip("i"): value for name, value in items.items()}
    return {str(i): given.get(str(i), 0) for i in range(1, counts[key] + 1)} | (total_items or {})


def check_in_body(key: str = "phq9", *, completed_at: str | None = None, id=None, **items):
    body = {
        "questionnaire": key,
        "answers": answers(key, **items),
        "completed_at": completed_at
        or (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(),
    }
    if id is not None:
        body["id"] = str(id)
    return body


@pytest.fixture
def submit(client, auth):
    """POST a check-in as someone (the patient by default)."""

    def post(patient, body=None, *, as_user=None, headers=None, **kwargs):
        who = as_user or patient
        return client.post(
            f"/v1/patients/{patient.id}/check-ins",
            json=body if body is not None else check_in_body(**kwargs),
            headers={**auth(who), **(headers or {})},
        )

    return post


@pytest.fixture
def course_api(course_api_as, clinician):
    """Courses and infusions through the API, as the care-team clinician."""
    return course_api_as(clinician)


@pytest.fixture
def course_api_as(client, auth):
    """Courses and infusions through the API, as a given clinician: course_api_as(them)."""
    return lambda clinician: make_course_api(client, auth, clinician)


def make_course_api(client, auth, clinician):
    class CourseApi:
        def start(self, patient, **body):
            body = {"indications": ["depression"], "started_on": "2026-10-01", **body}
            response = client.post(
                f"/v1/patients/{patient.id}/courses", json=body, headers=auth(clinician)
            )
            assert response.status_code == 201, response.get_json()
            return response.get_json()

        def infuse(self, course, administered_at, **body):
            body = {
                "status": "completed",
                "administered_at": administered_at,
                "dose_mg_per_kg": 0.5,
                "duration_minutes": 40,
                **body,
            }
            response = client.post(
                f"/v1/courses/{course['id']}/infusions", json=body, headers=auth(clinician)
            )
            assert response.status_code == 201, response.get_json()
            return response.get_json()

        def schedule(self, course, scheduled_for):
            response = client.post(
                f"/v1/courses/{course['id']}/infusions",
                json={"status": "scheduled", "scheduled_for": scheduled_for},
                headers=auth(clinician),
            )
            assert response.status_code == 201, response.get_json()
            return response.get_json()

        def complete(self, course, completed_on: str) -> dict:
            """End a course on a day, with the If-Match of a fresh read."""
            response = client.patch(
                f"/v1/courses/{course['id']}",
                json={"status": "completed", "completed_on": completed_on},
                headers={**auth(clinician), "If-Match": self.course(course).headers["ETag"]},
            )
            assert response.status_code == 200, response.get_json()
            return response.get_json()

        def patch_infusion(self, infusion, **changes):
            current = client.get(f"/v1/infusions/{infusion['id']}", headers=auth(clinician))
            return client.patch(
                f"/v1/infusions/{infusion['id']}",
                json=changes,
                headers={**auth(clinician), "If-Match": current.headers["ETag"]},
            )

        def infusions(self, course, who=None):
            return client.get(
                f"/v1/courses/{course['id']}/infusions", headers=auth(who or clinician)
            ).get_json()["items"]

        def course(self, course):
            return client.get(f"/v1/courses/{course['id']}", headers=auth(clinician))

    return CourseApi()


def one_a_page(client, headers: dict, path: str) -> list[str]:
    """Every id a list gives, one a page, following `next_cursor`; a list whose pages never
    end fails rather than loops."""
    seen, cursor = [], None
    separator = "&" if "?" in path else "?"
    for _ in range(50):
        url = f"{path}{separator}limit=1" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=headers).get_json()
        seen += [item["id"] for item in body["items"]]
        if not (cursor := body["next_cursor"]):
            return seen
    raise AssertionError(f"still paging after {len(seen)} items")


@pytest.fixture
def count_queries(app):
    """Count the SQL statements a block runs: `with count_queries() as counted: ...`."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def counting():
        statements: list[str] = []

        def record(conn, cursor, statement, *args):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
                statements.append(statement)

        engine = app.extensions["interval.db"].engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return counting


class CommitFails:
    """A request session whose commit fails, as when the database goes away at the end."""

    def __init__(self, session):
        self._session = session

    def __getattr__(self, name):
        return getattr(self._session, name)

    def commit(self):
        raise OperationalError("COMMIT", {}, Exception("connection lost"))


@pytest.fixture
def commit_fails(monkeypatch):
    """Every request's single commit fails from here on."""
    real = auditing.request_session
    monkeypatch.setattr(auditing, "request_session", lambda: CommitFails(real()))


@pytest.fixture(scope="module")
def _demo_admin_id(app, module_connection) -> uuid.UUID:
    with app.extensions["interval.db"].session() as session:
        load_demo(
            session, app.extensions["interval.identity"], app.extensions["interval.questionnaires"]
        )
        session.commit()
        return session.scalars(
            select(User.id).where(User.email == "admin@demo.interval.test")
        ).one()


@pytest.fixture
def demo(_demo_admin_id, session) -> User:
    """The demo clinic (`interval demo`), loaded once per module (which must be marked
    `module_transaction`); its admin."""
    return session.get_one(User, _demo_admin_id)
