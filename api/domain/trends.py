"""Trends (PRODUCT.md §8): one instrument across a course — baseline, latest, change and status,
points on the timeline, per-phase summaries, how long each infusion's benefit lasts, and the
signals a clinician should review.

`build` is a pure function of what `load` reads in a fixed number of queries; the thresholds
come from the questionnaire definition (CLINICAL.md). Every instrument here is scored so that
a higher total is worse."""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import statistics
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.domain.access import Actor, get_patient, sees_signals
from api.domain.alerts import sustained_above
from api.domain.errors import NotFound
from api.domain.questionnaires import Definition
from api.domain.rules import Rules
from api.domain.timeline import (
    POINT_COLUMNS,
    Baseline,
    Context,
    GivenInfusion,
    PointRow,
    Scored,
    belonging,
    choose_baselines,
    context_of,
    courses_of,
    days_between,
    given_before,
    given_infusions,
    infusion_phase,
)
from api.models import CheckIn, Course, Patient

# Signals (CLINICAL.md "Signals"): prompts to review, never alerts, never shown to patients.
EARLY_INSTRUMENTS = ("phq9", "gad7")
EARLY_AFTER_INFUSIONS = 4
EARLY_AFTER_DAYS = 14
EARLY_MIN_IMPROVEMENT = 0.20
RECENT_INFUSIONS = 3


@dataclass(frozen=True)
class Point:
    check_in: Scored
    context: Context


@dataclass(frozen=True)
class Change:
    absolute: int
    percent: float | None  # of the baseline, one decimal; None from a baseline of 0


@dataclass(frozen=True)
class Status:
    """Null where there is no baseline, where the instrument defines no such rule, or where
    the baseline is below the rule's minimum (the rule does not apply)."""

    response: bool | None = None
    remission: bool | None = None
    reliable_change: str | None = None  # improved | deteriorated | none
    mcid_reached: bool | None = None


@dataclass(frozen=True)
class PhaseSummary:
    phase: str | None  # None: check-ins with no course
    start: dt.datetime
    end: dt.datetime
    count: int
    mean: float
    min: int
    max: int
    last: int


@dataclass(frozen=True)
class InfusionInTrend:
    infusion: GivenInfusion
    phase: str


@dataclass(frozen=True)
class Benefit:
    """How one infusion's benefit lasted: the last score before it, the best and the last until
    the next one, and the days until the score came back to within the minimal important
    difference of the score before it."""

    infusion: InfusionInTrend
    before: int | None
    best_after: int | None
    last_after: int | None
    days_observed: float | None
    days_of_benefit: float | None
    still_improved: bool | None


@dataclass(frozen=True)
class Durability:
    median_days_of_benefit: float | None
    infusions_counted: int
    summary: str


@dataclass(frozen=True)
class Signal:
    kind: str  # early_non_improvement | waning | relapse
    rule: str
    check_in_ids: tuple[uuid.UUID, ...]


@dataclass(frozen=True)
class Trend:
    definition: Definition
    course: Course | None
    baseline: Baseline | None
    latest: Scored | None
    change: Change | None
    status: Status
    points: list[Point]
    phases: list[PhaseSummary]
    infusions: list[InfusionInTrend]
    by_infusion: list[Benefit]
    durability: Durability
    signals: list[Signal] = field(default_factory=list)


def change_of(baseline: int, latest: int) -> Change:
    percent = None if baseline == 0 else round((latest - baseline) / baseline * 100, 1)
    return Change(latest - baseline, percent)


def responds(definition: Definition, baseline: int, total: int) -> bool | None:
    """The instrument's response rule, or None where it does not apply."""
    rule = definition.change.get("response")
    if rule is None or baseline < rule.get("min_baseline", 0):
        return None
    fall = baseline - total
    if rule["rule"] == "percent_reduction":
        return baseline > 0 and fall * 100 >= rule["percent"] * baseline
    return fall >= rule["points"]


