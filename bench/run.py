"""Interval benchmark: seed a clinic, then time the hot paths in process.

    python bench/run.py [--patients 200] [--iterations 200] [--database-url URL]

Timings are of the WSGI application called in process (Flask's test client): they include
routing, validation, authentication, the database work and JSON encoding, not a network hop or
a WSGI server. Each scenario runs sequentially; the numbers are latencies, not capacity.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
import uuid

from sqlalchemy import bindparam, select, update

from api import factories
from api.app import create_app
from api.db import utcnow
from api.domain import check_ins as check_in_service
from api.domain import courses, identity, timeline
from api.domain.access import Actor
from api.domain.rules import Rules
from api.migrate import upgrade
from api.models import CheckIn, Clinic, Course, Infusion, Patient


def seed(app, patients: int) -> dict:
    """One clinic, clinicians with 40 patients each; every patient has a course with eight
    infusions and 30 PHQ-9 check-ins over 60 days."""
    database = app.extensions["interval.db"]
    registry = app.extensions["interval.questionnaires"]
    phq9 = registry["phq9"]
    settings = app.extensions["interval.identity"]
    now = utcnow()
    start = now - dt.timedelta(days=60)
    with database.session() as session:
        clinic = factories.clinic(session, "Bench clinic")
        clinicians = [
            factories.user(session, clinic, "clinician") for _ in range(max(1, patients // 40))
        ]
        patient_rows = []
        for n in range(patients):
            user = factories.user(session, clinic, "patient")
            clinician = clinicians[n % len(clinicians)]
            patient = factories.patient(session, clinic, account=user, care_team=[clinician])
            clinician_actor = Actor(clinician.id, "clinician", clinic.id)
            course = courses.create_course(
                session,
                Rules(registry),
                actor=clinician_actor,
                patient_id=patient.id,
                indications=["depression"],
                started_on=start.date(),
                induction_infusions=6,
                plan=None,
                now=start,
            ).course
            for day in (1, 3, 5, 8, 10, 12, 30, 45):
                courses.record_infusion(
                    session,
                    Rules(registry),
                    actor=clinician_actor,
                    course_id=course.id,
                    now=now,
                    fields={
                        "status": "completed",
                        "dose_mg_per_kg": 0.5,
                        "administered_at": start + dt.timedelta(days=day, hours=15),
                    },
                )
            patient_actor = Actor(user.id, "patient", clinic.id, patient_id=patient.id)
            for k in range(30):
                check_in_service.store(
                    session,
                    Rules(registry),
                    actor=patient_actor,
                    patient=patient,
                    timeline=timeline.of_patient(session, patient.id),
                    now=now,
                    submission=check_in_service.Submission(
                        questionnaire="phq9",
                        answers=factories.answers_summing_to(
                            phq9, max(2, 20 - k // 2), {"9": int(k == 7)}
                        ),
                        completed_at=start + dt.timedelta(days=2 * k, hours=9),
                    ),
                )
            patient_rows.append((patient, user))
        tokens = {
            "clinician": identity.start_session(
                session, settings, user=clinicians[0], now=now
            ).access_token,
            "patients": [
                identity.start_session(session, settings, user=user, now=now).access_token
                for _, user in patient_rows[:20]
            ],
        }
        session.commit()
        return {
            "clinic_id": clinic.id,
            "patients": [p.id for p, _ in patient_rows],
            "tokens": tokens,
        }


LONG_DAYS = 730


def seed_long_history(app, world: dict) -> dict:
    """One more patient: two years of daily pain ratings and weekly PHQ-9, GAD-7 and PCL-5
    (about 1,040 check-ins) over a course of induction and monthly maintenance; and a clinician
    with every patient of the clinic on their panel."""
    database = app.extensions["interval.db"]
    registry = app.extensions["interval.questionnaires"]
    settings = app.extensions["interval.identity"]
    rules = Rules(registry)
    now = utcnow()
    start = now - dt.timedelta(days=LONG_DAYS)
    with database.session() as session:
        clinic = session.get_one(Clinic, world["clinic_id"])
        clinician = factories.user(session, clinic, "clinician")
        for patient_id in world["patients"]:
            factories.join_care_team(session, session.get_one(Patient, patient_id), clinician)
        account = factories.user(session, clinic, "patient")
        patient = factories.patient(session, clinic, account=account, care_team=[clinician])
        actor = Actor(clinician.id, "clinician", clinic.id)
        course = courses.create_course(
            session,
            rules,
            actor=actor,
            patient_id=patient.id,
            indications=["chronic_pain", "depression", "anxiety", "ptsd"],
            started_on=start.date(),
            induction_infusions=6,
            plan=None,
            now=start,
        ).course
        days = [2, 4, 6, 9, 11, 13, *range(41, LONG_DAYS, 28)]
        for day in days:
            courses.record_infusion(
                session,
                rules,
                actor=actor,
                course_id=course.id,
                now=now,
                fields={
                    "status": "completed",
                    "dose_mg_per_kg": 0.5,
                    "administered_at": start + dt.timedelta(days=day, hours=15),
                },
            )
        rows = [
            (registry["pain"], {"1": 4 + day % 4}, start + dt.timedelta(days=day, hours=20))
            for day in range(1, LONG_DAYS)
        ]
        for key, top in (("phq9", 14), ("gad7", 12), ("pcl5", 45)):
            rows += [
                (
                    registry[key],
                    factories.answers_summing_to(
                        registry[key], top - (week % 5), {"9": 0} if key == "phq9" else None
                    ),
                    start + dt.timedelta(days=7 * week + 1, hours=9),
                )
                for week in range(LONG_DAYS // 7)
            ]
        count = factories.bulk_check_ins(session, patient, account.id, rows)
        token = identity.start_session(session, settings, user=clinician, now=now).access_token
        session.commit()
        return {"patient": patient.id, "check_ins": count, "token": token}


def timed(label: str, iterations: int, call) -> dict:
    samples = []
    for i in range(iterations):
        started = time.perf_counter()
        response = call(i)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code >= 300 and response.status_code != 207:
            raise SystemExit(f"{label}: {response.status_code} {response.get_data(as_text=True)}")
    samples.sort()
    return {
        "scenario": label,
        "n": iterations,
        "p50": statistics.median(samples),
        "p95": samples[int(len(samples) * 0.95) - 1],
        "mean": statistics.fmean(samples),
    }


def settle(app, before: dt.timedelta = dt.timedelta(minutes=2)) -> None:
    """Move every arrival and change `before` into the past, as if the clinic had been quiet
    since: the progress read model then treats what it computed as current (progress.MARGIN)."""
    with app.extensions["interval.db"].engine.begin() as connection:
        for column in (CheckIn.received_at, Infusion.updated_at, Course.changed_at):
            table = column.class_.__table__
            rows = connection.execute(select(table.c.id, column)).all()
            moved = [{"row": id_, "at": at - before} for id_, at in rows]
            statement = update(table).where(table.c.id == bindparam("row"))
            connection.execute(statement.values({column.key: bindparam("at")}), moved)


def panel_scenarios(app, client, long: dict, world: dict, n: int) -> list[dict]:
    """The panel of every patient in the clinic: its first view, which computes everyone's
    progress; a view after a quiet spell; and views while ten patients have just answered."""
    panel = {"Authorization": f"Bearer {long['token']}"}
    patients = len(world["patients"]) + 1
    url = "/v1/patients?sort=attention&limit=200"
    first = timed(
        f"GET panel sort=attention, {patients} patients, first view (computes all)",
        1,
        lambda i: client.get(url, headers=panel),
    )
    settle(app)
    quiet = timed(
        f"GET panel sort=attention, {patients} patients, nothing new",
        max(10, n // 10),
        lambda i: client.get(url, headers=panel),
    )
    phq9 = app.extensions["interval.questionnaires"]["phq9"]
    for k in range(10):
        headers = {"Authorization": f"Bearer {world['tokens']['patients'][k]}"}
        response = client.post(
            f"/v1/patients/{world['patients'][k]}/check-ins",
            headers=headers,
            json={
                "id": str(uuid.uuid4()),
                "questionnaire": "phq9",
                "answers": factories.answers_summing_to(phq9, 7, {"9": 0}),
                "completed_at": utcnow().isoformat(),
            },
        )
        assert response.status_code == 201, response.get_data(as_text=True)
    busy = timed(
        f"GET panel sort=attention, {patients} patients, 10 answered in the last minute",
        max(10, n // 10),
        lambda i: client.get(url, headers=panel),
    )
    return [first, quiet, busy]


def long_history_scenarios(client, long: dict, n: int) -> list[dict]:
    """Trends, summary and report of the two-year patient."""
    headers = {"Authorization": f"Bearer {long['token']}"}
    base = f"/v1/patients/{long['patient']}"
    return [
        timed(
            f"GET trend pain ({long['check_ins']} check-ins in the course)",
            max(10, n // 5),
            lambda i: client.get(f"{base}/trends/pain", headers=headers),
        ),
        timed(
            "GET trend phq9 (same patient)",
            max(10, n // 5),
            lambda i: client.get(f"{base}/trends/phq9", headers=headers),
        ),
        timed(
            "GET summary (same patient)",
            max(10, n // 10),
            lambda i: client.get(f"{base}/summary", headers=headers),
        ),
        timed(
            "GET report (same patient)",
            max(10, n // 10),
            lambda i: client.get(f"{base}/report", headers=headers),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="interval-bench-")
    url = args.database_url or f"sqlite:///{workdir}/bench.db"
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench-" + "k" * 60,
            "INSTANCE_DIR": workdir,
            "LOG_LEVEL": "WARNING",
            "ARGON2_TIME_COST": 2,
            "ARGON2_MEMORY_KIB": 19456,
            "ARGON2_PARALLELISM": 1,
        }
    )
    with app.extensions["interval.db"].engine.begin() as connection:
        upgrade(connection)
    started = time.perf_counter()
    world = seed(app, args.patients)
    long = seed_long_history(app, world)
    seeded = time.perf_counter() - started
    client = app.test_client()
    clinician = {"Authorization": f"Bearer {world['tokens']['clinician']}"}
    patient_tokens = world["tokens"]["patients"]
    first_patient = world["patients"][0]
    n = args.iterations
    phq9 = app.extensions["interval.questionnaires"]["phq9"]

    def as_patient(i: int) -> dict:
        return {"Authorization": f"Bearer {patient_tokens[i % len(patient_tokens)]}"}

    def submit(i: int):
        patient_id = world["patients"][i % len(patient_tokens)]
        return client.post(
            f"/v1/patients/{patient_id}/check-ins",
            headers=as_patient(i),
            json={
                "id": str(uuid.uuid4()),
                "questionnaire": "phq9",
                "answers": factories.answers_summing_to(phq9, 8, {"9": 0}),
                "completed_at": utcnow().isoformat(),
            },
        )

    def batch(i: int):
        patient_id = world["patients"][i % len(patient_tokens)]
        items = [
            {
                "id": str(uuid.uuid4()),
                "questionnaire": "phq9",
                "answers": factories.answers_summing_to(phq9, 6, {"9": 0}),
                "completed_at": (utcnow() - dt.timedelta(hours=k)).isoformat(),
            }
            for k in range(20)
        ]
        return client.post(
            f"/v1/patients/{patient_id}/check-ins/batch",
            headers=as_patient(i),
            json={"check_ins": items},
        )

    results = [
        timed("POST check-in (PHQ-9)", n, submit),
        timed("POST batch of 20 check-ins", max(10, n // 10), batch),
        timed(
            "GET check-ins, 50 with context",
            n,
            lambda i: client.get(
                f"/v1/patients/{first_patient}/check-ins?limit=50", headers=clinician
            ),
        ),
        timed(
            "GET check-ins as CSV (all)",
            max(10, n // 10),
            lambda i: client.get(
                f"/v1/patients/{first_patient}/check-ins",
                headers={**clinician, "Accept": "text/csv"},
            ),
        ),
        timed(
            "GET due",
            n,
            lambda i: client.get(f"/v1/patients/{first_patient}/due", headers=clinician),
        ),
        timed("GET alerts inbox", n, lambda i: client.get("/v1/alerts", headers=clinician)),
        timed(
            "GET patients?overdue=true (40 patients)",
            max(10, n // 10),
            lambda i: client.get("/v1/patients?overdue=true", headers=clinician),
        ),
        *long_history_scenarios(client, long, n),
        *panel_scenarios(app, client, long, world, n),
    ]
    dialect = app.extensions["interval.db"].dialect
    print(
        f"database: {dialect}; patients: {args.patients}; check-ins seeded: "
        f"{args.patients * 30}; seeding took {seeded:.1f} s\n"
    )
    print("| scenario | n | p50 ms | p95 ms | mean ms |")
    print("|---|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['scenario']} | {r['n']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['mean']:.1f} |")
    app.extensions["interval.db"].dispose()


if __name__ == "__main__":
    main()
