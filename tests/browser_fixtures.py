"""Browser fixtures (a pytest plugin loaded by tests/conftest.py): Playwright driving Debian's Chromium
(/usr/bin/chromium; no downloaded browser) against the real portal. Browser tests skip with a clear message only
where no Chromium is installed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_kit import CHROMIUM, LiveServer, axe_violations, start_server, stop_server
from support import SECRET


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    server = start_server(tmp_path)
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        message = "Chromium is not installed (apt-get install chromium); browser tests need /usr/bin/chromium"
        if os.environ.get("CI"):
            pytest.fail(f"{message}. On CI that is an error: .ci/run installs it.", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
                "--use-fake-ui-for-media-stream",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-GB", timezone_id="Europe/London"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: errors.append(msg.text) if msg.type == "error" and "favicon" not in msg.text else None,
    )
    page.js_errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()


@pytest.fixture
def assert_accessible() -> Callable[[Any], None]:
    def check(page: Any) -> None:
        # A click that navigates returns before the new document exists: axe must wait for it.
        page.wait_for_load_state("load")
        page.wait_for_function("document.documentElement !== null && document.readyState === 'complete'")
        violations = axe_violations(page)
        detail = "\n".join(
            f"- {v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in violations
        )
        assert not violations, f"axe found serious or critical violations on {page.url}:\n{detail}"

    return check


@pytest.fixture(scope="session")
def demo_server(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The portal serving a database that `portal demo` loaded (with the server's key) before it started: one
    per test process, shared by the demo journeys and the accessibility crawl (both in xdist group
    "demo-browser", so they run in the same process)."""
    tmp: Path = tmp_path_factory.mktemp("demo-live")
    url = f"sqlite:///{tmp / 'demo.db'}"
    env = {**os.environ, "PORTAL_DATABASE_URL": url, "PORTAL_SECRET_KEY": SECRET, "PORTAL_ENV": "test"}
    for command in (["db", "upgrade"], ["demo"]):
        done = subprocess.run(
            [sys.executable, "-m", "portal.cli", *command],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    server = start_server(tmp, database_url=url)
    yield server
    stop_server(server)
