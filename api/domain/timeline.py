"""Where each check-in sits on the treatment timeline (PRODUCT.md §3), computed when read.

Nothing here is stored: infusion numbers, phases and check-in contexts are derived from the
infusions in SQL each time, so back-filled, cancelled or re-dated infusions are reflected at
once without any recomputation step.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import CTE, Select, func, select
from sqlalchemy.orm import Session

from api.models import CheckIn, Course, Infusion

LOOKBACK = dt.timedelta(days=30)


@dataclass(frozen=True)
class Context:
    course_id: uuid.UUID | None = None
    phase: str | None = None
    infusion_number: int | None = None
    days_since_infusion: float | None = None


@dataclass(frozen=True)
class Baseline:
    check_in: CheckIn
    source: str  # "pre_infusion" or "first_available"


def infusion_phase(number: int, induction_infusions: int, override: str | None) -> str:
    """Induction up to the course's induction count, maintenance after, unless overridden."""
    if override:
        return override
    return "induction" if number <= induction_infusions else "maintenance"


def days_between(earlier: dt.datetime, later: dt.datetime) -> float:
    return round((later - earlier).total_seconds() / 86400, 1)


def local_midnight(day: dt.date, timezone: str) -> dt.datetime:
    """The instant a local calendar day begins, correct across daylight-saving changes."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(timezone)).astimezone(dt.UTC)


def course_instants(
    started_on: dt.date, completed_on: dt.date | None, timezone: str
) -> dict[str, dt.datetime | None]:
    """The stored instants of a course: start, the start of its 30-day look-back, and end."""
    starts_at = local_midnight(started_on, timezone)
    ends_at = (
        local_midnight(completed_on + dt.timedelta(days=1), timezone) if completed_on else None
    )
    return {"starts_at": starts_at, "window_start": starts_at - LOOKBACK, "ends_at": ends_at}


def numbered_infusions(*where) -> CTE:
    """Completed infusions with their number: order by administration time within the course."""
    number = func.row_number().over(
        partition_by=Infusion.course_id, order_by=(Infusion.administered_at, Infusion.id)
    )
    return (
        select(
            Infusion.id,
            Infusion.course_id,
            Infusion.administered_at,
            Infusion.phase_override,
            number.label("number"),
        )
        .where(Infusion.status == "completed", *where)
        .cte("numbered")
    )


def infusion_numbers(session: Session, course_id: uuid.UUID) -> dict[uuid.UUID, int]:
    numbered = numbered_infusions(Infusion.course_id == course_id)
    return dict(session.execute(select(numbered.c.id, numbered.c.number)).all())


def course_at(patient_id, instant) -> Select:
    """The course an instant belongs to: the patient's latest course whose 30-day look-back
    has begun by then. Takes values or columns, so one rule serves rows and queries."""
    return (
        select(Course)
        .where(Course.patient_id == patient_id, Course.window_start <= instant)
        .order_by(Course.starts_at.desc(), Course.id.desc())
        .limit(1)
    )


def contexts(session: Session, check_ins: list[CheckIn]) -> dict[uuid.UUID, Context]:
    """The context of each check-in, in one query however many there are."""
    if not check_ins:
        return {}
    ids = [c.id for c in check_ins]
    patient_ids = {c.patient_id for c in check_ins}
    numbered = numbered_infusions(Infusion.patient_id.in_(patient_ids))
    placed = (
        select(
            CheckIn.id.label("check_in_id"),
            CheckIn.completed_at.label("completed_at"),
            course_at(CheckIn.patient_id, CheckIn.completed_at)
            .with_only_columns(Course.id)
            .correlate(CheckIn)
            .scalar_subquery()
            .label("course_id"),
        )
        .where(CheckIn.id.in_(ids))
        .subquery("placed")
    )
    latest_infusion = (
        select(numbered.c.id)
        .where(
            numbered.c.course_id == placed.c.course_id,
            numbered.c.administered_at <= placed.c.completed_at,
        )
        .order_by(numbered.c.administered_at.desc(), numbered.c.id.desc())
        .limit(1)
        .correlate(placed)
        .scalar_subquery()
    )
    with_infusion = select(placed, latest_infusion.label("infusion_id")).subquery("with_infusion")
    rows = session.execute(
        select(
            with_infusion.c.check_in_id,
            with_infusion.c.completed_at,
            Course.id,
            Course.status,
            Course.ends_at,
            Course.induction_infusions,
            numbered.c.number,
            numbered.c.administered_at,
            numbered.c.phase_override,
        )
        .select_from(with_infusion)
        .outerjoin(Course, Course.id == with_infusion.c.course_id)
        .outerjoin(numbered, numbered.c.id == with_infusion.c.infusion_id)
    )
    return {row.check_in_id: _context(row) for row in rows}


def _context(row) -> Context:
    if row.id is None:
        return Context()
    ended = row.status == "completed" and row.ends_at and row.completed_at >= row.ends_at
    if row.number is None:
        return Context(course_id=row.id, phase="follow_up" if ended else "baseline")
    return Context(
        course_id=row.id,
        phase="follow_up"
        if ended
        else infusion_phase(row.number, row.induction_infusions, row.phase_override),
        infusion_number=row.number,
        days_since_infusion=days_between(row.administered_at, row.completed_at),
    )


def course_span_end(session: Session, course: Course) -> dt.datetime | None:
    """Where the next course's look-back begins: this course's check-ins end there."""
    return session.scalar(
        select(func.min(Course.window_start)).where(
            Course.patient_id == course.patient_id, Course.starts_at > course.starts_at
        )
    )


def first_infusion_at(session: Session, course: Course) -> dt.datetime | None:
    return session.scalar(
        select(func.min(Infusion.administered_at)).where(
            Infusion.course_id == course.id, Infusion.status == "completed"
        )
    )


def baselines(
    session: Session, course: Course, questionnaires: list[str] | None = None
) -> dict[str, Baseline]:
    """Per instrument: the latest final check-in at or before the first infusion and no more
    than 30 days before it; failing that, the course's first check-in ("first_available")."""
    span_end = course_span_end(session, course)
    first = first_infusion_at(session, course)
    stmt = select(CheckIn).where(
        CheckIn.patient_id == course.patient_id,
        CheckIn.status == "final",
        CheckIn.completed_at >= course.window_start,
    )
    if span_end is not None:
        stmt = stmt.where(CheckIn.completed_at < span_end)
    if questionnaires:
        stmt = stmt.where(CheckIn.questionnaire.in_(questionnaires))
    found: dict[str, Baseline] = {}
    for check_in in session.scalars(stmt.order_by(CheckIn.completed_at, CheckIn.id)):
        pre_infusion = first is None or (first - LOOKBACK <= check_in.completed_at <= first)
        current = found.get(check_in.questionnaire)
        if pre_infusion:
            # Ordered by time: a later pre-infusion check-in replaces an earlier one.
            found[check_in.questionnaire] = Baseline(check_in, "pre_infusion")
        elif current is None:
            found[check_in.questionnaire] = Baseline(check_in, "first_available")
    return found


def course_of(session: Session, check_in: CheckIn) -> Course | None:
    return session.scalar(course_at(check_in.patient_id, check_in.completed_at))


def baseline_total(session: Session, check_in: CheckIn) -> int | None:
    """The course baseline this check-in is compared with; None without a course or baseline."""
    course = course_of(session, check_in)
    if course is None:
        return None
    baseline = baselines(session, course, [check_in.questionnaire]).get(check_in.questionnaire)
    if baseline is None or baseline.check_in.id == check_in.id:
        return None
    return baseline.check_in.total
