"""The rules of complaints: the procedure, receiving a complaint (spam checks, the reference, the target dates,
the acknowledgement), and the case's steps (notes, decisions, stages, letters, the member it is about).

Every step is recorded in the audit log by ids and stages only: a complaint's text never goes into the log.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.models import Account
from portal.complaints.errors import Code, ComplaintError
from portal.complaints.models import (
    ABOUT,
    NEXT_STAGES,
    OPEN_STAGES,
    STAGES,
    Complaint,
    ComplaintCounter,
    ComplaintDocument,
    ComplaintEntry,
    ComplaintProcedure,
)
from portal.complaints.workdays import add_working_days
from portal.db import rowcount
from portal.errors import Kind, NotFound
from portal.mail import service as mail
from portal.mail.models import MailRequest
from portal.members.models import Member
from portal.society.service import society_name
from portal.web.tokens import signed_moment, signed_moment_at, token_digest

LONDON = ZoneInfo("Europe/London")

#: A form sent back sooner than this after it was shown is a robot's.
MIN_FILL = timedelta(seconds=5)
#: A form older than this has expired (its stamp is refused; the page gives a fresh one).
MAX_FILL = timedelta(hours=12)
#: Complaints accepted from one client address per hour (counted by a keyed digest of the address).
PER_CLIENT_PER_HOUR = 3
#: At most this many documents, each at most MAX_DOCUMENT_BYTES.
MAX_DOCUMENTS = 3
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
#: The most working days a target may be set to.
MAX_DAYS = 120

DEFAULT_PROCEDURE = """\
We take complaints seriously. This procedure is for anyone who is unhappy with the conduct of a member of the
society or a practitioner on our register, with a training course we run or accredit, or with the society
itself.

## Before you complain

If you can, raise your concern first with the person or the course organiser concerned: many concerns are
settled quickly that way. If that is not possible, or has not worked, use the form below.

## How we handle a complaint

1. **We acknowledge it** within 5 working days, by e-mail, with your complaint's reference.
2. **We consider it.** A member of the society's complaints panel, who has had no part in what you complain
   about, looks at what you sent. We may ask you, and the person or course concerned, for more information.
   The person complained about is told of the complaint and may answer it.
3. **We tell you the outcome** in writing within 28 working days of receiving your complaint. If we need
   longer, we write to say why and when you can expect it.
4. **Review.** If you are unhappy with how your complaint was handled, you may ask the Chair of the Executive
   Committee to review it within 20 working days of the outcome.

## Complaints we pass on

Some complaints are for another body. A concern about a practitioner's fitness to practise may be for their
regulator or registering body (for example the HCPC, the BACP or the UKCP), and a concern about a crime is for
the police. We will tell you if we refer your complaint, and to whom.

## What we keep

We keep your complaint and what we do about it confidential to the people handling it, and only for as long as
the procedure needs. Working days exclude weekends and bank holidays in England and Wales.
"""


@dataclass(frozen=True)
class Document:
    """A file sent with a complaint, already checked (type and size) by the upload rules."""

    filename: str
    content_type: str
    content: bytes


# --- the procedure ------------------------------------------------------------------------------------------


def procedure(session: Session) -> ComplaintProcedure:
    """The procedure: the stored one, or the default (unsaved) until someone edits it."""
    found = session.get(ComplaintProcedure, 1)
    if found is not None:
        return found
    return ComplaintProcedure(
        id=1, text=DEFAULT_PROCEDURE, acknowledge_days=5, outcome_days=28, updated_by=""
    )


def save_procedure(
    session: Session,
    *,
    text: str,
    acknowledge_days: int,
    outcome_days: int,
    actor: audit.Actor | None,
    now: datetime,
) -> ComplaintProcedure:
    """Change the procedure's text and its working days (cases already received keep their dates)."""
    for field, days in (("acknowledge_days", acknowledge_days), ("outcome_days", outcome_days)):
        if not 1 <= days <= MAX_DAYS:
            raise ComplaintError(
                Code.BAD_DAYS,
                f"Give a number of working days from 1 to {MAX_DAYS}.",
                kind=Kind.INVALID,
                field=field,
            )
    if outcome_days < acknowledge_days:
        raise ComplaintError(
            Code.BAD_DAYS,
            "The outcome cannot be due before the acknowledgement.",
            kind=Kind.INVALID,
            field="outcome_days",
        )
    found = session.get(ComplaintProcedure, 1)
    if found is None:
        found = procedure(session)
        session.add(found)
    changed = [
        name
        for name, value in (
            ("text", text),
            ("acknowledge_days", acknowledge_days),
            ("outcome_days", outcome_days),
        )
        if getattr(found, name) != value
    ]
    found.text = text
    found.acknowledge_days = acknowledge_days
    found.outcome_days = outcome_days
    found.updated_at = now
    found.updated_by = audit.actor_label(actor)
    session.flush()
    if changed:
        audit.record(
            session,
            actor=actor,
            action="complaints.procedure",
            subject="complaints procedure",
            details={"changed": changed, "acknowledge_days": acknowledge_days, "outcome_days": outcome_days},
            now=now,
        )
    return found


