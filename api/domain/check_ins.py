"""Submitting check-ins: validated, scored, stored once, alerts raised in the same transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.domain import alerts as alert_service
from api.domain import timeline
from api.domain.access import Actor, get_patient_record
from api.domain.errors import Conflict, DomainError, Invalid
from api.domain.pagination import Page, keyset_page
from api.domain.registry import Registry
from api.domain.scoring import AnswerError, endorsed_safety_flags, score, validate_answers
from api.models import Alert, CheckIn, Patient

log = logging.getLogger("interval")

FUTURE_TOLERANCE = dt.timedelta(minutes=5)
LATE_AFTER = dt.timedelta(days=30)


@dataclass(frozen=True)
class Submission:
    questionnaire: str
    answers: dict
    completed_at: dt.datetime
    id: uuid.UUID | None = None
    idempotency_key: str | None = None


@dataclass
class Outcome:
    check_in: CheckIn
    created: bool
    alerts: list[Alert] = field(default_factory=list)


class IdConflict(Conflict):
    type = "check-in-id-conflict"
    title = "Check-in id already used"


class IdempotencyKeyReused(Invalid):
    type = "idempotency-key-reused"
    title = "Idempotency-Key reused with a different body"


def body_hash(submission: Submission) -> str:
    """A fingerprint of what the patient answered, to tell a replay from a different body."""
    canonical = json.dumps(
        {
            "questionnaire": submission.questionnaire,
            "answers": submission.answers,
            "completed_at": submission.completed_at.astimezone(dt.UTC).isoformat(),
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_completed_at(completed_at: dt.datetime, now: dt.datetime) -> bool:
    """Refuse a time too far ahead; answer whether it is late (older than 30 days)."""
    if completed_at.tzinfo is None:
        raise Invalid(errors={"completed_at": ["Give a time with an offset."]})
    if completed_at > now + FUTURE_TOLERANCE:
        raise Invalid(errors={"completed_at": ["Must not be more than 5 minutes in the future."]})
    return completed_at < now - LATE_AFTER


def _replay(
    existing: CheckIn, patient: Patient, submission: Submission, digest: str, by_key: bool
) -> Outcome:
    """The stored check-in for an identical repeat; a refusal for a different body."""
    same_id = submission.id is None or submission.id == existing.id
    if existing.patient_id == patient.id and existing.body_hash == digest and same_id:
        return Outcome(existing, created=False)
    if by_key:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used for a different check-in.",
            errors={"Idempotency-Key": ["Already used with a different body."]},
        )
    raise IdConflict(
        "A different check-in with this id is already stored.",
        errors={"id": ["Already used for a different check-in."]},
    )


def _existing(
    session: Session, patient: Patient, submission: Submission, digest: str
) -> Outcome | None:
    if submission.id is not None:
        existing = session.get(CheckIn, submission.id, populate_existing=True)
        if existing is not None:
            return _replay(existing, patient, submission, digest, by_key=False)
    if submission.idempotency_key is not None:
        existing = session.scalar(
            select(CheckIn)
            .where(
                CheckIn.patient_id == patient.id,
                CheckIn.idempotency_key == submission.idempotency_key,
            )
            .execution_options(populate_existing=True)
        )
        if existing is not None:
            return _replay(existing, patient, submission, digest, by_key=True)
    return None


def submit(
    session: Session,
    registry: Registry,
    *,
    actor: Actor,
    patient: Patient,
    submission: Submission,
    now: dt.datetime,
    grace: dt.timedelta,
) -> Outcome:
    """Validate, score and store one check-in, or return the stored copy of a repeat.

    The check-in and its alerts are written together inside a savepoint, so an alert can
    never be missing from a stored check-in, and a failed item in a batch leaves no trace.
    """
    definition = registry.get(submission.questionnaire)
    if definition is None:
        raise Invalid(errors={"questionnaire": [f"Unknown; one of {', '.join(registry.keys)}."]})
    try:
        validate_answers(definition, submission.answers)
    except AnswerError as error:
        raise Invalid("Some answers are missing or out of range.", errors=error.errors) from None
    late = check_completed_at(submission.completed_at, now)
    digest = body_hash(submission)
    existing = _existing(session, patient, submission, digest)
    if existing is not None:
        return existing
    result = score(definition, submission.answers)
    offset = submission.completed_at.utcoffset() or dt.timedelta(0)
    check_in = CheckIn(
        id=submission.id or uuid.uuid4(),
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        questionnaire=definition.key,
        questionnaire_version=definition.version,
        answers=submission.answers,
        total=result.total,
        severity=result.severity,
        subscales=result.subscales,
        flags=list(result.flags),
        completed_at=submission.completed_at,
        completed_offset_minutes=int(offset.total_seconds() // 60),
        received_at=now,
        late=late,
        status="final",
        source="patient" if actor.role == "patient" else "clinic",
        entered_by=actor.user_id,
        idempotency_key=submission.idempotency_key,
        body_hash=digest,
    )
    try:
        with session.begin_nested():
            session.add(check_in)
            session.flush()
            raised = alert_service.raise_alerts(
                session,
                definition,
                check_in,
                baseline=timeline.baseline_for(session, check_in, grace=grace),
                now=now,
            )
    except IntegrityError:
        # A concurrent copy of this submission was stored first; answer as for a repeat.
        existing = _existing(session, patient, submission, digest)
        if existing is None:
            raise
        return existing
    return Outcome(check_in, created=True, alerts=raised)


@dataclass(frozen=True)
class BatchItem:
    """One item of an offline sync as sent, and what reading it gave: a submission, or the
    reason it could not be read."""

    raw: object
    submission: Submission | None = None
    unreadable: DomainError | None = None


@dataclass
class BatchResult:
    id: str | None
    status: int
    outcome: Outcome | None = None
    problem: DomainError | None = None
    # A refused item whose answers endorse a safety item: crisis information, "not sent".
    endorses_safety_item: bool = False


class ItemFailed(DomainError):
    status = 500
    type = "internal-error"
    title = "Internal Server Error"


def submit_batch(
    session: Session,
    registry: Registry,
    *,
    actor: Actor,
    patient: Patient,
    items: list[BatchItem],
    now: dt.datetime,
    grace: dt.timedelta,
) -> list[BatchResult]:
    """Each item stored or refused on its own, in input order, with the status it would have
    had alone. Each runs in its own savepoint: an unexpected error in one item becomes that
    item's problem (logged with the request id) and the others are stored."""
    results = []
    for index, item in enumerate(items):
        raw_id = item.raw.get("id") if isinstance(item.raw, dict) else None
        result = BatchResult(id=raw_id if isinstance(raw_id, str) else None, status=0)
        try:
            if item.submission is None:
                raise item.unreadable or Invalid("The check-in could not be read.")
            with session.begin_nested():
                outcome = submit(
                    session,
                    registry,
                    actor=actor,
                    patient=patient,
                    submission=item.submission,
                    now=now,
                    grace=grace,
                )
        except DomainError as error:
            result.status, result.problem = error.status, error
        except Exception:
            log.exception("batch item failed", extra={"event": "batch_item_failed", "item": index})
            result.status = 500
            result.problem = ItemFailed(
                "This check-in could not be processed and was not stored; send it again later."
            )
        else:
            result.id, result.outcome = str(outcome.check_in.id), outcome
            result.status = 201 if outcome.created else 200
        result.endorses_safety_item = result.outcome is None and endorses_safety_item(
            registry, item.raw
        )
        results.append(result)
    return results


