"""Measurement plans and what is due (PRODUCT.md §7), in the patient's own time zone."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, replace
from typing import Required, TypedDict
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.domain.access import Actor, get_patient
from api.domain.registry import Registry
from api.domain.timeline import (
    belonging,
    courses_of,
    infusion_phase,
    local_midnight,
    plausible_dates,
)
from api.models import SCORES_ONLY, CheckIn, Course, Infusion, Patient

RULE_TYPES = ("at_baseline", "before_each_infusion", "after_each_infusion", "every_n_days")
# The settings each kind of rule takes, and which of them it must have.
RULE_SETTINGS: dict[str, tuple[str, ...]] = {
    "at_baseline": (),
    "before_each_infusion": ("window_hours",),
    "after_each_infusion": ("offset_hours", "window_hours"),
    "every_n_days": ("days", "phases", "allow_short_interval"),
}
RULE_REQUIRES: dict[str, tuple[str, ...]] = {"every_n_days": ("days",)}
PHASES = ("baseline", "induction", "maintenance", "follow_up")
DEFAULT_BEFORE_HOURS = 48
DEFAULT_AFTER_OFFSET_HOURS = 24
DEFAULT_AFTER_WINDOW_HOURS = 24
# With no infusion scheduled yet, the baseline check-in is due within a week of the start.
DEFAULT_BASELINE_DAYS = 7
# A scheduled infusion stays "next" for a while after its time, so a missed pre-infusion
# check-in shows as overdue until the infusion is recorded.
SCHEDULED_GRACE = dt.timedelta(hours=24)
AFTER_FIRST_INFUSION = ["induction", "maintenance"]
# How far back the spacing between check-ins of one instrument looks (its longest interval).
SPACING_LOOK_BACK = dt.timedelta(days=7)


class PlanRule(TypedDict, total=False):
    """One rule of a measurement plan (PRODUCT.md §7; `at_baseline` added)."""

    questionnaire: Required[str]
    type: Required[str]  # one of RULE_TYPES
    window_hours: int  # before_each_infusion: hours before; after_each_infusion: its window
    offset_hours: int  # after_each_infusion: hours after the infusion
    days: int  # every_n_days: n
    phases: list[str]  # every_n_days: only in these phases
    allow_short_interval: bool  # lift the instrument's minimum interval


def _weekly_with_baseline(questionnaire: str, before_infusions: bool) -> list[PlanRule]:
    """CLINICAL.md "Measurement and recall periods": a baseline as soon as the course starts,
    then weekly in every phase after the first infusion (relapse comes when no infusion is
    scheduled); before each infusion too, unless one was completed in the last 7 days."""
    rules: list[PlanRule] = [{"questionnaire": questionnaire, "type": "at_baseline"}]
    if before_infusions:
        rules.append(
            {
                "questionnaire": questionnaire,
                "type": "before_each_infusion",
                "window_hours": DEFAULT_BEFORE_HOURS,
            }
        )
    rules.append(
        {
            "questionnaire": questionnaire,
            "type": "every_n_days",
            "days": 7,
            "phases": AFTER_FIRST_INFUSION,
        }
    )
    return rules


def default_rules(indication: str) -> list[PlanRule]:
    """The default plan of one indication (built when asked, so that every call, and every
    test of it, runs the rule rather than a value computed at import)."""
    if indication == "chronic_pain":
        return [{"questionnaire": "pain", "type": "every_n_days", "days": 1}]
    questionnaire = {"depression": "phq9", "anxiety": "gad7", "ptsd": "pcl5"}[indication]
    return _weekly_with_baseline(questionnaire, before_infusions=indication != "ptsd")


def default_plan(indications: list[str]) -> list[PlanRule]:
    rules: list[PlanRule] = []
    for indication in indications:
        for rule in default_rules(indication):
            if rule not in rules:
                rules.append(rule)
    return rules


def plan_of(course: Course) -> list[PlanRule]:
    return course.plan if course.plan is not None else default_plan(course.indications)


@dataclass(frozen=True)
class DueItem:
    questionnaire: str
    rule: str
    due_from: dt.datetime
    due_by: dt.datetime
    status: str  # due | overdue | upcoming | done
    reason: str
    infusion_id: uuid.UUID | None = None
    check_in_id: uuid.UUID | None = None


@dataclass(frozen=True)
class CourseState:
    """What the rules need, loaded once: the course, its infusions and recent check-ins."""

    course: Course
    timezone: str
    completed: list[tuple[int, Infusion]]  # (number, infusion), in order
    scheduled: list[Infusion]  # in order
    check_ins: list[CheckIn]  # this course's, in time order
    # Every recent one, this course's or not: the 7-day spacing counts them all.
    recent: list[CheckIn]

    def last_given(self, at: dt.datetime) -> tuple[int, Infusion] | None:
        """The latest completed infusion at or before `at`, with its number."""
        given = [(n, i) for n, i in self.completed if i.administered_at and i.administered_at <= at]
        return given[-1] if given else None

    def phase_at(self, at: dt.datetime) -> str:
        last = self.last_given(at)
        if last is None:
            return "baseline"
        number, infusion = last
        return infusion_phase(number, self.course.induction_infusions, infusion.phase_override)

    def last_check_in(self, questionnaire: str, at: dt.datetime) -> CheckIn | None:
        """The latest check-in of this instrument completed at or before `at`."""
        done = [c for c in self.recent if c.questionnaire == questionnaire and c.completed_at <= at]
        return done[-1] if done else None

    def check_in_between(
        self, questionnaire: str, start: dt.datetime, end: dt.datetime
    ) -> CheckIn | None:
        return next(
            (
                c
                for c in self.check_ins
                if c.questionnaire == questionnaire and start <= c.completed_at <= end
            ),
            None,
        )

    def local(self, instant: dt.datetime) -> dt.datetime:
        return instant.astimezone(ZoneInfo(self.timezone))

    def day_words(self, instant: dt.datetime, at: dt.datetime) -> str:
        """'Thursday' within the coming week, otherwise '3 December'."""
        local, today = self.local(instant), self.local(at).date()
        if abs((local.date() - today).days) <= 6:
            return local.strftime("%A")
        return f"{local.day} {local.strftime('%B')}"


def check_plan_rule(rule: PlanRule, minimum_interval_days: int | None) -> str | None:
    """Why a plan rule would ask an instrument more often than its recall period allows
    (CLINICAL.md: PHQ-9, GAD-7 and PCL-5 at most once in 7 days), or None."""
    if (
        rule["type"] == "every_n_days"
        and minimum_interval_days is not None
        and rule["days"] < minimum_interval_days
        and not rule.get("allow_short_interval")
    ):
        return (
            f"At least {minimum_interval_days} days for this questionnaire; set "
            "allow_short_interval: true to ask it more often."
        )
    return None


def window_status(start: dt.datetime, end: dt.datetime, at: dt.datetime, done: bool) -> str:
    if done:
        return "done"
    if at < start:
        return "upcoming"
    return "due" if at <= end else "overdue"


def _item(rule, timeline, at, start, end, reason, infusion_id=None) -> DueItem:
    found = timeline.check_in_between(rule["questionnaire"], start, end)
    return DueItem(
        questionnaire=rule["questionnaire"],
        rule=rule["type"],
        due_from=timeline.local(start),
        due_by=timeline.local(end),
        status=window_status(start, end, at, found is not None),
        reason=reason,
        infusion_id=infusion_id,
        check_in_id=found.id if found else None,
    )


def at_baseline(rule, timeline, at, name) -> DueItem | None:
    """Due as soon as the course starts, until the first infusion (or within a week when none
    is scheduled); a check-in in the course's look-back counts. Gone once an infusion is given:
    the baseline can no longer be taken."""
    if timeline.completed:
        return None
    course = timeline.course
    upcoming = timeline.scheduled[0] if timeline.scheduled else None
    if upcoming is not None:
        end = upcoming.scheduled_for
        reason = f"{name} baseline, before infusion 1 on {timeline.day_words(end, at)}"
    else:
        first_day = course.started_on + dt.timedelta(days=DEFAULT_BASELINE_DAYS)
        end = local_midnight(first_day, timeline.timezone) - dt.timedelta(microseconds=1)
        reason = f"{name} baseline, before the first infusion"
    found = timeline.check_in_between(rule["questionnaire"], course.window_start, end)
    return DueItem(
        questionnaire=rule["questionnaire"],
        rule=rule["type"],
        due_from=timeline.local(course.starts_at),
        due_by=timeline.local(end),
        status=window_status(course.starts_at, end, at, found is not None),
        reason=reason,
        infusion_id=upcoming.id if upcoming else None,
        check_in_id=found.id if found else None,
    )


def before_each_infusion(rule, timeline, at, name) -> DueItem | None:
    upcoming = [i for i in timeline.scheduled if i.scheduled_for >= at - SCHEDULED_GRACE]
    if not upcoming:
        return None
    infusion = upcoming[0]
    number = len(timeline.completed) + timeline.scheduled.index(infusion) + 1
    end = infusion.scheduled_for
    start = end - dt.timedelta(hours=rule.get("window_hours", DEFAULT_BEFORE_HOURS))
    reason = f"{name} before infusion {number} on {timeline.day_words(end, at)}"
    return _item(rule, timeline, at, start, end, reason, infusion.id)


def after_each_infusion(rule, timeline, at, name) -> DueItem | None:
    last = timeline.last_given(at)
    if last is None:
        return None
    number, infusion = last
    hours = rule.get("offset_hours", DEFAULT_AFTER_OFFSET_HOURS)
    start = infusion.administered_at + dt.timedelta(hours=hours)
    end = start + dt.timedelta(hours=rule.get("window_hours", DEFAULT_AFTER_WINDOW_HOURS))
    reason = (
        f"{name} {hours} hours after infusion {number} "
        f"({timeline.day_words(infusion.administered_at, at)})"
    )
    return _item(rule, timeline, at, start, end, reason, infusion.id)


def every_n_days(rule, timeline, at, name) -> DueItem | None:
    """Windows of n local calendar days from the course start: a week is 7 local days, so a
    daylight-saving change makes it 167 or 169 hours, never shifts it off midnight."""
    phases = rule.get("phases")
    if phases and timeline.phase_at(at) not in phases:
        return None
    days = rule["days"]
    anchor = timeline.course.started_on
    index = max(0, (timeline.local(at).date() - anchor).days // days)

    def window(k: int) -> tuple[dt.datetime, dt.datetime]:
        first_day = anchor + dt.timedelta(days=k * days)
        start = local_midnight(first_day, timeline.timezone)
        end = local_midnight(first_day + dt.timedelta(days=days), timezone=timeline.timezone)
        return start, end - dt.timedelta(microseconds=1)

    every = {1: "Daily", 7: "Weekly"}.get(days, f"Every-{days}-days")
    start, end = window(index)
    current = _item(rule, timeline, at, start, end, f"{every} {name}")
    if current.status != "due" or index == 0:
        return current
    # The current window is open and empty: if the previous one was missed, say so.
    previous_start, previous_end = window(index - 1)
    since = timeline.local(previous_start)
    missed = (
        f"{every} {name} missed (from {since.strftime('%A')} {since.day} {since.strftime('%B')})"
    )
    previous = _item(rule, timeline, at, previous_start, previous_end, missed)
    applied_then = not phases or timeline.phase_at(previous_start) in phases
    return previous if applied_then and previous.status == "overdue" else current


def spaced(item: DueItem, timeline: CourseState, at: dt.datetime, interval_days: int) -> DueItem:
    """At most one of an instrument in `interval_days` (CLINICAL.md): a window is skipped
    ("done") when the interval since the last one outlasts it, and an open one is put off until
    the interval has passed."""
    if item.status == "done":
        return item
    last = timeline.last_check_in(item.questionnaire, at)
    if last is None:
        return item
    allowed_from = last.completed_at + dt.timedelta(days=interval_days)
    when = f"{timeline.day_words(last.completed_at, at)}"
    if allowed_from > item.due_by:
        return replace(
            item,
            status="done",
            check_in_id=last.id,
            reason=f"{item.reason}: not needed, one was completed {when} "
            f"(at most one in {interval_days} days)",
        )
    if item.status != "overdue" and allowed_from > max(at, item.due_from):
        return replace(
            item,
            status="upcoming",
            due_from=timeline.local(allowed_from),
            reason=f"{item.reason}: from {timeline.day_words(allowed_from, at)}, as one was "
            f"completed {when} (at most one in {interval_days} days)",
        )
    return item


EVALUATORS = {
    "at_baseline": at_baseline,
    "before_each_infusion": before_each_infusion,
    "after_each_infusion": after_each_infusion,
    "every_n_days": every_n_days,
}


def load_timeline(
    session: Session, patient: Patient, course: Course, questionnaires: list[str]
) -> CourseState:
    infusions = list(
        session.scalars(
            select(Infusion).where(
                Infusion.course_id == course.id, Infusion.status != "cancelled", plausible_dates()
            )
        )
    )
    completed = sorted(
        (i for i in infusions if i.status == "completed"), key=lambda i: (i.administered_at, i.id)
    )
    scheduled = sorted(
        (i for i in infusions if i.status == "scheduled"), key=lambda i: (i.scheduled_for, i.id)
    )
    recent = list(
        session.scalars(
            select(CheckIn)
            .where(
                CheckIn.patient_id == patient.id,
                CheckIn.status == "final",
                CheckIn.questionnaire.in_(questionnaires),
                CheckIn.completed_at >= course.window_start - SPACING_LOOK_BACK,
            )
            .order_by(CheckIn.completed_at)
            .options(SCORES_ONLY)
        )
    )
    courses = courses_of(session, [patient.id])[patient.id]
    return CourseState(
        course,
        patient.timezone,
        list(enumerate(completed, start=1)),
        scheduled,
        check_ins=belonging(recent, course, courses),
        recent=recent,
    )


def active_course(session: Session, patient: Patient) -> Course | None:
    return session.scalar(
        select(Course).where(Course.patient_id == patient.id, Course.status == "active")
    )


@dataclass(frozen=True)
class Due:
    patient: Patient
    course: Course | None
    at: dt.datetime
    items: list[DueItem]


def due(
    session: Session, registry: Registry, *, actor: Actor, patient_id: uuid.UUID, at: dt.datetime
) -> Due:
    """What is due for a patient the actor may see (NotFound otherwise), evaluated at `at`."""
    patient = get_patient(session, actor, patient_id)
    course, items = due_items(session, registry, patient=patient, at=at)
    return Due(patient, course, at, items)


def due_items(
    session: Session, registry: Registry, *, patient: Patient, at: dt.datetime
) -> tuple[Course | None, list[DueItem]]:
    """Each plan rule's current window for the patient's active course, evaluated at `at`."""
    course = active_course(session, patient)
    if course is None:
        return None, []
    plan = plan_of(course)
    state = load_timeline(session, patient, course, [r["questionnaire"] for r in plan])
    return course, evaluate(state, registry, plan, at)


def evaluate_rule(
    rule: PlanRule, state: CourseState, registry: Registry, at: dt.datetime
) -> DueItem | None:
    """One rule's window at `at`, spaced by the instrument's minimum interval."""
    definition = registry.get(rule["questionnaire"])
    name = definition.short_title if definition else rule["questionnaire"]
    item = EVALUATORS[rule["type"]](rule, state, at, name)
    interval = definition.minimum_interval_days if definition else None
    # The baseline is never skipped: a re-induction needs its own.
    exempt = rule["type"] == "at_baseline" or rule.get("allow_short_interval")
    if item is not None and interval is not None and not exempt:
        item = spaced(item, state, at, interval)
    return item


STATUS_ORDER = {"overdue": 0, "due": 1, "upcoming": 2, "done": 3}


def evaluate(
    state: CourseState, registry: Registry, plan: list[PlanRule], at: dt.datetime
) -> list[DueItem]:
    """Every rule's window at `at`, most urgent first; a pure function of the loaded state."""
    items = [item for rule in plan if (item := evaluate_rule(rule, state, registry, at))]
    return sorted(items, key=lambda i: (STATUS_ORDER[i.status], i.due_by))


def next_due_by(
    state: CourseState, registry: Registry, plan: list[PlanRule], at: dt.datetime
) -> dt.datetime | None:
    """When the earliest window not yet done closes, looking past windows already done: the
    patient is overdue once that has passed, with no need to look again until their check-ins,
    infusions or course change."""
    ends = []
    for rule in plan:
        moment = at
        done_by = None
        # Two windows done in a row, each seen twice, then the one not done.
        for _ in range(5):
            item = evaluate_rule(rule, state, registry, moment)
            if item is None:
                break
            if item.status != "done":
                ends.append(item.due_by)
                break
            # A window before an infusion left on the schedule is still the next one for a
            # day past its time: seen again, look past that day.
            again = SCHEDULED_GRACE if item.due_by == done_by else dt.timedelta(0)
            done_by = item.due_by
            moment = item.due_by + again + dt.timedelta(microseconds=1)
    return min(ends, default=None)
