"""Threads and connections agree: PORTAL_THREADS sizes anyio's default thread limiter (every request handler's
hop to a thread) and the pool (those threads, the background work's own few, and one for the event loop), with
no overflow, so a request thread never waits for a connection and PostgreSQL never sees more per worker. A
pooled PostgreSQL connection is pinged only when it sat idle, and a dead one is replaced."""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

import anyio
import anyio.to_thread
import pytest
import sqlalchemy as sa
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from support import AUDIT_KEY, held_connections, login, run_on_own_loop

from portal import db as portal_db
from portal.accounts.access import page
from portal.app import create_app
from portal.db import BACKGROUND_THREADS, EXTRA_CONNECTIONS, Database, connections_for
from portal.settings import DEFAULT_THREADS, Settings, SettingsError
from portal.web import periodic


def test_portal_threads_is_read_checked_and_defaults_to_16():
    assert Settings.from_env({}).threads == DEFAULT_THREADS == 16
    assert Settings.from_env({"PORTAL_THREADS": "8"}).threads == 8
    for bad, message in (("0", "at least 1"), ("many", "whole number"), ("10000", "at most 256")):
        with pytest.raises(SettingsError, match=f"PORTAL_THREADS must be .*{message}"):
            Settings.from_env({"PORTAL_THREADS": bad})


def test_the_pool_holds_the_threads_and_a_fixed_few_and_never_overflows(db_url):
    for threads in (1, 4, 16):
        database = Database(db_url, threads=threads)
        try:
            pool: Any = database.engine.pool
            assert pool.size() == connections_for(threads) == threads + EXTRA_CONNECTIONS
            assert pool._max_overflow == 0
        finally:
            database.dispose()


def _limiter_tokens(client: TestClient) -> float:
    async def read() -> float:
        return anyio.to_thread.current_default_thread_limiter().total_tokens

    assert client.portal is not None
    return client.portal.call(read)


@pytest.mark.parametrize("threads", [3, 16])
def test_the_apps_thread_limiter_follows_the_setting(settings, clock, db_url, threads):
    database = Database(db_url, threads=threads, audit_key=AUDIT_KEY)
    app = create_app(dataclasses.replace(settings, threads=threads), clock=clock, database=database)
    try:
        with TestClient(app) as client:
            assert _limiter_tokens(client) == threads
    finally:
        database.dispose()


def test_an_app_refuses_a_database_pooled_for_fewer_threads(settings, clock, db_url):
    database = Database(db_url, threads=2)
    try:
        with pytest.raises(ValueError, match="sized for 2 threads, the app runs 16"):
            create_app(settings, clock=clock, database=database)
    finally:
        database.dispose()


@page("public")
def _slow(ctx: Any) -> PlainTextResponse:
    """Holds its transaction's connection for a while, in its worker thread."""
    ctx.db.execute(sa.text("SELECT 1"))
    time.sleep(0.15)
    return PlainTextResponse("ok")


def test_concurrent_thread_bound_requests_never_hold_more_connections_than_the_threads(
    settings, clock, db_url, admin
):
    threads, requests = 3, 12
    database = Database(db_url, threads=threads, audit_key=AUDIT_KEY)
    app = create_app(dataclasses.replace(settings, threads=threads), clock=clock, database=database)
    app.router.routes.insert(0, Route("/slow", _slow))  # before the site's catch-all page route
    pool: Any = database.engine.pool
    statuses: list[int] = []
    try:
        with TestClient(app) as client, held_connections(database) as seen:
            start = threading.Barrier(requests)

            def one() -> None:
                start.wait()
                statuses.append(client.get("/slow").status_code)

            clients = [threading.Thread(target=one) for _ in range(requests)]
            for thread in clients:
                thread.start()
            for thread in clients:
                thread.join(30)
        assert statuses == [200] * requests
        # The requests queued for a thread, not for a connection: as many ran at once as there are threads,
        # never more, and the pool always had connections to spare.
        assert seen.peak == threads
        assert seen.peak < pool.size()
        assert seen.checkouts >= requests
    finally:
        database.dispose()


def test_periodic_jobs_take_their_threads_from_the_background_limiter():
    borrowed: list[float] = []
    done = threading.Event()

    async def scenario() -> None:
        limiter = anyio.CapacityLimiter(BACKGROUND_THREADS)

        def work() -> None:
            borrowed.append(limiter.borrowed_tokens)
            done.set()

        async with periodic.running([periodic.Job("probe", 60.0, work)], limiter=limiter):
            with anyio.fail_after(5):
                while not done.is_set():
                    await anyio.sleep(0.01)
        assert limiter.borrowed_tokens == 0

    run_on_own_loop(scenario)  # not anyio.run: the browser tests leave a loop running in this thread
    assert borrowed == [1]


# --- PostgreSQL: the ping only after idling, and a dead connection replaced -------------------------------------


@pytest.fixture
def pg_database(engine_name: str, db_url: str):
    if engine_name != "postgresql":
        pytest.skip("PostgreSQL's connections can be cut from the server side")
    database = Database(db_url, audit_key=AUDIT_KEY)
    yield database
    database.dispose()


def _count_pings(database: Database) -> list[int]:
    pings: list[int] = []
    dialect: Any = database.engine.dialect
    real = dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(1)
        return bool(real(dbapi_connection))

    dialect.do_ping = counted
    return pings


def _cut_connections(db_url: str) -> int:
    """Terminate every server process of the test database but this one (as a restart would)."""
    name = db_url.rsplit("/", 1)[1]
    admin = sa.create_engine(portal_db.normalise_url(db_url), poolclass=sa.pool.NullPool)
    try:
        with admin.begin() as conn:
            return len(
                conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                ).all()
            )
    finally:
        admin.dispose()


def test_a_connection_in_steady_use_is_not_pinged(pg_database):
    pings = _count_pings(pg_database)
    for _ in range(5):
        with pg_database.session(write=False) as session:
            session.execute(sa.text("SELECT 1"))
    assert pings == []


def test_an_idle_connection_is_pinged_and_a_dead_one_replaced_without_an_error(
    pg_database, db_url, monkeypatch
):
    with pg_database.session(write=False) as session:
        before = session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    assert _cut_connections(db_url) >= 1
    monkeypatch.setattr(portal_db, "PING_AFTER_IDLE_SECONDS", 0.0)
    pings = _count_pings(pg_database)
    with pg_database.session(write=False) as session:
        after = session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    assert pings and after != before


def test_after_a_restart_a_worker_in_steady_use_serves_the_next_request(
    settings, clock, db_url, engine_name, admin
):
    """Connections used a moment ago are not pinged, but their sockets hold the server's goodbye: the first
    checkout after the cut sees it, pings, and renews the pool, so no request fails."""
    if engine_name != "postgresql":
        pytest.skip("PostgreSQL's connections can be cut from the server side")
    database = Database(db_url, audit_key=AUDIT_KEY)
    app = create_app(settings, clock=clock, database=database)
    pings = _count_pings(database)
    try:
        with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
            login(client, "admin@example.org")
            assert client.get("/audit").status_code == 200
            assert pings == []
            assert _cut_connections(db_url) >= 1
            assert [client.get("/audit").status_code for _ in range(4)] == [200] * 4
            assert len(pings) == 1
    finally:
        database.dispose()
