"""Demo data for local use: a clinic of 40 patients whose histories show every part of the
product — responders and remitters, partial and non-responders, an early non-improver, relapse
in maintenance, waning benefit that sets an interval, item-9 answers with an open alert, missed
check-ins and a late offline sync. Community-clinic shapes (CLINICAL.md): about half respond on
PHQ-9 and about three in ten remit.

Deterministic: the same clinic every time, placed relative to today."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import factories
from api.db import utcnow
from api.domain import check_ins as check_in_service
from api.domain import courses, progress, timeline
from api.domain.access import Actor
from api.domain.identity import IdentitySettings
from api.domain.registry import Registry
from api.domain.rules import Rules
from api.models import Alert, Clinic, Patient, User

DEMO_CLINIC_ID = uuid.UUID("00000000-0000-4000-8000-00000000c11c")
# Demo-only password for a local SQLite file; `interval demo` refuses to run in production.
DEMO_PASSWORD = "interval-demo"  # noqa: S105  # local demo only  # nosec B105
SEED = 20261129

STAFF = [
    ("admin@demo.interval.test", "Avery Admin", "clinic_admin"),
    ("dr.rivera@demo.interval.test", "Dr. Sam Rivera", "clinician"),
    ("dr.okafor@demo.interval.test", "Dr. Ngozi Okafor", "clinician"),
]
FIRST_NAMES = (
    "Maya",
    "Jordan",
    "Li",
    "Sam",
    "Rosa",
    "Theo",
    "Ana",
    "Ben",
    "Chloe",
    "Dev",
    "Eli",
    "Fatima",
    "Gus",
    "Hana",
    "Ivan",
    "Jade",
    "Kai",
    "Lena",
    "Marco",
    "Nia",
    "Omar",
    "Pia",
    "Quinn",
    "Ravi",
    "Sara",
    "Tom",
    "Uma",
    "Vic",
    "Wen",
    "Xavi",
    "Yara",
    "Zoe",
    "Abel",
    "Bea",
    "Cyrus",
    "Dana",
    "Emil",
    "Faye",
    "Gil",
    "Ines",
)
TIMEZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
INDUCTION_DAYS = (0, 2, 4, 7, 9, 11)
MAINTENANCE_EVERY = 21


@dataclass(frozen=True)
class Profile:
    """How one demo patient's scores move: `score(day, days_since_infusion, rng)`."""

    name: str
    indication: str
    started_days_ago: int
    score: Callable[[float, float | None, random.Random], float]
    item9_day: float | None = None
    skip_rate: float = 0.1


def toward(start: float, end: float, day: float, by_day: float) -> float:
    """From `start` to `end`, reached by `by_day` after the first infusion."""
    share = min(1.0, max(0.0, day / by_day))
    return start + (end - start) * share


def responder(baseline: float, end: float, by_day: float = 21, creep: float = 0.2):
    """Improves to `end`; in maintenance the score creeps up between infusions (`creep` a day)
    and comes down after each one, so each infusion's benefit can be measured."""

    def score(day, since, rng):
        level = toward(baseline, end, day, by_day) + rng.uniform(-1, 1)
        if day > INDUCTION_DAYS[-1] + 1 and since is not None:
            level += creep * since
        return level

    return score


def relapse(baseline: float, low: float, back: float, from_day: float):
    def score(day, since, rng):
        level = toward(baseline, low, day, 18)
        if day > from_day:
            level = toward(low, back, day - from_day, 14)
        return level + rng.uniform(-1, 1)

    return score


def waning(baseline: float, low: float, rise_per_day: float):
    """Each infusion brings the score down to `low`; it climbs back until the next one."""

    def score(day, since, rng):
        if since is None:
            return baseline + rng.uniform(-1, 1)
        return min(baseline, low + rise_per_day * since) + rng.uniform(-0.5, 0.5)

    return score


def phq9_profiles() -> list[Profile]:
    r, e = responder, relapse
    return (
        [Profile("remitter", "depression", 70 + 7 * i, r(17 + i % 4, 0.5)) for i in range(9)]
        + [Profile("responder", "depression", 60 + 9 * i, r(18 + i % 3, 5.5)) for i in range(4)]
        + [Profile("relapse", "depression", 90 + 10 * i, e(19, 6, 15, 45)) for i in range(2)]
        + [Profile("waning", "depression", 100 + 12 * i, waning(20, 5, 0.9)) for i in range(2)]
        + [Profile("partial", "depression", 50 + 8 * i, r(19, 13.5)) for i in range(4)]
        + [Profile("non_responder", "depression", 45 + 6 * i, r(18, 17)) for i in range(3)]
        + [
            Profile("early_non_improver", "depression", 16, r(18, 16.5, 10), item9_day=14.5),
            Profile("early_non_improver", "depression", 18, r(21, 19, 10)),
            Profile("induction", "depression", 9, r(17, 9, 10), item9_day=-1.5),
            Profile("induction", "depression", 6, r(16, 10, 8), skip_rate=0.0),
        ]
    )


