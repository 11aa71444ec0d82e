"""List endpoints run the same number of queries for 2 items as for 20 (no N+1)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import check_in_body

START = dt.datetime(2026, 10, 5, 14, 0, tzinfo=dt.UTC)


def queries_for(count_queries, call) -> int:
    with count_queries() as statements:
        response = call()
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize("path", ["check-ins", "alerts", "infusions", "patients"])
def test_list_cost_does_not_grow_with_items(
    client, auth, clinician, patient, make_patient, clinic, submit, course_api, count_queries, path
):
    course = course_api.start(patient)
    urls = {
        "check-ins": f"/v1/patients/{patient.id}/check-ins",
        "alerts": "/v1/alerts",
        "infusions": f"/v1/courses/{course['id']}/infusions",
        "patients": "/v1/patients",
    }

    def add(n: int) -> None:
        for k in range(n):
            when = (START + dt.timedelta(days=k, hours=len(urls))).isoformat()
            submit(patient, check_in_body(completed_at=when, i9=1))
            course_api.infuse(course, (START + dt.timedelta(days=k, hours=1)).isoformat())
            make_patient(clinic, care_team=(clinician,))

    headers = auth(clinician)

    def call():
        return client.get(urls[path], headers=headers)

    add(2)
    few = queries_for(count_queries, call)
    add(18)
    many = queries_for(count_queries, call)
    assert many == few
