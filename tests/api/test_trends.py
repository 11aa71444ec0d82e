"""The trend and summary endpoints, and the clinician's panel, end to end."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest

from api.models import Infusion
from tests.conftest import NOW, check_in_body

START = NOW - dt.timedelta(days=40)


def at(days: float) -> str:
    return (START + dt.timedelta(days=days)).isoformat()


def phq9(total: int, **extra) -> dict:
    """PHQ-9 items summing to `total` (items 1-8 first; item 9 left at 0 unless given)."""
    items, left = {}, total - extra.get("i9", 0)
    for n in range(1, 9):
        items[f"i{n}"] = min(3, left)
        left -= items[f"i{n}"]
    return items | extra


@pytest.fixture
def course_with_history(clock, course_api, patient, submit):
    """Baseline 19; six induction infusions; scores falling to 8, then one entered in error."""
    course = course_api.start(patient, started_on=START.date().isoformat())
    submit(patient, check_in_body(completed_at=at(-1), **phq9(19)))
    for day in (0, 2, 4, 7, 9, 11):
        course_api.infuse(course, at(day))
    for day, total in ((1, 15), (5, 12), (8, 10), (12, 8)):
        submit(patient, check_in_body(completed_at=at(day), **phq9(total)))
    return course


def trend(client, auth, patient, who=None, query="") -> dict:
    response = client.get(
        f"/v1/patients/{patient.id}/trends/phq9{query}", headers=auth(who or patient)
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


class TestTrend:
    def test_baseline_latest_change_status(self, client, auth, patient, course_with_history):
        body = trend(client, auth, patient)
        assert body["course_id"] == course_with_history["id"]
        assert (body["baseline"]["total"], body["baseline"]["source"]) == (19, "pre_infusion")
        assert body["latest"]["total"] == 8
        assert body["change"] == {"absolute": -11, "percent": -57.9}
        assert body["status"] == {
            "response": True,
            "remission": False,
            "reliable_change": "improved",
            "mcid_reached": True,
        }
        assert body["thresholds"]["reliable_change"] == 6 and body["thresholds"]["mcid"] == 5
        assert body["thresholds"]["sources"]["mcid"] == "Löwe et al. 2004"

    def test_points_carry_their_place_on_the_timeline(
        self, client, auth, patient, course_with_history
    ):
        points = trend(client, auth, patient)["points"]
        assert [(p["total"], p["phase"], p["infusion_number"]) for p in points] == [
            (19, "baseline", None),
            (15, "induction", 1),
            (12, "induction", 3),
            (10, "induction", 4),
            (8, "induction", 6),
        ]
        assert [i["number"] for i in trend(client, auth, patient)["infusions"]] == [
            1,
            2,
            3,
            4,
            5,
            6,
        ]

    def test_by_infusion_and_durability(self, client, auth, patient, course_with_history):
        body = trend(client, auth, patient)
        first = body["by_infusion"][0]
        assert (first["before"], first["best_after"], first["last_after"]) == (19, 15, 15)
        assert body["durability"]["summary"]

    def test_an_entered_in_error_check_in_never_counts(
        self, client, auth, patient, clinician, submit, course_with_history
    ):
        wrong = submit(patient, check_in_body(completed_at=at(13), **phq9(25))).get_json()
        client.post(
            f"/v1/check-ins/{wrong['id']}/entered-in-error",
            json={"reason": "Answered for someone else"},
            headers=auth(clinician),
        )
        body = trend(client, auth, patient)
        assert wrong["id"] not in {p["check_in_id"] for p in body["points"]}
        assert body["latest"]["total"] == 8

    def test_from_and_to_limit_the_points(self, client, auth, patient, course_with_history):
        query = f"?from={at(4)}&to={at(9)}".replace("+", "%2B")
        body = trend(client, auth, patient, query=query)
        assert [p["total"] for p in body["points"]] == [12, 10]
        assert body["baseline"]["total"] == 19 and body["latest"]["total"] == 10

    def test_signals_are_for_clinicians_only(
        self, client, auth, patient, clinician, submit, course_with_history
    ):
        for day, total in ((20, 12), (27, 14)):
            submit(patient, check_in_body(completed_at=at(day), **phq9(total)))
        assert [s["kind"] for s in trend(client, auth, patient, clinician)["signals"]] == [
            "relapse"
        ]
        assert "signals" not in trend(client, auth, patient)

    def test_another_patients_course_is_not_found(
        self,
        client,
        auth,
        patient,
        make_patient,
        clinic,
        clinician,
        course_api,
        course_with_history,
    ):
        other = make_patient(clinic, care_team=(clinician,))
        theirs = course_api.start(other)
        response = client.get(
            f"/v1/patients/{patient.id}/trends/phq9?course_id={theirs['id']}",
            headers=auth(clinician),
        )
        assert response.status_code == 404
        assert response.get_json()["detail"] == "Course not found."

    def test_an_unknown_questionnaire_is_not_found(self, client, auth, patient):
        assert (
            client.get(f"/v1/patients/{patient.id}/trends/bdi2", headers=auth(patient)).status_code
            == 404
        )

    def test_without_a_course(self, client, auth, patient, submit):
        submit(patient, check_in_body(**phq9(12)))
        body = trend(client, auth, patient)
        assert (body["course_id"], body["baseline"], len(body["points"])) == (None, None, 1)

    def test_a_bounded_number_of_queries_whatever_the_points(
        self, client, auth, patient, clinician, submit, course_with_history, count_queries
    ):
        def queries() -> int:
            with count_queries() as statements:
                trend(client, auth, patient, clinician)
            return len(statements)

        few = queries()
        for day in range(14, 40, 2):
            submit(patient, check_in_body(completed_at=at(day), **phq9(9)))
        assert queries() == few


class TestSummary:
    def test_the_patient_reads_a_sentence_per_instrument(
        self, client, auth, patient, submit, course_with_history
    ):
        submit(patient, check_in_body("gad7", completed_at=at(3), i1=2))
        body = client.get(f"/v1/patients/{patient.id}/summary", headers=auth(patient)).get_json()
        sentences = {i["questionnaire"]: i["sentence"] for i in body["instruments"]}
        assert sentences["phq9"] == (
            "Your PHQ-9 score is 11 points lower than before treatment — a meaningful improvement."
        )
        assert "open_alerts" not in body
        assert all("signals" not in i for i in body["instruments"])
        assert body["course"]["infusion_count"] == 6 and body["course"]["phase"] == "induction"

    def test_each_case_of_sentence_end_to_end(
        self, client, auth, patient, submit, course_with_history
    ):
        # GAD-7 first answered after treatment began: its first check-in is the baseline.
        submit(patient, check_in_body("gad7", completed_at=at(3), i1=2))
        submit(patient, check_in_body("gad7", completed_at=at(10), i1=2, i2=3))
        submit(patient, check_in_body("pcl5", completed_at=at(6), i1=2))
        body = client.get(f"/v1/patients/{patient.id}/summary", headers=auth(patient)).get_json()
        sentences = {i["questionnaire"]: i["sentence"] for i in body["instruments"]}
        assert sentences["gad7"] == (
            "Your GAD-7 score is 3 points higher than at your first check-in of this course. "
            "Your care team reviews every check-in and can talk it through with you."
        )
        assert sentences["pcl5"] == (
            "Your latest PCL-5 check-in is your starting point for this course. Your next "
            "check-ins will show how things change."
        )

    def test_clinicians_see_open_alerts(
        self, client, auth, patient, clinician, submit, course_with_history
    ):
        submit(patient, check_in_body(completed_at=at(39), **phq9(9, i9=1)))
        body = client.get(f"/v1/patients/{patient.id}/summary", headers=auth(clinician)).get_json()
        assert [a["kind"] for a in body["open_alerts"]] == ["suicidal_ideation"]
        assert "signals" in body["instruments"][0]


def panel(client, auth, who, query="") -> list[dict]:
    response = client.get(f"/v1/patients{query}", headers=auth(who))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


class TestPanel:
    def test_clinicians_see_progress(self, client, auth, patient, clinician, course_with_history):
        [row] = panel(client, auth, clinician)
        progress = row["progress"]
        assert (progress["questionnaire"], progress["latest"]["total"]) == ("phq9", 8)
        assert progress["change"] == {"absolute": -11, "percent": -57.9}
        assert progress["status"] == {
            "response": True,
            "remission": False,
            "reliable_change": "improved",
            "mcid_reached": True,
        }
        assert dt.datetime.fromisoformat(
            progress["latest"]["completed_at"]
        ) == START + dt.timedelta(days=12)
        assert progress["days_since_last_check_in"] == 28.0

    @pytest.mark.parametrize("who", ["patient", "admin"])
    def test_nobody_else_does(self, client, auth, request, who, course_with_history):
        [row] = panel(client, auth, request.getfixturevalue(who))
        assert "progress" not in row

    def test_a_new_check_in_shows_at_once(
        self, client, auth, patient, clinician, submit, course_with_history
    ):
        panel(client, auth, clinician)
        submit(patient, check_in_body(completed_at=at(39), **phq9(4)))
        [row] = panel(client, auth, clinician)
        assert row["progress"]["latest"]["total"] == 4 and row["progress"]["status"]["remission"]

    def test_attention_order(
        self, clock, client, auth, clinic, clinician, make_patient, course_api, submit
    ):
        calm, urgent, quiet = (make_patient(clinic, care_team=(clinician,)) for _ in range(3))
        for someone in (calm, urgent):
            course_api.start(
                someone, indications=["chronic_pain"], started_on=NOW.date().isoformat()
            )
            submit(someone, check_in_body("pain", completed_at=NOW.isoformat(), i1=3))
        course_api.start(quiet, indications=["chronic_pain"], started_on=NOW.date().isoformat())
        submit(urgent, check_in_body(i9=2))
        order = [row["id"] for row in panel(client, auth, clinician, "?sort=attention")]
        assert order == [str(urgent.id), str(quiet.id), str(calm.id)]

    def test_overdue_comes_before_up_to_date_whoever_was_added_last(
        self, clock, client, auth, clinic, clinician, make_patient, course_api, submit
    ):
        """Without alerts or signals: a patient whose daily rating is overdue before one who
        answered today, though the one up to date was added later (the last tie-break)."""
        behind = make_patient(clinic, care_team=(clinician,))
        clock.advance(minutes=1)
        current = make_patient(clinic, care_team=(clinician,))
        started = (NOW - dt.timedelta(days=10)).date().isoformat()
        for someone in (behind, current):
            course_api.start(someone, indications=["chronic_pain"], started_on=started)
        three_days_ago = (NOW - dt.timedelta(days=3)).isoformat()
        submit(behind, check_in_body("pain", completed_at=three_days_ago, i1=3))
        submit(current, check_in_body("pain", completed_at=NOW.isoformat(), i1=3))
        order = [row["id"] for row in panel(client, auth, clinician, "?sort=attention")]
        assert order == [str(behind.id), str(current.id)]

    @pytest.mark.parametrize("sort", ["newest", "attention"])
    def test_a_last_page_just_full_has_no_next_cursor(
        self, client, auth, clinic, clinician, make_patient, sort
    ):
        added = {str(make_patient(clinic, care_team=(clinician,)).id) for _ in range(2)}
        body = client.get(f"/v1/patients?sort={sort}&limit=2", headers=auth(clinician)).get_json()
        assert {row["id"] for row in body["items"]} == added
        assert body["next_cursor"] is None

    @pytest.mark.parametrize(
        ("issued_by", "used_with"), [("attention", "newest"), ("newest", "attention")]
    )
    def test_a_cursor_of_one_order_is_refused_by_the_other(
        self, client, auth, clinic, clinician, make_patient, issued_by, used_with
    ):
        for _ in range(2):
            make_patient(clinic, care_team=(clinician,))
        first = client.get(f"/v1/patients?sort={issued_by}&limit=1", headers=auth(clinician))
        cursor = first.get_json()["next_cursor"]
        response = client.get(
            f"/v1/patients?sort={used_with}&limit=1&cursor={cursor}", headers=auth(clinician)
        )
        assert response.status_code == 400
        assert response.get_json()["detail"] == "The cursor is not valid; start again without it."

    def test_the_attention_order_is_the_clinicians(self, client, auth, admin):
        assert client.get("/v1/patients?sort=attention", headers=auth(admin)).status_code == 403

    def test_overdue_is_computed_for_the_whole_page_at_once(
        self,
        clock,
        client,
        auth,
        clinic,
        clinician,
        make_patient,
        course_api,
        submit,
        count_queries,
    ):
        for _ in range(3):
            someone = make_patient(clinic, care_team=(clinician,))
            course_api.start(someone, indications=["chronic_pain"], started_on="2026-11-01")
        panel(client, auth, clinician, "?overdue=true")
        with count_queries() as few:
            panel(client, auth, clinician, "?overdue=true")
        for _ in range(5):
            someone = make_patient(clinic, care_team=(clinician,))
            course_api.start(someone, indications=["chronic_pain"], started_on="2026-11-01")
        panel(client, auth, clinician, "?overdue=true")
        with count_queries() as more:
            rows = panel(client, auth, clinician, "?overdue=true")
        assert len(rows) == 8 and len(more) == len(few)


def panel_row(client, auth, clinician, someone) -> dict:
    rows = {row["id"]: row for row in panel(client, auth, clinician)}
    return rows[str(someone.id)]["progress"]


def when(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


class TestPanelColumns:
    """Each column counts the patient's own records, and only those that count."""

    def test_open_alerts_by_priority(
        self, clock, client, auth, clinic, clinician, make_patient, submit
    ):
        both, one_high = (make_patient(clinic, care_team=(clinician,)) for _ in range(2))
        severe_gad7 = {f"i{n}": 3 for n in range(1, 8)}
        submit(both, check_in_body(i9=1))
        submit(both, check_in_body("gad7", **severe_gad7))
        submit(one_high, check_in_body("gad7", **severe_gad7))
        closed = submit(one_high, check_in_body(i9=1)).get_json()
        [alert] = [
            a
            for a in client.get("/v1/alerts", headers=auth(clinician)).get_json()["items"]
            if a["check_in_id"] == closed["id"]
        ]
        url = f"/v1/alerts/{alert['id']}"
        client.post(f"{url}/acknowledge", json={}, headers=auth(clinician))
        client.post(f"{url}/resolve", json={"note": "Called back"}, headers=auth(clinician))
        assert panel_row(client, auth, clinician, both)["open_alerts"] == {"urgent": 1, "high": 1}
        assert panel_row(client, auth, clinician, one_high)["open_alerts"] == {
            "urgent": 0,
            "high": 1,
        }

    def test_the_last_check_in_is_the_latest_that_stands(
        self, clock, client, auth, clinic, clinician, make_patient, submit
    ):
        someone, other = (make_patient(clinic, care_team=(clinician,)) for _ in range(2))
        earlier, later = NOW - dt.timedelta(days=3), NOW - dt.timedelta(days=1)
        submit(someone, check_in_body(completed_at=earlier.isoformat(), **phq9(12)))
        wrong = submit(someone, check_in_body(completed_at=later.isoformat(), **phq9(10)))
        submit(other, check_in_body(completed_at=NOW.isoformat(), **phq9(5)))
        assert when(panel_row(client, auth, clinician, someone)["last_check_in_at"]) == later
        client.post(
            f"/v1/check-ins/{wrong.get_json()['id']}/entered-in-error",
            json={"reason": "Answered for someone else"},
            headers=auth(clinician),
        )
        row = panel_row(client, auth, clinician, someone)
        assert when(row["last_check_in_at"]) == earlier
        assert row["days_since_last_check_in"] == 3.0

    def test_the_next_infusion_is_the_earliest_still_scheduled_from_now(
        self, clock, client, auth, clinic, clinician, make_patient, course_api
    ):
        someone, other = (make_patient(clinic, care_team=(clinician,)) for _ in range(2))
        course = course_api.start(
            someone, started_on=(NOW - dt.timedelta(days=5)).date().isoformat()
        )
        assert panel_row(client, auth, clinician, someone)["next_infusion_at"] is None
        in_hours = lambda hours: (NOW + dt.timedelta(hours=hours)).isoformat()  # noqa: E731
        course_api.schedule(course, in_hours(-2))  # never updated: not ahead any more
        course_api.schedule(course, in_hours(72))
        cancelled = course_api.schedule(course, in_hours(0))
        assert course_api.patch_infusion(cancelled, status="cancelled").status_code == 200
        course_api.infuse(course, in_hours(-30))
        course_api.schedule(course_api.start(other), in_hours(1))
        next_at = when(panel_row(client, auth, clinician, someone)["next_infusion_at"])
        assert next_at == NOW + dt.timedelta(hours=72)
        course_api.schedule(course, in_hours(0))
        assert when(panel_row(client, auth, clinician, someone)["next_infusion_at"]) == NOW


