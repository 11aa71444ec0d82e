"""Who may see what: every lookup of patient data is scoped here. Out of scope is NotFound."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, bindparam, exists, false, select
from sqlalchemy.orm import Session

from api.domain import timeline
from api.domain.errors import Forbidden, NotFound
from api.models import Alert, CareTeamMember, CheckIn, Clinic, Course, Infusion, Patient, User
from api.models.identity import STAFF_ROLES


@dataclass(frozen=True)
class Actor:
    """The authenticated caller."""

    user_id: uuid.UUID
    role: str
    clinic_id: uuid.UUID
    patient_id: uuid.UUID | None = None
    family_id: uuid.UUID | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


def patient_filter(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on Patient selecting exactly the patients the actor may see."""
    same_clinic = Patient.clinic_id == actor.clinic_id
    if actor.role == "clinic_admin":
        return same_clinic
    if actor.role == "clinician":
        on_care_team = exists().where(
            CareTeamMember.patient_id == Patient.id,
            CareTeamMember.user_id == actor.user_id,
            CareTeamMember.clinic_id == actor.clinic_id,
        )
        return same_clinic & on_care_team
    if actor.role == "patient" and actor.patient_id is not None:
        return same_clinic & (Patient.id == actor.patient_id)
    return false()


def get_patient(session: Session, actor: Actor, patient_id: uuid.UUID) -> Patient:
    """The patient if the actor may see them; NotFound otherwise, whether or not they exist."""
    patient = session.scalar(select(Patient).where(Patient.id == patient_id, patient_filter(actor)))
    if patient is None:
        raise NotFound("Patient not found.")
    return patient


def get_patient_timeline(
    session: Session, actor: Actor, patient_id: uuid.UUID
) -> tuple[Patient, timeline.PatientTimeline]:
    """The patient, if the actor may see them, with their courses and given infusions, in one
    statement; NotFound otherwise."""
    found = timeline.patient_with_timeline(
        session,
        scoped_timeline_query(actor.role),
        {
            "patient_id": patient_id,
            "actor_user_id": actor.user_id,
            "actor_clinic_id": actor.clinic_id,
            "actor_patient_id": actor.patient_id,
        },
    )
    if found is None:
        raise NotFound("Patient not found.")
    return found


@functools.cache
def scoped_timeline_query(role: str) -> Select:
    """get_patient_timeline's statement for an actor of this role, built once per role: the
    same patient_filter, with parameters where the actor's and the patient's ids go. So
    patient_filter may decide on the role alone: any other value of the actor is a parameter
    here (a patient without a patient record matches no row, `patients.id = NULL`)."""
    placeholder = Actor(
        user_id=cast(uuid.UUID, bindparam("actor_user_id")),
        role=role,
        clinic_id=cast(uuid.UUID, bindparam("actor_clinic_id")),
        patient_id=cast(uuid.UUID, bindparam("actor_patient_id")),
    )
    return timeline.timeline_query(
        Patient.id == bindparam("patient_id"), patient_filter(placeholder)
    )


def patient_record_filter(actor: Actor, model) -> ColumnElement[bool]:
    """Rows of a patient-data table (with clinic_id and patient_id) the actor may see."""
    return (model.clinic_id == actor.clinic_id) & exists().where(
        Patient.id == model.patient_id, patient_filter(actor)
    )


def get_patient_record(session: Session, actor: Actor, model, record_id: uuid.UUID, label: str):
    """One row of a patient-data table if the actor may see its patient; NotFound otherwise."""
    record = session.scalar(
        select(model).where(model.id == record_id, patient_record_filter(actor, model))
    )
    if record is None:
        raise NotFound(f"{label} not found.")
    return record


def require_role(actor: Actor, *roles: str) -> None:
    """Refuse a caller whose role may not use this operation at all (not resource-specific)."""
    if actor.role not in roles:
        raise Forbidden("Your role may not do this.")


def require_staff(actor: Actor) -> None:
    require_role(actor, *STAFF_ROLES)


def require_own_clinic(actor: Actor, clinic_id: uuid.UUID) -> None:
    """Another clinic's id answers 404, like any unknown clinic."""
    if clinic_id != actor.clinic_id:
        raise NotFound("Clinic not found.")


def require_clinic_admin(actor: Actor, clinic_id: uuid.UUID) -> None:
    """Only an admin of that clinic."""
    require_role(actor, "clinic_admin")
    require_own_clinic(actor, clinic_id)


def sees_signals(actor: Actor) -> bool:
    """Signals are for clinicians to review, never shown to patients."""
    return actor.role == "clinician"


def sees_infusion_details(actor: Actor) -> bool:
    """Clinicians see an infusion's dose, vital signs, side effects and notes; patients its
    dates, number and phase only."""
    return actor.role == "clinician"


def get_clinic_staff(session: Session, actor: Actor, user_id: uuid.UUID) -> User:
    """A staff user of the actor's clinic, or NotFound."""
    user = session.scalar(
        select(User).where(
            User.id == user_id,
            User.clinic_id == actor.clinic_id,
            User.role.in_(STAFF_ROLES),
        )
    )
    if user is None:
        raise NotFound("Staff member not found.")
    return user


# Path parameters that name a clinic's record, and where that record keeps its clinic.
TARGETS: dict[str, Any] = {
    "patient_id": Patient,
    "check_in_id": CheckIn,
    "course_id": Course,
    "infusion_id": Infusion,
    "alert_id": Alert,
}


def target_of_probe(session: Session, path_ids: dict) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """(clinic id, patient id) of the record an unauthenticated request named, when it exists,
    so that the clinic's own audit trail shows probes of its patients and routes."""
    clinic_id = path_ids.get("clinic_id")
    if isinstance(clinic_id, uuid.UUID) and session.get(Clinic, clinic_id) is not None:
        return clinic_id, None
    for name, model in TARGETS.items():
        record_id = path_ids.get(name)
        if isinstance(record_id, uuid.UUID):
            columns = (model.clinic_id, model.id if model is Patient else model.patient_id)
            row = session.execute(select(*columns).where(model.id == record_id)).first()
            if row is not None:
                return row[0], row[1]
    return None, None
