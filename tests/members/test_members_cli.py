"""`portal members import FILE [--dry-run] [--lapse-missing]` against a real database."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from support import SECRET

from portal.cli import main
from portal.members.models import Member


@pytest.fixture
def run(db_url, tmp_path):
    def invoke(*args: str):
        return CliRunner().invoke(
            main,
            ["members", "import", *args],
            env={"PORTAL_DATABASE_URL": db_url, "PORTAL_SECRET_KEY": SECRET, "PORTAL_ENV": "test"},
        )

    return invoke


@pytest.fixture
def roll_file(tmp_path, make_roll):
    path = tmp_path / "roll.csv"
    path.write_bytes(
        make_roll(
            [
                ["1001", "ann@example.org", "Ann", "Smith", "Basic", "active", "2020-02-01", "01/02/2027"],
                ["1002", "bob@example.org", "Bob", "Jones", "Trainee", "active", "", ""],
            ]
        )
    )
    return path


def _count(database) -> int:
    with database.session(write=False) as s:
        return s.scalar(select(func.count()).select_from(Member))


def test_a_dry_run_shows_the_difference_and_changes_nothing(run, roll_file, database, add_member):
    add_member("999", "gone@example.org", "Gone", "Away")
    result = run(str(roll_file), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "New members: 2" in result.output
    assert "+ 1001 Ann Smith <ann@example.org>" in result.output
    assert "- 999 Gone Away" in result.output
    assert "Dry run: nothing was changed." in result.output
    assert _count(database) == 1


def test_an_import_applies_the_file_and_a_second_changes_nothing(run, roll_file, database):
    first = run(str(roll_file))
    assert first.exit_code == 0, first.output
    assert "Imported: 2 new, 0 changed, 0 unchanged, 0 marked lapsed." in first.output
    second = run(str(roll_file))
    assert "Imported: 0 new, 0 changed, 2 unchanged, 0 marked lapsed." in second.output
    assert _count(database) == 2


def test_a_file_with_problems_exits_with_an_error_and_imports_nothing(run, tmp_path, make_roll, database):
    path = tmp_path / "bad.csv"
    path.write_bytes(make_roll([["1", "not-an-email", "A", "B", "Basic", "active", "", ""]]))
    result = run(str(path))
    assert result.exit_code == 1
    assert "line 2 [bad_email]" in result.output
    assert "Nothing was imported" in result.output
    assert _count(database) == 0


def test_lapse_missing_marks_members_not_in_the_file_lapsed(run, roll_file, database, add_member):
    add_member("999", "gone@example.org", "Gone", "Away")
    result = run(str(roll_file), "--lapse-missing")
    assert "1 marked lapsed" in result.output
    with database.session(write=False) as s:
        assert s.scalar(select(Member.status).where(Member.membership_number == "999")) == "lapsed"
