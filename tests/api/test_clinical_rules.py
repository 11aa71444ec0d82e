"""Clinical rules corrected against CLINICAL.md: deterioration after the baseline only, sustained
pain, the PCL-5 threshold, course spans and the in-chair grace, measurement plans, the inbox."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from api.ratelimit import RateLimits
from tests.conftest import check_in_body

DAY1 = dt.datetime(2026, 10, 5, 14, 0, tzinfo=dt.UTC)
PHQ9_8 = {"i1": 2, "i2": 2, "i3": 2, "i4": 2}
PHQ9_14 = {"i1": 3, "i2": 3, "i3": 3, "i4": 3, "i5": 2}
PHQ9_15 = {"i1": 3, "i2": 3, "i3": 3, "i4": 3, "i5": 3}


def at(days: float, minutes: float = 0) -> str:
    return (DAY1 + dt.timedelta(days=days, minutes=minutes)).isoformat()


def inbox(client, auth, who) -> list[dict]:
    return client.get("/v1/alerts", headers=auth(who)).get_json()["items"]


def kinds(client, auth, who) -> list[tuple[str, str]]:
    return [(a["kind"], a["priority"]) for a in inbox(client, auth, who)]


def pcl5(total: int) -> dict:
    """PCL-5 answers summing to `total`, spread over the items (at most 4 each)."""
    values = [min(4, max(0, total - 4 * i)) for i in range(20)]
    return {f"i{i + 1}": v for i, v in enumerate(values)}


class TestReliableDeterioration:
    def test_only_check_ins_completed_after_the_baseline_are_compared(
        self, client, auth, course_api, patient, submit, clinician
    ):
        course = course_api.start(patient)
        submit(patient, check_in_body(completed_at=at(-1), **PHQ9_8))
        course_api.infuse(course, at(0))
        # Synced late: completed before the baseline, 7 points worse than it.
        submit(patient, check_in_body(completed_at=at(-2), **PHQ9_15))
        assert kinds(client, auth, clinician) == []
        submit(patient, check_in_body(completed_at=at(3), **PHQ9_14))
        assert kinds(client, auth, clinician) == [("reliable_deterioration", "high")]

    def test_the_alert_names_the_baseline_it_compared_with(
        self, client, auth, course_api, patient, submit, clinician
    ):
        course = course_api.start(patient)
        baseline = submit(patient, check_in_body(completed_at=at(-1), **PHQ9_8)).get_json()
        course_api.infuse(course, at(0))
        submit(patient, check_in_body(completed_at=at(2), **PHQ9_14))
        [alert] = inbox(client, auth, clinician)
        assert alert["baseline"] == {
            "check_in_id": baseline["id"],
            "total": 8,
            "source": "pre_infusion",
        }

    def test_a_first_available_baseline_gives_a_normal_priority_alert(
        self, client, auth, course_api, patient, submit, clinician
    ):
        course = course_api.start(patient)
        course_api.infuse(course, at(0))
        first = submit(patient, check_in_body(completed_at=at(1), **PHQ9_8)).get_json()
        submit(patient, check_in_body(completed_at=at(5), **PHQ9_14))
        [alert] = inbox(client, auth, clinician)
        assert (alert["priority"], alert["baseline"]["source"]) == ("normal", "first_available")
        assert alert["baseline"]["check_in_id"] == first["id"]

    def test_a_merged_trigger_against_a_better_baseline_raises_the_priority(
        self, client, auth, course_api, patient, submit, clinician
    ):
        course = course_api.start(patient)
        course_api.infuse(course, at(0))
        submit(patient, check_in_body(completed_at=at(1), **PHQ9_8))
        submit(patient, check_in_body(completed_at=at(5), **PHQ9_14))
        assert kinds(client, auth, clinician) == [("reliable_deterioration", "normal")]
        # A pre-infusion check-in synced late becomes the baseline; the next trigger is high.
        pre = submit(patient, check_in_body(completed_at=at(-1), **PHQ9_8)).get_json()
        submit(patient, check_in_body(completed_at=at(7), **PHQ9_14))
        [alert] = inbox(client, auth, clinician)
        assert (alert["priority"], alert["occurrence_count"]) == ("high", 2)
        assert alert["baseline"] == {"check_in_id": pre["id"], "total": 8, "source": "pre_infusion"}

    @pytest.mark.parametrize("worse_by,alerted", [(14, False), (15, True)])
    def test_pcl5_reliable_change_is_15_points(
        self, client, auth, course_api, patient, submit, clinician, worse_by, alerted
    ):
        course = course_api.start(patient, indications=["ptsd"])
        submit(patient, check_in_body("pcl5", completed_at=at(-1), **pcl5(20)))
        course_api.infuse(course, at(0))
        submit(patient, check_in_body("pcl5", completed_at=at(7), **pcl5(20 + worse_by)))
        expected = [("reliable_deterioration", "high")] if alerted else []
        assert kinds(client, auth, clinician) == expected


class TestSustainedPain:
    @pytest.fixture
    def pain_course(self, course_api, patient, submit):
        course = course_api.start(patient, indications=["chronic_pain"])
        submit(patient, check_in_body("pain", completed_at=at(-1), i1=3))
        course_api.infuse(course, at(0))
        return course

    def rate(self, submit, patient, day: float, value: int):
        submit(patient, check_in_body("pain", completed_at=at(day), i1=value))

    def test_three_ratings_on_three_days_each_2_above_baseline_alert(
        self, client, auth, pain_course, patient, submit, clinician
    ):
        self.rate(submit, patient, 1, 5)
        self.rate(submit, patient, 2, 6)
        assert kinds(client, auth, clinician) == []
        self.rate(submit, patient, 3, 5)
        assert kinds(client, auth, clinician) == [("reliable_deterioration", "high")]

    def test_one_rating_below_the_margin_does_not(
        self, client, auth, pain_course, patient, submit, clinician
    ):
        for day, value in ((1, 5), (2, 4), (3, 9)):
            self.rate(submit, patient, day, value)
        assert kinds(client, auth, clinician) == []

    def test_three_ratings_within_two_days_do_not(
        self, client, auth, pain_course, patient, submit, clinician
    ):
        for day in (1, 1.2, 2):
            self.rate(submit, patient, day, 8)
        assert kinds(client, auth, clinician) == []

    def test_three_dates_within_a_day_do_not(
        self, client, auth, pain_course, patient, submit, clinician
    ):
        # 23:59 on the 7th, noon on the 8th, 00:01 on the 9th, in the patient's own time.
        for when in (
            "2026-10-07T23:59:00-04:00",
            "2026-10-08T12:00:00-04:00",
            "2026-10-09T00:01:00-04:00",
        ):
            submit(patient, check_in_body("pain", completed_at=when, i1=8))
        assert kinds(client, auth, clinician) == []

    def test_one_very_bad_day_does_not(self, client, auth, pain_course, patient, submit, clinician):
        self.rate(submit, patient, 1, 10)
        assert kinds(client, auth, clinician) == []

    def test_another_patients_ratings_do_not_count(
        self, client, auth, pain_course, patient, submit, clinician, make_patient, clinic
    ):
        other = make_patient(clinic, care_team=(clinician,))
        for day in (1, 2):
            self.rate(submit, other, day, 9)
        self.rate(submit, patient, 3, 5)
        assert kinds(client, auth, clinician) == []

    def test_another_instruments_totals_do_not_count(
        self, client, auth, pain_course, patient, submit, clinician
    ):
        for day in (1, 2):
            submit(patient, check_in_body(completed_at=at(day), **PHQ9_8))
        self.rate(submit, patient, 3, 5)
        assert kinds(client, auth, clinician) == []

    def test_ratings_entered_in_error_do_not_count(
        self, client, auth, pain_course, patient, submit, clinician
    ):
        for day in (1, 2):
            wrong = submit(patient, check_in_body("pain", completed_at=at(day), i1=8)).get_json()
            client.post(
                f"/v1/check-ins/{wrong['id']}/entered-in-error",
                json={"reason": "Rated the wrong day"},
                headers=auth(clinician),
            )
        self.rate(submit, patient, 3, 5)
        assert kinds(client, auth, clinician) == []

    def test_the_latest_ratings_are_the_latest_completed_whatever_their_ids(
        self, client, auth, course_api, patient, submit, clinician
    ):
        # The ratings before the course sort last by time and first by id.
        course = course_api.start(patient, indications=["chronic_pain"])
        for n, day in enumerate((-3, -2, -1), start=1):
            high = f"ffffffff-ffff-4fff-bfff-fffffffffff{n}"
            submit(patient, check_in_body("pain", completed_at=at(day), id=high, i1=3))
        course_api.infuse(course, at(0))
        for n, day in enumerate((1, 2, 3), start=1):
            low = f"00000000-0000-4000-8000-00000000000{n}"
            submit(patient, check_in_body("pain", completed_at=at(day), id=low, i1=5))
        assert kinds(client, auth, clinician) == [("reliable_deterioration", "high")]

    def test_pain_definition_has_no_reliable_change_threshold(self, client):
        change = client.get("/v1/questionnaires/pain").get_json()["change"]
        assert change["reliable_change"] is None
        assert change["sustained_deterioration"]["ratings"] == 3


class TestCourseSpans:
    def test_a_check_in_inside_a_course_stays_with_it_within_the_next_look_back(
        self, client, auth, course_api, patient, submit, clinician
    ):
        first = course_api.start(patient, started_on="2026-10-05")
        course_api.infuse(first, at(0))
        course_api.complete(first, "2026-10-20")
        second = course_api.start(patient, started_on="2026-11-05")
        inside_first = submit(patient, check_in_body(completed_at="2026-10-15T12:00:00+00:00"))
        between = submit(patient, check_in_body(completed_at="2026-10-25T12:00:00+00:00"))
        assert inside_first.get_json()["context"]["course_id"] == first["id"]
        assert inside_first.get_json()["context"]["phase"] == "induction"
        assert between.get_json()["context"]["course_id"] == second["id"]
        assert between.get_json()["context"]["phase"] == "baseline"


class TestInChairGrace:
    @pytest.mark.parametrize(
        "minutes,number", [(0, None), (10, None), (15, None), (15.1, 1), (120, 1)]
    )
    def test_a_check_in_just_after_the_start_counts_as_before_the_infusion(
        self, course_api, patient, submit, minutes, number
    ):
        course = course_api.start(patient)
        course_api.infuse(course, at(0))
        check_in = submit(patient, check_in_body(completed_at=at(0, minutes))).get_json()
        assert check_in["context"]["infusion_number"] == number

    def test_the_grace_is_configurable(self, app, course_api, patient, submit, monkeypatch):
        no_grace = dataclasses.replace(
            app.extensions["interval.rules"], in_chair_grace=dt.timedelta(0)
        )
        monkeypatch.setitem(app.extensions, "interval.rules", no_grace)
        course = course_api.start(patient)
        course_api.infuse(course, at(0))
        check_in = submit(patient, check_in_body(completed_at=at(0, 1))).get_json()
        assert check_in["context"]["infusion_number"] == 1

    def test_without_a_grace_a_check_in_at_the_infusion_counts_after_it(
        self, app, course_api, patient, submit, monkeypatch
    ):
        no_grace = dataclasses.replace(
            app.extensions["interval.rules"], in_chair_grace=dt.timedelta(0)
        )
        monkeypatch.setitem(app.extensions, "interval.rules", no_grace)
        course = course_api.start(patient)
        course_api.infuse(course, at(0))
        check_in = submit(patient, check_in_body(completed_at=at(0))).get_json()
        assert check_in["context"]["infusion_number"] == 1

    def test_a_baseline_filled_in_the_chair_is_pre_infusion(self, course_api, patient, submit):
        course = course_api.start(patient)
        course_api.infuse(course, at(0))
        chair = submit(patient, check_in_body(completed_at=at(0, 10), **PHQ9_8)).get_json()
        [baseline] = course_api.course(course).get_json()["baselines"]
        assert (baseline["check_in_id"], baseline["source"]) == (chair["id"], "pre_infusion")

    @pytest.mark.parametrize("days_after,acute", [(1, True), (2.9, True), (3, True), (3.1, False)])
    def test_a_first_available_baseline_within_72_hours_is_marked_acute(
        self, course_api, patient, submit, days_after, acute
    ):
        course = course_api.start(patient)
        course_api.infuse(course, at(0))
        submit(patient, check_in_body(completed_at=at(days_after), **PHQ9_8))
        [baseline] = course_api.course(course).get_json()["baselines"]
        assert (baseline["source"], baseline["acute_effect"]) == ("first_available", acute)


def due_items(client, auth, patient, when: str) -> list[tuple]:
    body = client.get(
        f"/v1/patients/{patient.id}/due", query_string={"at": when}, headers=auth(patient)
    ).get_json()
    return [(i["questionnaire"], i["rule"], i["status"]) for i in body["items"]]


class TestDefaultPlans:
    def test_a_baseline_is_due_as_soon_as_the_course_starts(
        self, client, auth, course_api, patient
    ):
        course_api.start(patient, started_on="2026-10-05")
        assert due_items(client, auth, patient, "2026-10-05T13:00:00Z") == [
            ("phq9", "at_baseline", "due")
        ]

    def test_a_check_in_in_the_look_back_is_the_baseline(
        self, client, auth, course_api, patient, submit
    ):
        submit(patient, check_in_body(completed_at="2026-09-30T12:00:00Z"))
        course_api.start(patient, started_on="2026-10-05")
        assert due_items(client, auth, patient, "2026-10-05T13:00:00Z") == [
            ("phq9", "at_baseline", "done")
        ]

    def test_a_check_in_of_the_previous_course_is_not_this_ones_baseline(
        self, client, auth, course_api, patient, submit, clinician
    ):
        first = course_api.start(patient, started_on="2026-10-05")
        course_api.infuse(first, at(0))
        submit(patient, check_in_body(completed_at="2026-10-15T12:00:00Z"))
        course_api.complete(first, "2026-10-20")
        course_api.start(patient, started_on="2026-11-05")
        assert due_items(client, auth, patient, "2026-11-05T15:00:00Z") == [
            ("phq9", "at_baseline", "due")
        ]

    def test_a_skipped_item_stays_skipped_after_the_infusion_time(
        self, client, auth, course_api, patient, submit
    ):
        course = course_api.start(patient, started_on="2026-10-05")
        submit(patient, check_in_body(completed_at=at(-0.5)))
        course_api.infuse(course, at(0))
        course_api.schedule(course, at(3))
        items = due_items(client, auth, patient, at(3.2))
        assert ("phq9", "before_each_infusion", "done") in items

    def test_weekly_measurement_starts_with_the_first_infusion(
        self, client, auth, course_api, patient
    ):
        course = course_api.start(patient, started_on="2026-10-05")
        course_api.infuse(course, at(0))
        items = due_items(client, auth, patient, at(1))
        assert ("phq9", "every_n_days", "due") in items
        assert all(rule != "at_baseline" for _, rule, _ in items)

    def test_before_an_infusion_is_skipped_after_one_in_the_last_7_days(
        self, client, auth, course_api, patient, submit
    ):
        course = course_api.start(patient, started_on="2026-10-05")
        submit(patient, check_in_body(completed_at=at(-0.5)))
        course_api.infuse(course, at(0))
        course_api.schedule(course, at(3))
        items = due_items(client, auth, patient, at(2))
        assert ("phq9", "before_each_infusion", "done") in items
        # The first week's window stays open, from 7 days after that check-in.
        assert ("phq9", "every_n_days", "upcoming") in items

    def test_a_window_opens_7_days_after_the_last_one(
        self, client, auth, course_api, patient, submit
    ):
        course = course_api.start(patient, started_on="2026-10-05")
        course_api.infuse(course, at(0))
        submit(patient, check_in_body(completed_at=at(6)))  # last day of the first week
        body = client.get(
            f"/v1/patients/{patient.id}/due", query_string={"at": at(8)}, headers=auth(patient)
        ).get_json()
        [weekly] = [i for i in body["items"] if i["rule"] == "every_n_days"]
        assert weekly["status"] == "upcoming"
        assert dt.datetime.fromisoformat(weekly["due_from"]) == DAY1 + dt.timedelta(days=13)
        assert "at most one in 7 days" in weekly["reason"]

    def test_pain_is_asked_daily_regardless(self, client, auth, course_api, patient, submit):
        course_api.start(patient, indications=["chronic_pain"], started_on="2026-10-05")
        submit(patient, check_in_body("pain", completed_at=at(0), i1=3))
        assert due_items(client, auth, patient, at(1)) == [("pain", "every_n_days", "due")]


class TestPlanValidator:
    def start(self, client, auth, clinician, patient, rule):
        return client.post(
            f"/v1/patients/{patient.id}/courses",
            headers=auth(clinician),
            json={"indications": ["depression"], "started_on": "2026-10-05", "plan": [rule]},
        )

    @pytest.mark.parametrize("key", ["phq9", "gad7", "pcl5"])
    def test_more_often_than_weekly_is_refused(self, client, auth, clinician, patient, key):
        rule = {"questionnaire": key, "type": "every_n_days", "days": 6}
        response = self.start(client, auth, clinician, patient, rule)
        assert response.status_code == 422
        assert "plan.0.days" in response.get_json()["errors"]

    def test_unless_the_plan_allows_it(self, client, auth, clinician, patient):
        rule = {
            "questionnaire": "phq9",
            "type": "every_n_days",
            "days": 3,
            "allow_short_interval": True,
        }
        assert self.start(client, auth, clinician, patient, rule).status_code == 201

    def test_weekly_and_daily_pain_are_fine(self, client, auth, clinician, patient):
        weekly = {"questionnaire": "phq9", "type": "every_n_days", "days": 7}
        assert self.start(client, auth, clinician, patient, weekly).status_code == 201


class TestInbox:
    def test_an_item_9_alert_shows_the_answer_level(self, client, auth, submit, patient, clinician):
        submit(patient, check_in_body(i9=2))
        [alert] = inbox(client, auth, clinician)
        assert alert["answer"] == {"item": "9", "value": 2, "label": "More than half the days"}
        assert alert["occurrences"][0]["answer"]["value"] == 2

    def test_a_severe_symptoms_alert_shows_no_item_answer(
        self, client, auth, submit, patient, clinician
    ):
        submit(patient, check_in_body(**PHQ9_15, i6=3, i9=2))  # 20, item 9 endorsed
        alerts = {a["kind"]: a for a in inbox(client, auth, clinician)}
        assert alerts["suicidal_ideation"]["answer"]["value"] == 2
        assert alerts["severe_symptoms"]["answer"] is None
        assert alerts["severe_symptoms"]["occurrences"][0]["answer"] is None

    def test_a_merged_alert_shows_the_highest_answer(
        self, client, auth, submit, patient, clinician
    ):
        for level in (1, 3, 2):
            submit(patient, check_in_body(i9=level))
        [alert] = inbox(client, auth, clinician)
        assert alert["answer"]["value"] == 3
        assert [o["answer"]["value"] for o in alert["occurrences"]] == [1, 3, 2]

    def test_a_merged_occurrence_moves_an_alert_up(
        self, client, auth, submit, patient, make_patient, clinic, clinician
    ):
        other = make_patient(clinic, care_team=(clinician,))
        severe = {"i1": 3, "i2": 3, "i3": 3, "i4": 3, "i5": 3, "i6": 3, "i7": 2}
        submit(patient, check_in_body(**severe))
        submit(other, check_in_body(**severe))
        first = [a["patient_id"] for a in inbox(client, auth, clinician)]
        assert first == [str(other.id), str(patient.id)]
        submit(patient, check_in_body(**severe, i8=1))
        again = [a["patient_id"] for a in inbox(client, auth, clinician)]
        assert again == [str(patient.id), str(other.id)]

    def test_urgent_alerts_merge_within_a_day_and_not_after(
        self, clock, client, auth, submit, patient, clinician
    ):
        submit(patient, check_in_body(i9=1))
        clock.advance(hours=24, seconds=-1)
        submit(patient, check_in_body(i9=1))
        clock.advance(seconds=1)
        submit(patient, check_in_body(i9=1))
        alerts = inbox(client, auth, clinician)
        assert [(a["kind"], a["occurrence_count"]) for a in alerts] == [
            ("suicidal_ideation", 1),
            ("suicidal_ideation", 2),
        ]

    def test_an_acknowledged_urgent_alert_is_not_merged_into(
        self, client, auth, submit, patient, clinician
    ):
        submit(patient, check_in_body(i9=1))
        [alert] = inbox(client, auth, clinician)
        client.post(f"/v1/alerts/{alert['id']}/acknowledge", json={}, headers=auth(clinician))
        submit(patient, check_in_body(i9=1))
        assert len(inbox(client, auth, clinician)) == 2


class TestCheckInRateLimit:
    @pytest.fixture
    def three_an_hour(self, app, monkeypatch):
        limits = RateLimits(
            storage_uri="memory://",
            per_address="1000/minute",
            per_account="1000/minute",
            check_ins="3/hour",
        )
        monkeypatch.setitem(app.extensions, "interval.rate_limits", limits)

    def test_submissions_beyond_the_allowance_answer_429(self, three_an_hour, submit, patient):
        statuses = [submit(patient, check_in_body(i1=n)).status_code for n in range(4)]
        refused = submit(patient, check_in_body(i9=1))
        assert statuses == [201, 201, 201, 429]
        assert int(refused.headers["Retry-After"]) > 0
        assert refused.get_json()["safety"]["answers_sent"] is False

    def test_a_batch_counts_its_items(self, three_an_hour, client, auth, submit, patient):
        submit(patient, check_in_body(i1=1))
        response = client.post(
            f"/v1/patients/{patient.id}/check-ins/batch",
            json={"check_ins": [check_in_body(i1=2), check_in_body(i1=3), check_in_body(i1=0)]},
            headers=auth(patient),
        )
        assert response.status_code == 429

    def test_the_allowance_is_per_patient(
        self, three_an_hour, submit, patient, make_patient, clinic
    ):
        for n in range(3):
            submit(patient, check_in_body(i1=n))
        assert submit(make_patient(clinic), check_in_body()).status_code == 201
