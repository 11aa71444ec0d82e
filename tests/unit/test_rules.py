"""The pure rules, each at its edges, with no database and no HTTP: alert triggers, windows,
phases, the look-back, follow-up, the in-chair grace, spacing, lockout, fingerprints."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
import time
import uuid

import pytest
from hypothesis import given as given_examples
from hypothesis import strategies as st

from api.domain import access, alerts, identity, outcomes, schedule, timeline
from api.domain.access import Actor
from api.domain.check_ins import Submission, body_hash, check_completed_at
from api.domain.credentials import Passwords, TokenSettings
from api.domain.errors import Forbidden, Invalid, NotFound
from api.domain.questionnaires import parse
from api.domain.registry import load_registry
from api.domain.scoring import endorsed_safety_flags, level
from api.models import CheckIn, Course, Infusion, User

REGISTRY = load_registry()
T0 = dt.datetime(2026, 10, 5, 14, 0, tzinfo=dt.UTC)
MICRO = dt.timedelta(microseconds=1)
GRACE = dt.timedelta(minutes=15)


def check_in(key="phq9", total=0, at=T0, flags=(), offset=0) -> CheckIn:
    return CheckIn(
        id=uuid.uuid4(),
        questionnaire=key,
        total=total,
        flags=list(flags),
        completed_at=at,
        completed_offset_minutes=offset,
        status="final",
    )


def given(*days: float, course_id=None) -> list[timeline.GivenInfusion]:
    course_id = course_id or uuid.uuid4()
    return [
        timeline.GivenInfusion(uuid.uuid4(), course_id, n, T0 + dt.timedelta(days=d), None)
        for n, d in enumerate(days, start=1)
    ]


def baseline(total: int, source="pre_infusion", at=T0 - dt.timedelta(days=1)):
    return timeline.Baseline(check_in(total=total, at=at), source)


class TestAlertTriggers:
    @pytest.mark.parametrize(
        "key,total,flags,expected",
        [
            ("phq9", 3, ["suicidal_ideation"], [("suicidal_ideation", "urgent")]),
            ("phq9", 19, [], []),
            ("phq9", 20, [], [("severe_symptoms", "high")]),
            ("gad7", 14, [], []),
            ("gad7", 15, [], [("severe_symptoms", "high")]),
            ("pcl5", 80, ["dsm5_criteria_met"], []),
            ("pain", 10, [], []),
        ],
    )
    def test_item_and_total_rules(self, key, total, flags, expected):
        found = alerts.triggered(REGISTRY[key], check_in(key, total, flags=flags), None, [])
        assert [(t.kind, t.priority) for t in found] == expected

    @pytest.mark.parametrize(
        "key,base,worse_by,fires",
        [
            ("phq9", 8, 5, False),
            ("phq9", 8, 6, True),
            ("gad7", 5, 3, False),
            ("gad7", 5, 4, True),
            ("pcl5", 20, 14, False),
            ("pcl5", 20, 15, True),
        ],
    )
    def test_reliable_deterioration_at_its_threshold(self, key, base, worse_by, fires):
        later = check_in(key, base + worse_by, at=T0 + dt.timedelta(days=3))
        found = alerts.triggered(REGISTRY[key], later, baseline(base), [])
        assert [t.kind for t in found if t.kind == "reliable_deterioration"] == (
            ["reliable_deterioration"] if fires else []
        )

    @pytest.mark.parametrize("delta", [-MICRO, dt.timedelta(0)])
    def test_only_after_the_baseline(self, delta):
        base = baseline(8)
        earlier = check_in(total=20, at=base.check_in.completed_at + delta)
        found = alerts.triggered(REGISTRY["phq9"], earlier, base, [])
        assert "reliable_deterioration" not in [t.kind for t in found]

    @pytest.mark.parametrize(
        "source,priority", [("pre_infusion", "high"), ("first_available", "normal")]
    )
    def test_priority_follows_the_baseline_source(self, source, priority):
        later = check_in(total=14, at=T0 + dt.timedelta(days=3))
        [trigger] = alerts.triggered(REGISTRY["phq9"], later, baseline(8, source), [])
        assert (trigger.priority, trigger.baseline.source) == (priority, source)


class TestSustainedPain:
    def ratings(self, *pairs: tuple[float, int], offset=0) -> list[CheckIn]:
        made = [check_in("pain", v, at=T0 + dt.timedelta(days=d), offset=offset) for d, v in pairs]
        return sorted(made, key=lambda c: c.completed_at, reverse=True)

    def fires(self, recent: list[CheckIn], base: int = 3, newest=None) -> bool:
        newest = newest or recent[0]
        return alerts.deteriorated(REGISTRY["pain"], newest, baseline(base), recent)

    def test_three_days_each_two_above(self):
        assert self.fires(self.ratings((1, 5), (2, 5), (3, 5)))

    def test_one_rating_one_point_short(self):
        assert not self.fires(self.ratings((1, 5), (2, 4), (3, 5)))

    def test_two_ratings_are_not_enough(self):
        assert not self.fires(self.ratings((2, 9), (3, 9)))

    def test_two_days_apart_end_to_end_is_the_least(self):
        assert self.fires(self.ratings((1, 5), (2, 5), (3, 5)))
        assert not self.fires(self.ratings((1, 5), (2, 5), (3 - 1 / 86400, 5)))

    def test_distinct_days_are_the_patients_own(self):
        # 03:00 UTC on three days is the previous evening in New York: still three days.
        recent = self.ratings((1.5, 6), (2.5, 6), (3.5, 6), offset=-300)
        assert self.fires(recent)

    def test_the_new_rating_must_be_among_the_latest(self):
        recent = self.ratings((1, 5), (2, 5), (3, 5))
        late = check_in("pain", 9, at=T0 - dt.timedelta(hours=1))
        assert not self.fires(recent, newest=late)

    def test_a_rating_at_the_very_instant_of_the_baseline_is_not_after_it(self):
        base = baseline(3)
        twin = check_in("pain", 9, at=base.check_in.completed_at)
        recent = [*self.ratings((1, 5), (2, 5)), twin]
        assert not alerts.deteriorated(REGISTRY["pain"], recent[0], base, recent)


def test_an_instrument_without_a_deterioration_rule_never_deteriorates():
    raw = copy.deepcopy(REGISTRY["gad7"].raw)
    raw["change"]["reliable_change"] = None
    definition = parse(raw)
    later = check_in("gad7", 14, at=T0 + dt.timedelta(days=3))
    found = alerts.triggered(definition, later, baseline(0), [later])
    assert [t.kind for t in found] == []


class TestWindows:
    START, END = T0, T0 + dt.timedelta(hours=48)

    @pytest.mark.parametrize(
        "at,status",
        [
            (START - MICRO, "upcoming"),
            (START, "due"),
            (END, "due"),
            (END + MICRO, "overdue"),
        ],
    )
    def test_status_at_the_edges(self, at, status):
        assert schedule.window_status(self.START, self.END, at, done=False) == status

    def test_done_whenever(self):
        assert schedule.window_status(self.START, self.END, self.END + MICRO, done=True) == "done"


def course_state(induction=2, infusion_days=(), scheduled_days=(), check_ins=()):
    course = Course(
        id=uuid.uuid4(),
        started_on=T0.date(),
        induction_infusions=induction,
        indications=["depression"],
        plan=None,
    )
    for name, value in timeline.course_instants(course.started_on, None, "UTC").items():
        setattr(course, name, value)
    completed = [
        (n, Infusion(id=uuid.uuid4(), administered_at=T0 + dt.timedelta(days=d)))
        for n, d in enumerate(infusion_days, start=1)
    ]
    scheduled = [
        Infusion(id=uuid.uuid4(), scheduled_for=T0 + dt.timedelta(days=d)) for d in scheduled_days
    ]
    return schedule.CourseState(
        course, "UTC", completed, scheduled, list(check_ins), list(check_ins)
    )


class TestEveryNDaysByPhase:
    RULE: schedule.PlanRule = {
        "questionnaire": "phq9",
        "type": "every_n_days",
        "days": 7,
        "phases": ["maintenance"],
    }

    @pytest.mark.parametrize(
        "infusion_days,applies",
        [((), False), ((0,), False), ((0, 1), False), ((0, 1, 2), True)],
    )
    def test_a_phase_limited_rule_applies_in_its_phase(self, infusion_days, applies):
        state = course_state(induction=2, infusion_days=infusion_days)
        item = schedule.every_n_days(self.RULE, state, T0 + dt.timedelta(days=3), "PHQ-9")
        assert (item is not None) == applies


class TestInfusionPhase:
    @pytest.mark.parametrize(
        "number,override,phase",
        [
            (1, None, "induction"),
            (6, None, "induction"),
            (7, None, "maintenance"),
            (2, "maintenance", "maintenance"),
            (9, "induction", "induction"),
        ],
    )
    def test_by_number_unless_set(self, number, override, phase):
        assert timeline.infusion_phase(number, 6, override) == phase


class TestBaselineLookBack:
    @pytest.mark.parametrize(
        "before_first,source",
        [
            (timeline.LOOKBACK, "pre_infusion"),
            (timeline.LOOKBACK + MICRO, "first_available"),
            (dt.timedelta(0), "pre_infusion"),
            (-GRACE, "pre_infusion"),
            (-GRACE - MICRO, "first_available"),
        ],
    )
    def test_pre_infusion_edges(self, before_first, source):
        infusions = given(0)
        found = timeline.choose_baselines([check_in(at=T0 - before_first)], infusions, GRACE)
        assert found["phq9"].source == source

    def test_the_latest_pre_infusion_wins(self):
        early, late = check_in(total=5, at=T0 - dt.timedelta(days=3)), check_in(total=9, at=T0)
        found = timeline.choose_baselines([early, late], given(0), GRACE)
        assert found["phq9"].check_in is late

    def test_before_any_infusion_every_check_in_is_before_treatment(self):
        early, late = check_in(at=T0 - dt.timedelta(days=90)), check_in(at=T0)
        found = timeline.choose_baselines([early, late], [], GRACE)
        assert found["phq9"] == timeline.Baseline(late, "pre_infusion")


class TestBaselineAmong:
    """The baseline a new check-in is compared with, among the candidates read for it."""

    @staticmethod
    def course(starts: float, ends: float | None = None) -> Course:
        starts_at = T0 + dt.timedelta(days=starts)
        return Course(
            id=uuid.uuid4(),
            status="active" if ends is None else "completed",
            induction_infusions=6,
            starts_at=starts_at,
            window_start=starts_at - timeline.LOOKBACK,
            ends_at=None if ends is None else T0 + dt.timedelta(days=ends),
        )

    @staticmethod
    def stored(days: float, total: int = 0, status: str = "final") -> CheckIn:
        found = check_in(total=total, at=T0 + dt.timedelta(days=days))
        found.status = status
        return found

    def test_an_entered_in_error_check_in_is_never_the_baseline(self):
        course = self.course(-10)
        patient = timeline.PatientTimeline([course], {course.id: given(0, course_id=course.id)})
        pre, new = self.stored(-3, 20), self.stored(7)
        in_error = self.stored(-1, 5, "entered_in_error")  # later, so it would win were it final
        found = timeline.baseline_among(new, [pre, in_error, new], patient, grace=GRACE)
        assert found == timeline.Baseline(pre, "pre_infusion")

    def test_a_check_in_of_another_course_is_never_the_baseline(self):
        earlier, course = self.course(-80, ends=-40), self.course(-1)
        infusions = {earlier.id: [], course.id: given(0, course_id=course.id)}
        patient = timeline.PatientTimeline([earlier, course], infusions)
        # No pre-infusion check-in in this course: its first one is the baseline.
        other, first, new = self.stored(-50, 20), self.stored(1, 15), self.stored(8)
        found = timeline.baseline_among(new, [other, first, new], patient, grace=GRACE)
        assert found == timeline.Baseline(first, "first_available", acute_effect=True)


@given_examples(
    earlier=st.lists(st.integers(-60, 40), max_size=8),
    later=st.lists(st.integers(-60, 40), max_size=4),
    infusion_days=st.lists(st.integers(-20, 30), max_size=3, unique=True),
)
def test_the_baseline_pool_chooses_as_every_check_in_would(earlier, later, infusion_days):
    """What a batch keeps of its earlier check-ins to compare the later ones with (a function,
    not a method: mutmut runs the suite more than once in one process)."""
    infusions = given(*sorted(infusion_days))
    first = [check_in(at=T0 + dt.timedelta(days=d)) for d in earlier]
    then = [check_in(at=T0 + dt.timedelta(days=d)) for d in later]
    pool = timeline.baseline_pool(first, infusions, GRACE)
    assert len(pool) <= 2

    def chosen(check_ins):
        ordered = sorted(check_ins, key=lambda c: (c.completed_at, c.id))
        return timeline.choose_baselines(ordered, infusions, GRACE)

    assert chosen([*pool, *then]) == chosen([*first, *then])


class TestBaselinePool:
    def test_a_check_in_entered_in_error_is_never_kept(self):
        kept, in_error = check_in(at=T0), check_in(at=T0 - dt.timedelta(days=1))
        in_error.status = "entered_in_error"
        assert timeline.baseline_pool([kept, in_error], [], GRACE) == [kept]


class TestSpans:
    def test_the_look_back_and_the_course_are_one_span(self):
        course = TestBaselineAmong.course(0)
        assert timeline.spans_of(course, [course]) == [(course.window_start, None)]

    def test_a_course_that_another_interrupts_has_two_spans(self):
        outer, inner = TestBaselineAmong.course(0), TestBaselineAmong.course(10, ends=20)
        assert timeline.spans_of(outer, [outer, inner]) == [
            (outer.window_start, inner.starts_at),
            (inner.ends_at, None),
        ]


@pytest.mark.parametrize(
    "instant,plausible",
    [
        (timeline.EARLIEST - MICRO, False),
        (timeline.EARLIEST, True),
        (timeline.LATEST - MICRO, True),
        (timeline.LATEST, False),
    ],
)
def test_plausible_times_run_from_the_earliest_up_to_the_latest(instant, plausible):
    assert timeline.plausible(instant) is plausible


class TestFollowUp:
    def completed_course(self) -> Course:
        course = Course(id=uuid.uuid4(), status="completed", induction_infusions=6)
        course.ends_at = T0 + dt.timedelta(days=20)
        return course

    def test_at_the_course_end_it_is_follow_up(self):
        course = self.completed_course()
        context = timeline.context_of(course.ends_at, course, given(0), GRACE)
        assert (context.phase, context.infusion_number) == ("follow_up", 1)

    def test_just_before_the_end_it_is_the_infusions_phase(self):
        course = self.completed_course()
        context = timeline.context_of(course.ends_at - MICRO, course, given(0), GRACE)
        assert context.phase == "induction"


class TestInChairGrace:
    @pytest.mark.parametrize(
        "after,counts", [(dt.timedelta(0), False), (GRACE, False), (GRACE + MICRO, True)]
    )
    def test_within_the_grace_the_infusion_is_still_ahead(self, after, counts):
        assert timeline.given_before(T0, T0 + after, GRACE) is counts

    @pytest.mark.parametrize("after,counts", [(-MICRO, False), (dt.timedelta(0), True)])
    def test_without_a_grace_at_or_before_counts(self, after, counts):
        assert timeline.given_before(T0, T0 + after, dt.timedelta(0)) is counts


class TestSpacing:
    def item(self, status="due", days=(0, 7)) -> schedule.DueItem:
        return schedule.DueItem(
            "phq9",
            "every_n_days",
            T0 + dt.timedelta(days=days[0]),
            T0 + dt.timedelta(days=days[1]),
            status,
            "Weekly PHQ-9",
        )

    def state_with_last(self, days_before: float) -> schedule.CourseState:
        last = check_in(at=T0 - dt.timedelta(days=days_before))
        return course_state(check_ins=[last])

    @pytest.mark.parametrize("days_before,status", [(7, "due"), (6.5, "upcoming")])
    def test_an_open_window_waits_for_seven_days(self, days_before, status):
        spaced = schedule.spaced(self.item(), self.state_with_last(days_before), T0, 7)
        assert spaced.status == status

    def test_a_window_shorter_than_the_wait_is_skipped_even_when_overdue(self):
        item = self.item(status="overdue", days=(0, 2))
        spaced = schedule.spaced(item, self.state_with_last(1), T0 + dt.timedelta(days=3), 7)
        assert spaced.status == "done"

    def test_a_skipped_window_says_why_and_names_the_check_in(self):
        state = self.state_with_last(1)  # Sunday 4 October
        item = self.item(status="overdue", days=(0, 2))
        spaced = schedule.spaced(item, state, T0 + dt.timedelta(days=3), 7)
        assert (spaced.status, spaced.check_in_id) == ("done", state.recent[0].id)
        assert spaced.reason == (
            "Weekly PHQ-9: not needed, one was completed Sunday (at most one in 7 days)"
        )

    def test_a_wait_ending_as_the_window_closes_leaves_it_open(self):
        """Answered at T0, the next may be answered at T0 + 7 days: the window's last instant."""
        spaced = schedule.spaced(self.item(), self.state_with_last(0), T0, 7)
        assert (spaced.status, spaced.due_from) == ("upcoming", T0 + dt.timedelta(days=7))

    def test_a_window_already_done_is_left_as_it_is(self):
        item = self.item(status="done")
        assert schedule.spaced(item, self.state_with_last(1), T0, 7) == item

    @pytest.mark.parametrize("days,refused", [(6, True), (7, False)])
    def test_the_plan_validator(self, days, refused):
        rule: schedule.PlanRule = {"questionnaire": "phq9", "type": "every_n_days", "days": days}
        assert (schedule.check_plan_rule(rule, 7) is not None) is refused
        assert schedule.check_plan_rule({**rule, "allow_short_interval": True}, 7) is None


