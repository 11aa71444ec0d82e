"""FHIR R4 (PRODUCT.md §9): every Questionnaire and every demo patient's Bundle validate with
the `fhir.resources` R4 models, and say what CLINICAL.md says: LOINC codes, ordinal values,
the recall period where LOINC's differs, entered-in-error, who may export."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from sqlalchemy import select

from api.demo import DEMO_CLINIC_ID
from api.domain.fhir import ORDINAL_VALUE
from api.models import AuditEvent, CareTeamMember, CheckIn, Infusion, Patient, User
from tests.conftest import check_in_body

# The demo clinic is loaded once for the module; each test runs in a savepoint of it.
pytestmark = pytest.mark.module_transaction

KEYS = ["gad7", "pain", "pcl5", "phq9"]
# Ids that sort before and after any other.
LOW_ID = "00000000-0000-4000-8000-000000000001"
HIGH_ID = "ffffffff-ffff-4fff-bfff-ffffffffffff"


def fhir_get(client, path: str, headers: dict | None = None):
    response = client.get(path, headers=headers or {})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/fhir+json"
    return response.get_json()


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def ordinal(coding: dict) -> float:
    return next(e["valueDecimal"] for e in coding["extension"] if e["url"] == ORDINAL_VALUE)


@pytest.mark.parametrize("key", KEYS)
def test_every_questionnaire_validates_and_keeps_the_published_wording(app, client, key):
    definition = app.extensions["interval.questionnaires"].get(key)
    body = fhir_get(client, f"/v1/fhir/Questionnaire/{key}")
    Questionnaire.model_validate(body)
    assert body["url"].endswith(f"/v1/fhir/Questionnaire/{key}")
    assert body["version"] == definition.version
    items = {item["linkId"]: item for item in body["item"] if item["type"] == "choice"}
    assert list(items) == [item.id for item in definition.items]
    for item in definition.items:
        written = items[item.id]
        assert written["text"] == item.text
        assert written["required"] is item.scored
        assert [c["code"] for c in written.get("code", [])] == ([item.loinc] if item.loinc else [])
        codings = [option["valueCoding"] for option in written["answerOption"]]
        if item.scored:
            assert [ordinal(c) for c in codings] == [option.value for option in item.options]
        else:  # never scored (PHQ-9 item 10): nothing for a consumer to add up
            assert not any("extension" in c for c in codings)
        assert [c["display"] for c in codings] == [option.label for option in item.options]
        assert [c["code"] for c in codings if c["system"] == "http://loinc.org"] == [
            option.loinc for option in item.options if option.loinc
        ]
    shown = [item["text"] for item in body["item"] if item["type"] == "display"]
    introduction = " ".join(t for t in (definition.instructions, definition.stem) if t)
    assert shown == ([introduction] if introduction else [])


def test_the_panel_code_only_where_its_recall_period_is_ours(client):
    phq9 = fhir_get(client, "/v1/fhir/Questionnaire/phq9")
    assert phq9["code"] == [{"system": "http://loinc.org", "code": "44249-1"}]
    pcl5 = fhir_get(client, "/v1/fhir/Questionnaire/pcl5")
    assert "code" not in pcl5
    assert "past week" in pcl5["description"] and "past-month" in pcl5["description"]


def test_questionnaire_negotiation_and_unknown_keys(client):
    assert client.get("/v1/fhir/Questionnaire/phq10").status_code == 404
    refused = client.get("/v1/fhir/Questionnaire/phq9", headers={"Accept": "text/html"})
    assert refused.status_code == 406
    assert refused.mimetype == "application/problem+json"
    plain = client.get("/v1/fhir/Questionnaire/phq9", headers={"Accept": "application/json"})
    assert plain.status_code == 200 and plain.mimetype == "application/json"


def check_references(bundle: dict) -> None:
    """Every fullUrl is the resource's id as a urn:uuid, unique, and every reference in the
    Bundle points at one of them."""
    full_urls = [entry["fullUrl"] for entry in bundle["entry"]]
    assert len(set(full_urls)) == len(full_urls)
    for entry in bundle["entry"]:
        assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"
    patient_url = full_urls[0]
    for resource in (e["resource"] for e in bundle["entry"][1:]):
        assert resource["subject"] == {"reference": patient_url}
        for derived in resource.get("derivedFrom", []):
            assert derived["reference"] in full_urls


def care_clinician(session, patient: Patient) -> User:
    return session.scalars(
        select(User)
        .join(CareTeamMember, CareTeamMember.user_id == User.id)
        .where(CareTeamMember.patient_id == patient.id)
    ).first()


def test_every_demo_patients_bundle_validates_and_holds_everything(client, auth, session, demo):
    patients = session.scalars(select(Patient).where(Patient.clinic_id == DEMO_CLINIC_ID)).all()
    assert len(patients) >= 40
    for patient in patients:
        body = fhir_get(
            client, f"/v1/patients/{patient.id}/fhir", auth(care_clinician(session, patient))
        )
        Bundle.model_validate(body)
        assert body["type"] == "collection"
        assert body["entry"][0]["resource"]["id"] == str(patient.id)
        check_references(body)
        check_ins = session.scalars(select(CheckIn).where(CheckIn.patient_id == patient.id)).all()
        responses = resources(body, "QuestionnaireResponse")
        assert {r["id"] for r in responses} == {str(c.id) for c in check_ins}
        observations = resources(body, "Observation")
        phq9s = sum(1 for c in check_ins if c.questionnaire == "phq9")
        assert len(observations) == len(check_ins) + phq9s
        given = session.scalars(
            select(Infusion).where(
                Infusion.patient_id == patient.id, Infusion.administered_at.is_not(None)
            )
        ).all()
        procedures = {p["id"]: p["status"] for p in resources(body, "Procedure")}
        assert procedures == {
            str(i.id): "completed" if i.status == "completed" else "entered-in-error"
            for i in given
            if i.status != "scheduled"
        }


def totals_by_check_in(bundle: dict) -> dict[str, dict]:
    return {
        o["derivedFrom"][0]["reference"].removeprefix("urn:uuid:"): o
        for o in resources(bundle, "Observation")
        if o["code"]["coding"][0]["code"] != "44260-8"
    }


def test_a_phq9_check_in_becomes_a_response_a_total_and_item_9(
    client, auth, submit, patient, clinician
):
    sent = submit(patient, completed_at="2026-11-20T08:15:00-05:00", i1=3, i2=3, i3=2, i9=1)
    check_in = sent.get_json()
    body = fhir_get(client, f"/v1/patients/{patient.id}/fhir", auth(clinician))
    response = resources(body, "QuestionnaireResponse")[0]
    assert response["status"] == "completed"
    assert response["authored"] == "2026-11-20T08:15:00-05:00"
    assert response["questionnaire"].endswith("/v1/fhir/Questionnaire/phq9|1")
    answered = {item["linkId"]: item["answer"][0]["valueCoding"] for item in response["item"]}
    assert answered["1"]["code"] == "LA6571-9" and ordinal(answered["1"]) == 3
    assert answered["9"]["code"] == "LA6569-3"
    total = totals_by_check_in(body)[check_in["id"]]
    assert total["status"] == "final"
    assert total["code"]["coding"] == [{"system": "http://loinc.org", "code": "44261-6"}]
    assert total["note"] == [{"text": "Severity bands: Kroenke et al. 2001"}]
    assert response["source"] == {"reference": f"urn:uuid:{patient.id}"}
    assert total["valueInteger"] == check_in["score"]["total"] == 9
    assert total["effectiveDateTime"] == "2026-11-20T08:15:00-05:00"
    assert total["category"][0]["coding"][0]["code"] == "survey"
    assert total["interpretation"][0]["coding"][0]["code"] == "mild"
    assert total["derivedFrom"] == [{"reference": f"urn:uuid:{check_in['id']}"}]
    item_9 = next(
        o for o in resources(body, "Observation") if o["code"]["coding"][0]["code"] == "44260-8"
    )
    assert item_9["valueCodeableConcept"]["coding"][0]["code"] == "LA6569-3"
    assert item_9["interpretation"][0]["coding"] == [
        {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
            "code": "A",
            "display": "Abnormal",
        }
    ]
    assert "item 9" in item_9["interpretation"][0]["text"]


def test_item_9_at_zero_is_exported_without_an_abnormal_mark(
    client, auth, submit, patient, clinician
):
    submit(patient, i1=1)
    body = fhir_get(client, f"/v1/patients/{patient.id}/fhir", auth(clinician))
    item_9 = next(
        o for o in resources(body, "Observation") if o["code"]["coding"][0]["code"] == "44260-8"
    )
    assert item_9["valueCodeableConcept"]["coding"][0]["code"] == "LA6568-5"
    assert "interpretation" not in item_9


def test_past_week_pcl5_is_never_coded_as_the_past_month_score(
    app, client, auth, submit, patient, clinician
):
    sent = submit(patient, check_in_body("pcl5", i1=4, i6=3, i8=2, i15=1)).get_json()
    total = totals_by_check_in(
        fhir_get(client, f"/v1/patients/{patient.id}/fhir", auth(clinician))
    )[sent["id"]]
    [own] = total["code"]["coding"]
    assert own["system"].endswith("/v1/fhir/CodeSystem/scores") and "past week" in own["display"]
    assert "past week" in total["code"]["text"]
    recall = total["note"][0]["text"]
    assert "past week" in recall and "Not LOINC 101698-9" in recall
    note = app.extensions["interval.rules"].registry["pcl5"].loinc["note"]
    assert recall.endswith(f"past-month form. {note}")  # the definition's own caution, whole
    assert "101697-1" not in str(total["code"]) and "101698-9" not in str(total["code"])
    components = {c["code"]["coding"][0]["code"]: c for c in total["component"]}
    assert {key: c["valueInteger"] for key, c in components.items()} == sent["score"]["subscales"]
    assert components["B"]["code"]["text"] == "Intrusions (cluster B)"


def test_entered_in_error_is_exported_as_such(client, auth, submit, patient, clinician):
    sent = submit(patient, i1=2).get_json()
    marked = client.post(
        f"/v1/check-ins/{sent['id']}/entered-in-error",
        json={"reason": "Answered for the wrong week"},
        headers=auth(clinician),
    )
    assert marked.status_code == 200, marked.get_json()
    body = fhir_get(client, f"/v1/patients/{patient.id}/fhir", auth(clinician))
    assert resources(body, "QuestionnaireResponse")[0]["status"] == "entered-in-error"
    assert {o["status"] for o in resources(body, "Observation")} == {"entered-in-error"}


def test_ids_are_stable_across_exports(client, auth, submit, patient, clinician):
    submit(patient, i9=2)
    first = fhir_get(client, f"/v1/patients/{patient.id}/fhir", auth(clinician))
    second = fhir_get(client, f"/v1/patients/{patient.id}/fhir", auth(clinician))
    assert [e["fullUrl"] for e in first["entry"]] == [e["fullUrl"] for e in second["entry"]]


def test_since_exports_only_what_changed(client, auth, submit, patient, clinician, session):
    old = submit(patient, i1=1).get_json()
    session.execute(
        CheckIn.__table__.update()
        .where(CheckIn.id == uuid.UUID(old["id"]))
        .values(received_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    )
    session.commit()
    new = submit(patient, check_in_body("gad7", i1=2)).get_json()
    since = "2026-06-01T00:00:00Z"
    body = fhir_get(client, f"/v1/patients/{patient.id}/fhir?_since={since}", auth(clinician))
    assert resources(body, "Patient")[0]["id"] == str(patient.id)
    assert [r["id"] for r in resources(body, "QuestionnaireResponse")] == [new["id"]]
    whole = fhir_get(client, f"/v1/patients/{patient.id}/fhir", auth(clinician))
    assert len(resources(whole, "QuestionnaireResponse")) == 2
    bad = client.get(f"/v1/patients/{patient.id}/fhir?_since=yesterday", headers=auth(clinician))
    assert bad.status_code == 422


def test_infusions_become_procedures_with_details_for_clinicians_only(
    client, auth, patient, clinician, course_api
):
    course = course_api.start(patient)
    given = course_api.infuse(
        course, "2026-10-02T14:00:00Z", side_effects=["nausea"], notes="Secret clinical note"
    )
    course_api.schedule(course, "2026-12-20T14:00:00Z")
    seen = fhir_get(client, f"/v1/patients/{patient.id}/fhir", auth(clinician))
    procedure = resources(seen, "Procedure")
    assert [p["id"] for p in procedure] == [given["id"]]
    assert procedure[0]["performedPeriod"] == {
        "start": "2026-10-02T14:00:00+00:00",
        "end": "2026-10-02T14:40:00+00:00",
    }
    assert procedure[0]["complication"] == [{"text": "nausea"}]
    notes = [note["text"] for note in procedure[0]["note"]]
    assert notes == ["Infusion 1 (induction)", "Dose 0.5 mg/kg", "Secret clinical note"]
    own = fhir_get(client, f"/v1/patients/{patient.id}/fhir", auth(patient))
    Bundle.model_validate(own)
    mine = resources(own, "Procedure")[0]
    assert mine["performedDateTime"] == "2026-10-02T14:00:00+00:00"
    assert [note["text"] for note in mine["note"]] == ["Infusion 1 (induction)"]
    assert "complication" not in mine and "Secret clinical note" not in str(own)


def test_an_export_is_audited(client, auth, patient, clinician, session):
    fhir_get(client, f"/v1/patients/{patient.id}/fhir", auth(clinician))
    event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "fhir.export", AuditEvent.patient_id == patient.id
        )
    ).one()
    assert event.patient_id == patient.id and event.actor_id == clinician.id


def test_an_infusion_cancelled_after_it_was_recorded_is_retracted(
    client, auth, patient, clinician, course_api
):
    course = course_api.start(patient)
    first = course_api.infuse(course, "2026-10-02T14:00:00Z")
    second = course_api.infuse(course, "2026-10-05T14:00:00Z")
    assert course_api.patch_infusion(first, status="cancelled").status_code == 200
    since = "2026-11-01T00:00:00Z"
    body = fhir_get(client, f"/v1/patients/{patient.id}/fhir?_since={since}", auth(clinician))
    procedures = {p["id"]: p for p in resources(body, "Procedure")}
    assert procedures[first["id"]]["status"] == "entered-in-error"
    assert procedures[second["id"]]["status"] == "completed"
    # The retracted one has no number any more: its notes are the clinician's details alone.
    assert [note["text"] for note in procedures[first["id"]]["note"]] == ["Dose 0.5 mg/kg"]
    # Its neighbour is renumbered, and the next export (whatever `_since`) says so.
    assert procedures[second["id"]]["note"][0]["text"] == "Infusion 1 (induction)"


@pytest.mark.parametrize(
    "accept,served",
    [
        ("application/fhir+json; fhirVersion=4.0", "application/fhir+json"),
        ("application/fhir+json;charset=utf-8", "application/fhir+json"),
        ("application/json; charset=utf-8", "application/json"),
        ("*/*", "application/fhir+json"),
        ("application/fhir+json; fhirVersion=3.0", None),
        ("text/html", None),
    ],
)
def test_accept_parameters_are_understood(client, accept, served):
    answer = client.get("/v1/fhir/Questionnaire/gad7", headers={"Accept": accept})
    if served is None:
        assert answer.status_code == 406
    else:
        assert (answer.status_code, answer.mimetype) == (200, served)
        assert "Accept" in answer.headers["Vary"]


def test_a_check_in_entered_by_the_clinic_says_so(client, auth, patient, clinician, submit):
    submit(patient, as_user=clinician, i1=1)
    body = fhir_get(client, f"/v1/patients/{patient.id}/fhir", auth(clinician))
    response = resources(body, "QuestionnaireResponse")[0]
    assert "source" not in response
    assert response["author"] == {"display": "Clinic staff, entering the patient's answers"}


def test_the_questionnaire_header_is_exact(client):
    body = fhir_get(client, "/v1/fhir/Questionnaire/phq9")
    assert (body["id"], body["name"], body["status"], body["subjectType"]) == (
        "phq9",
        "PHQ9",
        "active",
        ["Patient"],
    )
    assert body["description"].startswith("Recall period: the last 2 weeks. Public domain")
    assert body["item"][0]["linkId"] == "instructions"
    assert body["item"][1]["code"] == [{"system": "http://loinc.org", "code": "44250-9"}]


def test_the_patient_carries_the_record_number_in_the_clinics_namespace(
    client, auth, session, clinic, clinician, make_patient
):
    someone = make_patient(clinic, care_team=(clinician,), mrn="MRN-0042")
    someone.birth_year = 1984
    session.commit()
    body = fhir_get(client, f"/v1/patients/{someone.id}/fhir", auth(clinician))
    [resource] = resources(body, "Patient")
    assert resource["identifier"] == [
        {"use": "usual", "system": f"urn:uuid:{clinic.id}", "value": "MRN-0042"}
    ]
    assert resource["birthDate"] == "1984"


def test_a_total_is_a_survey_observation_named_and_banded(client, auth, submit, patient, clinician):
    check_in = submit(patient, i1=3, i2=3, i3=3, i4=3, i5=3).get_json()  # 15: moderately severe
    body = fhir_get(client, f"/v1/patients/{patient.id}/fhir", auth(clinician))
    total = totals_by_check_in(body)[check_in["id"]]
    assert total["category"] == [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                    "code": "survey",
                    "display": "Survey",
                }
            ],
            "text": "Survey",
        }
    ]
    [band] = total["interpretation"]
    assert band["coding"][0]["code"] == "moderately_severe"
    assert band["coding"][0]["display"] == band["text"] == "Moderately severe"
    assert total["code"]["text"] == "PHQ-9 total score"


def test_an_answer_without_a_loinc_code_is_coded_by_its_value(
    client, auth, submit, patient, clinician
):
    submit(patient, check_in_body("pain", i1=7))
    body = fhir_get(client, f"/v1/patients/{patient.id}/fhir", auth(clinician))
    [response] = resources(body, "QuestionnaireResponse")
    coding = response["item"][0]["answer"][0]["valueCoding"]
    assert coding["code"] == "7" and ordinal(coding) == 7


def test_since_is_inclusive_and_takes_corrections_too(
    clock, client, auth, submit, patient, clinician, session
):
    old, corrected, recent = (submit(patient, i1=n).get_json() for n in (1, 2, 3))
    since = clock.now
    earlier = since - dt.timedelta(days=30)
    session.execute(
        CheckIn.__table__.update()
        .where(CheckIn.id.in_([uuid.UUID(old["id"]), uuid.UUID(corrected["id"])]))
        .values(received_at=earlier)
    )
    session.commit()
    client.post(
        f"/v1/check-ins/{corrected['id']}/entered-in-error",
        json={"reason": "Answered for someone else"},
        headers=auth(clinician),
    )
    query = f"?_since={since.isoformat().replace('+00:00', 'Z')}"
    body = fhir_get(client, f"/v1/patients/{patient.id}/fhir{query}", auth(clinician))
    exported = {r["id"]: r["status"] for r in resources(body, "QuestionnaireResponse")}
    assert exported == {corrected["id"]: "entered-in-error", recent["id"]: "completed"}


def test_entries_run_in_the_order_things_happened(
    client, auth, submit, patient, clinician, course_api
):
    # Recorded, and named, against the order of time throughout.
    later = submit(
        patient, check_in_body(completed_at="2026-11-19T09:00:00Z", id=LOW_ID, i1=1)
    ).get_json()
    first = submit(
        patient, check_in_body(completed_at="2026-11-18T09:00:00Z", id=HIGH_ID, i1=2)
    ).get_json()
    later_course = course_api.start(patient, started_on="2026-09-01")
    course_api.infuse(later_course, "2026-09-02T15:00:00Z")
    course_api.complete(later_course, "2026-10-01")
    earlier_course = course_api.start(patient, started_on="2026-06-01")
    course_api.infuse(earlier_course, "2026-06-10T15:00:00Z")
    course_api.infuse(earlier_course, "2026-06-03T15:00:00Z")  # recorded after the one above
    course_api.complete(earlier_course, "2026-07-01")
    body = fhir_get(client, f"/v1/patients/{patient.id}/fhir", auth(clinician))
    assert [r["id"] for r in resources(body, "QuestionnaireResponse")] == [first["id"], later["id"]]
    performed = [
        p.get("performedDateTime") or p["performedPeriod"]["start"]
        for p in resources(body, "Procedure")
    ]
    assert [dt.datetime.fromisoformat(p).date().isoformat() for p in performed] == [
        "2026-06-03",
        "2026-06-10",
        "2026-09-02",
    ]


def test_a_courses_infusions_run_in_the_order_given_whatever_their_ids(
    client, auth, patient, clinician, course_api, session
):
    course = course_api.start(patient, started_on="2026-10-01")
    for infusion_id, day in ((HIGH_ID, 2), (LOW_ID, 5)):
        given_at = dt.datetime(2026, 10, day, 14, 0, tzinfo=dt.UTC)
        session.add(
            Infusion(
                id=uuid.UUID(infusion_id),
                clinic_id=patient.clinic_id,
                course_id=uuid.UUID(course["id"]),
                patient_id=patient.id,
                status="completed",
                administered_at=given_at,
                dose_mg_per_kg=0.5,
                created_at=given_at,
                created_by=clinician.id,
                updated_at=given_at,
                version=1,
            )
        )
    session.commit()
    body = fhir_get(client, f"/v1/patients/{patient.id}/fhir", auth(clinician))
    assert [p["id"] for p in resources(body, "Procedure")] == [HIGH_ID, LOW_ID]


def test_an_infusion_cancelled_before_it_was_given_is_not_exported(
    client, auth, patient, clinician, course_api
):
    course = course_api.start(patient)
    given = course_api.infuse(course, "2026-10-02T14:00:00Z")
    planned = course_api.schedule(course, "2026-12-20T14:00:00Z")
    assert course_api.patch_infusion(planned, status="cancelled").status_code == 200
    body = fhir_get(client, f"/v1/patients/{patient.id}/fhir", auth(clinician))
    assert [p["id"] for p in resources(body, "Procedure")] == [given["id"]]
