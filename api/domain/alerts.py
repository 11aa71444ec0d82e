"""Alerts: raised in the check-in's own transaction; merged while open unless urgent."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.domain.access import Actor, get_patient_record, patient_record_filter
from api.domain.errors import Conflict
from api.domain.pagination import Page, keyset_page
from api.domain.questionnaires import Definition
from api.models import Alert, AlertOccurrence, CheckIn

PRIORITY_RANK = {"urgent": 0, "high": 1}
NEVER_MERGED = {"suicidal_ideation"}
STATUSES = ("open", "acknowledged", "resolved")


def triggered(
    definition: Definition, check_in: CheckIn, baseline_total: int | None
) -> list[tuple[str, str]]:
    """(kind, priority) of every alert this check-in triggers; a pure function."""
    kinds = []
    for rule in definition.alerts:
        flag = rule.when.get("flag")
        at_least = rule.when.get("total_at_least")
        if (flag is not None and flag in check_in.flags) or (
            at_least is not None and check_in.total >= at_least
        ):
            kinds.append((rule.kind, rule.priority))
    reliable = definition.change.get("reliable_change")
    worse_by = None if baseline_total is None else check_in.total - baseline_total
    if reliable is not None and worse_by is not None and worse_by >= reliable["points"]:
        kinds.append(("reliable_deterioration", "high"))
    return kinds


def raise_alerts(
    session: Session,
    definition: Definition,
    check_in: CheckIn,
    *,
    baseline_total: int | None,
    now: dt.datetime,
) -> list[Alert]:
    """Record every alert the check-in triggers, in the caller's transaction."""
    return [
        _raise(session, check_in, kind=kind, priority=priority, now=now)
        for kind, priority in triggered(definition, check_in, baseline_total)
    ]


def _occurrence(alert: Alert, check_in: CheckIn) -> AlertOccurrence:
    return AlertOccurrence(
        id=uuid.uuid4(),
        alert_id=alert.id,
        clinic_id=check_in.clinic_id,
        check_in_id=check_in.id,
        total=check_in.total,
        completed_at=check_in.completed_at,
        received_at=check_in.received_at,
    )


def _open_mergeable(session: Session, check_in: CheckIn, kind: str) -> Alert | None:
    return session.scalar(
        select(Alert).where(
            Alert.patient_id == check_in.patient_id,
            Alert.kind == kind,
            Alert.questionnaire == check_in.questionnaire,
            Alert.status == "open",
        )
    )


def _raise(
    session: Session, check_in: CheckIn, *, kind: str, priority: str, now: dt.datetime
) -> Alert:
    if kind not in NEVER_MERGED:
        alert = _open_mergeable(session, check_in, kind)
        if alert is not None:
            return _merge(session, alert, check_in)
    alert = Alert(
        id=uuid.uuid4(),
        clinic_id=check_in.clinic_id,
        patient_id=check_in.patient_id,
        check_in_id=check_in.id,
        questionnaire=check_in.questionnaire,
        kind=kind,
        priority=priority,
        priority_rank=PRIORITY_RANK[priority],
        status="open",
        raised_at=now,
        completed_at=check_in.completed_at,
        received_at=check_in.received_at,
    )
    try:
        with session.begin_nested():
            session.add(alert)
            session.add(_occurrence(alert, check_in))
            session.flush()
    except IntegrityError:
        # A concurrent check-in opened the same kind of alert first: join it.
        existing = _open_mergeable(session, check_in, kind)
        if existing is None:
            raise
        return _merge(session, existing, check_in)
    return alert


def _merge(session: Session, alert: Alert, check_in: CheckIn) -> Alert:
    # Only a row is added, so concurrent merges cannot overwrite each other.
    session.add(_occurrence(alert, check_in))
    session.flush()
    return alert


def list_alerts(
    session: Session,
    actor: Actor,
    *,
    statuses: list[str],
    kind: str | None,
    patient_id: uuid.UUID | None,
    limit: int,
    cursor: dict | None,
) -> Page:
    """Urgent first, then newest first."""
    stmt = select(Alert).where(patient_record_filter(actor, Alert))
    if statuses:
        stmt = stmt.where(Alert.status.in_(statuses))
    if kind:
        stmt = stmt.where(Alert.kind == kind)
    if patient_id:
        stmt = stmt.where(Alert.patient_id == patient_id)
    return keyset_page(
        session,
        stmt,
        keys=[Alert.priority_rank, Alert.raised_at, Alert.id],
        descending=[False, True, True],
        limit=limit,
        cursor=cursor,
    )


def get_alert(session: Session, actor: Actor, alert_id: uuid.UUID) -> Alert:
    return get_patient_record(session, actor, Alert, alert_id, "Alert")


# action → (the status it sets, the statuses it may leave)
TRANSITIONS = {
    "acknowledge": ("acknowledged", ("open",)),
    "resolve": ("resolved", ("open", "acknowledged")),
}


def act(
    session: Session,
    *,
    actor: Actor,
    alert_id: uuid.UUID,
    action: str,
    note: str | None,
    now: dt.datetime,
) -> Alert:
    """Acknowledge or resolve an alert, recording who, when and the note."""
    alert = get_alert(session, actor, alert_id)
    status, allowed_from = TRANSITIONS[action]
    if alert.status not in allowed_from:
        raise Conflict(f"The alert is already {alert.status}.")
    alert.status = status
    setattr(alert, f"{status}_at", now)
    setattr(alert, f"{status}_by", actor.user_id)
    setattr(alert, f"{status}_note", note)
    session.flush()
    return alert


def occurrences(session: Session, alert_ids: list[uuid.UUID]) -> dict:
    """Each alert's occurrences with the check-in's current status, in one query."""
    found: dict[uuid.UUID, list] = {alert_id: [] for alert_id in alert_ids}
    if not alert_ids:
        return found
    rows = session.execute(
        select(AlertOccurrence, CheckIn.status)
        .join(CheckIn, CheckIn.id == AlertOccurrence.check_in_id)
        .where(AlertOccurrence.alert_id.in_(alert_ids))
        .order_by(AlertOccurrence.completed_at, AlertOccurrence.id)
    )
    for occurrence, status in rows:
        found[occurrence.alert_id].append((occurrence, status))
    return found
