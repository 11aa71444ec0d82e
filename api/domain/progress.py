"""The progress read model: trends and what is due, computed for whole sets of patients and
kept in course_progress, infusion_benefits and patient_progress, so the clinician's panel and
clinic outcomes are single SQL queries.

Nothing is written on the ingest path. A patient's rows are stale once any of their check-ins
arrived or was marked entered in error, an infusion changed or a course changed after
`refreshed_at`; readers call `refresh_stale` for the patients they are about to show, which
recomputes them in a fixed number of queries however many there are."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import ColumnElement, delete, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.domain import schedule
from api.domain.rules import Rules
from api.domain.timeline import GivenInfusion, course_for, plausible_dates
from api.domain.trends import Trend, build
from api.models import (
    SCORES_ONLY,
    CheckIn,
    Course,
    CourseProgress,
    Infusion,
    InfusionBenefit,
    Patient,
    PatientProgress,
)

# The instrument a course is followed by, from its first indication.
PRIMARY = {"depression": "phq9", "anxiety": "gad7", "ptsd": "pcl5", "chronic_pain": "pain"}
# A refresh counts as seen only data older than this, so a check-in committed while a refresh
# ran is never mistaken for one it saw.
MARGIN = dt.timedelta(minutes=1)


def primary_questionnaire(course: Course) -> str:
    return PRIMARY[course.indications[0]]


def is_stale() -> ColumnElement[bool]:
    """A WHERE clause on Patient (outer-joined to PatientProgress): their progress is missing or
    older than a change to their check-ins, infusions or courses."""
    seen = PatientProgress.refreshed_at
    return or_(
        seen.is_(None),
        # Two probes, each along its own index, rather than one OR that reads every check-in.
        exists().where(CheckIn.patient_id == Patient.id, CheckIn.received_at > seen),
        exists().where(CheckIn.patient_id == Patient.id, CheckIn.entered_in_error_at > seen),
        exists().where(Infusion.patient_id == Patient.id, Infusion.updated_at > seen),
        exists().where(Course.patient_id == Patient.id, Course.changed_at > seen),
    )


def refresh_stale(
    session: Session, rules: Rules, scope: ColumnElement[bool], now: dt.datetime
) -> int:
    """Recompute every patient selected by `scope` (a WHERE clause on Patient) whose progress is
    stale; how many were."""
    stale = list(
        session.scalars(
            select(Patient.id)
            .outerjoin(PatientProgress, PatientProgress.patient_id == Patient.id)
            .where(scope, is_stale())
        )
    )
    if stale:
        try:
            with session.begin_nested():
                refresh(session, rules, stale, now)
        except IntegrityError:
            # Another request refreshed these patients a moment ago: theirs stands.
            return 0
    return len(stale)


@dataclass
class Loaded:
    """Every patient's courses, check-ins by course, completed and scheduled infusions."""

    patients: dict[uuid.UUID, Patient]
    courses: dict[uuid.UUID, list[Course]]
    check_ins: dict[uuid.UUID | None, list[CheckIn]]  # by course id (None: no course)
    recent: dict[uuid.UUID, list[CheckIn]]  # by patient, every final check-in in time order
    given: dict[uuid.UUID, list[GivenInfusion]]
    scheduled: dict[uuid.UUID, list[Infusion]]
    completed: dict[uuid.UUID, list[Infusion]]


def load(session: Session, patient_ids: list[uuid.UUID]) -> Loaded:
    """Four queries for any number of patients."""
    patients = {
        p.id: p for p in session.scalars(select(Patient).where(Patient.id.in_(patient_ids)))
    }
    courses: dict[uuid.UUID, list[Course]] = defaultdict(list)
    for course in session.scalars(
        select(Course).where(Course.patient_id.in_(patient_ids)).order_by(Course.starts_at)
    ):
        courses[course.patient_id].append(course)
    by_course: dict[uuid.UUID | None, list[CheckIn]] = defaultdict(list)
    recent: dict[uuid.UUID, list[CheckIn]] = defaultdict(list)
    rows = session.scalars(
        select(CheckIn)
        .where(CheckIn.patient_id.in_(patient_ids), CheckIn.status == "final")
        .order_by(CheckIn.completed_at, CheckIn.id)
        .options(SCORES_ONLY)
    )
    for check_in in rows:
        owner = course_for(check_in.completed_at, courses[check_in.patient_id])
        by_course[owner.id if owner else None].append(check_in)
        recent[check_in.patient_id].append(check_in)
    given: dict[uuid.UUID, list[GivenInfusion]] = defaultdict(list)
    scheduled: dict[uuid.UUID, list[Infusion]] = defaultdict(list)
    completed: dict[uuid.UUID, list[Infusion]] = defaultdict(list)
    infusions = session.scalars(
        select(Infusion)
        .where(
            Infusion.patient_id.in_(patient_ids), Infusion.status != "cancelled", plausible_dates()
        )
        .order_by(Infusion.administered_at, Infusion.scheduled_for, Infusion.id)
    )
    for infusion in infusions:
        if infusion.status == "scheduled":
            scheduled[infusion.course_id].append(infusion)
            continue
        completed[infusion.course_id].append(infusion)
        number = len(given[infusion.course_id]) + 1
        # A completed infusion always has its time (a check constraint).
        given_at = cast(dt.datetime, infusion.administered_at)
        given[infusion.course_id].append(
            GivenInfusion(
                infusion.id, infusion.course_id, number, given_at, infusion.phase_override
            )
        )
    return Loaded(patients, courses, by_course, recent, given, scheduled, completed)


