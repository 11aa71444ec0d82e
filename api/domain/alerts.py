"""Alerts: raised in the check-in's own transaction; merged while open, urgent ones per day."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from api.db import insert_new, insert_rows, rows_affected
from api.domain.access import Actor, get_patient_record, patient_record_filter
from api.domain.errors import Conflict
from api.domain.pagination import Page, keyset_page
from api.domain.questionnaires import Definition
from api.domain.registry import Registry
from api.domain.timeline import Baseline, Scored, local_time
from api.models import Alert, AlertOccurrence, CheckIn, Patient
from api.models.alert import ALERT_PRIORITIES

PRIORITY_RANK = {priority: rank for rank, priority in enumerate(ALERT_PRIORITIES)}
# An urgent alert gets a new row at most once a day per patient; later triggers that day become
# occurrences of it, so each day's endorsement is seen and no patient can bury another's.
URGENT_MERGE_WINDOW = dt.timedelta(hours=24)
URGENT_KINDS = frozenset({"suicidal_ideation"})


@dataclass(frozen=True)
class Trigger:
    kind: str
    priority: str
    baseline: Baseline | None = None


def deteriorated(
    definition: Definition, check_in: CheckIn, baseline: Baseline, recent: list[CheckIn]
) -> bool:
    """Worse than the course baseline by the instrument's rule. Only a check-in completed after
    the baseline is compared. A reliable-change threshold compares this one check-in; a
    sustained rule (pain) needs the most recent ratings, this one among them, each worse by its
    points and spread over enough days. `recent` is newest first."""
    if check_in.completed_at <= baseline.check_in.completed_at:
        return False
    worse_by = check_in.total - baseline.check_in.total
    reliable = definition.change.get("reliable_change")
    if reliable is not None:
        return worse_by >= reliable["points"]
    sustained = definition.change.get("sustained_deterioration")
    if sustained is None:
        return False
    latest = [c for c in recent if c.completed_at > baseline.check_in.completed_at]
    latest = latest[: sustained["ratings"]]
    if all(c.id != check_in.id for c in latest):
        return False
    return sustained_above(sustained, latest, baseline.check_in.total)


def sustained_above(rule: dict, latest: Sequence[Scored], reference: int) -> bool:
    """The instrument's sustained rule (pain): the most recent ratings — `latest`, newest
    first, as many as the rule counts — each at least its points above `reference`, and
    spanning enough days. A pure function."""
    if len(latest) < rule["ratings"]:
        return False
    # "Spanning at least 3 days": on 3 different days the patient saw, and at least 2 days
    # apart end to end (23:59 Monday to 00:01 Wednesday is not three days).
    spread = latest[0].completed_at - latest[-1].completed_at
    return (
        all(c.total - reference >= rule["points"] for c in latest)
        and len({local_date(c) for c in latest}) >= rule["distinct_days"]
        and spread >= dt.timedelta(days=rule["distinct_days"] - 1)
    )


def local_date(check_in: Scored) -> dt.date:
    """The calendar day the patient saw on their device when they answered."""
    return local_time(check_in.completed_at, check_in.completed_offset_minutes).date()


def triggered(
    definition: Definition,
    check_in: CheckIn,
    baseline: Baseline | None,
    recent: list[CheckIn],
) -> list[Trigger]:
    """Every alert this check-in triggers; a pure function."""
    triggers = []
    for rule in definition.alerts:
        flag = rule.when.get("flag")
        at_least = rule.when.get("total_at_least")
        if (flag is not None and flag in check_in.flags) or (
            at_least is not None and check_in.total >= at_least
        ):
            triggers.append(Trigger(rule.kind, rule.priority))
    if baseline is not None and deteriorated(definition, check_in, baseline, recent):
        # A first_available baseline may itself be a treated score: worth a look, not urgent.
        priority = "high" if baseline.source == "pre_infusion" else "normal"
        triggers.append(Trigger("reliable_deterioration", priority, baseline))
    return triggers


def needs_recent(definition: Definition) -> int:
    """How many recent check-ins the deterioration rule of this instrument reads (0: none)."""
    sustained = definition.change.get("sustained_deterioration")
    return 0 if sustained is None else sustained["ratings"]


def recent_check_ins(
    session: Session, check_in: CheckIn, count: int, excluding: Collection[uuid.UUID] = ()
) -> list[CheckIn]:
    """The patient's latest final check-ins of this instrument, newest first, but for those
    `excluding` names."""
    if count == 0:
        return []
    stmt = select(CheckIn).where(
        CheckIn.patient_id == check_in.patient_id,
        CheckIn.questionnaire == check_in.questionnaire,
        CheckIn.status == "final",
    )
    if excluding:
        stmt = stmt.where(CheckIn.id.not_in(excluding))
    return list(
        session.scalars(stmt.order_by(CheckIn.completed_at.desc(), CheckIn.id.desc()).limit(count))
    )


def could_deteriorate(definition: Definition, check_in: CheckIn) -> bool:
    """Whether the check-in is worse than the lowest possible score by the instrument's
    deterioration points: if not, no baseline can make it a deterioration, and neither the
    baseline nor the recent ratings need reading. A pure function."""
    rule = definition.change.get("reliable_change") or definition.change.get(
        "sustained_deterioration"
    )
    return rule is not None and check_in.total - definition.score_min >= rule["points"]


def triggers_of(
    definition: Definition,
    check_in: CheckIn,
    *,
    baseline: Callable[[], Baseline | None],
    recent: Callable[[int], list[CheckIn]],
) -> list[Trigger]:
    """Every alert the check-in triggers. `baseline` finds the course baseline it is compared
    with and `recent(n)` the latest n ratings of its instrument, newest first; each is called
    only when a deterioration is possible."""
    compared_with = baseline() if could_deteriorate(definition, check_in) else None
    latest = recent(needs_recent(definition)) if compared_with else []
    return triggered(definition, check_in, compared_with, latest)


# What one check-in triggered, as raise_all records it.
Raised = tuple[CheckIn, Trigger]
AlertKey = tuple[str, str]  # kind, questionnaire


def raise_all(session: Session, raised: list[Raised], *, now: dt.datetime) -> None:
    """Record what one patient's new check-ins triggered, in their order, in the caller's
    transaction: each kind of alert of an instrument joins the patient's open one (an urgent
    one only within a day) or opens one, and each trigger is an occurrence of it.

    Statements per kind of alert, not per check-in: the patient's row locked once when an
    urgent kind is among them, the open alerts read and locked in one query, the new alerts
    written in one INSERT and the occurrences in another, one UPDATE per open alert joined."""
    if not raised:
        return
    patient_id = raised[0][0].patient_id
    groups: dict[AlertKey, list[Raised]] = {}
    for check_in, trigger in raised:
        groups.setdefault((trigger.kind, check_in.questionnaire), []).append((check_in, trigger))
    if any(kind in URGENT_KINDS for kind, _ in groups):
        # No index can say "one a day": concurrent urgent triggers for one patient queue on
        # the patient's row instead (SQLite serialises writers already). NO KEY UPDATE, as the
        # check-in's foreign key already holds KEY SHARE on that row.
        session.execute(
            select(Patient.id).where(Patient.id == patient_id).with_for_update(key_share=True)
        )
    joined = open_alerts(session, patient_id, set(groups), now)
    opened: dict[AlertKey, Alert] = {}
    waiting = set(groups) - set(joined)
    while waiting:
        # In one order everywhere (not a set's, which differs between processes): two
        # requests writing the same kinds then wait on each other's rows, never deadlock.
        new = {key: opened_alert(groups[key], now) for key in sorted(waiting)}
        stored = insert_new(session, list(new.values()))
        opened |= {key: alert for key, alert in new.items() if alert.id in stored}
        # One left out: a concurrent check-in opened the same kind of alert first; join it
        # (or, closed again since, open one after all).
        waiting -= set(opened)
        if waiting:
            joined |= open_alerts(session, patient_id, waiting, now)
            waiting -= set(joined)
    for key in sorted(joined):
        join(session, joined[key], groups[key])
    insert_rows(
        session,
        [
            occurrence(joined[key] if key in joined else opened[key].id, check_in)
            for key, group in groups.items()
            for check_in, _ in group
        ],
    )


def open_alerts(
    session: Session, patient_id: uuid.UUID, keys: set[AlertKey], now: dt.datetime
) -> dict[AlertKey, uuid.UUID]:
    """The open alert each kind would join, in one query: the open one of its kind and
    instrument (for an urgent kind, the one raised within the merge window; there is at most
    one, a unique index for the others, the patient's lock for it). The rows are locked until
    the transaction ends, as the old merge's UPDATE locked its row: an acknowledgement waits
    for the join rather than slipping in before it and hiding the new occurrence in an alert
    no longer open (PostgreSQL re-checks `open` after waiting; SQLite serialises writers)."""
    rows = session.execute(
        select(Alert.id, Alert.kind, Alert.questionnaire)
        .where(
            Alert.patient_id == patient_id,
            Alert.status == "open",
            Alert.kind.in_({kind for kind, _ in keys}),
            Alert.questionnaire.in_({questionnaire for _, questionnaire in keys}),
            Alert.kind.not_in(URGENT_KINDS) | (Alert.raised_at > now - URGENT_MERGE_WINDOW),
        )
        .order_by(Alert.id)  # locked in one order everywhere
        .with_for_update(key_share=True)
    )
    return {(kind, q): alert_id for alert_id, kind, q in rows if (kind, q) in keys}


def best_priority(group: list[Raised]) -> str:
    return min((trigger.priority for _, trigger in group), key=PRIORITY_RANK.__getitem__)


def latest_baseline(group: list[Raised]) -> Baseline | None:
    """The baseline of the group's latest comparison (a re-induction course compares with its
    own), None when no trigger of the group compared."""
    return next((t.baseline for _, t in reversed(group) if t.baseline is not None), None)


def compared_with(baseline: Baseline | None) -> dict:
    """An alert's columns for the baseline a deterioration was compared with (all None without
    one)."""
    return {
        "baseline_check_in_id": baseline.check_in.id if baseline else None,
        "baseline_total": baseline.check_in.total if baseline else None,
        "baseline_source": baseline.source if baseline else None,
    }


def opened_alert(group: list[Raised], now: dt.datetime) -> Alert:
    """A new alert opened by the group's first trigger, with the others joined into it."""
    check_in, trigger = group[0]
    priority = best_priority(group)
    baseline = latest_baseline(group)
    return Alert(
        id=uuid.uuid4(),
        clinic_id=check_in.clinic_id,
        patient_id=check_in.patient_id,
        check_in_id=check_in.id,
        questionnaire=check_in.questionnaire,
        kind=trigger.kind,
        priority=priority,
        priority_rank=PRIORITY_RANK[priority],
        status="open",
        raised_at=now,
        completed_at=check_in.completed_at,
        received_at=check_in.received_at,
        last_received_at=max(c.received_at for c, _ in group),
        **compared_with(baseline),
    )