class TestWhichCourse:
    """Without `course_id` the trend is the active course's, or else the latest one's."""

    def test_the_active_course_before_a_later_one(
        self, clock, client, auth, patient, clinician, course_api
    ):
        later = course_api.start(patient, started_on="2026-10-20")
        course_api.complete(later, "2026-11-01")
        active = course_api.start(patient, started_on="2026-09-01")
        assert trend(client, auth, patient)["course_id"] == active["id"]
        assert panel_row(client, auth, clinician, patient)["course_id"] == active["id"]

    def test_else_the_latest(self, clock, client, auth, patient, clinician, course_api):
        first = course_api.start(patient, started_on="2026-09-01")
        course_api.complete(first, "2026-09-20")
        latest = course_api.start(patient, started_on="2026-10-01")
        course_api.complete(latest, "2026-10-20")
        assert trend(client, auth, patient)["course_id"] == latest["id"]
        query = f"?course_id={first['id']}"
        assert trend(client, auth, patient, query=query)["course_id"] == first["id"]
        assert panel_row(client, auth, clinician, patient)["course_id"] == latest["id"]

    def test_the_latest_to_start_whichever_was_recorded_first(
        self, clock, client, auth, patient, clinician, course_api
    ):
        latest = course_api.start(patient, started_on="2026-10-01")
        course_api.complete(latest, "2026-10-20")
        earlier = course_api.start(patient, started_on="2026-09-01")
        course_api.complete(earlier, "2026-09-20")
        assert trend(client, auth, patient)["course_id"] == latest["id"]
        assert panel_row(client, auth, clinician, patient)["course_id"] == latest["id"]