class TestLockout:
    SETTINGS = identity.IdentitySettings(
        passwords=Passwords(time_cost=1, memory_kib=8, parallelism=1),
        tokens=TokenSettings(key="k" * 40, issuer="i", audience="a", lifetime_seconds=60),
        secret_key="k" * 40,
        refresh_idle=dt.timedelta(days=7),
        refresh_absolute=dt.timedelta(days=30),
        enrollment_lifetime=dt.timedelta(days=7),
        lockout_threshold=3,
        lockout_duration=dt.timedelta(minutes=15),
    )

    def test_the_threshold_locks(self):
        user = User(failed_logins=0, locked_until=None)
        locked = [identity.count_failure(user, self.SETTINGS, T0) for _ in range(3)]
        assert locked == [False, False, True]
        assert identity.is_locked(user, T0 + dt.timedelta(minutes=15) - MICRO)

    def test_the_counter_starts_again_after_a_lock_lifts(self):
        user = User(failed_logins=0, locked_until=None)
        for _ in range(3):
            identity.count_failure(user, self.SETTINGS, T0)
        after = T0 + dt.timedelta(minutes=15)
        assert not identity.is_locked(user, after)
        assert identity.count_failure(user, self.SETTINGS, after) is False
        assert user.failed_logins == 1


class TestFingerprint:
    def submission(self, **changes) -> Submission:
        base = Submission("phq9", {"1": 1, "9": 0}, T0)
        return dataclasses.replace(base, **changes)

    def test_the_time_of_completion_counts(self):
        assert body_hash(self.submission()) != body_hash(
            self.submission(completed_at=T0 + dt.timedelta(seconds=1))
        )

    def test_the_same_instant_in_another_offset_is_the_same(self):
        eastern = T0.astimezone(dt.timezone(dt.timedelta(hours=-5)))
        assert body_hash(self.submission()) == body_hash(self.submission(completed_at=eastern))

    @pytest.fixture(params=["UTC", "America/New_York", "Asia/Kolkata"])
    def machine_zone(self, request, monkeypatch):
        """The service's hosts may run in any local time zone."""
        monkeypatch.setenv("TZ", request.param)
        time.tzset()
        yield
        monkeypatch.undo()
        time.tzset()

    def test_it_is_the_sha256_of_one_written_form(self, machine_zone):
        """Fingerprints are stored with check-ins and compared after an upgrade and across hosts:
        the form they hash is fixed — keys sorted, no spaces, the time in UTC whatever the
        machine's zone."""
        written = (
            '{"answers":{"1":1,"9":0},"completed_at":"2026-10-05T14:00:00+00:00",'
            '"questionnaire":"phq9"}'
        )
        assert body_hash(self.submission()) == hashlib.sha256(written.encode()).hexdigest()

    def test_answers_count_but_not_their_order(self):
        assert body_hash(self.submission()) == body_hash(self.submission(answers={"9": 0, "1": 1}))
        assert body_hash(self.submission()) != body_hash(self.submission(answers={"1": 1, "9": 1}))


