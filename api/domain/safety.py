"""What a patient sees at once when a safety item is endorsed."""

from __future__ import annotations

from api.models import Clinic

DEFAULT_MESSAGE = (
    "Thank you for telling us how you are doing. If you are having thoughts of ending your "
    "life or hurting yourself, help is available right now: call or text 988 (Suicide & Crisis "
    "Lifeline, US), or call your local emergency number if you are outside the US or in "
    "immediate danger. Your care team has been alerted."
)
DEFAULT_RESOURCES = [
    {
        "name": "988 Suicide & Crisis Lifeline (US)",
        "phone": "988",
        "sms": "988",
        "url": "https://988lifeline.org",
    },
    {
        "name": "Emergency services",
        "phone": "911",
        "note": "Outside the US, call your local emergency number.",
    },
]


def crisis_information(clinic: Clinic | None) -> dict:
    """The clinic's own crisis message and resources, or the default."""
    message = clinic.crisis_message if clinic and clinic.crisis_message else DEFAULT_MESSAGE
    resources = clinic.crisis_resources if clinic and clinic.crisis_resources else DEFAULT_RESOURCES
    return {"message": message, "resources": resources}
