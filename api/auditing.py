"""Request-level audit: views note what they touched; one place writes and commits at the end."""

from __future__ import annotations

import logging

from flask import Response, g, request
from sqlalchemy.exc import SQLAlchemyError

from api.context import request_session
from api.db import insert_rows
from api.domain.access import Actor, target_of_probe
from api.domain.audit import AuditNote
from api.problems import problem

log = logging.getLogger("interval")


def start_note(action: str, resource_type: str | None) -> AuditNote:
    g.audit = AuditNote(action=action, resource_type=resource_type)
    actor = g.get("actor")
    if actor is not None:
        note(actor=actor)
    return g.audit


def note(
    *,
    action: str | None = None,
    actor: Actor | None = None,
    resource_id=None,
    resource_ids=(),
    patient_ids=(),
    extra_action: str | None = None,
    actor_id=None,
    actor_role: str | None = None,
    clinic_id=None,
) -> None:
    """Add what the request has learned to its audit event (no-op on unaudited views)."""
    current: AuditNote | None = g.get("audit")
    if current is None:
        return
    if action is not None:
        current.action = action
    if actor is not None:
        current.actor_id, current.actor_role, current.clinic_id = (
            actor.user_id,
            actor.role,
            actor.clinic_id,
        )
    if actor_id is not None:
        current.actor_id = actor_id
    if actor_role is not None:
        current.actor_role = actor_role
    if clinic_id is not None:
        current.clinic_id = clinic_id
    if resource_id is not None:
        current.resource_id = str(resource_id)
    current.resource_ids.extend(str(r) for r in resource_ids)
    current.patient_ids.extend(patient_ids)
    if extra_action is not None:
        current.extra_actions.append(extra_action)


def _note_probe(current: AuditNote) -> None:
    """A request without valid credentials: recorded as anonymous, under the clinic and
    patient it named, so the clinic's admins see who probes their records."""
    current.actor_role = "anonymous"
    try:
        clinic_id, patient_id = target_of_probe(request_session(), request.view_args or {})
    except SQLAlchemyError:
        return
    current.clinic_id = current.clinic_id or clinic_id
    if patient_id is not None:
        current.patient_ids.append(patient_id)


def persist_on_failure() -> None:
    """This request's writes must survive its error answer (a failed sign-in's counter, the
    revocation of a reused refresh token); the one commit below honours it."""
    g.persist_on_failure = True


def finish_request(response: Response) -> Response:
    """The request's one commit: its writes and its audit event together, or on error the
    audit event alone after rolling the writes back (unless the request asked to keep them)."""
    current: AuditNote | None = g.get("audit")
    if current is None and "db_session" not in g:
        return response
    session = request_session()
    succeeded = response.status_code < 400
    if not succeeded and not g.get("persist_on_failure"):
        session.rollback()
    if current is not None and current.actor_id is None and response.status_code == 401:
        _note_probe(current)
    try:
        if current is not None:
            events = current.events(
                outcome=response.status_code,
                request_id=g.get("request_id"),
                client_address=request.remote_addr,
            )
            insert_rows(session, events)
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        log.exception("commit failed", extra={"event": "commit_failed"})
        if succeeded:
            return problem(
                503,
                "The change could not be saved; retry later.",
                type_slug="unavailable",
                headers={"Retry-After": "5"},
            )
    return response
