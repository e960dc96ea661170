"""Time the roll import of a realistic 5,000-member export on SQLite and, if given, PostgreSQL.

Usage: ``python bench/bench_import.py [--rows N] [--postgres URL]`` (PORTAL_TEST_POSTGRES_URL is used when
``--postgres`` is not given). Each engine gets a fresh, migrated database (a temporary SQLite file; a
temporary PostgreSQL database, dropped afterwards). The file is generated deterministically (seeded
``random.Random``) the way the office's export looks: a BOM, `;` delimiters, CRLF, quoted names with
apostrophes and commas, both date styles, stray spaces, mixed-case e-mail addresses, trailing empty columns.

Steps, each one transaction as in the portal: a dry run against an empty roll, the first apply (every row
new), a dry run of the same file (every row unchanged), a month later's file (10% changed, 2% new, 1% gone)
applied with the missing marked lapsed, and that file applied again (nothing to do). The target is a few
seconds for 5,000 rows; set-based statements keep it well under one.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from scratch import postgres_scratch

from portal import audit, migrate
from portal.db import Database
from portal.members import importer

FIRST = ["Aisha", "Ben", "Catherine", "Dafydd", "Eilidh", "Femi", "Grace", "Hamish", "Imran", "Joanna", "Kofi",
         "Lucy", "Mairéad", "Nikhil", "Olwen", "Priya", "Rhys", "Siobhan", "Tomasz", "Zoë"]  # fmt: skip
LAST = ["Smith", "O'Brien", "Jones", "Patel", "Williams", "Nowak", "MacLeod", "Okafor", "Evans", "Khan",
        "Taylor", "Brown", "Davies", "Wilson", "Ní Bhriain", "Thomas", "Roberts", "Hughes", "Ahmed", "Walker"]  # fmt: skip
CATEGORIES = ["Basic", "basic", "Member plus", "Trainee", "Organisation", "Honorary"]
LEVELS = ["", "None", "Accredited practitioner", "Supervisor", "Trainer"]
HEADINGS = ["Membership No", "Forename", "Surname", "Email Address", "Category", "Accreditation", "Status",
            "Joined", "Renewal date", "Notes", ""]  # fmt: skip


def make_rows(count: int, seed: int = 20261125) -> list[list[str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        joined = date(2005, 1, 1) + timedelta(days=rng.randrange(7600))
        renewal = date(2026, 1, 1) + timedelta(days=rng.randrange(730))
        email = f"{first}.{last}.{i}@example.org".replace(" ", "").replace("'", "")
        rows.append(
            [
                f"{10000 + i}",
                f" {first}" if i % 97 == 0 else first,
                last,
                email.upper() if i % 13 == 0 else email.lower(),
                rng.choice(CATEGORIES),
                rng.choice(LEVELS),
                "active" if rng.random() < 0.9 else "lapsed",
                joined.strftime("%d/%m/%Y") if i % 2 else joined.isoformat(),
                renewal.isoformat() if i % 3 else renewal.strftime("%d/%m/%Y"),
                "Paid by cheque, 2024" if i % 50 == 0 else "",
                "",
            ]
        )
    return rows


def next_month(rows: list[list[str]], seed: int = 7) -> list[list[str]]:
    """10% changed, 1% gone, 2% new."""
    rng = random.Random(seed)
    changed = [list(r) for r in rows]
    for row in rng.sample(changed, len(changed) // 10):
        row[8] = (date(2027, 6, 1) + timedelta(days=rng.randrange(300))).isoformat()
        if rng.random() < 0.3:
            row[4] = "Member plus"
    gone = set(rng.sample(range(len(changed)), len(changed) // 100))
    kept = [r for i, r in enumerate(changed) if i not in gone]
    extra = make_rows(len(rows) // 50, seed=99)
    for i, row in enumerate(extra):
        row[0] = f"{90000 + i}"
        row[3] = f"new.{i}@example.org"
    return kept + extra


def to_csv(rows: list[list[str]]) -> bytes:
    def cell(value: str) -> str:
        return f'"{value}"' if any(c in value for c in ";,'\"") else value

    lines = [";".join(cell(v) for v in row) for row in [HEADINGS, *rows]]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n\r\n").encode()


def timed(database: Database, step: Callable[[Any], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    with database.session(write=True) as session:
        result = step(session)
    return time.perf_counter() - start, result


def run_engine(url: str, rows: int) -> list[tuple[str, str, int, float, str]]:
    migrate.upgrade(url)
    # The import is audited, and the audit chain is keyed: any key will do for a scratch database.
    database = Database(url, audit_key=audit.chain_key(b"bench-secret-key-that-is-long-enough-0123456789"))
    first, second = to_csv(make_rows(rows)), None
    second = to_csv(next_month(make_rows(rows)))
    now = datetime(2026, 11, 25, tzinfo=UTC)
    results = []

    def plan(content: bytes) -> Callable[[Any], Any]:
        return lambda s: importer.plan_import(s, content=content, filename="roll.csv")

    def apply(content: bytes, when: datetime) -> Callable[[Any], Any]:
        return lambda s: importer.apply_import(
            s, content=content, filename="roll.csv", actor=None, lapse_missing=True, now=when
        )[1]

    steps: list[tuple[str, bytes, Callable[[Any], Any]]] = [
        ("dry run, empty roll", first, plan(first)),
        ("apply, all new", first, apply(first, now)),
        ("dry run, unchanged", first, plan(first)),
        ("apply next month's file", second, apply(second, now + timedelta(days=30))),
        ("apply it again", second, apply(second, now + timedelta(days=31))),
    ]
    engine = database.dialect
    for label, content, step in steps:
        seconds, outcome = timed(database, step)
        if isinstance(outcome, importer.ImportPlan):
            assert outcome.ok, outcome.problems[:5]
            summary = f"new {len(outcome.new)}, changed {len(outcome.changed)}, unchanged {outcome.unchanged}"
        else:
            summary = f"added {outcome.added}, changed {outcome.changed}, lapsed {outcome.lapsed}"
        rows_in_file = content.count(b"\r\n") - 2
        results.append((engine, label, rows_in_file, seconds, summary))
    database.dispose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--postgres", default=os.environ.get("PORTAL_TEST_POSTGRES_URL", ""))
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results += run_engine(f"sqlite:///{tmp}/bench.db", args.rows)
    if args.postgres:
        url, drop = postgres_scratch(args.postgres, "import")
        try:
            results += run_engine(url, args.rows)
        finally:
            drop()
    print(f"{'engine':<11} {'step':<26} {'rows':>6} {'seconds':>8}  outcome")
    for engine, label, rows, seconds, summary in results:
        print(f"{engine:<11} {label:<26} {rows:>6} {seconds:>8.3f}  {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
