"""Check-ins: submit one or a batch, list (JSON or CSV), read, mark entered in error."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid

import marshmallow as ma
from flask import Response, request
from flask.views import MethodView

from api.auditing import note
from api.auth import current_actor
from api.context import in_chair_grace, questionnaire_registry, rate_limits, request_session
from api.crisis import information_not_sent
from api.db import utcnow
from api.domain import check_ins as check_in_service
from api.domain import timeline
from api.domain.access import get_patient
from api.domain.errors import Invalid
from api.domain.safety import crisis_information
from api.domain.scoring import safety_flags
from api.models import CheckIn, Clinic
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
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/CheckInPage"}},
            "text/csv": {
                "schema": {"type": "string"},
                "example": "id,questionnaire,questionnaire_version,completed_at,...,total,"
                "severity,flags\n",
            },
        }
    }
}


def local_time(value: dt.datetime, offset_minutes: int) -> dt.datetime:
    return value.astimezone(dt.timezone(dt.timedelta(minutes=offset_minutes)))


def present(check_in: CheckIn, context: timeline.Context, clinic: Clinic | None = None) -> dict:
    """The check-in as clients see it; `safety` whenever a safety flag is raised."""
    body = {
        "id": check_in.id,
        "patient_id": check_in.patient_id,
        "questionnaire": check_in.questionnaire,
        "questionnaire_version": check_in.questionnaire_version,
        "answers": check_in.answers,
        "completed_at": local_time(check_in.completed_at, check_in.completed_offset_minutes),
        "received_at": check_in.received_at,
        "status": check_in.status,
        "late": check_in.late,
        "source": check_in.source,
        "score": {
            "total": check_in.total,
            "severity": check_in.severity,
            "subscales": check_in.subscales,
            "flags": check_in.flags,
        },
        "context": vars(context),
        "entered_in_error": None,
    }
    if check_in.status == "entered_in_error":
        body["entered_in_error"] = {
            "at": check_in.entered_in_error_at,
            "by": check_in.entered_in_error_by,
            "reason": check_in.entered_in_error_reason,
        }
    definition = questionnaire_registry().get(check_in.questionnaire)
    if definition is not None and safety_flags(definition, check_in.flags):
        body["safety"] = crisis_information(clinic, sent=True)
    return body


def present_many(check_ins: list[CheckIn]) -> list[dict]:
    session = request_session()
    contexts = timeline.contexts(session, check_ins, grace=in_chair_grace())
    clinics = {cid: session.get(Clinic, cid) for cid in {c.clinic_id for c in check_ins}}
    return [present(c, contexts[c.id], clinics[c.clinic_id]) for c in check_ins]


def spend_check_in_allowance(patient_id: uuid.UUID, count: int) -> None:
    rate_limits().spend_check_ins(patient_id, count)


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
        wants_csv = request.accept_mimetypes.best_match(["application/json", "text/csv"])
        as_csv = wants_csv == "text/csv"
        # An export leaves the service whole: the trail names it apart from a screen read.
        note(
            resource_id=patient_id,
            patient_ids=[patient_id],
            action="check_in.export" if as_csv else None,
        )
        session = request_session()
        patient = get_patient(session, current_actor(), patient_id)
        page = check_in_service.list_check_ins(
            session,
            patient=patient,
            questionnaire=args["questionnaire"],
            since=args["since"],
            until=args["until"],
            status=args["status"],
            limit=None if as_csv else args["limit"],
            cursor=None if as_csv else decode_cursor(args),
        )
        if as_csv:
            return csv_response(page.items)
        return paged(page, present_many(page.items))

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
        session = request_session()
        patient = get_patient(session, current_actor(), patient_id)
        spend_check_in_allowance(patient.id, 1)
        outcome = check_in_service.submit(
            session,
            questionnaire_registry(),
            actor=current_actor(),
            patient=patient,
            submission=submission_from(args, idempotency_key()),
            now=utcnow(),
            grace=in_chair_grace(),
        )
        note(resource_id=outcome.check_in.id)
        return present_many([outcome.check_in])[0], 201 if outcome.created else 200


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
    session = request_session()
    patient = get_patient(session, current_actor(), patient_id)
    spend_check_in_allowance(patient.id, len(args["check_ins"]))
    results = check_in_service.submit_batch(
        session,
        questionnaire_registry(),
        actor=current_actor(),
        patient=patient,
        items=[read_batch_item(raw) for raw in args["check_ins"]],
        now=utcnow(),
        grace=in_chair_grace(),
    )
    stored = [r.outcome.check_in for r in results if r.outcome is not None]
    presented = dict(zip([c.id for c in stored], present_many(stored), strict=True))
    return {"results": [present_result(r, presented) for r in results]}


def read_batch_item(raw: object) -> check_in_service.BatchItem:
    """Read one batch item as a single submission would be read."""
    if not isinstance(raw, dict):
        return check_in_service.BatchItem(
            raw, unreadable=Invalid(errors={"_body": ["Each check-in must be a JSON object."]})
        )
    unsafe = unsafe_paths(raw)
    if unsafe:
        return check_in_service.BatchItem(raw, unreadable=Invalid(UNSAFE_MESSAGE, errors=unsafe))
    try:
        data = CheckInSubmitSchema().load(raw)
    except ma.ValidationError as error:
        return check_in_service.BatchItem(
            raw,
            unreadable=Invalid(
                "The check-in did not validate; see errors.",
                errors=flatten_errors(error.messages),
            ),
        )
    return check_in_service.BatchItem(raw, submission=submission_from(data, None))


def present_result(result: check_in_service.BatchResult, presented: dict) -> dict:
    body: dict = {"id": result.id, "status": result.status}
    if result.outcome is not None:
        body["check_in"] = presented[result.outcome.check_in.id]
    if result.problem is not None:
        body["problem"] = domain_problem_body(result.problem)
        if result.endorses_safety_item:
            body["problem"]["safety"] = information_not_sent()
    return body


@blp.route("/check-ins/<uuid:check_in_id>", methods=["GET"])
@audited("check_in.read", "check_in")
@blp.auth("patient", "clinician")
@blp.response(200, CheckInSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_check_in(check_in_id: uuid.UUID):
    """One check-in"""
    note(resource_id=check_in_id)
    check_in = check_in_service.get_check_in(request_session(), current_actor(), check_in_id)
    note(patient_ids=[check_in.patient_id])
    return present_many([check_in])[0]


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
    check_in = check_in_service.mark_entered_in_error(
        request_session(),
        actor=current_actor(),
        check_in_id=check_in_id,
        reason=args["reason"],
        now=utcnow(),
    )
    note(patient_ids=[check_in.patient_id])
    return present_many([check_in])[0]


def csv_response(check_ins: list[CheckIn]) -> Response:
    """One row per check-in: item answers (one column per instrument item), total, severity,
    subscales and flags."""
    keys = sorted({c.questionnaire for c in check_ins})
    definitions = [d for key in keys if (d := questionnaire_registry().get(key)) is not None]
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
