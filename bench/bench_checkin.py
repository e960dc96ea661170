"""Check-in throughput and latency against the real server, next to a bare Starlette + SQLite insert.

Usage: ``python bench/bench_checkin.py [--postgres URL] [--duration S] [--people N] [--workers W]``

For each database, a fresh portal is migrated and seeded (an event with N confirmed bookings, default 2,000,
and a scanner device), `portal serve` is started as a subprocess, and Debian's `wrk` sends check-ins at
concurrency 1, 8 and 32 with `bench/checkin.lua`: each request carries a different badge (the codes are
generated into a file the script reads) and its own nonce. The scan log is emptied between runs, so every
run starts with everyone still to arrive. The reference is `bench/bare_insert_app.py` under uvicorn: one JSON
body, one SQLite insert, nothing else. The aims (the write-path issue's): p99 under 15 ms at concurrency 8, and at
least 35% of the bare endpoint's throughput.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx2 as httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import checkin_kit  # noqa: E402
from portal import migrate  # noqa: E402
from portal.accounts import service as accounts  # noqa: E402
from portal.accounts.passwords import Passwords  # noqa: E402
from portal.audit import chain_key  # noqa: E402
from portal.checkin import badges  # noqa: E402
from portal.checkin import devices as scanner_devices  # noqa: E402
from portal.db import Database  # noqa: E402
from portal.events.models import Registration  # noqa: E402

SECRET = "bench-secret-key-that-is-long-enough-0123456789"  # noqa: S105 - a scratch database
LUA = Path(__file__).resolve().parent / "checkin.lua"
LEVELS = (1, 8, 32)


@dataclass
class Run:
    target: str
    concurrency: int
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_ms: float
    admitted: str = ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server did not start:\n{log.read_text()}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not answer in 30 s:\n{log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children (the server's workers): steadier than wall time on a busy box."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for one in pids:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _ms(text: str) -> float:
    value = float(re.match(r"[\d.]+", text).group(0))  # type: ignore[union-attr]
    if text.endswith("us"):
        return value / 1000
    if text.endswith("ms"):
        return value
    if text.endswith("s"):
        return value * 1000
    return value


def run_wrk(
    url: str, *, concurrency: int, duration: int, codes: Path, token: str
) -> tuple[int, float, float, float, int]:
    threads = min(2, concurrency)
    result = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{concurrency}",
            f"-d{duration}s",
            "--latency",
            "--timeout",
            "5s",
            "-s",
            str(LUA),
            url,
            "--",
            str(codes),
            token,
            str(threads),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 60,
    )
    out = result.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    errors = 0
    if found := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out):
        errors += int(found.group(1))
    if found := re.search(r"Socket errors:.*?timeout (\d+)", out):
        errors += int(found.group(1))
    return total, rps, p50, p99, errors


def seed(url: str, people: int) -> tuple[list[str], str]:
    """A set-up portal, an event on now with `people` confirmed bookings, and a scanner device."""
    migrate.upgrade(url)
    database = Database(url, null_pool=True, audit_key=chain_key(SECRET.encode()))
    key = SECRET.encode()
    now = datetime.now(UTC)
    try:
        with database.session() as s:
            admin = accounts.setup_first_admin(
                s,
                society_name="IPT UK",
                name="Bench Admin",
                email="bench@example.org",
                password="bench password 123",  # noqa: S106 - a scratch database
                passwords=Passwords(fast=True),
                now=now,
            )
            made = checkin_kit.make_event(s, now=now, title="Benchmark Conference")
            checkin_kit.add_many(s, key=key, event=made.event, ticket=made.tickets[0], count=people, now=now)
            _, token = scanner_devices.create_device(
                s, actor=admin, event_id=made.event.id, name="Bench scanner", key=key, now=now
            )
            rows = s.execute(
                sa.select(Registration.id, Registration.badge_serial).where(
                    Registration.event_id == made.event.id
                )
            ).all()
            codes = [
                badges.issue(key, registration_id=r.id, event_id=made.event.id, serial=r.badge_serial)
                for r in rows
            ]
    finally:
        database.dispose()
    return codes, token


def clear_scans(url: str) -> tuple[int, int]:
    """Empty the scan log (between runs); returns (admitted, all scans) of the run just finished."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        admitted = conn.execute(
            sa.text("SELECT count(*) FROM checkin_scans WHERE result = 'ok'")
        ).scalar_one()
        total = conn.execute(sa.text("SELECT count(*) FROM checkin_scans")).scalar_one()
        conn.execute(sa.text("DELETE FROM checkin_scans"))
    engine.dispose()
    return admitted, total


