"""SQLAlchemy models, one module per aggregate; importing this package registers them all."""

from api.models.audit import AuditEvent
from api.models.clinic import Clinic
from api.models.identity import EnrollmentCode, RefreshFamily, RefreshToken, User
from api.models.patient import CareTeamMember, Patient

__all__ = [
    "AuditEvent",
    "CareTeamMember",
    "Clinic",
    "EnrollmentCode",
    "Patient",
    "RefreshFamily",
    "RefreshToken",
    "User",
]
