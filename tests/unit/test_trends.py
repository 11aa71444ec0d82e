"""Trend rules with hand-computed fixtures: status at and around every threshold of every
instrument, change, durability per infusion, and each signal firing and not at its edges."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import uuid

import pytest

from api.domain import trends
from api.domain.questionnaires import Definition, parse
from api.domain.registry import load_registry
from api.domain.timeline import Baseline, Context, GivenInfusion
from api.models import CheckIn, Course

REGISTRY = load_registry()
T0 = dt.datetime(2026, 10, 5, 14, 0, tzinfo=dt.UTC)
GRACE = dt.timedelta(minutes=15)


def at(days: float) -> dt.datetime:
    return T0 + dt.timedelta(days=days)


def status(key: str, baseline: int, latest: int) -> tuple:
    s = trends.status_of(REGISTRY[key], baseline, latest)
    return (s.response, s.remission, s.reliable_change, s.mcid_reached)


class TestStatusAtEveryThreshold:
    @pytest.mark.parametrize(
        "baseline,latest,expected",
        [
            (20, 10, (True, False, "improved", True)),  # 50 % exactly
            (20, 11, (False, False, "improved", True)),  # 45 %
            (10, 5, (True, False, "none", True)),  # remission needs < 5; 5 is not reliable
            (10, 4, (True, True, "improved", True)),
            (9, 0, (None, None, "improved", True)),  # baseline under 10: no response rule
            (12, 17, (False, False, "none", False)),  # 5 worse: not reliable
            (12, 18, (False, False, "deteriorated", False)),  # 6 worse
            (12, 7, (False, False, "none", True)),  # 5 better: MCID, not reliable
            (12, 8, (False, False, "none", False)),  # 4 better
            (12, 6, (True, False, "improved", True)),
        ],
    )
    def test_phq9(self, baseline, latest, expected):
        assert status("phq9", baseline, latest) == expected

    @pytest.mark.parametrize(
        "baseline,latest,expected",
        [
            (10, 5, (True, False, "improved", True)),
            (10, 6, (False, False, "improved", True)),  # 4: reliable and MCID at 4
            (10, 4, (True, True, "improved", True)),
            (11, 8, (False, False, "none", False)),  # 3 better
            (8, 4, (None, None, "improved", True)),
            (8, 12, (None, None, "deteriorated", False)),
            (8, 11, (None, None, "none", False)),
        ],
    )
    def test_gad7(self, baseline, latest, expected):
        assert status("gad7", baseline, latest) == expected

    @pytest.mark.parametrize(
        "baseline,latest,expected",
        [
            (50, 40, (True, False, "none", True)),  # 10 points: response and MCID
            (50, 41, (False, False, "none", False)),
            (50, 35, (True, False, "improved", True)),  # 15: reliable
            (50, 36, (True, False, "none", True)),
            (35, 50, (False, False, "deteriorated", False)),
            (40, 32, (False, True, "none", False)),  # under 33 from at least 33
            (40, 33, (False, False, "none", False)),
            (33, 22, (True, True, "none", True)),
            (30, 10, (True, None, "improved", True)),  # baseline under the cut-off
        ],
    )
    def test_pcl5(self, baseline, latest, expected):
        assert status("pcl5", baseline, latest) == expected

    @pytest.mark.parametrize(
        "baseline,latest,expected",
        [
            (10, 7, (True, None, None, True)),  # 30 % exactly
            (10, 8, (False, None, None, True)),  # 20 %: MCID of 2
            (4, 3, (False, None, None, False)),  # 25 %, 1 point
            (4, 2, (True, None, None, True)),
            (3, 0, (None, None, None, True)),  # baseline under 4
            (6, 5, (False, None, None, False)),
        ],
    )
    def test_pain(self, baseline, latest, expected):
        assert status("pain", baseline, latest) == expected


@pytest.mark.parametrize(
    "baseline,latest,absolute,percent",
    [(19, 8, -11, -57.9), (10, 10, 0, 0.0), (8, 12, 4, 50.0), (0, 3, 3, None), (3, 2, -1, -33.3)],
)
def test_change_is_absolute_and_percent_to_one_decimal(baseline, latest, absolute, percent):
    assert trends.change_of(baseline, latest) == trends.Change(absolute, percent)


def check_in(total: int, day: float, key: str = "phq9") -> CheckIn:
    return CheckIn(
        id=uuid.uuid4(),
        questionnaire=key,
        total=total,
        completed_at=at(day),
        completed_offset_minutes=0,
    )


def given(*days: float) -> list[GivenInfusion]:
    course_id = uuid.uuid4()
    return [
        GivenInfusion(uuid.uuid4(), course_id, n, at(day), None)
        for n, day in enumerate(days, start=1)
    ]


def points(*pairs: tuple[float, int], key: str = "phq9") -> list[trends.Point]:
    return [trends.Point(check_in(total, day, key), Context()) for day, total in pairs]


def benefit(pairs, infusion_days=(0, 10), index=0) -> trends.Benefit:
    infusions = given(*infusion_days)
    infusion = trends.InfusionInTrend(infusions[index], "induction")
    following = infusions[index + 1] if index + 1 < len(infusions) else None
    return trends.benefit_of(REGISTRY["phq9"], infusion, following, points(*pairs), GRACE)


class TestDaysOfBenefit:
    def test_the_benefit_lasts_until_the_score_comes_back_within_the_mcid(self):
        found = benefit([(-1, 20), (1, 12), (3, 10), (6, 16), (8, 18)])
        assert (found.before, found.best_after, found.last_after) == (20, 10, 18)
        assert (found.days_observed, found.days_of_benefit, found.still_improved) == (
            8.0,
            6.0,
            False,
        )

    def test_an_improvement_of_exactly_the_mcid_still_counts(self):
        found = benefit([(-1, 20), (2, 15), (5, 16)])
        assert (found.days_of_benefit, found.still_improved) == (5.0, False)

    def test_still_improved_when_the_next_infusion_comes_first(self):
        found = benefit([(-1, 20), (2, 12), (9, 15)])
        assert (found.days_of_benefit, found.still_improved) == (None, True)
        assert (found.before, found.best_after, found.last_after, found.days_observed) == (
            20,
            12,
            15,
            9.0,
        )

    def test_no_improvement_of_the_mcid_is_no_measurable_benefit(self):
        found = benefit([(-1, 20), (2, 17), (5, 16)])
        assert (found.days_of_benefit, found.still_improved) == (None, False)
        assert (found.before, found.best_after, found.last_after, found.days_observed) == (
            20,
            16,
            16,
            5.0,
        )

    def test_a_late_improvement_starts_the_benefit(self):
        found = benefit([(-1, 20), (1, 18), (3, 14), (7, 17)])
        assert (found.days_of_benefit, found.still_improved) == (7.0, False)

    def test_scores_after_the_next_infusion_belong_to_it(self):
        found = benefit([(-1, 20), (2, 12), (11, 19)])
        assert (found.last_after, found.still_improved) == (12, True)
        second = benefit([(-1, 20), (2, 12), (11, 19)], index=1)
        assert (second.before, second.last_after) == (12, 19)

    def test_no_score_before_the_infusion(self):
        found = benefit([(2, 12), (5, 14)])
        assert (found.before, found.days_of_benefit, found.still_improved) == (None, None, None)
        assert (found.best_after, found.last_after, found.days_observed) == (12, 14, 5.0)

    def test_no_score_after_the_infusion(self):
        found = benefit([(-1, 20)])
        assert (found.before, found.best_after, found.days_of_benefit) == (20, None, None)


class TestBenefitsOfACourse:
    def test_each_infusion_has_the_scores_up_to_the_next_one(self):
        found = trend_of([(-1, 20), (2, 12), (11, 19)], (0, 10))
        assert [(b.before, b.best_after, b.last_after) for b in found.by_infusion] == [
            (20, 12, 12),
            (12, 19, 19),
        ]

    def test_an_infusions_phase_follows_its_override(self):
        first, second = given(0, 2)
        second = dataclasses.replace(second, phase_override="maintenance")
        check_ins = [check_in(20, -1), check_in(12, 3)]
        found = trends.build(REGISTRY["phq9"], course(6), check_ins, [first, second], GRACE)
        assert [i.phase for i in found.infusions] == ["induction", "maintenance"]


class TestDurability:
    def benefits(self, *windows: float | str, phase: str = "maintenance") -> list[trends.Benefit]:
        """Each window: days of benefit, "still" (still improved) or "none" (no improvement)."""
        infusions = given(*range(len(windows)))
        return [
            trends.Benefit(
                trends.InfusionInTrend(i, phase),
                20,
                10,
                15,
                5.0,
                w if isinstance(w, float) else None,
                w == "still",
            )
            for i, w in zip(infusions, windows, strict=True)
        ]

    def summary(self, benefits) -> trends.Durability:
        return trends.durability_of(REGISTRY["phq9"], benefits)

    def test_the_median_of_the_last_three(self):
        found = self.summary(self.benefits(4.0, 9.0, 10.0, 8.0))
        assert (found.median_days_of_benefit, found.infusions_counted) == (9.0, 3)
        assert found.summary == (
            "The benefit of recent maintenance infusions lasted about 9 days (median of the last "
            "3 maintenance infusions, PHQ-9)."
        )

    def test_maintenance_infusions_are_preferred(self):
        induction = self.benefits(1.0, 1.5, 2.0, phase="induction")
        found = self.summary([*induction, *self.benefits(12.0)])
        assert (found.median_days_of_benefit, found.infusions_counted) == (12.0, 1)
        assert "(median of the last maintenance infusion, PHQ-9)" in found.summary

    def test_induction_infusions_when_there_is_no_maintenance_yet(self):
        found = self.summary(self.benefits(1.0, 3.0, phase="induction"))
        assert (found.median_days_of_benefit, found.infusions_counted) == (2.0, 2)
        assert "recent infusions lasted about 2 days (median of the last 2 infusions" in (
            found.summary
        )

    def test_windows_still_improved_are_not_counted(self):
        found = self.summary(self.benefits(6.0, "still", 7.0))
        assert (found.median_days_of_benefit, found.infusions_counted) == (6.5, 2)
        # None was without improvement: nothing more is said.
        assert found.summary == (
            "The benefit of recent maintenance infusions lasted about 6.5 days (median of the "
            "last 2 maintenance infusions, PHQ-9)."
        )

    def test_the_median_to_a_tenth_of_a_day(self):
        found = self.summary(self.benefits(2.25, 2.5))
        assert found.median_days_of_benefit == 2.4
        assert "lasted about 2.4 days" in found.summary

    def test_windows_without_improvement_are_said(self):
        found = self.summary(self.benefits(6.0, "none", "none"))
        assert found.median_days_of_benefit == 6.0
        assert found.summary == (
            "The benefit of recent maintenance infusions lasted about 6 days (median of the last "
            "maintenance infusion, PHQ-9). 2 of the last 3 brought no measurable improvement."
        )

    def test_only_windows_without_improvement_are_counted_as_such(self):
        found = self.summary(self.benefits(6.0, "still", "none"))
        assert found.summary.endswith(" 1 of the last 3 brought no measurable improvement.")

    def test_no_improvement_after_recent_infusions(self):
        # The first infusion helped; the last three did not: never "lasted until the next".
        found = self.summary(self.benefits("still", "none", "none", "none"))
        assert (found.median_days_of_benefit, found.infusions_counted) == (None, 0)
        assert found.summary == (
            "No measurable improvement after the last 3 maintenance infusions."
        )

    def test_only_the_latest_window_is_improved_and_still_open(self):
        found = self.summary(self.benefits("none", "none", "still"))
        assert (found.median_days_of_benefit, found.infusions_counted) == (None, 0)
        assert found.summary == (
            "Improved since the latest infusion; too early to say how long the benefit lasts."
        )

    def test_benefit_lasted_until_the_next_infusion(self):
        found = self.summary(self.benefits("still", "still", "none"))
        assert (found.median_days_of_benefit, found.infusions_counted) == (None, 0)
        assert found.summary == (
            "The benefit of recent maintenance infusions lasted until the next one."
        )

    def test_not_enough_check_ins(self):
        unmeasured = [
            trends.Benefit(b.infusion, None, 10, 10, 2.0, None, None) for b in self.benefits("none")
        ]
        assert self.summary(unmeasured) == trends.Durability(
            None, 0, "Not enough check-ins between infusions yet to say how long the benefit lasts."
        )


def course(induction: int = 6) -> Course:
    return Course(id=uuid.uuid4(), status="active", induction_infusions=induction)


def trend_of(pairs, infusion_days, *, key="phq9", induction=6) -> trends.Trend:
    check_ins = [check_in(total, day, key) for day, total in pairs]
    return trends.build(REGISTRY[key], course(induction), check_ins, given(*infusion_days), GRACE)


def kinds(trend: trends.Trend) -> list[str]:
    return [signal.kind for signal in trend.signals]


class TestEarlyNonImprovement:
    INDUCTION = (0, 2, 4, 7, 9, 11)

    @pytest.mark.parametrize("key", ["phq9", "gad7"])
    def test_under_20_percent_after_the_4th_infusion(self, key):
        found = trend_of([(-1, 20), (7.5, 17)], self.INDUCTION[:4], key=key)
        assert kinds(found) == ["early_non_improvement"]
        assert "A prompt to review, not a conclusion" in found.signals[0].rule

    def test_20_percent_is_enough(self):
        assert kinds(trend_of([(-1, 20), (7.5, 16)], self.INDUCTION[:4])) == []

    def test_not_before_the_4th_infusion(self):
        assert kinds(trend_of([(-1, 20), (6, 19)], self.INDUCTION[:3])) == []

    def test_or_14_days_after_the_first(self):
        assert kinds(trend_of([(-1, 20), (14, 19)], (0, 5, 10))) == ["early_non_improvement"]
        assert kinds(trend_of([(-1, 20), (13.9, 19)], (0, 5, 10))) == []

    def test_never_for_pcl5(self):
        assert kinds(trend_of([(-1, 50), (7.5, 49)], self.INDUCTION[:4], key="pcl5")) == []

    def test_only_during_induction(self):
        found = trend_of([(-1, 20), (8, 19)], (0, 2, 4, 7), induction=3)
        assert "early_non_improvement" not in kinds(found)

    def test_its_wording_after_the_4th_induction_infusion(self):
        found = trend_of([(-1, 20), (7.5, 17)], self.INDUCTION[:4])
        assert found.signals[0].rule == (
            "PHQ-9 20 → 17 (+15 % improvement) after induction infusion 4: less than 20 %. "
            "Early non-improvement predicts non-response to antidepressants (Szegedi et al. "
            "2009); with ketamine, response often builds across the series (Phillips et al. "
            "2019). A prompt to review, not a conclusion."
        )
        assert found.signals[0].check_in_ids == (found.baseline.check_in.id, found.latest.id)

    def test_its_wording_14_days_after_the_first_infusion(self):
        # Worse, not better: the percent keeps its sign; 3 infusions, so the days are named.
        found = trend_of([(-1, 10), (14.5, 20)], (0, 5, 10))
        assert found.signals[0].rule == (
            "PHQ-9 10 → 20 (-100 % improvement) 14.5 days after the first infusion: less than "
            "20 %. Early non-improvement predicts non-response to antidepressants (Szegedi et "
            "al. 2009); with ketamine, response often builds across the series (Phillips et al. "
            "2019). A prompt to review, not a conclusion."
        )

    def test_not_from_a_baseline_below_the_response_minimum(self):
        # PHQ-9 3 → 3 is not non-improvement: there was little to improve (min_baseline 10).
        assert kinds(trend_of([(-1, 9), (7.5, 9)], self.INDUCTION[:4])) == []
        assert kinds(trend_of([(-1, 10), (7.5, 9)], self.INDUCTION[:4])) == [
            "early_non_improvement"
        ]


class TestWaning:
    def test_worse_than_the_best_since_the_last_infusion_by_the_mcid(self):
        found = trend_of([(-1, 20), (11, 6), (14, 11)], (0, 5, 10), induction=2)
        assert kinds(found) == ["waning"]
        assert found.signals[0].check_in_ids[1] == found.latest.id

    def test_the_best_counts_only_since_the_latest_infusion(self):
        # 4 after infusion 2 is not "since infusion 3": 8 → 9 is 1 point, not 5.
        found = trend_of([(-1, 20), (6, 4), (11, 8), (14, 9)], (0, 5, 10), induction=2)
        assert kinds(found) == []

    def test_one_point_under_the_mcid(self):
        assert kinds(trend_of([(-1, 20), (11, 6), (14, 10)], (0, 5, 10), induction=2)) == []

    def test_not_in_induction(self):
        assert "waning" not in kinds(trend_of([(-1, 20), (11, 6), (14, 11)], (0, 5, 10)))

    def test_a_score_filled_in_the_chair_is_not_since_the_infusion(self):
        # 10 minutes after infusion 3 began, within the in-chair grace: before it, not its best.
        in_chair = 10 + 10 / (24 * 60)
        found = trend_of([(-1, 20), (in_chair, 6), (11, 10), (14, 11)], (0, 5, 10), induction=2)
        assert kinds(found) == []

    # Pain: daily ratings swing, so its sustained rule applies (3 ratings, 3 days, 2 points).
    def test_one_pain_rating_is_not_waning(self):
        found = trend_of([(-1, 9), (11, 3), (12, 5)], (0, 5, 10), key="pain", induction=2)
        assert kinds(found) == []

    def test_three_pain_ratings_over_three_days_are(self):
        pairs = [(-1, 9), (11, 3), (12, 5), (13, 6), (14, 5)]
        found = trend_of(pairs, (0, 5, 10), key="pain", induction=2)
        assert kinds(found) == ["waning"]

    def test_three_pain_ratings_within_two_days_are_not(self):
        pairs = [(-1, 9), (11, 3), (12, 5), (12.5, 6), (13, 5)]
        assert kinds(trend_of(pairs, (0, 5, 10), key="pain", induction=2)) == []

    def test_one_of_three_pain_ratings_back_near_the_best(self):
        pairs = [(-1, 9), (11, 3), (12, 5), (13, 4), (14, 5)]
        assert kinds(trend_of(pairs, (0, 5, 10), key="pain", induction=2)) == []


class TestRelapse:
    def test_response_then_two_check_ins_that_no_longer_meet_it(self):
        found = trend_of([(-1, 20), (10, 9), (20, 12), (30, 14)], (0, 2, 4))
        assert kinds(found) == ["relapse"]

    def test_one_of_the_last_two_still_responding(self):
        assert kinds(trend_of([(-1, 20), (10, 9), (20, 12), (30, 10)], (0, 2, 4))) == []

    def test_two_check_ins_after_baseline_are_not_enough(self):
        assert kinds(trend_of([(-1, 20), (10, 9), (20, 12)], (0, 2, 4))) == []

    def test_a_check_in_at_the_same_instant_as_the_baseline_is_not_later(self):
        # The 9 shares the baseline's instant: not a response after it, so no relapse from it.
        found = trend_of([(-1, 9), (-1, 20), (20, 12), (30, 14)], (0, 2, 4))
        assert found.baseline.check_in.total == 20
        assert kinds(found) == []

    def test_never_responded(self):
        assert kinds(trend_of([(-1, 20), (10, 11), (20, 12), (30, 14)], (0, 2, 4))) == []


def test_phases_are_summarised_in_order():
    found = trend_of([(-1, 20), (1, 14), (3, 12), (12, 9)], (0, 2, 4, 11), induction=3)
    assert [(p.phase, p.count, p.mean, p.min, p.max, p.last) for p in found.phases] == [
        ("baseline", 1, 20.0, 20, 20, 20),
        ("induction", 2, 13.0, 12, 14, 12),
        ("maintenance", 1, 9.0, 9, 9, 9),
    ]


def test_phase_means_are_to_one_decimal():
    found = trend_of([(-1, 20), (1, 14), (2, 12), (3, 11)], (0,))
    assert [(p.phase, p.mean) for p in found.phases] == [("baseline", 20.0), ("induction", 12.3)]


def test_a_window_includes_its_start_and_not_its_end():
    check_ins = [check_in(20, -1), check_in(12, 5), check_in(10, 9)]
    since = trends.build(REGISTRY["phq9"], course(), check_ins, given(0), GRACE, since=at(5))
    until = trends.build(REGISTRY["phq9"], course(), check_ins, given(0), GRACE, until=at(9))
    assert [p.check_in.total for p in since.points] == [12, 10]
    assert [p.check_in.total for p in until.points] == [20, 12]


def test_a_window_that_ends_before_the_baseline_has_no_change_or_status():
    check_ins = [check_in(8, -25), check_in(20, -1), check_in(9, 5)]
    found = trends.build(REGISTRY["phq9"], course(), check_ins, given(0), GRACE, until=at(-10))
    assert found.latest is check_ins[0] and found.baseline.check_in is check_ins[1]
    assert found.change is None and found.status == trends.Status()


def test_a_baseline_and_no_more_gives_no_change():
    found = trend_of([(-1, 20)], (0,))
    assert found.change == trends.Change(0, 0.0)
    assert isinstance(found.baseline, Baseline) and found.latest is found.baseline.check_in


def without_min_baseline(key: str, **response) -> Definition:
    """The instrument's definition with a response rule that sets no minimum baseline."""
    raw = copy.deepcopy(REGISTRY[key].raw)
    raw["change"]["response"].pop("min_baseline")
    raw["change"]["response"].update(response)
    return parse(raw)