class TestAttentionTiers:
    """Each tier of the attention order, and where it ends."""

    def test_signals_before_overdue_and_quiet(
        self, clock, client, auth, clinic, clinician, make_patient, course_api, submit
    ):
        """One signal (early non-improvement) puts a patient before one who is overdue and
        quiet, and before one with no course at all, though both were added later."""
        signalled = make_patient(clinic, care_team=(clinician,))
        course = course_api.start(signalled, started_on=START.date().isoformat())
        submit(signalled, check_in_body(completed_at=at(-1), **phq9(19)))
        for day in (0, 2, 4, 7):
            course_api.infuse(course, at(day))
        submit(signalled, check_in_body(completed_at=at(8), **phq9(18)))
        [row] = panel(client, auth, clinician)
        assert row["progress"]["signals"] == ["early_non_improvement"]
        clock.advance(minutes=1)
        behind = make_patient(clinic, care_team=(clinician,))
        started = (NOW - dt.timedelta(days=12)).date().isoformat()
        course_api.start(behind, indications=["chronic_pain"], started_on=started)
        ten_days_ago = (NOW - dt.timedelta(days=10)).isoformat()
        submit(behind, check_in_body("pain", completed_at=ten_days_ago, i1=3))
        clock.advance(minutes=1)
        without_course = make_patient(clinic, care_team=(clinician,))
        order = [row["id"] for row in panel(client, auth, clinician, "?sort=attention")]
        assert order == [str(signalled.id), str(behind.id), str(without_course.id)]

    def test_quiet_is_more_than_seven_days_without_a_check_in(
        self, clock, client, auth, clinic, clinician, make_patient, submit
    ):
        """Without courses (never overdue): quiet for eight days comes first; exactly seven
        days is not quiet yet, so it falls back to the newest first."""
        answered = {}
        for days in (8, 7, 0):
            answered[days] = make_patient(clinic, care_team=(clinician,))
            clock.advance(minutes=1)
        for days, someone in answered.items():
            completed = (clock.now - dt.timedelta(days=days)).isoformat()
            submit(someone, check_in_body(completed_at=completed, **phq9(5)))
        answered = {days: str(someone.id) for days, someone in answered.items()}
        order = [row["id"] for row in panel(client, auth, clinician, "?sort=attention")]
        assert order == [answered[8], answered[0], answered[7]]

    def test_overdue_begins_after_the_instant_due(
        self, clock, client, auth, clinic, clinician, make_patient, course_api, submit
    ):
        """At the very instant a rating is due it is not overdue yet; a second later it is."""
        due = make_patient(clinic, care_team=(clinician,))
        clock.advance(minutes=1)
        current = make_patient(clinic, care_team=(clinician,))  # added later: first if a tie
        started = (NOW - dt.timedelta(days=10)).date().isoformat()
        for someone, days in ((due, 1), (current, 0)):
            course_api.start(someone, indications=["chronic_pain"], started_on=started)
            completed = (NOW - dt.timedelta(days=days)).isoformat()
            submit(someone, check_in_body("pain", completed_at=completed, i1=3))
        due_by = when(panel_row(client, auth, clinician, due)["next_due_by"])
        clock.advance(seconds=(due_by - clock.now).total_seconds())
        assert panel_row(client, auth, clinician, due)["overdue"] is False
        assert panel(client, auth, clinician, "?overdue=true") == []
        order = [row["id"] for row in panel(client, auth, clinician, "?sort=attention")]
        assert order == [str(current.id), str(due.id)]
        clock.advance(seconds=1)
        assert panel_row(client, auth, clinician, due)["overdue"] is True
        assert [row["id"] for row in panel(client, auth, clinician, "?overdue=true")] == [
            str(due.id)
        ]
        order = [row["id"] for row in panel(client, auth, clinician, "?sort=attention")]
        assert order == [str(due.id), str(current.id)]


