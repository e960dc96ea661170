"""Settings come from PORTAL_* variables, are validated at start, and production refuses unsafe ones."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from portal.cli import main
from portal.settings import DOCUMENTED, Settings, SettingsError

GOOD_KEY = "k" * 40


def test_defaults_are_for_local_development():
    settings = Settings.from_env({})
    assert settings.env == "development"
    assert settings.database_url == "sqlite:///var/portal.db"
    assert not settings.secure_cookies


def test_production_refuses_a_missing_secret_key():
    with pytest.raises(SettingsError, match="Refusing to start in production without PORTAL_SECRET_KEY"):
        Settings.from_env({"PORTAL_ENV": "production"})


def test_production_refuses_a_short_secret_key():
    with pytest.raises(SettingsError, match="at least 32 characters"):
        Settings.from_env({"PORTAL_ENV": "production", "PORTAL_SECRET_KEY": "short"})


def test_production_with_a_proper_key_starts_with_secure_cookies():
    settings = Settings.from_env({"PORTAL_ENV": "production", "PORTAL_SECRET_KEY": GOOD_KEY})
    assert settings.production and settings.secure_cookies


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PORTAL_ENV", "staging", "PORTAL_ENV must be one of"),
        ("PORTAL_DATABASE_URL", "mysql://x", "must start with sqlite:/// or postgresql://"),
        ("PORTAL_BASE_URL", "portal.example", "must be an http"),
        ("PORTAL_SMTP_URL", "http://mail", "must start with smtp:// or smtps://"),
        ("PORTAL_SESSION_IDLE_MINUTES", "ten", "must be a whole number"),
        ("PORTAL_LOG_LEVEL", "LOUD", "PORTAL_LOG_LEVEL must be"),
    ],
)
def test_each_bad_setting_gets_a_specific_message(name, value, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({name: value})


def test_serve_refuses_in_one_line_in_production_without_a_key():
    result = CliRunner().invoke(main, ["serve"], env={"PORTAL_ENV": "production", "PORTAL_SECRET_KEY": ""})
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "PORTAL_SECRET_KEY" in lines[0]


def test_serve_refuses_several_workers_on_sqlite():
    result = CliRunner().invoke(
        main, ["serve", "--workers", "2"], env={"PORTAL_DATABASE_URL": "sqlite:///x.db"}
    )
    assert result.exit_code != 0
    assert "Use PostgreSQL" in result.output


def test_readme_documents_every_setting():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for doc in DOCUMENTED:
        assert re.search(rf"\| `{doc.name}` \|", readme), f"{doc.name} is missing from the README's table"


def test_cli_help_lists_the_commands():
    result = CliRunner().invoke(main, ["--help"])
    for command in ("serve", "db", "admin", "audit"):
        assert command in result.output