# --- spam checks --------------------------------------------------------------------------------------------


def form_stamp(key: bytes, now: datetime) -> str:
    """A signed note of when the form was shown: sent back with it, it proves how long filling it took."""
    return signed_moment(key, now, purpose="complaint-form")


def check_stamp(key: bytes, stamp: str, now: datetime) -> None:
    """Refuse a form sent back too soon after it was shown (a robot), or with a missing, forged or stale
    stamp."""
    issued = signed_moment_at(key, stamp, purpose="complaint-form")
    if issued is None:
        raise ComplaintError(
            Code.FORM_EXPIRED, "This form has expired. Please send it again.", kind=Kind.INVALID
        )
    age = (now - issued).total_seconds()
    if age > MAX_FILL.total_seconds():
        raise ComplaintError(
            Code.FORM_EXPIRED,
            "This form was opened too long ago. Please check your answers and send it again.",
            kind=Kind.INVALID,
        )
    if age < MIN_FILL.total_seconds():
        raise ComplaintError(
            Code.TOO_SOON,
            "That was sent too quickly to have been written by a person. Please check it and send it again.",
            kind=Kind.INVALID,
        )


def client_digest(key: bytes, ip: str) -> str:
    """The client address as the throttle keeps it: a keyed digest, never the address itself."""
    return token_digest(key, ip, purpose="complaint-client")


def _throttle(session: Session, *, email: str, client: str, now: datetime) -> None:
    """At most PER_CLIENT_PER_HOUR complaints from one client address an hour, and the outbox's limit per
    e-mail address; counted in the database, so every worker shares it (refusals are not counted)."""
    recent = session.scalar(
        select(func.count()).where(
            MailRequest.purpose == "complaint",
            MailRequest.ip == client,
            MailRequest.at > now - timedelta(hours=1),
        )
    )
    if (recent or 0) >= PER_CLIENT_PER_HOUR:
        raise ComplaintError(
            Code.THROTTLED,
            f"We have received {PER_CLIENT_PER_HOUR} complaints from your connection in the last hour, the "
            "most we accept. Please wait an hour and try again, or write to the society instead.",
            kind=Kind.THROTTLED,
        )
    mail.throttle(session, purpose="complaint", email=email, ip=client, now=now)


# --- receiving a complaint ----------------------------------------------------------------------------------


def next_number(session: Session, year: int) -> int:
    """The next reference number of `year`: each handed out once, whatever runs at the same time (the
    counter's row is updated in place; its first row is inserted under a savepoint, and a racing insert
    makes this update the row the other made)."""
    for _ in range(3):
        got = session.execute(
            update(ComplaintCounter)
            .where(ComplaintCounter.year == year)
            .values(last=ComplaintCounter.last + 1)
            .returning(ComplaintCounter.last)
        ).scalar()
        if got is not None:
            return int(got)
        try:
            with session.begin_nested():
                session.execute(insert(ComplaintCounter).values(year=year, last=1))
        except IntegrityError:
            continue
        return 1
    raise RuntimeError("could not number the complaint")  # pragma: no cover - three lost races in a row


