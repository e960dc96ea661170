"""The outbox's rules: putting e-mails in it, claiming them for sending, recording what happened, retrying,
and the throttle on e-mails that anyone can make the portal send.

Rendering happens in `enqueue`, in the caller's transaction, so what is sent is exactly what the action
produced even if templates change before the sender runs, and an e-mail exists if, and only if, its action
committed.

Claiming is safe with any number of senders in any number of processes and machines: a claim is a
conditional `UPDATE ... SET status='sending' ... WHERE id=? AND status='pending'` whose row count says who
won (PostgreSQL first picks candidates with `SELECT ... FOR UPDATE SKIP LOCKED`, so senders do not queue
behind each other's rows), committed before anything is sent. A claim older than `CLAIM_TIMEOUT` belongs to
a sender that died and may be taken over; the Message-ID is fixed at the first claim, so a receiver can
recognise the rare duplicate that such a takeover can cause.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from portal.accounts import audit
from portal.accounts.models import Account
from portal.db import is_postgres
from portal.mail.models import MAIL_STATUSES, MailRequest, OutboxAttachment, OutboxEmail
from portal.web.errors import NotFound, PortalError

MAIL_TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "mail"

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

_text_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(MAIL_TEMPLATES)),
    autoescape=False,  # noqa: S701 - the text part is plain text, never shown as HTML
    keep_trailing_newline=True,
)
_html_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(MAIL_TEMPLATES)), autoescape=True, keep_trailing_newline=True
)


class MailError(PortalError):
    """`code` is one of: throttled, not_failed."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str | None = None


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


def render(template: str, context: dict[str, Any]) -> Rendered:
    """`templates/mail/<template>.txt` (first line `Subject: ...`, a blank line, the text) and, if present,
    `templates/mail/<template>.html` for the HTML part."""
    raw = _text_env.get_template(f"{template}.txt").render(**context)
    head, _, text = raw.partition("\n")
    if not head.startswith("Subject:"):
        raise ValueError(f"mail template {template}.txt must start with a 'Subject:' line")
    subject = " ".join(head[len("Subject:") :].split())
    html = None
    if (MAIL_TEMPLATES / f"{template}.html").exists():
        html = _html_env.get_template(f"{template}.html").render(subject=subject, **context)
    return Rendered(subject=subject, text=text.lstrip("\n"), html=html)


def enqueue(
    session: Session,
    *,
    to: str,
    template: str,
    context: dict[str, Any],
    now: datetime,
    attachments: Sequence[Attachment] = (),
    secret: bool = False,
) -> OutboxEmail:
    """Add an e-mail to the outbox in the caller's transaction: it is sent if, and only if, the action commits.

    `secret=True` for an e-mail that carries a single-use link for its recipient alone (a password reset,
    an activation, a ballot): staff then see that it was sent, never what it says."""
    if "\n" in to or "\r" in to or not parseaddr(to)[1]:
        raise ValueError("an e-mail address is one line holding one address")
    rendered = render(template, context)
    email = OutboxEmail(
        created_at=now,
        kind=template,
        to_addr=to,
        subject=rendered.subject,
        text_body=rendered.text,
        html_body=rendered.html,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        secret=secret,
    )
    email.attachments = [
        OutboxAttachment(
            filename=a.filename, content_type=a.content_type, content=a.content, content_id=a.content_id
        )
        for a in attachments
    ]
    session.add(email)
    session.flush()
    return email


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
        if won.rowcount == 1:
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
    """Record a delivery (or, with `logged`, that it went to the log). False when the claim was lost."""
    done = session.execute(
        update(OutboxEmail)
        .where(_mine(email_id, worker))
        .values(status="logged" if logged else "sent", sent_at=now, last_error=None, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    return done.rowcount == 1


def mark_failed_attempt(
    session: Session, *, email_id: int, worker: str, now: datetime, error: str, permanent: bool = False
) -> str | None:
    """Record a failed attempt: back to `pending` after the backoff, or `failed` after MAX_ATTEMPTS (or at
    once when the server refused it for good). Returns the new status, or None when the claim was lost."""
    attempts = session.scalar(select(OutboxEmail.attempts).where(_mine(email_id, worker)))
    if attempts is None:
        return None
    status = "failed" if permanent or attempts >= MAX_ATTEMPTS else "pending"
    session.execute(
        update(OutboxEmail)
        .where(_mine(email_id, worker))
        .values(
            status=status,
            last_error=error[:ERROR_LENGTH],
            next_attempt_at=now + backoff(attempts),
            claimed_by=None,
        )
        .execution_options(synchronize_session=False)
    )
    return status


def retry(session: Session, *, email_id: int, actor: Account | None, now: datetime) -> OutboxEmail:
    """Staff give a failed e-mail a fresh set of attempts, starting now."""
    email = session.get(OutboxEmail, email_id)
    if email is None:
        raise NotFound("No such e-mail.")
    done = session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == email_id, OutboxEmail.status == "failed")
        .values(status="pending", attempts=0, next_attempt_at=now, claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise MailError("not_failed", "Only an e-mail that failed can be retried.", status_code=409)
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
                "throttled",
                "There have been too many requests for e-mails from here or to this address. "
                "Please wait an hour and try again.",
                status_code=429,
            )
    session.add(MailRequest(purpose=purpose, email=email, ip=ip[:64], at=now))
    session.flush()