def other_profiles() -> list[Profile]:
    r = responder
    return [
        Profile("responder", "anxiety", 60, r(16, 6)),
        Profile("responder", "anxiety", 75, r(15, 7)),
        Profile("remitter", "anxiety", 80, r(14, 3)),
        Profile("partial", "anxiety", 50, r(17, 12)),
        Profile("non_responder", "anxiety", 40, r(15, 14)),
        Profile("responder", "ptsd", 70, r(52, 34)),
        Profile("remitter", "ptsd", 85, r(47, 24)),
        Profile("partial", "ptsd", 60, r(55, 47)),
        Profile("non_responder", "ptsd", 45, r(50, 48)),
        Profile("responder", "chronic_pain", 40, r(7.5, 4)),
        Profile("waning", "chronic_pain", 55, waning(8, 3.5, 0.35)),
        Profile("non_responder", "chronic_pain", 35, r(7, 6.5)),
    ]


INSTRUMENT = {"depression": "phq9", "anxiety": "gad7", "ptsd": "pcl5", "chronic_pain": "pain"}
# Between-visit measurement, as the default plans ask: weekly, pain daily.
EVERY = {"phq9": 7, "gad7": 7, "pcl5": 7, "pain": 1}


def infusion_days(started_days_ago: int) -> list[int]:
    days = [d for d in INDUCTION_DAYS if d < started_days_ago]
    day = INDUCTION_DAYS[-1] + MAINTENANCE_EVERY
    while day < started_days_ago:
        days.append(day)
        day += MAINTENANCE_EVERY
    return days


def check_in_days(profile: Profile, rng: random.Random) -> list[float]:
    """A baseline two days before the first infusion, then at the plan's pace, a few missed."""
    every = EVERY[INSTRUMENT[profile.indication]]
    days, day = [-2.0], 1.0
    while day < profile.started_days_ago - 0.5:
        if rng.random() >= profile.skip_rate:
            days.append(day + rng.uniform(-0.3, 0.3))
        day += every
    return days


def load_demo(
    session: Session, settings: IdentitySettings, registry: Registry | None = None
) -> list[str]:
    """Create the demo clinic unless it exists; return the sign-in lines to print."""
    credentials = [f"{email} / {DEMO_PASSWORD}  ({role})" for email, _, role in STAFF]
    credentials.append(
        f"patients: <first name>@demo.interval.test / {DEMO_PASSWORD}, e.g. maya@demo.interval.test"
    )
    if session.get(Clinic, DEMO_CLINIC_ID) is not None:
        return credentials
    now = utcnow()
    password_hash = settings.passwords.hash(DEMO_PASSWORD)
    clinic = factories.clinic(session, "Demo Ketamine Clinic", id=DEMO_CLINIC_ID)
    staff = [
        factories.user(
            session, clinic, role, email=email, display_name=name, password_hash=password_hash
        )
        for email, name, role in STAFF
    ]
    rng = random.Random(SEED)  # noqa: S311  # reproducible demo data  # nosec B311
    rules = Rules(registry) if registry is not None else None
    for index, profile in enumerate(phq9_profiles() + other_profiles()):
        first = FIRST_NAMES[index]
        account = factories.user(
            session,
            clinic,
            "patient",
            email=f"{first.lower()}@demo.interval.test",
            display_name=f"{first} {chr(65 + index % 26)}.",
            password_hash=password_hash,
        )
        patient = factories.patient(
            session,
            clinic,
            account=account,
            care_team=[staff[1 + index % 2]],
            display_name=account.display_name,
            mrn=f"D-{1001 + index}",
            birth_year=1960 + (index * 7) % 40,
            timezone=TIMEZONES[index % len(TIMEZONES)],
        )
        if rules is not None:
            History(session, rules, patient, staff[1 + index % 2], rng, now).load(profile, index)
    if rules is not None:
        settle_old_alerts(session, staff[1], now)
        ids = list(session.scalars(select(Patient.id).where(Patient.clinic_id == clinic.id)))
        progress.refresh(session, rules, ids, now)
    return credentials


