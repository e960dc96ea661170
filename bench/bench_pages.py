"""Public pages as a visitor gets them: the home page, an inner page of the site, an event's page, the calendar,
a published result and a search. The aim: p50 under 5 ms on SQLite.

Usage: ``python bench/bench_pages.py [--postgres URL] [--requests 300]``

The demo society (`portal demo`: 300 members, the conference, last year's published results) is loaded into a
fresh database — a temporary SQLite file, and with ``--postgres`` a scratch database beside the one in the URL —
and a real ``portal serve`` (one worker) answers. Each page is asked for 20 times to warm up, then
``--requests`` times one after another by one visitor: the table gives the p50 and p99 of each page's answer
time and the server's CPU per page. No request may fail.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx2 as httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from rush import servers  # noqa: E402
from scratch import postgres_scratch  # noqa: E402
from sqlalchemy import select  # noqa: E402

from portal import demo, migrate  # noqa: E402
from portal.accounts.passwords import Passwords  # noqa: E402
from portal.audit import chain_key  # noqa: E402
from portal.db import Database  # noqa: E402
from portal.elections.models import Election  # noqa: E402
from portal.events.models import Event  # noqa: E402

SECRET = "bench-pages-secret-key-that-is-long-enough-0123456789"  # noqa: S105 - scratch databases only


def pages_of(database_url: str) -> dict[str, str]:
    """Load the demo and name the pages to ask for."""
    migrate.upgrade(database_url)
    key = SECRET.encode()
    database = Database(database_url, null_pool=True, audit_key=chain_key(key))
    try:
        with database.session(write=True) as s:
            demo.load_demo(
                s, now=datetime.now(UTC), key=key, base_url="http://127.0.0.1", passwords=Passwords(fast=True)
            )
        with database.session() as s:
            slug = s.scalar(select(Event.slug).where(Event.kind == "conference").limit(1))
            published = s.scalar(select(Election.id).where(Election.published_at.is_not(None)).limit(1))
    finally:
        database.dispose()
    assert slug and published, "the demo has a conference and a published election"
    return {
        "home": "/",
        "inner page": "/about-ipt/mission-vision",
        "event page": f"/events/{slug}",
        "calendar": "/events",
        "results": f"/elections/{published}/results",
        "search": "/search?q=interpersonal+psychotherapy",
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000


def measure(label: str, database_url: str, *, requests: int, work: Path) -> list[tuple[str, ...]]:
    pages = pages_of(database_url)
    server = servers.serve(database_url, workers=1, secret=SECRET, work=work, label=label)
    rows = []
    try:
        with httpx.Client(base_url=server.url, trust_env=False, timeout=30) as client:
            for name, path in pages.items():
                for _ in range(20):
                    client.get(path).raise_for_status()
                meter = servers.CpuMeter(server)
                times = []
                for _ in range(requests):
                    started = time.perf_counter()
                    response = client.get(path)
                    times.append(time.perf_counter() - started)
                    if response.status_code != 200:
                        raise RuntimeError(f"{path} answered {response.status_code}")
                cpu = meter.stop()
                rows.append(
                    (
                        label,
                        name,
                        f"{percentile(times, 0.50):.1f}",
                        f"{percentile(times, 0.99):.1f}",
                        f"{cpu / requests * 1000:.1f}",
                        f"{len(response.content) // 1024}",
                    )
                )
    finally:
        servers.stop(server)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="A PostgreSQL server URL; a scratch database is made beside it.")
    parser.add_argument("--requests", type=int, default=300, help="Requests per page, after 20 to warm up.")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    rows: list[tuple[str, ...]] = []
    try:
        rows += measure("SQLite", f"sqlite:///{work / 'pages.db'}", requests=options.requests, work=work)
        if options.postgres:
            url, drop = postgres_scratch(options.postgres, "pages")
            try:
                rows += measure("PostgreSQL", url, requests=options.requests, work=work)
            finally:
                drop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    heads = ("server", "page", "p50 ms", "p99 ms", "cpu ms", "KiB")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(heads)]
    print(f"\nPublic pages, one visitor, {options.requests} requests each after 20 to warm up")
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
