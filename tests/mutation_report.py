"""After `mutmut run`: the score per module and each surviving mutant with its change and
why it is acceptable, for docs/testing.md. Run by `make mutate`; prints Markdown.

A survivor is acceptable only for a reason written here, matched on its function and its change;
one that matches none is printed as open (a test is missing)."""

from __future__ import annotations

import collections
import re
import subprocess
import sys

from mutmut.mutation.diff_apply import get_diff_for_mutant

MUTMUT = [sys.executable, "-m", "mutmut"]
# A mutant mypy refuses cannot pass `make test`, which runs mypy: it is killed as surely as by a
# failing test.
KILLED = ("killed", "timeout", "caught by type check")
NAME = re.compile(r"^\s*(?P<name>\S+): (?P<status>[a-z ]+)$")


def statuses() -> dict[str, str]:
    listed = subprocess.run(  # noqa: S603 - our own interpreter and mutmut
        [*MUTMUT, "results", "--all", "true"], capture_output=True, text=True, check=True
    ).stdout
    return {m["name"]: m["status"] for line in listed.splitlines() if (m := NAME.match(line))}


UNREAD_COLUMN = (
    "stored in the read model; no reader takes it from there yet (trends compute it live)"
)
OPEN = "**open**: a test is missing"  # a survivor no reason below explains
TIE = "a tie-break between rows of the same instant; either order is right"
EXTRA_REFRESH = "more patients refreshed than needed: the same summaries, more work"
# (function name contains, change matches, reason): the first that fits a survivor explains it.
REASONS = [
    ("", r"\.subquery\(|\.label\(", "names a subquery or column nobody reads by name"),
    ("", r"synchronize_session", "no loaded object to synchronise"),
    (
        "",
        r"^(id=uuid\.uuid4\(\),|created_at=now,|added_at=now,|is_active=False,|"
        r'status="(open|active)",)( →|$)',
        "the model's column default gives the same value",
    ),
    ("", r"\.(outer)?join\(\w+, (None)?\)", "SQLAlchemy infers the same join from the foreign key"),
    ("", r"log\.(exception|info|warning)\(", "a log message's wording"),
    ("", r"Retry-After", "header names are case-insensitive"),
    ("", r"strict=True\)", "the two lists have the same length by construction"),
    ("", r"else_=1\),? → .*else_=2\)", "only the order of the tiers matters"),
    ("", r"count\(case\(.*, 1\)\)\),? → .*, 2\)\)\)", "count() ignores the value counted"),
    (
        "x_refresh",
        r"claimed|RefreshFailed\(user=user, reuse=True\)|used_at\.is_\(None\)|"
        r"XXreuse_detectedXX|REUSE_DETECTED",
        "the second half of a refresh race, which only PostgreSQL runs (test_concurrency.py)",
    ),
    ("new_enrollment_code", r"range\(13\)", "only the first twelve characters are grouped"),
    (
        "AuditNoteǁevents",
        r"if \(?len\(patient_ids\) >=? 1\)?( or True)? else None,$",
        "one patient is stored in patient_id; also listing them (or no one) in patient_ids reads "
        "the same: the presenter lists patient_id when patient_ids is empty, and the patient "
        "filter matches either column",
    ),
    (
        "issue_access_token",
        r"settings\.key, \)$",
        "PyJWT's default algorithm is HS256, the one named; decoding accepts that one only",
    ),
    (
        "new_secret",
        r"token_urlsafe\((None|33)\)$",
        "Python's default is 32 bytes; 33 is more randomness, never less",
    ),
    ("_verify_dummy", r"", "any random dummy password keeps the timing; the dummy hash is valid"),
    ("CursorCodecǁ_sign", r"XX=XX", "a 16-byte signature's last character is one of A, Q, g, w"),
    ("CursorCodecǁencode", r"XX=XX", "a JSON object's encoding never ends in X"),
    (
        "CursorCodecǁdecode",
        r"split|\+len\(body\)",
        "base64url has no '.', and Python ignores excess padding",
    ),
    ("t_quantile", r"17 \* z\*\*3|4 \* z\)", "below the expansion's own error (0.0001)"),
    (
        "_by_infusion",
        r"<= 13|< 12|is_not\(None\), \)$",
        "rows past the twelfth are read and not shown",
    ),
    ("load_timeline", r"order_by\(None\)", "the patient and time index returns them in order"),
    (
        "load_timeline",
        r"SPACING_LOOK_BACK|Infusion\.status|CheckIn\.questionnaire",
        "a bound on what is read; the rules filter the same again",
    ),
    (
        "submit_batch",
        r"status=1\)|result\.record is None or",
        "overwritten for every item / the presenter shows safety only on a refused item",
    ),
    (
        "wording.x_progress_sentence",
        r"bool = False|XXscoreXX|SCORE|or 1\)",
        "every caller passes it; every instrument has a name; a missing score is never worded",
    ),
    (
        "trends.x_trend",
        r"questionnaires=\[questionnaire\]\) → .*(None\)|, \))",
        "reads every instrument, then uses the one asked for",
    ),
    (
        "progress.x_is_stale",
        r"^(CheckIn|Infusion|Course)\.patient_id == Patient\.id,$|"
        r"exists\(\)\.where\((Infusion|Course|CheckIn)\.(updated_at|changed_at|received_at|"
        r"entered_in_error_at) > seen\)",
        EXTRA_REFRESH,
    ),
    ("progress.x_is_stale", r">= seen", "a change at the refresh's own instant is read again"),
    (
        "progress.x_refresh_stale",
        r"\.where\(is_stale\(\)\)",
        EXTRA_REFRESH,
    ),
    ("_stored_copy", r"pragma: no cover", "reached only if a row vanished between two statements"),
    (
        "progress.x_benefit_rows",
        r"best_after|last_after|days_observed|still_improved",
        UNREAD_COLUMN,
    ),
    (
        "progress.x_course_row",
        r"baseline_source|median_days_of_benefit",
        UNREAD_COLUMN,
    ),
    ("registry.x_load_file", r"encoding=(None|\"UTF-8\")", "UTF-8 either way (so is the locale)"),
    ("alerts.x_flagged_answer", r"str\(value\)\) → ", "a validated answer is always an option"),
    (
        "alerts.x_records",
        r"if \(alerts\) or True|\"XXXX\"",
        "nothing to add for no alerts; every alert's patient has a name",
    ),
    ("alerts.x_occurrences", r"AlertOccurrence\.id\) → ", "a tie-break at the same instant"),
    ("x_total_code", r"or 'XXXX'", "every instrument exported this way carries a note"),
    ("x_questionnaire_response", r"continue → break", "only the last item may go unanswered"),
    ("AnswerError", r"", "wording of an internal exception no client sees"),
    (
        "",
        r"\.limit\(limit \+ 1\)\)*( →|$).*\.limit\((None|limit \+ 2)\)",
        "reads more rows than a page and trims them: the same page and cursor",
    ),
    (
        "CursorCodecǁ__init__",
        r"cursor:",
        "any label keeps the cursors' key apart from the secret's other uses",
    ),
    (
        "panel.x__records",
        r"if \(state\) or True",
        "a clinician's patients are all refreshed first: each has a stored summary",
    ),
    (
        "panel.x_attention_order",
        r"signal_count, None\)",
        "NULL > 0 is not true either: no row and no signals fall in the same tier",
    ),
    ("progress.x_refresh_stale", r"^return 0 → return 1$", "no caller reads how many were"),
    (
        "progress.x_load",
        r"→ (\.where\(CheckIn\.status == \"final\"\)|"
        r"Infusion\.status != \"cancelled\", plausible_dates\(\))$",
        "reads every patient's rows and uses only those of the patients refreshed",
    ),
    ("progress.x_load", r"Infusion\.scheduled_for, \)$", TIE),
    ("overview.x_open_alerts", r"Alert\.id\.desc\(\)\) → ", TIE),
    ("recent_check_ins", r"completed_at\.desc\(\), \)", TIE),
    ("fhir.x_load", r"order_by\((CheckIn\.completed_at|Infusion\.administered_at), \)", TIE),
    ("trends.x_load", r"order_by\(CheckIn\.completed_at, \)", TIE),
    ("choose_course", r"starts_at\.desc\(\), \)", TIE),
    (
        "_by_infusion",
        r"func\.count\(None\)",
        "count(*) here: one row per patient at each infusion number",
    ),
    (
        "outcomes.x__cohort",
        r"^PatientProgress\.patient_id == CourseProgress\.patient_id,$",
        "a course belongs to one patient: the course join alone matches the same rows",
    ),
    (
        "outcomes.x__cohort",
        r"baseline_check_in_id\.is_not\(None\)",
        "every instrument answered in a course has a baseline",
    ),
    (
        "list_alerts",
        r"descending=\[False, True, False\]",
        "the id orders only alerts of one rank that arrived together",
    ),
    (
        "recent_check_ins",
        r"\.limit\(None\)",
        "more ratings read than needed: the comparison trims to the count again",
    ),
    (
        "benefits_of",
        r"→ end = None|\(following\) and False|None, window, grace\)",
        "the window and benefit_of each stop at the next infusion; either alone suffices",
    ),
    ("benefits_of", r"start - 2", "one more score before the infusion: only the last one counts"),
    (
        "early_non_improvement",
        r"not points and not infusions",
        "a baseline implies points; with no infusion no point is in induction",
    ),
    ("item_observation", r'item\.loinc or "XXXX"', "only items with a LOINC code are exported"),
    (
        "_invited_staff",
        r"is not None and user\.password_hash",
        "enrolment refuses an address with a password first, and deactivation cancels codes",
    ),
    (
        "_new_patient_account",
        r"Unauthorized\(None\)",
        "a patient with an account holds no live code; the other branch is a race only "
        "PostgreSQL shows",
    ),
    (
        "patients.x_care_team",
        r"User\.display_name, \)",
        "SQLite reads a care team in its key's (user id) order anyway; PostgreSQL is held "
        "to it by test_namesakes_on_a_care_team_keep_one_order",
    ),
    (
        "x_record_infusion",
        r"^(side_effects=\[\],|serious_side_effects=False,)( →|$)|serious_side_effects=None,",
        "the model's column default gives the same value (None on such a column inserts it)",
    ),
    (
        "check_ins.x_submit",
        r"Submitted\(record, stored\.created, \)$",
        "Submitted.alerts has no reader: the route answers with the record",
    ),
    (
        "trends.x_load",
        r"CourseData\(patient, None,",
        "no caller reads CourseData.course; each passes its own course",
    ),
    (
        "check_ins.x_clinic_of",
        r'setdefault\((None|"XXclinicsXX"|"CLINICS"), \{\}\)',
        "the session keeps clinics under a key nothing else reads",
    ),
    (
        "check_ins.x__matching",
        r"→ CheckIn\.patient_id == patient\.id, \)$",
        "a check-in carries its patient's clinic (set at submission; a patient never moves)",
    ),
    (
        "schedule.x_spaced",
        r'"(XXoverdueXX|OVERDUE)"',
        "an overdue window closed before now: a wait past now outlasts it and was skipped",
    ),
    (
        "schedule.x_next_due_by",
        r"range\(6\)",
        "from now at most two windows in a row are done (no check-in is after now; spacing "
        "skips none ending later than a week ahead), each seen at most twice: a sixth look "
        "finds nothing new",
    ),
    (
        "schedule.x_next_due_by",
        r"item\.due_by != done_by|\(item\.due_by == done_by\) or True|else dt\.timedelta\(1\)",
        "a day past any done window finds the same next close: a daily one skipped is reported "
        "as missed, a longer one is still open a day in",
    ),
    (
        "schedule.x_next_due_by",
        r"microseconds=1\) → .*microseconds=2\)",
        "the next window begins the microsecond after one closes; one later is in it too",
    ),
    (
        "alerts.x_join",
        r"last_received_at <= received",
        "at an equal instant the latest arrival is set to the value it already has",
    ),
    (
        "alerts.x_join",
        r"priority_rank >= rank",
        "an equal rank is the same priority (ranks enumerate them): the same value either way",
    ),
    (
        "panel.x__offset",
        r"offset <= 0|offset < 1\b",
        "the service never issues an offset-0 cursor (offset + limit, limit >= 1) and only it "
        "can sign one",
    ),
    (
        "courses.x_infusion_records",
        r"if \(details\) or True",
        "a reader without details never sees the threshold or notes: the API and FHIR drop them, "
        "the report is clinicians' own",
    ),
    (
        "early_non_improvement",
        r"infusion_number or 1\)",
        "a point without an infusion number is never in induction (it returns before): 0 and 1 "
        "are both under 4",
    ),
    (
        "x_waning",
        r"i\.number == number\), \)$",
        "points' contexts come from the same infusions: the latest point's infusion is found",
    ),
    (
        "fhir.x_load",
        r'^Infusion\.status\.in_\(\("completed", "cancelled"\)\),$',
        "an infusion with a time given is completed or cancelled: a scheduled one has none "
        "(refused on creation and change)",
    ),
    (
        "alerts.x_open_alerts",
        r"^Alert\.(kind|questionnaire)\.in_\(",
        "the rows are matched with the keys again in Python: the filter only narrows the read",
    ),
    (
        "alerts.x_open_alerts",
        r"order_by\(None\)|key_share=False",
        "the order and strength of the rows' lock matter only to requests racing for the same "
        "open alerts, which only PostgreSQL runs (test_concurrency.py); SQLite serialises writers",
    ),
    (
        "alerts.x_raise_all",
        r"in URGENT_KINDS for kind|Patient\.id != patient_id|key_share=False|"
        r"^(opened \|=|joined \|=|waiting -=) .* → (opened|joined|waiting) =",
        "concurrent triggers for one patient (the lock, and the second round after a concurrent "
        "request opened the same alert first), which only PostgreSQL runs (test_concurrency.py); "
        "SQLite serialises writers",
    ),
    (
        "alerts.x_best_priority",
        r"key=PRIORITY_RANK\.__getitem__\) → .*(key=None\)|group\), \))$",
        "one kind's triggers share a priority but for deterioration's high and normal, which "
        "sort the same by name as by rank",
    ),
    (
        "timeline.x_baselines",
        r"^CheckIn\.completed_at >= course\.window_start, → \) → \)$",
        "a bound on what is read; belonging() keeps only the course's check-ins again",
    ),
    (
        "check_ins.x_new_check_in",
        r"^entered_in_error_(at|by|reason)=None,( →|$)",
        "an unset column is NULL all the same",
    ),
    (
        "check_ins.x_new_check_in",
        r"total_seconds\(\) / 60\)",
        "an RFC 3339 offset is whole minutes: both divisions are exact",
    ),
    (
        "alerts.x_could_deteriorate",
        r"check_in\.total \+ definition\.score_min",
        "every instrument's lowest score is 0",
    ),
    (
        "check_ins.x__first_of_each",
        r"key = None$|key is None and key in keys",
        "only a batch has several submissions, and its items carry ids, never an Idempotency-Key",
    ),
    (
        "check_ins.x_store_all",
        r"alerts=tuple\(raised\)\) → .*created=True, \)$",
        "Submitted.alerts passes them on and nothing reads it (a field to remove)",
    ),
    (
        "check_ins.x__stored_copies",
        r"populate_existing=(None|False)\)",
        "read once a request, before any of these rows is loaded: nothing to refresh",
    ),
    (
        "check_ins.x__stored_copies",
        r"\(CheckIn\.patient_id == patient\.id\) \| CheckIn\.idempotency_key",
        "a bound on what is read; the rows found are matched again by patient and key",
    ),
    (
        "timeline.x_local_midnight",
        r"astimezone\(None\)",
        "the same instant in the machine's offset: readers compare instants or convert to the "
        "patient's zone",
    ),
    (
        "timeline.x_given_infusions",
        r"order_by\(Infusion\.course_id, Infusion\.administered_at, Infusion\.id\) → "
        r".*order_by\((None, )?Infusion\.administered_at, Infusion\.id\)",
        "each course's list is built apart, in order of administration: how courses interleave "
        "changes nothing",
    ),
    ("timeline.x_given_infusions", r"Infusion\.administered_at, \)$", TIE),
    (
        "timeline.x_given_infusions",
        r"plausible_dates\(\)\) → .*\"completed\", \)$",
        "no infusion with a date outside the plausible years can be recorded (the schema's years, "
        "not in the future, two years ahead at most)",
    ),
    (
        "timeline.x_timeline_query",
        r"order_by\(Course\.id, Infusion\.administered_at, Infusion\.id\) → "
        r".*order_by\((None, )?Infusion\.administered_at, Infusion\.id\)",
        "each course's list is built apart, in order of administration: how courses interleave "
        "changes nothing",
    ),
    ("timeline.x_timeline_query", r"Infusion\.administered_at, \)$", TIE),
    (
        "timeline.x_patient_with_timeline",
        r"^continue → break$",
        "a row without a course comes only for a patient with none: it is the only row",
    ),
    (
        "timeline.x_course_for",
        r"instant <= c\.starts_at\]",
        "an instant at a course's start is in its span, which is looked for first",
    ),
    (
        "access.x_patient_filter",
        r"^CareTeamMember\.clinic_id == actor\.clinic_id, → \) → \)$|"
        r'actor\.role == "patient" or actor\.patient_id is not None',
        "a care-team member is always of the patient's clinic (another clinic's is refused: "
        "test_access_targets.py), and only a patient's actor carries a patient id",
    ),
]


