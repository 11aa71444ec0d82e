"""SQLAlchemy models, one module per aggregate; importing this package registers them all."""

from api.models.alert import Alert, AlertOccurrence
from api.models.audit import AuditEvent
from api.models.check_in import SCORES_ONLY, CheckIn
from api.models.clinic import Clinic
from api.models.course import Course, Infusion
from api.models.identity import EnrollmentCode, RefreshFamily, RefreshToken, User
from api.models.patient import CareTeamMember, Patient
from api.models.progress import CourseProgress, InfusionBenefit, PatientProgress

__all__ = [
    "SCORES_ONLY",
    "Alert",
    "AlertOccurrence",
    "AuditEvent",
    "CareTeamMember",
    "CheckIn",
    "Clinic",
    "Course",
    "CourseProgress",
    "EnrollmentCode",
    "Infusion",
    "InfusionBenefit",
    "Patient",
    "PatientProgress",
    "RefreshFamily",
    "RefreshToken",
    "User",
]
