"""The alert inbox: urgent first; acknowledge and resolve with a note."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from api.auditing import note
from api.auth import current_actor
from api.context import questionnaire_registry, request_session
from api.db import utcnow
from api.domain import alerts as alert_service
from api.models import Alert, Patient
from api.resources.alerts.schemas import (
    AcknowledgeSchema,
    AlertListArgsSchema,
    AlertPageSchema,
    AlertSchema,
    ResolveSchema,
)
from api.resources.pagination import decode_cursor, paged
from api.smorest import Blueprint, audited

blp = Blueprint("alerts", __name__, url_prefix="/v1/alerts", description="Alert inbox")
STAFF = ("clinician", "clinic_admin")


def _action(at, by, text) -> dict | None:
    return None if at is None else {"at": at, "by": by, "note": text}


def present_many(alerts: list[Alert]) -> list[dict]:
    session = request_session()
    ids = [a.id for a in alerts]
    occurrences = alert_service.occurrences(session, ids)
    names = (
        dict(
            session.execute(
                select(Patient.id, Patient.display_name).where(
                    Patient.id.in_({a.patient_id for a in alerts})
                )
            ).all()
        )
        if alerts
        else {}
    )
    presented = []
    for alert in alerts:
        rows = occurrences[alert.id]
        status_of = {o.check_in_id: status for o, status, _ in rows}
        definition = questionnaire_registry().get(alert.questionnaire)
        answer_of = {
            o.check_in_id: alert_service.flagged_answer(definition, alert.kind, answers)
            for o, _, answers in rows
        }
        presented.append(
            {
                "id": alert.id,
                "patient_id": alert.patient_id,
                "patient_display_name": names.get(alert.patient_id, ""),
                "check_in_id": alert.check_in_id,
                "questionnaire": alert.questionnaire,
                "kind": alert.kind,
                "priority": alert.priority,
                "status": alert.status,
                "completed_at": alert.completed_at,
                "received_at": alert.received_at,
                "raised_at": alert.raised_at,
                "last_received_at": alert.last_received_at,
                "check_in_entered_in_error": status_of.get(alert.check_in_id) == "entered_in_error",
                # The highest level answered across the alert's occurrences (the latest of
                # equals), so a merged "nearly every day" is never shown as "several days".
                "answer": max(
                    (a for a in reversed(answer_of.values()) if a),
                    key=lambda a: a["value"],
                    default=None,
                ),
                "baseline": None
                if alert.baseline_check_in_id is None
                else {
                    "check_in_id": alert.baseline_check_in_id,
                    "total": alert.baseline_total,
                    "source": alert.baseline_source,
                },
                "occurrence_count": len(rows),
                "occurrences": [
                    {
                        "check_in_id": o.check_in_id,
                        "total": o.total,
                        "completed_at": o.completed_at,
                        "received_at": o.received_at,
                        "check_in_status": status,
                        "answer": answer_of.get(o.check_in_id),
                    }
                    for o, status, _ in rows
                ],
                "acknowledged": _action(
                    alert.acknowledged_at, alert.acknowledged_by, alert.acknowledged_note
                ),
                "resolved": _action(alert.resolved_at, alert.resolved_by, alert.resolved_note),
            }
        )
    return presented


@blp.route("", methods=["GET"])
@audited("alert.list", "alert")
@blp.auth(*STAFF)
@blp.arguments(AlertListArgsSchema, location="query")
@blp.response(200, AlertPageSchema)
def list_alerts(args):
    """Alerts of your care-team patients (admins: the clinic): urgent first, then by the latest
    occurrence"""
    page = alert_service.list_alerts(
        request_session(),
        current_actor(),
        statuses=args["status"] or ["open", "acknowledged"],
        kind=args["kind"],
        patient_id=args["patient_id"],
        limit=args["limit"],
        cursor=decode_cursor(args),
    )
    note(patient_ids=[a.patient_id for a in page.items])
    return paged(page, present_many(page.items))


def _act(action: str, alert_id: uuid.UUID, note_text: str | None) -> dict:
    note(resource_id=alert_id)
    alert = alert_service.act(
        request_session(),
        actor=current_actor(),
        alert_id=alert_id,
        action=action,
        note=note_text,
        now=utcnow(),
    )
    note(patient_ids=[alert.patient_id])
    return present_many([alert])[0]


@blp.route("/<uuid:alert_id>/acknowledge", methods=["POST"])
@audited("alert.acknowledge", "alert")
@blp.auth(*STAFF)
@blp.arguments(AcknowledgeSchema)
@blp.response(200, AlertSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def acknowledge(args, alert_id: uuid.UUID):
    """Acknowledge an open alert: you have seen it and are acting on it"""
    return _act("acknowledge", alert_id, args["note"])


@blp.route("/<uuid:alert_id>/resolve", methods=["POST"])
@audited("alert.resolve", "alert")
@blp.auth(*STAFF)
@blp.arguments(ResolveSchema)
@blp.response(200, AlertSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def resolve(args, alert_id: uuid.UUID):
    """Resolve an alert, saying what was done"""
    return _act("resolve", alert_id, args["note"])
