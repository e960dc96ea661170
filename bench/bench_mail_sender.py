"""How fast the outbox drains: N e-mails sent over SMTP to a local aiosmtpd by one and by two senders (each
with its own engine, as two app processes would have), and written to the log with no SMTP server.

Usage: ``python bench/bench_mail_sender.py [--emails N] [--postgres URL]`` (PORTAL_TEST_POSTGRES_URL is used
when ``--postgres`` is not given). Each leg gets a fresh, migrated database: a temporary SQLite file, or a
temporary PostgreSQL database dropped afterwards. The figure that matters is that a burst (a conference's
confirmations, an election's ballot links) drains in seconds, and that a second sender adds throughput on
PostgreSQL rather than duplicates.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import sqlalchemy as sa  # noqa: E402 - after the path is set
from support import SECRET, smtp_server  # noqa: E402

from portal import migrate  # noqa: E402
from portal.db import Database, normalise_url  # noqa: E402
from portal.mail import service  # noqa: E402
from portal.mail.sender import Sender  # noqa: E402
from portal.settings import Secret, Settings  # noqa: E402

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def fresh_database(engine: str, postgres: str | None, tmp: Path, name: str) -> tuple[str, object]:
    if engine == "sqlite":
        url = f"sqlite:///{tmp / (name + '.db')}"
        migrate.upgrade(url)
        return url, None
    assert postgres
    admin = sa.create_engine(normalise_url(postgres), isolation_level="AUTOCOMMIT")
    db_name = f"portal_bench_mail_{os.getpid()}_{name}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{db_name}"'))
    url = postgres.rsplit("/", 1)[0] + "/" + db_name

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()

    migrate.upgrade(url)
    return url, drop


def fill(url: str, count: int) -> None:
    database = Database(url)
    with database.session() as session:
        for n in range(count):
            service.enqueue(
                session,
                to=f"member{n}@example.org",
                template="accounts/email_changed",
                context={
                    "society_name": "IPT UK",
                    "name": f"Member {n}",
                    "new_email": f"member{n}@example.org",
                },
                now=NOW,
            )
    database.dispose()


def drain(url: str, settings: Settings, senders: int) -> tuple[float, Counter[str]]:
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(senders + 1)

    def work(n: int) -> None:
        database = Database(url)
        sender = Sender(database, settings, clock=lambda: NOW, worker=f"bench-{n}")
        start.wait()
        while batch := sender.run_once():
            with lock:
                outcomes.update(batch)
        database.dispose()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(senders)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, outcomes


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--emails", type=int, default=1000)
    parser.add_argument("--postgres", default=os.environ.get("PORTAL_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    engines = ["sqlite", *(["postgresql"] if args.postgres else [])]
    print(
        f"{'engine':<11} {'mode':<5} {'senders':>7} {'e-mails':>8} {'seconds':>8} {'per second':>11} {'received':>9}"
    )
    with tempfile.TemporaryDirectory() as tmp, smtp_server() as smtp:
        for engine in engines:
            for mode, senders in (("log", 1), ("smtp", 1), ("smtp", 2)):
                url, drop = fresh_database(engine, args.postgres, Path(tmp), f"{engine}_{mode}_{senders}")
                try:
                    fill(url, args.emails)
                    settings = Settings(
                        database_url=url,
                        secret_key=Secret(SECRET),
                        env="test",
                        smtp_url=f"smtp://127.0.0.1:{smtp.port}" if mode == "smtp" else None,
                        run_mail_worker=False,
                    )
                    before = len(smtp.messages)
                    seconds, outcomes = drain(url, settings, senders)
                    if mode == "smtp":
                        smtp.wait_for(before + args.emails, timeout=60)
                    received = len(smtp.messages) - before
                    done = sum(outcomes.values())
                    assert done == args.emails, outcomes
                    print(
                        f"{engine:<11} {mode:<5} {senders:>7} {done:>8} {seconds:>8.2f} "
                        f"{done / seconds:>11.0f} {received:>9}"
                    )
                finally:
                    if drop:
                        drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
