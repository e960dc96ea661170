"""Fixtures shared by every test.

Each database test runs on SQLite and, when PORTAL_TEST_POSTGRES_URL is set, on PostgreSQL too. SQLite gets
a fresh file per test (a copy of a migrated template); PostgreSQL gets one database per xdist worker,
migrated once and truncated after each test. Tests commit for real, so concurrency tests are honest.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient
from support import AUDIT_KEY, PASSWORD, SECRET, Clock

from portal import migrate
from portal.accounts import service as accounts
from portal.accounts.models import Account
from portal.accounts.passwords import Passwords
from portal.app import create_app
from portal.db import Base, Database
from portal.settings import Secret, Settings

pytest_plugins = ["browser_fixtures"]

POSTGRES_URL = os.environ.get("PORTAL_TEST_POSTGRES_URL", "").strip()
ENGINES = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]


def pytest_configure(config: pytest.Config) -> None:
    """On CI (CI=true), hypothesis draws the same examples every run, so a red build is never luck; locally it
    explores new ones each run."""
    from hypothesis import settings as hypothesis_settings

    hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
    if os.environ.get("CI"):
        hypothesis_settings.load_profile("ci")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that drives Chromium is marked `browser` (so `-m "not browser"` runs the rest), whichever
    module it lives in."""
    for item in items:
        if {"browser", "page", "camera_browser"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip("PORTAL_TEST_POSTGRES_URL is not set")
    # One database per test process: parallel runs (xdist workers, or two developers) never share one.
    name = f"portal_test_{_worker()}_{os.getpid()}"
    admin = sa.create_engine(
        POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    migrate.upgrade(url)
    _SEEDS[url] = _rows_the_migrations_made(url)
    yield url
    cleaner = _CLEANERS.pop(url, None)
    if cleaner is not None:
        cleaner.dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


#: The rows the migrations themselves put in (the membership categories and levels, …), per test database.
_SEEDS: dict[str, list[tuple[sa.Table, list[dict[str, object]]]]] = {}


def _rows_the_migrations_made(url: str) -> list[tuple[sa.Table, list[dict[str, object]]]]:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        found = [
            (t, [dict(r) for r in conn.execute(sa.select(t)).mappings()]) for t in Base.metadata.sorted_tables
        ]
    engine.dispose()
    return [(t, rows) for t, rows in found if rows]


def _truncate_all(url: str) -> None:
    """Empty every table and put back what the migrations made, so each PostgreSQL test starts where each SQLite
    test does (a copy of the freshly migrated template): ids count from 1 again, the seeds are back.

    DELETE rather than TRUNCATE: a test leaves a few rows in a few tables, and TRUNCATE of every table gives each
    a new file on disk (about a second a test on a busy machine); DELETE of an empty table costs next to nothing.
    Foreign keys are not checked while the tables are emptied (replica mode), so the order does not matter."""
    engine = _CLEANERS.get(url)
    if engine is None:
        # One connection kept for the run: connecting again for every test costs more than the clean-up.
        engine = _CLEANERS[url] = sa.create_engine(
            url.replace("postgresql://", "postgresql+psycopg://", 1),
            pool_size=1,
            max_overflow=0,
            pool_pre_ping=True,
        )
    with engine.begin() as conn:
        # Every table the migrations made, not only the models' (search's full-text table has no model).
        names = conn.scalars(
            sa.text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
        ).all()
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        conn.exec_driver_sql("".join(f'DELETE FROM "{name}";' for name in names))
        conn.exec_driver_sql("SELECT setval(c.oid, 1, false) FROM pg_class c WHERE c.relkind = 'S'")
        conn.execute(sa.text("SET LOCAL session_replication_role = origin"))
        for table, rows in _SEEDS.get(url, []):
            conn.execute(table.insert(), rows)
            if "id" in table.c and isinstance(table.c.id.type, sa.Integer):
                conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                        f'(SELECT max(id) FROM "{table.name}"))'
                    )
                )


#: The clean-up's engine per test database (disposed before the database is dropped).
_CLEANERS: dict[str, sa.Engine] = {}


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def db_url(engine_name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if engine_name == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "portal.db"
        shutil.copy(template, path)
        yield f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
        yield url
        _truncate_all(url)


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    database = Database(db_url, audit_key=AUDIT_KEY)
    yield database
    database.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(
        database_url=db_url,
        secret_key=Secret(SECRET),
        base_url="http://testserver",
        env="test",
        run_mail_worker=False,
    )


@pytest.fixture
def key(settings: Settings) -> bytes:
    return settings.key_bytes()


@pytest.fixture
def passwords() -> Passwords:
    return Passwords(fast=True)


@pytest.fixture
def app(settings: Settings, clock: Clock, database: Database) -> Any:
    return create_app(settings, clock=clock, database=database)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        yield client


@pytest.fixture
def db(database: Database) -> Iterator[Any]:
    """A session for domain tests; the test commits (or not) as the request would."""
    session = database.new_session(write=True)
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def admin(database: Database, passwords: Passwords, clock: Clock) -> Account:
    """A set-up portal with one administrator (password PASSWORD)."""
    with database.session() as session:
        account = accounts.setup_first_admin(
            session,
            society_name="IPT UK",
            name="Ada Admin",
            email="admin@example.org",
            password=PASSWORD,
            passwords=passwords,
            now=clock(),
        )
    return account
