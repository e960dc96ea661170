"""Search the public register, and filter Find a Therapist, over 5,000 registrants. The aim: p99 under 20 ms.

Usage: ``python bench/bench_register.py [--postgres URL] [--registrants 5000] [--requests 200]``

A fresh database (a temporary SQLite file, and with ``--postgres`` a scratch database beside the one in the URL)
gets `--registrants` members on the roll (some lapsed, some with an ended level: the register's SQL leaves them
out), each holding a level, a third with a published practice profile. Each search is the service call a page
makes (`register.service.search`, `register.directory.directory`: the statements and the Python around them),
asked 20 times to warm up and then `--requests` times; the table gives its p50 and p99, the median CPU this
process spent on one (on a shared machine the wall-clock figures include waiting for a core; with SQLite the CPU
column is the whole search, with PostgreSQL the client's part of it) and how many it found.
"""

from __future__ import annotations

import argparse
import math
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from scratch import postgres_scratch  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from portal import migrate  # noqa: E402
from portal.accreditation import service as accreditation  # noqa: E402
from portal.accreditation.models import Holding  # noqa: E402
from portal.audit import chain_key  # noqa: E402
from portal.db import Database  # noqa: E402
from portal.members.models import Member  # noqa: E402
from portal.register import directory, service  # noqa: E402
from portal.register.models import PracticeProfile  # noqa: E402
from portal.training import service as training  # noqa: E402

SECRET = b"bench-register-secret-key-that-is-long-enough-0123456789"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)
FIRST = ["Megan", "Owen", "Siân", "Aled", "Priya", "Tom", "Grace", "Ade", "Nia", "Rhys", "Zoë", "Kiran"]
LAST = ["Hughes", "Price", "Jones", "Patel", "Okafor", "Smith", "Evans", "Murphy", "Khan", "Davies", "Wright"]
TOWNS = [("Manchester", "north-west", "M1"), ("Leeds", "yorkshire", "LS1"), ("Cardiff", "wales", "CF10"),
         ("Camden", "london", "NW1"), ("Bristol", "south-west", "BS1"), ("Leith", "scotland", "EH6")]  # fmt: skip


def load(database: Database, registrants: int) -> str:
    """The roll, the levels held and the profiles; returns a registration number that is on the register."""
    rng = random.Random(20261125)
    with database.session(write=True) as s:
        training.ensure_courses(s, now=NOW)
        accreditation.ensure_levels(s, now=NOW)
        levels = [level.id for level in accreditation.list_levels(s)]
        members = []
        for n in range(registrants):
            lapsed = n % 20 == 0
            members.append(
                {
                    "membership_number": f"{10000 + n}",
                    "email": f"r{n}@bench.example",
                    "first_name": rng.choice(FIRST),
                    "last_name": f"{rng.choice(LAST)}{'-' + rng.choice(LAST) if n % 7 == 0 else ''}",
                    "category": "basic",
                    "accreditation": "none",
                    "status": "active",
                    "renewal_on": TODAY - timedelta(days=90) if lapsed else TODAY + timedelta(days=200),
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
        s.execute(insert(Member), members)
        ids = list(s.scalars(select(Member.id).order_by(Member.id)))
        holdings, profiles = [], []
        for n, member_id in enumerate(ids):
            ended = n % 25 == 0
            holdings.append(
                {
                    "member_id": member_id,
                    "level_id": levels[n % len(levels)],
                    "from_on": TODAY - timedelta(days=400),
                    "until_on": TODAY - timedelta(days=1) if ended else TODAY + timedelta(days=300 + n % 500),
                    "conditions": "Supervised monthly." if n % 50 == 1 else "",
                    "created_at": NOW,
                    "recorded_by": "bench",
                }
            )
            if n % 3 == 0:
                town, region, code = TOWNS[(n // 3) % len(TOWNS)]
                profiles.append(
                    {
                        "member_id": member_id, "published": True, "practice_name": "", "towns": town,
                        "towns_key": f"|{town.lower()}|", "region": region, "outward_code": code,
                        "postcode_area": code.rstrip("0123456789"), "delivery": ("in_person", "online", "both")[n % 3],
                        "modalities": "|ipt|" if n % 2 else "|ipt|ipt-a|", "client_groups": "|adults|",
                        "languages": "English", "languages_key": "|english|", "description": "", "website": "",
                        "phone": "", "created_at": NOW, "updated_at": NOW,
                    }
                )  # fmt: skip
        s.execute(insert(Holding), holdings)
        s.execute(insert(PracticeProfile), profiles)
    return f"{10000 + 2}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000


def measure(label: str, url: str, *, registrants: int, requests: int) -> list[tuple[str, ...]]:
    migrate.upgrade(url)
    database = Database(url, null_pool=False, audit_key=chain_key(SECRET))
    try:
        number = load(database, registrants)
        searches: dict[str, Callable[[Any], int]] = {
            "register, first page": lambda s: service.search(s, service.Search(), now=NOW).total,
            "register, part of a name": lambda s: service.search(s, service.Search(q="pat"), now=NOW).total,
            "register, a number": lambda s: service.search(s, service.Search(q=number), now=NOW).total,
            "register, town + region": lambda s: (
                service.search(s, service.Search(town="leeds", region="yorkshire"), now=NOW).total
            ),
            "register, page 40": lambda s: service.search(s, service.Search(page=40), now=NOW).total,
            "directory, region + modality": lambda s: (
                directory.directory(
                    s, directory.Filters(region="north-west", modality="ipt-a"), now=NOW, key=SECRET
                ).total
            ),
            "directory, everyone": lambda s: (
                directory.directory(s, directory.Filters(), now=NOW, key=SECRET).total
            ),
        }
        rows = []
        for name, run in searches.items():
            times, cpu = [], []
            found = 0
            for n in range(20 + requests):
                started, used = time.perf_counter(), time.process_time()
                with database.session(write=False) as s:
                    found = run(s)
                if n >= 20:
                    times.append(time.perf_counter() - started)
                    cpu.append(time.process_time() - used)
            rows.append(
                (label, name, f"{percentile(times, 0.5):.1f}", f"{percentile(times, 0.99):.1f}",
                 f"{percentile(cpu, 0.5):.1f}", f"{found:,}")
            )  # fmt: skip
        return rows
    finally:
        database.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="A PostgreSQL server URL; a scratch database is made beside it.")
    parser.add_argument("--registrants", type=int, default=5000)
    parser.add_argument(
        "--requests", type=int, default=200, help="Searches of each kind, after 20 to warm up."
    )
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-register-"))
    rows: list[tuple[str, ...]] = []
    try:
        rows += measure(
            "SQLite",
            f"sqlite:///{work / 'register.db'}",
            registrants=options.registrants,
            requests=options.requests,
        )
        if options.postgres:
            url, drop = postgres_scratch(options.postgres, "register")
            try:
                rows += measure("PostgreSQL", url, registrants=options.registrants, requests=options.requests)
            finally:
                drop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    heads = ("server", "search", "p50 ms", "p99 ms", "cpu ms", "found")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(heads)]
    print(
        f"\nThe register and Find a Therapist over {options.registrants:,} registrants, {options.requests} searches each"
    )
    print(
        "  ".join(
            h.ljust(w) if i < 2 else h.rjust(w) for i, (h, w) in enumerate(zip(heads, widths, strict=True))
        )
    )
    for row in rows:
        print(
            "  ".join(
                c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
