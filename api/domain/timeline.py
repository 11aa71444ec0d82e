"""Where each check-in sits on the treatment timeline (PRODUCT.md §3), computed when read.

Nothing here is stored: infusion numbers, phases and check-in contexts are derived from the
infusions each time, so back-filled, cancelled or re-dated infusions are reflected at once
without any recomputation step.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import functools
import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, bindparam, or_, select, true, union_all
from sqlalchemy.orm import Session

from api.models import CheckIn, Course, Infusion, Patient

LOOKBACK = dt.timedelta(days=30)
# Device clocks drift: a time this far ahead of the server's is still "now", no further.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
# Clinical records before 1900 or from 2100 on are typing mistakes, and instants near the ends
# of Python's range cannot be moved to UTC or shifted by a look-back without overflowing.
# Times are accepted as written from 1900 up to 2100 (api/fields.py); in UTC, with any offset,
# that is within these bounds.
EARLIEST = dt.datetime(1899, 12, 31, tzinfo=dt.UTC)
LATEST = dt.datetime(2100, 1, 2, tzinfo=dt.UTC)
# A check-in this soon after an infusion's start was filled in the chair (configurable).
DEFAULT_IN_CHAIR_GRACE = dt.timedelta(minutes=15)
# CLINICAL.md: a scale taken within 72 hours after an infusion reflects its acute effect.
ACUTE_EFFECT = dt.timedelta(hours=72)


@dataclass(frozen=True)
class Context:
    course_id: uuid.UUID | None = None
    phase: str | None = None
    infusion_number: int | None = None
    days_since_infusion: float | None = None


class Scored(Protocol):
    """What the baseline and trend rules read of a check-in: a stored CheckIn, or the plain
    record a trend or a baseline lookup reads (PointRow)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def questionnaire(self) -> str: ...
    @property
    def total(self) -> int: ...
    @property
    def severity(self) -> str: ...
    @property
    def completed_at(self) -> dt.datetime: ...
    @property
    def completed_offset_minutes(self) -> int: ...
    @property
    def flags(self) -> list: ...


ScoredT = TypeVar("ScoredT", bound=Scored)


@dataclass(frozen=True, slots=True)
class PointRow:
    """A stored check-in as trends and baselines read it (Scored), without the ORM: its
    score, time, flags and status."""

    id: uuid.UUID
    questionnaire: str
    total: int
    severity: str
    completed_at: dt.datetime
    completed_offset_minutes: int
    flags: list
    status: str


# The columns of a PointRow, in its fields' order (so a row reads straight into one).
POINT_COLUMNS = tuple(getattr(CheckIn, f.name) for f in dataclasses.fields(PointRow))


@dataclass(frozen=True)
class Baseline:
    check_in: Scored
    source: str  # "pre_infusion" or "first_available"
    # A first_available baseline taken within 72 hours after an infusion (its acute effect).
    acute_effect: bool = False


def plausible(instant: dt.datetime) -> bool:
    return EARLIEST <= instant < LATEST


def infusion_phase(number: int, induction_infusions: int, override: str | None) -> str:
    """Induction up to the course's induction count, maintenance after, unless overridden."""
    if override:
        return override
    return "induction" if number <= induction_infusions else "maintenance"


def local_time(value: dt.datetime, offset_minutes: int) -> dt.datetime:
    """An instant as a clock at that UTC offset shows it (a check-in's device, say)."""
    return value.astimezone(dt.timezone(dt.timedelta(minutes=offset_minutes)))


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


@dataclass(frozen=True)
class GivenInfusion:
    """A completed infusion with its number: its order by administration time in the course."""

    id: uuid.UUID
    course_id: uuid.UUID
    number: int
    administered_at: dt.datetime
    phase_override: str | None


def plausible_dates():
    """Infusions stored before dates were checked may carry impossible ones (year 1); the
    timeline leaves them out rather than overflow on them."""
    return (
        Infusion.administered_at.is_(None) | Infusion.administered_at.between(EARLIEST, LATEST)
    ) & (Infusion.scheduled_for.is_(None) | Infusion.scheduled_for.between(EARLIEST, LATEST))


def given_infusions(
    session: Session, course_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[GivenInfusion]]:
    """Each course's completed infusions, numbered, in order (one query)."""
    given: dict[uuid.UUID, list[GivenInfusion]] = {course_id: [] for course_id in course_ids}
    if not given:
        return given
    rows = session.execute(
        select(*GIVEN_COLUMNS)
        .where(Infusion.course_id.in_(given), Infusion.status == "completed", plausible_dates())
        .order_by(Infusion.course_id, Infusion.administered_at, Infusion.id)
    )
    for row in rows:
        number(given[row.course_id], row)
    return given


