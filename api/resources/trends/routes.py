"""Progress: one instrument's trend, and a patient's summary across instruments."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import NotRequired, TypedDict

from flask import Response, render_template, request

from api.auditing import note
from api.auth import current_actor
from api.context import request_session, rules
from api.db import utcnow
from api.domain import overview
from api.domain import trends as trend_service
from api.domain.errors import NotAcceptable
from api.domain.questionnaires import Definition
from api.resources.alerts.routes import AlertBody
from api.resources.alerts.routes import present as present_alert
from api.resources.trends import charts
from api.resources.trends.schemas import SummarySchema, TrendArgsSchema, TrendSchema
from api.smorest import Blueprint, audited

blp = Blueprint("trends", __name__, url_prefix="/v1/patients", description="Progress")
READERS = ("patient", "clinician")


def thresholds(definition: Definition) -> dict:
    """The change thresholds this trend used, with their sources (from the definition)."""
    change = definition.change
    response, remission = change.get("response"), change.get("remission")
    reliable, mcid = change.get("reliable_change"), change.get("mcid")
    return {
        "response": response.get("text") if response else None,
        "response_min_baseline": response.get("min_baseline") if response else None,
        "remission_below": remission["below"] if remission else None,
        "remission_min_baseline": remission["min_baseline"] if remission else None,
        "reliable_change": reliable["points"] if reliable else None,
        "mcid": mcid["points"] if mcid else None,
        "sustained_deterioration": change.get("sustained_deterioration"),
        "sources": {name: rule["source"] for name, rule in change.items() if rule is not None},
    }


def present_point(point: trend_service.Point) -> dict:
    return {
        "check_in_id": point.check_in.id,
        "completed_at": point.check_in.completed_at,
        "total": point.check_in.total,
        "severity": point.check_in.severity,
        "phase": point.context.phase,
        "infusion_number": point.context.infusion_number,
        "days_since_infusion": point.context.days_since_infusion,
        "flags": point.check_in.flags,
    }


def present_benefit(benefit: trend_service.Benefit) -> dict:
    return {
        "infusion_number": benefit.infusion.infusion.number,
        "administered_at": benefit.infusion.infusion.administered_at,
        "phase": benefit.infusion.phase,
        "before": benefit.before,
        "best_after": benefit.best_after,
        "last_after": benefit.last_after,
        "days_observed": benefit.days_observed,
        "days_of_benefit": benefit.days_of_benefit,
        "still_improved": benefit.still_improved,
    }


class TrendBody(TypedDict):
    questionnaire: str
    course_id: uuid.UUID | None
    baseline: dict | None
    latest: dict | None
    change: dict | None
    status: dict
    thresholds: dict
    points: list[dict]
    phases: list[dict]
    infusions: list[dict]
    by_infusion: list[dict]
    durability: dict
    signals: NotRequired[list[dict]]


def present_trend(trend: trend_service.Trend, *, with_signals: bool) -> TrendBody:
    baseline, latest = trend.baseline, trend.latest
    body = TrendBody(
        questionnaire=trend.definition.key,
        course_id=trend.course.id if trend.course else None,
        baseline=None
        if baseline is None
        else {
            "check_in_id": baseline.check_in.id,
            "completed_at": baseline.check_in.completed_at,
            "total": baseline.check_in.total,
            "source": baseline.source,
            "acute_effect": baseline.acute_effect,
        },
        latest=None
        if latest is None
        else {
            "check_in_id": latest.id,
            "completed_at": latest.completed_at,
            "total": latest.total,
            "severity": latest.severity,
        },
        change=vars(trend.change) if trend.change else None,
        status=vars(trend.status),
        thresholds=thresholds(trend.definition),
        points=[present_point(p) for p in trend.points],
        phases=[vars(phase) for phase in trend.phases],
        infusions=[
            {
                "number": i.infusion.number,
                "administered_at": i.infusion.administered_at,
                "phase": i.phase,
            }
            for i in trend.infusions
        ],
        by_infusion=[present_benefit(b) for b in trend.by_infusion],
        durability=vars(trend.durability),
    )
    if with_signals:
        body["signals"] = [
            {"kind": s.kind, "rule": s.rule, "check_in_ids": list(s.check_in_ids)}
            for s in trend.signals
        ]
    return body


@blp.route("/<uuid:patient_id>/trends/<string:questionnaire>", methods=["GET"])
@audited("trend.read", "patient")
@blp.auth(*READERS)
@blp.arguments(TrendArgsSchema, location="query")
@blp.response(200, TrendSchema)
@blp.alt_response(404, response="NOT_FOUND")
def trend(args, patient_id: uuid.UUID, questionnaire: str):
    """One instrument across a course: baseline, change, status, points, durability, signals"""
    note(resource_id=patient_id, patient_ids=[patient_id])
    actor = current_actor()
    found = trend_service.trend(
        request_session(),
        rules(),
        actor=actor,
        patient_id=patient_id,
        questionnaire=questionnaire,
        course_id=args["course_id"],
        since=args["since"],
        until=args["until"],
    )
    return present_trend(found, with_signals=actor.role == "clinician")


class SummaryBody(TypedDict):
    patient_id: uuid.UUID
    as_of: dt.datetime
    course: dict | None
    instruments: list[dict]
    due: list[dict]
    open_alerts: NotRequired[list[AlertBody]]


@blp.route("/<uuid:patient_id>/summary", methods=["GET"])
@audited("summary.read", "patient")
@blp.auth(*READERS)
@blp.response(200, SummarySchema)
@blp.alt_response(404, response="NOT_FOUND")
def summary(patient_id: uuid.UUID):
    """Every instrument's latest, baseline, change and status; the course, phase, next due"""
    note(resource_id=patient_id, patient_ids=[patient_id])
    actor = current_actor()
    now = utcnow()
    found = overview.summary(
        request_session(), rules(), actor=actor, patient_id=patient_id, now=now
    )
    clinician = actor.role == "clinician"
    course = found.course
    body = SummaryBody(
        patient_id=found.patient.id,
        as_of=now,
        course=None
        if course is None
        else {
            "id": course.id,
            "status": course.status,
            "indications": course.indications,
            "started_on": course.started_on,
            "phase": found.phase,
            "infusion_count": found.infusion_count,
        },
        instruments=[
            present_trend(i.trend, with_signals=clinician)
            | {
                "title": i.trend.definition.short_title,
                "check_in_count": len(i.trend.points),
                "sentence": i.sentence,
            }
            for i in found.instruments
        ],
        due=[vars(item) for item in found.due],
    )
    if found.open_alerts is not None:
        body["open_alerts"] = [present_alert(record) for record in found.open_alerts]
    return body


