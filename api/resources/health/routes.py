"""Liveness and readiness."""

from __future__ import annotations

import marshmallow as ma
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.context import request_session
from api.problems import problem
from api.smorest import Blueprint, Schema

blp = Blueprint("health", __name__, description="Health checks")


class HealthSchema(Schema):
    status = ma.fields.String(required=True)


@blp.route("/healthz", methods=["GET"])
@blp.public
@blp.response(200, HealthSchema)
def healthz():
    """The process is alive"""
    return {"status": "ok"}


@blp.route("/readyz", methods=["GET"])
@blp.public
@blp.response(200, HealthSchema)
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")
def readyz():
    """The process can reach its database"""
    try:
        request_session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        return problem(503, "The database is unreachable.", type_slug="unavailable")
    return {"status": "ok"}