class TestLooseEndorsement:
    @pytest.mark.parametrize(
        "value,level_read",
        [
            (2, 2.0),
            ("2", 2.0),
            (" 1 ", 1.0),
            (2.0, 2.0),
            (True, 1.0),
            ("x", None),
            (None, None),
            (float("nan"), None),
            ("nan", None),
            (" inf ", None),
            ([1], None),
        ],
    )
    def test_levels(self, value, level_read):
        assert level(value) == level_read

    @pytest.mark.parametrize("value,endorsed", [(0, False), (1, True), ("0", False), (4, True)])
    def test_item_9(self, value, endorsed):
        flags = endorsed_safety_flags(REGISTRY["phq9"], {"9": value})
        assert (flags == ["suicidal_ideation"]) is endorsed

    def test_only_safety_flags_and_every_one_of_them(self):
        """A non-safety item flag listed first is neither reported nor the end of the look."""
        raw = copy.deepcopy(REGISTRY["phq9"].raw)
        low_interest = {
            "key": "low_interest",
            "label": "Little interest (item 1)",
            "rule": {"type": "item_at_least", "item": "1", "value": 1},
            "safety": False,
            "source": "A test flag.",
        }
        raw["flags"].insert(0, low_interest)
        definition = parse(raw)
        assert endorsed_safety_flags(definition, {"1": 3, "9": 1}) == ["suicidal_ideation"]