class TestAResponseRuleWithoutAMinimumBaseline:
    def test_it_applies_from_any_baseline_and_a_baseline_of_0_never_responds(self):
        definition = without_min_baseline("pain")  # 30 % reduction
        assert trends.responds(definition, 0, 0) is False
        assert trends.responds(definition, 1, 0) is True
        assert trends.responds(definition, 1, 1) is False

    def test_the_percent_is_exact(self):
        # 50 points of 101 is 49.5 %: not a 50 % reduction; 50 of 100 is.
        definition = without_min_baseline("pain", percent=50)
        assert trends.responds(definition, 101, 51) is False
        assert trends.responds(definition, 100, 50) is True

    def test_the_early_signal_applies_from_any_baseline_above_0(self):
        definition = without_min_baseline("phq9")
        infusions = given(0, 2, 4, 7)

        def early(base: int) -> list[str]:
            check_ins = [check_in(base, -1), check_in(base, 7.5)]
            return kinds(trends.build(definition, course(), check_ins, infusions, GRACE))

        assert early(9) == ["early_non_improvement"]
        assert early(1) == ["early_non_improvement"]
        assert early(0) == []

    def test_without_a_response_rule_the_early_signal_applies_from_any_baseline_above_0(self):
        raw = copy.deepcopy(REGISTRY["phq9"].raw)
        raw["change"]["response"] = None  # the format allows it: no response defined
        definition = parse(raw)
        check_ins = [check_in(9, -1), check_in(9, 7.5)]
        built = trends.build(definition, course(), check_ins, given(0, 2, 4, 7), GRACE)
        assert kinds(built) == ["early_non_improvement"]
        assert built.status.response is None
