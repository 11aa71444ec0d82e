"""A Python client generated from openapi.yaml with openapi-python-client, as an integrator
would make one: it generates without a warning, its models are fully typed, and it drives a
live server through the patient's and the clinician's journeys."""

from __future__ import annotations

import datetime as dt
import enum
import importlib
import subprocess
import sys
import types
import typing
import uuid
from dataclasses import dataclass

import pytest

from api.openapi import SPEC_PATH
from tests.conftest import PASSWORD

PACKAGE = "interval_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> types.ModuleType:
    folder = tmp_path_factory.mktemp("client")
    config = folder / "config.yaml"
    config.write_text("post_hooks: []\n")
    run = subprocess.run(  # noqa: S603 - the generator from our own environment
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(SPEC_PATH),
            "--meta",
            "none",
            "--output-path",
            str(folder / PACKAGE),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "Warning" not in output and "Error" not in output, output
    sys.path.insert(0, str(folder))
    yield importlib.import_module(PACKAGE)
    sys.path.remove(str(folder))
    for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
        del sys.modules[name]


def part(package: types.ModuleType, name: str) -> types.ModuleType:
    return importlib.import_module(f"{package.__name__}.{name}")


def field_types(model: type) -> dict[str, object]:
    """The model's field hints; names its module imports only for type checkers come from the
    models package."""
    module = sys.modules[model.__module__]
    package = sys.modules[model.__module__.rsplit(".", 1)[0]]
    return typing.get_type_hints(model, vars(module), vars(package))


def members(annotation: object) -> set:
    """The types a hint allows, Unset and None aside."""
    found = set(typing.get_args(annotation)) or {annotation}
    return {t for t in found if t is not type(None) and getattr(t, "__name__", "") != "Unset"}


@pytest.mark.parametrize("name", ["CheckIn", "Alert", "Infusion", "Problem", "Course"])
def test_the_models_are_fully_typed(generated, name):
    models = part(generated, "models")
    hints = field_types(getattr(models, name))
    for field, hint in hints.items():
        if field == "additional_properties":
            continue
        for allowed in members(hint):
            assert allowed is not typing.Any, f"{name}.{field}"
            origin = typing.get_origin(allowed)
            for inner in typing.get_args(allowed) if origin in (list, dict) else ():
                assert inner is not typing.Any, f"{name}.{field}"


def test_enums_are_enums_and_nullable_parts_are_their_models(generated):
    models = part(generated, "models")
    check_in, alert, infusion = (
        field_types(models.CheckIn),
        field_types(models.Alert),
        field_types(models.Infusion),
    )
    for hint in (check_in["status"], alert["kind"], alert["priority"], infusion["status"]):
        assert all(issubclass(t, enum.Enum) for t in members(hint)), hint
    assert members(check_in["entered_in_error"]) == {models.EnteredInError}
    assert members(alert["acknowledged"]) == {models.Action}
    assert members(infusion["blood_pressure"]) == {models.BloodPressure}
    assert members(infusion["phase"]) == {models.InfusionPhase}


def call(package, module: str, operation: str, **kwargs):
    """One operation, by the names the document gives: the detailed response."""
    api = importlib.import_module(f"{package.__name__}.api.{module}.{operation}")
    return api.sync_detailed(**kwargs)


def signed_in(package, base_url: str, token: str):
    return package.AuthenticatedClient(
        base_url=base_url, token=token, raise_on_unexpected_status=True
    )


@dataclass
class Journey:
    """The admin invited a clinician, who created a patient with a course; the patient
    enrolled and sent a PHQ-9 endorsing item 9 (an urgent alert)."""

    m: types.ModuleType
    clinician: object
    patient: object
    patient_id: uuid.UUID
    course_id: uuid.UUID
    first: object


def sign_in(package, anonymous, base_url: str, email: str, password: str):
    m = part(package, "models")
    login = call(
        package, "auth", "login", client=anonymous, body=m.Login(email=email, password=password)
    )
    return signed_in(package, base_url, login.parsed.access_token)


def phq9(m, answers: dict, days_ago: float):
    return m.CheckInSubmitPhq9(
        questionnaire="phq9",
        answers=m.CheckInSubmitPhq9Answers.from_dict(answers),
        completed_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago),
        id=uuid.uuid4(),
    )


ONES = {str(n): 1 for n in range(1, 11)}