class TestDefaultPlans:
    """CLINICAL.md "Measurement and recall periods", spelled out."""

    @staticmethod
    def weekly(key: str, before: bool) -> list[dict]:
        rules: list[dict] = [{"questionnaire": key, "type": "at_baseline"}]
        if before:
            rules.append({"questionnaire": key, "type": "before_each_infusion", "window_hours": 48})
        rules.append(
            {
                "questionnaire": key,
                "type": "every_n_days",
                "days": 7,
                "phases": ["induction", "maintenance"],
            }
        )
        return rules

    def test_each_indication(self):
        assert schedule.default_plan(["depression"]) == self.weekly("phq9", before=True)
        assert schedule.default_plan(["anxiety"]) == self.weekly("gad7", before=True)
        assert schedule.default_plan(["ptsd"]) == self.weekly("pcl5", before=False)
        assert schedule.default_plan(["chronic_pain"]) == [
            {"questionnaire": "pain", "type": "every_n_days", "days": 1}
        ]

    def test_several_indications_in_order_without_repeats(self):
        assert schedule.default_plan(["depression", "chronic_pain", "depression"]) == [
            *self.weekly("phq9", before=True),
            {"questionnaire": "pain", "type": "every_n_days", "days": 1},
        ]


class TestAfterEachInfusion:
    RULE: schedule.PlanRule = {"questionnaire": "phq9", "type": "after_each_infusion"}

    def test_a_day_after_for_a_day_by_default(self):
        state = course_state(infusion_days=(0, 2))
        item = schedule.after_each_infusion(self.RULE, state, T0 + dt.timedelta(days=3), "PHQ-9")
        infusion = state.completed[1][1]
        assert (item.due_from, item.due_by) == (
            T0 + dt.timedelta(days=3),
            T0 + dt.timedelta(days=4),
        )
        assert item.infusion_id == infusion.id and item.status == "due"
        assert item.reason == "PHQ-9 24 hours after infusion 2 (Wednesday)"

    def test_offset_and_window_from_the_rule(self):
        rule: schedule.PlanRule = {**self.RULE, "offset_hours": 6, "window_hours": 12}
        state = course_state(infusion_days=(0,))
        item = schedule.after_each_infusion(rule, state, T0 + dt.timedelta(hours=7), "PHQ-9")
        assert (item.due_from, item.due_by) == (
            T0 + dt.timedelta(hours=6),
            T0 + dt.timedelta(hours=18),
        )
        assert item.reason.startswith("PHQ-9 6 hours after infusion 1 (")

    def test_nothing_before_the_first_infusion(self):
        state = course_state()
        assert schedule.after_each_infusion(self.RULE, state, T0, "PHQ-9") is None


