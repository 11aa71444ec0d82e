"""What a patient sees at once when a safety item is endorsed: two texts, because a patient must
never be told their answers reached anyone when nothing was stored (CLINICAL.md "Crisis wording").
"""

from __future__ import annotations

from api.models import Clinic

# CLINICAL.md "Crisis wording", word for word.
SENT_MESSAGE = (
    "Your answers have been sent to your care team. They may not see them right away. If you are "
    "thinking about harming yourself or are in danger, call or text 988 (Suicide & Crisis "
    "Lifeline) now, or call 911."
)
NOT_SENT_MESSAGE = (
    "Your answers have NOT been sent yet. If you are thinking about harming yourself or are in "
    "danger, call or text 988 now, or call 911."
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


def resources_of(clinic: Clinic | None) -> list[dict]:
    return clinic.crisis_resources if clinic and clinic.crisis_resources else DEFAULT_RESOURCES


def message_when_sent(clinic: Clinic | None) -> str:
    return clinic.crisis_message if clinic and clinic.crisis_message else SENT_MESSAGE


def message_when_not_sent(clinic: Clinic | None) -> str:
    if clinic and clinic.crisis_message_not_sent:
        return clinic.crisis_message_not_sent
    return NOT_SENT_MESSAGE


def crisis_information(clinic: Clinic | None, *, sent: bool) -> dict:
    """The `safety` object of an answer: stored answers (`sent`) or refused ones."""
    return {
        "answers_sent": sent,
        "message": message_when_sent(clinic) if sent else message_when_not_sent(clinic),
        "resources": resources_of(clinic),
    }


def crisis_card(clinic: Clinic | None) -> dict:
    """Both texts and the resources, for the app to keep and show offline before sending."""
    return {
        "message_when_sent": message_when_sent(clinic),
        "message_when_not_sent": message_when_not_sent(clinic),
        "resources": resources_of(clinic),
    }
