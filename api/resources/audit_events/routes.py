"""The audit trail, for clinic admins; no endpoint edits it."""

from __future__ import annotations

from api.auth import current_actor
from api.context import request_session
from api.domain import audit
from api.models import AuditEvent
from api.resources.audit_events.schemas import AuditEventArgsSchema, AuditEventPageSchema
from api.resources.pagination import decode_cursor, paged
from api.smorest import Blueprint, audited

blp = Blueprint("audit_events", __name__, url_prefix="/v1/audit-events", description="Audit trail")


def present(event: AuditEvent) -> dict:
    patient_ids = event.patient_ids or ([str(event.patient_id)] if event.patient_id else [])
    return {
        "id": event.id,
        "occurred_at": event.occurred_at,
        "actor_id": event.actor_id,
        "actor_role": event.actor_role,
        "clinic_id": event.clinic_id,
        "patient_ids": patient_ids,
        "action": event.action,
        "resource_type": event.resource_type,
        "resource_id": event.resource_id,
        "resource_ids": event.resource_ids or ([event.resource_id] if event.resource_id else []),
        "outcome": event.outcome,
        "request_id": event.request_id,
        "client_address": event.client_address,
    }


@blp.route("", methods=["GET"])
@audited("audit.read", "audit_event")
@blp.auth("clinic_admin")
@blp.arguments(AuditEventArgsSchema, location="query")
@blp.response(200, AuditEventPageSchema)
def list_audit_events(args):
    """The clinic's audit events, newest first"""
    filters = {k: args[k] for k in ("patient_id", "actor_id", "action", "since", "until")}
    page = audit.list_events(
        request_session(),
        current_actor(),
        limit=args["limit"],
        cursor=decode_cursor(args),
        **filters,
    )
    return paged(page, [present(e) for e in page.items])
