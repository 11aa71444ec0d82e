"""Regenerate docs/report.png: the demo clinic's report of a patient in maintenance, rendered by
Debian's Chromium. `make report-screenshot` (needs chromium on the PATH)."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from api.app import create_app
from api.demo import DEMO_PASSWORD, load_demo
from api.migrate import upgrade

DOCS = Path(__file__).resolve().parent
# A patient in maintenance whose trend raises a signal: waning benefit or relapse.
SHOWN_SIGNALS = ("waning", "relapse")


def main() -> None:
    browser_path = shutil.which("chromium") or sys.exit("chromium is not installed")
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"INSTANCE_DIR": folder, "DATABASE_URL": f"sqlite:///{folder}/demo.db"})
        with app.extensions["interval.db"].engine.begin() as connection:
            upgrade(connection)
        with app.extensions["interval.db"].session() as session:
            load_demo(
                session,
                app.extensions["interval.identity"],
                app.extensions["interval.questionnaires"],
            )
            session.commit()
        client = app.test_client()
        login = client.post(
            "/v1/auth/login",
            json={"email": "dr.rivera@demo.interval.test", "password": DEMO_PASSWORD},
        ).get_json()
        headers = {"Authorization": f"Bearer {login['access_token']}"}
        patients = client.get("/v1/patients?limit=200", headers=headers).get_json()["items"]
        chosen = next(p for p in patients if set(p["progress"]["signals"]) & set(SHOWN_SIGNALS))
        page_file = Path(folder) / "report.html"
        page_file.write_bytes(
            client.get(f"/v1/patients/{chosen['id']}/report", headers=headers).get_data()
        )
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=browser_path, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 800, "height": 1000})
            page.goto(page_file.as_uri())
            page.screenshot(path=str(DOCS / "report.png"), full_page=True)
            browser.close()
        app.extensions["interval.db"].dispose()
    print(f"wrote {DOCS / 'report.png'}")


if __name__ == "__main__":
    main()
