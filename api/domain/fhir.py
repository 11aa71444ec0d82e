"""FHIR R4 (PRODUCT.md §9): a questionnaire definition as a Questionnaire, and a patient's
data as a Bundle of type `collection` for an EHR to import.

Resources are plain JSON-ready dicts; the tests validate them with the `fhir.resources` R4
models. Every id is stable: the Patient, QuestionnaireResponse and Procedure keep the id of
the record they come from, and each Observation's id is derived from its check-in's id and
what it observes, so a second export of the same data names the same resources.

`base` is where the service's FHIR paths live (`…/v1/fhir`); canonical URLs and the code
systems of our own codes (severity bands, answers without a LOINC code) hang from it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import cast

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from api.domain.access import Actor, get_patient
from api.domain.courses import InfusionRecord, infusion_records
from api.domain.questionnaires import Definition, Flag, Item, Option
from api.domain.rules import Rules
from api.domain.timeline import local_time
from api.models import CheckIn, Course, Infusion, Patient

LOINC = "http://loinc.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
# The ordinal value of an answer: R4's core extension, and its R5 successor (same value).
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
ITEM_WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"
# Observation ids derive from their check-in's id in this namespace (uuid5): stable, unique.
OBSERVATION_IDS = uuid.UUID("5b1c4a8e-8f0e-4d39-9a57-2f1f0d6c1e21")
INFUSION_TEXT = "Intravenous ketamine infusion"


@dataclass(frozen=True)
class Codes:
    """Where our canonical URLs and local code systems live."""

    base: str

    def questionnaire(self, key: str) -> str:
        return f"{self.base}/Questionnaire/{key}"

    def system(self, name: str) -> str:
        return f"{self.base}/CodeSystem/{name}"


def _coding(system: str, code: str, display: str | None = None) -> dict:
    coding = {"system": system, "code": code}
    if display is not None:
        coding["display"] = display
    return coding


def answer_coding(codes: Codes, definition: Definition, item: Item, option: Option) -> dict:
    """An answer as a coding: its LOINC answer code where one exists, else the value in the
    instrument's own answer system. A scored item's answers carry their ordinal value (what
    the total sums); an unscored item's (PHQ-9 item 10) carry none, so that nothing adds them."""
    if option.loinc:
        coding = _coding(LOINC, option.loinc, option.label)
    else:
        coding = _coding(
            codes.system(f"{definition.key}-{item.option_set}"), str(option.value), option.label
        )
    if item.scored:
        coding["extension"] = [
            {"url": ORDINAL_VALUE, "valueDecimal": option.value},
            {"url": ITEM_WEIGHT, "valueDecimal": option.value},
        ]
    return coding


def _recall_text(definition: Definition) -> str:
    return f"Recall period: {definition.recall_period['text']}."


def questionnaire(codes: Codes, definition: Definition) -> dict:
    """The definition as a FHIR Questionnaire: the published wording item by item, LOINC
    codes where they exist (the panel only where its recall period matches this form's),
    each answer with its ordinal value, scored items required."""
    loinc = definition.loinc
    introduction = " ".join(text for text in (definition.instructions, definition.stem) if text)
    resource: dict = {
        "resourceType": "Questionnaire",
        "id": definition.key,
        "url": codes.questionnaire(definition.key),
        "version": definition.version,
        "name": "".join(ch for ch in definition.key.upper() if ch.isalnum()),
        "title": definition.title,
        "status": "active",
        "subjectType": ["Patient"],
        "description": " ".join(
            part
            for part in (_recall_text(definition), loinc.get("note"), definition.licence)
            if part
        ),
        "copyright": definition.licence,
    }
    if loinc.get("panel") and loinc.get("matches_recall_period"):
        resource["code"] = [_coding(LOINC, loinc["panel"])]
    items: list[dict] = []
    if introduction:
        items.append({"linkId": "instructions", "type": "display", "text": introduction})
    for item in definition.items:
        entry: dict = {"linkId": item.id, "text": item.text, "type": "choice"}
        if item.loinc:
            entry["code"] = [_coding(LOINC, item.loinc)]
        entry["required"] = item.scored
        entry["answerOption"] = [
            {"valueCoding": answer_coding(codes, definition, item, option)}
            for option in item.options
        ]
        items.append(entry)
    resource["item"] = items
    return resource


@dataclass(frozen=True)
class Export:
    """What a patient's Bundle holds: the patient, their check-ins (with the definition each
    was scored by) and their completed infusions, as the reader may see them."""

    patient: Patient
    check_ins: list[tuple[CheckIn, Definition]]
    infusions: list[InfusionRecord]


