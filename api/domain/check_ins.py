"""Submitting check-ins: validated, scored, stored once, alerts raised in the same transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.db import insert_new
from api.domain import alerts as alert_service
from api.domain import timeline as timeline_service
from api.domain.access import Actor, get_patient, get_patient_record, get_patient_timeline
from api.domain.errors import Conflict, DomainError, Invalid
from api.domain.pagination import Page, keyset_page
from api.domain.questionnaires import Definition
from api.domain.registry import Registry
from api.domain.rules import Rules
from api.domain.safety import crisis_information
from api.domain.scoring import (
    AnswerError,
    endorsed_safety_flags,
    safety_flags,
    score,
    validate_answers,
)
from api.domain.timeline import FUTURE_TOLERANCE, Baseline, PatientTimeline, PointRow
from api.models import CheckIn, Clinic, Course, Patient

log = logging.getLogger("interval")

LATE_AFTER = dt.timedelta(days=30)
# Counts submitted check-ins against a patient's rate limit; raises RateLimited when spent.
Allowance = Callable[[uuid.UUID, int], None]


@dataclass(frozen=True)
class Submission:
    questionnaire: str
    answers: dict
    completed_at: dt.datetime
    id: uuid.UUID | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class CheckInRecord:
    """A check-in with what its answer shows beside it: its place on the timeline and, when a
    safety item was endorsed, the crisis information for stored answers."""

    check_in: CheckIn
    context: timeline_service.Context
    safety: dict | None


@dataclass(frozen=True)
class Stored:
    """A check-in just stored (`created`), or the stored copy a repeat found."""

    check_in: CheckIn
    created: bool


@dataclass(frozen=True)
class Submitted:
    record: CheckInRecord
    created: bool


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
    stored: CheckIn, patient: Patient, submission: Submission, digest: str, by_key: bool
) -> Stored:
    """The stored check-in for an identical repeat; a refusal for a different body."""
    same_id = submission.id is None or submission.id == stored.id
    if stored.patient_id == patient.id and stored.body_hash == digest and same_id:
        return Stored(stored, created=False)
    if by_key:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used for a different check-in.",
            errors={"Idempotency-Key": ["Already used with a different body."]},
        )
    raise IdConflict(
        "A different check-in with this id is already stored.",
        errors={"id": ["Already used for a different check-in."]},
    )


@dataclass(frozen=True)
class Ready:
    """A submission read, validated and scored: the check-in it becomes if it is new."""

    submission: Submission
    definition: Definition
    digest: str
    check_in: CheckIn


def prepare(
    rules: Rules, *, actor: Actor, patient: Patient, submission: Submission, now: dt.datetime
) -> Ready:
    """Validate and score a submission (Invalid when it cannot be stored); no database."""
    definition = scored_definition(rules.registry, submission)
    check_completed_at(submission.completed_at, now)
    digest = body_hash(submission)
    check_in = new_check_in(
        definition, actor=actor, patient=patient, submission=submission, digest=digest, now=now
    )
    return Ready(submission, definition, digest, check_in)


def scored_definition(registry: Registry, submission: Submission) -> Definition:
    """The submission's instrument, once its answers are known to be scorable."""
    definition = registry.get(submission.questionnaire)
    if definition is None:
        raise Invalid(errors={"questionnaire": [f"Unknown; one of {', '.join(registry.keys)}."]})
    try:
        validate_answers(definition, submission.answers)
    except AnswerError as error:
        raise Invalid("Some answers are missing or out of range.", errors=error.errors) from None
    return definition


def new_check_in(
    definition: Definition,
    *,
    actor: Actor,
    patient: Patient,
    submission: Submission,
    digest: str,
    now: dt.datetime,
) -> CheckIn:
    result = score(definition, submission.answers)
    offset = submission.completed_at.utcoffset() or dt.timedelta(0)
    return CheckIn(
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
        late=check_completed_at(submission.completed_at, now),
        status="final",
        source="patient" if actor.role == "patient" else "clinic",
        entered_by=actor.user_id,
        idempotency_key=submission.idempotency_key,
        body_hash=digest,
        entered_in_error_at=None,
        entered_in_error_by=None,
        entered_in_error_reason=None,
    )