REPORT_DOC = {
    "200": {
        "description": "A self-contained printable page (inline SVG, no external assets)",
        "content": {"text/html": {"schema": {"type": "string"}}},
    }
}
# The page loads nothing: its own styles and inline SVG only.
REPORT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
)


def yes_no(value: bool | None) -> str:
    return "—" if value is None else "yes" if value else "no"


def dash(value: object) -> object:
    return "—" if value is None else value


@blp.route("/<uuid:patient_id>/report", methods=["GET"])
@audited("report.read", "patient")
@blp.auth("clinician")
@blp.doc(responses=REPORT_DOC)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(406, response="NOT_ACCEPTABLE")
def report(patient_id: uuid.UUID):
    """The printable progress report: charts per instrument, status, signals, alerts, infusions"""
    note(resource_id=patient_id, patient_ids=[patient_id])
    # HTML whenever the client accepts it at all (PDF may be preferred; it is not produced).
    if request.accept_mimetypes and not request.accept_mimetypes.quality("text/html"):
        raise NotAcceptable(
            "The report is an HTML page; print it to PDF from a browser (PDF is not produced "
            "by the service).",
            errors={"Accept": ["text/html"]},
        )
    found = overview.report(
        request_session(), rules(), actor=current_actor(), patient_id=patient_id, now=utcnow()
    )
    page = render_template(
        "report.html",
        report=found,
        sections=[
            {"trend": trend, "chart": charts.chart(trend, found.as_of)} for trend in found.trends
        ],
        yes_no=yes_no,
        dash=dash,
    )
    return Response(page, mimetype="text/html", headers={"Content-Security-Policy": REPORT_POLICY})