def days(n: float) -> dt.timedelta:
    return dt.timedelta(days=n)


MIDNIGHT = dt.datetime(2026, 10, 5, tzinfo=dt.UTC)  # the course's first day, Monday 5 October


class TestAtBaseline:
    RULE: schedule.PlanRule = {"questionnaire": "phq9", "type": "at_baseline"}

    def test_due_from_the_start_until_the_first_scheduled_infusion(self):
        state = course_state(scheduled_days=(3, 5))
        item = schedule.at_baseline(self.RULE, state, T0, "PHQ-9")
        first = state.scheduled[0]
        assert (item.due_from, item.due_by, item.status) == (MIDNIGHT, T0 + days(3), "due")
        assert (item.infusion_id, item.check_in_id) == (first.id, None)
        assert item.reason == "PHQ-9 baseline, before infusion 1 on Thursday"

    def test_within_a_week_of_the_start_when_none_is_scheduled(self):
        item = schedule.at_baseline(self.RULE, course_state(), T0, "PHQ-9")
        # Until the last instant of Sunday 11 October, the seventh day.
        assert (item.due_from, item.due_by) == (MIDNIGHT, MIDNIGHT + days(7) - MICRO)
        assert (item.infusion_id, item.reason) == (
            None,
            "PHQ-9 baseline, before the first infusion",
        )

    def test_a_check_in_in_the_look_back_is_the_baseline(self):
        before = check_in(at=T0 - days(20))
        state = course_state(scheduled_days=(3,), check_ins=[before])
        item = schedule.at_baseline(self.RULE, state, T0, "PHQ-9")
        assert (item.status, item.check_in_id) == ("done", before.id)


