"""Browser tests: a real Trellis server in a thread, driven by Debian's Chromium through Playwright.

Never run `playwright install`: the browser is /usr/bin/chromium (`apt-get install chromium`).
Without it the tests are skipped, or fail when REQUIRE_BROWSER=1 (as CI sets).
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import Engine, text
from werkzeug.serving import make_server

from portal import create_app
from portal.db import Base
from tests.portal.helpers import BASE_CONFIG

#: The threaded development server of these tests can leave a static file's handle to the
#: garbage collector when Chromium drops a request (seen once in CI on favicon.svg, 2026-12-04:
#: "Exception ignored in: <_io.FileIO name='.../portal/static/favicon.svg'>", reported on the
#: next test's setup). Flask closes those files whenever the server closes the response (checked
#: for 200, 206 and 304), so this is the test server's, not the portal's: ignored for browser
#: tests and static files only.
STATIC_FILE_LEFT_TO_GC = pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <_io.FileIO name='[^']*/portal/static/"
    ":pytest.PytestUnraisableExceptionWarning")


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(STATIC_FILE_LEFT_TO_GC)


CHROMIUM = Path("/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# Real forms are posted by a real browser, so CSRF protection stays on.
E2E_CONFIG = {**BASE_CONFIG, "WTF_CSRF_ENABLED": True}
# The server's clock starts here and runs on (the browser keeps real time; sessions and CSRF tokens
# carry no expiry it could judge). The demo data depends on "today", so with a fixed start every run
# gets the same data and the same journey, whatever the date and hour.
CLOCK_START = datetime(2026, 11, 14, 7, 0, tzinfo=UTC)


def need_chromium() -> None:
    """Skip (fail when REQUIRE_BROWSER=1) when Debian's Chromium is not installed."""
    if CHROMIUM.exists():
        return
    how = "install it with `apt-get install chromium` (never `playwright install`)"
    if REQUIRE_BROWSER:
        pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing; {how}")
    pytest.skip(f"browser tests need {CHROMIUM}; {how}")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):  # keeps --headed / --slowmo
    need_chromium()
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@dataclass
class LiveServer:
    url: str
    engine: Engine

    def query(self, sql: str, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).all()

    def query_commit(self, sql: str, **params) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(sql), params)


@pytest.fixture(scope="package")  # package: the clock is back to normal for the rest of the suite
def live_server(tmp_path_factory):
    """Trellis on a fresh SQLite file with the demo data, served on a free port."""
    need_chromium()  # no point loading data for a browser that is not there
    with time_machine.travel(CLOCK_START, tick=True):
        path = tmp_path_factory.mktemp("e2e") / "trellis.db"
        app = create_app({**E2E_CONFIG, "DATABASE_URL": f"sqlite:///{path}"})
        engine = app.extensions["trellis.engine"]
        Base.metadata.create_all(engine)
        result = app.test_cli_runner().invoke(args=["demo", "load", "--partners", "12", "--years", "3"])
        assert result.exit_code == 0, result.output
        with engine.begin() as conn:  # the demo picks locales at random; the test reads English labels
            conn.execute(text("UPDATE users SET locale = 'en' WHERE email LIKE '%@demo.test'"))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield LiveServer(f"http://127.0.0.1:{server.server_port}", engine)
        finally:
            server.shutdown()
            thread.join()
            engine.dispose()


@pytest.fixture(scope="session")
def base_url():
    # Replaces pytest-playwright's fallback fixture (pytest-base-url is not installed), a
    # session-scoped instance method that pytest 9 warns about (PytestRemovedIn10Warning, an
    # error under filterwarnings=error). The live server's URL goes into each context instead.
    return None


@pytest.fixture
def context(new_context, live_server):
    """page.goto("/login") goes to the live server; English pages."""
    return new_context(base_url=live_server.url, locale="en-GB")


@pytest.fixture
def page(page):
    # Fail within seconds, not Playwright's 30 s default, when the UI does not match.
    page.set_default_timeout(10_000)
    return page