def store(
    session: Session,
    rules: Rules,
    *,
    actor: Actor,
    patient: Patient,
    timeline: PatientTimeline,
    submission: Submission,
    now: dt.datetime,
) -> Stored:
    """Validate, score and store one check-in for a patient already in scope (with their
    timeline), or find the stored copy of a repeat; Invalid or Conflict when it cannot be."""
    ready = prepare(rules, actor=actor, patient=patient, submission=submission, now=now)
    [outcome] = store_all(
        session, rules, patient=patient, timeline=timeline, ready=[ready], now=now
    )
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def store_all(
    session: Session,
    rules: Rules,
    *,
    patient: Patient,
    timeline: PatientTimeline,
    ready: list[Ready],
    now: dt.datetime,
) -> list[Stored | DomainError]:
    """Store prepared check-ins of one patient, in order, as if one after another: what each
    became (stored, or the stored copy it repeats) or why not (a different body under its id
    or Idempotency-Key).

    One INSERT … ON CONFLICT DO NOTHING stores every new one (the first of any that share an
    id or key), so concurrent copies store one row; one query reads the stored copies of the
    rest. Each new check-in's alerts are found in order, compared only with what came before
    it in the list, and written together (alerts.raise_all) in the same transaction: an alert
    can never be missing from a stored check-in.
    """
    first = _first_of_each(ready)
    inserted = insert_new(session, [ready[n].check_in for n in first])
    created = [n for n in first if ready[n].check_in.id in inserted]
    outcomes: dict[int, Stored | DomainError] = {}
    repeats = [n for n in range(len(ready)) if n not in created]
    by_id, by_key = _stored_copies(session, patient, [ready[n].submission for n in repeats])
    for n in repeats:
        try:
            outcomes[n] = _stored_copy(by_id, by_key, patient, ready[n].submission, ready[n].digest)
        except DomainError as error:
            outcomes[n] = error
    compared = Comparisons(
        session, timeline, [ready[n].check_in for n in created], grace=rules.in_chair_grace
    )
    raised: list[alert_service.Raised] = []
    for n in created:
        check_in = ready[n].check_in
        raised += [
            (check_in, trigger)
            for trigger in alert_service.triggers_of(
                ready[n].definition,
                check_in,
                baseline=partial(compared.baseline, check_in),
                recent=partial(compared.recent, check_in),
            )
        ]
        compared.done(check_in)
        outcomes[n] = Stored(check_in, created=True)
    alert_service.raise_all(session, raised, now=now)
    return [outcomes[n] for n in range(len(ready))]


