"""Rush hours against the real server: registration opening, the 9:00 door, the last hour of voting.

Usage: ``python bench/bench_rush.py [--postgres URL] [--workers 2,4] [--door-seconds 20] [--fault]``

Each configuration — SQLite with one worker, and with ``--postgres`` PostgreSQL with 2 and 4 workers — gets a
fresh database (a temporary file; a scratch database beside the one in the URL, dropped afterwards), seeded
through the service functions, and a real ``portal serve --workers N`` subprocess. Clients are threads, each
person with their own cookies and connections, sending real HTTP:

- **registration opens**: 500 people book 200 places (open the booking form, check the details, confirm),
  50 browsers at a time; the aim is all 500 answered within 30 s.
- **the 9:00 door**: 8 scanner devices scan badges for ``--door-seconds`` (default 20 s; the issue's figure is
  60 s), each sending its next scan as soon as the last is answered — far faster than people walk through
  a door, so the throughput is the portal's ceiling.
- **the last hour of voting**: 1,000 members vote with their personal ballot links (open the ballot,
  review, cast), 50 at a time.

Every run prints throughput, p50/p99 latency of the write (confirm, scan, cast) and of all requests,
errors (which must be 0), and then reads the guarantees back from the database: confirmed ≤ capacity and
= min(capacity, attempts); ballots = roll entries marked voted (after emptying the pool); admissions =
distinct badges admitted, one per registration.

``--fault`` repeats the rushes on PostgreSQL (``--fault-workers``, default 2) while one worker is killed with
SIGKILL a third of the way through and PostgreSQL is restarted (``pg_ctlcluster --skip-systemctl-redirect
VERSION NAME restart``, the cluster that listens on the URL's port) two thirds of the way through. The
clients retry what failed with the same idempotency key (the booking form's key, the scan's nonce, the same
ballot link), as a person pressing the button again would; the table reports the retries, the requests that
still failed, and the bookings, votes and admissions lost (told to the client, missing from the database).
Restarting PostgreSQL cuts every connection to it: on a shared machine point ``--postgres`` at a cluster of
your own.
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rush import checks, clients, servers, world  # noqa: E402

from portal import migrate  # noqa: E402
from portal.audit import chain_key  # noqa: E402
from portal.db import Database  # noqa: E402

SECRET = "bench-rush-secret-key-that-is-long-enough-0123456789"  # noqa: S105 - scratch databases only
KEY = SECRET.encode()


# --- progress and faults ------------------------------------------------------------------------------------


class Progress:
    """How far a rush is: actions done out of a total, or seconds out of a duration."""

    def __init__(self, *, total: int | None = None, seconds: float | None = None) -> None:
        self.total = total
        self.seconds = seconds
        self.done = 0
        self.started = time.monotonic()
        self.finished = False
        self.lock = threading.Lock()

    def tick(self) -> None:
        with self.lock:
            self.done += 1

    def fraction(self) -> float:
        if self.seconds is not None:
            return (time.monotonic() - self.started) / self.seconds
        return self.done / max(self.total or 1, 1)

    def elapsed(self) -> float:
        return time.monotonic() - self.started


@dataclass
class Faults:
    """Kills a worker at a third of the rush, restarts PostgreSQL at two thirds; notes what happened."""

    server: servers.Server
    cluster: tuple[str, str]
    database_url: str
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def port(self) -> int:
        return urlsplit(self.database_url).port or 5432

    def run(self, progress: Progress) -> threading.Thread:
        thread = threading.Thread(target=self._run, args=(progress,), daemon=True)
        thread.start()
        return thread

    def _wait_for(self, progress: Progress, fraction: float) -> bool:
        while progress.fraction() < fraction:
            if progress.finished:
                return False
            time.sleep(0.02)
        return True

    def _run(self, progress: Progress) -> None:
        try:
            if not self._wait_for(progress, 1 / 3):
                self.failures.append("the rush ended before the worker was killed")
                return
            at = progress.elapsed()
            old = set(servers.worker_pids(self.server))
            pid = servers.kill_worker(self.server)
            spawned = servers.wait_for_workers(self.server, timeout=60, gone=pid)
            serving = servers.wait_until_connected(self.server, port=self.port, timeout=60, old=old)
            self.notes.append(
                f"worker {pid} killed (SIGKILL) at {at:.1f} s; uvicorn started another in {spawned:.1f} s, "
                f"serving (connected to PostgreSQL) after {serving + spawned:.1f} s"
            )
            if not self._wait_for(progress, 2 / 3):
                self.failures.append("the rush ended before PostgreSQL was restarted")
                return
            at = progress.elapsed()
            down = servers.restart_postgres(self.cluster, self.database_url)
            self.notes.append(
                f"PostgreSQL restarted at {at:.1f} s; accepting connections again after {down:.1f} s"
            )
        except Exception as exc:  # reported with the results: a fault that did not happen is a failed run
            self.failures.append(f"fault injection failed: {exc}")


class Measured:
    """One rush's surroundings: its faults (on a fault run) and the CPU the server and the clients use."""

    def __init__(
        self,
        server: servers.Server,
        progress: Progress,
        *,
        fault_cluster: tuple[str, str] | None,
        database_url: str,
    ) -> None:
        self.progress = progress
        self.load = os.getloadavg()[0]
        self.faults = Faults(server, fault_cluster, database_url) if fault_cluster else None
        self.thread = self.faults.run(progress) if self.faults else None
        self.meter = servers.CpuMeter(server)
        self.db_meter = servers.PostgresMeter(database_url) if database_url.startswith("postgresql") else None
        self.client_cpu = time.process_time()
        #: Set by `finish`: PostgreSQL's CPU seconds for the database (None on SQLite: it is in the server's),
        #: and the cores the server, the database and the clients kept busy on average.
        self.db_cpu: float | None = None
        self.cores = 0.0

    def finish(self) -> tuple[float, float, list[str]]:
        """Seconds the rush took, server CPU seconds, and notes."""
        elapsed = self.progress.elapsed()
        self.progress.finished = True
        client = time.process_time() - self.client_cpu
        if self.thread is not None:
            self.thread.join(timeout=120)
        cpu = self.meter.stop()
        self.db_cpu = self.db_meter.stop() if self.db_meter else None
        self.cores = (cpu + (self.db_cpu or 0.0) + client) / elapsed
        notes = []
        if self.faults is not None:
            notes += self.faults.notes + self.faults.failures
            if self.faults.failures:
                notes.append("FAULTS NOT INJECTED AS PLANNED")
        notes.append(
            f"CPU: the server {cpu / elapsed:.0%} of one core, "
            + (f"PostgreSQL {self.db_cpu / elapsed:.0%}, " if self.db_cpu is not None else "")
            + f"the clients {client / elapsed:.0%}: {self.cores:.2f} of the machine's {os.cpu_count()} cores "
            f"(load average {self.load:.1f} when it started)"
        )
        return elapsed, cpu, notes


