"""`portal count FILE.blt`: anyone can count a BLT file, and --json gives the record in expected.json's terms."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from portal.cli import main

DATA = Path(__file__).parent / "data" / "glasgow-2007"


def test_portal_count_json_matches_the_reference_count():
    expected = json.loads((DATA / "expected.json").read_text())["Calton-2007"]
    result = CliRunner().invoke(
        main, ["count", str(DATA / "Calton-2007.blt"), "--rule", "scottish", "--json"]
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    for field in (
        "seats",
        "ballots",
        "quota",
        "stages",
        "elected",
        "excluded",
        "final_votes",
        "non_transferable_final",
    ):
        assert record[field] == expected[field], field
    assert record["rounds"]


def test_portal_count_explains_the_count_in_plain_words():
    result = CliRunner().invoke(main, ["count", str(DATA / "Calton-2007.blt")])
    assert result.exit_code == 0
    assert "5199 valid ballot papers for 3 seats" in result.output
    assert "Elected, in order: George Redmond;" in result.output


def test_portal_count_refuses_a_broken_file_with_its_line(tmp_path):
    broken = tmp_path / "broken.blt"
    broken.write_text("3 1\n1 1 2\n0\n")
    result = CliRunner().invoke(main, ["count", str(broken)])
    assert result.exit_code != 0
    assert "broken.blt" in result.output and "line" in result.output.lower()


def test_ers97_rule_counts_too():
    result = CliRunner().invoke(main, ["count", str(DATA / "Calton-2007.blt"), "--rule", "ers97", "--json"])
    assert json.loads(result.output)["rule"].lower().startswith("ers97")
