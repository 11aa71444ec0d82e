"""Crisis information, honestly: stored answers say they were sent and may not be seen at once;
refused ones, whatever refused them, say they were NOT sent (CLINICAL.md "Crisis wording")."""

from __future__ import annotations

import json
import uuid

import pytest

from api.domain import check_ins as check_in_service
from api.models import CheckIn
from tests.conftest import check_in_body

# CLINICAL.md "Crisis wording", word for word.
SENT = (
    "Your answers have been sent to your care team. They may not see them right away. If you are "
    "thinking about harming yourself or are in danger, call or text 988 (Suicide & Crisis "
    "Lifeline) now, or call 911."
)
NOT_SENT = (
    "Your answers have NOT been sent yet. If you are thinking about harming yourself or are in "
    "danger, call or text 988 now, or call 911."
)


def not_sent(body: dict) -> bool:
    safety = body.get("safety") or {}
    return safety.get("answers_sent") is False and safety.get("message") == NOT_SENT


def test_stored_answers_say_they_were_sent(submit, patient):
    safety = submit(patient, check_in_body(i9=1)).get_json()["safety"]
    assert (safety["answers_sent"], safety["message"]) == (True, SENT)
    assert safety["resources"][0]["phone"] == "988"


def test_a_replay_of_stored_answers_says_sent_too(submit, patient):
    body = check_in_body(i9=1, id=uuid.uuid4())
    submit(patient, body)
    replay = submit(patient, body)
    assert replay.status_code == 200 and replay.get_json()["safety"]["answers_sent"] is True


@pytest.mark.parametrize(
    "change",
    [
        {"answers": {"9": 2}},  # items missing
        {"questionnaire": "PHQ9"},  # the key in another case
        {"questionnaire": " phq9 "},
        {"completed_at": "2026-11-20 08:15:00"},  # not RFC 3339
        {"score": 3},  # a server-owned field
    ],
)
def test_refused_answers_say_they_were_not_sent(submit, patient, change):
    body = check_in_body(i9=2) | change
    response = submit(patient, body)
    assert response.status_code == 422
    assert not_sent(response.get_json())


def test_an_id_conflict_says_not_sent(submit, patient):
    first = check_in_body(i1=1, id=uuid.uuid4())
    submit(patient, first)
    conflicting = {**first, "answers": {**first["answers"], "9": 1}}
    response = submit(patient, conflicting)
    assert response.status_code == 409
    assert not_sent(response.get_json())


def test_an_expired_session_says_not_sent(client, patient):
    response = client.post(
        f"/v1/patients/{patient.id}/check-ins",
        json=check_in_body(i9=1),
        headers={"Authorization": "Bearer not-a-token"},
    )
    assert response.status_code == 401
    assert not_sent(response.get_json())


