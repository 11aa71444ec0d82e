"""The alert inbox: urgent first; acknowledge and resolve with a note."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TypedDict

from api.auditing import note
from api.auth import current_actor
from api.context import request_session, rules
from api.db import utcnow
from api.domain import alerts as alert_service
from api.models.identity import STAFF_ROLES
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


class ActionBody(TypedDict):
    at: dt.datetime
    by: uuid.UUID | None
    note: str | None


def _action(at: dt.datetime | None, by: uuid.UUID | None, text: str | None) -> ActionBody | None:
    return None if at is None else ActionBody(at=at, by=by, note=text)


class AlertBody(TypedDict):
    id: uuid.UUID
    patient_id: uuid.UUID
    patient_display_name: str
    check_in_id: uuid.UUID
    questionnaire: str
    kind: str
    priority: str
    status: str
    completed_at: dt.datetime
    received_at: dt.datetime
    raised_at: dt.datetime
    last_received_at: dt.datetime
    check_in_entered_in_error: bool
    answer: dict | None
    baseline: dict | None
    occurrence_count: int
    occurrences: list[dict]
    acknowledged: ActionBody | None
    resolved: ActionBody | None


def present(record: alert_service.AlertRecord) -> AlertBody:
    alert = record.alert
    return AlertBody(
        id=alert.id,
        patient_id=alert.patient_id,
        patient_display_name=record.patient_display_name,
        check_in_id=alert.check_in_id,
        questionnaire=alert.questionnaire,
        kind=alert.kind,
        priority=alert.priority,
        status=alert.status,
        completed_at=alert.completed_at,
        received_at=alert.received_at,
        raised_at=alert.raised_at,
        last_received_at=alert.last_received_at,
        check_in_entered_in_error=record.check_in_entered_in_error,
        answer=record.answer,
        baseline=None
        if alert.baseline_check_in_id is None
        else {
            "check_in_id": alert.baseline_check_in_id,
            "total": alert.baseline_total,
            "source": alert.baseline_source,
        },
        occurrence_count=len(record.occurrences),
        occurrences=[vars(o) for o in record.occurrences],
        acknowledged=_action(alert.acknowledged_at, alert.acknowledged_by, alert.acknowledged_note),
        resolved=_action(alert.resolved_at, alert.resolved_by, alert.resolved_note),
    )


@blp.route("", methods=["GET"])
@audited("alert.list", "alert")
@blp.auth(*STAFF_ROLES)
@blp.arguments(AlertListArgsSchema, location="query")
@blp.response(200, AlertPageSchema)
def list_alerts(args):
    """Alerts of your care-team patients (admins: the clinic): urgent first, then by the latest
    occurrence"""
    page = alert_service.list_alerts(
        request_session(),
        rules().registry,
        current_actor(),
        statuses=args["status"] or ["open", "acknowledged"],
        kind=args["kind"],
        patient_id=args["patient_id"],
        limit=args["limit"],
        cursor=decode_cursor(args),
    )
    note(patient_ids=[record.alert.patient_id for record in page.items])
    return paged(page, [present(record) for record in page.items])


def _transition(action: str, alert_id: uuid.UUID, note_text: str | None) -> AlertBody:
    note(resource_id=alert_id)
    record = alert_service.transition(
        request_session(),
        rules().registry,
        actor=current_actor(),
        alert_id=alert_id,
        action=action,
        note=note_text,
        now=utcnow(),
    )
    note(patient_ids=[record.alert.patient_id])
    return present(record)


@blp.route("/<uuid:alert_id>/acknowledge", methods=["POST"])
@audited("alert.acknowledge", "alert")
@blp.auth(*STAFF_ROLES)
@blp.arguments(AcknowledgeSchema, required=False)
@blp.response(200, AlertSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def acknowledge(args, alert_id: uuid.UUID):
    """Acknowledge an open alert: you have seen it and are acting on it"""
    return _transition("acknowledge", alert_id, args["note"])


@blp.route("/<uuid:alert_id>/resolve", methods=["POST"])
@audited("alert.resolve", "alert")
@blp.auth(*STAFF_ROLES)
@blp.arguments(ResolveSchema)
@blp.response(200, AlertSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def resolve(args, alert_id: uuid.UUID):
    """Resolve an alert, saying what was done"""
    return _transition("resolve", alert_id, args["note"])