class Comparisons:
    """What each of a list of new check-ins is compared with, as if they were stored one after
    another: the check-ins stored before the list (read once per course and instrument) and
    the list's own earlier ones."""

    def __init__(
        self,
        session: Session,
        timeline: PatientTimeline,
        new: list[CheckIn],
        *,
        grace: dt.timedelta,
    ):
        self.session = session
        self.timeline = timeline
        self.grace = grace
        self.new_ids = frozenset(c.id for c in new)
        self.earlier: list[CheckIn] = []
        self.candidates: dict[tuple[uuid.UUID, str], list[PointRow]] = {}
        # The list's earlier ones a baseline may still come from, by course and instrument
        # (timeline.baseline_pool): two at most, so a list of n compares n times, not n².
        self.pools: dict[tuple[uuid.UUID, str], list[CheckIn]] = {}
        self.latest: dict[str, list[CheckIn]] = {}

    def _place(self, check_in: CheckIn) -> tuple[Course, tuple[uuid.UUID, str]] | None:
        """The check-in's course and its key (course, instrument); None outside any course."""
        course = self.timeline.course_at(check_in.completed_at)
        return None if course is None else (course, (course.id, check_in.questionnaire))

    def baseline(self, check_in: CheckIn) -> Baseline | None:
        placed = self._place(check_in)
        if placed is None:
            return None
        course, key = placed
        if key not in self.candidates:
            self.candidates[key] = timeline_service.baseline_candidates(
                self.session,
                self.timeline,
                course,
                check_in.questionnaire,
                grace=self.grace,
                excluding=self.new_ids,
            )
        pool: list[CheckIn | PointRow] = [
            *self.candidates[key],
            *self.pools.get(key, []),
            check_in,
        ]
        return timeline_service.baseline_among(check_in, pool, self.timeline, grace=self.grace)

    def recent(self, check_in: CheckIn, count: int) -> list[CheckIn]:
        """The latest `count` final check-ins of the instrument, newest first."""
        if check_in.questionnaire not in self.latest:
            self.latest[check_in.questionnaire] = alert_service.recent_check_ins(
                self.session, check_in, count, excluding=self.new_ids
            )
        pool = [
            *self.latest[check_in.questionnaire],
            *(c for c in self.earlier if c.questionnaire == check_in.questionnaire),
            check_in,
        ]
        return sorted(pool, key=lambda c: (c.completed_at, c.id), reverse=True)[:count]

    def done(self, check_in: CheckIn) -> None:
        """The check-in is stored: the ones after it are compared with it too."""
        self.earlier.append(check_in)
        placed = self._place(check_in)
        if placed is not None:
            course, key = placed
            self.pools[key] = timeline_service.baseline_pool(
                [*self.pools.get(key, []), check_in], self.timeline.given[course.id], self.grace
            )


def _first_of_each(ready: list[Ready]) -> list[int]:
    """The places of the first of the submissions that share an id or an Idempotency-Key;
    later ones are repeats of it (or conflicts), as if sent after it."""
    ids: set[uuid.UUID] = set()
    keys: set[str] = set()
    first = []
    for n, r in enumerate(ready):
        key = r.submission.idempotency_key
        if r.check_in.id in ids or (key is not None and key in keys):
            continue
        ids.add(r.check_in.id)
        if key is not None:
            keys.add(key)
        first.append(n)
    return first


def _stored_copies(
    session: Session, patient: Patient, submissions: list[Submission]
) -> tuple[dict[uuid.UUID, CheckIn], dict[str, CheckIn]]:
    """What is stored under the submissions' ids (any patient's) and this patient's
    Idempotency-Keys, in one query."""
    ids = [s.id for s in submissions if s.id is not None]
    keys = [s.idempotency_key for s in submissions if s.idempotency_key is not None]
    if not ids and not keys:
        return {}, {}
    found = session.scalars(
        select(CheckIn)
        .where(
            CheckIn.id.in_(ids)
            | ((CheckIn.patient_id == patient.id) & CheckIn.idempotency_key.in_(keys))
        )
        .execution_options(populate_existing=True)
    ).all()
    return (
        {c.id: c for c in found},
        {c.idempotency_key: c for c in found if c.patient_id == patient.id and c.idempotency_key},
    )


def _stored_copy(
    by_id: dict[uuid.UUID, CheckIn],
    by_key: dict[str, CheckIn],
    patient: Patient,
    submission: Submission,
    digest: str,
) -> Stored:
    """The stored copy a repeat meets, under its id first, then its Idempotency-Key."""
    if submission.id is not None and submission.id in by_id:
        return _replay(by_id[submission.id], patient, submission, digest, by_key=False)
    if submission.idempotency_key is not None and submission.idempotency_key in by_key:
        return _replay(by_key[submission.idempotency_key], patient, submission, digest, by_key=True)
    # Not stored, yet not inserted: only a unique key can refuse an insert.
    raise Conflict("This check-in conflicts with one already stored.")  # pragma: no cover