def load(
    session: Session,
    rules: Rules,
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    since: dt.datetime | None,
) -> Export:
    """The patient's data in scope for the actor; with `since`, only the check-ins received or
    marked entered-in-error since then."""
    patient = get_patient(session, actor, patient_id)
    query = select(CheckIn).where(CheckIn.patient_id == patient.id)
    if since is not None:
        query = query.where(or_(CheckIn.received_at >= since, CheckIn.entered_in_error_at >= since))
    check_ins = [
        (check_in, definition)
        for check_in in session.scalars(query.order_by(CheckIn.completed_at, CheckIn.id))
        if (definition := rules.registry.get(check_in.questionnaire)) is not None
    ]
    # Every infusion given, whatever `since` says: they are few, and each one's number and
    # phase follow from the others, so a change to one (a cancellation) changes its neighbours.
    infusions: list[InfusionRecord] = []
    courses = session.scalars(
        select(Course).where(Course.patient_id == patient.id).order_by(Course.starts_at)
    )
    for course in courses:
        given = (
            select(Infusion)
            .where(
                Infusion.course_id == course.id,
                Infusion.status.in_(("completed", "cancelled")),
                Infusion.administered_at.is_not(None),
            )
            .order_by(Infusion.administered_at, Infusion.id)
        )
        infusions += infusion_records(session, rules, actor, course, list(session.scalars(given)))
    return Export(patient, check_ins, infusions)


def reference(resource: dict) -> dict:
    return {"reference": f"urn:uuid:{resource['id']}"}


def patient_resource(patient: Patient) -> dict:
    resource: dict = {
        "resourceType": "Patient",
        "id": str(patient.id),
        "name": [{"text": patient.display_name}],
    }
    if patient.mrn:
        # The medical record number in its clinic's namespace (the clinic's id).
        resource["identifier"] = [
            {"use": "usual", "system": f"urn:uuid:{patient.clinic_id}", "value": patient.mrn}
        ]
    if patient.birth_year is not None:
        resource["birthDate"] = f"{patient.birth_year:04d}"
    return resource


def _when(check_in: CheckIn) -> str:
    """When the patient answered, as their device's clock showed it."""
    return local_time(check_in.completed_at, check_in.completed_offset_minutes).isoformat()


def _entered_in_error(check_in: CheckIn) -> bool:
    return check_in.status == "entered_in_error"


def answered(check_in: CheckIn, item: Item) -> Option | None:
    """The option a check-in chose for an item (None when the item was not answered)."""
    value = check_in.answers.get(item.id)
    return next((option for option in item.options if option.value == value), None)


def questionnaire_response(
    codes: Codes, check_in: CheckIn, definition: Definition, subject: dict
) -> dict:
    items = []
    for item in definition.items:
        option = answered(check_in, item)
        if option is None:
            continue
        items.append(
            {
                "linkId": item.id,
                "text": item.text,
                "answer": [{"valueCoding": answer_coding(codes, definition, item, option)}],
            }
        )
    resource = {
        "resourceType": "QuestionnaireResponse",
        "id": str(check_in.id),
        "meta": {"lastUpdated": _last_updated(check_in)},
        "questionnaire": f"{codes.questionnaire(definition.key)}|{check_in.questionnaire_version}",
        "status": "entered-in-error" if _entered_in_error(check_in) else "completed",
        "subject": subject,
        "authored": _when(check_in),
        "item": items,
    }
    # Who answered: the patient on their phone, or the clinic entering their answers.
    if check_in.source == "patient":
        resource["source"] = subject
    else:
        resource["author"] = {"display": "Clinic staff, entering the patient's answers"}
    return resource


def _last_updated(check_in: CheckIn) -> str:
    changed = max(filter(None, (check_in.received_at, check_in.entered_in_error_at)))
    return changed.isoformat()


def observation_id(check_in: CheckIn, observed: str) -> str:
    return str(uuid.uuid5(OBSERVATION_IDS, f"{check_in.id}/{observed}"))


def _observation(
    check_in: CheckIn, observed: str, code: dict, subject: dict, response: dict
) -> dict:
    """What every Observation drawn from a check-in shares."""
    return {
        "resourceType": "Observation",
        "id": observation_id(check_in, observed),
        "meta": {"lastUpdated": _last_updated(check_in)},
        "status": "entered-in-error" if _entered_in_error(check_in) else "final",
        "category": [
            {"coding": [_coding(OBSERVATION_CATEGORY, "survey", "Survey")], "text": "Survey"}
        ],
        "code": code,
        "subject": subject,
        "effectiveDateTime": _when(check_in),
        "issued": check_in.received_at.isoformat(),
        "derivedFrom": [reference(response)],
    }


def total_code(codes: Codes, definition: Definition) -> tuple[dict, list[dict]]:
    """The total score's code, and the notes it needs. Where LOINC's total code describes
    another recall period (PCL-5: past month; our form: past week) the score is coded with our
    own code only, and the Observation names the LOINC code and the recall period in words,
    so that no system files it as the past-month score (CLINICAL.md)."""
    loinc = definition.loinc
    name = f"{definition.short_title} total score"
    if loinc.get("matches_recall_period"):
        return {"coding": [_coding(LOINC, loinc["total"])], "text": name}, []
    recall = definition.recall_period["text"]
    own = _coding(codes.system("scores"), f"{definition.key}-total", f"{name}, {recall}")
    note = (
        f"{_recall_text(definition)} Not LOINC {loinc['total']}, which describes the "
        f"past-month form. {loinc.get('note') or ''}"
    )
    return {"coding": [own], "text": f"{name} ({recall})"}, [{"text": note.strip()}]


