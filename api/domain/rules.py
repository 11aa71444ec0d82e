"""The clinical rules a deployment runs with, handed to the domain as one value: the
questionnaire registry and the settings of the timeline and of infusion safety flags."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from api.domain.registry import Registry
from api.domain.timeline import DEFAULT_IN_CHAIR_GRACE


@dataclass(frozen=True)
class Rules:
    registry: Registry
    # A check-in this soon after an infusion's start was filled in the chair.
    in_chair_grace: dt.timedelta = DEFAULT_IN_CHAIR_GRACE
    # Peak blood pressure (systolic, diastolic) that flags an infusion unless a clinic sets its
    # own: a local protocol parameter, not a standard.
    blood_pressure_threshold: tuple[int, int] = (180, 110)


def parse_blood_pressure(text: str) -> tuple[int, int]:
    """ "180/110" → (180, 110)."""
    systolic, diastolic = (int(part) for part in text.split("/"))
    return systolic, diastolic
