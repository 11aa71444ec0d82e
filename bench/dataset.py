"""A clinic network's worth of history for the read scenarios (S3 trend, S4 outcomes, S5 panel),
written with bulk inserts: 10,000 patients and 1,000,000 check-ins by default.

Ten clinics of equal size; a clinician for every 200 patients; every patient enrolled, on a
course that started 90 days ago with six induction infusions, answering weekly (PHQ-9, GAD-7
or PCL-5 by indication) back over their share of the check-ins. One patient of the first
clinic, the one S3 reads, has two years of history: daily pain, weekly PHQ-9, GAD-7 and PCL-5,
four courses (three re-inductions) with monthly maintenance infusions.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.orm import Session

from api import factories
from api.domain import timeline
from api.domain.registry import Registry
from api.models import CareTeamMember, Clinic, Course, Infusion, Patient, User

CLINICS = 10
PANEL = 200  # patients a clinician cares for
PASSWORD = "bench password 1"  # noqa: S105 - the seeded accounts' password, on loopback only
INSTRUMENT = {"depression": "phq9", "anxiety": "gad7", "ptsd": "pcl5"}
INDUCTION_DAYS = (0, 2, 4, 7, 9, 11)
CHUNK = 20_000  # check-ins an INSERT carries


@dataclass(frozen=True)
class Network:
    clinic_id: uuid.UUID  # the first clinic: S4's
    clinician_email: str  # the first clinician: S5's panel, S3's reader
    admin_email: str
    long_history_patient_id: uuid.UUID  # S3's
    patients: int
    check_ins: int


@dataclass
class People:
    staff: list[dict]
    patients: list[dict]
    team: list[dict]
    courses: list[dict]
    infusions: list[dict]
    indication: dict[uuid.UUID, str]


def seed_network(
    session: Session,
    registry: Registry,
    *,
    password_hash: str,
    patients: int,
    check_ins: int,
    now: dt.datetime,
) -> Network:
    rng = random.Random(7)  # noqa: S311 - a reproducible dataset, not a secret
    clinics = [factories.clinic(session, f"Network clinic {n + 1}") for n in range(CLINICS)]
    people = enrolled_people(clinics, patients // CLINICS, password_hash, now, rng)
    long_history = people.patients[0]
    re_inductions(people, long_history, now)
    session.execute(insert(User), people.staff)
    session.execute(insert(Patient), people.patients)
    session.execute(insert(CareTeamMember), people.team)
    session.execute(insert(Course), people.courses)
    session.execute(insert(Infusion), people.infusions)
    weeks = max(1, check_ins // patients)
    rows = itertools.chain(
        long_history_rows(registry, long_history["id"], now),
        (
            row
            for patient in people.patients[1:]
            for row in weekly_rows(
                registry,
                patient["id"],
                INSTRUMENT[people.indication[patient["id"]]],
                weeks,
                now,
                rng,
            )
        ),
    )
    by_patient = {p["id"]: p for p in people.patients}
    written = 0
    for chunk in chunks(rows, CHUNK):
        for patient_id, group in itertools.groupby(chunk, key=lambda row: row[0]):
            patient = by_patient[patient_id]
            written += factories.bulk_check_ins(
                session,
                Patient(id=patient_id, clinic_id=patient["clinic_id"]),
                patient["user_id"],
                [row[1:] for row in group],
            )
    session.commit()
    staff = people.staff
    return Network(
        clinic_id=clinics[0].id,
        clinician_email=next(u["email"] for u in staff if u["role"] == "clinician"),
        admin_email=next(u["email"] for u in staff if u["role"] == "clinic_admin"),
        long_history_patient_id=long_history["id"],
        patients=len(people.patients),
        check_ins=written,
    )


def enrolled_people(
    clinics: list[Clinic], per_clinic: int, password_hash: str, now: dt.datetime, rng
) -> People:
    """Every clinic's admin, clinicians and enrolled patients, each patient on a course."""
    people = People([], [], [], [], [], {})
    for clinic in clinics:
        clinicians = [
            account(clinic, "clinician", password_hash, now)
            for _ in range(max(1, per_clinic // PANEL))
        ]
        people.staff += [account(clinic, "clinic_admin", password_hash, now), *clinicians]
        for n in range(per_clinic):
            user = account(clinic, "patient", password_hash, now)
            patient = {
                "id": uuid.uuid4(),
                "clinic_id": clinic.id,
                "user_id": user["id"],
                "display_name": f"Patient {n:05d}",
                "timezone": "America/New_York",
                "created_at": now,
            }
            clinician = clinicians[n % len(clinicians)]["id"]
            people.staff.append(user)
            people.patients.append(patient)
            people.team.append(
                {
                    "patient_id": patient["id"],
                    "user_id": clinician,
                    "clinic_id": clinic.id,
                    "added_at": now,
                }
            )
            people.indication[patient["id"]] = rng.choice(list(INSTRUMENT))
            course = course_row(
                patient, clinician, people.indication[patient["id"]], now, days_ago=90
            )
            people.courses.append(course)
            people.infusions += induction(course, now)
    return people


def re_inductions(people: People, patient: dict, now: dt.datetime) -> None:
    """Two years of courses for one patient, in place of their one: three ended after 170
    days, each with monthly maintenance, and the active one."""
    people.courses = [c for c in people.courses if c["patient_id"] != patient["id"]]
    people.infusions = [i for i in people.infusions if i["patient_id"] != patient["id"]]
    people.indication[patient["id"]] = "depression"
    clinician = people.team[0]["user_id"]
    for number, days_ago in enumerate((720, 540, 360, 180)):
        course = course_row(patient, clinician, "depression", now, days_ago=days_ago)
        if number < 3:
            ended = course["started_on"] + dt.timedelta(days=170)
            course |= {"status": "completed", "completed_on": ended}
            course |= timeline.course_instants(course["started_on"], ended, patient["timezone"])
        people.courses.append(course)
        people.infusions += induction(course, now) + maintenance(course, now)


def account(clinic: Clinic, role: str, password_hash: str, now: dt.datetime) -> dict:
    user_id = uuid.uuid4()
    return {
        "id": user_id,
        "clinic_id": clinic.id,
        "email": f"{role}-{user_id.hex[:12]}@network.test",
        "display_name": f"{role.replace('_', ' ').title()} {user_id.hex[:4]}",
        "role": role,
        "password_hash": password_hash,
        "is_active": True,
        "created_at": now,
    }


def course_row(
    patient: dict, clinician_id: uuid.UUID, indication: str, now: dt.datetime, *, days_ago: int
) -> dict:
    started_on = (now - dt.timedelta(days=days_ago)).date()
    return {
        "id": uuid.uuid4(),
        "clinic_id": patient["clinic_id"],
        "patient_id": patient["id"],
        "indications": [indication],
        "started_on": started_on,
        "completed_on": None,
        "induction_infusions": 6,
        "status": "active",
        "created_at": now,
        "created_by": clinician_id,
        "changed_at": now,
        "version": 1,
    } | timeline.course_instants(started_on, None, patient["timezone"])


def infusion_row(course: dict, day: int) -> dict:
    given = dt.datetime.combine(
        course["started_on"] + dt.timedelta(days=day), dt.time(15), tzinfo=dt.UTC
    )
    return {
        "id": uuid.uuid4(),
        "clinic_id": course["clinic_id"],
        "course_id": course["id"],
        "patient_id": course["patient_id"],
        "status": "completed",
        "administered_at": given,
        "dose_mg_per_kg": 0.5,
        "created_at": given,
        "created_by": course["created_by"],
        "updated_at": given,
        "version": 1,
    }


def induction(course: dict, now: dt.datetime) -> list[dict]:
    rows = [infusion_row(course, day) for day in INDUCTION_DAYS]
    return [r for r in rows if r["administered_at"] < now]


def maintenance(course: dict, now: dt.datetime) -> list[dict]:
    rows = [infusion_row(course, day) for day in range(30, 170, 30)]
    return [r for r in rows if r["administered_at"] < now]


def weekly_rows(
    registry: Registry,
    patient_id: uuid.UUID,
    key: str,
    weeks: int,
    now: dt.datetime,
    rng: random.Random,
) -> Iterator[tuple]:
    definition = registry[key]
    start = rng.randint(definition.score_max // 2, definition.score_max * 3 // 4)
    for week in range(weeks):
        total = max(0, start - week // 2 + rng.randint(-2, 2))
        at = now - dt.timedelta(weeks=weeks - week, hours=rng.randint(0, 48))
        yield (patient_id, definition, answers(definition, min(total, definition.score_max)), at)


def long_history_rows(
    registry: Registry, patient_id: uuid.UUID, now: dt.datetime
) -> Iterator[tuple]:
    for day in range(730):
        at = now - dt.timedelta(days=730 - day, hours=-9)
        yield (patient_id, registry["pain"], answers(registry["pain"], 3 + day % 5), at)
        if day % 7 == 0:
            for key in ("phq9", "gad7", "pcl5"):
                definition = registry[key]
                yield (patient_id, definition, answers(definition, definition.score_max // 3), at)


_ANSWERS: dict[tuple[str, int], dict] = {}


def answers(definition, total: int) -> dict:
    """Answers summing to `total`, kept: a million check-ins share a few hundred."""
    key = (definition.key, total)
    if key not in _ANSWERS:
        fixed = {"9": 0} if definition.key == "phq9" else {}  # no one endorses item 9 here
        _ANSWERS[key] = factories.answers_summing_to(definition, total, fixed)
    return _ANSWERS[key]


def chunks(rows: Iterator[tuple], size: int) -> Iterator[list[tuple]]:
    while chunk := list(itertools.islice(rows, size)):
        yield chunk
