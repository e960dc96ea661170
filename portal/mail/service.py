"""The outbox's rules: putting e-mails in it, claiming them for sending, recording what happened, retrying,
and the throttle on e-mails that anyone can make the portal send.

`enqueue` writes the e-mail in the caller's transaction, so an e-mail exists if, and only if, its action
committed, and what it says is fixed by what the action stored: the template's name and its context as JSON
of plain values (`rendering.freeze`). The subject and bodies are rendered from those outside the action's
transaction: by the sender when it sends, and by the outbox page when staff look (a template changed by a
deploy in between is the one used). Costly attachments (an invoice PDF, a badge's QR code, a calendar file with the booking link) are
the exception: the row holds them by reference (what to draw, from which row), and the sender draws them at
send time from the stored data (`draw`), so no request renders them while it holds the database writer, and
an attachment whose source is gone by then (the booking removed) is never sent stale: the e-mail fails.

Claiming is safe with any number of senders in any number of processes and machines: a claim is a
conditional `UPDATE ... SET status='sending' ... WHERE id=? AND status='pending'` whose row count says who
won (PostgreSQL first picks candidates with `SELECT ... FOR UPDATE SKIP LOCKED`, so senders do not queue
behind each other's rows), committed before anything is sent. A claim older than `CLAIM_TIMEOUT` belongs to
a sender that died and may be taken over; the Message-ID is fixed at the first claim, so a receiver can
recognise the rare duplicate that such a takeover can cause.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Table, and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from portal import audit
from portal.db import is_postgres, rowcount
from portal.errors import Kind, NotFound, PortalError
from portal.mail import rendering, sealing
from portal.mail.errors import Code
from portal.mail.models import MAIL_STATUSES, MailRequest, OutboxAttachment, OutboxEmail
from portal.mail.rendering import EMAIL_TEMPLATES as EMAIL_TEMPLATES
from portal.mail.rendering import render
from portal.web.hooks import AttachmentSource

_ATTACHMENTS: Table = OutboxAttachment.__table__  # type: ignore[assignment]

#: A sender that has held a claim this long is taken to have died; its e-mail may be claimed again.
CLAIM_TIMEOUT = timedelta(minutes=10)
#: Attempts before an e-mail is given up as failed (then only staff can retry it).
MAX_ATTEMPTS = 8
#: Waits between attempts: 1, 2, 4 ... minutes, never more than this.
MAX_BACKOFF = timedelta(hours=1)
#: Error texts are kept short: enough for staff to act on, never a body.
ERROR_LENGTH = 500

#: Requests that make the portal e-mail someone: per address, and per client address (higher, because a
#: whole conference may share one wifi), within REQUEST_WINDOW.
REQUEST_WINDOW = timedelta(hours=1)
REQUESTS_PER_ADDRESS = 5
REQUESTS_PER_CLIENT = 20


class MailError(PortalError):
    """`code` is one of: throttled, not_failed, secret_gone."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str | None = None
    #: It carries a single-use link (a calendar file with the booking link): its content is sealed with the
    #: body (or, drawn at send time, never stored), and the row keeps only a note saying so.
    secret: bool = False
    #: Drawn by the sender at send time (`content` is then empty): the kind of source ("invoice", "badge",
    #: "calendar": the app's `Hooks.attachments` say what draws each) and the id of the row it is drawn from.
    source: str | None = None
    source_id: int | None = None

    @classmethod
    def drawn(
        cls,
        filename: str,
        content_type: str,
        *,
        source: str,
        source_id: int,
        content_id: str | None = None,
        secret: bool = False,
    ) -> Attachment:
        """An attachment the sender draws when it sends the e-mail, from what is stored then."""
        return cls(filename, content_type, b"", content_id, secret, source, source_id)


