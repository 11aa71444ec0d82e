"""A patient at a glance: the summary across instruments (patients and clinicians) and the
printable report (clinicians), both built from the trends of the current course."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.domain import schedule
from api.domain.access import Actor, get_patient, require_role, sees_signals
from api.domain.alerts import AlertRecord
from api.domain.alerts import records as alert_records
from api.domain.courses import InfusionRecord, list_infusions
from api.domain.rules import Rules
from api.domain.schedule import DueItem
from api.domain.timeline import context_of
from api.domain.trends import Trend, build, choose_course, load
from api.domain.wording import progress_sentence
from api.models import Alert, CheckIn, Clinic, Course, Patient

OPEN_ALERTS_SHOWN = 20


@dataclass(frozen=True)
class InstrumentSummary:
    trend: Trend
    sentence: str


@dataclass(frozen=True)
class Summary:
    """A patient at a glance: every instrument answered in the current course, the course
    itself, what is due next and, for clinicians, open alerts (signals are in the trends)."""

    patient: Patient
    course: Course | None
    phase: str | None
    infusion_count: int
    instruments: list[InstrumentSummary]
    due: list[DueItem]
    open_alerts: list[AlertRecord] | None


def summary(
    session: Session, rules: Rules, *, actor: Actor, patient_id: uuid.UUID, now: dt.datetime
) -> Summary:
    patient = get_patient(session, actor, patient_id)
    course = choose_course(session, patient, None)
    data = load(session, patient=patient, course=course)
    instruments = []
    for key in sorted(data.check_ins):
        definition = rules.registry.get(key)
        if definition is None:
            continue
        built = build(definition, course, data.check_ins[key], data.infusions, rules.in_chair_grace)
        if not sees_signals(actor):
            built = dataclasses.replace(built, signals=[])
        instruments.append(InstrumentSummary(built, sentence_for(built)))
    phase = context_of(now, course, data.infusions, rules.in_chair_grace).phase
    _, due = schedule.due_items(session, rules.registry, patient=patient, at=now)
    return Summary(
        patient=patient,
        course=course,
        phase=phase,
        infusion_count=len(data.infusions),
        instruments=instruments,
        due=[item for item in due if item.status != "done"],
        open_alerts=open_alerts(session, rules, patient) if sees_signals(actor) else None,
    )


def sentence_for(trend: Trend) -> str:
    baseline = trend.baseline.check_in if trend.baseline else None
    return progress_sentence(
        trend.definition,
        baseline=baseline.total if baseline else None,
        latest=trend.latest.total if trend.latest else None,
        followed_up=baseline is not None
        and any(p.check_in.completed_at > baseline.completed_at for p in trend.points),
        before_treatment=trend.baseline is not None and trend.baseline.source == "pre_infusion",
    )


def open_alerts(session: Session, rules: Rules, patient: Patient) -> list[AlertRecord]:
    found = session.scalars(
        select(Alert)
        .where(Alert.patient_id == patient.id, Alert.status.in_(("open", "acknowledged")))
        .order_by(Alert.priority_rank, Alert.last_received_at.desc(), Alert.id.desc())
        .limit(OPEN_ALERTS_SHOWN)
    )
    return alert_records(session, rules.registry, list(found))


@dataclass(frozen=True)
class Report:
    """Everything the printable report shows (clinicians only)."""

    patient: Patient
    clinic: Clinic
    course: Course | None
    trends: list[Trend]
    open_alerts: list[AlertRecord]
    recent_check_ins: list[CheckIn]
    infusions: list[InfusionRecord]
    as_of: dt.datetime


RECENT_CHECK_INS = 20


def report(
    session: Session, rules: Rules, *, actor: Actor, patient_id: uuid.UUID, now: dt.datetime
) -> Report:
    """The report of a care-team patient: every instrument's trend with signals, open alerts,
    the last check-ins and the course's infusions with their details."""
    require_role(actor, "clinician")
    patient = get_patient(session, actor, patient_id)
    course = choose_course(session, patient, None)
    data = load(session, patient=patient, course=course)
    built = [
        build(definition, course, data.check_ins[key], data.infusions, rules.in_chair_grace)
        for key in sorted(data.check_ins)
        if (definition := rules.registry.get(key)) is not None
    ]
    recent = session.scalars(
        select(CheckIn)
        .where(CheckIn.patient_id == patient.id)
        .order_by(CheckIn.completed_at.desc(), CheckIn.id.desc())
        .limit(RECENT_CHECK_INS)
    )
    infusions: list[InfusionRecord] = []
    if course is not None:
        _, infusions = list_infusions(session, rules, actor=actor, course_id=course.id)
    return Report(
        patient=patient,
        clinic=session.get_one(Clinic, patient.clinic_id),
        course=course,
        trends=built,
        open_alerts=open_alerts(session, rules, patient),
        recent_check_ins=list(recent),
        infusions=infusions,
        as_of=now,
    )