GIVEN_COLUMNS = (Infusion.id, Infusion.course_id, Infusion.administered_at, Infusion.phase_override)


def number(in_course: list[GivenInfusion], row) -> None:
    """Append an infusion row (GIVEN_COLUMNS, read in order of administration) to its course's
    list, numbered by its place there."""
    in_course.append(
        GivenInfusion(
            row.id, row.course_id, len(in_course) + 1, row.administered_at, row.phase_override
        )
    )


def infusion_numbers(session: Session, course_id: uuid.UUID) -> dict[uuid.UUID, int]:
    return {i.id: i.number for i in given_infusions(session, [course_id])[course_id]}


def course_for(instant: dt.datetime, courses: Sequence[Course]) -> Course | None:
    """The course an instant belongs to, among a patient's courses (a pure function): the course
    whose span (start to end; no end while active) holds it; failing that, the nearest later
    course whose 30-day look-back holds it; failing that, the latest course that ended before
    it (its follow-up)."""

    def latest(found: list[Course]) -> Course:
        return max(found, key=lambda c: (c.starts_at, c.id))

    in_span = [
        c for c in courses if c.starts_at <= instant and (c.ends_at is None or instant < c.ends_at)
    ]
    if in_span:
        return latest(in_span)
    ahead = [c for c in courses if c.window_start <= instant < c.starts_at]
    if ahead:
        return min(ahead, key=lambda c: (c.starts_at, c.id))
    ended = [c for c in courses if c.ends_at is not None and c.ends_at <= instant]
    return latest(ended) if ended else None


def courses_of(session: Session, patient_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[Course]]:
    """Every course of these patients, by patient, in one query."""
    found: dict[uuid.UUID, list[Course]] = {patient_id: [] for patient_id in patient_ids}
    if found:
        for course in session.scalars(select(Course).where(Course.patient_id.in_(found))):
            found[course.patient_id].append(course)
    return found


def belonging(
    check_ins: Iterable[ScoredT], course: Course, courses: Sequence[Course]
) -> list[ScoredT]:
    """The check-ins that belong to `course`, among the patient's `courses`."""
    return [c for c in check_ins if course_for(c.completed_at, courses) is course]


def last_given(
    infusions: list[GivenInfusion], at: dt.datetime, grace: dt.timedelta
) -> GivenInfusion | None:
    """The latest infusion given before `at` (`infusions` in time order). One given less than
    `grace` earlier does not count yet: a form filled in the chair during an infusion describes
    the time before it."""
    count = bisect.bisect_left(
        infusions, True, key=lambda i: not given_before(i.administered_at, at, grace)
    )
    return infusions[count - 1] if count else None


def given_before(administered_at: dt.datetime, at: dt.datetime, grace: dt.timedelta) -> bool:
    """Whether an infusion counts as given before `at`: more than `grace` earlier (a form
    filled in the chair describes the time before it), or, with no grace, at or before it
    (PRODUCT.md §3)."""
    return administered_at + grace < at if grace else administered_at <= at


def context_of(
    completed_at: dt.datetime,
    course: Course | None,
    infusions: list[GivenInfusion],
    grace: dt.timedelta,
) -> Context:
    """Where an instant sits in a course (PRODUCT.md §3); a pure function."""
    if course is None:
        return Context()
    ended = course.status == "completed" and course.ends_at and completed_at >= course.ends_at
    infusion = last_given(infusions, completed_at, grace)
    if infusion is None:
        return Context(course_id=course.id, phase="follow_up" if ended else "baseline")
    return Context(
        course_id=course.id,
        phase="follow_up"
        if ended
        else infusion_phase(infusion.number, course.induction_infusions, infusion.phase_override),
        infusion_number=infusion.number,
        days_since_infusion=days_between(infusion.administered_at, completed_at),
    )


def contexts(
    session: Session, check_ins: list[CheckIn], *, grace: dt.timedelta
) -> dict[uuid.UUID, Context]:
    """The context of each check-in, in two queries however many there are."""
    if not check_ins:
        return {}
    courses = courses_of(session, {c.patient_id for c in check_ins})
    placed = {c.id: course_for(c.completed_at, courses[c.patient_id]) for c in check_ins}
    given = given_infusions(session, {course.id for course in placed.values() if course})
    found = {}
    for check_in in check_ins:
        course = placed[check_in.id]
        infusions = given[course.id] if course else []
        found[check_in.id] = context_of(check_in.completed_at, course, infusions, grace)
    return found


