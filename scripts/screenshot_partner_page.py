"""Pictures of the staff partner page (forecast chart, adjustment, relationship) on the demo data.

Loads the demo data with its first forecast run into a temporary SQLite file, serves the portal
on a free port, signs in as ``manager@demo.test`` through Debian's Chromium (never
``playwright install``) and saves a full-page picture of partner R001's page at 1366 px into
``docs/screenshots/manager-partner-desktop.png`` (with ``--phone``, also at 390 px)::

    .venv/bin/python scripts/screenshot_partner_page.py [--phone]

Needs the test extras (Playwright) and ``apt-get install chromium``.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def main() -> int:
    from playwright.sync_api import sync_playwright
    from sqlalchemy import select
    from werkzeug.serving import make_server

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/demo.db"
        env = {**os.environ, "DATABASE_URL": url}
        subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "demo", "load"], cwd=ROOT, env=env,
                       check=True, stdout=subprocess.DEVNULL)
        os.environ["DATABASE_URL"] = url
        from portal import create_app
        from portal.models import Partner

        app = create_app()
        with app.extensions["trellis.session_factory"]() as session:
            partner_id = session.scalar(select(Partner.id).where(Partner.code == "R001"))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        OUT.mkdir(parents=True, exist_ok=True)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
                sizes = [("desktop", 1366)] + ([("phone", 390)] if "--phone" in sys.argv else [])
                for name, width in sizes:
                    page = browser.new_page(viewport={"width": width, "height": 900})
                    page.goto(base + "/login")
                    page.fill("input[name=email]", "manager@demo.test")
                    page.fill("input[name=password]", "trellis-demo")
                    page.click("button[type=submit]")
                    page.goto(f"{base}/manage/partners/{partner_id}")
                    path = OUT / f"manager-partner-{name}.png"
                    page.screenshot(path=str(path), full_page=True)
                    print(path.relative_to(ROOT))
                    page.close()
                browser.close()
        finally:
            server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