class Bystander:
    """Somebody else using the site while a rush runs: `/healthz` and a public page, each asked again 20 ms
    after its last answer, on connections of their own. What they wait is what the rush costs everyone else."""

    PROBES = (("healthz", "/healthz"), ("page", None))

    def __init__(self, urls: list[str], page: str) -> None:
        self.stats = clients.Stats()
        self.stopping = threading.Event()
        self.threads = [
            threading.Thread(target=self._probe, args=(urls, kind, path or page), daemon=True)
            for kind, path in self.PROBES
        ]
        for thread in self.threads:
            thread.start()

    def _probe(self, urls: list[str], kind: str, path: str) -> None:
        with clients.Person(urls, self.stats) as person:
            while not self.stopping.is_set():
                person.send(kind, "GET", path, expect={200})
                self.stopping.wait(0.02)

    def stop(self) -> clients.Stats:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=35)
        return self.stats


# --- one rush ------------------------------------------------------------------------------------------------


@dataclass
class Result:
    server: str
    workers: int
    actions: int
    elapsed: float
    stats: clients.Stats
    check: checks.Check
    write: str
    cpu: float
    notes: list[str] = field(default_factory=list)
    #: What `/healthz` and a public page answered in while the rush ran (bookings only).
    bystander: clients.Stats | None = None
    #: PostgreSQL's CPU seconds for the rush's database (None on SQLite, where it is the server's own).
    db_cpu: float | None = None
    #: The cores the server, the database and the clients kept busy on average (the machine's share used).
    cores: float = 0.0

    def bystander_ms(self, kind: str) -> str:
        if self.bystander is None:
            return "-"
        return f"{self.bystander.percentile(kind, 0.99) * 1000:.1f}"

    @property
    def errors(self) -> int:
        return sum(self.stats.errors.values())

    @property
    def retries(self) -> int:
        return sum(self.stats.retries.values())

    def ms(self, kind: str, q: float) -> float:
        return self.stats.percentile(kind, q) * 1000

    def all_p99(self) -> float:
        values = sorted(v for k, vs in self.stats.latency.items() if not k.startswith("action:") for v in vs)
        return values[max(0, math.ceil(0.99 * len(values)) - 1)] * 1000 if values else float("nan")


