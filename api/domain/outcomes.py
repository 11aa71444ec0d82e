"""Clinic outcomes for one instrument (PRODUCT.md §8): how many patients have a baseline and a
follow-up, response and remission rates, mean change with its 95 % confidence interval,
severity at baseline and now, the score at each infusion number, and how long benefit lasts in
maintenance. Aggregated in SQL over the progress read model; no check-in is loaded.

Each patient counts once, with their current course. Any number describing fewer than
MINIMUM_CELL patients, or that could be worked back from others, is withheld (None) unless a
clinic admin asks for it."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass

from sqlalchemy import Subquery, and_, case, func, select
from sqlalchemy.orm import Session

from api.domain import progress
from api.domain.access import Actor, require_own_clinic, require_staff
from api.domain.errors import Forbidden, NotFound
from api.domain.rules import Rules
from api.models import Course, CourseProgress, InfusionBenefit, Patient, PatientProgress

MINIMUM_CELL = 5
INFUSION_NUMBERS = range(1, 13)
# Two-sided 95 % quantiles of Student's t up to 30 degrees of freedom (the standard table);
# beyond, the expansion in t_quantile, within 0.0002 of the exact value from 31 on (it is
# 0.003 low at 10, which is why the table goes this far).
T_95 = {
    1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
    9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120,
    17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064,
    25: 2.060, 26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042,
}  # fmt: skip


@dataclass(frozen=True)
class Rate:
    patients: int | None
    rate: float | None


@dataclass(frozen=True)
class MeanChange:
    patients: int | None
    mean: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class AtInfusion:
    number: int
    patients: int | None
    mean_total: float | None


@dataclass(frozen=True)
class Outcomes:
    questionnaire: str
    suppressed: bool
    with_baseline: int | None
    with_follow_up: int | None
    response: Rate
    remission: Rate
    mean_change: MeanChange
    severity_at_baseline: dict[str, int | None]
    severity_latest: dict[str, int | None]
    by_infusion: list[AtInfusion]
    median_days_of_benefit: float | None
    benefit_patients: int | None


def t_quantile(df: int) -> float:
    """Student's t, two-sided 95 %, for `df` degrees of freedom."""
    if df in T_95:
        return T_95[df]
    z = 1.959964
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def mean_interval(
    n: int, total: float, squares: float
) -> tuple[float | None, float | None, float | None] | None:
    """Mean and 95 % confidence interval from a count, a sum and a sum of squares."""
    if n < 2:
        return None
    mean = total / n
    variance = max(0.0, (squares - n * mean * mean) / (n - 1))
    margin = t_quantile(n - 1) * math.sqrt(variance / n)
    return round(mean, 1), round(mean - margin, 1), round(mean + margin, 1)


def outcomes(
    session: Session,
    rules: Rules,
    *,
    actor: Actor,
    clinic_id: uuid.UUID,
    questionnaire: str,
    since: dt.date | None,
    until: dt.date | None,
    suppress: bool,
    now: dt.datetime,
) -> Outcomes:
    """The clinic's outcomes on one instrument, for its clinicians and admins; courses started
    from `since` up to `until`. Only an admin may lift the suppression of small cells."""
    require_staff(actor)
    require_own_clinic(actor, clinic_id)
    definition = rules.registry.get(questionnaire)
    if definition is None:
        raise NotFound("No such questionnaire.")
    if not suppress and actor.role != "clinic_admin":
        raise Forbidden("Only a clinic admin may see numbers about fewer than five patients.")
    progress.refresh_stale(session, rules, Patient.clinic_id == clinic_id, now)
    cohort = _cohort(clinic_id, questionnaire, since, until)
    shown = Withholding(suppress)
    headline = _headline(session, cohort, shown)
    shown_total = headline["with_baseline"] is not None
    return Outcomes(
        questionnaire=questionnaire,
        suppressed=suppress,
        **headline,
        severity_at_baseline=shown.bands(
            _severity(session, cohort, CourseProgress.baseline_severity), shown_total
        ),
        severity_latest=shown.bands(
            _severity(session, cohort, CourseProgress.latest_severity), shown_total
        ),
        by_infusion=_by_infusion(session, cohort, shown),
        **_benefit(session, cohort, shown),
    )


@dataclass(frozen=True)
class Withholding:
    """Small-cell suppression: a number about 1 to 4 patients is withheld (None), and so is any
    number it could be worked back from — a rate whose responders or non-responders are that
    few, and a second band when only one would be hidden from a total that is shown."""

    active: bool

    def small(self, patients: int) -> bool:
        return self.active and 0 < patients < MINIMUM_CELL

    def __call__(self, patients: int) -> int | None:
        return None if self.small(patients) else patients

    def rate(self, count: int, of: int) -> Rate:
        if self.small(of):
            return Rate(None, None)
        if of == 0 or self.small(count) or self.small(of - count):
            return Rate(of, None)
        return Rate(of, round(count / of, 3))

    def bands(self, counts: dict[str, int], total_shown: bool) -> dict[str, int | None]:
        hidden = {name for name, n in counts.items() if self.small(n)}
        if total_shown and len(hidden) == 1 and len(counts) > 1:
            hidden.add(min((n, name) for name, n in counts.items() if name not in hidden)[1])
        return {name: None if name in hidden else n for name, n in counts.items()}