def occurrence(alert_id: uuid.UUID, check_in: CheckIn) -> AlertOccurrence:
    return AlertOccurrence(
        id=uuid.uuid4(),
        alert_id=alert_id,
        clinic_id=check_in.clinic_id,
        check_in_id=check_in.id,
        total=check_in.total,
        completed_at=check_in.completed_at,
        received_at=check_in.received_at,
    )


def join(session: Session, alert_id: uuid.UUID, group: list[Raised]) -> None:
    """Join a group of triggers to an open alert. The latest arrival and the priority only
    ever move up, so concurrent joins cannot overwrite each other; a deterioration alert shows
    the baseline of its latest comparison."""
    received = max(check_in.received_at for check_in, _ in group)
    priority = best_priority(group)
    rank = PRIORITY_RANK[priority]
    values: dict = {
        "last_received_at": case(
            (Alert.last_received_at < received, received), else_=Alert.last_received_at
        ),
        "priority": case((Alert.priority_rank > rank, priority), else_=Alert.priority),
        "priority_rank": case((Alert.priority_rank > rank, rank), else_=Alert.priority_rank),
    }
    baseline = latest_baseline(group)
    if baseline is not None:
        values |= compared_with(baseline)
    session.execute(
        update(Alert)
        .where(Alert.id == alert_id)
        .values(values)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class OccurrenceRecord:
    check_in_id: uuid.UUID
    total: int
    completed_at: dt.datetime
    received_at: dt.datetime
    check_in_status: str
    answer: dict | None


@dataclass(frozen=True)
class AlertRecord:
    """An alert as the inbox shows it: its patient's name, every occurrence, and for an item
    alert the highest answer among them."""

    alert: Alert
    patient_display_name: str
    occurrences: list[OccurrenceRecord]
    answer: dict | None

    @property
    def check_in_entered_in_error(self) -> bool:
        return any(
            o.check_in_id == self.alert.check_in_id and o.check_in_status == "entered_in_error"
            for o in self.occurrences
        )


def records(session: Session, registry: Registry, alerts: list[Alert]) -> list[AlertRecord]:
    """Each alert with its occurrences and patient's name, in two queries however many."""
    found = occurrences(session, [a.id for a in alerts])
    names = dict(
        session.execute(
            select(Patient.id, Patient.display_name).where(
                Patient.id.in_({a.patient_id for a in alerts})
            )
        ).all()
        if alerts
        else []
    )
    made = []
    for alert in alerts:
        definition = registry.get(alert.questionnaire)
        rows = [
            OccurrenceRecord(
                o.check_in_id,
                o.total,
                o.completed_at,
                o.received_at,
                status,
                flagged_answer(definition, alert.kind, answers),
            )
            for o, status, answers in found[alert.id]
        ]
        # The highest level answered (the latest of equals): a merged "nearly every day" is
        # never shown as "several days".
        answer = max(
            (o.answer for o in reversed(rows) if o.answer),
            key=lambda a: a["value"],
            default=None,
        )
        made.append(AlertRecord(alert, names.get(alert.patient_id, ""), rows, answer))
    return made


def list_alerts(
    session: Session,
    registry: Registry,
    actor: Actor,
    *,
    statuses: list[str],
    kind: str | None,
    patient_id: uuid.UUID | None,
    limit: int,
    cursor: dict | None,
) -> Page:
    """Urgent first, then by the latest occurrence (a new trigger moves an alert up)."""
    stmt = select(Alert).where(patient_record_filter(actor, Alert))
    if statuses:
        stmt = stmt.where(Alert.status.in_(statuses))
    if kind:
        stmt = stmt.where(Alert.kind == kind)
    if patient_id:
        stmt = stmt.where(Alert.patient_id == patient_id)
    page = keyset_page(
        session,
        stmt,
        keys=[Alert.priority_rank, Alert.last_received_at, Alert.id],
        descending=[False, True, True],
        limit=limit,
        cursor=cursor,
    )
    return Page(records(session, registry, page.items), page.next_key)


def get_alert(session: Session, actor: Actor, alert_id: uuid.UUID) -> Alert:
    return get_patient_record(session, actor, Alert, alert_id, "Alert")


# action → (the status it sets, the statuses it may leave)
TRANSITIONS = {
    "acknowledge": ("acknowledged", ("open",)),
    "resolve": ("resolved", ("open", "acknowledged")),
}


def transition(
    session: Session,
    registry: Registry,
    *,
    actor: Actor,
    alert_id: uuid.UUID,
    action: str,
    note: str | None,
    now: dt.datetime,
) -> AlertRecord:
    """Acknowledge or resolve an alert, recording who, when and the note. The change is one
    conditional UPDATE, so of two concurrent calls exactly the allowed ones take effect."""
    alert = get_alert(session, actor, alert_id)
    status, allowed_from = TRANSITIONS[action]
    changed = rows_affected(
        session,
        update(Alert)
        .where(Alert.id == alert.id, Alert.status.in_(allowed_from))
        .values(
            {
                "status": status,
                f"{status}_at": now,
                f"{status}_by": actor.user_id,
                f"{status}_note": note,
            }
        )
        .execution_options(synchronize_session=False),
    )
    session.refresh(alert)
    if changed != 1:
        raise Conflict(f"The alert is already {alert.status}.")
    return records(session, registry, [alert])[0]


def occurrences(session: Session, alert_ids: list[uuid.UUID]) -> dict:
    """Each alert's occurrences with the check-in's status and answers, in one query."""
    found: dict[uuid.UUID, list] = {alert_id: [] for alert_id in alert_ids}
    if not alert_ids:
        return found
    rows = session.execute(
        select(AlertOccurrence, CheckIn.status, CheckIn.answers)
        .join(CheckIn, CheckIn.id == AlertOccurrence.check_in_id)
        .where(AlertOccurrence.alert_id.in_(alert_ids))
        .order_by(AlertOccurrence.completed_at, AlertOccurrence.id)
    )
    for occurrence, status, answers in rows:
        found[occurrence.alert_id].append((occurrence, status, answers))
    return found


def flagged_answer(definition: Definition | None, kind: str, answers: dict) -> dict | None:
    """For an alert raised by a flagged item (PHQ-9 item 9), that item's answer and its label."""
    if definition is None:
        return None
    rule = next((r for r in definition.alerts if r.kind == kind and r.when.get("flag")), None)
    flag = next((f for f in definition.flags if rule and f.key == rule.when["flag"]), None)
    if flag is None or flag.rule["type"] != "item_at_least":
        return None
    item = definition.item(str(flag.rule["item"]))
    value = answers.get(str(flag.rule["item"]))
    if item is None or value is None:
        return None
    label = next((o.label for o in item.options if o.value == value), str(value))
    return {"item": item.id, "value": value, "label": label}
