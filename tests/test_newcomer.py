"""A newcomer's first minutes: `make run PORT=…` serves there and e-mailed links follow (PORTAL_BASE_URL is
set from HOST and PORT unless given), `make run` installs only what serving needs, the README says so, and
`portal db upgrade` says whether it created the schema, migrated it or found it up to date."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAKE = shutil.which("make")
needs_make = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def make(*args: str, stdin: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "MAKE"))}
    done = subprocess.run(
        [MAKE or "make", "--no-print-directory", "-C", str(ROOT), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return done.stdout


#: A target added beside the Makefile's own that prints what `make run` would hand the portal.
SHOW = "show-base-url:\n\t@echo $$PORTAL_BASE_URL\n"


@needs_make
def test_make_run_on_another_port_sets_the_base_url_from_it() -> None:
    assert make("-f", "Makefile", "-f", "-", "show-base-url", stdin=SHOW).strip() == "http://127.0.0.1:8000"
    shown = make("-f", "Makefile", "-f", "-", "show-base-url", "PORT=8010", stdin=SHOW)
    assert shown.strip() == "http://127.0.0.1:8010"
    given = make(
        "-f", "Makefile", "-f", "-", "show-base-url", "PORT=8010", "PORTAL_BASE_URL=https://x.org", stdin=SHOW
    )
    assert given.strip() == "https://x.org"
    assert "--port 8010" in make("-n", "-B", "run", "PORT=8010", "VENV=/nonexistent-venv")


@needs_make
def test_make_run_installs_only_what_serving_needs() -> None:
    run = make("-n", "-B", "run", "VENV=/nonexistent-venv")
    assert "-e ." in run and "[test]" not in run and "pytest" not in run
    assert "'.[test]'" in make("-n", "-B", "test", "VENV=/nonexistent-venv")


def test_the_readme_says_how_to_use_another_port() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make run PORT=8010" in readme and "`PORTAL_BASE_URL` from `HOST` and `PORT`" in readme


def upgrade(url: str, *revision: str) -> str:
    env = {**os.environ, "PORTAL_DATABASE_URL": url, "PORTAL_ENV": "test"}
    done = subprocess.run(
        [sys.executable, "-m", "portal.cli", "db", "upgrade", *revision],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_db_upgrade_says_it_created_the_schema_then_that_it_is_up_to_date(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'portal.db'}"
    first = upgrade(url)
    assert first.startswith(f"Created the database schema in {tmp_path / 'new' / 'portal.db'} (revision ")
    assert upgrade(url).startswith("The database schema is already up to date (revision ")


def test_db_upgrade_of_an_older_schema_says_it_migrated(tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory

    from portal.migrate import alembic_config

    scripts = ScriptDirectory.from_config(alembic_config())
    head = scripts.get_revision(scripts.get_current_head())
    url = f"sqlite:///{tmp_path / 'old.db'}"
    assert upgrade(url, "--revision", head.down_revision).startswith("Created the database schema")
    migrated = upgrade(url).strip().splitlines()
    assert (
        migrated[0] == f"Migrated the database schema from revision {head.down_revision} to {head.revision}."
    )
    # An installation that had no website yet is given the placeholder menu with the site's tables.
    assert all(line.startswith("The website's menu is placed: ") for line in migrated[1:])
