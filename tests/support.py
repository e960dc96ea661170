"""Helpers for tests: a movable clock, account factories, and posting forms with a CSRF token."""

from __future__ import annotations

import os
import random
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event
from starlette.testclient import TestClient

from portal.accounts.models import Account
from portal.accounts.passwords import Passwords
from portal.audit import chain_key
from portal.db import Database
from portal.web.boundary import CSRF_COOKIE, csrf_for

SECRET = "test-secret-key-that-is-long-enough-0123456789"
#: What the test portal keys its audit chain with (audit.chain_key of SECRET).
AUDIT_KEY = chain_key(SECRET.encode())
PASSWORD = "correct horse battery staple"


def free_port() -> int:
    """A free TCP port on 127.0.0.1 for a server a test starts: any the system gives, or one inside
    PORTAL_TEST_PORTS (e.g. "8600-8699") when set, so runs on a shared machine keep to their own range."""
    wanted = os.environ.get("PORTAL_TEST_PORTS", "").strip()
    if not wanted:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])
    low, _, high = wanted.partition("-")
    ports = list(range(int(low), int(high or low) + 1))
    random.shuffle(ports)
    for port in ports:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in PORTAL_TEST_PORTS={wanted}")


@dataclass
class Clock:
    """A clock tests can move: the app and the services read the time from it."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 25, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


def make_account(
    database: Database,
    passwords: Passwords,
    *,
    email: str,
    roles: str = "",
    name: str = "Test Person",
    **extra: Any,
) -> Account:
    with database.session() as session:
        account = Account(
            email=email,
            name=name,
            roles=roles,
            password_hash=passwords.hash(PASSWORD),
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
            **{"is_active": True, **extra},
        )
        session.add(account)
    return account


CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: TestClient) -> str:
    """The CSRF token for this client's cookie (visiting the home page first if it has none)."""
    if CSRF_COOKIE not in client.cookies:
        client.get("/login")
    return csrf_for(SECRET.encode(), client.cookies[CSRF_COOKIE])


def post(client: TestClient, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """POST a form the way a browser on our own page would: with the CSRF token."""
    body = dict(data or {})
    body.setdefault("csrf_token", csrf_token(client))
    return client.post(url, data=body, **kwargs)


def login(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    response = post(client, "/login", {"email": email, "password": password})
    assert response.status_code == 303, response.text
    return response


def all_routes(app: Any) -> list[tuple[str, str, set[str], Any]]:
    """Every (name, path, methods, endpoint) the app serves, through mounts; static files excluded."""
    from starlette.routing import Mount, Route

    found: list[tuple[str, str, set[str], Any]] = []

    def walk(routes: Any, prefix: str, name_prefix: str) -> None:
        for route in routes:
            if isinstance(route, Mount):
                if route.name == "static":
                    continue
                walk(
                    route.routes,
                    prefix + route.path,
                    f"{name_prefix}{route.name}:" if route.name else name_prefix,
                )
            elif isinstance(route, Route):
                methods = set(route.methods or {"GET"}) - {"HEAD"}
                found.append((name_prefix + route.name, prefix + route.path, methods, route.endpoint))

    walk(app.routes, "", "")
    return found


def as_sent(email: Any, *, session: Any = None, sources: Any = None, now: Any = None) -> Any:
    """An outbox e-mail as its recipient gets it (`.text`, `.html`, `.attachments`): its sealed single-use links
    opened with the tests' secret key, exactly as the sender opens them. The plain columns hold placeholders;
    tests that follow a link read it from here (or from the mail aiosmtpd received). With a `session` and the
    app's attachment `sources` (`app.state.hooks.attachments`), the attachments held by reference are drawn
    too, as the sender draws them."""
    from datetime import UTC, datetime

    from portal.mail.sealing import Opened
    from portal.mail.service import draw, opened

    found = opened(email, key=SECRET.encode())
    if session is None:
        return found
    drawn = draw(session, email, sources=sources, now=now or datetime.now(UTC))
    return Opened(found.text, found.html, {**found.attachments, **drawn})


def secret_forms(link: str) -> set[str]:
    """A single-use link and the forms it could be stored in: itself, its token (the last path segment),
    URL-quoted, HTML-escaped."""
    import html
    from urllib.parse import quote, urlsplit

    token = urlsplit(link).path.rstrip("/").rpartition("/")[2]
    return {link, token, quote(link, safe=""), quote(token, safe=""), html.escape(link), html.escape(token)}


def stored_anywhere(database: Database, link: str) -> list[str]:
    """Every `table.column` of every table that holds the link in any of its forms (text and binary)."""
    from sqlalchemy import LargeBinary, String, Text, select

    from portal.db import Base

    forms = secret_forms(link)
    found = []
    with database.session(write=False) as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, (String, Text, LargeBinary))]
            if not columns:
                continue
            for row in session.execute(select(*columns)).all():
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    raw = value if isinstance(value, bytes) else str(value).encode()
                    unfolded = raw.replace(b"\r\n ", b"")
                    if any(f.encode() in raw or f.encode() in unfolded for f in forms):
                        found.append(f"{table.name}.{column.name}")
    return found


