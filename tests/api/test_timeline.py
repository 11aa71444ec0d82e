"""Courses, infusion numbers and phases, and each check-in's place on the timeline."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from api.domain import timeline
from tests.conftest import check_in_body

DAY1 = dt.datetime(2026, 10, 5, 14, 0, tzinfo=dt.UTC)


def at(days: float) -> str:
    return (DAY1 + dt.timedelta(days=days)).isoformat()


def context(client, auth, patient, check_in) -> dict:
    got = client.get(f"/v1/check-ins/{check_in['id']}", headers=auth(patient)).get_json()
    return got["context"]


def numbers(course_api, course) -> list[tuple]:
    return [(i["number"], i["phase"], i["status"]) for i in course_api.infusions(course)]


class TestNumbersAndPhases:
    def test_seventh_infusion_is_maintenance(self, course_api, patient):
        course = course_api.start(patient)
        for day in range(0, 14, 2):
            course_api.infuse(course, at(day))
        assert [(n, p) for n, p, _ in numbers(course_api, course)] == [
            (1, "induction"),
            (2, "induction"),
            (3, "induction"),
            (4, "induction"),
            (5, "induction"),
            (6, "induction"),
            (7, "maintenance"),
        ]

    def test_course_sets_the_induction_count(self, course_api, patient):
        course = course_api.start(patient, induction_infusions=2)
        for day in range(3):
            course_api.infuse(course, at(day))
        assert [p for _, p, _ in numbers(course_api, course)] == [
            "induction",
            "induction",
            "maintenance",
        ]

    def test_clinician_override(self, course_api, patient):
        course = course_api.start(patient)
        course_api.infuse(course, at(0))
        second = course_api.infuse(course, at(2), phase="maintenance")
        assert (second["number"], second["phase"], second["phase_set_by_clinician"]) == (
            2,
            "maintenance",
            True,
        )
        cleared = course_api.patch_infusion(second, phase=None).get_json()
        assert (cleared["phase"], cleared["phase_set_by_clinician"]) == ("induction", False)

    def test_a_check_in_after_an_overridden_infusion_takes_its_phase(
        self, client, auth, course_api, patient, submit
    ):
        course = course_api.start(patient)
        course_api.infuse(course, at(0))
        course_api.infuse(course, at(2), phase="maintenance")
        answered = submit(patient, check_in_body(completed_at=at(3))).get_json()
        found = context(client, auth, patient, answered)
        assert (found["infusion_number"], found["phase"]) == (2, "maintenance")

    def test_a_check_in_after_a_course_ended_without_infusions_is_its_follow_up(
        self, client, auth, course_api, patient, submit
    ):
        course = course_api.start(patient, started_on="2026-10-01")
        course_api.complete(course, "2026-10-10")
        answered = submit(patient, check_in_body(completed_at=at(10))).get_json()
        found = context(client, auth, patient, answered)
        assert (found["course_id"], found["phase"]) == (course["id"], "follow_up")

    def test_scheduled_and_cancelled_infusions_have_no_number(self, course_api, patient):
        course = course_api.start(patient)
        course_api.infuse(course, at(0))
        course_api.schedule(course, at(30))
        assert numbers(course_api, course) == [
            (1, "induction", "completed"),
            (None, None, "scheduled"),
        ]

    def test_cancelling_renumbers_the_rest(self, course_api, patient):
        course = course_api.start(patient)
        first, second, third = (course_api.infuse(course, at(d)) for d in (0, 2, 4))
        assert course_api.patch_infusion(second, status="cancelled").status_code == 200
        listed = {i["id"]: i["number"] for i in course_api.infusions(course)}
        assert (listed[first["id"]], listed[second["id"]], listed[third["id"]]) == (1, None, 2)

    def test_completing_a_scheduled_infusion(self, course_api, patient):
        course = course_api.start(patient)
        planned = course_api.schedule(course, at(1))
        done = course_api.patch_infusion(
            planned, status="completed", administered_at=at(1), dose_mg_per_kg=0.5
        ).get_json()
        assert (done["status"], done["number"], done["phase"]) == ("completed", 1, "induction")


class TestCheckInContext:
    def test_before_between_and_after(self, client, auth, course_api, patient, submit):
        course = course_api.start(patient)
        before = submit(patient, check_in_body(completed_at=at(-3))).get_json()
        course_api.infuse(course, at(0))
        course_api.infuse(course, at(2))
        between = submit(patient, check_in_body(completed_at=at(3.5))).get_json()
        assert before["context"] == {
            "course_id": course["id"],
            "phase": "baseline",
            "infusion_number": None,
            "days_since_infusion": None,
        }
        assert between["context"] == {
            "course_id": course["id"],
            "phase": "induction",
            "infusion_number": 2,
            "days_since_infusion": 1.5,
        }

    def test_after_the_course_ends_is_follow_up(
        self, client, auth, course_api, patient, submit, clinician
    ):
        course = course_api.start(patient, started_on="2026-10-05")
        course_api.infuse(course, at(0))
        course_api.complete(course, "2026-10-20")
        later = submit(patient, check_in_body(completed_at=at(20))).get_json()
        last_day = submit(patient, check_in_body(completed_at=at(15))).get_json()
        assert later["context"]["phase"] == "follow_up"
        assert later["context"]["infusion_number"] == 1
        assert last_day["context"]["phase"] == "induction"

    def test_no_course_means_no_context(self, submit, patient):
        body = submit(patient).get_json()
        assert body["context"] == {
            "course_id": None,
            "phase": None,
            "infusion_number": None,
            "days_since_infusion": None,
        }

    def test_back_filled_infusion_updates_earlier_check_ins(
        self, client, auth, course_api, patient, submit
    ):
        course = course_api.start(patient)
        check_in = submit(patient, check_in_body(completed_at=at(1))).get_json()
        assert check_in["context"]["phase"] == "baseline"
        course_api.infuse(course, at(0))
        assert context(client, auth, patient, check_in) == {
            "course_id": course["id"],
            "phase": "induction",
            "infusion_number": 1,
            "days_since_infusion": 1.0,
        }

    def test_cancelled_and_re_dated_infusions(self, client, auth, course_api, patient, submit):
        course = course_api.start(patient)
        first = course_api.infuse(course, at(0))
        course_api.infuse(course, at(2))
        check_in = submit(patient, check_in_body(completed_at=at(3))).get_json()
        assert context(client, auth, patient, check_in)["infusion_number"] == 2
        course_api.patch_infusion(first, status="cancelled")
        assert context(client, auth, patient, check_in)["infusion_number"] == 1
        third = course_api.infuse(course, at(2.5))
        assert context(client, auth, patient, check_in) == {
            "course_id": course["id"],
            "phase": "induction",
            "infusion_number": 2,
            "days_since_infusion": 0.5,
        }
        course_api.patch_infusion(third, administered_at=at(4))
        assert context(client, auth, patient, check_in)["infusion_number"] == 1

    def test_list_carries_context_too(self, client, auth, course_api, patient, submit):
        course = course_api.start(patient)
        course_api.infuse(course, at(0))
        submit(patient, check_in_body(completed_at=at(1)))
        [item] = client.get(
            f"/v1/patients/{patient.id}/check-ins", headers=auth(patient)
        ).get_json()["items"]
        assert item["context"]["infusion_number"] == 1

    def test_re_induction_course_takes_later_check_ins(
        self, client, auth, course_api, patient, submit, clinician
    ):
        first = course_api.start(patient, started_on="2026-10-05")
        course_api.infuse(first, at(0))
        course_api.complete(first, "2026-10-10")
        second = course_api.start(patient, started_on="2026-12-01")
        relapse = submit(patient, check_in_body(completed_at="2026-11-20T12:00:00+00:00"))
        follow = submit(patient, check_in_body(completed_at="2026-10-25T12:00:00+00:00"))
        assert relapse.get_json()["context"]["course_id"] == second["id"]
        assert relapse.get_json()["context"]["phase"] == "baseline"
        assert follow.get_json()["context"]["course_id"] == first["id"]
        assert follow.get_json()["context"]["phase"] == "follow_up"


class TestCourses:
    def test_second_active_course_is_refused(self, client, auth, course_api, patient, clinician):
        course_api.start(patient)
        response = client.post(
            f"/v1/patients/{patient.id}/courses",
            headers=auth(clinician),
            json={"indications": ["anxiety"], "started_on": "2026-11-01"},
        )
        assert response.status_code == 409

    def test_default_plan_follows_indications(self, course_api, patient):
        course = course_api.start(patient, indications=["depression", "chronic_pain"])
        assert course["plan_is_default"] is True
        assert [(r["questionnaire"], r["type"]) for r in course["plan"]] == [
            ("phq9", "at_baseline"),
            ("phq9", "before_each_infusion"),
            ("phq9", "every_n_days"),
            ("pain", "every_n_days"),
        ]

    @pytest.mark.parametrize(("days", "status"), [(6, 422), (7, 201)])
    def test_a_phq9_at_most_once_in_seven_days(
        self, client, auth, patient, clinician, days, status
    ):
        plan = [{"questionnaire": "phq9", "type": "every_n_days", "days": days}]
        response = client.post(
            f"/v1/patients/{patient.id}/courses",
            headers=auth(clinician),
            json={"indications": ["depression"], "started_on": "2026-11-01", "plan": plan},
        )
        assert response.status_code == status
        if status == 422:
            assert response.get_json()["errors"]["plan.0.days"] == [
                "At least 7 days for this questionnaire; set allow_short_interval: true to ask "
                "it more often."
            ]

    @pytest.mark.parametrize(
        "plan,field",
        [
            (
                [{"questionnaire": "bdi2", "type": "every_n_days", "days": 7}],
                "plan.0.questionnaire",
            ),
            ([{"questionnaire": "phq9", "type": "every_n_days"}], "plan.0.days"),
            ([{"questionnaire": "phq9", "type": "weekly"}], "plan.0.type"),
        ],
    )
    def test_plan_is_validated(self, client, auth, patient, clinician, plan, field):
        response = client.post(
            f"/v1/patients/{patient.id}/courses",
            headers=auth(clinician),
            json={"indications": ["depression"], "started_on": "2026-11-01", "plan": plan},
        )
        assert response.status_code == 422 and field in response.get_json()["errors"]

    def test_patch_needs_if_match(self, client, auth, course_api, patient, clinician):
        course = course_api.start(patient)
        url = f"/v1/courses/{course['id']}"
        missing = client.patch(url, json={"induction_infusions": 8}, headers=auth(clinician))
        assert missing.status_code == 428
        assert missing.get_json()["detail"] == "Send If-Match with the ETag you read."
        etag = course_api.course(course).headers["ETag"]
        ok = client.patch(
            url, json={"induction_infusions": 8}, headers={**auth(clinician), "If-Match": etag}
        )
        assert ok.status_code == 200 and ok.headers["ETag"] != etag
        stale = client.patch(
            url, json={"induction_infusions": 4}, headers={**auth(clinician), "If-Match": etag}
        )
        assert stale.status_code == 412
        assert course_api.course(course).get_json()["induction_infusions"] == 8

    @pytest.mark.parametrize(
        ("if_match", "status"),
        [
            ("*", 200),  # whatever is current (RFC 9110 §13.1.1)
            ('"999", {current}', 200),  # any of a list
            ('"999", "998"', 412),
            ("W/{current}", 412),  # If-Match compares strongly: a weak tag never matches
            ("{current}x", 412),
            ("", 412),
        ],
    )
    def test_if_match_star_lists_and_weak_tags(
        self, client, auth, course_api, patient, clinician, if_match, status
    ):
        course = course_api.start(patient)
        url = f"/v1/courses/{course['id']}"
        current = course_api.course(course).headers["ETag"]
        response = client.patch(
            url,
            json={"induction_infusions": 7},
            headers={**auth(clinician), "If-Match": if_match.format(current=current)},
        )
        assert response.status_code == status
        stored = course_api.course(course).get_json()["induction_infusions"]
        assert stored == (7 if status == 200 else 6)

    def test_completing_needs_a_date(self, client, auth, course_api, patient, clinician):
        course = course_api.start(patient)
        response = client.patch(
            f"/v1/courses/{course['id']}",
            json={"status": "completed"},
            headers={**auth(clinician), "If-Match": course_api.course(course).headers["ETag"]},
        )
        # The course as stored has no end date: the change conflicts with its state.
        assert response.status_code == 409
        assert response.get_json()["errors"] == {"completed_on": ["Required to complete a course."]}

    def test_baseline_prefers_the_latest_pre_infusion_check_in(self, course_api, patient, submit):
        course = course_api.start(patient)
        submit(patient, check_in_body(completed_at=at(-40), i1=3))
        submit(patient, check_in_body(completed_at=at(-10), i1=2, i2=2, i3=2, i4=2, i5=2))
        chosen = submit(
            patient, check_in_body(completed_at=at(-1), i1=3, i2=3, i3=3, i4=3)
        ).get_json()
        course_api.infuse(course, at(0))
        submit(patient, check_in_body(completed_at=at(1)))
        [baseline] = course_api.course(course).get_json()["baselines"]
        assert (baseline["check_in_id"], baseline["total"], baseline["source"]) == (
            chosen["id"],
            12,
            "pre_infusion",
        )

    def test_baseline_falls_back_to_the_first_check_in(self, course_api, patient, submit):
        course = course_api.start(patient)
        course_api.infuse(course, at(0))
        first = submit(patient, check_in_body(completed_at=at(1), i1=2)).get_json()
        submit(patient, check_in_body(completed_at=at(2), i1=1))
        [baseline] = course_api.course(course).get_json()["baselines"]
        assert (baseline["check_in_id"], baseline["source"]) == (first["id"], "first_available")

    def test_entered_in_error_is_never_the_baseline(
        self, client, auth, course_api, patient, submit, clinician
    ):
        course = course_api.start(patient)
        kept = submit(patient, check_in_body(completed_at=at(-2), i1=1)).get_json()
        wrong = submit(patient, check_in_body(completed_at=at(-1), i1=3)).get_json()
        client.post(
            f"/v1/check-ins/{wrong['id']}/entered-in-error",
            json={"reason": "x"},
            headers=auth(clinician),
        )
        course_api.infuse(course, at(0))
        [baseline] = course_api.course(course).get_json()["baselines"]
        assert baseline["check_in_id"] == kept["id"]

    def test_reliable_deterioration_alert(
        self, client, auth, course_api, patient, submit, clinician
    ):
        course = course_api.start(patient)
        submit(patient, check_in_body(completed_at=at(-1), i1=2, i2=2, i3=2, i4=2))  # 8
        course_api.infuse(course, at(0))
        submit(patient, check_in_body(completed_at=at(1), i1=3, i2=3, i3=3, i4=3, i5=1))  # 13
        alerts = client.get("/v1/alerts", headers=auth(clinician)).get_json()["items"]
        assert alerts == []
        submit(patient, check_in_body(completed_at=at(2), i1=3, i2=3, i3=3, i4=3, i5=2))  # 14
        alerts = client.get("/v1/alerts", headers=auth(clinician)).get_json()["items"]
        assert [(a["kind"], a["priority"]) for a in alerts] == [("reliable_deterioration", "high")]

    def test_reliable_deterioration_from_the_lowest_score(
        self, client, auth, course_api, patient, submit, clinician
    ):
        """From a baseline of 0, a total of 6 (PHQ-9's points exactly) is a deterioration."""
        course = course_api.start(patient)
        submit(patient, check_in_body(completed_at=at(-1)))  # 0
        course_api.infuse(course, at(0))
        submit(patient, check_in_body(completed_at=at(1), i1=3, i2=3))  # 6
        alerts = client.get("/v1/alerts", headers=auth(clinician)).get_json()["items"]
        assert [(a["kind"], a["baseline"]["total"]) for a in alerts] == [
            ("reliable_deterioration", 0)
        ]


class TestInfusions:
    def test_safety_flag_at_the_default_threshold(self, course_api, patient):
        course = course_api.start(patient)
        calm = course_api.infuse(
            course,
            at(0),
            blood_pressure={"before": [120, 80], "peak": [179, 109], "after": [124, 82]},
        )
        high = course_api.infuse(
            course,
            at(2),
            blood_pressure={"before": [130, 85], "peak": [186, 104], "after": [140, 88]},
        )
        serious = course_api.infuse(
            course, at(4), side_effects=["vomiting"], serious_side_effects=True
        )
        assert calm["safety"] == {"flagged": False, "notes": []}
        assert high["safety"]["flagged"] and "186/104" in high["safety"]["notes"][0]
        assert serious["safety"]["notes"] == ["Side effects were marked serious."]

    @pytest.mark.parametrize("peak", [[180, 109], [179, 110]])
    def test_a_peak_at_either_threshold_is_flagged_in_words(self, course_api, patient, peak):
        """The default threshold is 180/110: reaching the systolic or the diastolic one alone
        is enough, and the note names the peak and the whole threshold."""
        course = course_api.start(patient)
        infusion = course_api.infuse(course, at(0), blood_pressure={"peak": peak})
        assert infusion["safety"] == {
            "flagged": True,
            "notes": [
                f"Peak blood pressure {peak[0]}/{peak[1]} reached the clinic's threshold of "
                "180/110."
            ],
        }

    def test_clinic_sets_its_own_threshold(self, client, auth, course_api, patient, admin, clinic):
        client.patch(
            f"/v1/clinics/{clinic.id}",
            headers=auth(admin),
            json={"bp_flag_systolic": 170, "bp_flag_diastolic": 105},
        )
        course = course_api.start(patient)
        infusion = course_api.infuse(course, at(0), blood_pressure={"peak": [172, 95]})
        assert infusion["safety"]["flagged"] is True

    @pytest.mark.parametrize(
        "body,field",
        [
            ({"dose_mg_per_kg": 2.5}, "dose_mg_per_kg"),
            ({"dose_mg_per_kg": 0.01}, "dose_mg_per_kg"),
            ({"side_effects": ["hiccups"]}, "side_effects.0"),
            ({"blood_pressure": {"peak": [80, 120]}}, "blood_pressure.peak"),
            ({"blood_pressure": {"peak": [120]}}, "blood_pressure.peak"),
            ({"dissociation": 11}, "dissociation"),
            ({"administered_at": None}, "administered_at"),
            ({"dose_mg_per_kg": None}, "dose_mg_per_kg"),
            ({"administered_at": "2026-10-05T14:00:00"}, "administered_at"),
        ],
    )
    def test_validation(self, client, auth, course_api, patient, clinician, body, field):
        course = course_api.start(patient)
        full = {"status": "completed", "administered_at": at(0), "dose_mg_per_kg": 0.5, **body}
        response = client.post(
            f"/v1/courses/{course['id']}/infusions", json=full, headers=auth(clinician)
        )
        assert response.status_code == 422 and field in response.get_json()["errors"]

    def test_future_administration_is_refused(
        self, clock, client, auth, course_api, patient, clinician
    ):
        course = course_api.start(patient)
        future = (clock.now + dt.timedelta(minutes=5, seconds=1)).isoformat()
        response = client.post(
            f"/v1/courses/{course['id']}/infusions",
            headers=auth(clinician),
            json={"status": "completed", "administered_at": future, "dose_mg_per_kg": 0.5},
        )
        assert response.status_code == 422

    def test_patients_see_dates_number_and_phase_only(self, course_api, patient):
        course = course_api.start(patient)
        course_api.infuse(
            course, at(0), notes="Tearful at 30 minutes", blood_pressure={"peak": [150, 90]}
        )
        [seen] = course_api.infusions(course, who=patient)
        assert set(seen) == {
            "id",
            "course_id",
            "status",
            "scheduled_for",
            "administered_at",
            "number",
            "phase",
        }

    def test_cancelled_stays_cancelled(self, course_api, patient):
        course = course_api.start(patient)
        infusion = course_api.infuse(course, at(0))
        course_api.patch_infusion(infusion, status="cancelled")
        assert course_api.patch_infusion(infusion, status="completed").status_code == 409

    def test_stale_if_match_is_412(self, client, auth, course_api, patient, clinician):
        course = course_api.start(patient)
        infusion = course_api.infuse(course, at(0))
        url = f"/v1/infusions/{infusion['id']}"
        etag = client.get(url, headers=auth(clinician)).headers["ETag"]
        first = client.patch(
            url, json={"notes": "a"}, headers={**auth(clinician), "If-Match": etag}
        )
        second = client.patch(
            url, json={"notes": "b"}, headers={**auth(clinician), "If-Match": etag}
        )
        assert (first.status_code, second.status_code) == (200, 412)
        assert client.patch(url, json={"notes": "c"}, headers=auth(clinician)).status_code == 428


def test_a_patients_courses_newest_first_and_only_theirs(
    client, auth, course_api, patient, clinician, clinic, make_patient
):
    neighbour = make_patient(clinic, care_team=(clinician,))
    course_api.start(neighbour)
    started = []
    for begun, ended in (
        ("2025-01-01", "2025-02-01"),
        ("2025-04-01", "2025-05-01"),
        ("2025-07-01", "2025-08-01"),
        ("2026-01-01", "2026-02-01"),
    ):
        course = course_api.start(patient, started_on=begun)
        course_api.complete(course, ended)
        started.append(course["id"])
    latest = course_api.start(patient, started_on="2026-06-01")
    body = client.get(f"/v1/patients/{patient.id}/courses", headers=auth(clinician)).get_json()
    assert [c["id"] for c in body["items"]] == [latest["id"], *reversed(started)]
    assert body["next_cursor"] is None


def test_courses_begun_on_the_same_day_keep_one_order(client, auth, course_api, patient, clinician):
    """Newest first can tie (a course ended and another begun the same day): then by id,
    highest first, the same on every read."""
    started = []
    for _ in range(5):
        course = course_api.start(patient, started_on="2026-03-02")
        course_api.complete(course, "2026-03-02")
        started.append(course["id"])
    latest = course_api.start(patient, started_on="2026-03-03")
    body = client.get(f"/v1/patients/{patient.id}/courses", headers=auth(clinician)).get_json()
    same_day = sorted(started, key=uuid.UUID, reverse=True)
    assert [c["id"] for c in body["items"]] == [latest["id"], *same_day]


def test_infusions_given_by_when_given_then_planned_by_when_planned(course_api, patient):
    """Given ones first in the order given, then planned ones by their time, and those planned
    for the same time by id."""
    course = course_api.start(patient)
    given = {d: course_api.infuse(course, at(d))["id"] for d in (2, 0, 1)}
    planned = {d: course_api.schedule(course, at(d))["id"] for d in (30, 10, 20)}
    same_time = [course_api.schedule(course, at(40))["id"] for _ in range(5)]
    listed = [i["id"] for i in course_api.infusions(course)]
    assert listed == [
        *(given[d] for d in (0, 1, 2)),
        *(planned[d] for d in (10, 20, 30)),
        *sorted(same_time, key=uuid.UUID),
    ]


def test_a_patients_timeline_holds_only_their_courses(
    session, course_api, patient, make_patient, clinic, clinician
):
    neighbour = make_patient(clinic, care_team=(clinician,))
    course_api.start(neighbour)
    theirs = course_api.start(patient)
    course_api.infuse(theirs, at(0))
    found = timeline.of_patient(session, patient.id)
    assert [str(c.id) for c in found.courses] == [theirs["id"]]
    assert [g.number for g in found.given[uuid.UUID(theirs["id"])]] == [1]


def test_a_course_takes_every_change_a_clinician_makes(
    client, auth, course_api, patient, clinician
):
    course = course_api.start(patient, started_on="2026-10-01")
    plan = [{"questionnaire": "gad7", "type": "every_n_days", "days": 7}]
    changed = client.patch(
        f"/v1/courses/{course['id']}",
        json={"indications": ["anxiety"], "plan": plan, "started_on": "2026-10-05"},
        headers={**auth(clinician), "If-Match": course_api.course(course).headers["ETag"]},
    )
    assert changed.status_code == 200, changed.get_json()
    stored = course_api.course(course).get_json()
    assert (stored["indications"], stored["plan"], stored["started_on"]) == (
        ["anxiety"],
        plan,
        "2026-10-05",
    )


def test_an_unknown_infusion_is_not_found(client, auth, clinician):
    response = client.get(f"/v1/infusions/{uuid.uuid4()}", headers=auth(clinician))
    assert (response.status_code, response.get_json()["detail"]) == (404, "Infusion not found.")


def test_a_change_that_leaves_an_infusion_inconsistent_conflicts(client, auth, course_api, patient):
    course = course_api.start(patient)
    planned = course_api.schedule(course, "2026-10-20T15:00:00+00:00")
    response = course_api.patch_infusion(planned, status="completed")  # given when, and how much?
    assert response.status_code == 409
    body = response.get_json()
    assert body["detail"] == "The change would leave the record inconsistent; see errors."
    assert set(body["errors"]) == {"administered_at", "dose_mg_per_kg"}