def pool(count: int, threads: int, work: Callable[[int], None]) -> None:
    """`threads` threads take the numbers 0..count-1 in turn; all start together."""
    numbers = iter(range(count))
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def run() -> None:
        barrier.wait()
        while True:
            with lock:
                n = next(numbers, None)
            if n is None:
                return
            work(n)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


def rush_bookings(
    urls: list[str], event: world.BookingEvent, *, people: int, threads: int, retry: bool, progress: Progress
) -> tuple[clients.Stats, list[str]]:
    stats = clients.Stats()
    told: list[str] = []

    def person(n: int) -> None:
        with clients.Delegate(urls, stats, start=n, retry=retry) as delegate:
            form = delegate.open_form(event.slug, ticket_id=event.ticket_id, n=n)
            if form and delegate.review(event.slug, form) and delegate.confirm(event.slug, form):
                told.append(form["email"])
        progress.tick()

    pool(people, threads, person)
    return stats, told


def rush_door(
    urls: list[str], door: world.Door, *, scanners: int, seconds: float, retry: bool
) -> tuple[clients.Stats, set[int], int]:
    stats = clients.Stats()
    admitted: set[int] = set()
    answered = [0]
    lock = threading.Lock()
    counter = iter(range(10**9))
    deadline = time.monotonic() + seconds
    barrier = threading.Barrier(scanners)

    def scanner(k: int) -> None:
        device = clients.Scanner(
            urls, stats, start=k, token=door.token, door=f"Entrance {k + 1}", retry=retry
        )
        barrier.wait()
        with device:
            while time.monotonic() < deadline:
                with lock:
                    i = next(counter) % len(door.codes)
                status = device.scan(door.codes[i], nonce=f"r{k}-{i}-{secrets.token_hex(4)}")
                if status is None:
                    continue
                with lock:
                    answered[0] += 1
                    if status == "ok":
                        admitted.add(door.registration_ids[i])

    threads = [threading.Thread(target=scanner, args=(k,)) for k in range(scanners)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return stats, admitted, answered[0]


def rush_votes(
    urls: list[str], election: world.Election, *, threads: int, retry: bool, progress: Progress
) -> tuple[clients.Stats, list[int], Counter[str]]:
    stats = clients.Stats()
    told: list[int] = []
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def member(n: int) -> None:
        token = election.tokens[n]
        choice = {election.field: str(election.choices[n % len(election.choices)])}
        with clients.Voter(urls, stats, start=n, retry=retry) as voter:
            csrf = voter.open_ballot(token)
            outcome = None
            if csrf and voter.review(token, csrf, choice):
                outcome = voter.cast(token, csrf, choice)
                if outcome == "already_voted" and voter.attempts > 1:
                    outcome = "cast (answer lost, the retry was told: already voted)"
        with lock:
            outcomes[outcome or "error"] += 1
            if outcome is not None:
                told.append(election.member_ids[n])
        progress.tick()

    pool(len(election.tokens), threads, member)
    return stats, told, outcomes


# --- a configuration -----------------------------------------------------------------------------------------


@dataclass
class Options:
    people: int
    places: int
    voters: int
    door_people: int
    door_seconds: float
    scanners: int
    threads: int
    scenarios: set[str]


def run_config(
    label: str,
    database_url: str,
    *,
    workers: int,
    options: Options,
    work: Path,
    fault_cluster: tuple[str, str] | None = None,
) -> dict[str, Result]:
    migrate.upgrade(database_url)
    database = Database(database_url, null_pool=True, audit_key=chain_key(KEY))
    now = datetime.now(UTC)
    base = "http://127.0.0.1"
    try:
        with database.session() as s:
            world.set_up(s, now=now)
        with database.session() as s:
            event = world.booking_event(s, capacity=options.places, now=now, key=KEY, base_url=base)
        with database.session() as s:
            door = world.door(s, people=options.door_people, now=now, key=KEY)
        with database.session() as s:
            election = world.election(
                s, voters=options.voters, now=now, key=KEY, base_url=base, send_links=False
            )
        server = servers.serve(database_url, workers=workers, secret=SECRET, work=work, label=label)
        results: dict[str, Result] = {}
        try:
            urls = [server.url]
            retry = fault_cluster is not None

            def measured(progress: Progress) -> Measured:
                return Measured(server, progress, fault_cluster=fault_cluster, database_url=database_url)

            if "bookings" in options.scenarios:
                run = measured(Progress(total=options.people))
                bystander = Bystander(urls, f"/events/{event.slug}")
                stats, told = rush_bookings(
                    urls,
                    event,
                    people=options.people,
                    threads=options.threads,
                    retry=retry,
                    progress=run.progress,
                )
                elapsed, cpu, notes = run.finish()
                seen = bystander.stop()
                check = checks.bookings(database, event, attempts=options.people, told_booked=told)
                results["bookings"] = Result(
                    label,
                    workers,
                    options.people,
                    elapsed,
                    stats,
                    check,
                    "booking confirm",
                    cpu,
                    notes,
                    seen,
                    db_cpu=run.db_cpu,
                    cores=run.cores,
                )
            if "door" in options.scenarios:
                run = measured(Progress(seconds=options.door_seconds))
                stats, admitted, answered = rush_door(
                    urls,
                    door,
                    scanners=options.scanners,
                    seconds=options.door_seconds,
                    retry=retry,
                )
                elapsed, cpu, notes = run.finish()
                check = checks.admissions(database, door, told_admitted=admitted, answered_nonces=answered)
                results["door"] = Result(
                    label,
                    workers,
                    answered,
                    elapsed,
                    stats,
                    check,
                    "scan",
                    cpu,
                    notes,
                    db_cpu=run.db_cpu,
                    cores=run.cores,
                )
            if "votes" in options.scenarios:
                run = measured(Progress(total=options.voters))
                stats, told, outcomes = rush_votes(
                    urls, election, threads=options.threads, retry=retry, progress=run.progress
                )
                elapsed, cpu, notes = run.finish()
                assert election.voting_close_at is not None
                check = checks.ballots(
                    database, election, key=KEY, told_voted=told, close_at=election.voting_close_at
                )
                notes += [f"{n} {what}" for what, n in sorted(outcomes.items()) if what != "cast"]
                results["votes"] = Result(
                    label,
                    workers,
                    options.voters,
                    elapsed,
                    stats,
                    check,
                    "ballot cast",
                    cpu,
                    notes,
                    db_cpu=run.db_cpu,
                    cores=run.cores,
                )
        finally:
            servers.stop(server)
    finally:
        database.dispose()
    return results


# --- tables --------------------------------------------------------------------------------------------------

COLUMNS = [
    ("server", 22, "<"),
    ("workers", 7, ">"),
    ("{noun}", 8, ">"),
    ("time s", 7, ">"),
    ("{noun}/s", 10, ">"),
    ("req/s", 7, ">"),
    ("{write} p50 ms", 0, ">"),
    ("{write} p99 ms", 0, ">"),
    ("all p99 ms", 10, ">"),
    ("errors", 6, ">"),
    ("retries", 7, ">"),
]


def print_table(title: str, noun: str, results: list[Result], figures: list[str]) -> None:
    if not results:
        return
    write = {"booking confirm": "confirm", "scan": "scan", "ballot cast": "cast"}[results[0].write]
    probes = ["healthz p99", "page p99"] if any(r.bystander for r in results) else []
    heads = [h.format(noun=noun, write=write) for h, _, _ in COLUMNS] + [
        *probes,
        *figures,
        "cpu ms",
        "db cpu ms",
        "cores busy",
        "guarantees",
    ]
    widths = (
        [max(w, len(h)) for (_, w, _), h in zip(COLUMNS, heads, strict=False)]
        + [len(p) for p in probes]
        + [max(8, len(f)) for f in figures]
        + [6, 9, 10, 10]
    )
    print(f"\n{title}")
    print(
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(heads, widths, strict=True))
        )
    )
    for r in results:
        cells = [
            r.server,
            str(r.workers),
            f"{r.actions:,}",
            f"{r.elapsed:.1f}",
            f"{r.actions / r.elapsed:,.1f}",
            f"{r.stats.requests / r.elapsed:,.0f}",
            f"{r.ms('action:' + r.write, 0.50):.1f}",
            f"{r.ms('action:' + r.write, 0.99):.1f}",
            f"{r.all_p99():.1f}",
            str(r.errors),
            str(r.retries),
            *[r.bystander_ms(kind) for kind, _ in Bystander.PROBES][: len(probes)],
            *[f"{r.check.figures.get(f, 0):,}" for f in figures],
            f"{r.cpu / max(r.actions, 1) * 1000:.1f}",
            "-" if r.db_cpu is None else f"{r.db_cpu / max(r.actions, 1) * 1000:.1f}",
            f"{r.cores:.2f}",
            "hold" if r.check.ok else "BROKEN",
        ]
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )
        )
    for r in results:
        for problem in r.check.problems:
            print(f"  {r.server} ({r.workers}): BROKEN: {problem}")
        for note in r.notes:
            print(f"  {r.server} ({r.workers}): {note}")
        if r.errors or r.retries:
            for cause, n in r.stats.causes.most_common(6):
                print(f"  {r.server} ({r.workers}): {n} x {cause}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="A PostgreSQL server URL; scratch databases are made beside it.")
    parser.add_argument("--workers", default="2,4", help="Worker counts to run on PostgreSQL (SQLite: 1).")
    parser.add_argument("--people", type=int, default=500, help="People booking when registration opens.")
    parser.add_argument("--places", type=int, default=200, help="Places at the event.")
    parser.add_argument("--voters", type=int, default=1000, help="Members voting in the last hour.")
    parser.add_argument(
        "--door-seconds", type=float, default=20, help="How long the scanners scan (issue: 60)."
    )
    parser.add_argument(
        "--door-people",
        type=int,
        help="Confirmed bookings at the conference (default: 750 per second of scanning, so nobody comes "
        "round twice).",
    )
    parser.add_argument("--scanners", type=int, default=8, help="Scanner devices at the door.")
    parser.add_argument("--clients", type=int, default=50, help="Browsers at a time (bookings and votes).")
    parser.add_argument("--scenarios", default="bookings,door,votes", help="Which rushes to run.")
    parser.add_argument("--no-sqlite", action="store_true", help="Skip the SQLite configuration.")
    parser.add_argument("--fault", action="store_true", help="Also run the rushes on PostgreSQL with faults.")
    parser.add_argument("--fault-workers", type=int, default=2, help="Workers for the fault run.")
    args = parser.parse_args()
    options = Options(
        people=args.people,
        places=args.places,
        voters=args.voters,
        door_people=args.door_people or int(750 * args.door_seconds),
        door_seconds=args.door_seconds,
        scanners=args.scanners,
        threads=args.clients,
        scenarios=set(args.scenarios.split(",")),
    )
    if args.fault and not args.postgres:
        print("--fault needs --postgres URL", file=sys.stderr)
        return 2
    if args.fault and not shutil.which("pg_ctlcluster"):
        print("--fault restarts PostgreSQL with pg_ctlcluster (Debian's postgresql-common)", file=sys.stderr)
        return 2
    runs: list[dict[str, Result]] = []
    with tempfile.TemporaryDirectory(prefix="bench-rush-") as tmp:
        work = Path(tmp)
        if not args.no_sqlite:
            runs.append(
                run_config("SQLite", f"sqlite:///{work / 'rush.db'}", workers=1, options=options, work=work)
            )
        if args.postgres:
            for workers in [int(w) for w in args.workers.split(",") if w.strip()]:
                name = f"portal_bench_rush_{workers}_{secrets.token_hex(3)}"
                with servers.scratch_postgres(args.postgres, name) as url:
                    runs.append(run_config("PostgreSQL", url, workers=workers, options=options, work=work))
            if args.fault:
                cluster = servers.cluster_of(args.postgres)
                name = f"portal_bench_rush_fault_{secrets.token_hex(3)}"
                with servers.scratch_postgres(args.postgres, name) as url:
                    runs.append(
                        run_config(
                            "PostgreSQL + faults",
                            url,
                            workers=args.fault_workers,
                            options=options,
                            work=work,
                            fault_cluster=cluster,
                        )
                    )
    print_table(
        f"Registration opens: {options.people} people book {options.places} places "
        f"(open the form, check, confirm), {options.threads} browsers at a time; aim: all answered within 30 s",
        "bookings",
        [r["bookings"] for r in runs if "bookings" in r],
        ["confirmed", "waitlisted", "lost"],
    )
    print_table(
        f"The 9:00 door: {options.scanners} scanners for {options.door_seconds:g} s, each scanning as soon as "
        f"the last answer came ({options.door_people:,} people booked)",
        "scans",
        [r["door"] for r in runs if "door" in r],
        ["admitted", "lost"],
    )
    print_table(
        f"The last hour of voting: {options.voters:,} members vote by their ballot links (open, review, cast), "
        f"{options.threads} at a time",
        "ballots",
        [r["votes"] for r in runs if "votes" in r],
        ["voted", "ballots", "lost"],
    )
    broken = [
        r
        for run in runs
        for r in run.values()
        if not r.check.ok or r.errors or any("NOT" in n for n in r.notes)
    ]
    if broken:
        print(f"\n{len(broken)} run(s) had errors or broke a guarantee.")
        return 1
    print("\nEvery run: 0 errors, every guarantee held.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
