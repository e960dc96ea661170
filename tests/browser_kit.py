"""Browser test kit: the real portal served by uvicorn on a free port, and the axe-core accessibility check.

The fixtures that use it are in `browser_fixtures.py`, a plugin loaded by the root conftest, so any test folder
can use `live_server`, `page` and `assert_accessible` (Playwright's sync API may start once per process).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
from support import SECRET
from support import free_port as support_free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = Path(__file__).parent / "browser" / "vendor" / "axe-core" / "axe.min.js"
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    return support_free_port()


@dataclass
class LiveServer:
    url: str
    database_url: str
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def setup_code(self) -> str:
        """The one-time first-run setup code `portal serve` printed on this empty database."""
        found = re.findall(r"enter the setup code (\S+) ", self.log())
        if not found:
            raise AssertionError(f"portal serve printed no setup code:\n{self.log()}")
        return found[-1]

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run the `portal` command against this server's database."""
        return subprocess.run(
            [sys.executable, "-m", "portal.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            input=input,
            check=False,
        )


def start_server(
    tmp_path: Path,
    *,
    extra_env: dict[str, str] | None = None,
    database_url: str | None = None,
    workers: int = 1,
    migrate: bool = True,
) -> LiveServer:
    """`portal serve` on a free port: `workers` uvicorn worker processes (more than one needs PostgreSQL);
    `migrate=False` when another server on the same database has already migrated it."""
    port = free_port()
    db_url = database_url or f"sqlite:///{tmp_path / 'live.db'}"
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": db_url,
        "PORTAL_SECRET_KEY": SECRET,
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        "PORTAL_ENV": "test",
        **(extra_env or {}),
    }
    if migrate:
        subprocess.run(
            [sys.executable, "-m", "portal.cli", "db", "upgrade"], env=env, check=True, capture_output=True
        )
    log_path = tmp_path / f"server-{port}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "portal.cli", "serve", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the portal did not start:\n{log_path.read_text()}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError(f"the portal did not answer in 20 s:\n{log_path.read_text()}")
    return LiveServer(url=url, database_url=db_url, process=process, env=env, log_path=log_path)


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()


def axe_violations(page: Any, *, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """Run axe-core on the current page; return the violations of the given impacts.

    axe is evaluated through the DevTools protocol, which the page's Content-Security-Policy does not govern,
    so the portal's CSP stays strict while it is checked.
    """
    page.evaluate(AXE.read_text())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in impacts]
