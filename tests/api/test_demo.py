"""The demo clinic (`interval demo`, and so `make run`) shows every story the product tells:
responders and non-responders, each signal, an open urgent alert, missed check-ins, benefit
that wanes and so sets an interval, and a late offline batch."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import select

from api.demo import DEMO_CLINIC_ID
from api.models import CheckIn, User

# The demo clinic is loaded once for the module; each test runs in a savepoint of it.
pytestmark = pytest.mark.module_transaction


def demo_clinicians(session) -> list[User]:
    return list(
        session.scalars(
            select(User).where(User.clinic_id == DEMO_CLINIC_ID, User.role == "clinician")
        )
    )


def panel_of_every_clinician(client, auth, session) -> list[dict]:
    rows = []
    for clinician in demo_clinicians(session):
        page = client.get("/v1/patients?sort=attention&limit=100", headers=auth(clinician))
        rows += [patient["progress"] for patient in page.get_json()["items"]]
    return rows


def test_the_demo_clinic_shows_every_story(client, auth, session, demo):
    panel = panel_of_every_clinician(client, auth, session)
    seen = Counter(signal for row in panel for signal in row["signals"])
    seen["urgent alert"] = sum(1 for row in panel if row["open_alerts"]["urgent"])
    seen["overdue"] = sum(1 for row in panel if row["overdue"])
    responses = [row["status"]["response"] for row in panel if row["status"]]
    seen["responder"] = responses.count(True)
    seen["non-responder"] = responses.count(False)
    wanted = ["early_non_improvement", "waning", "relapse", "urgent alert", "overdue"]
    assert all(seen[kind] >= 1 for kind in wanted), seen
    assert seen["responder"] >= 5 and seen["non-responder"] >= 5, seen


def test_benefit_wanes_measurably_somewhere(client, auth, session, demo):
    medians = []
    for clinician in demo_clinicians(session):
        page = client.get("/v1/patients?limit=100", headers=auth(clinician)).get_json()
        medians += durability_medians(client, auth, clinician, page["items"])
    assert any(median is not None for median in medians)


def durability_medians(client, auth, clinician, patients: list[dict]) -> list[float | None]:
    medians = []
    for patient in patients:
        summary = client.get(f"/v1/patients/{patient['id']}/summary", headers=auth(clinician))
        medians += [
            item["durability"]["median_days_of_benefit"]
            for item in summary.get_json()["instruments"]
        ]
    return medians


def test_check_ins_arrive_after_they_are_answered(session, demo):
    delays = session.execute(
        select(CheckIn.completed_at, CheckIn.received_at).where(CheckIn.clinic_id == DEMO_CLINIC_ID)
    ).all()
    assert all(received >= completed for completed, received in delays)
    assert sum(1 for completed, received in delays if received > completed) > len(delays) * 0.9
    # The offline batch: three weeks of answers synced at once.
    synced_late = [c for c, r in delays if r - c > dt.timedelta(days=2)]
    assert len(synced_late) >= 2
