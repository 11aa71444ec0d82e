"""Crisis information on a refused submission: added after the request's commit, so that no
refusal, including a failed commit, can answer without it. Never raises."""

from __future__ import annotations

import logging

from flask import Response, current_app, g, json, request
from sqlalchemy.exc import SQLAlchemyError

from api.context import questionnaire_registry, request_session
from api.domain.check_ins import endorses_safety_item
from api.domain.safety import crisis_information
from api.models import Clinic
from api.parsing import read_leniently
from api.smorest import view_attribute

log = logging.getLogger("interval")


def information_not_sent() -> dict:
    """Crisis information for answers that were not stored, in the caller's clinic's words when
    the clinic can be read; the default words otherwise."""
    actor = g.get("actor")
    clinic = None
    if actor is not None:
        try:
            clinic = request_session().get(Clinic, actor.clinic_id)
        except SQLAlchemyError:
            clinic = None
    return crisis_information(clinic, sent=False)


def add_to_refusal(response: Response) -> Response:
    """A refused check-in submission (any 4xx or 5xx of a view marked
    `crisis_information_on_refusal`) whose answers endorse a safety item carries crisis
    information that says the answers were NOT sent."""
    if response.status_code < 400 or not view_attribute(
        current_app, request.endpoint, request.method, "_crisis_on_refusal"
    ):
        return response
    try:
        if not endorses_safety_item(questionnaire_registry(), read_leniently(request)):
            return response
        body = response.get_json(silent=True)
        if isinstance(body, dict):
            body["safety"] = information_not_sent()
            response.set_data(json.dumps(body))
    except Exception:
        # The refusal itself must still reach the app, which shows its cached crisis text.
        log.exception("crisis information not added", extra={"event": "crisis_not_added"})
    return response