def status_of(definition: Definition, baseline: int, latest: int) -> Status:
    """Response, remission, reliable change and minimal important difference (CLINICAL.md)."""
    change = definition.change
    remission = change.get("remission")
    reliable = change.get("reliable_change")
    mcid = change.get("mcid")
    fall = baseline - latest
    return Status(
        response=responds(definition, baseline, latest),
        remission=None
        if remission is None or baseline < remission["min_baseline"]
        else latest < remission["below"],
        reliable_change=None
        if reliable is None
        else "improved"
        if fall >= reliable["points"]
        else "deteriorated"
        if -fall >= reliable["points"]
        else "none",
        mcid_reached=None if mcid is None else fall >= mcid["points"],
    )


def phase_summaries(points: list[Point]) -> list[PhaseSummary]:
    """Per phase, in the order the phases first appear."""
    grouped: dict[str | None, list[Point]] = {}
    for point in points:
        grouped.setdefault(point.context.phase, []).append(point)
    summaries = []
    for phase, members in grouped.items():
        totals = [p.check_in.total for p in members]
        summaries.append(
            PhaseSummary(
                phase=phase,
                start=members[0].check_in.completed_at,
                end=members[-1].check_in.completed_at,
                count=len(totals),
                mean=round(statistics.fmean(totals), 1),
                min=min(totals),
                max=max(totals),
                last=totals[-1],
            )
        )
    return summaries


def benefit_of(
    definition: Definition,
    infusion: InfusionInTrend,
    next_infusion: GivenInfusion | None,
    points: list[Point],
    grace: dt.timedelta,
) -> Benefit:
    """One infusion's benefit (a pure function). Its window runs from the infusion to the next
    one. The benefit begins with the first score at least the minimal important difference
    better than the score before the infusion, and lasts until a later score comes back within
    it. A window with no such improvement has no measurable benefit: no days, not improved."""
    given_at = infusion.infusion.administered_at
    before = [p for p in points if not given_before(given_at, p.check_in.completed_at, grace)]
    after = [
        p
        for p in points
        if given_before(given_at, p.check_in.completed_at, grace)
        and (
            next_infusion is None
            or not given_before(next_infusion.administered_at, p.check_in.completed_at, grace)
        )
    ]
    pre = before[-1].check_in.total if before else None
    if not after:
        return Benefit(infusion, pre, None, None, None, None, None)
    totals = [p.check_in.total for p in after]
    observed = days_between(given_at, after[-1].check_in.completed_at)
    if pre is None:
        return Benefit(infusion, None, min(totals), totals[-1], observed, None, None)
    mcid = definition.change["mcid"]["points"]
    improved = next((n for n, p in enumerate(after) if pre - p.check_in.total >= mcid), None)
    if improved is None:
        return Benefit(infusion, pre, min(totals), totals[-1], observed, None, False)
    faded = next((p for p in after[improved:] if pre - p.check_in.total < mcid), None)
    if faded is None:
        return Benefit(infusion, pre, min(totals), totals[-1], observed, None, True)
    lasted = days_between(given_at, faded.check_in.completed_at)
    return Benefit(infusion, pre, min(totals), totals[-1], observed, lasted, False)


