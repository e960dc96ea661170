"""Engine, sessions, the declarative base and the column types every domain shares.

SQLite: WAL, foreign keys on, a busy timeout, and every *write* transaction opened with `BEGIN IMMEDIATE`,
so a transaction that reads and then writes waits for the lock instead of failing with "database is
locked". Reads use a plain deferred `BEGIN` and never block. PostgreSQL: psycopg 3, READ COMMITTED; the
services take row locks or conditional updates where a rule must hold across workers.
"""

from __future__ import annotations

import asyncio
import secrets
import select
import threading
import time
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CursorResult, DateTime, Engine, MetaData, Table, create_engine, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from portal.settings import DEFAULT_THREADS

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every engine (SQLite keeps no zone, so it is stored naive in UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def random_id() -> str:
    """A random 128-bit identifier, for rows whose insertion order must not show (ballots)."""
    return secrets.token_hex(16)


def normalise_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here; the rest is passed through."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling is switched off; the "begin" listener below opens transactions.
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    # Deleted rows are overwritten: the pending ballot pool must leave no trace once emptied.
    cur.execute("PRAGMA secure_delete=ON")
    cur.close()


class _WriterQueue:
    """One SQLite write transaction at a time in this process, handed over in arrival order.

    SQLite's busy handler is not fair: under a steady stream of writers one of them can keep losing the race
    for the lock until its timeout passes ("database is locked"). Queuing writers on a lock inside the process
    makes them wait their turn instead; `BEGIN IMMEDIATE` and the busy timeout still guard against other
    processes (a CLI command run beside the server).
    """

    KEY = "portal_writer_queue"

    def __init__(self, timeout: float = 30.0) -> None:
        self.lock = threading.Lock()
        self.timeout = timeout

    def begin(self, conn: Any) -> None:
        if conn.get_execution_options().get("portal_write"):
            if not self.lock.acquire(timeout=self.timeout):
                raise TimeoutError("waited too long for the database's write lock")
            conn.connection.info[self.KEY] = True
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                self.release(conn.connection.info)
                raise
        else:
            conn.exec_driver_sql("BEGIN")

    def end(self, conn: Any) -> None:
        self.release(conn.connection.info)

    def checkin(self, _dbapi_connection: Any, record: Any) -> None:
        self.release(record.info)

    def release(self, info: dict[str, Any]) -> None:
        if info.pop(self.KEY, False):
            self.lock.release()


#: The outbox sender and the periodic jobs run their blocking work on a thread limiter of their own (the app's
#: lifespan makes it), at most this many at once: they never take a request's thread, nor its connection.
BACKGROUND_THREADS = 4
#: The connections a pool holds beyond one per request thread: one per background thread, and one for the
#: event loop's inline handlers (the door's scan runs on the loop, one at a time, holding one connection).
EXTRA_CONNECTIONS = BACKGROUND_THREADS + 1
#: A pooled PostgreSQL connection that sat unused this long is pinged before it is handed out (a network cut
#: says nothing on the socket); one in steady use is pinged only when its socket has something to say (a
#: restart or a terminated backend sends its goodbye and closes), which saves a round trip per transaction.
PING_AFTER_IDLE_SECONDS = 10.0
_IDLE_SINCE = "portal_idle_since"


def connections_for(threads: int) -> int:
    """The connections one process's pool holds for `threads` request threads: never more, so a thread never
    waits for a connection and PostgreSQL never sees more than this per worker (docs/operations.md)."""
    return threads + EXTRA_CONNECTIONS


def _stamp_idle(_dbapi_connection: Any, record: Any) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


def _has_news(dbapi_connection: Any) -> bool:
    """Whether a connection at rest in the pool has anything to read, without a round trip: a server that
    restarted or ended the backend sent its goodbye and closed the socket; a healthy idle one says nothing."""
    try:
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except Exception:  # closed already, or no socket to look at: let the ping decide
        return True
    return bool(readable)


def _ping_if_idle(engine: Engine) -> Any:
    """A pool checkout listener: ping a connection that sat idle too long or whose socket has news; a dead one
    is replaced (SQLAlchemy retries the checkout with a fresh connection when the listener raises
    DisconnectionError, and renews the rest of the pool)."""
    dialect = engine.dialect

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None:  # fresh from connect
            return
        if time.monotonic() - since < PING_AFTER_IDLE_SECONDS and not _has_news(dbapi_connection):
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                raise DisconnectionError(str(exc)) from exc
            raise

    return checkout


def make_engine(url: str, *, threads: int = DEFAULT_THREADS, null_pool: bool = False) -> Engine:
    """An engine whose pool holds `connections_for(threads)` connections and opens no more (no overflow)."""
    url = normalise_url(url)
    kwargs: dict[str, Any] = {}
    if null_pool:
        kwargs["poolclass"] = NullPool
    else:
        kwargs.update(pool_size=connections_for(threads), max_overflow=0)
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
        engine = create_engine(url, **kwargs)
        queue = _WriterQueue()
        engine.portal_writer_queue = queue  # type: ignore[attr-defined]
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", queue.begin)
        event.listen(engine, "commit", queue.end)
        event.listen(engine, "rollback", queue.end)
        # A connection returned to the pool mid-transaction (an error, a lost reference) gives its turn back too.
        event.listen(engine, "checkin", queue.checkin)
        return engine
    if not null_pool:
        kwargs.update(pool_recycle=1800)
    engine = create_engine(url, **kwargs)
    if not null_pool:
        event.listen(engine, "checkin", _stamp_idle)
        event.listen(engine, "checkout", _ping_if_idle(engine))
    return engine


class Database:
    """One engine and two session factories: reads begin deferred, writes begin immediate (on SQLite)."""

    def __init__(
        self,
        url: str,
        *,
        null_pool: bool = False,
        audit_key: bytes | None = None,
        threads: int = DEFAULT_THREADS,
    ) -> None:
        """`audit_key` (audit.chain_key of the secret key) travels in every session's `info`, so
        whatever appends to the audit log in that session can key its hash. `threads` is the process's request
        threads (PORTAL_THREADS): the pool holds `connections_for(threads)` connections."""
        self.url = normalise_url(url)
        self.threads = threads
        self.engine = make_engine(self.url, threads=threads, null_pool=null_pool)
        self.write_engine = self.engine.execution_options(portal_write=True)
        info = {"audit_key": audit_key} if audit_key else {}
        self._read = sessionmaker(self.engine, expire_on_commit=False, info=info)
        self._write = sessionmaker(self.write_engine, expire_on_commit=False, info=info)
        self._queue: _WriterQueue | None = getattr(self.engine, "portal_writer_queue", None)
        #: SQLite's writers from requests wait for their turn here, on the event loop (one lock per loop).
        self._turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    @asynccontextmanager
    async def write_turn(self) -> AsyncIterator[None]:
        """Wait, without blocking the event loop, until this is the one write of the process (SQLite; on
        PostgreSQL every write goes at once, and row locks decide). Waiters are served in arrival order; the
        thread lock that `BEGIN IMMEDIATE` takes then finds no other request writer."""
        if self._queue is None:
            yield
            return
        loop = asyncio.get_running_loop()
        lock = self._turns.get(loop)
        if lock is None:
            lock = self._turns[loop] = asyncio.Lock()
        async with lock:
            yield

    def writer_busy(self) -> bool:
        """Whether a write transaction of this process (a background job, a CLI step) holds SQLite now."""
        return self._queue is not None and self._queue.lock.locked()

    def turn_taken(self) -> bool:
        """Whether a request of this process holds (or is being handed) SQLite's writer turn now, on any loop."""
        return any(lock.locked() for lock in list(self._turns.values()))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def new_session(self, *, write: bool = True) -> Session:
        return (self._write if write else self._read)()

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A session whose transaction commits when the block ends normally and rolls back otherwise."""
        with self.new_session(write=write) as session, session.begin():
            yield session

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


def keep(session: Session, row: Any) -> Any:
    """Hold `row` for the rest of the session, so a later `session.get` of it in the same request is answered
    from the identity map (which keeps an unchanged row only while something refers to it)."""
    if row is not None:
        session.info.setdefault("portal_kept", []).append(row)
    return row


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


#: What a database says when it cannot be reached or is busy for too long (psycopg's and sqlite3's wording).
_UNREACHABLE = (
    "connection",  # "connection refused", "connection to server … failed", "server closed the connection"
    "could not connect",
    "terminating connection",
    "the database system is starting up",
    "the database system is shutting down",
    "database is locked",
    "unable to open database file",
)


def is_unreachable(exc: BaseException) -> bool:
    """Whether a database error means "not reachable just now" (a 503 a retry may cure), as opposed to a fault
    of ours such as a missing table or a bad statement (a 500, logged with its traceback)."""
    if getattr(exc, "connection_invalidated", False):
        return True
    original = getattr(exc, "orig", None) or exc
    message = str(original).lower()
    return any(words in message for words in _UNREACHABLE)


def rowcount(result: Any) -> int:
    """The rows an UPDATE or DELETE touched (`session.execute` is typed as returning any `Result`; for these
    statements it is a `CursorResult`)."""
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def table_of(model: Any) -> Table:
    """A mapped class's table, typed as one (`Model.__table__` is typed as a bare `FromClause`)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