class TestThePanelFollowsEveryChange:
    """The panel reads a stored summary of each patient; every kind of change refreshes it.
    Each change is read five minutes after it, past the refresh's one-minute margin, so only
    that change can make the summary stale."""

    def test_a_correction_a_course_change_and_an_infusion(
        self, clock, client, auth, clinic, clinician, patient, make_patient, course_api, submit
    ):
        def after_a_while() -> dict:
            clock.advance(minutes=5)
            return panel_row(client, auth, clinician, patient)

        before_each = [
            {"questionnaire": "phq9", "type": "before_each_infusion", "window_hours": 48}
        ]
        course = course_api.start(patient, started_on=START.date().isoformat(), plan=before_each)
        first = submit(patient, check_in_body(completed_at=at(1), **phq9(12))).get_json()
        second = submit(patient, check_in_body(completed_at=at(2), **phq9(9))).get_json()
        row = after_a_while()
        assert (row["latest"]["total"], row["baseline_total"]) == (9, 9)  # no infusion yet
        assert row["next_due_by"] is None  # nothing scheduled, nothing due
        client.post(
            f"/v1/check-ins/{second['id']}/entered-in-error",
            json={"reason": "Answered for someone else"},
            headers=auth(clinician),
        )
        row = after_a_while()
        assert (row["latest"]["check_in_id"], row["baseline_total"]) == (first["id"], 12)
        third = submit(patient, check_in_body(completed_at=at(3), **phq9(7))).get_json()
        assert after_a_while()["latest"]["check_in_id"] == third["id"]
        response = client.patch(
            f"/v1/courses/{course['id']}",
            json={"indications": ["anxiety"]},
            headers={**auth(clinician), "If-Match": course_api.course(course).headers["ETag"]},
        )
        assert response.status_code == 200
        assert after_a_while()["questionnaire"] == "gad7"
        soon = clock.now + dt.timedelta(days=3)
        course_api.schedule(course, soon.isoformat())
        assert when(after_a_while()["next_due_by"]) == soon

    def test_each_patients_own_changes_whoever_else_was_refreshed_since(
        self, clock, client, auth, clinic, make_user, make_patient, course_api_as, submit
    ):
        """One clinician's panel refreshed after another patient's check-in arrived leaves
        that patient's summary as stale as it was: the next panel showing them refreshes it."""
        theirs, mine = make_user(clinic), make_user(clinic)
        answered = make_patient(clinic, care_team=(theirs,))
        quiet = make_patient(clinic, care_team=(mine,))
        course_api_as(theirs).start(answered, started_on=START.date().isoformat())
        submit(answered, check_in_body(completed_at=at(39), **phq9(12)))
        clock.advance(minutes=5)
        assert panel_row(client, auth, mine, quiet)["latest"] is None
        assert panel_row(client, auth, theirs, answered)["latest"]["total"] == 12


