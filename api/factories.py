"""Records for tests, the demo clinic and the benchmark, made one way: a clinic, its users,
patients with their care teams, and answers that sum to a chosen total.

Each function adds and flushes; the caller commits. Nothing here checks permissions: these make
the world the API is then exercised in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable

from sqlalchemy import insert
from sqlalchemy.orm import Session

from api.db import utcnow
from api.domain.questionnaires import Definition
from api.domain.scoring import score
from api.models import CareTeamMember, CheckIn, Clinic, Patient, User


def clinic(session: Session, name: str = "Clinic", *, id: uuid.UUID | None = None) -> Clinic:
    made = Clinic(id=id or uuid.uuid4(), name=name, created_at=utcnow())
    session.add(made)
    session.flush()
    return made


def user(
    session: Session,
    of_clinic: Clinic,
    role: str = "clinician",
    *,
    email: str | None = None,
    display_name: str | None = None,
    password_hash: str | None = None,
    active: bool = True,
) -> User:
    made = User(
        id=uuid.uuid4(),
        clinic_id=of_clinic.id,
        email=email or f"{role}-{uuid.uuid4().hex[:10]}@example.test",
        display_name=display_name or f"{role.replace('_', ' ').title()} {uuid.uuid4().hex[:4]}",
        role=role,
        password_hash=password_hash,
        is_active=active,
        created_at=utcnow(),
    )
    session.add(made)
    session.flush()
    return made


def patient(
    session: Session,
    of_clinic: Clinic,
    *,
    account: User | None = None,
    care_team: Iterable[User] = (),
    display_name: str | None = None,
    mrn: str | None = None,
    birth_year: int | None = None,
    timezone: str = "America/New_York",
) -> Patient:
    """A patient of the clinic, enrolled when `account` is given, with their care team."""
    made = Patient(
        id=uuid.uuid4(),
        clinic_id=of_clinic.id,
        user_id=account.id if account else None,
        display_name=display_name or f"Patient {uuid.uuid4().hex[:6]}",
        mrn=mrn,
        birth_year=birth_year,
        timezone=timezone,
        created_at=utcnow(),
    )
    session.add(made)
    session.flush()
    for clinician in care_team:
        join_care_team(session, made, clinician)
    return made


def join_care_team(session: Session, of_patient: Patient, clinician: User) -> None:
    session.add(
        CareTeamMember(
            patient_id=of_patient.id,
            user_id=clinician.id,
            clinic_id=of_patient.clinic_id,
            added_at=utcnow(),
        )
    )
    session.flush()


def answers_summing_to(
    definition: Definition, total: int, fixed: dict[str, int] | None = None
) -> dict[str, int]:
    """Every scored item answered, summing to `total`: items filled in turn, deterministic.
    `fixed` answers (PHQ-9 item 9, say) are kept as given and count toward the total."""
    fixed = fixed or {}
    scored = list(definition.scored_items)
    answers = {item.id: 0 for item in scored} | fixed
    remaining = total - sum(fixed.values())
    if not 0 <= remaining <= sum(i.max_value for i in scored if i.id not in fixed):
        raise ValueError(f"{definition.key} cannot sum to {total} with {fixed}")
    while remaining > 0:
        for item in scored:
            if remaining and item.id not in fixed and answers[item.id] < item.max_value:
                answers[item.id] += 1
                remaining -= 1
    return answers


def check_in_values(
    of_patient: Patient,
    entered_by: uuid.UUID,
    definition: Definition,
    answers: dict[str, int],
    completed_at: dt.datetime,
) -> dict:
    """A scored check-in's columns, sent by the patient five minutes after completing it."""
    result = score(definition, answers)
    return {
        "id": uuid.uuid4(),
        "clinic_id": of_patient.clinic_id,
        "patient_id": of_patient.id,
        "questionnaire": definition.key,
        "questionnaire_version": definition.version,
        "answers": answers,
        "total": result.total,
        "severity": result.severity,
        "subscales": result.subscales,
        "flags": list(result.flags),
        "completed_at": completed_at,
        "completed_offset_minutes": 0,
        "received_at": completed_at + dt.timedelta(minutes=5),
        "late": False,
        "status": "final",
        "source": "patient",
        "entered_by": entered_by,
        "idempotency_key": None,
        "body_hash": hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
    }


def bulk_check_ins(
    session: Session,
    of_patient: Patient,
    entered_by: uuid.UUID,
    rows: Iterable[tuple[Definition, dict[str, int], dt.datetime]],
) -> int:
    """Scored check-ins inserted in one statement, without alerts: history for benchmarks and
    load tests, where going through the API one at a time would take hours."""
    values = [
        check_in_values(of_patient, entered_by, definition, answers, completed_at)
        for definition, answers, completed_at in rows
    ]
    if values:
        session.execute(insert(CheckIn), values)
    return len(values)
