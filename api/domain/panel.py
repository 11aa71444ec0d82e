"""The patient list, and for clinicians the panel: per patient the primary instrument's latest
score, change and status, open urgent and high alerts, signals, days since the last check-in
and the next infusion, sortable by who needs attention first. One SQL query a page, over the
progress read model (api/domain/progress.py)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import Row, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from api.domain import progress
from api.domain.access import Actor, patient_filter
from api.domain.errors import Forbidden
from api.domain.pagination import BadCursor, Page
from api.domain.patients import PatientRecord, care_team
from api.domain.rules import Rules
from api.models import Alert, CheckIn, CourseProgress, Infusion, Patient, PatientProgress

# No check-in for this long counts as "no recent check-in" in the attention order.
QUIET_AFTER = dt.timedelta(days=7)
SORTS = ("newest", "attention")


@dataclass(frozen=True)
class Progress:
    """What the panel shows of one patient (clinicians only)."""

    course_id: uuid.UUID | None
    questionnaire: str | None
    row: CourseProgress | None
    open_urgent_alerts: int
    open_high_alerts: int
    last_check_in_at: dt.datetime | None
    next_infusion_at: dt.datetime | None
    next_due_by: dt.datetime | None
    overdue: bool


@dataclass(frozen=True)
class PanelRecord:
    record: PatientRecord
    progress: Progress | None


def _open_alerts(priority: str):
    return (
        select(func.count())
        .where(Alert.patient_id == Patient.id, Alert.status == "open", Alert.priority == priority)
        .scalar_subquery()
    )


def _last_check_in():
    return (
        select(func.max(CheckIn.completed_at))
        .where(CheckIn.patient_id == Patient.id, CheckIn.status == "final")
        .scalar_subquery()
    )


def _columns(now: dt.datetime) -> tuple:
    """Per patient, in the order `_records` unpacks them: open urgent and high alerts, the last
    check-in that stands and the next infusion still scheduled."""
    next_infusion = (
        select(func.min(Infusion.scheduled_for))
        .where(
            Infusion.course_id == PatientProgress.course_id,
            Infusion.status == "scheduled",
            Infusion.scheduled_for >= now,
        )
        .scalar_subquery()
    )
    return _open_alerts("urgent"), _open_alerts("high"), _last_check_in(), next_infusion


def _query(actor: Actor, now: dt.datetime) -> Select:
    return (
        select(Patient, PatientProgress, CourseProgress, *_columns(now))
        .outerjoin(PatientProgress, PatientProgress.patient_id == Patient.id)
        .outerjoin(
            CourseProgress,
            and_(
                CourseProgress.course_id == PatientProgress.course_id,
                CourseProgress.questionnaire == PatientProgress.primary_questionnaire,
            ),
        )
        .where(patient_filter(actor))
    )


def attention_order(now: dt.datetime) -> list:
    """Urgent alerts first, then signals, then overdue, then no recent check-in."""
    urgent, last = _open_alerts("urgent"), _last_check_in()
    return [
        case((urgent > 0, 0), else_=1),
        case((func.coalesce(CourseProgress.signal_count, 0) > 0, 0), else_=1),
        case((PatientProgress.next_due_by < now, 0), else_=1),
        case((or_(last.is_(None), last < now - QUIET_AFTER), 0), else_=1),
        Patient.created_at.desc(),
        Patient.id.desc(),
    ]


def list_patients(
    session: Session,
    rules: Rules,
    actor: Actor,
    *,
    overdue: bool,
    sort: str,
    now: dt.datetime,
    limit: int,
    cursor: dict | None,
) -> Page:
    """The patients the actor may see, with the panel for clinicians; `overdue` keeps those
    with a measurement window that closed undone."""
    if sort == "attention" and actor.role != "clinician":
        raise Forbidden("The attention order is the clinician's panel.")
    if overdue or actor.role == "clinician":
        progress.refresh_stale(session, rules, patient_filter(actor), now)
    stmt = _query(actor, now)
    if overdue:
        stmt = stmt.where(PatientProgress.next_due_by < now)
    next_key: dict | None
    if sort == "attention":
        offset = _offset(cursor)
        rows = session.execute(stmt.order_by(*attention_order(now)).offset(offset).limit(limit + 1))
        found = list(rows)
        next_key = {"offset": offset + limit} if len(found) > limit else None
    else:
        found = list(
            session.execute(
                _after_cursor(stmt, cursor)
                .order_by(Patient.created_at.desc(), Patient.id.desc())
                .limit(limit + 1)
            )
        )
        last = found[limit - 1][0] if len(found) > limit else None
        next_key = {"created_at": last.created_at.isoformat(), "id": str(last.id)} if last else None
    return Page(_records(session, actor, found[:limit], now), next_key)


def _offset(cursor: dict | None) -> int:
    """Where a page of the attention order starts; a cursor of another order is refused."""
    if cursor is None:
        return 0
    offset = cursor.get("offset")
    if not isinstance(offset, int) or offset < 0:
        raise BadCursor()
    return offset


def _after_cursor(stmt: Select, cursor: dict | None) -> Select:
    if not cursor:
        return stmt
    try:
        created_at = dt.datetime.fromisoformat(cursor["created_at"])
        patient_id = uuid.UUID(cursor["id"])
    except (KeyError, TypeError, ValueError) as error:
        raise BadCursor() from error
    return stmt.where(
        or_(
            Patient.created_at < created_at,
            and_(Patient.created_at == created_at, Patient.id < patient_id),
        )
    )


def _records(session: Session, actor: Actor, rows: list[Row], now: dt.datetime) -> list:
    teams = care_team(session, [row[0].id for row in rows])
    shown = actor.role == "clinician"
    records = []
    for patient, state, course_row, urgent, high, last, next_infusion in rows:
        panel = None
        if shown:
            due_by = state.next_due_by if state else None
            panel = Progress(
                course_id=state.course_id if state else None,
                questionnaire=state.primary_questionnaire if state else None,
                row=course_row,
                open_urgent_alerts=urgent,
                open_high_alerts=high,
                last_check_in_at=last,
                next_infusion_at=next_infusion,
                next_due_by=due_by,
                overdue=due_by is not None and due_by < now,
            )
        records.append(PanelRecord(PatientRecord(patient, teams[patient.id]), panel))
    return records
