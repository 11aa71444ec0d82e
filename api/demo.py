"""Demo data for local use: one clinic, its admin, two clinicians and enrolled patients."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.orm import Session

from api import factories
from api.db import utcnow
from api.domain import check_ins as check_in_service
from api.domain import courses
from api.domain.access import Actor
from api.domain.identity import IdentitySettings
from api.domain.registry import Registry
from api.domain.rules import Rules
from api.models import Clinic, Patient, User

DEMO_CLINIC_ID = uuid.UUID("00000000-0000-4000-8000-00000000c11c")
# Demo-only passwords for a local SQLite file; `interval demo` refuses to run in production.
DEMO_PASSWORD = "interval-demo"  # noqa: S105 - printed for local demo use

STAFF = [
    ("admin@demo.interval.test", "Avery Admin", "clinic_admin"),
    ("dr.rivera@demo.interval.test", "Dr. Sam Rivera", "clinician"),
    ("dr.okafor@demo.interval.test", "Dr. Ngozi Okafor", "clinician"),
]
# (email, name, timezone, MRN, birth year, index of the clinician in STAFF)
PATIENTS = [
    ("maya@demo.interval.test", "Maya L.", "America/New_York", "D-1001", 1986, 1),
    ("jordan@demo.interval.test", "Jordan P.", "America/Chicago", "D-1002", 1979, 1),
    ("li@demo.interval.test", "Li W.", "America/Los_Angeles", "D-1003", 1992, 1),
    ("sam@demo.interval.test", "Sam K.", "America/New_York", "D-1004", 1968, 2),
    ("rosa@demo.interval.test", "Rosa M.", "America/Denver", "D-1005", 1990, 2),
    ("theo@demo.interval.test", "Theo B.", "Europe/London", "D-1006", 1983, 2),
]


# Per patient: indication, instrument, totals before each induction infusion then weekly,
# and the day of an item-9 positive (PHQ-9 only). Shapes follow community-clinic outcomes:
# about half respond, some remit, some relapse in maintenance (CLINICAL.md).
HISTORIES = [
    ("depression", "phq9", [19, 16, 13, 10, 8, 6, 5, 4, 4], None),  # responder, remits
    ("depression", "phq9", [18, 16, 15, 13, 12, 11, 11, 12], None),  # partial responder
    ("depression", "phq9", [17, 18, 16, 17, 17, 18, 16, 17], 3),  # non-responder, item 9
    ("depression", "phq9", [21, 15, 11, 8, 6, 5, 9, 13, 16], None),  # relapse in maintenance
    ("ptsd", "pcl5", [52, 47, 41, 36, 31, 28, 26], None),
    ("chronic_pain", "pain", [7, 6, 6, 5, 4, 4, 3], None),
]
INDUCTION_DAYS = [0, 2, 4, 7, 9, 11]


def load_history(
    session: Session,
    registry: Registry,
    *,
    patient: Patient,
    patient_user: User,
    clinician: User,
    history: tuple,
    now: dt.datetime,
) -> None:
    """A course begun 45 days ago: six induction infusions, monthly-ish maintenance, and
    check-ins before each induction infusion and weekly after, some weeks missed."""
    indication, key, totals, item9_day = history
    clinician_actor = Actor(clinician.id, "clinician", clinician.clinic_id)
    patient_actor = Actor(patient_user.id, "patient", patient.clinic_id, patient_id=patient.id)
    start = now - dt.timedelta(days=45)
    course = courses.create_course(
        session,
        Rules(registry),
        actor=clinician_actor,
        patient_id=patient.id,
        indications=[indication],
        started_on=start.date(),
        induction_infusions=6,
        plan=None,
        now=start,
    ).course
    for day in [*INDUCTION_DAYS, 25, 38]:
        courses.record_infusion(
            session,
            Rules(registry),
            actor=clinician_actor,
            course_id=course.id,
            now=now,
            fields={
                "status": "completed",
                "administered_at": start + dt.timedelta(days=day),
                "dose_mg_per_kg": 0.5,
                "duration_minutes": 40,
                "blood_pressure": {
                    "before": [122, 80],
                    "peak": [148 + day % 5, 92],
                    "after": [126, 82],
                },
            },
        )
    courses.record_infusion(
        session,
        Rules(registry),
        actor=clinician_actor,
        course_id=course.id,
        now=now,
        fields={"status": "scheduled", "scheduled_for": now + dt.timedelta(days=2, hours=3)},
    )
    answer_history(session, registry, patient_actor, patient, key, totals, item9_day, start, now)


def answer_history(
    session: Session,
    registry: Registry,
    actor: Actor,
    patient: Patient,
    key: str,
    totals: list[int],
    item9_day: int | None,
    start: dt.datetime,
    now: dt.datetime,
) -> None:
    """Check-ins before each induction infusion and weekly after, one week missed."""
    definition = registry[key]
    days = [-2, 1.5, 3.5, 6.5, 8.5, 13, 20, 27, 34, 41]
    for index, total in enumerate(totals):
        if index == 5 and key != "phq9":
            continue  # a missed week
        fixed = (
            {"9": 1}
            if key == "phq9" and index == item9_day
            else ({"9": 0} if key == "phq9" else {})
        )
        check_in_service.store(
            session,
            Rules(registry),
            actor=actor,
            patient=patient,
            now=now,
            submission=check_in_service.Submission(
                questionnaire=key,
                answers=factories.answers_summing_to(definition, total, fixed),
                completed_at=start + dt.timedelta(days=days[index], hours=9),
            ),
        )


def load_demo(
    session: Session, settings: IdentitySettings, registry: Registry | None = None
) -> list[str]:
    """Create the demo clinic unless it exists; return the sign-in lines to print."""
    credentials = [f"{email} / {DEMO_PASSWORD}  ({role})" for email, _, role in STAFF]
    credentials += [f"{email} / {DEMO_PASSWORD}  (patient)" for email, *_ in PATIENTS]
    if session.get(Clinic, DEMO_CLINIC_ID) is not None:
        return credentials
    now = utcnow()
    password_hash = settings.passwords.hash(DEMO_PASSWORD)
    clinic = factories.clinic(session, "Demo Ketamine Clinic", id=DEMO_CLINIC_ID)
    staff = [
        factories.user(
            session, clinic, role, email=email, display_name=name, password_hash=password_hash
        )
        for email, name, role in STAFF
    ]
    for index, (email, name, timezone, mrn, birth_year, clinician) in enumerate(PATIENTS):
        account = factories.user(
            session, clinic, "patient", email=email, display_name=name, password_hash=password_hash
        )
        patient = factories.patient(
            session,
            clinic,
            account=account,
            care_team=[staff[clinician]],
            display_name=name,
            mrn=mrn,
            birth_year=birth_year,
            timezone=timezone,
        )
        if registry is not None:
            load_history(
                session,
                registry,
                patient=patient,
                patient_user=account,
                clinician=staff[clinician],
                history=HISTORIES[index],
                now=now,
            )
    return credentials
