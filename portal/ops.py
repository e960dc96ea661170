"""Operations: Prometheus metrics, the production readiness check, and backups.

This module sits at the top with `app.py` and `cli.py`: it may read every domain's tables.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from portal.accounts import service as accounts
from portal.checkin.models import CheckInScan
from portal.complaints import service as complaints
from portal.contact import service as contact
from portal.db import EXTRA_CONNECTIONS, Database, connections_for, normalise_url
from portal.elections.models import RollEntry
from portal.mail import service as mail
from portal.mail.models import OutboxEmail
from portal.register import directory as register_directory
from portal.settings import DEVELOPMENT_SECRET_KEY, Settings
from portal.web.hooks import GaugeSource

# --- metrics ------------------------------------------------------------------------------------------------

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

#: A gauge source reads the database at scrape time: (name, help, [(labels, value), ...]).
Gauge = tuple[str, str, list[tuple[dict[str, str], float]]]


@dataclass
class _Series:
    count: int = 0
    total: float = 0.0
    buckets: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))


class Metrics:
    """Request counts and latency by route, kept per worker process (each sample carries its pid)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, str], int] = {}
        self._latency: dict[tuple[str, str], _Series] = {}
        self.started = time.time()

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            key = (method, route, str(status))
            self._requests[key] = self._requests.get(key, 0) + 1
            series = self._latency.setdefault((method, route), _Series())
            series.count += 1
            series.total += seconds
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    series.buckets[i] += 1

    def render(self, gauges: list[Gauge]) -> str:
        pid = str(os.getpid())
        lines = [
            "# HELP portal_requests_total HTTP requests served, by route template and status.",
            "# TYPE portal_requests_total counter",
        ]
        with self._lock:
            for (method, route, status), count in sorted(self._requests.items()):
                labels = _labels({"method": method, "route": route, "status": status, "pid": pid})
                lines.append(f"portal_requests_total{labels} {count}")
            lines += [
                "# HELP portal_request_seconds Time to answer a request, by route template.",
                "# TYPE portal_request_seconds histogram",
            ]
            for (method, route), series in sorted(self._latency.items()):
                base = {"method": method, "route": route, "pid": pid}
                for bound, count in zip(BUCKETS, series.buckets, strict=True):
                    lines.append(
                        f"portal_request_seconds_bucket{_labels({**base, 'le': str(bound)})} {count}"
                    )
                lines.append(f"portal_request_seconds_bucket{_labels({**base, 'le': '+Inf'})} {series.count}")
                lines.append(f"portal_request_seconds_sum{_labels(base)} {series.total:.6f}")
                lines.append(f"portal_request_seconds_count{_labels(base)} {series.count}")
        for name, help_text, samples in gauges:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
            lines += [f"{name}{_labels(labels)} {value:g}" for labels, value in samples]
        return "\n".join(lines) + "\n"


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    escaped = (
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in labels.items()
    )
    return "{" + ",".join(escaped) + "}"


def outbox_gauges(session: Session, now: datetime) -> list[Gauge]:
    rows = session.execute(select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status)).all()
    return [
        (
            "portal_outbox_emails",
            "E-mails in the outbox, by status.",
            [({"status": s}, float(n)) for s, n in rows],
        )
    ]


def ballot_gauges(session: Session, now: datetime) -> list[Gauge]:
    """Ballots cast so far per election (roll entries marked voted): turnout, never content."""
    rows = session.execute(
        select(RollEntry.election_id, func.count())
        .where(RollEntry.has_voted.is_(True))
        .group_by(RollEntry.election_id)
    ).all()
    return [
        (
            "portal_ballots_cast",
            "Ballots cast, by election.",
            [({"election": str(e)}, float(n)) for e, n in rows],
        )
    ]


def checkin_gauges(session: Session, now: datetime) -> list[Gauge]:
    """Door activity in the last minute, by event and result (admissions are result "ok")."""
    since = now - timedelta(minutes=1)
    rows = session.execute(
        select(CheckInScan.event_id, CheckInScan.result, func.count())
        .where(CheckInScan.at >= since)
        .group_by(CheckInScan.event_id, CheckInScan.result)
    ).all()
    samples = [({"event": str(e), "result": r}, float(n)) for e, r, n in rows]
    return [
        ("portal_checkins_last_minute", "Scans at the door in the last minute, by event and result.", samples)
    ]