class TestThePanelCountsTheInfusionsGiven:
    """The stored summary reads a course's infusions as its trend does: only those given."""

    def test_one_scheduled_hides_none_given(
        self, clock, client, auth, patient, clinician, course_api, course_with_history
    ):
        course_api.schedule(course_with_history, (NOW + dt.timedelta(days=2)).isoformat())
        row = panel_row(client, auth, clinician, patient)
        assert (row["baseline_total"], row["change"]["absolute"]) == (19, -11)

    def test_a_cancelled_one_was_never_given(
        self, clock, client, auth, patient, clinician, course_api, submit
    ):
        """Without an infusion given, the baseline is the latest check-in so far."""
        course = course_api.start(patient, started_on=START.date().isoformat())
        submit(patient, check_in_body(completed_at=at(-1), **phq9(15)))
        given = course_api.infuse(course, at(0))
        submit(patient, check_in_body(completed_at=at(2), **phq9(9)))
        assert panel_row(client, auth, clinician, patient)["baseline_total"] == 15
        assert course_api.patch_infusion(given, status="cancelled").status_code == 200
        clock.advance(minutes=5)
        row = panel_row(client, auth, clinician, patient)
        assert (row["baseline_total"], row["change"]["absolute"]) == (9, 0)

    def test_one_with_an_impossible_date_is_left_out(
        self, clock, client, auth, session, patient, clinician, course_api, submit
    ):
        course = course_api.start(patient, started_on=START.date().isoformat())
        submit(patient, check_in_body(completed_at=at(-1), **phq9(15)))
        given = course_api.infuse(course, at(0))
        submit(patient, check_in_body(completed_at=at(2), **phq9(9)))
        stored = session.get(Infusion, uuid.UUID(given["id"]))
        # As a row written before dates were checked might hold.
        stored.administered_at = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
        session.commit()
        row = panel_row(client, auth, clinician, patient)
        assert (row["baseline_total"], row["change"]["absolute"]) == (9, 0)

    def test_maintenance_begins_after_the_courses_induction_count(
        self, clock, client, auth, clinic, clinician, make_patient, course_api
    ):
        """A weekly PHQ-9 in maintenance only: nothing due after the second of two induction
        infusions; after the third, the week from Monday 16 November (New York) is due."""
        someone = make_patient(clinic, care_team=(clinician,), timezone="America/New_York")
        weekly = {"questionnaire": "phq9", "type": "every_n_days", "days": 7}
        course = course_api.start(
            someone,
            started_on="2026-11-02",
            induction_infusions=2,
            plan=[weekly | {"phases": ["maintenance"]}],
        )
        for day in ("03", "05"):
            course_api.infuse(course, f"2026-11-{day}T10:00:00-05:00")
        assert panel_row(client, auth, clinician, someone)["next_due_by"] is None
        course_api.infuse(course, "2026-11-17T10:00:00-05:00")
        clock.advance(minutes=5)
        end_of_week = dt.datetime(2026, 11, 23, tzinfo=ZoneInfo("America/New_York"))
        due_by = when(panel_row(client, auth, clinician, someone)["next_due_by"])
        assert due_by == end_of_week - dt.timedelta(microseconds=1)

    def test_the_baseline_is_due_by_the_first_infusion_planned_whatever_the_ids(
        self, clock, client, auth, clinic, clinician, make_patient, course_api
    ):
        """Two infusions planned, the sooner with the higher id: the baseline closes at the
        sooner."""
        someone = make_patient(clinic, care_team=(clinician,))
        course = course_api.start(
            someone,
            started_on=clock.now.date().isoformat(),
            plan=[{"questionnaire": "phq9", "type": "at_baseline"}],
        )
        planned = [
            course_api.schedule(course, (clock.now + dt.timedelta(days=d)).isoformat())
            for d in (3, 10)
        ]
        high, low = sorted(planned, key=lambda i: i["id"], reverse=True)
        sooner = clock.now + dt.timedelta(days=2)
        for infusion, at in ((high, sooner), (low, clock.now + dt.timedelta(days=9))):
            moved = course_api.patch_infusion(infusion, scheduled_for=at.isoformat())
            assert moved.status_code == 200, moved.get_json()
        clock.advance(minutes=5)
        assert when(panel_row(client, auth, clinician, someone)["next_due_by"]) == sooner


def test_the_panel_and_the_trend_agree_on_the_latest_of_two_answered_at_once(
    clock, client, auth, patient, clinician, course_api, submit
):
    """Two PHQ-9s with the same answering time (sent from two devices, say): whichever the
    trend takes as the latest, the panel takes too."""
    course_api.start(patient, started_on=START.date().isoformat())
    for id, total in (
        ("ffffffff-ffff-4fff-bfff-ffffffffffff", 12),
        ("00000000-0000-4000-8000-000000000000", 5),
    ):
        submit(patient, check_in_body(completed_at=at(39), id=id, **phq9(total)))
    latest = trend(client, auth, patient)["latest"]
    row = panel_row(client, auth, clinician, patient)
    assert row["latest"]["check_in_id"] == latest["check_in_id"]
    assert row["latest"]["total"] == latest["total"]
