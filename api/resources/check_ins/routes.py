"""Check-ins: submit one or a batch, list (JSON or CSV), read, mark entered in error."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid
from typing import NotRequired, TypedDict

import marshmallow as ma
from flask import Response, request
from flask.views import MethodView

from api.auditing import note
from api.auth import current_actor
from api.context import rate_limits, request_session, rules
from api.db import utcnow
from api.domain import check_ins as check_in_service
from api.domain.errors import Invalid
from api.domain.timeline import local_time
from api.models import CheckIn
from api.parsing import UNSAFE_MESSAGE, unsafe_paths
from api.problems import domain_problem_body, flatten_errors
from api.resources.check_ins.schemas import (
    BatchResponseSchema,
    BatchSchema,
    CheckInListArgsSchema,
    CheckInPageSchema,
    CheckInSchema,
    CheckInSubmitSchema,
    EnteredInErrorArgsSchema,
)
from api.resources.links import location
from api.resources.pagination import decode_cursor, paged
from api.smorest import Blueprint, audited

blp = Blueprint("check_ins", __name__, url_prefix="/v1", description="Check-ins")

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
IDEMPOTENCY_HEADER_DOC = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "maxLength": 200},
    "description": "Repeat-safe submission: the same key and body answer 200 with the stored "
    "check-in; the same key with a different body answers 422.",
}
CSV_DOC = {
    "200": {
        "description": "The page of check-ins (JSON), or all of them as CSV",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/CheckInPage"}},
            "text/csv": {
                "schema": {"type": "string"},
                "example": "id,questionnaire,questionnaire_version,completed_at,...,total,"
                "severity,flags\n",
            },
        },
    }
}


class ScoreBody(TypedDict):
    total: int
    severity: str
    subscales: dict[str, int]
    flags: list[str]


class EnteredInErrorBody(TypedDict):
    at: dt.datetime | None
    by: uuid.UUID | None
    reason: str | None


class CheckInBody(TypedDict):
    id: uuid.UUID
    patient_id: uuid.UUID
    questionnaire: str
    questionnaire_version: str
    answers: dict
    completed_at: dt.datetime
    received_at: dt.datetime
    status: str
    late: bool
    source: str
    score: ScoreBody
    context: dict
    entered_in_error: EnteredInErrorBody | None
    safety: NotRequired[dict]


def present(record: check_in_service.CheckInRecord) -> CheckInBody:
    """The check-in as clients see it; `safety` whenever a safety item was endorsed."""
    check_in = record.check_in
    body = CheckInBody(
        id=check_in.id,
        patient_id=check_in.patient_id,
        questionnaire=check_in.questionnaire,
        questionnaire_version=check_in.questionnaire_version,
        answers=check_in.answers,
        completed_at=local_time(check_in.completed_at, check_in.completed_offset_minutes),
        received_at=check_in.received_at,
        status=check_in.status,
        late=check_in.late,
        source=check_in.source,
        score=ScoreBody(
            total=check_in.total,
            severity=check_in.severity,
            subscales=check_in.subscales,
            flags=check_in.flags,
        ),
        context=vars(record.context),
        entered_in_error=None,
    )
    if check_in.status == "entered_in_error":
        body["entered_in_error"] = EnteredInErrorBody(
            at=check_in.entered_in_error_at,
            by=check_in.entered_in_error_by,
            reason=check_in.entered_in_error_reason,
        )
    if record.safety is not None:
        body["safety"] = record.safety
    return body


def idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.match(key):
        raise Invalid(errors={"Idempotency-Key": ["1–200 visible ASCII characters."]})
    return key


def submission_from(args: dict, key: str | None) -> check_in_service.Submission:
    return check_in_service.Submission(
        questionnaire=args["questionnaire"],
        answers=args["answers"],
        completed_at=args["completed_at"],
        id=args["id"],
        idempotency_key=key,
    )


def filters_from(args: dict) -> check_in_service.Filters:
    return check_in_service.Filters(
        questionnaire=args["questionnaire"],
        since=args["since"],
        until=args["until"],
        status=args["status"],
    )


@blp.route("/patients/<uuid:patient_id>/check-ins")
class PatientCheckIns(MethodView):
    @audited("check_in.list", "check_in")
    @blp.auth("patient", "clinician")
    @blp.arguments(CheckInListArgsSchema, location="query")
    @blp.response(200, CheckInPageSchema)
    @blp.doc(responses=CSV_DOC)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, patient_id: uuid.UUID):
        """A patient's check-ins, newest first; `Accept: text/csv` for a spreadsheet"""
        wants = request.accept_mimetypes.best_match(["application/json", "text/csv"])
        # An export leaves the service whole: the trail names it apart from a screen read.
        as_csv = wants == "text/csv"
        note(
            resource_id=patient_id,
            patient_ids=[patient_id],
            action="check_in.export" if as_csv else None,
        )
        if as_csv:
            return csv_response(
                check_in_service.export_check_ins(
                    request_session(),
                    actor=current_actor(),
                    patient_id=patient_id,
                    filters=filters_from(args),
                )
            )
        page = check_in_service.list_check_ins(
            request_session(),
            rules(),
            actor=current_actor(),
            patient_id=patient_id,
            filters=filters_from(args),
            limit=args["limit"],
            cursor=decode_cursor(args),
        )
        return paged(page, [present(record) for record in page.items])

    @audited("check_in.create", "check_in")
    @blp.auth("patient", "clinician")
    @blp.arguments(CheckInSubmitSchema)
    @blp.response(201, CheckInSchema)
    @blp.alt_response(
        200,
        schema=CheckInSchema,
        success=True,
        description="A repeat of a stored check-in: the stored copy, unchanged",
    )
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.doc(parameters=[IDEMPOTENCY_HEADER_DOC])
    @blp.crisis_information_on_refusal
    def post(self, args, patient_id: uuid.UUID):
        """Submit a check-in (the patient, or a care-team clinician entering it in clinic)"""
        note(patient_ids=[patient_id])
        submitted = check_in_service.submit(
            request_session(),
            rules(),
            actor=current_actor(),
            patient_id=patient_id,
            allowance=rate_limits().spend_check_ins,
            submission=submission_from(args, idempotency_key()),
            now=utcnow(),
        )
        note(resource_id=submitted.record.check_in.id)
        where = location(f"/v1/check-ins/{submitted.record.check_in.id}")
        if submitted.created:
            return present(submitted.record), 201, where
        # A repeat: the stored copy, and where it lives.
        return present(submitted.record), 200, {"Content-Location": where["Location"]}