def submit(
    session: Session,
    rules: Rules,
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    submission: Submission,
    now: dt.datetime,
    allowance: Allowance,
) -> Submitted:
    """One check-in for a patient the actor may see (NotFound otherwise), and its record.
    `allowance` counts it against the patient's rate limit once the patient is in scope."""
    patient, timeline = get_patient_timeline(session, actor, patient_id)
    allowance(patient.id, 1)
    stored = store(
        session,
        rules,
        actor=actor,
        patient=patient,
        timeline=timeline,
        submission=submission,
        now=now,
    )
    record = new_record(session, rules, timeline, stored.check_in)
    return Submitted(record, stored.created)


def new_record(
    session: Session, rules: Rules, timeline: PatientTimeline, check_in: CheckIn
) -> CheckInRecord:
    """The record of a check-in just stored or met again, placed on the timeline already read."""
    context = timeline.context(check_in.completed_at, rules.in_chair_grace)
    return CheckInRecord(check_in, context, safety_of(session, rules, check_in))


def safety_of(session: Session, rules: Rules, check_in: CheckIn) -> dict | None:
    """Crisis information for a stored check-in that endorses a safety item, else None (the
    clinic, whose wording it carries, is read only then)."""
    definition = rules.registry.get(check_in.questionnaire)
    if definition is None or not safety_flags(definition, check_in.flags):
        return None
    return crisis_information(clinic_of(session, check_in.clinic_id), sent=True)


def clinic_of(session: Session, clinic_id: uuid.UUID) -> Clinic | None:
    """A clinic, read once per session: the session holds its rows only while something else
    does, so the first one read is kept on the session for the rest of it."""
    kept = session.info.setdefault("clinics", {})
    if clinic_id not in kept:
        kept[clinic_id] = session.get(Clinic, clinic_id)
    return kept[clinic_id]


def records(session: Session, rules: Rules, check_ins: list[CheckIn]) -> list[CheckInRecord]:
    """Each check-in with its context and crisis information, in a constant number of
    queries however many there are."""
    contexts = timeline_service.contexts(session, check_ins, grace=rules.in_chair_grace)
    return [
        CheckInRecord(check_in, contexts[check_in.id], safety_of(session, rules, check_in))
        for check_in in check_ins
    ]


@dataclass(frozen=True)
class BatchItem:
    """One item of an offline sync as sent, and what reading it gave: a submission, or the
    reason it could not be read."""

    raw: object
    read: Submission | DomainError


@dataclass
class BatchResult:
    """What one item of a batch became: its record (201 or 200), or its problem with, when
    its answers endorse a safety item, crisis information worded for answers not sent."""

    id: str | None
    status: int
    record: CheckInRecord | None = None
    problem: DomainError | None = None
    safety: dict | None = None


class ItemFailed(DomainError):
    status = 500
    type = "internal-error"
    title = "Internal Server Error"


def submit_batch(
    session: Session,
    rules: Rules,
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    items: list[BatchItem],
    now: dt.datetime,
    allowance: Allowance,
) -> list[BatchResult]:
    """Each item stored or refused on its own, in input order, with the status it would have
    had alone. Every item is read, validated and scored first; an unexpected error there
    becomes that item's problem (logged with the request id) and the others go on. The rest
    are stored together (store_all); a failure of the database fails the whole request, so a
    retry finds none of it stored."""
    patient, timeline = get_patient_timeline(session, actor, patient_id)
    allowance(patient.id, len(items))
    results = [BatchResult(id=_raw_id(item.raw), status=0) for item in items]
    ready: dict[int, Ready] = {}
    for index, item in enumerate(items):
        try:
            if isinstance(item.read, DomainError):
                raise item.read
            ready[index] = prepare(
                rules, actor=actor, patient=patient, submission=item.read, now=now
            )
        except DomainError as error:
            results[index].status, results[index].problem = error.status, error
        except Exception:
            log.exception("batch item failed", extra={"event": "batch_item_failed", "item": index})
            results[index].status = 500
            results[index].problem = ItemFailed(
                "This check-in could not be processed and was not stored; send it again later."
            )
    outcomes = store_all(
        session, rules, patient=patient, timeline=timeline, ready=list(ready.values()), now=now
    )
    for index, outcome in zip(ready, outcomes, strict=True):
        result = results[index]
        if isinstance(outcome, DomainError):
            result.status, result.problem = outcome.status, outcome
            continue
        result.id = str(outcome.check_in.id)
        result.status = 201 if outcome.created else 200
        result.record = new_record(session, rules, timeline, outcome.check_in)
    for result, item in zip(results, items, strict=True):
        if result.record is None and endorses_safety_item(rules.registry, item.raw):
            result.safety = crisis_information(clinic_of(session, patient.clinic_id), sent=False)
    return results