def choose_baselines(
    check_ins: Sequence[Scored], infusions: list[GivenInfusion], grace: dt.timedelta
) -> dict[str, Baseline]:
    """Per instrument: the latest check-in at or before the first infusion (within the in-chair
    grace) and no more than 30 days before it; failing that, the first one ("first_available").
    `check_ins` are a course's final check-ins in time order; a pure function."""
    found: dict[str, Baseline] = {}
    for check_in in check_ins:
        at = check_in.completed_at
        if before_treatment(at, infusions, grace):
            # In time order: a later pre-infusion check-in replaces an earlier one.
            found[check_in.questionnaire] = Baseline(check_in, "pre_infusion")
        elif check_in.questionnaire not in found:
            latest = last_given(infusions, at, grace)
            acute = latest is not None and at - latest.administered_at <= ACUTE_EFFECT
            found[check_in.questionnaire] = Baseline(check_in, "first_available", acute)
    return found


def before_treatment(at: dt.datetime, infusions: list[GivenInfusion], grace: dt.timedelta) -> bool:
    """Whether a check-in at `at` may be a pre-infusion baseline: no infusion given yet, or
    within the 30 days before the first (and its in-chair grace)."""
    window = pre_infusion_window(infusions, grace)
    return window is None or window[0] <= at <= window[1]


def pre_infusion_window(
    infusions: list[GivenInfusion], grace: dt.timedelta
) -> tuple[dt.datetime, dt.datetime] | None:
    """From 30 days before the first infusion given to its in-chair grace, both included: where
    a pre-infusion baseline may come from; None before any infusion (from anywhere)."""
    if not infusions:
        return None
    first = infusions[0].administered_at
    return first - LOOKBACK, first + grace


def baseline_pool(
    check_ins: Iterable[CheckIn], infusions: list[GivenInfusion], grace: dt.timedelta
) -> list[CheckIn]:
    """Of one instrument's check-ins in one course, the ones `choose_baselines` could still pick
    whatever check-ins come later: the first, and the latest before treatment. A pure
    function. A check-in entered in error is never one of them."""
    final = (c for c in check_ins if c.status == "final")
    ordered = sorted(final, key=lambda c: (c.completed_at, c.id))
    before = [c for c in ordered if before_treatment(c.completed_at, infusions, grace)]
    return list({c.id: c for c in [*ordered[:1], *before[-1:]]}.values())


def baselines(
    session: Session,
    course: Course,
    questionnaires: list[str] | None = None,
    *,
    grace: dt.timedelta,
) -> dict[str, Baseline]:
    """Each instrument's baseline among the check-ins that belong to the course."""
    stmt = select(CheckIn).where(
        CheckIn.patient_id == course.patient_id,
        CheckIn.status == "final",
        CheckIn.completed_at >= course.window_start,
    )
    if questionnaires:
        stmt = stmt.where(CheckIn.questionnaire.in_(questionnaires))
    found = session.scalars(stmt.order_by(CheckIn.completed_at, CheckIn.id))
    courses = courses_of(session, [course.patient_id])[course.patient_id]
    mine = belonging(found, course, courses)
    return choose_baselines(mine, given_infusions(session, [course.id])[course.id], grace)


@dataclass(frozen=True)
class PatientTimeline:
    """A patient's courses and each course's given infusions, numbered: enough to place any
    instant without another query."""

    courses: list[Course]
    given: dict[uuid.UUID, list[GivenInfusion]]

    def course_at(self, instant: dt.datetime) -> Course | None:
        return course_for(instant, self.courses)

    def context(self, instant: dt.datetime, grace: dt.timedelta) -> Context:
        course = self.course_at(instant)
        return context_of(instant, course, self.given[course.id] if course else [], grace)


def timeline_query(*where: ColumnElement[bool]) -> Select:
    """The patient the conditions select, with their courses and given infusions, as one
    statement: a row per infusion, or per course without one (read by patient_with_timeline)."""
    return (
        select(Patient, Course, *GIVEN_COLUMNS)
        .outerjoin(Course, Course.patient_id == Patient.id)
        .outerjoin(
            Infusion,
            (Infusion.course_id == Course.id)
            & (Infusion.status == "completed")
            & plausible_dates(),
        )
        .where(*where)
        .order_by(Course.id, Infusion.administered_at, Infusion.id)
    )


def patient_with_timeline(
    session: Session, query: Select, parameters: dict | None = None
) -> tuple[Patient, PatientTimeline] | None:
    """The patient a timeline_query selects (None if none), with their courses and given
    infusions, in one statement."""
    rows = session.execute(query, parameters).all()
    if not rows:
        return None
    courses: dict[uuid.UUID, Course] = {}
    given: dict[uuid.UUID, list[GivenInfusion]] = {}
    for row in rows:
        course = row.Course
        if course is None:
            continue
        courses.setdefault(course.id, course)
        in_course = given.setdefault(course.id, [])
        if row.id is not None:
            number(in_course, row)
    return rows[0].Patient, PatientTimeline(list(courses.values()), given)


