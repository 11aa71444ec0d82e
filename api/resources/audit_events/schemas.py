"""Audit trail bodies."""

import marshmallow as ma

from api.fields import Instant
from api.resources.pagination import PageArgsSchema, page_schema
from api.smorest import Schema


class AuditEventArgsSchema(PageArgsSchema):
    patient_id = ma.fields.UUID(load_default=None)
    actor_id = ma.fields.UUID(load_default=None)
    action = ma.fields.String(load_default=None, validate=ma.validate.Length(max=60))
    since = Instant(
        load_default=None, data_key="from", metadata={"description": "Inclusive, with offset"}
    )
    until = Instant(
        load_default=None, data_key="to", metadata={"description": "Exclusive, with offset"}
    )


class AuditEventSchema(Schema):
    id = ma.fields.Integer(required=True)
    occurred_at = ma.fields.AwareDateTime(required=True)
    actor_id = ma.fields.UUID(allow_none=True, required=True)
    actor_role = ma.fields.String(allow_none=True, required=True)
    clinic_id = ma.fields.UUID(allow_none=True, required=True)
    patient_ids = ma.fields.List(ma.fields.UUID(), required=True)
    action = ma.fields.String(required=True)
    resource_type = ma.fields.String(allow_none=True, required=True)
    resource_id = ma.fields.String(allow_none=True, required=True)
    resource_ids = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={
            "description": "Every record the request touched: `resource_id` alone, or the "
            "check-ins a batch stored or found already stored (its `resource_id` is null)"
        },
    )
    outcome = ma.fields.Integer(required=True, metadata={"description": "HTTP status"})
    request_id = ma.fields.String(allow_none=True, required=True)
    client_address = ma.fields.String(allow_none=True, required=True)


AuditEventPageSchema = page_schema(AuditEventSchema, "AuditEventPage")