def check_sealed_link_mail(
    database: Database, settings: Any, clock: Any, office: TestClient, *, kind: str, to: str
) -> str:
    """The whole life of one e-mail carrying a single-use link, checked: stored nowhere readable, not on the
    outbox pages for office staff (who see the placeholder), delivered over real SMTP with the link, and
    scrubbed once sent. `office` is a client logged in as office staff. Returns the link's path."""
    import dataclasses

    from sqlalchemy import select

    from portal.app import attachment_sources
    from portal.mail.models import OutboxEmail
    from portal.mail.sealing import PLACEHOLDER
    from portal.mail.sender import Sender

    with database.session(write=False) as session:
        email = session.scalars(
            select(OutboxEmail)
            .where(OutboxEmail.kind == kind, OutboxEmail.to_addr == to)
            .order_by(OutboxEmail.id.desc())
        ).first()
        assert email is not None, f"no {kind} e-mail to {to}"
        assert email.secret and email.sealed is not None
        email_id = email.id
        shown = set(re.findall(r"https?://\S+", email.text_body))
        [link] = set(re.findall(r"https?://testserver/\S+", as_sent(email).text)) - shown
    assert PLACEHOLDER in email.text_body
    assert stored_anywhere(database, link) == [], f"{kind}: the link is stored readable"
    for page in (office.get("/outbox"), office.get(f"/outbox/{email_id}")):
        assert page.status_code == 200
        assert not any(form in page.text for form in secret_forms(link)), f"{kind}: office staff see the link"
    assert PLACEHOLDER in office.get(f"/outbox/{email_id}").text
    with smtp_server() as server:
        sending = dataclasses.replace(settings, smtp_url=f"smtp://127.0.0.1:{server.port}")
        Sender(database, sending, clock=clock, sources=attachment_sources(settings)).drain()
        delivered = [m for m in server.messages if m["To"] == to and m["Subject"] == email.subject]
    assert delivered, f"{kind}: nothing delivered to {to}"
    assert link in SmtpServer.text(delivered[-1]) and PLACEHOLDER not in SmtpServer.text(delivered[-1])
    html = delivered[-1].get_body(preferencelist=("html",))
    if html is not None:
        assert link.replace("&", "&amp;") in html.get_content()
    with database.session(write=False) as session:
        after = session.get(OutboxEmail, email_id)
        assert after is not None and after.status == "sent" and after.sealed is None
    assert stored_anywhere(database, link) == []
    return link.removeprefix("http://testserver")


def fill_path(path: str) -> str:
    """A concrete URL for a route path: numbers for int parameters, a dummy token otherwise."""
    path = re.sub(r"\{[^}:]+:int\}", "1", path)
    return re.sub(r"\{[^}]+\}", "x" * 20, path)


# --- a real SMTP server (aiosmtpd) that tests can send to and read from ---------------------------------------


