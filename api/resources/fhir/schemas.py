"""The export's query; the FHIR resources themselves are documented as JSON Schema in
routes.py (their full definition is HL7's, not ours)."""

from __future__ import annotations

from api.fields import Instant
from api.smorest import Schema


class ExportArgsSchema(Schema):
    since = Instant(
        load_default=None,
        data_key="_since",
        metadata={
            "description": "Only the check-ins received or marked entered-in-error since this "
            "instant (the Patient and every infusion given are always included). Pass the "
            "previous Bundle's `timestamp` minus a few minutes: a check-in is dated when its "
            "request began, and ids are stable, so an overlap only repeats what you have"
        },
    )
