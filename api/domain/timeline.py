"""Where each check-in sits on the treatment timeline (PRODUCT.md §3)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from api.models import CheckIn


@dataclass(frozen=True)
class Context:
    course_id: uuid.UUID | None = None
    phase: str | None = None
    infusion_number: int | None = None
    days_since_infusion: float | None = None


def contexts(session: Session, check_ins: list[CheckIn]) -> dict[uuid.UUID, Context]:
    """The context of each check-in; with no treatment course recorded, all fields are null."""
    return {check_in.id: Context() for check_in in check_ins}


def baseline_total(session: Session, check_in: CheckIn) -> int | None:
    """The course baseline this check-in is compared with; none without a course."""
    return None
