"""docs/members-import.md and its example file stay true to the importer."""

from __future__ import annotations

import re
from pathlib import Path

from portal.members import importer

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_example_file_imports_cleanly(db):
    plan = importer.plan_import(db, content=(DOCS / "members-example.csv").read_bytes())
    assert plan.ok, plan.problems
    assert len(plan.new) == 6
    assert plan.ignored_columns == ["Notes"]


def test_the_guide_lists_every_problem_code():
    text = (DOCS / "members-import.md").read_text()
    listed = set(re.findall(r"^\| `([a-z_0-9]+)` \|", text, flags=re.MULTILINE))
    assert listed == set(importer.PROBLEM_CODES)


def test_the_guide_lists_every_accepted_heading():
    text = (DOCS / "members-import.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| ") and "|" in line[2:]]
    documented = {
        importer.normalise_heading(heading)
        for row in rows
        for heading in row.split("|")[3].split(",")
        if len(row.split("|")) > 4
    }
    accepted = set(importer.HEADING_FIELD)
    assert accepted <= documented, f"undocumented headings: {accepted - documented}"