@pytest.fixture(scope="module")
def journey(generated, base_url, clinic) -> Journey:
    m = part(generated, "models")
    anonymous = generated.Client(base_url=base_url, raise_on_unexpected_status=True)
    admin = sign_in(generated, anonymous, base_url, clinic.admin_email, clinic.password)
    invited = call(
        generated,
        "clinics",
        "invite_staff",
        clinic_id=uuid.UUID(clinic.id),
        client=admin,
        body=m.StaffInvite(
            email="dr@contract.test", display_name="Dr Contract", role=m.StaffRole.CLINICIAN
        ),
    )
    assert invited.status_code == 201 and invited.headers["Location"]
    call(
        generated,
        "auth",
        "enroll",
        client=anonymous,
        body=m.Enroll(
            code=invited.parsed.enrollment.code, email="dr@contract.test", password=PASSWORD
        ),
    )
    clinician = sign_in(generated, anonymous, base_url, "dr@contract.test", PASSWORD)
    created = call(
        generated,
        "patients",
        "create_patient",
        client=clinician,
        body=m.PatientCreate(display_name="Robin", timezone="Europe/London"),
    )
    course = call(
        generated,
        "courses",
        "create_course",
        patient_id=created.parsed.id,
        client=clinician,
        body=m.CourseCreate(
            indications=[m.Indication.DEPRESSION],
            started_on=dt.date.today() - dt.timedelta(days=10),
        ),
    )
    assert course.status_code == 201
    enrolled = call(
        generated,
        "auth",
        "enroll",
        client=anonymous,
        body=m.Enroll(
            code=created.parsed.enrollment.code, email="robin@contract.test", password=PASSWORD
        ),
    )
    patient = signed_in(generated, base_url, enrolled.parsed.access_token)
    first = phq9(m, ONES, days_ago=2)
    stored = call(
        generated,
        "check_ins",
        "submit_check_in",
        patient_id=created.parsed.id,
        client=patient,
        body=first,
    )
    assert stored.status_code == 201 and isinstance(stored.parsed, m.CheckIn)
    assert stored.parsed.safety.answers_sent is True
    return Journey(m, clinician, patient, created.parsed.id, course.parsed.id, first)


def test_the_patients_journey(generated, journey):
    m, patient, patient_id = journey.m, journey.patient, journey.patient_id
    due = call(generated, "courses", "get_due", patient_id=patient_id, client=patient)
    assert due.status_code == 200 and isinstance(due.parsed, m.Due)
    later = phq9(m, ONES | {"9": 0}, days_ago=1)
    invalid = phq9(m, ONES | {"1": 7}, days_ago=0.1)
    batch = call(
        generated,
        "check_ins",
        "submit_check_in_batch",
        patient_id=patient_id,
        client=patient,
        body=m.Batch(check_ins=[journey.first, later, invalid]),
    )
    assert batch.status_code == 207
    assert [r.status for r in batch.parsed.results] == [200, 201, 422]
    summary = call(generated, "trends", "get_summary", patient_id=patient_id, client=patient)
    assert summary.status_code == 200 and summary.parsed.instruments[0].sentence
    trend = call(
        generated,
        "trends",
        "get_trend",
        patient_id=patient_id,
        questionnaire=m.QuestionnaireKey.PHQ9,
        client=patient,
    )
    assert [p.total for p in trend.parsed.points] == [9, 8]


def test_the_clinicians_journey(generated, journey):
    m, clinician, patient_id = journey.m, journey.clinician, journey.patient_id
    panel = call(
        generated, "patients", "list_patients", client=clinician, sort=m.PatientSort.ATTENTION
    )
    assert [p.id for p in panel.parsed.items] == [patient_id]
    assert panel.parsed.items[0].progress.open_alerts.urgent == 1
    inbox = call(generated, "alerts", "list_alerts", client=clinician)
    [alert] = inbox.parsed.items
    assert alert.kind == m.AlertKind.SUICIDAL_IDEATION and alert.answer.item == "9"
    acknowledged = call(
        generated,
        "alerts",
        "acknowledge_alert",
        alert_id=alert.id,
        client=clinician,
        body=m.Acknowledge(note="Called the patient"),
    )
    assert acknowledged.parsed.status == m.AlertStatus.ACKNOWLEDGED
    scheduled = call(
        generated,
        "courses",
        "create_infusion",
        course_id=journey.course_id,
        client=clinician,
        body=m.InfusionCreate(
            status=m.NewInfusionStatus.SCHEDULED,
            scheduled_for=dt.datetime.now(dt.UTC) - dt.timedelta(hours=3),
        ),
    )
    completed = m.InfusionUpdate(
        status=m.InfusionStatus.COMPLETED,
        administered_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2),
        dose_mg_per_kg=0.5,
    )
    given = call(
        generated,
        "courses",
        "update_infusion",
        infusion_id=scheduled.parsed.id,
        client=clinician,
        if_match=scheduled.headers["ETag"],
        body=completed,
    )
    assert given.status_code == 200 and given.parsed.number == 1
    stale = call(
        generated,
        "courses",
        "update_infusion",
        infusion_id=scheduled.parsed.id,
        client=clinician,
        if_match=scheduled.headers["ETag"],
        body=m.InfusionUpdate(notes="late note"),
    )
    assert stale.status_code == 412 and isinstance(stale.parsed, m.Problem)
    report = call(generated, "trends", "get_report", patient_id=patient_id, client=clinician)
    assert report.status_code == 200 and b"<svg" in report.content
