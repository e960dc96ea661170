"""Contact Us: taking a visitor's message, routing it to a person, and the office's work on it.

Spam is held off without a third-party service, and every refusal says why:
- a honeypot field people do not see (an automated sender fills every field);
- a minimum fill time: the form carries the moment it was opened, signed with the portal's key, and a message
  sent within `MIN_FILL` of it is refused (so is a form older than `FORM_LIFETIME`, which is renewed);
- a limit per network address (`PER_CLIENT_PER_HOUR`, counted on a keyed digest of the address).

No limit is kept per e-mail address for *sending*, since a stranger could then use up someone else's. What is
limited per address is the acknowledgement (`ACKS_PER_ADDRESS_PER_DAY`), so the form cannot be used to flood
an inbox that is not the sender's; the message itself still reaches the office.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.models import Account
from portal.contact.errors import Code
from portal.contact.models import STATUSES, TOPICS, ContactTopic, Enquiry, EnquiryEntry
from portal.db import rowcount
from portal.errors import Conflict, Invalid, NotFound, Throttled
from portal.mail import service as mail
from portal.society.service import society, society_name
from portal.web.tokens import signed_moment, signed_moment_at, token_digest

MIN_FILL = timedelta(seconds=3)
FORM_LIFETIME = timedelta(days=1)
PER_CLIENT_PER_HOUR = 5
ACKS_PER_ADDRESS_PER_DAY = 3
#: Who may work the enquiries (administrators have every staff role's rights).
STAFF_ROLES = ("office",)


@dataclass(frozen=True)
class Message:
    """What a visitor wrote, already checked field by field by the form."""

    topic: str
    name: str
    email: str
    subject: str
    message: str


# --- the form's signed opening time --------------------------------------------------------------------------


def form_token(*, key: bytes, now: datetime) -> str:
    """The moment the form was opened, signed: the sender cannot make it older than it is."""
    return signed_moment(key, now, purpose="contact-form")


def opened_at(token: str, *, key: bytes) -> datetime | None:
    return signed_moment_at(key, token, purpose="contact-form")


def client_digest(ip: str, *, key: bytes) -> str:
    return token_digest(key, ip, purpose="contact-client")


# --- taking a message ----------------------------------------------------------------------------------------


def check_not_automated(*, honeypot: str, token: str, key: bytes, now: datetime) -> None:
    """Refuse what only an automated sender does, saying so in words a person can act on."""
    if honeypot.strip():
        raise Invalid(
            Code.LOOKS_AUTOMATED,
            "The field marked “leave this empty” was filled in, which automated senders do. If you are a person, "
            "please leave it empty and send your message again.",
        )
    opened = opened_at(token, key=key)
    if opened is None or now - opened > FORM_LIFETIME:
        raise Invalid(
            Code.FORM_EXPIRED,
            "This form was opened too long ago to be checked. It has been renewed: please send your message "
            "again.",
        )
    if now - opened < MIN_FILL:
        raise Invalid(
            Code.TOO_QUICK,
            "That was sent within seconds of the form opening, which only automated senders manage. Please "
            "check your message and send it again.",
        )


def inbox_for(session: Session, topic: str) -> str:
    """The staff address told of a new message on `topic`: the topic's own, else the society's contact address
    (empty when neither is set: the message is then only in the portal's list)."""
    found = session.get(ContactTopic, topic)
    if found is not None and found.inbox:
        return found.inbox
    details = society(session)
    return details.contact_email if details is not None else ""


def submit(
    session: Session,
    *,
    message: Message,
    honeypot: str,
    token: str,
    ip: str,
    now: datetime,
    key: bytes,
    staff_link: Callable[[int], str],
) -> Enquiry:
    """Take a visitor's message: refuse it if it looks automated or this network has sent enough this hour;
    else store it with its reference, tell the topic's inbox, and acknowledge it to the sender (unless that
    address has had enough acknowledgements today). One transaction: all of it or nothing."""
    check_not_automated(honeypot=honeypot, token=token, key=key, now=now)
    if message.topic not in TOPICS:
        raise Invalid(Code.NOT_FOUND, "Choose what your message is about.", field="topic")
    digest = client_digest(ip, key=key)
    recent = session.scalar(
        select(func.count())
        .select_from(Enquiry)
        .where(Enquiry.client_digest == digest, Enquiry.created_at > now - timedelta(hours=1))
    )
    if (recent or 0) >= PER_CLIENT_PER_HOUR:
        raise Throttled(
            Code.THROTTLED,
            f"{PER_CLIENT_PER_HOUR} messages have been sent from your network in the last hour, which is as many "
            "as we take. Please try again in an hour, or write to us by post.",
        )
    acks_today = session.scalar(
        select(func.count())
        .select_from(Enquiry)
        .where(
            Enquiry.email == message.email, Enquiry.acknowledged, Enquiry.created_at > now - timedelta(days=1)
        )
    )
    enquiry = Enquiry(
        topic=message.topic,
        name=message.name,
        email=message.email,
        subject=message.subject,
        message=message.message,
        status="new",
        client_digest=digest,
        acknowledged=(acks_today or 0) < ACKS_PER_ADDRESS_PER_DAY,
        created_at=now,
        updated_at=now,
    )
    session.add(enquiry)
    session.flush()
    enquiry.reference = f"E-{now.year}-{enquiry.id:05d}"
    name = society_name(session)
    context = {"enquiry": enquiry, "society_name": name}
    inbox = inbox_for(session, message.topic)
    if inbox:
        mail.enqueue(
            session,
            to=inbox,
            template="contact/new_enquiry",
            context={**context, "staff_link": staff_link(enquiry.id)},
            now=now,
        )
    if enquiry.acknowledged:
        mail.enqueue(session, to=message.email, template="contact/acknowledgement", context=context, now=now)
    session.flush()
    return enquiry


# --- the office's work --------------------------------------------------------------------------------------


def get(session: Session, enquiry_id: int) -> Enquiry:
    found = session.get(Enquiry, enquiry_id)
    if found is None:
        raise NotFound("There is no such enquiry.", code=Code.NOT_FOUND)
    return found


@dataclass(frozen=True)
class Listing:
    enquiries: list[Enquiry]
    counts: dict[str, int]
    total: int
    page: int
    pages: int


PAGE_SIZE = 50


def listing(session: Session, *, status: str = "", topic: str = "", page: int = 1) -> Listing:
    """Enquiries newest first, 50 a page, by status and topic; with the count of each status (all topics)."""
    query = select(Enquiry)
    count = select(func.count()).select_from(Enquiry)
    if status in STATUSES:
        query, count = query.where(Enquiry.status == status), count.where(Enquiry.status == status)
    if topic in TOPICS:
        query, count = query.where(Enquiry.topic == topic), count.where(Enquiry.topic == topic)
    total = session.scalar(count) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = session.scalars(
        query.order_by(Enquiry.created_at.desc(), Enquiry.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    found = dict(session.execute(select(Enquiry.status, func.count()).group_by(Enquiry.status)).all())
    return Listing(
        enquiries=list(rows),
        counts={s: found.get(s, 0) for s in STATUSES},
        total=total,
        page=page,
        pages=pages,
    )


def staff_choices(session: Session) -> list[Account]:
    """Who an enquiry can be given to: enabled staff accounts that may work enquiries."""
    accounts = session.scalars(
        select(Account).where(Account.is_active, Account.roles != "").order_by(Account.name)
    ).all()
    return [a for a in accounts if a.role_set & {"office", "admin"}]


def update(
    session: Session, *, actor: Account, enquiry_id: int, status: str, assignee_id: int | None, now: datetime
) -> Enquiry:
    """Set who has an enquiry in hand and where it stands."""
    enquiry = get(session, enquiry_id)
    if status not in STATUSES:
        raise Invalid(Code.BAD_STATUS, "Choose a status from the list.", field="status")
    if assignee_id is not None and assignee_id not in {a.id for a in staff_choices(session)}:
        raise Invalid(Code.BAD_ASSIGNEE, "Choose a member of staff from the list.", field="assignee")
    changed: dict[str, str | int | None] = {}
    if status != enquiry.status:
        changed["status"] = status
        enquiry.closed_at = now if status == "closed" else None
        enquiry.status = status
    if assignee_id != enquiry.assignee_id:
        changed["assignee"] = assignee_id
        enquiry.assignee_id = assignee_id
    if changed:
        enquiry.updated_at = now
        audit.record(
            session, actor=actor, action="contact.update", subject=enquiry.reference, details=changed, now=now
        )
    return enquiry


def _entry(
    session: Session, enquiry: Enquiry, *, kind: str, actor: Account, body: str, now: datetime
) -> None:
    session.add(
        EnquiryEntry(
            enquiry_id=enquiry.id,
            kind=kind,
            author_id=actor.id,
            author_name=actor.name,
            body=body,
            created_at=now,
        )
    )
    session.expire(enquiry, ["entries"])


def add_note(session: Session, *, actor: Account, enquiry_id: int, body: str, now: datetime) -> Enquiry:
    """A note for staff only, kept on the enquiry."""
    enquiry = get(session, enquiry_id)
    _entry(session, enquiry, kind="note", actor=actor, body=body, now=now)
    enquiry.updated_at = now
    audit.record(session, actor=actor, action="contact.note", subject=enquiry.reference, now=now)
    return enquiry


def reply(session: Session, *, actor: Account, enquiry_id: int, body: str, now: datetime) -> Enquiry:
    """E-mail the sender (through the outbox, in this transaction), keep the reply on the enquiry, and mark it
    answered. A closed enquiry is reopened first, by choosing its status."""
    enquiry = get(session, enquiry_id)
    if enquiry.status == "closed":
        raise Conflict(Code.CLOSED, "This enquiry is closed. Set it to “In hand” to reply to it.")
    if not enquiry.email:
        raise Conflict(Code.NO_ADDRESS, "This enquiry has no e-mail address to reply to.")
    mail.enqueue(
        session,
        to=enquiry.email,
        template="contact/reply",
        context={
            "enquiry": enquiry,
            "body": body,
            "society_name": society_name(session),
            "author": actor.name,
        },
        now=now,
    )
    _entry(session, enquiry, kind="reply", actor=actor, body=body, now=now)
    enquiry.status = "answered"
    enquiry.updated_at = now
    audit.record(session, actor=actor, action="contact.reply", subject=enquiry.reference, now=now)
    return enquiry


def inboxes(session: Session) -> dict[str, str]:
    """Each topic's own inbox ('' where it goes to the society's contact address)."""
    found = {t.key: t.inbox for t in session.scalars(select(ContactTopic))}
    return {topic: found.get(topic, "") for topic in TOPICS}


def set_inboxes(session: Session, *, actor: Account, inboxes: dict[str, str], now: datetime) -> None:
    changed = {}
    for topic, inbox in inboxes.items():
        if topic not in TOPICS:
            continue
        row = session.get(ContactTopic, topic)
        if row is None:
            row = ContactTopic(key=topic, inbox="")
            session.add(row)
        if row.inbox != inbox:
            changed[topic] = inbox
            row.inbox = inbox
    if changed:
        audit.record(session, actor=actor, action="contact.inboxes", details=changed, now=now)


def purge(session: Session, *, now: datetime, keep_closed: timedelta) -> dict[str, int]:
    """Delete enquiries closed more than `keep_closed` ago (with their notes and replies), in two statements."""
    old = select(Enquiry.id).where(Enquiry.closed_at < now - keep_closed)
    session.execute(
        delete(EnquiryEntry)
        .where(EnquiryEntry.enquiry_id.in_(old))
        .execution_options(synchronize_session=False)
    )
    removed = rowcount(
        session.execute(
            delete(Enquiry).where(Enquiry.id.in_(old)).execution_options(synchronize_session=False)
        )
    )
    return {"enquiries": removed}