#: The gauges `/metrics` shows (`create_app` puts them in the app's hooks).
GAUGES = (outbox_gauges, ballot_gauges, checkin_gauges)


def collect_gauges(session: Session, now: datetime, sources: Iterable[GaugeSource]) -> list[Gauge]:
    gauges: list[Gauge] = []
    for source in sources:
        gauges.extend(source(session, now))
    return gauges


# --- production readiness -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    level: str  # "ok", "warn" or "fail"
    message: str


def check(settings: Settings, *, workers: int = 1, database: Database | None = None) -> list[Finding]:
    """What is unsafe or missing for production. `fail` findings must be fixed before going live."""
    findings: list[Finding] = []

    def add(ok: bool, level: str, good: str, bad: str) -> None:
        findings.append(Finding("ok", good) if ok else Finding(level, bad))

    add(
        settings.production,
        "fail",
        "PORTAL_ENV is production.",
        f"PORTAL_ENV is {settings.env!r}; set it to production.",
    )
    key = str(settings.secret_key)
    add(
        key != DEVELOPMENT_SECRET_KEY and len(key) >= 32,
        "fail",
        "PORTAL_SECRET_KEY is set and long enough.",
        "PORTAL_SECRET_KEY is missing, the development default, or shorter than 32 characters.",
    )
    base = urlsplit(settings.base_url)
    add(
        base.scheme == "https",
        "fail",
        f"PORTAL_BASE_URL is https ({settings.base_url}).",
        f"PORTAL_BASE_URL is {settings.base_url}: use the public https address (cookies, links, HSTS depend on it).",
    )
    add(
        base.hostname not in ("127.0.0.1", "localhost"),
        "warn",
        "PORTAL_BASE_URL names a public host.",
        "PORTAL_BASE_URL points at this machine: e-mailed links will not work for anyone else.",
    )
    add(
        bool(settings.smtp_url),
        "fail",
        "PORTAL_SMTP_URL is set: e-mails will be sent.",
        "PORTAL_SMTP_URL is not set: e-mails are only logged, nobody receives confirmations or ballot links.",
    )
    add(
        "localhost" not in settings.mail_from,
        "warn",
        f"PORTAL_MAIL_FROM is {settings.mail_from}.",
        f"PORTAL_MAIL_FROM is {settings.mail_from}: use an address of the society's domain (SPF/DKIM).",
    )
    if settings.is_sqlite:
        add(
            workers == 1,
            "fail",
            "SQLite with one worker.",
            f"SQLite with {workers} workers: SQLite takes one writer; use PostgreSQL for more workers.",
        )
        findings.append(Finding("warn", "SQLite: fine for one machine; PostgreSQL is the production engine."))
    else:
        findings.append(Finding("ok", "PostgreSQL database."))
    add(
        settings.staff_2fa_required,
        "warn",
        "Staff must use two-step verification (PORTAL_REQUIRE_STAFF_2FA).",
        "PORTAL_REQUIRE_STAFF_2FA is off: staff may log in with a password alone.",
    )
    add(
        settings.metrics_token is not None,
        "warn",
        "PORTAL_METRICS_TOKEN is set: /metrics is available to your monitoring.",
        "PORTAL_METRICS_TOKEN is not set: /metrics is off.",
    )
    if database is not None:
        try:
            database.ping()
        except Exception as exc:
            findings.append(Finding("fail", f"The database does not answer: {exc.__class__.__name__}."))
        else:
            findings.append(_migration_finding(database))
            if not settings.is_sqlite:
                findings.extend(_connections_finding(database, settings, workers))
    return findings