def of_patient(session: Session, patient_id: uuid.UUID) -> PatientTimeline:
    """A patient's timeline as it stands, for code that holds the patient already (demo and
    benchmark data); requests scope the patient with it (access.get_patient_timeline)."""
    found = patient_with_timeline(session, timeline_query(Patient.id == patient_id))
    return found[1] if found else PatientTimeline([], {})


def spans_of(
    course: Course, courses: Sequence[Course]
) -> list[tuple[dt.datetime, dt.datetime | None]]:
    """The instants that belong to `course` among the patient's `courses` (course_for), as
    [start, end) spans, end None for no end; a pure function. Between two consecutive course
    boundaries every instant belongs to the same course, so each stretch is tested once."""
    bounds = sorted(
        {b for c in courses for b in (c.window_start, c.starts_at, c.ends_at) if b is not None}
    )
    spans: list[tuple[dt.datetime, dt.datetime | None]] = []
    for start, end in zip(bounds, [*bounds[1:], None], strict=True):
        if course_for(start, courses) is not course:
            continue
        if spans and spans[-1][1] == start:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def baseline_candidates(
    session: Session,
    timeline: PatientTimeline,
    course: Course,
    questionnaire: str,
    *,
    grace: dt.timedelta,
    excluding: Collection[uuid.UUID] = (),
) -> list[PointRow]:
    """The only two stored check-ins of an instrument that can be a course's baseline, in one
    indexed statement: the latest before the first infusion (within the look-back and the
    in-chair grace; every one counts before any infusion) and the first of the course. Those
    `excluding` names are left out."""
    spans = spans_of(course, timeline.courses)
    window = pre_infusion_window(timeline.given[course.id], grace)
    query = candidates_query(
        tuple(end is None for _, end in spans), window is not None, bool(excluding)
    )
    parameters = {"patient_id": course.patient_id, "questionnaire": questionnaire}
    for n, (start, end) in enumerate(spans):
        parameters |= {f"start_{n}": start, f"end_{n}": end}
    if window is not None:
        parameters |= {"pre_from": window[0], "pre_until": window[1]}
    if excluding:
        parameters["excluding"] = list(excluding)
    return [PointRow(*row) for row in session.execute(query, parameters)]


@functools.lru_cache(maxsize=64)
def candidates_query(open_ended: tuple[bool, ...], infused: bool, excluding: bool) -> Select:
    """baseline_candidates' statement for one shape of course, built once: its spans (whether
    each has no end), whether an infusion was given, whether some check-ins are left out."""
    in_course = (
        (CheckIn.completed_at >= bindparam(f"start_{n}"))
        & (true() if no_end else CheckIn.completed_at < bindparam(f"end_{n}"))
        for n, no_end in enumerate(open_ended)
    )
    mine = select(CheckIn.id).where(
        CheckIn.patient_id == bindparam("patient_id"),
        CheckIn.questionnaire == bindparam("questionnaire"),
        CheckIn.status == "final",
        or_(*in_course),
    )
    if excluding:
        mine = mine.where(CheckIn.id.not_in(bindparam("excluding", expanding=True)))
    pre_infusion = mine
    if infused:
        pre_infusion = mine.where(
            CheckIn.completed_at.between(bindparam("pre_from"), bindparam("pre_until"))
        )
    first_of_course = mine.order_by(CheckIn.completed_at, CheckIn.id).limit(1).subquery()
    latest_before = (
        pre_infusion.order_by(CheckIn.completed_at.desc(), CheckIn.id.desc()).limit(1).subquery()
    )
    return select(*POINT_COLUMNS).where(
        CheckIn.id.in_(union_all(select(first_of_course.c.id), select(latest_before.c.id)))
    )


def baseline_among(
    check_in: CheckIn,
    candidates: Iterable[CheckIn | PointRow],
    timeline: PatientTimeline,
    *,
    grace: dt.timedelta,
) -> Baseline | None:
    """The course baseline a check-in is compared with, chosen among candidates that hold the
    course's two (baseline_candidates), with any others, the check-in among them; None without
    a course or a baseline, or when the check-in is its own baseline. A pure function: the
    latest pre-infusion check-in and the first are the extremes of any set that holds them,
    so `choose_baselines` picks as it would over the whole course."""
    course = timeline.course_at(check_in.completed_at)
    if course is None:
        return None
    mine = sorted(
        {
            c.id: c
            for c in candidates
            if c.questionnaire == check_in.questionnaire
            and c.status == "final"
            and timeline.course_at(c.completed_at) is course
        }.values(),
        key=lambda c: (c.completed_at, c.id),
    )
    baseline = choose_baselines(mine, timeline.given[course.id], grace).get(check_in.questionnaire)
    if baseline is None or baseline.check_in.id == check_in.id:
        return None
    return baseline