class TestBeforeEachInfusion:
    RULE: schedule.PlanRule = {"questionnaire": "phq9", "type": "before_each_infusion"}

    def test_48_hours_before_the_next_infusion_by_default(self):
        state = course_state(scheduled_days=(3,))
        item = schedule.before_each_infusion(self.RULE, state, T0, "PHQ-9")
        assert (item.due_from, item.due_by, item.status) == (T0 + days(1), T0 + days(3), "upcoming")
        assert item.infusion_id == state.scheduled[0].id

    def test_the_window_from_the_rule(self):
        rule: schedule.PlanRule = {**self.RULE, "window_hours": 12}
        state = course_state(scheduled_days=(3,))
        item = schedule.before_each_infusion(rule, state, T0, "PHQ-9")
        assert item.due_from == T0 + days(3) - dt.timedelta(hours=12)

    @pytest.mark.parametrize(
        "after,listed", [(dt.timedelta(hours=24), True), (days(1) + MICRO, False)]
    )
    def test_an_unrecorded_infusion_stays_next_for_a_day(self, after, listed):
        state = course_state(scheduled_days=(0,))
        item = schedule.before_each_infusion(self.RULE, state, T0 + after, "PHQ-9")
        assert (item.status if item else None) == ("overdue" if listed else None)

    def test_an_infusion_left_on_the_schedule_past_its_day_keeps_its_number(self):
        """Given on day -4, one left scheduled on day 0 and never recorded, the next on
        Thursday: that one is the third."""
        state = course_state(infusion_days=(-4,), scheduled_days=(0, 3))
        item = schedule.before_each_infusion(self.RULE, state, T0 + days(2), "PHQ-9")
        assert (item.reason, item.infusion_id) == (
            "PHQ-9 before infusion 3 on Thursday",
            state.scheduled[1].id,
        )


class TestEveryNDays:
    RULE: schedule.PlanRule = {"questionnaire": "phq9", "type": "every_n_days", "days": 7}

    def test_a_window_ends_the_instant_before_the_next_begins(self):
        item = schedule.every_n_days(self.RULE, course_state(), T0, "PHQ-9")
        assert (item.due_from, item.due_by) == (MIDNIGHT, MIDNIGHT + days(7) - MICRO)

    def test_other_lengths_are_named_by_their_days(self):
        rule: schedule.PlanRule = {**self.RULE, "days": 3}
        item = schedule.every_n_days(rule, course_state(), T0, "PHQ-9")
        assert (item.reason, item.due_by) == ("Every-3-days PHQ-9", MIDNIGHT + days(3) - MICRO)

    def test_a_missed_window_is_named_by_its_first_day(self):
        item = schedule.every_n_days(self.RULE, course_state(), T0 + days(8), "PHQ-9")
        assert (item.status, item.reason) == (
            "overdue",
            "Weekly PHQ-9 missed (from Monday 5 October)",
        )