class DrawError(Exception):
    """An attachment held by reference cannot be drawn: what it is drawn from is gone (`permanent`: the e-mail
    must never go), or this sender has nothing that draws it (its wiring: tried again later)."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


#: What draws each kind of referenced attachment (the app's `Hooks.attachments`).
Sources = Mapping[str, AttachmentSource]


_TOKEN_LIKE = re.compile(r"[A-Za-z0-9_\-]{20,}")


def secret_forms(value: str) -> set[str]:
    """The strings that would give a single-use link away: the link itself and every token-like run in its
    path and query (so the token printed in another URL, or on its own, is caught too; the host is not)."""
    parts = urlsplit(value)
    return {value, *_TOKEN_LIKE.findall(f"{parts.path}?{parts.query}#{parts.fragment}")}


def _refuse_leaks(secrets: dict[str, str], stored: str, attachments: Sequence[Attachment]) -> None:
    """A context or attachment that holds a single-use value outside its named slot would store it readable
    (the stored context is all a template can print besides the slots): that is a programming error, refused
    before anything is written."""
    stored_bytes = [a.content.replace(b"\r\n ", b"") for a in attachments if not a.secret]
    for name, value in secrets.items():
        for form in secret_forms(value):
            if form in stored or any(form.encode() in part for part in stored_bytes):
                raise ValueError(f"the single-use value {name!r} would be stored readable in the outbox")


def enqueue(
    session: Session,
    *,
    to: str,
    template: str,
    context: dict[str, Any],
    now: datetime,
    attachments: Sequence[Attachment] = (),
    secrets: Mapping[str, str] | None = None,
    key: bytes | None = None,
) -> OutboxEmail:
    """Add an e-mail to the outbox in the caller's transaction: it is sent if, and only if, the action commits.

    `secrets` holds the single-use links (a password reset, an activation, a ballot, a booking) for the
    recipient alone, by the template variable that prints them: `secrets={"link": url}`. The stored context
    then holds `sealing.PLACEHOLDER` under each of those names (what staff see), and the links themselves are
    sealed with `key` (the portal's secret key) until the sender has sent the e-mail.

    Nothing is rendered here: the context is stored (`rendering.freeze`: plain values, and of a row only what
    the template reads), and the subject and bodies are rendered at send time or when staff look."""
    if "\n" in to or "\r" in to or not parseaddr(to)[1]:
        raise ValueError("an e-mail address is one line holding one address")
    secrets = dict(secrets or {})
    needs_seal = bool(secrets) or any(a.secret and a.source is None for a in attachments)
    if needs_seal and key is None:
        raise ValueError("an e-mail with single-use links needs the secret key to seal them")
    stored = rendering.freeze(template, {**context, **{name: sealing.PLACEHOLDER for name in secrets}})
    _refuse_leaks(secrets, stored, attachments)
    email = OutboxEmail(
        created_at=now,
        kind=template,
        to_addr=to,
        context=stored,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        secret=needs_seal,
    )
    session.add(email)
    session.flush()
    if attachments:
        # One statement for them all (the ORM would insert them one by one on SQLite, to learn each id).
        session.execute(
            insert(_ATTACHMENTS),
            [
                {
                    "email_id": email.id,
                    "filename": a.filename,
                    "content_type": a.content_type,
                    "content": sealing.ATTACHMENT_PLACEHOLDER if a.secret else a.content,
                    "content_id": a.content_id,
                    "source": a.source,
                    "source_id": a.source_id,
                }
                for a in attachments
            ],
        )
    if needs_seal:
        assert key is not None
        email.sealed = sealing.seal(
            key,
            email_id=email.id,
            kind=email.kind,
            opened=sealing.Opened(
                text="",
                html=None,
                secrets=secrets,
                attachments={
                    i: a.content for i, a in enumerate(attachments) if a.secret and a.source is None
                },
            ),
        )
        session.flush()
    return email


def opened(email: OutboxEmail, *, key: bytes) -> sealing.Opened:
    """The e-mail as it is to be sent: rendered from its stored context with its sealed single-use links (or,
    written before contexts were stored, its sealed part or its plain columns). `SealError` when it carries
    single-use links that are no longer kept (or do not open)."""
    if not email.secret:
        return sealing.Opened(text=email.text_body, html=email.html_body, attachments={})
    if email.sealed is None:
        raise sealing.SealError("its personal link is no longer kept")
    unsealed = sealing.unseal(key, email_id=email.id, kind=email.kind, sealed=email.sealed)
    if email.context is None:
        return unsealed
    real = render(email.kind, {**rendering.thaw(email.context), **unsealed.secrets})
    return sealing.Opened(text=real.text, html=real.html, attachments=unsealed.attachments)


def draw(session: Session, email: OutboxEmail, *, sources: Sources, now: datetime) -> dict[int, bytes]:
    """The content of each attachment the e-mail holds by reference (by its position among the e-mail's
    attachments), drawn now from the stored data. `DrawError` when one cannot be: its source is gone (the
    booking was removed before the e-mail went), so the e-mail must not go with a stale copy of it."""
    drawn: dict[tuple[str, int], bytes] = {}
    out: dict[int, bytes] = {}
    for index, attachment in enumerate(email.attachments):
        if attachment.source is None:
            continue
        if attachment.source_id is None or attachment.source not in sources:
            raise DrawError(
                f"this sender has nothing that draws its {attachment.filename} ({attachment.source})",
                permanent=False,
            )
        key = (attachment.source, attachment.source_id)
        if key not in drawn:  # the badge is both shown inline and attached: drawn once
            content = sources[attachment.source](session, attachment.source_id, now)
            if content is None:
                raise DrawError(
                    f"its {attachment.filename} can no longer be drawn (the booking it belongs to was removed "
                    "or cancelled before the e-mail went)",
                    permanent=True,
                )
            drawn[key] = content
        out[index] = drawn[key]
    return out


# --- claiming and recording ---------------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 2, 4 ... minutes, at most an hour."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def new_message_id(domain: str) -> str:
    return f"<{secrets.token_hex(16)}@{domain}>"


def claim(session: Session, *, worker: str, now: datetime, limit: int, message_domain: str) -> list[int]:
    """Claim up to `limit` e-mails that are due (or whose sender died) for `worker`; returns their ids.

    The caller commits before sending, so every other sender sees the claims."""
    stale = now - CLAIM_TIMEOUT
    pending = and_(OutboxEmail.status == "pending", OutboxEmail.next_attempt_at <= now)
    abandoned = and_(OutboxEmail.status == "sending", OutboxEmail.claimed_at < stale)
    query = (
        select(OutboxEmail.id, OutboxEmail.status, OutboxEmail.attempts)
        .where(or_(pending, abandoned))
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        .limit(limit)
    )
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True, of=OutboxEmail)
    claimed = []
    for email_id, status, attempts in session.execute(query).all():
        still = pending if status == "pending" else abandoned
        if status == "sending" and attempts >= MAX_ATTEMPTS:
            session.execute(
                update(OutboxEmail)
                .where(OutboxEmail.id == email_id, still)
                .values(
                    status="failed",
                    claimed_by=None,
                    last_error=f"The sender stopped during attempt {attempts}; not tried again.",
                    sealed=None,
                )
                .execution_options(synchronize_session=False)
            )
            continue
        won = session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == email_id, still)
            .values(
                status="sending",
                claimed_by=worker,
                claimed_at=now,
                attempts=OutboxEmail.attempts + 1,
                message_id=func.coalesce(OutboxEmail.message_id, new_message_id(message_domain)),
            )
            .execution_options(synchronize_session=False)
        )
        if rowcount(won) == 1:
            claimed.append(email_id)
    return claimed


def _mine(email_id: int, worker: str) -> Any:
    return and_(OutboxEmail.id == email_id, OutboxEmail.status == "sending", OutboxEmail.claimed_by == worker)


def release(session: Session, *, email_ids: list[int], worker: str) -> None:
    """Give back claims that were not attempted: pending again at once, the attempt not counted."""
    session.execute(
        update(OutboxEmail)
        .where(
            OutboxEmail.id.in_(email_ids), OutboxEmail.status == "sending", OutboxEmail.claimed_by == worker
        )
        .values(status="pending", claimed_by=None, attempts=OutboxEmail.attempts - 1)
        .execution_options(synchronize_session=False)
    )


def mark_sent(session: Session, *, email_id: int, worker: str, now: datetime, logged: bool = False) -> bool:
    """Record a delivery (or, with `logged`, that it went to the log), and scrub the sealed single-use links
    in the same statement. False when the claim was lost."""
    done = session.execute(
        update(OutboxEmail)
        .where(_mine(email_id, worker))
        .values(
            status="logged" if logged else "sent", sent_at=now, last_error=None, claimed_by=None, sealed=None
        )
        .execution_options(synchronize_session=False)
    )
    return rowcount(done) == 1


def mark_failed_attempt(
    session: Session, *, email_id: int, worker: str, now: datetime, error: str, permanent: bool = False
) -> str | None:
    """Record a failed attempt: back to `pending` after the backoff, or `failed` after MAX_ATTEMPTS (or at
    once when the server refused it for good). Returns the new status, or None when the claim was lost.
    A failed e-mail's sealed single-use links are scrubbed with the statement that fails it: see `retry`."""
    attempts = session.scalar(select(OutboxEmail.attempts).where(_mine(email_id, worker)))
    if attempts is None:
        return None
    status = "failed" if permanent or attempts >= MAX_ATTEMPTS else "pending"
    scrub = {"sealed": None} if status == "failed" else {}
    session.execute(
        update(OutboxEmail)
        .where(_mine(email_id, worker))
        .values(
            status=status,
            last_error=error[:ERROR_LENGTH],
            next_attempt_at=now + backoff(attempts),
            claimed_by=None,
            **scrub,
        )
        .execution_options(synchronize_session=False)
    )
    return status


def retry(session: Session, *, email_id: int, actor: audit.Actor | None, now: datetime) -> OutboxEmail:
    """Staff give a failed e-mail a fresh set of attempts, starting now.

    Not one that carried a single-use link: its sealed part was scrubbed when it failed (the link exists
    nowhere in readable form, and a reset link has expired by then anyway), so the person asks for a new
    link instead (`secret_gone`)."""
    email = session.get(OutboxEmail, email_id)
    if email is None:
        raise NotFound("No such e-mail.")
    if email.status == "failed" and not can_retry(email):
        raise MailError(Code.SECRET_GONE, NO_RESEND, kind=Kind.CONFLICT)
    done = session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == email_id, OutboxEmail.status == "failed")
        .values(status="pending", attempts=0, next_attempt_at=now, claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    if rowcount(done) != 1:
        raise MailError(Code.NOT_FAILED, "Only an e-mail that failed can be retried.", kind=Kind.CONFLICT)
    audit.record(
        session,
        actor=actor,
        action="mail.retry",
        subject=email.to_addr,
        details={"email": email_id, "kind": email.kind},
        now=now,
    )
    session.refresh(email)
    return email


#: Why a failed e-mail that carried a single-use link cannot be sent again.
NO_RESEND = (
    "This e-mail carried a personal link, which the portal keeps only until the e-mail is sent or given up, "
    "so it cannot be sent again. Ask the person to request a new link (a new activation or password-reset "
    "e-mail, or a new ballot or booking link from the office)."
)


def can_retry(email: OutboxEmail) -> bool:
    return email.status == "failed" and (not email.secret or email.sealed is not None)


def counts(session: Session) -> dict[str, int]:
    """How many e-mails are in each status (every status present, zero when none)."""
    rows = session.execute(select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status)).all()
    found = {status: count for status, count in rows}
    return {status: found.get(status, 0) for status in MAIL_STATUSES}