def bench_portal(label: str, url: str, *, people: int, duration: int, workers: int, work: Path) -> list[Run]:
    codes, token = seed(url, people)
    codes_file = work / f"codes-{label}.txt"
    codes_file.write_text("\n".join(codes) + "\n")
    port = free_port()
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": url,
        "PORTAL_SECRET_KEY": SECRET,
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        "PORTAL_ENV": "development",
        "PORTAL_LOG_LEVEL": "WARNING",
    }
    log = work / f"server-{label}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "portal.cli", "serve", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    runs = []
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", process, log)
        for level in LEVELS:
            before = cpu_seconds(process.pid)
            total, rps, p50, p99, errors = run_wrk(
                f"http://127.0.0.1:{port}",
                concurrency=level,
                duration=duration,
                codes=codes_file,
                token=token,
            )
            cpu = (cpu_seconds(process.pid) - before) / max(total, 1) * 1000
            admitted, scans = clear_scans(url)
            runs.append(Run(label, level, total, rps, p50, p99, errors, cpu, f"{admitted}/{scans}"))
    finally:
        stop(process)
    return runs


def bench_bare(*, duration: int, work: Path, codes_file: Path) -> list[Run]:
    port = free_port()
    db = work / "bare.db"
    log = work / "bare.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(Path(__file__).resolve().parent),
                "bare_insert_app:app",
                "--port",
                str(port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env={**os.environ, "BARE_DB": str(db)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    runs = []
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", process, log)
        for level in LEVELS:
            before = cpu_seconds(process.pid)
            total, rps, p50, p99, errors = run_wrk(
                f"http://127.0.0.1:{port}",
                concurrency=level,
                duration=duration,
                codes=codes_file,
                token="none",  # noqa: S106 - the bare endpoint reads no token
            )
            cpu = (cpu_seconds(process.pid) - before) / max(total, 1) * 1000
            runs.append(Run("bare Starlette + 1 SQLite insert", level, total, rps, p50, p99, errors, cpu))
    finally:
        stop(process)
    return runs


def postgres_database(admin_url: str, name: str, *, create: bool) -> str:
    engine = sa.create_engine(
        admin_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if create:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def print_table(runs: list[Run]) -> None:
    bare = {r.concurrency: r.rps for r in runs if r.target.startswith("bare")}
    print(
        f"{'target':<34} {'conc':>4} {'requests':>9} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} "
        f"{'cpu ms/req':>10} {'vs bare':>7}  admitted/scans"
    )
    for r in runs:
        ratio = (
            f"{r.rps / bare[r.concurrency]:.0%}"
            if r.concurrency in bare and not r.target.startswith("bare")
            else ""
        )
        print(
            f"{r.target:<34} {r.concurrency:>4} {r.requests:>9,} {r.rps:>8,.0f} {r.p50_ms:>7.2f} {r.p99_ms:>7.2f} "
            f"{r.errors:>6} {r.cpu_ms:>10.2f} {ratio:>7}  {r.admitted}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="A PostgreSQL server URL; a scratch database is made beside it.")
    parser.add_argument("--duration", type=int, default=5, help="Seconds per run.")
    parser.add_argument("--people", type=int, default=2000, help="Confirmed bookings to seed.")
    parser.add_argument("--workers", type=int, default=1, help="Server processes for PostgreSQL (SQLite: 1).")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="bench-checkin-") as tmp:
        work = Path(tmp)
        runs += bench_portal(
            "portal, SQLite",
            f"sqlite:///{work / 'portal.db'}",
            people=args.people,
            duration=args.duration,
            workers=1,
            work=work,
        )
        runs += bench_bare(duration=args.duration, work=work, codes_file=work / "codes-portal, SQLite.txt")
        if args.postgres:
            name = f"portal_bench_checkin_{os.getpid()}"
            url = postgres_database(args.postgres, name, create=True)
            try:
                label = f"portal, PostgreSQL ({args.workers} worker{'s' if args.workers != 1 else ''})"
                runs += bench_portal(
                    label, url, people=args.people, duration=args.duration, workers=args.workers, work=work
                )
            finally:
                postgres_database(args.postgres, name, create=False)
    print_table(runs)
    portal8 = next(r for r in runs if r.target == "portal, SQLite" and r.concurrency == 8)
    bare8 = next(r for r in runs if r.target.startswith("bare") and r.concurrency == 8)
    print(
        f"\nAims at concurrency 8 (SQLite): p99 {portal8.p99_ms:.1f} ms (aim < 15 ms); "
        f"{portal8.rps / bare8.rps:.0%} of the bare endpoint's throughput (aim >= 35%)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
