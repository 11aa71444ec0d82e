"""What is due: each rule type, in the patient's time zone, across daylight-saving changes."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import check_in_body

NY = "America/New_York"
BEFORE_EACH = [{"questionnaire": "phq9", "type": "before_each_infusion", "window_hours": 48}]
WEEKLY_PCL5 = [{"questionnaire": "pcl5", "type": "every_n_days", "days": 7}]


@pytest.fixture
def ny_patient(make_patient, clinic, clinician):
    return make_patient(clinic, care_team=(clinician,), timezone=NY)


def due(client, auth, patient, at: str, who=None) -> dict:
    response = client.get(
        f"/v1/patients/{patient.id}/due", query_string={"at": at}, headers=auth(who or patient)
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def only(body: dict) -> dict:
    [item] = body["items"]
    return item


class TestBeforeEachInfusion:
    @pytest.fixture
    def course(self, course_api, ny_patient):
        course = course_api.start(ny_patient, started_on="2026-11-02", plan=BEFORE_EACH)
        course_api.schedule(course, "2026-11-05T10:00:00-05:00")  # Thursday
        return course

    def test_upcoming_due_overdue(self, client, auth, ny_patient, course):
        monday = only(due(client, auth, ny_patient, "2026-11-02T12:00:00-05:00"))
        assert monday["status"] == "upcoming"
        assert monday["reason"] == "PHQ-9 before infusion 1 on Thursday"
        assert (monday["due_from"], monday["due_by"]) == (
            "2026-11-03T10:00:00-05:00",
            "2026-11-05T10:00:00-05:00",
        )
        assert only(due(client, auth, ny_patient, "2026-11-04T09:00:00-05:00"))["status"] == "due"
        late = only(due(client, auth, ny_patient, "2026-11-05T11:00:00-05:00"))
        assert late["status"] == "overdue"

    def test_a_check_in_in_the_window_completes_it(self, client, auth, ny_patient, course, submit):
        check_in = submit(
            ny_patient, check_in_body(completed_at="2026-11-04T09:30:00-05:00")
        ).get_json()
        item = only(due(client, auth, ny_patient, "2026-11-04T10:00:00-05:00"))
        assert (item["status"], item["check_in_id"]) == ("done", check_in["id"])

    def test_a_check_in_of_another_instrument_does_not(
        self, client, auth, ny_patient, course, submit
    ):
        submit(ny_patient, check_in_body("gad7", completed_at="2026-11-04T09:30:00-05:00"))
        assert only(due(client, auth, ny_patient, "2026-11-04T10:00:00-05:00"))["status"] == "due"

    def test_numbers_count_completed_infusions(self, client, auth, ny_patient, course_api, course):
        course_api.infuse(course, "2026-11-03T10:00:00-05:00")
        item = only(due(client, auth, ny_patient, "2026-11-04T09:00:00-05:00"))
        assert item["reason"] == "PHQ-9 before infusion 2 on Thursday"

    def test_window_crossing_the_end_of_daylight_saving(self, client, auth, ny_patient, course_api):
        course = course_api.start(ny_patient, started_on="2026-10-26", plan=BEFORE_EACH)
        course_api.schedule(course, "2026-11-02T10:00:00-05:00")
        item = only(due(client, auth, ny_patient, "2026-10-31T12:00:00-04:00"))
        # 48 real hours: the clock went back an hour on Sunday 1 November, so the window
        # opens at 11:00 EDT, not 10:00.
        assert (item["due_from"], item["due_by"]) == (
            "2026-10-31T11:00:00-04:00",
            "2026-11-02T10:00:00-05:00",
        )
        assert item["status"] == "due"


class TestAfterEachInfusion:
    @pytest.fixture
    def course(self, course_api, ny_patient):
        course = course_api.start(
            ny_patient,
            started_on="2026-11-02",
            plan=[
                {
                    "questionnaire": "phq9",
                    "type": "after_each_infusion",
                    "offset_hours": 24,
                    "window_hours": 24,
                }
            ],
        )
        course_api.infuse(course, "2026-11-03T10:00:00-05:00")
        return course

    @pytest.mark.parametrize(
        "at,status",
        [
            ("2026-11-03T22:00:00-05:00", "upcoming"),
            ("2026-11-04T16:00:00-05:00", "due"),
            ("2026-11-05T12:00:00-05:00", "overdue"),
        ],
    )
    def test_window(self, client, auth, ny_patient, course, at, status):
        item = only(due(client, auth, ny_patient, at))
        assert item["status"] == status
        assert (item["due_from"], item["due_by"]) == (
            "2026-11-04T10:00:00-05:00",
            "2026-11-05T10:00:00-05:00",
        )
        assert item["reason"] == "PHQ-9 24 hours after infusion 1 (Tuesday)"

    def test_done(self, client, auth, ny_patient, course, submit):
        submit(ny_patient, check_in_body(completed_at="2026-11-04T12:00:00-05:00"))
        assert only(due(client, auth, ny_patient, "2026-11-05T12:00:00-05:00"))["status"] == (
            "done"
        )


class TestEveryNDays:
    def test_a_week_across_daylight_saving_is_seven_local_days(
        self, client, auth, ny_patient, course_api
    ):
        course_api.start(ny_patient, started_on="2026-10-29", plan=WEEKLY_PCL5)
        item = only(due(client, auth, ny_patient, "2026-10-30T12:00:00Z"))
        assert (item["rule"], item["status"], item["reason"]) == (
            "every_n_days",
            "due",
            "Weekly PCL-5",
        )
        start = dt.datetime.fromisoformat(item["due_from"])
        end = dt.datetime.fromisoformat(item["due_by"])
        assert item["due_from"] == "2026-10-29T00:00:00-04:00"
        assert end.isoformat().startswith("2026-11-04T23:59:59") and end.utcoffset() == (
            dt.timedelta(hours=-5)
        )
        assert round((end - start).total_seconds() / 3600) == 7 * 24 + 1

    def test_patient_in_another_zone_from_the_server(
        self, client, auth, make_patient, clinic, clinician, course_api, submit
    ):
        tokyo = make_patient(clinic, care_team=(clinician,), timezone="Asia/Tokyo")
        course_api.start(tokyo, indications=["chronic_pain"], started_on="2026-11-20")
        submit(tokyo, check_in_body("pain", completed_at="2026-11-20T12:00:00+09:00", i1=4))
        # 16:00 UTC on the 20th is already the 21st in Tokyo.
        item = only(due(client, auth, tokyo, "2026-11-20T16:00:00Z"))
        assert (item["status"], item["reason"]) == ("due", "Daily Pain NRS")
        assert item["due_from"] == "2026-11-21T00:00:00+09:00"

    def test_missed_window_is_overdue_until_caught_up(
        self, client, auth, ny_patient, course_api, submit
    ):
        course_api.start(ny_patient, started_on="2026-10-01", plan=WEEKLY_PCL5)
        item = only(due(client, auth, ny_patient, "2026-10-10T12:00:00-04:00"))
        assert item["status"] == "overdue"
        assert item["due_from"] == "2026-10-01T00:00:00-04:00"
        assert item["reason"].startswith("Weekly PCL-5 missed")
        submit(ny_patient, check_in_body("pcl5", completed_at="2026-10-10T08:00:00-04:00"))
        assert only(due(client, auth, ny_patient, "2026-10-10T12:00:00-04:00"))["status"] == (
            "done"
        )

    def test_phase_limited_rule_waits_for_maintenance(self, client, auth, ny_patient, course_api):
        course = course_api.start(
            ny_patient,
            started_on="2026-10-01",
            induction_infusions=2,
            plan=[
                {
                    "questionnaire": "phq9",
                    "type": "every_n_days",
                    "days": 7,
                    "phases": ["maintenance"],
                }
            ],
        )
        for day in (1, 3):
            course_api.infuse(course, f"2026-10-0{day}T10:00:00-04:00")
        induction = due(client, auth, ny_patient, "2026-10-04T12:00:00-04:00")
        assert [i["rule"] for i in induction["items"]] == []
        course_api.infuse(course, "2026-10-05T10:00:00-04:00")
        maintenance = due(client, auth, ny_patient, "2026-10-06T12:00:00-04:00")
        assert [(i["rule"], i["status"]) for i in maintenance["items"]] == [("every_n_days", "due")]


def test_no_active_course_means_nothing_due(client, auth, patient):
    body = due(client, auth, patient, "2026-11-02T12:00:00Z")
    assert (body["course_id"], body["items"]) == (None, [])


def test_due_names_the_active_course(client, auth, patient, course_api):
    course_api.complete(course_api.start(patient, started_on="2026-09-01"), "2026-09-20")
    active = course_api.start(patient, started_on="2026-10-01")
    body = due(client, auth, patient, "2026-10-02T12:00:00Z")
    assert (body["patient_id"], body["course_id"]) == (str(patient.id), active["id"])


def test_due_is_evaluated_now_by_default(clock, client, auth, patient, course_api):
    course_api.start(patient, indications=["chronic_pain"], started_on=clock.now.date().isoformat())
    body = client.get(f"/v1/patients/{patient.id}/due", headers=auth(patient)).get_json()
    assert [i["questionnaire"] for i in body["items"]] == ["pain"]


def test_clinic_view_lists_overdue_patients(
    clock, client, auth, clinic, clinician, make_patient, course_api, submit
):
    behind = make_patient(clinic, care_team=(clinician,), timezone=NY)
    current = make_patient(clinic, care_team=(clinician,), timezone=NY)
    make_patient(clinic, care_team=(clinician,))  # no course
    long_ago = (clock.now.date() - dt.timedelta(days=20)).isoformat()
    for patient in (behind, current):
        course_api.start(patient, indications=["chronic_pain"], started_on=long_ago)
    yesterday = clock.now - dt.timedelta(days=1)
    submit(current, check_in_body("pain", completed_at=yesterday.isoformat(), i1=3))
    submit(current, check_in_body("pain", i1=3))
    listed = client.get("/v1/patients?overdue=true", headers=auth(clinician)).get_json()
    assert [p["id"] for p in listed["items"]] == [str(behind.id)]


class TestSpacingReadsTheRightCheckIns:
    """The 7-day spacing counts the patient's own final check-ins of the instrument, latest
    by when they were answered (not by when they arrived)."""

    @pytest.fixture
    def weekly(self, course_api, ny_patient):
        return course_api.start(ny_patient, started_on="2026-11-02", plan=WEEKLY_PCL5)

    def test_the_first_days_of_the_course_count(self, client, auth, ny_patient, weekly, submit):
        submit(ny_patient, check_in_body("pcl5", completed_at="2026-11-03T08:00:00-05:00"))
        item = only(due(client, auth, ny_patient, "2026-11-04T12:00:00-05:00"))
        assert item["status"] == "done"

    def test_latest_answered_own_and_final(
        self, client, auth, clinic, clinician, make_patient, course_api, ny_patient, weekly, submit
    ):
        someone_else = make_patient(clinic, care_team=(clinician,), timezone=NY)
        course_api.start(someone_else, started_on="2026-11-02", plan=WEEKLY_PCL5)
        submit(someone_else, check_in_body("pcl5", completed_at="2026-11-09T08:00:00-05:00"))
        later = submit(
            ny_patient, check_in_body("pcl5", completed_at="2026-11-07T08:00:00-05:00")
        ).get_json()
        # Answered offline earlier, arriving after the later one.
        submit(ny_patient, check_in_body("pcl5", completed_at="2026-11-03T08:00:00-05:00"))
        item = only(due(client, auth, ny_patient, "2026-11-10T12:00:00-05:00"))
        assert (item["status"], item["due_from"]) == ("upcoming", "2026-11-14T08:00:00-05:00")
        client.post(
            f"/v1/check-ins/{later['id']}/entered-in-error",
            json={"reason": "Answered for someone else"},
            headers=auth(clinician),
        )
        assert only(due(client, auth, ny_patient, "2026-11-10T12:00:00-05:00"))["status"] == "due"

    @pytest.mark.parametrize(
        "completed_at,status",
        [("2026-10-03T05:00:00+00:00", "done"), ("2026-10-03T04:59:59+00:00", "due")],
    )
    def test_the_baseline_counts_the_thirty_days_before_the_course(
        self, client, auth, course_api, ny_patient, submit, completed_at, status
    ):
        """The look-back begins 30 × 24 hours before the start (local midnight, 05:00 UTC in
        New York on 2 November, after the clocks went back)."""
        plan = [{"questionnaire": "phq9", "type": "at_baseline"}]
        course_api.start(ny_patient, started_on="2026-11-02", plan=plan)
        submit(ny_patient, check_in_body(completed_at=completed_at))
        assert only(due(client, auth, ny_patient, "2026-11-02T12:00:00-05:00"))["status"] == status