def reference(year: int, number: int) -> str:
    return f"C-{year}-{number:04d}"


def submit(
    session: Session,
    *,
    values: Mapping[str, str],
    documents: Sequence[Document] = (),
    client: str,
    now: datetime,
    case_link: Callable[[int], str] | None = None,
) -> Complaint:
    """Receive a complaint: throttled per client address and e-mail address, numbered, its target dates
    counted in working days from the procedure's, recorded, and acknowledged by e-mail with its reference.
    The complaints handlers are told a case has come in (its reference and `case_link`, never its text).
    `values` are the form's checked fields; `client` the client's keyed digest (`client_digest`)."""
    if values["about"] not in ABOUT:
        raise ComplaintError(Code.INVALID, "Choose what the complaint is about.", kind=Kind.INVALID)
    if len(documents) > MAX_DOCUMENTS:
        raise ComplaintError(Code.INVALID, f"Send at most {MAX_DOCUMENTS} documents.", kind=Kind.INVALID)
    _throttle(session, email=values["email"], client=client, now=now)
    rules = procedure(session)
    received = now.astimezone(LONDON).date()
    number = next_number(session, received.year)
    complaint = Complaint(
        reference=reference(received.year, number),
        year=received.year,
        number=number,
        about=values["about"],
        subject_name=values.get("subject_name", "") if values["about"] != "society" else "",
        complainant_name=values["name"],
        complainant_email=values["email"],
        complainant_phone=values.get("phone", ""),
        what_happened=values["what_happened"],
        happened_when=values["happened_when"],
        outcome_sought=values["outcome_sought"],
        stage="received",
        received_at=now,
        acknowledge_by=add_working_days(received, rules.acknowledge_days),
        outcome_by=add_working_days(received, rules.outcome_days),
        updated_at=now,
    )
    complaint.documents = [
        ComplaintDocument(
            filename=d.filename[:200], content_type=d.content_type, size=len(d.content), content=d.content
        )
        for d in documents
    ]
    complaint.entries = [ComplaintEntry(at=now, kind="stage", author="system", subject="received")]
    session.add(complaint)
    session.flush()
    audit.record(
        session,
        actor=None,
        action="complaints.received",
        subject=f"complaint {complaint.id}",
        details={"complaint": complaint.id, "reference": complaint.reference, "documents": len(documents)},
        now=now,
    )
    mail.enqueue(
        session,
        to=complaint.complainant_email,
        template="complaints/received",
        context={
            "society_name": society_name(session),
            "name": complaint.complainant_name,
            "reference": complaint.reference,
            "about": complaint.about_label,
            "acknowledge_days": rules.acknowledge_days,
            "outcome_days": rules.outcome_days,
            "outcome_by": f"{complaint.outcome_by:%A %-d %B %Y}",
        },
        now=now,
    )
    for address in handler_addresses(session):
        mail.enqueue(
            session,
            to=address,
            template="complaints/new_case",
            context={
                "society_name": society_name(session),
                "reference": complaint.reference,
                "about": complaint.about_label,
                "acknowledge_by": f"{complaint.acknowledge_by:%A %-d %B %Y}",
                "link": case_link(complaint.id) if case_link else "",
            },
            now=now,
        )
    return complaint


def handler_addresses(session: Session) -> list[str]:
    """Who is told of a new complaint: every active account with the complaints role, or, while nobody has
    it, every active administrator."""
    active = list(session.scalars(select(Account).where(Account.is_active.is_(True)).order_by(Account.id)))
    for role in ("complaints", "admin"):
        found = [a.email for a in active if role in a.role_set]
        if found:
            return found
    return []


# --- the cases ----------------------------------------------------------------------------------------------


