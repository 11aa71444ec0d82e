"""The printable report: served as HTML to the care team only, and rendered in a real browser
(Debian's Chromium driven by Playwright): one non-empty chart per instrument, printed to PDF
with a page per instrument, and a screenshot."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil

import pytest

from tests.conftest import NOW, check_in_body

START = NOW - dt.timedelta(days=30)
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")


def at(days: float) -> str:
    return (START + dt.timedelta(days=days)).isoformat()


@pytest.fixture
def history(clock, course_api, patient, submit):
    course = course_api.start(
        patient, indications=["depression", "chronic_pain"], started_on=START.date().isoformat()
    )
    for day in (1, 3, 5, 8, 10, 12):
        course_api.infuse(
            course,
            at(day),
            blood_pressure={"before": [120, 80], "peak": [150, 90], "after": [122, 80]},
        )
    for day, total in ((0, 18), (4, 14), (11, 9), (18, 7), (25, 6)):
        items = {f"i{n}": min(3, max(0, total - 3 * (n - 1))) for n in range(1, 9)}
        submit(patient, check_in_body(completed_at=at(day), **items))
    for day in range(0, 29, 2):
        submit(patient, check_in_body("pain", completed_at=at(day + 0.5), i1=max(2, 8 - day // 4)))
    return course


def get_report(client, auth, patient, who, accept=None):
    headers = auth(who) | ({"Accept": accept} if accept else {})
    return client.get(f"/v1/patients/{patient.id}/report", headers=headers)


def test_the_report_is_html_for_the_care_team(client, auth, patient, clinician, history):
    response = get_report(client, auth, patient, clinician)
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert page.count('<section class="instrument"') == 2
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("who", ["patient", "admin"])
def test_nobody_else_gets_it(client, auth, patient, request, who, history):
    assert get_report(client, auth, patient, request.getfixturevalue(who)).status_code == 403


def test_a_pdf_is_not_produced_by_the_service(client, auth, patient, clinician, history):
    response = get_report(client, auth, patient, clinician, accept="application/pdf")
    assert response.status_code == 406 and response.mimetype == "application/problem+json"


def test_html_is_served_whenever_it_is_acceptable(client, auth, patient, clinician, history):
    response = get_report(
        client, auth, patient, clinician, accept="application/pdf, text/html;q=0.1"
    )
    assert response.status_code == 200 and response.mimetype == "text/html"


def text_of(page: str) -> str:
    """The page's words, one space between them."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def test_what_the_report_says(client, auth, patient, clinician, history, submit):
    submit(patient, check_in_body("pain", completed_at=at(29.9), i1=3))
    words = text_of(get_report(client, auth, patient, clinician).get_data(as_text=True))
    started = START.date().strftime("%d %B %Y")
    assert (
        f"Course started {started} (depression, chronic pain; active) · 6 infusions given" in words
    )
    # PHQ-9: 18 before the first infusion, 6 now.
    assert "18 (pre infusion) 6 (mild) -12 (-66.7 %) yes no improved yes" in words
    assert words.count("120/80 · 150/90 · 122/80") == 6
    # The 20 most recent of 21 check-ins, newest first.
    assert "Last 20 check-ins" in words
    newest = (START + dt.timedelta(days=29.9)).strftime("%d %b %Y %H:%M")
    assert f"Last 20 check-ins Completed Questionnaire Total Severity Flags Status {newest}" in (
        words
    )
    assert "Open alerts None." in words


def test_every_value_is_escaped(client, auth, clinic, clinician, make_patient, course_api, submit):
    someone = make_patient(clinic, care_team=(clinician,), display_name="<script>x()</script>")
    course_api.start(someone)
    page = get_report(client, auth, someone, clinician).get_data(as_text=True)
    assert "<script>" not in page and "&lt;script&gt;" in page


@pytest.mark.skipif(
    BROWSER is None and not os.environ.get("CI"),
    reason="no Chromium here (CI installs Debian's chromium; apt-get install chromium)",
)
def test_the_report_in_a_real_browser(client, auth, patient, clinician, history, tmp_path):
    from playwright.sync_api import sync_playwright

    assert BROWSER, "CI must have Chromium: .ci/run installs it"
    page_file = tmp_path / "report.html"
    page_file.write_bytes(get_report(client, auth, patient, clinician).get_data())
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=BROWSER,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 800, "height": 1200})
        page.goto(page_file.as_uri())
        charts = page.evaluate(
            """() => [...document.querySelectorAll("section.instrument")].map(section => {
                const line = section.querySelector("svg.chart polyline.line");
                const box = line ? line.getBBox() : {width: 0, height: 0};
                return {
                    questionnaire: section.dataset.questionnaire,
                    dots: section.querySelectorAll("svg.chart circle.dot").length,
                    width: box.width, height: box.height,
                    infusions: section.querySelectorAll("svg.chart line.infusion").length,
                };
            })"""
        )
        pdf = page.pdf(format="A4", print_background=True)
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    assert [c["questionnaire"] for c in charts] == ["pain", "phq9"]
    assert all(c["dots"] >= 5 and c["width"] > 300 and c["height"] > 10 for c in charts)
    assert all(c["infusions"] == 6 for c in charts)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    # One page per instrument, then the tables.
    assert pages >= 3
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_the_report_names_the_clinic_and_lists_open_alerts(
    client, auth, clinic, patient, clinician, history, submit
):
    submit(patient, check_in_body("phq9", completed_at=at(29.95), i1=2, i9=1))
    words = text_of(get_report(client, auth, patient, clinician).get_data(as_text=True))
    assert f"{clinic.name} · report of" in words
    assert "Open alerts Kind Priority Status Raised Occurrences suicidal ideation (item 9:" in words
    assert "urgent open" in words