class SmtpServer:
    """aiosmtpd on 127.0.0.1: `.port`, `.messages` (parsed `email.message.EmailMessage`, in arrival order),
    `.envelopes` ((mail from, [rcpt to]) per message), `.wait_for(count, timeout)`. `stop()` and `start()`
    take it down and bring it back on the same port (to test delivery after an outage); `refuse` holds
    recipients answered with a permanent 550; `auth=(user, password)` offers AUTH (without TLS: tests only)."""

    def __init__(
        self, *, port: int | None = None, auth: tuple[str, str] | None = None, refuse: set[str] | None = None
    ) -> None:
        import threading

        if port is None:
            port = free_port()
        self.port: int = port
        self.auth = auth
        self.refuse = {r.lower() for r in (refuse or set())}
        self.messages: list[Any] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.logins: list[tuple[str, str]] = []
        self._arrived = threading.Condition()
        self._controller: Any = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        extra: dict[str, Any] = {}
        if self.auth is not None:
            # AUTH offered without TLS (tests only); requiring it would make aiosmtpd warn at every connection.
            extra.update(authenticator=self._authenticate, auth_require_tls=False)
        # A new controller each time: a stopped one cannot be started again.
        self._controller = Controller(_SmtpHandler(self), hostname="127.0.0.1", port=self.port, **extra)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append((login, password))
        return AuthResult(success=(login, password) == self.auth)

    def _received(self, message: Any, sender: str, recipients: list[str]) -> None:
        with self._arrived:
            self.messages.append(message)
            self.envelopes.append((sender, recipients))
            self._arrived.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Any]:
        """Wait until at least `count` messages have arrived; returns them all."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.messages) >= count, timeout=timeout):
                raise AssertionError(f"expected {count} e-mails within {timeout} s, got {len(self.messages)}")
            return list(self.messages)

    @staticmethod
    def text(message: Any) -> str:
        """The plain-text part of a received message."""
        part = message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    @classmethod
    def links(cls, message: Any) -> list[str]:
        """Every http(s) link in the plain-text part."""
        return re.findall(r"https?://\S+", cls.text(message))


class _SmtpHandler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.lower() in self.server.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from email import policy
        from email.parser import BytesParser

        raw = envelope.original_content or envelope.content
        message = BytesParser(policy=policy.default).parsebytes(raw)
        self.server._received(message, envelope.mail_from, list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server(**options: Any) -> Iterator[SmtpServer]:
    """A running `SmtpServer` for the block; see the class for `options`."""
    server = SmtpServer(**options)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class HeldConnections:
    """Pool connections checked out at once while a `held_connections` block ran: the most, and how many
    checkouts there were in all."""

    peak: int = 0
    checkouts: int = 0
    held: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def held_connections(database: Database) -> Iterator[HeldConnections]:
    """Watch the database's pool: a request that opens a transaction beside its own holds two at once."""
    seen = HeldConnections()

    def checkout(*_: Any) -> None:
        with seen.lock:
            seen.held += 1
            seen.checkouts += 1
            seen.peak = max(seen.peak, seen.held)

    def checkin(*_: Any) -> None:
        with seen.lock:
            seen.held -= 1

    event.listen(database.engine, "checkout", checkout)
    event.listen(database.engine, "checkin", checkin)
    try:
        yield seen
    finally:
        event.remove(database.engine, "checkout", checkout)
        event.remove(database.engine, "checkin", checkin)


def run_on_own_loop(scenario: Any) -> Any:
    """Run a coroutine function on a loop of its own, in a thread of its own, and return its result: the browser
    tests' sync API leaves an event loop running in the test process's main thread, where asyncio.run refuses."""
    import asyncio
    import threading

    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(scenario())
        except BaseException as exc:  # handed back to the test
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "the scenario did not finish"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


class StatementCounter:
    """Counts the statements an engine sends to the database inside a `with` block (SQLAlchemy's
    `before_cursor_execute`, so every statement: the ORM's, Core's, `BEGIN IMMEDIATE` and savepoints), from any
    thread. `.count` is how many; `.statements` their SQL, in order, for the message of a failed budget."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.statements: list[str] = []
        self._lock = threading.Lock()

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        with self._lock:
            self.statements.append(" ".join(statement.split()))

    def __enter__(self) -> StatementCounter:
        self.statements.clear()
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    @property
    def count(self) -> int:
        return len(self.statements)

    def report(self) -> str:
        """The statements, numbered, one a line (each cut at 160 characters)."""
        return "\n".join(f"{n:3}. {sql[:160]}" for n, sql in enumerate(self.statements, 1))