def refresh(
    session: Session, rules: Rules, patient_ids: Iterable[uuid.UUID], now: dt.datetime
) -> None:
    """Recompute these patients' progress rows: four reads and six writes however many."""
    ids = list(patient_ids)
    loaded = load(session, ids)
    courses, benefits, patients = [], [], []
    for patient_id, patient in loaded.patients.items():
        for course in loaded.courses[patient_id]:
            for trend in course_trends(rules, course, loaded):
                courses.append(course_row(course, trend))
                benefits.extend(benefit_rows(course, trend))
        patients.append(patient_row(rules, patient, loaded, now))
    for model in (InfusionBenefit, CourseProgress, PatientProgress):
        session.execute(delete(model).where(model.patient_id.in_(ids)))
    session.add_all([*courses, *benefits, *patients])
    session.flush()


def course_trends(rules: Rules, course: Course, loaded: Loaded) -> list[Trend]:
    """The trend of every instrument answered in the course."""
    by_questionnaire: dict[str, list[CheckIn]] = defaultdict(list)
    for check_in in loaded.check_ins[course.id]:
        by_questionnaire[check_in.questionnaire].append(check_in)
    trends = []
    for key, check_ins in sorted(by_questionnaire.items()):
        definition = rules.registry.get(key)
        if definition is not None:
            trends.append(
                build(definition, course, check_ins, loaded.given[course.id], rules.in_chair_grace)
            )
    return trends


def course_row(course: Course, trend: Trend) -> CourseProgress:
    baseline = trend.baseline.check_in if trend.baseline else None
    latest = trend.latest
    return CourseProgress(
        course_id=course.id,
        questionnaire=trend.definition.key,
        clinic_id=course.clinic_id,
        patient_id=course.patient_id,
        check_in_count=len(trend.points),
        baseline_check_in_id=baseline.id if baseline else None,
        baseline_total=baseline.total if baseline else None,
        baseline_severity=baseline.severity if baseline else None,
        baseline_source=trend.baseline.source if trend.baseline else None,
        latest_check_in_id=latest.id if latest else None,
        latest_total=latest.total if latest else None,
        latest_severity=latest.severity if latest else None,
        latest_completed_at=latest.completed_at if latest else None,
        change_absolute=trend.change.absolute if trend.change else None,
        change_percent=trend.change.percent if trend.change else None,
        response=trend.status.response,
        remission=trend.status.remission,
        reliable_change=trend.status.reliable_change,
        mcid_reached=trend.status.mcid_reached,
        signals=[signal.kind for signal in trend.signals],
        signal_count=len(trend.signals),
        median_days_of_benefit=trend.durability.median_days_of_benefit,
    )


def benefit_rows(course: Course, trend: Trend) -> list[InfusionBenefit]:
    return [
        InfusionBenefit(
            infusion_id=b.infusion.infusion.id,
            questionnaire=trend.definition.key,
            clinic_id=course.clinic_id,
            patient_id=course.patient_id,
            course_id=course.id,
            number=b.infusion.infusion.number,
            phase=b.infusion.phase,
            before=b.before,
            best_after=b.best_after,
            last_after=b.last_after,
            days_observed=b.days_observed,
            days_of_benefit=b.days_of_benefit,
            still_improved=b.still_improved,
        )
        for b in trend.by_infusion
    ]


def current_course(courses: list[Course]) -> Course | None:
    """The active course, or the latest (`courses` are in start order)."""
    return next((c for c in courses if c.status == "active"), courses[-1] if courses else None)


def patient_row(
    rules: Rules, patient: Patient, loaded: Loaded, now: dt.datetime
) -> PatientProgress:
    course = current_course(loaded.courses[patient.id])
    due_by = None
    if course is not None and course.status == "active":
        plan = schedule.plan_of(course)
        state = schedule.CourseState(
            course,
            patient.timezone,
            list(enumerate(loaded.completed[course.id], start=1)),
            loaded.scheduled[course.id],
            check_ins=loaded.check_ins[course.id],
            recent=loaded.recent[patient.id],
        )
        due_by = schedule.next_due_by(state, rules.registry, plan, now)
    return PatientProgress(
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        course_id=course.id if course else None,
        primary_questionnaire=primary_questionnaire(course) if course else None,
        next_due_by=due_by,
        refreshed_at=now - MARGIN,
    )