def test_an_error_of_ours_says_not_sent(submit, patient, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("scoring broke")

    monkeypatch.setattr(check_in_service, "score", broken)
    response = submit(patient, check_in_body(i9=1))
    assert response.status_code == 500
    assert not_sent(response.get_json())


def test_a_refusal_without_a_safety_item_has_no_safety(submit, patient):
    response = submit(patient, check_in_body(i1=3) | {"answers": {"1": 3}})
    assert response.status_code == 422 and "safety" not in response.get_json()


def post_batch(client, auth, patient, items, who=None):
    return client.post(
        f"/v1/patients/{patient.id}/check-ins/batch",
        json={"check_ins": items},
        headers=auth(who or patient),
    )


def test_batch_items_are_worded_by_what_happened_to_them(client, auth, submit, patient):
    stored = check_in_body(i9=1, id=uuid.uuid4())
    first = check_in_body(id=uuid.uuid4())
    submit(patient, first)
    conflict = {**first, "answers": {**first["answers"], "9": 3}}
    invalid = {**check_in_body(i9=2), "questionnaire": "Phq9"}
    results = post_batch(client, auth, patient, [stored, conflict, invalid]).get_json()["results"]
    assert [r["status"] for r in results] == [201, 409, 422]
    assert results[0]["check_in"]["safety"]["message"] == SENT
    assert not_sent(results[1]["problem"]) and not_sent(results[2]["problem"])


def test_a_refused_batch_says_not_sent(client, auth, patient, make_patient, clinic):
    stranger = make_patient(clinic)
    response = post_batch(client, auth, patient, [check_in_body(i9=1)], who=stranger)
    assert response.status_code == 404
    assert not_sent(response.get_json())


def test_patients_can_read_their_clinics_crisis_information(client, auth, patient):
    crisis = client.get("/v1/me", headers=auth(patient)).get_json()["crisis"]
    assert crisis["message_when_sent"] == SENT
    assert crisis["message_when_not_sent"] == NOT_SENT
    assert {r["phone"] for r in crisis["resources"]} == {"988", "911"}


def test_a_clinic_sets_its_own_words_for_both(client, auth, admin, clinic, patient, submit):
    sent = "Your answers reached us. Call our on-call line at 555-0100, or 911 in an emergency."
    unsent = "Your answers have NOT reached us yet. Call 555-0100 now, or 911 in an emergency."
    resources = [{"name": "Clinic on-call", "phone": "555-0100"}]
    updated = client.patch(
        f"/v1/clinics/{clinic.id}",
        headers=auth(admin),
        json={
            "crisis_message": sent,
            "crisis_message_not_sent": unsent,
            "crisis_resources": resources,
        },
    )
    assert updated.status_code == 200
    for shown in (updated, client.get(f"/v1/clinics/{clinic.id}", headers=auth(admin))):
        body = shown.get_json()
        assert (body["crisis_message"], body["crisis_message_not_sent"]) == (sent, unsent)
        assert body["crisis_resources"] == resources
        assert body["uses_default_crisis_information"] is False
    assert submit(patient, check_in_body(i9=1)).get_json()["safety"] == {
        "answers_sent": True,
        "message": sent,
        "resources": resources,
    }
    refused = submit(patient, check_in_body(i9=1) | {"answers": {"9": 1}}).get_json()["safety"]
    assert (refused["message"], refused["resources"]) == (unsent, resources)
    card = client.get("/v1/me", headers=auth(patient)).get_json()["crisis"]
    assert card == {
        "message_when_sent": sent,
        "message_when_not_sent": unsent,
        "resources": resources,
    }


def test_no_text_ever_claims_an_alert(client, auth, patient, submit):
    texts = [SENT, NOT_SENT]
    texts.append(submit(patient, check_in_body(i9=1)).get_json()["safety"]["message"])
    assert not any("alerted" in text for text in texts)


def test_a_failed_commit_answers_503_and_says_not_sent(submit, patient, session, commit_fails):
    body = check_in_body(i9=3, id=uuid.uuid4())
    response = submit(patient, body)
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert not_sent(response.get_json())
    assert session.get(CheckIn, uuid.UUID(body["id"])) is None


@pytest.mark.parametrize(
    "item_9",
    ["2", 1.5, 4, " 1 ", True],
    ids=["a string", "a fraction", "above the range", "padded", "true"],
)
def test_an_item_9_the_validator_refuses_still_says_not_sent(submit, patient, item_9):
    body = check_in_body()
    body["answers"]["9"] = item_9
    response = submit(patient, body)
    assert response.status_code == 422
    assert not_sent(response.get_json())


def test_a_body_that_is_not_strict_json_still_says_not_sent(client, auth, patient):
    text = json.dumps(check_in_body(i9=2))[:-1] + ', "note": NaN}'
    response = client.post(
        f"/v1/patients/{patient.id}/check-ins",
        data=text,
        headers={**auth(patient), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert not_sent(response.get_json())


def test_a_batch_sent_as_a_bare_array_says_not_sent(client, auth, patient):
    response = client.post(
        f"/v1/patients/{patient.id}/check-ins/batch",
        json=[check_in_body(i9=1)],
        headers=auth(patient),
    )
    assert response.status_code == 422
    assert not_sent(response.get_json())


@pytest.mark.parametrize("path", ["/check-ins", "/check-ins/batch"])
def test_an_oversized_submission_is_a_413(client, auth, patient, path):
    huge = '{"questionnaire": "phq9", "note": "' + "x" * (1024 * 1024 + 10) + '"}'
    response = client.post(
        f"/v1/patients/{patient.id}{path}",
        data=huge,
        headers={**auth(patient), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