def get_case(session: Session, complaint_id: int) -> Complaint:
    found = session.get(Complaint, complaint_id)
    if found is None:
        raise NotFound("There is no such complaint.", Code.NOT_FOUND)
    return found


def cases(session: Session, *, stage: str = "") -> list[Complaint]:
    """Cases newest first: all, `open` (not yet given an outcome, closed or referred), or one stage."""
    query = select(Complaint).order_by(Complaint.received_at.desc(), Complaint.id.desc())
    if stage == "open":
        query = query.where(Complaint.stage.in_(OPEN_STAGES))
    elif stage in STAGES:
        query = query.where(Complaint.stage == stage)
    return list(session.scalars(query))


def cases_for_member(session: Session, member_id: int) -> list[Complaint]:
    return list(
        session.scalars(
            select(Complaint).where(Complaint.member_id == member_id).order_by(Complaint.received_at.desc())
        )
    )


def overdue(complaint: Complaint, today: date) -> list[str]:
    """What is late: the acknowledgement (still `received` after its date), the outcome (still open after
    its date)."""
    late = []
    if complaint.stage == "received" and today > complaint.acknowledge_by:
        late.append("acknowledgement")
    if complaint.stage in OPEN_STAGES and today > complaint.outcome_by:
        late.append("outcome")
    return late


def today(now: datetime) -> date:
    return now.astimezone(LONDON).date()


def _entry(
    complaint: Complaint,
    *,
    kind: str,
    actor: audit.Actor | None,
    now: datetime,
    subject: str = "",
    body: str = "",
) -> ComplaintEntry:
    entry = ComplaintEntry(
        at=now,
        kind=kind,
        author_id=actor.id if actor else None,
        author=audit.actor_label(actor),
        subject=subject,
        body=body,
    )
    complaint.entries.append(entry)
    complaint.updated_at = now
    return entry


def _refuse_closed(complaint: Complaint) -> None:
    if complaint.stage == "closed":
        raise ComplaintError(Code.CLOSED, "This case is closed.", kind=Kind.CONFLICT)


def add_entry(
    session: Session, *, complaint_id: int, kind: str, body: str, actor: audit.Actor | None, now: datetime
) -> ComplaintEntry:
    """A note on the case, or a decision (what was decided and why; an outcome needs one)."""
    if kind not in ("note", "decision"):
        raise ComplaintError(Code.INVALID, "Choose a note or a decision.", kind=Kind.INVALID)
    complaint = get_case(session, complaint_id)
    _refuse_closed(complaint)
    entry = _entry(complaint, kind=kind, actor=actor, now=now, body=body)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"complaints.{kind}",
        subject=f"complaint {complaint.id}",
        details={"complaint": complaint.id, "entry": entry.id},
        now=now,
    )
    return entry


def move_stage(
    session: Session,
    *,
    complaint_id: int,
    from_stage: str,
    to_stage: str,
    referred_to: str = "",
    actor: audit.Actor | None,
    now: datetime,
) -> Complaint:
    """Move a case on: only along the procedure (`NEXT_STAGES`), only from the stage the person saw
    (`from_stage`; someone else may have moved it meanwhile), an outcome only once a decision is recorded,
    a referral only naming the body it goes to."""
    complaint = get_case(session, complaint_id)
    if to_stage not in NEXT_STAGES.get(complaint.stage, ()):
        if complaint.stage != from_stage:
            raise ComplaintError(
                Code.STAGE_CHANGED,
                f"Someone has moved this case to “{complaint.stage_label}” meanwhile: look again.",
                kind=Kind.CONFLICT,
            )
        raise ComplaintError(
            Code.BAD_STAGE,
            f"A case at “{complaint.stage_label}” cannot move to “{STAGES.get(to_stage, to_stage)}”.",
            kind=Kind.CONFLICT,
        )
    if to_stage == "outcome" and not any(e.kind == "decision" for e in complaint.entries):
        raise ComplaintError(
            Code.NO_DECISION, "Record the decision before giving the outcome.", kind=Kind.CONFLICT
        )
    referred_to = referred_to.strip()
    if to_stage == "referred" and not referred_to:
        raise ComplaintError(
            Code.NO_REFERRAL,
            "Name the body the complaint is referred to.",
            kind=Kind.INVALID,
            field="referred_to",
        )
    stamps: dict[str, object] = {"stage": to_stage, "updated_at": now}
    if to_stage == "acknowledged":
        stamps["acknowledged_at"] = now
    elif to_stage == "outcome":
        stamps["outcome_at"] = now
    elif to_stage == "closed":
        stamps["closed_at"] = now
    elif to_stage == "referred":
        stamps["referred_to"] = referred_to[:200]
    done = session.execute(
        update(Complaint)
        .where(Complaint.id == complaint.id, Complaint.stage == from_stage)
        .values(**stamps)
        .execution_options(synchronize_session=False)
    )
    if rowcount(done) != 1:
        raise ComplaintError(
            Code.STAGE_CHANGED, "Someone has moved this case meanwhile: look again.", kind=Kind.CONFLICT
        )
    session.refresh(complaint)
    _entry(complaint, kind="stage", actor=actor, now=now, subject=to_stage, body=referred_to)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="complaints.stage",
        subject=f"complaint {complaint.id}",
        details={"complaint": complaint.id, "from": from_stage, "to": to_stage},
        now=now,
    )
    return complaint


