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
            "description": "Only what changed since this instant: check-ins received or "
            "marked entered-in-error, infusions updated (the Patient is always included)"
        },
    )
