"""The portal as it runs for real (`portal serve --workers N`, a subprocess), scratch databases, and the
faults: a worker process killed with SIGKILL, PostgreSQL restarted.

uvicorn's supervisor (0.30 and later) checks its workers every half second and starts a new one in place of
a worker that died, so a killed worker is replaced without anyone's help; `wait_for_workers` measures how
long that takes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx2 as httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    workers: int
    log: Path

    def healthy(self) -> bool:
        try:
            return httpx.get(self.url + "/healthz", timeout=2, trust_env=False).status_code == 200
        except httpx.HTTPError:
            return False


def serve(database_url: str, *, workers: int, secret: str, work: Path, label: str) -> Server:
    """`portal serve --workers N` on a free port; returns once it answers `/healthz`."""
    port = free_port()
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_SECRET_KEY": secret,
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        "PORTAL_ENV": "development",
        "PORTAL_LOG_LEVEL": "WARNING",
    }
    log = work / f"server-{label}-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "portal.cli", "serve", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    server = Server(process=process, url=f"http://127.0.0.1:{port}", workers=workers, log=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the portal did not start:\n{log.read_text()}")
        if server.healthy():
            break
        time.sleep(0.2)
    else:
        stop(server)
        raise RuntimeError(f"the portal did not answer in 60 s:\n{log.read_text()}")
    if workers > 1:
        wait_for_workers(server, timeout=60)
    return server


def stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except FileNotFoundError:
        return []


def worker_pids(server: Server) -> list[int]:
    """The uvicorn worker processes of a multi-worker server (none for one worker: the server is the worker)."""
    pids = []
    for pid in _children(server.process.pid):
        try:
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                pids.append(pid)
        except FileNotFoundError:
            continue
    return pids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def wait_for_workers(server: Server, *, timeout: float, gone: int | None = None) -> float:
    """Seconds until the supervisor has all its worker processes running again (`gone`, a killed one, not
    among them) and the port answers."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        pids = [p for p in worker_pids(server) if _alive(p)]
        if len(pids) >= server.workers and gone not in pids and server.healthy():
            return time.monotonic() - started
        time.sleep(0.05)
    raise RuntimeError(f"the server did not get its {server.workers} workers back within {timeout} s")


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    fds = Path(f"/proc/{pid}/fd")
    for fd in fds.iterdir() if fds.exists() else []:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def database_connections(pid: int, port: int) -> int:
    """Established TCP connections from process `pid` to `port` (its PostgreSQL connections)."""
    inodes = _socket_inodes(pid)
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if fields[3] == "01" and remote_port == port and fields[9] in inodes:
                count += 1
    return count


def wait_until_connected(server: Server, *, port: int, timeout: float, old: set[int]) -> float:
    """Seconds until a worker that is not in `old` holds a connection to PostgreSQL: its lifespan has run (the
    outbox sender's first claim connects), so it is serving."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        for pid in set(worker_pids(server)) - old:
            try:
                if database_connections(pid, port):
                    return time.monotonic() - started
            except (FileNotFoundError, PermissionError):
                continue
        time.sleep(0.05)
    raise RuntimeError(f"no new worker connected to the database within {timeout} s")


def kill_worker(server: Server) -> int:
    """SIGKILL one worker process (no clean-up: its connections drop, its transactions roll back)."""
    pid = worker_pids(server)[0]
    os.kill(pid, signal.SIGKILL)
    return pid


class CpuMeter:
    """CPU time the server's processes spend during a run, sampled every 0.2 s, so a worker killed midway
    still counts what it used (up to its last sample)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self._stop = threading.Event()
        self._sample()
        self.first = dict(self.last)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        ticks = os.sysconf("SC_CLK_TCK")
        for pid in [self.server.process.pid, *_children(self.server.process.pid)]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            self.last[pid] = (int(fields[11]) + int(fields[12])) / ticks

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._sample()

    def stop(self) -> float:
        """Seconds of CPU used since the meter started."""
        self._stop.set()
        self._thread.join()
        self._sample()
        return sum(seconds - self.first.get(pid, 0.0) for pid, seconds in self.last.items())


class PostgresMeter:
    """CPU time PostgreSQL's backends serving one database spend during a run (its pids from
    `pg_stat_activity`, looked up again every 0.5 s as the pool opens connections; their CPU from /proc, so the
    server must run on this machine). What the database side costs, beside the portal's own processes."""

    def __init__(self, database_url: str) -> None:
        self.name = database_url.rsplit("/", 1)[1]
        self.admin = _admin(database_url)
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self._pids: set[int] = set()
        self._stop = threading.Event()
        self._sample(find=True)
        self.first = dict(self.last)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self, *, find: bool) -> None:
        if find:
            with contextlib.suppress(sa.exc.DBAPIError), self.admin.connect() as conn:
                self._pids |= set(
                    conn.scalars(
                        sa.text("SELECT pid FROM pg_stat_activity WHERE datname = :name"), {"name": self.name}
                    )
                )
        ticks = os.sysconf("SC_CLK_TCK")
        for pid in self._pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            seconds = (int(fields[11]) + int(fields[12])) / ticks
            # A backend first seen mid-run started inside it: all its CPU is the run's.
            self.first.setdefault(pid, 0.0)
            self.last[pid] = seconds

    def _run(self) -> None:
        rounds = 0
        while not self._stop.wait(0.2):
            rounds += 1
            self._sample(find=rounds % 3 == 0)

    def stop(self) -> float:
        """Seconds of CPU PostgreSQL used for the database since the meter started."""
        self._stop.set()
        self._thread.join()
        self._sample(find=False)
        self.admin.dispose()
        return sum(seconds - self.first.get(pid, 0.0) for pid, seconds in self.last.items())


# --- databases ------------------------------------------------------------------------------------------------


def _admin(url: str) -> sa.Engine:
    # No pool: a kept connection would not survive the PostgreSQL restart of a fault run.
    return sa.create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1),
        isolation_level="AUTOCOMMIT",
        poolclass=sa.pool.NullPool,
    )


@contextmanager
def scratch_postgres(server_url: str, name: str) -> Iterator[str]:
    """A new database beside the one in `server_url`, dropped afterwards."""
    admin = _admin(server_url)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield server_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def cluster_of(url: str) -> tuple[str, str]:
    """The Debian cluster (version, name) that listens on the URL's port, from `pg_lsclusters`."""
    port = str(urlsplit(url).port or 5432)
    listing = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True).stdout
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[2] == port:
            return fields[0], fields[1]
    raise RuntimeError(f"no PostgreSQL cluster listens on port {port} (see pg_lsclusters)")


def restart_postgres(cluster: tuple[str, str], url: str) -> float:
    """`pg_ctlcluster --skip-systemctl-redirect VERSION NAME restart` (a fast shutdown: every connection is
    cut, transactions in flight roll back); returns the seconds until PostgreSQL accepts connections again."""
    started = time.monotonic()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", cluster[0], cluster[1], "restart"],
        check=True,
        capture_output=True,
    )
    engine = _admin(url)
    try:
        while True:
            try:
                with engine.connect() as conn:
                    conn.execute(sa.text("SELECT 1"))
                return time.monotonic() - started
            except sa.exc.OperationalError:
                if time.monotonic() - started > 60:
                    raise
                time.sleep(0.05)
    finally:
        engine.dispose()