class History:
    """One demo patient's course, infusions and check-ins."""

    def __init__(self, session, rules, patient, clinician, rng, now):
        self.session, self.rules, self.patient, self.rng, self.now = (
            session,
            rules,
            patient,
            rng,
            now,
        )
        self.clinician = Actor(clinician.id, "clinician", clinician.clinic_id)
        self.account = Actor(patient.user_id, "patient", patient.clinic_id, patient_id=patient.id)

    def load(self, profile: Profile, index: int) -> None:
        start = self.now - dt.timedelta(days=profile.started_days_ago, hours=3)
        course = courses.create_course(
            self.session,
            self.rules,
            actor=self.clinician,
            patient_id=self.patient.id,
            indications=[profile.indication],
            started_on=(start - dt.timedelta(days=3)).date(),
            induction_infusions=6,
            plan=None,
            now=start,
        ).course
        given = [
            start + dt.timedelta(days=d, hours=self.rng.uniform(-1, 1))
            for d in infusion_days(profile.started_days_ago)
        ]
        for number, administered_at in enumerate(given, start=1):
            self.infuse(course.id, administered_at, number)
        following = max(given[-1] + dt.timedelta(days=3), self.now + dt.timedelta(days=2))
        courses.record_infusion(
            self.session,
            self.rules,
            actor=self.clinician,
            course_id=course.id,
            now=self.now,
            fields={
                "status": "scheduled",
                "scheduled_for": following.replace(minute=0, second=0, microsecond=0),
            },
        )
        # One patient synced three weeks of answers late, all at once.
        synced_late = index == 5
        for day in check_in_days(profile, self.rng):
            completed_at = start + dt.timedelta(days=day, hours=self.rng.uniform(8, 12) - 10)
            since = self.since_infusion(given, completed_at)
            total = profile.score(day, since, self.rng)
            item9 = 1 if profile.item9_day is not None and abs(day - profile.item9_day) < 1 else 0
            late = synced_late and completed_at > self.now - dt.timedelta(days=22)
            self.answer(profile, completed_at, total, item9, late)

    def infuse(self, course_id: uuid.UUID, administered_at: dt.datetime, number: int) -> None:
        peak = 140 + self.rng.randint(0, 25) + (18 if number <= 3 else 0)
        courses.record_infusion(
            self.session,
            self.rules,
            actor=self.clinician,
            course_id=course_id,
            now=self.now,
            fields={
                "status": "completed",
                "administered_at": administered_at,
                "dose_mg_per_kg": 0.5,
                "duration_minutes": 40,
                "blood_pressure": {
                    "before": [118 + self.rng.randint(0, 12), 78],
                    "peak": [peak, 88 + self.rng.randint(0, 10)],
                    "after": [124, 80],
                },
                "heart_rate": 70 + self.rng.randint(0, 20),
                "dissociation": self.rng.randint(2, 7),
                "side_effects": ["nausea"] if self.rng.random() < 0.2 else [],
            },
        )

    @staticmethod
    def since_infusion(given: list[dt.datetime], at: dt.datetime) -> float | None:
        before = [g for g in given if g < at]
        return (at - before[-1]).total_seconds() / 86400 if before else None

    def answer(
        self, profile: Profile, completed_at: dt.datetime, total: float, item9: int, late: bool
    ) -> None:
        definition = self.rules.registry[INSTRUMENT[profile.indication]]
        fixed = {"9": item9} if definition.key == "phq9" else {}
        top = definition.score_max - (3 - item9 if definition.key == "phq9" else 0)
        clamped = max(sum(fixed.values()), min(top, round(total)))
        # Phones sync within minutes to hours; a late sync arrives now.
        delay = dt.timedelta(minutes=self.rng.randint(1, 240))
        received = self.now if late else min(self.now, completed_at + delay)
        check_in_service.store(
            self.session,
            self.rules,
            actor=self.account,
            patient=self.patient,
            timeline=timeline.of_patient(self.session, self.patient.id),
            now=received,
            submission=check_in_service.Submission(
                questionnaire=definition.key,
                answers=factories.answers_summing_to(definition, clamped, fixed),
                completed_at=completed_at,
            ),
        )


def settle_old_alerts(session: Session, clinician: User, now: dt.datetime) -> None:
    """Alerts older than two weeks were seen to; recent ones wait in the inbox."""
    for alert in session.scalars(
        select(Alert).where(Alert.raised_at < now - dt.timedelta(days=14))
    ):
        alert.status = "resolved"
        alert.acknowledged_at = alert.raised_at + dt.timedelta(hours=2)
        alert.acknowledged_by = clinician.id
        alert.resolved_at = alert.raised_at + dt.timedelta(days=1)
        alert.resolved_by = clinician.id
        alert.resolved_note = "Reviewed at the next visit."
    session.flush()
