"""`/docs` renders the document in a real browser: Swagger UI (served from our own files) reads
OpenAPI 3.1 and shows every operation."""

from __future__ import annotations

import os

import pytest
import yaml
from playwright.sync_api import sync_playwright

from api.openapi import SPEC_PATH
from tests.api.test_report import BROWSER

OPERATION_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.mark.skipif(
    BROWSER is None and not os.environ.get("CI"),
    reason="no Chromium here (CI installs Debian's chromium; apt-get install chromium)",
)
def test_the_docs_page_shows_every_operation(base_url):
    assert BROWSER, "CI must have Chromium: .ci/run installs it"
    document = yaml.safe_load(SPEC_PATH.read_text())
    operations = sum(
        1 for item in document["paths"].values() for method in item if method in OPERATION_METHODS
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=BROWSER, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        page.goto(f"{base_url}/docs")
        page.wait_for_selector(".opblock", timeout=20_000)
        shown = page.locator(".opblock").count()
        text = page.inner_text("body")
        browser.close()
    assert "Unable to render" not in text
    assert shown == operations