def _cohort(
    clinic_id: uuid.UUID, questionnaire: str, since: dt.date | None, until: dt.date | None
) -> Subquery:
    """Each patient's current course's progress on the instrument, in the clinic."""
    stmt = (
        select(CourseProgress)
        .join(
            PatientProgress,
            and_(
                PatientProgress.patient_id == CourseProgress.patient_id,
                PatientProgress.course_id == CourseProgress.course_id,
            ),
        )
        .join(Course, Course.id == CourseProgress.course_id)
        .where(
            CourseProgress.clinic_id == clinic_id,
            CourseProgress.questionnaire == questionnaire,
            CourseProgress.baseline_check_in_id.is_not(None),
        )
    )
    if since is not None:
        stmt = stmt.where(Course.started_on >= since)
    if until is not None:
        stmt = stmt.where(Course.started_on < until)
    return stmt.subquery("cohort")


def _headline(session: Session, cohort, shown: Withholding) -> dict:
    followed = cohort.c.latest_check_in_id != cohort.c.baseline_check_in_id
    change = case((followed, cohort.c.change_absolute))
    row = session.execute(
        select(
            func.count(),
            func.count(change),
            func.count(case((followed & cohort.c.response.is_not(None), 1))),
            func.count(case((followed & cohort.c.response.is_(True), 1))),
            func.count(case((followed & cohort.c.remission.is_not(None), 1))),
            func.count(case((followed & cohort.c.remission.is_(True), 1))),
            func.sum(change),
            func.sum(change * change),
        )
    ).one()
    baseline, follow_up, response_n, responders, remission_n, remitted, total, squares = row
    interval = mean_interval(follow_up, float(total or 0), float(squares or 0))
    if interval is None or shown(follow_up) is None:
        interval = (None, None, None)
    return {
        "with_baseline": shown(baseline),
        "with_follow_up": shown(follow_up),
        "response": shown.rate(responders, response_n),
        "remission": shown.rate(remitted, remission_n),
        "mean_change": MeanChange(shown(follow_up), *interval),
    }


def _severity(session: Session, cohort, column) -> dict[str, int]:
    band = getattr(cohort.c, column.key)
    rows = session.execute(select(band, func.count()).group_by(band).where(band.is_not(None)))
    return {name: count for name, count in rows}


def _by_infusion(session: Session, cohort, shown: Withholding) -> list[AtInfusion]:
    """Per infusion number, the score before that infusion: patients and mean."""
    rows = dict(
        (number, (patients, mean))
        for number, patients, mean in session.execute(
            select(
                InfusionBenefit.number,
                func.count(func.distinct(InfusionBenefit.patient_id)),
                func.avg(InfusionBenefit.before),
            )
            .join(
                cohort,
                and_(
                    cohort.c.course_id == InfusionBenefit.course_id,
                    cohort.c.questionnaire == InfusionBenefit.questionnaire,
                ),
            )
            .where(InfusionBenefit.before.is_not(None), InfusionBenefit.number <= 12)
            .group_by(InfusionBenefit.number)
        )
    )
    found = []
    for number in INFUSION_NUMBERS:
        patients, mean = rows.get(number, (0, None))
        visible = shown(patients)
        found.append(
            AtInfusion(
                number,
                visible,
                None if visible is None or mean is None else round(float(mean), 1),
            )
        )
    return found


def _benefit(session: Session, cohort, shown: Withholding) -> dict:
    """The median days of benefit of maintenance infusions, by window functions."""
    measured = (
        select(
            InfusionBenefit.days_of_benefit.label("days"),
            InfusionBenefit.patient_id,
            func.row_number().over(order_by=InfusionBenefit.days_of_benefit).label("position"),
            func.count().over().label("n"),
        )
        .join(
            cohort,
            and_(
                cohort.c.course_id == InfusionBenefit.course_id,
                cohort.c.questionnaire == InfusionBenefit.questionnaire,
            ),
        )
        .where(InfusionBenefit.phase == "maintenance", InfusionBenefit.days_of_benefit.is_not(None))
        .subquery("measured")
    )
    middle = (measured.c.position * 2 >= measured.c.n) & (
        measured.c.position * 2 <= measured.c.n + 2
    )
    median = session.scalar(select(func.avg(measured.c.days)).where(middle))
    patients = session.scalar(select(func.count(func.distinct(measured.c.patient_id)))) or 0
    visible = shown(patients)
    return {
        "median_days_of_benefit": None
        if visible is None or median is None
        else round(float(median), 1),
        "benefit_patients": visible,
    }