@blp.route("/patients/<uuid:patient_id>/check-ins/batch", methods=["POST"])
@audited("check_in.batch", "check_in")
@blp.auth("patient")
@blp.arguments(BatchSchema)
@blp.response(207, BatchResponseSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
@blp.crisis_information_on_refusal
def submit_batch(args, patient_id: uuid.UUID):
    """Offline sync: up to 100 check-ins, each stored or refused on its own"""
    note(patient_ids=[patient_id])
    results = check_in_service.submit_batch(
        request_session(),
        rules(),
        actor=current_actor(),
        patient_id=patient_id,
        allowance=rate_limits().spend_check_ins,
        items=[read_batch_item(raw) for raw in args["check_ins"]],
        now=utcnow(),
    )
    note(resource_ids=[result.id for result in results if result.record is not None])
    return {"results": [present_result(result) for result in results]}


# One schema for every item (loading keeps no state on it).
BATCH_ITEM = CheckInSubmitSchema()


def read_batch_item(raw: object) -> check_in_service.BatchItem:
    """Read one batch item as a single submission would be read."""
    if not isinstance(raw, dict):
        return check_in_service.BatchItem(
            raw, Invalid(errors={"_body": ["Each check-in must be a JSON object."]})
        )
    unsafe = unsafe_paths(raw)
    if unsafe:
        return check_in_service.BatchItem(raw, Invalid(UNSAFE_MESSAGE, errors=unsafe))
    try:
        data = BATCH_ITEM.load(raw)
    except ma.ValidationError as error:
        return check_in_service.BatchItem(
            raw,
            Invalid(
                "The check-in did not validate; see errors.",
                errors=flatten_errors(error.messages),
            ),
        )
    return check_in_service.BatchItem(raw, submission_from(data, None))


class BatchResultBody(TypedDict):
    id: str | None
    status: int
    check_in: NotRequired[CheckInBody]
    problem: NotRequired[dict]


def present_result(result: check_in_service.BatchResult) -> BatchResultBody:
    body = BatchResultBody(id=result.id, status=result.status)
    if result.record is not None:
        body["check_in"] = present(result.record)
    if result.problem is not None:
        body["problem"] = domain_problem_body(result.problem)
        if result.safety is not None:
            body["problem"]["safety"] = result.safety
    return body


@blp.route("/check-ins/<uuid:check_in_id>", methods=["GET"])
@audited("check_in.read", "check_in")
@blp.auth("patient", "clinician")
@blp.response(200, CheckInSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_check_in(check_in_id: uuid.UUID):
    """One check-in"""
    note(resource_id=check_in_id)
    record = check_in_service.get_check_in(
        request_session(), rules(), actor=current_actor(), check_in_id=check_in_id
    )
    note(patient_ids=[record.check_in.patient_id])
    return present(record)


@blp.route("/check-ins/<uuid:check_in_id>/entered-in-error", methods=["POST"])
@audited("check_in.entered_in_error", "check_in")
@blp.auth("clinician")
@blp.arguments(EnteredInErrorArgsSchema)
@blp.response(200, CheckInSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def mark_entered_in_error(args, check_in_id: uuid.UUID):
    """Mark a check-in entered in error: it stays, and leaves every score-based view"""
    note(resource_id=check_in_id)
    record = check_in_service.mark_entered_in_error(
        request_session(),
        rules(),
        actor=current_actor(),
        check_in_id=check_in_id,
        reason=args["reason"],
        now=utcnow(),
    )
    note(patient_ids=[record.check_in.patient_id])
    return present(record)


def csv_response(check_ins: list[CheckIn]) -> Response:
    """One row per check-in: item answers (one column per instrument item), total, severity,
    subscales and flags."""
    keys = sorted({c.questionnaire for c in check_ins})
    definitions = [d for key in keys if (d := rules().registry.get(key)) is not None]
    item_columns = [(d.key, item.id) for d in definitions for item in d.items]
    subscale_columns = sorted({(c.questionnaire, s) for c in check_ins for s in c.subscales})
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "id",
            "questionnaire",
            "questionnaire_version",
            "completed_at",
            "received_at",
            "status",
            "late",
            "source",
        ]
        + [f"{key}_item_{item}" for key, item in item_columns]
        + ["total", "severity"]
        + [f"{key}_subscale_{name}" for key, name in subscale_columns]
        + ["flags"]
    )
    for c in check_ins:
        writer.writerow(
            [
                c.id,
                c.questionnaire,
                c.questionnaire_version,
                local_time(c.completed_at, c.completed_offset_minutes).isoformat(),
                c.received_at.isoformat(),
                c.status,
                str(c.late).lower(),
                c.source,
            ]
            + [
                c.answers.get(item, "") if key == c.questionnaire else ""
                for key, item in item_columns
            ]
            + [c.total, c.severity]
            + [
                c.subscales.get(name, "") if key == c.questionnaire else ""
                for key, name in subscale_columns
            ]
            + [";".join(c.flags)]
        )
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="check-ins.csv"'},
    )
