"""Demo data for local use: one clinic, its admin, two clinicians and enrolled patients."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.orm import Session

from api.db import utcnow
from api.domain.identity import IdentitySettings
from api.models import CareTeamMember, Clinic, Patient, User

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


def load_demo(session: Session, settings: IdentitySettings) -> list[str]:
    """Create the demo clinic unless it exists; return the sign-in lines to print."""
    credentials = [f"{email} / {DEMO_PASSWORD}  ({role})" for email, _, role in STAFF]
    credentials += [f"{email} / {DEMO_PASSWORD}  (patient)" for email, *_ in PATIENTS]
    if session.get(Clinic, DEMO_CLINIC_ID) is not None:
        return credentials
    now = utcnow()
    password_hash = settings.passwords.hash(DEMO_PASSWORD)
    session.add(Clinic(id=DEMO_CLINIC_ID, name="Demo Ketamine Clinic", created_at=now))
    session.flush()
    staff = []
    for email, name, role in STAFF:
        user = User(
            id=uuid.uuid4(),
            clinic_id=DEMO_CLINIC_ID,
            email=email,
            display_name=name,
            role=role,
            password_hash=password_hash,
            is_active=True,
            created_at=now,
        )
        session.add(user)
        staff.append(user)
    session.flush()
    for index, (email, name, timezone, mrn, birth_year, clinician) in enumerate(PATIENTS):
        user = User(
            id=uuid.uuid4(),
            clinic_id=DEMO_CLINIC_ID,
            email=email,
            display_name=name,
            role="patient",
            password_hash=password_hash,
            is_active=True,
            created_at=now,
        )
        session.add(user)
        session.flush()
        patient = Patient(
            id=uuid.uuid4(),
            clinic_id=DEMO_CLINIC_ID,
            user_id=user.id,
            display_name=name,
            mrn=mrn,
            birth_year=birth_year,
            timezone=timezone,
            created_at=now - dt.timedelta(days=60 - index),
        )
        session.add(patient)
        session.flush()
        session.add(
            CareTeamMember(
                patient_id=patient.id,
                user_id=staff[clinician].id,
                clinic_id=DEMO_CLINIC_ID,
                added_at=now,
                added_by=staff[0].id,
            )
        )
    session.flush()
    return credentials