# --- the throttle on e-mails anyone can ask for -------------------------------------------------------------


def throttle(session: Session, *, purpose: str, email: str, ip: str, now: datetime) -> None:
    """Count one request to e-mail `email` from client `ip`, or refuse it (`throttled`, 429) when either has
    asked too often within the window. Refused requests are not counted (the transaction rolls back), so
    waiting always helps. Counting rows in the database makes the limit hold across every worker."""
    since = now - REQUEST_WINDOW
    session.execute(delete(MailRequest).where(MailRequest.at < now - timedelta(days=1)))
    for column, value, limit in (
        (MailRequest.email, email, REQUESTS_PER_ADDRESS),
        (MailRequest.ip, ip, REQUESTS_PER_CLIENT),
    ):
        count = session.scalar(select(func.count()).where(column == value, MailRequest.at > since))
        if (count or 0) >= limit:
            raise MailError(
                Code.THROTTLED,
                "There have been too many requests for e-mails from here or to this address. "
                "Please wait an hour and try again.",
                kind=Kind.THROTTLED,
            )
    session.add(MailRequest(purpose=purpose, email=email, ip=ip[:64], at=now))
    session.flush()


def purge(
    session: Session, *, now: datetime, keep_requests: timedelta, keep_sent: timedelta
) -> dict[str, int]:
    """Delete the throttle's records of who asked for e-mails `keep_requests` after they were made (the
    throttle looks back an hour), and sent, logged or finally failed e-mails `keep_sent` after their last
    attempt (their attachments go with them); returns the rows removed per table."""
    done = OutboxEmail.status.in_(("sent", "logged", "failed"))
    old = select(OutboxEmail.id).where(
        done, func.coalesce(OutboxEmail.sent_at, OutboxEmail.created_at) < now - keep_sent
    )
    attachments = rowcount(
        session.execute(
            delete(OutboxAttachment)
            .where(OutboxAttachment.email_id.in_(old))
            .execution_options(synchronize_session=False)
        )
    )
    emails = rowcount(
        session.execute(
            delete(OutboxEmail).where(OutboxEmail.id.in_(old)).execution_options(synchronize_session=False)
        )
    )
    requests = rowcount(
        session.execute(
            delete(MailRequest)
            .where(MailRequest.at < now - max(keep_requests, timedelta(hours=1)))
            .execution_options(synchronize_session=False)
        )
    )
    return {"mail_requests": requests, "outbox_emails": emails, "outbox_attachments": attachments}