def _connections_finding(database: Database, settings: Settings, workers: int) -> list[Finding]:
    """Whether every worker's full pool fits in what PostgreSQL accepts (`max_connections` less the slots kept
    for superusers); nothing when the server does not say."""
    try:
        with database.engine.connect() as conn:
            most = int(conn.execute(text("SHOW max_connections")).scalar_one())
            reserved = int(conn.execute(text("SHOW superuser_reserved_connections")).scalar_one())
    except Exception:
        return []
    per_worker = connections_for(settings.threads)
    wanted, room = workers * per_worker, most - reserved
    sum_up = (
        f"{workers} worker(s) of {per_worker} connections (PORTAL_THREADS={settings.threads} + "
        f"{EXTRA_CONNECTIONS}) = {wanted}"
    )
    if wanted <= room:
        return [
            Finding("ok", f"{sum_up}, within PostgreSQL's {room} (max_connections {most} less {reserved}).")
        ]
    return [
        Finding(
            "warn",
            f"{sum_up}, more than PostgreSQL accepts ({room}: max_connections {most} less {reserved} reserved): "
            "at the busiest, requests would be refused. Lower PORTAL_THREADS or the workers, raise "
            "max_connections, or put PgBouncer in front (docs/operations.md).",
        )
    ]


def _migration_finding(database: Database) -> Finding:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from portal import migrate

    script = ScriptDirectory.from_config(migrate.alembic_config())
    with database.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    # Every head must be applied: the current revisions and everything beneath them (dependencies included).
    applied = {rev.revision for rev in script.iterate_revisions(current, "base")} if current else set()
    if set(script.get_heads()) <= applied:
        return Finding("ok", "The database schema is up to date.")
    return Finding("fail", "The database schema is not up to date: run `portal db upgrade`.")


# --- backups ------------------------------------------------------------------------------------------------


class BackupError(Exception):
    pass


def _sqlite_path(url: str) -> Path:
    path = url.split("///", 1)[-1]
    if not path or path == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return Path(path)


def _pg_args(url: str) -> tuple[list[str], dict[str, str]]:
    """pg_dump/pg_restore take the libpq URL; the password goes through the environment, not argv."""
    parts = urlsplit(normalise_url(url).replace("postgresql+psycopg://", "postgresql://", 1))
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = parts.password
    netloc = parts.hostname or ""
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    if parts.port:
        netloc += f":{parts.port}"
    return ["--dbname", f"postgresql://{netloc}{parts.path}"], env


def backup(url: str, target: Path) -> None:
    """SQLite: the online backup API (consistent while the portal runs). PostgreSQL: pg_dump's custom format."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        source = sqlite3.connect(_sqlite_path(url))
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)
        finally:
            dest.close()
            source.close()
        return
    if shutil.which("pg_dump") is None:
        raise BackupError("pg_dump is not installed (apt-get install postgresql-client).")
    args, env = _pg_args(url)
    result = subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", "--file", str(target), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")


def restore(url: str, source: Path) -> None:
    """Replace the database's contents with a backup. Stop the portal first."""
    if not source.exists():
        raise BackupError(f"No backup file at {source}.")
    if url.startswith("sqlite"):
        with sqlite3.connect(source) as check_conn:
            if check_conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(f"{source} is not a sound SQLite database.")
        target = _sqlite_path(url)
        dest = sqlite3.connect(target)
        src = sqlite3.connect(source)
        try:
            src.backup(dest)
        finally:
            src.close()
            dest.close()
        return
    args, env = _pg_args(url)
    engine = Database(url, null_pool=True)
    try:
        with engine.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
    result = subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", *args, str(source)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")


# --- retention ------------------------------------------------------------------------------------------------


def purge(database: Database, settings: Settings, *, now: datetime) -> dict[str, int]:
    """Delete what is kept past its use (the README's Privacy section), in one transaction; returns the rows
    removed per table. Run every hour by the app and by `portal purge`."""
    expired = timedelta(days=settings.keep_expired_days)
    with database.session(write=True) as session:
        removed = accounts.purge_expired(
            session,
            now=now,
            keep_attempts=timedelta(days=settings.keep_login_attempts_days),
            keep_expired=expired,
        )
        removed.update(
            mail.purge(
                session,
                now=now,
                keep_requests=expired,
                keep_sent=timedelta(days=settings.keep_sent_emails_days),
            )
        )
        removed.update(
            contact.purge(session, now=now, keep_closed=timedelta(days=settings.keep_closed_enquiries_days))
        )
        removed.update(register_directory.purge(session, now=now))
        removed.update(
            complaints.purge(
                session, now=now, keep_closed=timedelta(days=settings.keep_closed_complaints_days)
            )
        )
    return removed