class TestCourseState:
    def test_an_infusion_counts_as_given_from_its_very_instant(self):
        state = course_state(infusion_days=(0,))
        assert state.last_given(T0) == state.completed[0]
        assert state.last_given(T0 - MICRO) is None

    def test_the_last_check_in_is_of_the_instrument_and_at_or_before_the_instant(self):
        older, other, now = (
            check_in("phq9", at=T0 - days(3)),
            check_in("gad7", at=T0 - days(1)),
            check_in("phq9", at=T0),
        )
        state = course_state(check_ins=[older, other, now])
        assert state.last_check_in("phq9", T0) is now
        assert state.last_check_in("phq9", T0 - MICRO) is older

    def test_a_window_holds_the_check_ins_at_both_its_ends(self):
        inside = check_in("phq9", at=T0)
        state = course_state(check_ins=[check_in("gad7", at=T0), inside])
        assert state.check_in_between("phq9", T0, T0) is inside
        assert state.check_in_between("phq9", T0 - days(2), T0 - MICRO) is None
        assert state.check_in_between("phq9", T0 + MICRO, T0 + days(2)) is None

    def test_answered_at_the_very_instant_of_the_infusion_counts_before_it(self):
        answered = check_in(at=T0 + days(3))
        state = course_state(scheduled_days=(3,), check_ins=[answered])
        rule: schedule.PlanRule = {"questionnaire": "phq9", "type": "before_each_infusion"}
        item = schedule.before_each_infusion(rule, state, T0 + days(3), "PHQ-9")
        assert (item.status, item.check_in_id) == ("done", answered.id)


class TestWhatTheSpacingSpares:
    """The 7-day spacing skips a window when the instrument was answered days ago; not the
    baseline, nor a rule that says `allow_short_interval` (decisions.md)."""

    def test_a_re_induction_asks_its_own_baseline_days_after_the_last_course_had_one(self):
        # Answered three days ago for the course before: not this course's, yet recent.
        earlier = check_in(at=T0 - days(3))
        state = dataclasses.replace(course_state(scheduled_days=(3,)), recent=[earlier])
        rule: schedule.PlanRule = {"questionnaire": "phq9", "type": "at_baseline"}
        item = schedule.evaluate_rule(rule, state, REGISTRY, T0)
        assert (item.status, item.check_in_id) == ("due", None)

    def test_a_rule_allowing_a_short_interval_asks_again_within_the_week(self):
        state = course_state(check_ins=[check_in(at=T0)])
        rule: schedule.PlanRule = {"questionnaire": "phq9", "type": "every_n_days", "days": 3}
        allowed = {**rule, "allow_short_interval": True}
        # The second three-day window opens on Thursday, three days after Monday's PHQ-9.
        assert schedule.evaluate_rule(allowed, state, REGISTRY, T0 + days(3)).status == "due"
        assert schedule.evaluate_rule(rule, state, REGISTRY, T0 + days(3)).status == "done"


def test_the_next_close_looks_past_a_window_already_done():
    """Rated today, the daily rating is next due by the end of tomorrow."""
    state = course_state(check_ins=[check_in("pain", at=T0 - dt.timedelta(hours=1))])
    plan: list[schedule.PlanRule] = [{"questionnaire": "pain", "type": "every_n_days", "days": 1}]
    assert schedule.next_due_by(state, REGISTRY, plan, T0) == MIDNIGHT + days(2) - MICRO


def test_the_next_close_looks_past_an_infusion_left_on_the_schedule():
    """Answered before infusion 1, which then stays unrecorded: the next close is infusion 2's,
    not nothing (the day's grace keeps infusion 1 next for a day after its time)."""
    state = course_state(scheduled_days=(3, 10), check_ins=[check_in("phq9", at=T0 + days(2))])
    plan: list[schedule.PlanRule] = [{"questionnaire": "phq9", "type": "before_each_infusion"}]
    assert schedule.next_due_by(state, REGISTRY, plan, T0 + days(2.5)) == T0 + days(10)
    answered_twice = course_state(
        scheduled_days=(3, 10, 17),
        check_ins=[check_in("phq9", at=T0 + days(2)), check_in("phq9", at=T0 + days(9))],
    )
    assert schedule.next_due_by(answered_twice, REGISTRY, plan, T0 + days(2.5)) == T0 + days(17)


