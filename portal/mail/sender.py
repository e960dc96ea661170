"""The outbox sender: claims due e-mails, sends them over SMTP (or writes a line to the log when no server is
configured), and records the outcome with retries.

It runs inside every app process (started by the lifespan when `settings.run_mail_worker` is true) and as
`portal mail send-pending`. Any number of them may work one outbox: `service.claim` makes sure each e-mail
goes to one sender at a time. The database work is short and synchronous; the asyncio loop runs it, and
each SMTP conversation, in worker threads so the event loop never waits on the network.

`PORTAL_SMTP_URL`:
- `smtp://user:password@host:587` — plain SMTP upgraded with STARTTLS whenever the server offers it;
- `smtps://user:password@host:465` — TLS from the first byte;
- user and password are URL-decoded (`%40` for `@`); without them no login is attempted. A password is
  never sent over an unencrypted connection except to this machine (a local relay).
Without a URL, every e-mail is logged as one line (id, kind, recipient; never the body or a link) and marked
`logged`; staff read it on the outbox page with a placeholder where each single-use link was. Only with
`PORTAL_ENV=development` does the log line carry the text as sent, links included: that console is how a
developer follows an activation or reset link without a mail server.

An e-mail that carries single-use links is built from its sealed part (`portal.mail.sealing`), opened here
just before sending; recording the outcome scrubs it. Attachments held by reference (an invoice PDF, a
badge's QR code, a calendar file) are drawn here too, from what is stored now, by the sources the app gives
(`Hooks.attachments`); one that cannot be drawn (its booking was removed) fails the e-mail for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import secrets
import smtplib
import socket
import ssl
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Protocol
from urllib.parse import unquote, urlsplit

import anyio
from sqlalchemy.orm import selectinload

from portal.db import Database
from portal.mail import service
from portal.mail.models import OutboxEmail
from portal.mail.sealing import Opened, SealError
from portal.settings import Settings

log = logging.getLogger("portal.mail")

BATCH_SIZE = 20
IDLE_SLEEP = 1.0
ERROR_PAUSE = 5.0
SMTP_TIMEOUT = 30.0


# --- building the message -----------------------------------------------------------------------------------


def build_message(
    email: OutboxEmail, *, mail_from: str, now: datetime, opened: Opened | None = None
) -> EmailMessage:
    """The MIME message: text, with the HTML as its alternative (inline images related to the HTML), and
    attachments around both (multipart/mixed). `opened` is the e-mail as sent (`service.opened`); without
    it, the plain columns."""
    if opened is None:
        opened = Opened(text=email.text_body, html=email.html_body, attachments={})
    contents = [opened.attachments.get(i, a.content) for i, a in enumerate(email.attachments)]
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = email.to_addr
    message["Subject"] = email.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = email.message_id or service.new_message_id("localhost")
    # Tells auto-responders (out-of-office) not to answer.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(opened.text)
    inline = [i for i, a in enumerate(email.attachments) if a.content_id and opened.html]
    if opened.html:
        message.add_alternative(opened.html, subtype="html")
        payload = message.get_payload()
        assert isinstance(payload, list)
        html_part = payload[1]
        assert isinstance(html_part, EmailMessage)
        for index in inline:
            attachment = email.attachments[index]
            maintype, subtype = _split_type(attachment.content_type)
            html_part.add_related(
                contents[index],
                maintype=maintype,
                subtype=subtype,
                cid=f"<{attachment.content_id}>",
                filename=attachment.filename,
                disposition="inline",
            )
    for index, attachment in enumerate(email.attachments):
        if index in inline:
            continue
        maintype, subtype = _split_type(attachment.content_type)
        message.add_attachment(
            contents[index], maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return message


def _split_type(content_type: str) -> tuple[str, str]:
    maintype, _, subtype = content_type.partition("/")
    if not maintype or not subtype:
        return "application", "octet-stream"
    return maintype.strip().lower(), subtype.split(";")[0].strip().lower()


# --- transports -----------------------------------------------------------------------------------------------


class Transport(Protocol):
    #: True when e-mails are written to the log instead of being sent.
    logs: bool

    def send(self, email: OutboxEmail, message: EmailMessage) -> None: ...

    def close(self) -> None: ...


class LogTransport:
    """No SMTP server: one log line per e-mail, naming it but never showing what it says, except with
    `development` (PORTAL_ENV=development), where the text as sent follows, so a developer can follow its
    links. Nowhere else does a single-use link reach the log."""

    logs = True

    def __init__(self, *, development: bool = False) -> None:
        self.development = development

    def send(self, email: OutboxEmail, message: EmailMessage) -> None:
        if self.development:
            part = message.get_body(preferencelist=("plain",))
            text = part.get_content() if isinstance(part, EmailMessage) else ""
            log.info(
                "e-mail %s (%s) to %s written to the log, not sent: PORTAL_SMTP_URL is not set "
                "(development: its text, with any personal link, follows)\n%s",
                email.id,
                email.kind,
                email.to_addr,
                text,
            )
            return
        log.info(
            "e-mail %s (%s) to %s written to the log, not sent: PORTAL_SMTP_URL is not set",
            email.id,
            email.kind,
            email.to_addr,
        )

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    implicit_tls: bool
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpConfig:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(
                "PORTAL_SMTP_URL must look like smtp://user:password@host:587 or smtps://host:465"
            )
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 25),
            implicit_tls=implicit,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    @property
    def local(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


class SmtpTransport:
    """One SMTP connection, opened on the first send and kept for the rest of a batch."""

    logs = False

    def __init__(self, config: SmtpConfig, *, envelope_from: str, timeout: float = SMTP_TIMEOUT) -> None:
        self.config = config
        self.envelope_from = envelope_from
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if config.implicit_tls:
            smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            encrypted = config.implicit_tls
            if not encrypted and smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
                encrypted = True
            if config.username:
                if not encrypted and not config.local:
                    raise smtplib.SMTPException(
                        "The mail server offers no encryption (STARTTLS); the password was not sent."
                    )
                smtp.login(config.username, config.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, email: OutboxEmail, message: EmailMessage) -> None:
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            self._smtp.send_message(message, from_addr=self.envelope_from, to_addrs=[email.to_addr])
        except BaseException:
            # The connection's state is unknown after an error: the next e-mail starts afresh.
            self.close()
            raise

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def make_transport(settings: Settings) -> Transport:
    if not settings.smtp_url:
        return LogTransport(development=settings.development)
    envelope_from = parseaddr(settings.mail_from)[1] or settings.mail_from
    return SmtpTransport(SmtpConfig.from_url(settings.smtp_url), envelope_from=envelope_from)


def describe_error(exc: BaseException) -> str:
    """The error kept for staff: the exception's kind and the server's words, never the body."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        text = "; ".join(
            f"{addr}: {code} {reply.decode(errors='replace')}"
            for addr, (code, reply) in exc.recipients.items()
        )
    elif isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error
        text = f"{exc.smtp_code} {error.decode(errors='replace') if isinstance(error, bytes) else error}"
    else:
        text = str(exc) or "(no detail)"
    return f"{exc.__class__.__name__}: {text}"[: service.ERROR_LENGTH]


