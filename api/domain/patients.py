"""Patients and care teams."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from api.db import rows_affected
from api.domain.access import Actor, get_patient, require_staff
from api.domain.errors import Conflict, Invalid, NotFound
from api.domain.identity import IdentitySettings, patient_enrollment_code
from api.models import CareTeamMember, Patient, User


def create_patient(
    session: Session,
    settings: IdentitySettings,
    *,
    actor: Actor,
    display_name: str,
    timezone: str,
    mrn: str | None,
    birth_year: int | None,
    now: dt.datetime,
) -> tuple[PatientRecord, str, dt.datetime]:
    """A patient in the actor's clinic and their first enrollment code; a clinician who creates
    a patient joins the care team."""
    if mrn is not None and session.scalar(
        select(exists().where(Patient.clinic_id == actor.clinic_id, Patient.mrn == mrn))
    ):
        raise Conflict("A patient with this MRN already exists.", errors={"mrn": ["In use."]})
    patient = Patient(
        id=uuid.uuid4(),
        clinic_id=actor.clinic_id,
        display_name=display_name,
        timezone=timezone,
        mrn=mrn,
        birth_year=birth_year,
        created_at=now,
    )
    session.add(patient)
    session.flush()
    if actor.role == "clinician":
        session.add(
            CareTeamMember(
                patient_id=patient.id,
                user_id=actor.user_id,
                clinic_id=actor.clinic_id,
                added_at=now,
                added_by=actor.user_id,
            )
        )
    code, expires_at = patient_enrollment_code(
        session, settings, actor=actor, patient=patient, now=now
    )
    return records(session, [patient])[0], code, expires_at


@dataclass(frozen=True)
class PatientRecord:
    patient: Patient
    care_team: list[User]


def records(session: Session, patients: list[Patient]) -> list[PatientRecord]:
    """Each patient with their care team, in one query however many there are."""
    teams = care_team(session, [p.id for p in patients])
    return [PatientRecord(patient, teams[patient.id]) for patient in patients]


def read_patient(session: Session, *, actor: Actor, patient_id: uuid.UUID) -> PatientRecord:
    return records(session, [get_patient(session, actor, patient_id)])[0]


def new_enrollment_code(
    session: Session,
    settings: IdentitySettings,
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    now: dt.datetime,
) -> tuple[str, dt.datetime]:
    """A new code for a patient not yet enrolled; earlier unused codes stop working."""
    patient = get_patient(session, actor, patient_id)
    return patient_enrollment_code(session, settings, actor=actor, patient=patient, now=now)


def care_team(session: Session, patient_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[User]]:
    """Care-team members of several patients in one query."""
    members: dict[uuid.UUID, list[User]] = {patient_id: [] for patient_id in patient_ids}
    if not patient_ids:
        return members
    rows = session.execute(
        select(CareTeamMember.patient_id, User)
        .join(User, User.id == CareTeamMember.user_id)
        .where(CareTeamMember.patient_id.in_(patient_ids))
        .order_by(User.display_name, User.id)
    )
    for patient_id, user in rows:
        members[patient_id].append(user)
    return members


def _manageable_patient(session: Session, actor: Actor, patient_id: uuid.UUID) -> Patient:
    """Staff who can see a patient manage their care team: admins any in their clinic,
    clinicians the care teams they are on (exactly what patient_filter lets them see)."""
    require_staff(actor)
    return get_patient(session, actor, patient_id)


def add_to_care_team(
    session: Session,
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    user_id: uuid.UUID,
    now: dt.datetime,
) -> Patient:
    patient = _manageable_patient(session, actor, patient_id)
    clinician = session.scalar(
        select(User).where(
            User.id == user_id, User.clinic_id == patient.clinic_id, User.role == "clinician"
        )
    )
    if clinician is None:
        # The patient exists: what is wrong is the body's reference (the same answer for a
        # user of another clinic, a non-clinician and no one at all).
        raise Invalid(
            "No clinician of this clinic has that id.",
            errors={"user_id": ["Not a clinician of this clinic."]},
        )
    if session.get(CareTeamMember, (patient.id, clinician.id)) is None:
        session.add(
            CareTeamMember(
                patient_id=patient.id,
                user_id=clinician.id,
                clinic_id=patient.clinic_id,
                added_at=now,
                added_by=actor.user_id,
            )
        )
        session.flush()
    return patient


def remove_from_care_team(
    session: Session, *, actor: Actor, patient_id: uuid.UUID, user_id: uuid.UUID
) -> Patient:
    patient = _manageable_patient(session, actor, patient_id)
    removed = rows_affected(
        session,
        delete(CareTeamMember).where(
            CareTeamMember.patient_id == patient.id, CareTeamMember.user_id == user_id
        ),
    )
    if not removed:
        raise NotFound("That clinician is not on this care team.")
    return patient
