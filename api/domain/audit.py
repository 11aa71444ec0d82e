"""The audit trail: building events and reading them back for clinic admins."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from api.domain.access import Actor
from api.domain.pagination import Page, keyset_page
from api.models import AuditEvent


@dataclass
class AuditNote:
    """What one request did, filled in as the request learns it; written once at its end."""

    action: str
    resource_type: str | None = None
    resource_id: str | None = None
    # Every record a request touched, when there are several (a batch's check-ins).
    resource_ids: list[str] = field(default_factory=list)
    actor_id: uuid.UUID | None = None
    actor_role: str | None = None
    clinic_id: uuid.UUID | None = None
    patient_ids: list[uuid.UUID] = field(default_factory=list)
    # Further events of the same request, e.g. a lockout after a failed login.
    extra_actions: list[str] = field(default_factory=list)

    def events(
        self, *, outcome: int, request_id: str | None, client_address: str | None
    ) -> list[AuditEvent]:
        patient_ids = list(dict.fromkeys(self.patient_ids))
        return [
            AuditEvent(
                actor_id=self.actor_id,
                actor_role=self.actor_role,
                clinic_id=self.clinic_id,
                patient_id=patient_ids[0] if len(patient_ids) == 1 else None,
                patient_ids=[str(p) for p in patient_ids] if len(patient_ids) > 1 else None,
                action=action,
                resource_type=self.resource_type,
                resource_id=self.resource_id,
                resource_ids=self.resource_ids or None,
                outcome=outcome,
                request_id=request_id,
                client_address=client_address,
            )
            for action in [self.action, *self.extra_actions]
        ]


def list_events(
    session: Session,
    actor: Actor,
    *,
    patient_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
    action: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int,
    cursor: dict | None,
) -> Page:
    """The actor's clinic's events, newest first; only clinic admins reach this."""
    stmt = select(AuditEvent).where(AuditEvent.clinic_id == actor.clinic_id)
    if patient_id is not None:
        stmt = stmt.where(
            or_(
                AuditEvent.patient_id == patient_id,
                cast(AuditEvent.patient_ids, String).like(f'%"{patient_id}"%'),
            )
        )
    if actor_id is not None:
        stmt = stmt.where(AuditEvent.actor_id == actor_id)
    if action is not None:
        stmt = stmt.where(AuditEvent.action == action)
    if since is not None:
        stmt = stmt.where(AuditEvent.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(AuditEvent.occurred_at < until)
    return keyset_page(session, stmt, keys=[AuditEvent.id], limit=limit, cursor=cursor)