def durability_of(definition: Definition, benefits: list[Benefit]) -> Durability:
    """How long the benefit of recent infusions lasts: the median days of benefit over the last
    three infusions with scores before and after them — maintenance infusions when there are
    any (they set the interval; induction ones come days apart), else all."""
    measured = [b for b in benefits if b.still_improved is not None]
    maintenance = [b for b in measured if b.infusion.phase == "maintenance"]
    recent = (maintenance or measured)[-RECENT_INFUSIONS:]
    which = "maintenance infusions" if maintenance else "infusions"
    if not recent:
        return Durability(None, 0, DURABILITY["not_enough"])
    faded = [b.days_of_benefit for b in recent if b.days_of_benefit is not None]
    lasting = [b for b in recent if b.still_improved]
    if faded:
        median = round(statistics.median(faded), 1)
        summary = DURABILITY["median"].format(
            which=which,
            median=median,
            counted=_last(len(faded), which),
            name=definition.short_title,
        )
        without = len(recent) - len(faded) - len(lasting)
        if without:
            summary += " " + DURABILITY["some_without"].format(n=without, of=len(recent))
        return Durability(median, len(faded), summary)
    if not lasting:
        return Durability(None, 0, DURABILITY["none"].format(last=_last(len(recent), which)))
    if lasting == [benefits[-1]]:
        return Durability(None, 0, DURABILITY["open"])
    return Durability(None, 0, DURABILITY["until_next"].format(which=which))


def _last(n: int, which: str) -> str:
    """ "3 maintenance infusions", or "infusion" for one (after "the last")."""
    return f"{n} {which}" if n > 1 else which.removesuffix("s")


# What the durability summary says in each case (clinician-facing; tests/unit/test_trends.py).
DURABILITY = {
    "not_enough": "Not enough check-ins between infusions yet to say how long the benefit lasts.",
    "median": "The benefit of recent {which} lasted about {median:g} days (median of the last "
    "{counted}, {name}).",
    "some_without": "{n} of the last {of} brought no measurable improvement.",
    "none": "No measurable improvement after the last {last}.",
    "open": "Improved since the latest infusion; too early to say how long the benefit lasts.",
    "until_next": "The benefit of recent {which} lasted until the next one.",
}


