"""EXPLAIN ANALYZE of every statement the hot requests run, on PostgreSQL, over the network
dataset `bench/load.py` leaves in the database (run it first). Writes the plans into
docs/performance.md (`--write`).

    python bench/explain.py --database-url postgresql+psycopg://.../interval_bench [--write]

Each request is sent once through the application (Flask's test client); every statement it
ran is then explained with its own parameters in a transaction that is rolled back, so the
plans are the ones the server's queries get, with the indexes they use.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import uuid
from functools import partial
from pathlib import Path

from sqlalchemy import event, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.db import utcnow  # noqa: E402 - after the path, as a script
from api.domain import identity  # noqa: E402
from api.models import CareTeamMember, Clinic, Patient, User  # noqa: E402
from bench.load import bench_app  # noqa: E402

HEADING = "## Query plans"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if not (args.database_url or "").startswith("postgresql"):
        raise SystemExit("a PostgreSQL database seeded by bench/load.py is needed")
    with tempfile.TemporaryDirectory() as folder:
        app = bench_app(args.database_url, Path(folder))
        shown = explain_requests(app)
    print(shown)
    if args.write:
        path = ROOT / "docs" / "performance.md"
        text = path.read_text()
        body = f"{HEADING}\n\n{INTRODUCTION}\n\n{shown}\n"
        if HEADING in text:
            start = text.index(HEADING)
            end = text.find("\n## ", start + len(HEADING))
            text = text[:start] + body + (text[end:] if end != -1 else "")
        else:
            text = text.rstrip() + "\n\n" + body
        path.write_text(text)


INTRODUCTION = (
    "`python bench/explain.py --write` after `bench/load.py` on PostgreSQL: each hot request "
    "sent once over the network dataset (10,000 patients, 1,000,000 check-ins), and every "
    "statement it ran explained with its own parameters (`EXPLAIN (ANALYZE, COSTS OFF)`, in a "
    "transaction rolled back). Plans are abridged to their node lines."
)


def explain_requests(app) -> str:
    database = app.extensions["interval.db"]
    settings = app.extensions["interval.identity"]
    with database.session() as session:
        clinic = session.scalar(select(Clinic).order_by(Clinic.name).limit(1))
        clinician = session.scalar(
            select(User).where(User.clinic_id == clinic.id, User.role == "clinician").limit(1)
        )
        patient = session.scalar(
            select(Patient)
            .join(CareTeamMember, CareTeamMember.patient_id == Patient.id)
            .where(CareTeamMember.user_id == clinician.id, Patient.display_name == "Patient 00000")
        )
        account = session.get(User, patient.user_id)
        tokens = {
            who: identity.start_session(session, settings, user=user, now=utcnow()).access_token
            for who, user in (("clinician", clinician), ("patient", account))
        }
        session.commit()
    completed = (utcnow() - dt.timedelta(hours=1)).replace(microsecond=0).isoformat()
    body = {
        "id": str(uuid.uuid4()),
        "questionnaire": "phq9",
        "answers": {str(i): 1 for i in range(1, 10)} | {"9": 0},
        "completed_at": completed,
    }
    batch = {"check_ins": [body | {"id": str(uuid.uuid4())} for _ in range(50)]}
    requests = [
        ("S1 submit a PHQ-9", "POST", f"/v1/patients/{patient.id}/check-ins", "patient", body),
        (
            "S2 a batch of 50",
            "POST",
            f"/v1/patients/{patient.id}/check-ins/batch",
            "patient",
            batch,
        ),
        ("S3 trend", "GET", f"/v1/patients/{patient.id}/trends/pain", "clinician", None),
        (
            "S4 clinic outcomes",
            "GET",
            f"/v1/clinics/{clinic.id}/outcomes?questionnaire=phq9",
            "clinician",
            None,
        ),
        (
            "S5 panel by attention",
            "GET",
            "/v1/patients?sort=attention&limit=100",
            "clinician",
            None,
        ),
    ]
    client = app.test_client()
    sections = []
    for title, method, path, who, sent in requests:
        headers = {"Authorization": f"Bearer {tokens[who]}"}
        client.open(path, method=method, headers=headers, json=sent)  # warm: progress computed
        if sent is not None:
            sent = new_ids(sent)
        request = partial(client.open, path, method=method, headers=headers, json=sent)
        statements = captured(database.engine, request)
        sections.append(
            f"### {title}\n\n" + "\n\n".join(plan(database.engine, s, p) for s, p in statements)
        )
    return "\n\n".join(sections)


def new_ids(sent: dict) -> dict:
    """The same body with new check-in ids, so it is stored rather than replayed."""
    if "check_ins" in sent:
        return {"check_ins": [new_ids(item) for item in sent["check_ins"]]}
    return sent | {"id": str(uuid.uuid4())}


def captured(engine, call) -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "WITH")):
            found.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        response = call()
        assert response.status_code in (200, 201, 207), response.get_json()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return found


def plan(engine, statement: str, parameters) -> str:
    first = " ".join(statement.split())[:160]
    if isinstance(parameters, list | tuple) and parameters and isinstance(parameters[0], dict):
        parameters = parameters[0]  # a multi-row INSERT as SQLAlchemy batches it: one row's
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + statement, parameters)
        lines = [row[0] for row in cursor.fetchall()]
    except Exception as error:
        return f"`{first}…`\n\n(not explained: {type(error).__name__}: {error})"
    finally:
        connection.rollback()
        connection.close()
    nodes = [line for line in lines if "->" in line or not line.startswith(" ")]
    return f"`{first}…`\n\n```\n" + "\n".join(nodes[:25]) + "\n```"


if __name__ == "__main__":
    main()