def endorses_safety_item(registry: Registry, body: object) -> bool:
    """Whether a submitted body (one check-in, or a batch of them) endorses a safety item, read
    as leniently as possible: a refusal for any other reason must still show crisis
    information, worded for answers that were not sent."""
    if isinstance(body, list):
        items: object = body
    elif isinstance(body, dict) and "check_ins" in body:
        items = body["check_ins"]
    else:
        items = [body]
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("questionnaire"), str):
            continue
        definition = registry.find(item["questionnaire"])
        if definition is not None and endorsed_safety_flags(definition, item.get("answers")):
            return True
    return False


def get_check_in(session: Session, actor: Actor, check_in_id: uuid.UUID) -> CheckIn:
    return get_patient_record(session, actor, CheckIn, check_in_id, "Check-in")


def list_check_ins(
    session: Session,
    *,
    patient: Patient,
    questionnaire: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    status: str | None,
    limit: int | None,
    cursor: dict | None,
) -> Page:
    """Newest first (by completion time). The caller has already scoped the patient."""
    stmt = select(CheckIn).where(
        CheckIn.patient_id == patient.id, CheckIn.clinic_id == patient.clinic_id
    )
    if questionnaire:
        stmt = stmt.where(CheckIn.questionnaire == questionnaire)
    if since:
        stmt = stmt.where(CheckIn.completed_at >= since)
    if until:
        stmt = stmt.where(CheckIn.completed_at < until)
    if status:
        stmt = stmt.where(CheckIn.status == status)
    keys = [CheckIn.completed_at, CheckIn.id]
    if limit is None:
        return Page(list(session.scalars(stmt.order_by(*(k.desc() for k in keys)))), None)
    return keyset_page(session, stmt, keys=keys, limit=limit, cursor=cursor)


def mark_entered_in_error(
    session: Session, *, actor: Actor, check_in_id: uuid.UUID, reason: str, now: dt.datetime
) -> CheckIn:
    """The check-in stays, leaves every score-based view, and keeps who, when and why."""
    check_in = get_check_in(session, actor, check_in_id)
    if check_in.status == "entered_in_error":
        raise Conflict("This check-in is already marked entered in error.")
    check_in.status = "entered_in_error"
    check_in.entered_in_error_at = now
    check_in.entered_in_error_by = actor.user_id
    check_in.entered_in_error_reason = reason
    session.flush()
    return check_in