def _raw_id(raw: object) -> str | None:
    """The id a batch item was sent with, if it is a string, to name it in its result."""
    found = raw.get("id") if isinstance(raw, dict) else None
    return found if isinstance(found, str) else None


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


def get_check_in(
    session: Session, rules: Rules, *, actor: Actor, check_in_id: uuid.UUID
) -> CheckInRecord:
    """One check-in the actor may see, with its record; NotFound otherwise."""
    check_in = get_patient_record(session, actor, CheckIn, check_in_id, "Check-in")
    return records(session, rules, [check_in])[0]


@dataclass(frozen=True)
class Filters:
    questionnaire: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    status: str | None = None


def _matching(patient: Patient, filters: Filters) -> Select:
    stmt = select(CheckIn).where(
        CheckIn.patient_id == patient.id, CheckIn.clinic_id == patient.clinic_id
    )
    if filters.questionnaire:
        stmt = stmt.where(CheckIn.questionnaire == filters.questionnaire)
    if filters.since:
        stmt = stmt.where(CheckIn.completed_at >= filters.since)
    if filters.until:
        stmt = stmt.where(CheckIn.completed_at < filters.until)
    if filters.status:
        stmt = stmt.where(CheckIn.status == filters.status)
    return stmt


NEWEST_FIRST = [CheckIn.completed_at, CheckIn.id]


def list_check_ins(
    session: Session,
    rules: Rules,
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    filters: Filters,
    limit: int,
    cursor: dict | None,
) -> Page:
    """One page of a patient's check-in records, newest first (by completion time)."""
    patient = get_patient(session, actor, patient_id)
    page = keyset_page(
        session, _matching(patient, filters), keys=NEWEST_FIRST, limit=limit, cursor=cursor
    )
    return Page(records(session, rules, page.items), page.next_key)


def export_check_ins(
    session: Session, *, actor: Actor, patient_id: uuid.UUID, filters: Filters
) -> list[CheckIn]:
    """Every matching check-in of a patient, newest first, for a spreadsheet."""
    patient = get_patient(session, actor, patient_id)
    stmt = _matching(patient, filters).order_by(*(key.desc() for key in NEWEST_FIRST))
    return list(session.scalars(stmt))


def mark_entered_in_error(
    session: Session,
    rules: Rules,
    *,
    actor: Actor,
    check_in_id: uuid.UUID,
    reason: str,
    now: dt.datetime,
) -> CheckInRecord:
    """The check-in stays, leaves every score-based view, and keeps who, when and why."""
    check_in = get_patient_record(session, actor, CheckIn, check_in_id, "Check-in")
    if check_in.status == "entered_in_error":
        raise Conflict("This check-in is already marked entered in error.")
    check_in.status = "entered_in_error"
    check_in.entered_in_error_at = now
    check_in.entered_in_error_by = actor.user_id
    check_in.entered_in_error_reason = reason
    session.flush()
    return records(session, rules, [check_in])[0]