def send_letter(
    session: Session,
    *,
    complaint_id: int,
    subject: str,
    body: str,
    actor: audit.Actor | None,
    now: datetime,
) -> ComplaintEntry:
    """A letter to the complainant, e-mailed through the outbox and kept on the case's record."""
    complaint = get_case(session, complaint_id)
    email = mail.enqueue(
        session,
        to=complaint.complainant_email,
        template="complaints/letter",
        context={
            "society_name": society_name(session),
            "name": complaint.complainant_name,
            "reference": complaint.reference,
            "letter_subject": subject,
            "body": body,
        },
        now=now,
    )
    entry = _entry(complaint, kind="letter", actor=actor, now=now, subject=subject, body=body)
    entry.email_id = email.id
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="complaints.letter",
        subject=f"complaint {complaint.id}",
        details={"complaint": complaint.id, "entry": entry.id, "email": email.id},
        now=now,
    )
    return entry


def link_member(
    session: Session,
    *,
    complaint_id: int,
    membership_number: str,
    actor: audit.Actor | None,
    now: datetime,
) -> Complaint:
    """Say which member on the roll the case is about (shown on that member's page to the complaints role),
    or unlink it with an empty number."""
    complaint = get_case(session, complaint_id)
    member_id = None
    if membership_number.strip():
        member_id = session.scalar(
            select(Member.id).where(Member.membership_number == membership_number.strip())
        )
        if member_id is None:
            raise ComplaintError(
                Code.NO_MEMBER,
                f"No member has the membership number {membership_number.strip()}.",
                kind=Kind.INVALID,
                field="membership_number",
            )
    if complaint.member_id != member_id:
        complaint.member_id = member_id
        complaint.updated_at = now
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="complaints.member",
            subject=f"complaint {complaint.id}",
            details={"complaint": complaint.id, "member": member_id},
            now=now,
        )
    return complaint


def document(session: Session, *, complaint_id: int, document_id: int) -> ComplaintDocument:
    found = session.get(ComplaintDocument, document_id)
    if found is None or found.complaint_id != complaint_id:
        raise NotFound("There is no such document.", Code.NOT_FOUND)
    return found


def purge(session: Session, *, now: datetime, keep_closed: timedelta) -> dict[str, int]:
    """Delete cases closed more than `keep_closed` ago, with their documents and record (the audit log keeps
    only their ids and stages). Open and referred cases are kept until they are closed."""
    old = session.scalars(select(Complaint.id).where(Complaint.closed_at < now - keep_closed)).all()
    for complaint_id in old:
        found = session.get(Complaint, complaint_id)
        if found is not None:
            session.delete(found)
    session.flush()
    return {"complaints": len(old)}