def build(
    definition: Definition,
    course: Course | None,
    check_ins: Sequence[Scored],
    infusions: list[GivenInfusion],
    grace: dt.timedelta,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> Trend:
    """The trend of one instrument in one course: `check_ins` are the course's final check-ins
    of the instrument in time order, `infusions` its completed ones. A pure function."""
    points = [Point(c, context_of(c.completed_at, course, infusions, grace)) for c in check_ins]
    # A baseline is a course's (PRODUCT.md §3): without a course there is none.
    baseline = choose_baselines(check_ins, infusions, grace).get(definition.key) if course else None
    shown = [p for p in points if within(p.check_in.completed_at, since, until)]
    latest = shown[-1].check_in if shown else None
    benefits = benefits_of(definition, course, points, infusions, grace)
    status, change = Status(), None
    # A window (`until`) that ends before the baseline has nothing to compare with it.
    if (
        baseline is not None
        and latest is not None
        and latest.completed_at >= baseline.check_in.completed_at
    ):
        status = status_of(definition, baseline.check_in.total, latest.total)
        change = change_of(baseline.check_in.total, latest.total)
    trend = Trend(
        definition=definition,
        course=course,
        baseline=baseline,
        latest=latest,
        change=change,
        status=status,
        points=shown,
        phases=phase_summaries(shown),
        infusions=[b.infusion for b in benefits],
        by_infusion=benefits,
        durability=durability_of(definition, benefits),
    )
    return with_signals(trend, points, infusions, grace)


def within(instant: dt.datetime, since: dt.datetime | None, until: dt.datetime | None) -> bool:
    return (since is None or instant >= since) and (until is None or instant < until)


def benefits_of(
    definition: Definition,
    course: Course | None,
    points: list[Point],
    infusions: list[GivenInfusion],
    grace: dt.timedelta,
) -> list[Benefit]:
    """Each completed infusion of the course, with how long its benefit lasted."""
    if course is None:
        return []
    found = []
    for n, infusion in enumerate(infusions):
        phase = infusion_phase(infusion.number, course.induction_infusions, infusion.phase_override)
        following = infusions[n + 1] if n + 1 < len(infusions) else None
        # Only the last score before the infusion and those up to the next one count.
        start = points_before(points, infusion.administered_at, grace)
        end = points_before(points, following.administered_at, grace) if following else None
        window = points[max(start - 1, 0) : end]
        found.append(
            benefit_of(definition, InfusionInTrend(infusion, phase), following, window, grace)
        )
    return found


def points_before(points: list[Point], given_at: dt.datetime, grace: dt.timedelta) -> int:
    """How many of the points (in time order) come before an infusion given at `given_at`."""
    return bisect.bisect_left(
        points, True, key=lambda p: given_before(given_at, p.check_in.completed_at, grace)
    )


def _name(definition: Definition) -> str:
    return definition.short_title


def early_non_improvement(
    definition: Definition,
    baseline: Baseline | None,
    points: list[Point],
    infusions: list[GivenInfusion],
) -> Signal | None:
    """PHQ-9 or GAD-7 improved by less than 20 % from baseline once the 4th induction infusion
    was given, or 14 days after the first, while induction goes on."""
    if definition.key not in EARLY_INSTRUMENTS or baseline is None or not points or not infusions:
        return None
    latest = points[-1]
    base = baseline.check_in.total
    # Below the response rule's minimum baseline (PHQ-9, GAD-7: 10) there is little to improve.
    minimum = (definition.change.get("response") or {}).get("min_baseline", 1)
    if (
        latest.check_in.id == baseline.check_in.id
        or latest.context.phase != "induction"
        or base < max(minimum, 1)
    ):
        return None
    after_fourth = (latest.context.infusion_number or 0) >= EARLY_AFTER_INFUSIONS
    days = days_between(infusions[0].administered_at, latest.check_in.completed_at)
    if not after_fourth and days < EARLY_AFTER_DAYS:
        return None
    improved = (base - latest.check_in.total) / base
    if improved >= EARLY_MIN_IMPROVEMENT:
        return None
    when = (
        f"after induction infusion {latest.context.infusion_number}"
        if after_fourth
        else f"{days:g} days after the first infusion"
    )
    return Signal(
        "early_non_improvement",
        f"{_name(definition)} {base} → {latest.check_in.total} ({improved * 100:+.0f} % "
        f"improvement) {when}: less than 20 %. Early non-improvement predicts non-response to "
        "antidepressants (Szegedi et al. 2009); with ketamine, response often builds across the "
        "series (Phillips et al. 2019). A prompt to review, not a conclusion.",
        (baseline.check_in.id, latest.check_in.id),
    )


def waning(
    definition: Definition, points: list[Point], infusions: list[GivenInfusion], grace: dt.timedelta
) -> Signal | None:
    """In maintenance, the latest score is worse than the best since the last infusion by at
    least the minimal important difference — for an instrument with a sustained rule (pain,
    whose daily ratings swing), each of its most recent ratings, spanning its days."""
    if not points or points[-1].context.phase != "maintenance":
        return None
    latest = points[-1]
    number = latest.context.infusion_number
    infusion = next((i for i in infusions if i.number == number), None)
    if infusion is None:
        return None
    since = points[points_before(points, infusion.administered_at, grace) :]
    best = min(since, key=lambda p: p.check_in.total)
    worse = latest.check_in.total - best.check_in.total
    mcid = definition.change["mcid"]["points"]
    if worse < mcid:
        return None
    sustained = definition.change.get("sustained_deterioration")
    if sustained is not None:
        newest = [p.check_in for p in reversed(since[-sustained["ratings"] :])]
        if not sustained_above(sustained, newest, best.check_in.total):
            return None
    return Signal(
        "waning",
        f"In maintenance, {_name(definition)} is {latest.check_in.total}, {worse} points worse "
        f"than its best since infusion {number} ({best.check_in.total}): at least the minimal "
        f"important difference ({mcid}). The benefit of that infusion may be wearing off.",
        (best.check_in.id, latest.check_in.id),
    )


def relapse(
    definition: Definition, baseline: Baseline | None, points: list[Point]
) -> Signal | None:
    """The patient met response, and the two most recent check-ins no longer do."""
    if baseline is None:
        return None
    base = baseline.check_in.total
    later = [p for p in points if p.check_in.completed_at > baseline.check_in.completed_at]
    if len(later) < 3 or responds(definition, base, base) is None:
        return None
    *earlier, second, last = later
    responded = next(
        (p for p in reversed(earlier) if responds(definition, base, p.check_in.total)), None
    )
    if responded is None or any(
        responds(definition, base, p.check_in.total) for p in (second, last)
    ):
        return None
    return Signal(
        "relapse",
        f"{_name(definition)} met response ({base} → {responded.check_in.total}); the two most "
        f"recent check-ins ({second.check_in.total}, {last.check_in.total}) no longer do.",
        (responded.check_in.id, second.check_in.id, last.check_in.id),
    )


def with_signals(trend: Trend, points: list[Point], infusions: list[GivenInfusion], grace) -> Trend:
    """The trend with its signals, judged on every point of the course."""
    found = [
        early_non_improvement(trend.definition, trend.baseline, points, infusions),
        waning(trend.definition, points, infusions, grace),
        relapse(trend.definition, trend.baseline, points),
    ]
    return dataclasses.replace(trend, signals=[s for s in found if s is not None])


@dataclass(frozen=True)
class CourseData:
    """What trends of one patient's course are built from, read in a fixed number of queries."""

    patient: Patient
    course: Course | None
    check_ins: dict[str, list[PointRow]]  # by questionnaire, final, in time order
    infusions: list[GivenInfusion]


def choose_course(session: Session, patient: Patient, course_id: uuid.UUID | None) -> Course | None:
    """The named course of this patient (404 otherwise), or the active one, or the latest."""
    stmt = select(Course).where(Course.patient_id == patient.id)
    if course_id is not None:
        course = session.scalar(stmt.where(Course.id == course_id))
        if course is None:
            raise NotFound("Course not found.")
        return course
    return session.scalar(
        stmt.order_by((Course.status == "active").desc(), Course.starts_at.desc(), Course.id.desc())
    )


def load(
    session: Session,
    *,
    patient: Patient,
    course: Course | None,
    questionnaires: list[str] | None = None,
) -> CourseData:
    stmt = select(*POINT_COLUMNS).where(CheckIn.patient_id == patient.id, CheckIn.status == "final")
    if course is not None:
        stmt = stmt.where(CheckIn.completed_at >= course.window_start)
    if questionnaires:
        stmt = stmt.where(CheckIn.questionnaire.in_(questionnaires))
    # Plain records, not ORM objects: a two-year trend is a thousand rows, and building them
    # as objects took twice as long as reading them.
    rows = session.execute(stmt.order_by(CheckIn.completed_at, CheckIn.id))
    found = [PointRow(*row) for row in rows]
    if course is not None:
        found = belonging(found, course, courses_of(session, [patient.id])[patient.id])
    grouped: dict[str, list[PointRow]] = {}
    for check_in in found:
        grouped.setdefault(check_in.questionnaire, []).append(check_in)
    infusions = given_infusions(session, [course.id])[course.id] if course else []
    return CourseData(patient, course, grouped, infusions)


def trend(
    session: Session,
    rules: Rules,
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    questionnaire: str,
    course_id: uuid.UUID | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> Trend:
    """One instrument's trend for a patient the actor may see; signals for staff only."""
    definition = rules.registry.get(questionnaire)
    if definition is None:
        raise NotFound("No such questionnaire.")
    patient = get_patient(session, actor, patient_id)
    course = choose_course(session, patient, course_id)
    data = load(session, patient=patient, course=course, questionnaires=[questionnaire])
    built = build(
        definition,
        course,
        data.check_ins.get(questionnaire, []),
        data.infusions,
        rules.in_chair_grace,
        since=since,
        until=until,
    )
    return built if sees_signals(actor) else dataclasses.replace(built, signals=[])