def total_observation(
    codes: Codes, check_in: CheckIn, definition: Definition, subject: dict, response: dict
) -> dict:
    code, notes = total_code(codes, definition)
    # The band the check-in was scored into when it arrived, named as its definition names it.
    label = next((b.label for b in definition.bands if b.band == check_in.severity), None)
    resource = _observation(check_in, "total", code, subject, response)
    resource["valueInteger"] = check_in.total
    severity = codes.system(f"{definition.key}-severity")
    resource["interpretation"] = [
        {
            "coding": [_coding(severity, check_in.severity, label)],
            "text": label or check_in.severity,
        }
    ]
    resource["note"] = [*notes, {"text": f"Severity bands: {definition.severity_source}"}]
    if definition.subscales:
        resource["component"] = [
            {
                "code": {
                    "coding": [_coding(codes.system(f"{definition.key}-subscales"), s.key)],
                    "text": s.label,
                },
                "valueInteger": check_in.subscales[s.key],
            }
            for s in definition.subscales
            if s.key in check_in.subscales
        ]
    return resource


def safety_items(definition: Definition) -> list[tuple[Item, Flag]]:
    """The items a safety flag watches on their own (PHQ-9 item 9), with the flag's label."""
    found = []
    for flag in definition.flags:
        if flag.safety and flag.rule.get("type") == "item_at_least":
            item = definition.item(str(flag.rule["item"]))
            if item is not None and item.loinc:
                found.append((item, flag))
    return found


def item_observation(
    codes: Codes,
    check_in: CheckIn,
    definition: Definition,
    item: Item,
    flag: Flag,
    subject: dict,
    response: dict,
) -> dict | None:
    option = answered(check_in, item)
    if option is None:
        return None
    code = {"coding": [_coding(LOINC, item.loinc or "")], "text": item.text}
    resource = _observation(check_in, f"item/{item.id}", code, subject, response)
    resource["valueCodeableConcept"] = {
        "coding": [answer_coding(codes, definition, item, option)],
        "text": option.label,
    }
    if flag.key in check_in.flags:
        resource["interpretation"] = [
            {"coding": [_coding(INTERPRETATION, "A", "Abnormal")], "text": flag.label}
        ]
    return resource


def procedure(record: InfusionRecord, subject: dict) -> dict:
    """An infusion given (or recorded as given, then cancelled). Patients see its date, number
    and phase; clinicians also the dose, duration, side effects and notes (the same rule as
    the infusion endpoints)."""
    infusion = record.infusion
    # A completed infusion always has its time (a check constraint).
    started = cast(dt.datetime, infusion.administered_at)
    resource: dict = {
        "resourceType": "Procedure",
        "id": str(infusion.id),
        "meta": {"lastUpdated": infusion.updated_at.isoformat()},
        # Recorded as given, then cancelled: a correction an EHR that imported it must see.
        "status": "completed" if infusion.status == "completed" else "entered-in-error",
        "code": {"text": INFUSION_TEXT},
        "subject": subject,
    }
    notes = [f"Infusion {record.number} ({record.phase})"] if record.number else []
    if record.details and infusion.duration_minutes:
        ended = started + dt.timedelta(minutes=infusion.duration_minutes)
        resource["performedPeriod"] = {"start": started.isoformat(), "end": ended.isoformat()}
    else:
        resource["performedDateTime"] = started.isoformat()
    if record.details:
        if infusion.dose_mg_per_kg is not None:
            notes.append(f"Dose {infusion.dose_mg_per_kg:g} mg/kg")
        if infusion.side_effects:
            resource["complication"] = [{"text": effect} for effect in infusion.side_effects]
        if infusion.notes:
            notes.append(infusion.notes)
    if notes:
        resource["note"] = [{"text": text} for text in notes]
    return resource


def bundle(codes: Codes, export: Export, now: dt.datetime) -> dict:
    """The Bundle: the Patient first, then per check-in its QuestionnaireResponse, total-score
    Observation and safety-item Observations, then a Procedure per completed infusion."""
    patient = patient_resource(export.patient)
    subject = reference(patient)
    resources = [patient]
    for check_in, definition in export.check_ins:
        response = questionnaire_response(codes, check_in, definition, subject)
        resources += [response, total_observation(codes, check_in, definition, subject, response)]
        for item, flag in safety_items(definition):
            observed = item_observation(codes, check_in, definition, item, flag, subject, response)
            if observed is not None:
                resources.append(observed)
    resources += [procedure(record, subject) for record in export.infusions]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": now.isoformat(),
        "entry": [
            {"fullUrl": reference(resource)["reference"], "resource": resource}
            for resource in resources
        ],
    }