def reason(name: str, changed: str) -> str:
    for part, pattern, why in REASONS:
        if part in name and re.search(pattern, changed):
            return why
    return OPEN


def change(name: str) -> str:
    """The mutant's changed lines, before → after (mutmut's own diff, read in process)."""
    diff = get_diff_for_mutant(name)
    lines = [
        line[1:].strip() for line in diff.splitlines() if line[:1] in "-+" and line[1:2] == " "
    ]
    return " → ".join(lines) or "(see mutmut show)"


def main() -> None:
    found = statuses()
    by_module: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for name, status in found.items():
        by_module[name.split(".x")[0]][status] += 1
    total = collections.Counter(found.values())
    killed = sum(total[status] for status in KILLED)
    scored = sum(total.values()) - total["skipped"] - total["not checked"]
    print(f"Score: {killed} of {scored} mutants killed ({100 * killed / max(scored, 1):.1f} %)\n")
    print("| module | killed | survived | not checked | other |\n|---|---:|---:|---:|---:|")
    for module, counts in sorted(by_module.items()):
        dead = sum(counts[status] for status in KILLED)
        waiting = counts["not checked"]
        other = sum(counts.values()) - dead - counts["survived"] - waiting
        print(
            f"| `{module.removeprefix('api.domain.')}` | {dead} | {counts['survived']} "
            f"| {waiting} | {other} |"
        )
    rows, reasons = [], collections.Counter()
    for name, status in sorted(found.items()):
        if status == "survived":
            changed = change(name)
            why = reason(name, changed)
            reasons[why] += 1
            shown = changed.replace("|", "\\|")
            rows.append(f"| `{name.removeprefix('api.domain.')}` | `{shown}` | {why} |")
    print("\nSurvivors by reason:\n\n| reason | survivors |\n|---|---:|")
    for why, count in reasons.most_common():
        print(f"| {why} | {count} |")
    print("\nSurvivors:\n\n| mutant | change | why it may survive |\n|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