@pytest.mark.parametrize(
    "df,published",
    # Student's t, two-sided 95 %: the table to 30 degrees of freedom, beyond it the exact
    # quantiles, which the expansion meets to within 0.0001 from 31 on.
    [
        (1, 12.706),
        (10, 2.228),
        (30, 2.042),
        (31, 2.039513),
        (40, 2.021075),
        (60, 2.000298),
        (120, 1.979930),
    ],
)
def test_t_quantiles_match_the_table(df, published):
    assert outcomes.t_quantile(df) == pytest.approx(published, abs=0.0001)


def test_a_mean_interval_needs_two_and_is_a_point_without_spread():
    assert outcomes.mean_interval(1, 5.0, 25.0) is None
    assert outcomes.mean_interval(2, 10.0, 52.0) == (5.0, -7.7, 17.7)  # variance 2, t = 12.706
    assert outcomes.mean_interval(3, 15.0, 75.0) == (5.0, 5.0, 5.0)


class TestWithholding:
    ON = outcomes.Withholding(active=True)

    def test_one_to_four_patients_are_withheld_none_is_not(self):
        assert [self.ON(n) for n in (0, 1, 4, 5)] == [0, None, None, 5]
        assert outcomes.Withholding(active=False)(1) == 1

    def test_a_rate_is_withheld_when_either_side_is_few(self):
        assert self.ON.rate(0, 10) == outcomes.Rate(10, 0.0)
        assert self.ON.rate(7, 9) == outcomes.Rate(9, None)  # two did not respond
        assert self.ON.rate(2, 9) == outcomes.Rate(9, None)
        assert self.ON.rate(5, 10) == outcomes.Rate(10, 0.5)
        assert self.ON.rate(3, 4) == outcomes.Rate(None, None)

    def test_a_second_band_hides_the_one_hidden_band_from_a_total_shown(self):
        assert self.ON.bands({"mild": 3, "severe": 6, "moderate": 8}, total_shown=True) == {
            "mild": None,
            "severe": None,
            "moderate": 8,
        }
        assert self.ON.bands({"mild": 3, "severe": 6}, total_shown=False) == {
            "mild": None,
            "severe": 6,
        }
        assert self.ON.bands({"mild": 3}, total_shown=True) == {"mild": None}


def test_the_domain_refuses_a_role_itself_whatever_the_route_checked():
    """The domain stands alone: a caller whose role may not is refused there too."""
    patient = Actor(uuid.uuid4(), "patient", uuid.uuid4(), patient_id=uuid.uuid4())
    with pytest.raises(Forbidden) as refused:
        access.require_role(patient, "clinician", "clinic_admin")
    assert refused.value.detail == "Your role may not do this."
    access.require_role(patient, "patient")


@pytest.mark.parametrize(
    ("given", "shown"), [("Patient not found.", "Patient not found."), (None, "Not found")]
)
def test_a_domain_errors_message_is_its_detail_or_else_its_title(given, shown):
    """What a log or a traceback shows of a domain error is the detail a client reads."""
    error = NotFound(given)
    assert (str(error), error.detail) == (shown, shown)


@pytest.mark.parametrize(
    ("days", "words"),
    [(0, "Monday"), (6, "Sunday"), (-6, "Tuesday"), (7, "12 October"), (-7, "28 September")],
)
def test_a_day_within_six_is_named_by_its_weekday_else_by_its_date(days, words):
    """T0 is Monday 5 October 2026: the coming and the past six days by name, then dates."""
    state = course_state()
    assert state.day_words(T0 + dt.timedelta(days=days), T0) == words


def test_the_phase_is_baseline_before_any_infusion_and_follows_an_override():
    state = course_state(induction=6, infusion_days=(0,))
    assert state.phase_at(T0 - dt.timedelta(hours=1)) == "baseline"
    assert state.phase_at(T0 + dt.timedelta(hours=1)) == "induction"
    state.completed[0][1].phase_override = "maintenance"
    assert state.phase_at(T0 + dt.timedelta(hours=1)) == "maintenance"


def test_days_between_are_days_of_24_hours_to_a_tenth():
    start = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
    # 1.35 days: a second more per day would make it 1.3; a hundredth more precision, 1.35.
    assert timeline.days_between(start, start + dt.timedelta(seconds=116_640)) == 1.4
    assert timeline.days_between(start, start + dt.timedelta(days=3, hours=3)) == 3.1


class TestCompletedAt:
    """A completion time's refusals, word for word (the domain's own, beside the schema's)."""

    def test_a_time_without_an_offset(self):
        with pytest.raises(Invalid) as refused:
            check_completed_at(T0.replace(tzinfo=None), T0)
        assert refused.value.errors == {"completed_at": ["Give a time with an offset."]}

    def test_more_than_five_minutes_ahead(self):
        assert check_completed_at(T0 + dt.timedelta(minutes=5), T0) is False
        with pytest.raises(Invalid) as refused:
            check_completed_at(T0 + dt.timedelta(minutes=5, microseconds=1), T0)
        assert refused.value.errors == {
            "completed_at": ["Must not be more than 5 minutes in the future."]
        }