def is_permanent(exc: BaseException) -> bool:
    """The server refused this e-mail for good (a 5xx for the recipient or the message itself): retrying it
    would only fail again. Refusals of the sender or the login are the portal's configuration, and are
    retried, so the outbox recovers once the configuration is put right."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code >= 500


# --- the sender ---------------------------------------------------------------------------------------------


class Sender:
    """Claims a batch, sends each e-mail, records each outcome; each step in its own short transaction."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        clock: Callable[[], datetime],
        transport: Transport | None = None,
        batch_size: int = BATCH_SIZE,
        worker: str | None = None,
        sources: service.Sources | None = None,
    ) -> None:
        self.database = database
        self.sources: service.Sources = sources or {}
        self.settings = settings
        self.clock = clock
        self.transport = transport or make_transport(settings)
        self.batch_size = batch_size
        self.worker = (worker or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}")[:100]
        address = parseaddr(settings.mail_from)[1]
        self.message_domain = address.rpartition("@")[2] or "localhost"

    def claim(self) -> list[int]:
        with self.database.session(write=True) as session:
            return service.claim(
                session,
                worker=self.worker,
                now=self.clock(),
                limit=self.batch_size,
                message_domain=self.message_domain,
            )

    def deliver(self, email_id: int) -> str:
        """Send one claimed e-mail; returns its new status (`lost` when another sender took it over)."""
        with self.database.session(write=False) as session:
            email = session.get(OutboxEmail, email_id, options=[selectinload(OutboxEmail.attachments)])
            if email is None or email.status != "sending" or email.claimed_by != self.worker:
                return "lost"
            unreadable: SealError | service.DrawError | None = None
            try:
                opened = service.opened(email, key=self.settings.key_bytes())
                drawn = service.draw(session, email, sources=self.sources, now=self.clock())
                if drawn:
                    opened = Opened(opened.text, opened.html, {**opened.attachments, **drawn})
                message = build_message(
                    email, mail_from=self.settings.mail_from, now=self.clock(), opened=opened
                )
            except (SealError, service.DrawError) as exc:
                unreadable = exc
        if unreadable is not None:
            return self._unsendable(email, unreadable)
        try:
            self.transport.send(email, message)
        except Exception as exc:
            error = describe_error(exc)
            with self.database.session(write=True) as session:
                status = service.mark_failed_attempt(
                    session,
                    email_id=email_id,
                    worker=self.worker,
                    now=self.clock(),
                    error=error,
                    permanent=is_permanent(exc),
                )
            log.warning(
                "e-mail %s (%s) to %s: attempt %s failed, %s: %s",
                email_id,
                email.kind,
                email.to_addr,
                email.attempts,
                "given up" if status == "failed" else "will retry",
                error,
            )
            return status or "lost"
        with self.database.session(write=True) as session:
            recorded = service.mark_sent(
                session, email_id=email_id, worker=self.worker, now=self.clock(), logged=self.transport.logs
            )
        if not recorded:
            log.warning("e-mail %s was sent after another sender took over its claim", email_id)
            return "lost"
        if not self.transport.logs:
            log.info("e-mail %s (%s) sent to %s", email_id, email.kind, email.to_addr)
        return "logged" if self.transport.logs else "sent"

    def _unsendable(self, email: OutboxEmail, exc: SealError | service.DrawError) -> str:
        """Its single-use links cannot be read (scrubbed, or sealed under another secret key): sending the
        placeholder would help no one, so it fails for good and the person asks for a new link. Or an
        attachment it holds by reference cannot be drawn (the booking was removed): sending it without, or
        with a stale copy, would be wrong, so it fails for good too (or, when this sender has nothing that
        draws it, is tried again later)."""
        permanent = True
        if isinstance(exc, service.DrawError):
            # Nothing to draw it with is this sender's wiring, not the e-mail's fault: tried again later.
            permanent = exc.permanent
            error = f"Not sent: {exc}."
        elif email.sealed is not None:
            error = f"Not sent: {exc} (was PORTAL_SECRET_KEY changed?). The person must ask for a new link."
        else:
            error = f"Not sent: {exc}. The person must ask for a new link."
        with self.database.session(write=True) as session:
            status = service.mark_failed_attempt(
                session,
                email_id=email.id,
                worker=self.worker,
                now=self.clock(),
                error=error,
                permanent=permanent,
            )
        log.warning("e-mail %s (%s) to %s: %s", email.id, email.kind, email.to_addr, error)
        return status or "lost"

    def release(self, email_ids: list[int]) -> None:
        """Hand back claimed e-mails that will not be sent now (the app is stopping)."""
        with self.database.session(write=True) as session:
            service.release(session, email_ids=email_ids, worker=self.worker)

    def run_once(self) -> list[str]:
        """One batch: claim, send each, close the connection. Returns each claimed e-mail's new status."""
        outcomes = []
        try:
            for email_id in self.claim():
                outcomes.append(self.deliver(email_id))
        finally:
            self.transport.close()
        return outcomes

    def drain(self) -> Counter[str]:
        """Send everything due now (what fails is rescheduled for later, so this ends)."""
        total: Counter[str] = Counter()
        while outcomes := self.run_once():
            total.update(outcomes)
        return total


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def run_forever(
    sender: Sender,
    *,
    stop: asyncio.Event,
    idle: float = IDLE_SLEEP,
    error_pause: float = ERROR_PAUSE,
    limiter: anyio.CapacityLimiter | None = None,
) -> None:
    """The app's sender loop: claim a batch, send each in a worker thread, sleep when the outbox is idle.

    It stops when `stop` is set: the e-mail being sent is finished and recorded (a thread cannot be
    cancelled, and its outcome must not be lost), and the rest of the batch is handed back at once. Its threads
    come from `limiter` (the app's background limiter; anyio's default one when not given)."""
    log.info("outbox sender %s started (%s)", sender.worker, "log only" if sender.transport.logs else "SMTP")
    try:
        while not stop.is_set():
            claimed: list[int] = []
            try:
                claimed = await anyio.to_thread.run_sync(sender.claim, limiter=limiter)
                for done, email_id in enumerate(claimed):
                    if stop.is_set():
                        await anyio.to_thread.run_sync(sender.release, claimed[done:], limiter=limiter)
                        break
                    await anyio.to_thread.run_sync(sender.deliver, email_id, limiter=limiter)
            except Exception:
                log.exception("outbox sender: a round failed; trying again in %s s", error_pause)
                await _pause(stop, error_pause)
                continue
            finally:
                if claimed:
                    await anyio.to_thread.run_sync(sender.transport.close, limiter=limiter)
            if len(claimed) < sender.batch_size:
                await _pause(stop, idle)
    finally:
        sender.transport.close()
        log.info("outbox sender %s stopped", sender.worker)


@contextlib.asynccontextmanager
async def running(
    database: Database,
    settings: Settings,
    *,
    clock: Callable[[], datetime],
    limiter: anyio.CapacityLimiter | None = None,
    sources: service.Sources | None = None,
) -> AsyncIterator[None]:
    """For the app's lifespan: the sender runs while the app does (if `settings.run_mail_worker`)."""
    if not settings.run_mail_worker:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_forever(Sender(database, settings, clock=clock, sources=sources), stop=stop, limiter=limiter),
        name="outbox-sender",
    )
    try:
        yield
    finally:
        stop.set()
        try:
            # Long enough for one SMTP conversation to end; a hung one is abandoned (its claim expires).
            await asyncio.wait_for(task, timeout=SMTP_TIMEOUT + 5)
        except TimeoutError:
            log.warning("outbox sender did not stop in time; its claimed e-mails will be retried later")
