"""A member's personal data across the rooms: what their data export holds beyond the roll (applications,
payments), what erasing a former member blanks in each room's tables, and the periodic job that erases a
resigned or lapsed member's personal data the society's number of years after they left.

This module sits at the top with `ops.py` and `app.py`: it reads every room's tables, and is the one place
that says, table by table, what an erasure does with a member's rows (`app.build_hooks` hands the exporters
and erasers to the staff pages through the app's hooks):

| table | on erasure |
|---|---|
| members | names, e-mail and dates blanked; number, category, status, consent versions kept (counts) |
| member_changes | values blanked, field names and times kept (members.service) |
| accounts (and its sessions, tokens, codes) | disabled, address replaced, secrets gone (members.service) |
| membership_applications | personal and professional details blanked; status, category, dates, fee kept |
| membership_application_files | deleted (the evidence uploads) |
| membership_application_messages | deleted (the conversation with the office) |
| membership_renewals | the note blanked; amount, method, reference, dates kept |
| membership_renewal_reminders | kept: a member id, a date and a kind |
| membership_payments (the ledger) | kept: it holds no personal data (amounts, methods, dates, ids) |
| invoices (membership and bookings) | the buyer's name and e-mail blanked; number, lines, figures kept |
| registrations | names blanked, e-mail replaced by a placeholder; amounts and status kept |
| registration_answers | deleted (dietary and access needs) |
| payments (bookings) | the note blanked; amounts and dates kept |
| cpd_entries | the activity, reflection and evidence blanked; date, hours, category kept (aggregates) |
| accreditation_holdings | the conditions blanked; level and dates kept |
| accreditation_applications | the training note, statement, supervisor's name, address and comment, reasons blanked, the supervisor's link gone; level, status, numbers, dates kept |
| accreditation_application_files, accreditation_application_messages | deleted |
| accreditation_reminders | kept: a holding id, a kind and a time |
| cpd_audit_members | kept: an outcome |
| practice_profiles | deleted (the Find a Therapist profile, its photo) |
| register_messages | deleted (the count of visitors' messages relayed to them) |
| register_statuses | kept: the status and its public wording, what the register decided |
| election_nominations | the statement and photo removed; the record of the nomination kept |
| roll_entries, ballot_links, election_reminders, nomination tokens | kept: ids only (turnout counts) |
| outbox_emails (to the member), mail_requests, login_attempts | deleted |
| complaints | kept under the complaints' own retention (PORTAL_KEEP_CLOSED_COMPLAINTS_DAYS) |
| audit_events | append-only; entries name members by number and applications by reference, never by name |
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.models import LoginAttempt
from portal.accreditation.models import (
    CpdEntry,
    Holding,
    LevelApplication,
    LevelApplicationFile,
    LevelApplicationMessage,
)
from portal.db import Database
from portal.elections.models import Nomination
from portal.events.models import Answer, Invoice, Payment, Registration
from portal.mail.models import MailRequest, OutboxAttachment, OutboxEmail
from portal.members import service as members
from portal.members.models import Member
from portal.members.standing import london_day
from portal.membership.models import (
    Application,
    ApplicationFile,
    ApplicationMessage,
    MembershipPayment,
    Renewal,
)
from portal.register.models import PracticeProfile, RegisterStatus, RelayedMessage
from portal.society.service import membership_settings

log = logging.getLogger("portal.privacy")

#: How often the periodic job looks for former members due for erasure (it is due by the day).
INTERVAL_SECONDS = 3600.0
#: What the erasure's history entry and audit entry give as who did it.
AUTOMATIC = "Automatic erasure"


# --- the data export --------------------------------------------------------------------------------------------


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _applications_of(session: Session, member: Member) -> list[Application]:
    """The member's own application, and any other made from their address (an earlier one, rejected)."""
    condition = Application.member_id == member.id
    if member.email:
        condition = or_(condition, Application.email == member.email)
    return list(session.scalars(select(Application).where(condition).order_by(Application.id)))


def export_applications(session: Session, member: Member) -> tuple[str, Any]:
    """Every application: what was sent, the declarations accepted, the files (named, not their bytes) and the
    conversation with the office."""
    return "applications", [
        {
            "reference": a.reference,
            "status": a.status,
            "category": a.category,
            "first_name": a.first_name,
            "last_name": a.last_name,
            "email": a.email,
            "address": a.address,
            "profession": a.profession,
            "registration_body": a.registration_body,
            "registration_number": a.registration_number,
            "training": a.training,
            "conduct_version": a.conduct_version,
            "privacy_version": a.privacy_version,
            "declared_at": _iso(a.declared_at),
            "created_at": _iso(a.created_at),
            "decided_at": _iso(a.decided_at),
            "reason": a.reason,
            "first_fee": a.fee_amount,
            "first_fee_reference": a.fee_reference,
            "first_fee_paid_on": _iso(a.fee_paid_on),
            "files": [
                {
                    "filename": f.filename,
                    "content_type": f.content_type,
                    "bytes": len(f.content),
                    "uploaded_at": _iso(f.uploaded_at),
                }
                for f in a.files
            ],
            "messages": [
                {"at": _iso(m.at), "from": m.author, "name": m.author_name, "body": m.body}
                for m in a.messages
            ],
        }
        for a in _applications_of(session, member)
    ]


def _invoice(invoice: Invoice | None) -> dict[str, Any] | None:
    if invoice is None:
        return None
    return {
        "number": invoice.label,
        "issued_at": _iso(invoice.issued_at),
        "due_on": _iso(invoice.due_on),
        "total": invoice.total,
        "currency": invoice.currency,
        "reference": invoice.reference,
        "buyer": json.loads(invoice.buyer or "{}"),
    }


def export_payments(session: Session, member: Member) -> tuple[str, Any]:
    """What the member was asked to pay and paid: the first fee, each renewal, each booking's payments, with
    their invoices."""
    first_fees = [
        {
            "application": a.reference,
            "amount": a.fee_amount,
            "reference": a.fee_reference,
            "paid_on": _iso(a.fee_paid_on),
            "invoice": _invoice(session.get(Invoice, a.invoice_id) if a.invoice_id else None),
        }
        for a in _applications_of(session, member)
        if a.fee_amount > 0
    ]
    renewals = [
        {
            "category": r.category,
            "amount": r.amount,
            "method": r.method,
            "reference": r.reference,
            "renewal_from": _iso(r.renewal_from),
            "renewal_to": _iso(r.renewal_to),
            "asked_at": _iso(r.created_at),
            "paid_on": _iso(r.paid_on),
            "note": r.note,
            "invoice": _invoice(session.get(Invoice, r.invoice_id) if r.invoice_id else None),
        }
        for r in session.scalars(select(Renewal).where(Renewal.member_id == member.id).order_by(Renewal.id))
    ]
    bookings = [
        {
            "registration": registration.id,
            "event_id": registration.event_id,
            "amount_due": registration.amount_due,
            "amount_paid": registration.amount_paid,
            "currency": registration.currency,
            "payment_status": registration.payment_status,
            "payments": [
                {
                    "kind": p.kind,
                    "amount": p.amount,
                    "method": p.method,
                    "received_on": _iso(p.received_on),
                    "note": p.note,
                }
                for p in registration.payments
            ],
            "invoice": _invoice(registration.invoice),
        }
        for registration in _registrations_of(session, member)
    ]
    ledger = [
        {
            "purpose": p.purpose,
            "kind": p.kind,
            "category": p.category,
            "amount": p.amount,
            "currency": p.currency,
            "method": p.method,
            "source": p.source,
            "reference": p.reference,
            "received_on": _iso(p.received_on),
            "invoice": p.invoice_id,
        }
        for p in session.scalars(
            select(MembershipPayment)
            .where(MembershipPayment.member_id == member.id)
            .order_by(MembershipPayment.id)
        )
    ]
    return "payments", {
        "first_fees": first_fees,
        "renewals": renewals,
        "membership_ledger": ledger,
        "bookings": bookings,
    }


def export_accreditation(session: Session, member: Member) -> tuple[str, Any]:
    """The levels held, the applications for a level (what was sent, the supervisor's answer, the files named,
    the conversation) and the CPD log (its evidence named, not its bytes)."""
    applications = session.scalars(
        select(LevelApplication).where(LevelApplication.member_id == member.id).order_by(LevelApplication.id)
    )
    return "accreditation", {
        "levels_held": [
            {
                "level_id": h.level_id,
                "from": _iso(h.from_on),
                "until": _iso(h.until_on),
                "conditions": h.conditions,
            }
            for h in session.scalars(
                select(Holding).where(Holding.member_id == member.id).order_by(Holding.id)
            )
        ],
        "applications": [
            {
                "reference": a.reference,
                "level_id": a.level_id,
                "status": a.status,
                "training_done": a.training_done,
                "training_note": a.training_note,
                "supervised_cases": a.supervised_cases,
                "supervision_hours": a.supervision_hours,
                "statement": a.statement,
                "supervisor": {"name": a.supervisor_name, "email": a.supervisor_email},
                "supervisor_answer": a.supervisor_answer,
                "supervisor_comment": a.supervisor_comment,
                "created_at": _iso(a.created_at),
                "decided_at": _iso(a.decided_at),
                "reason": a.reason,
                "files": [{"filename": f.filename, "uploaded_at": _iso(f.uploaded_at)} for f in a.files],
                "messages": [
                    {"at": _iso(m.at), "from": m.author, "name": m.author_name, "body": m.body}
                    for m in a.messages
                ],
            }
            for a in applications
        ],
        "cpd": [
            {
                "done_on": _iso(e.done_on),
                "activity": e.activity,
                "hours": str(e.hours),
                "category": e.category,
                "reflection": e.reflection,
                "from_check_in": e.event_id is not None,
                "evidence": e.evidence_name,
            }
            for e in session.scalars(
                select(CpdEntry)
                .where(CpdEntry.member_id == member.id)
                .order_by(CpdEntry.done_on, CpdEntry.id)
            )
        ],
    }


def export_register(session: Session, member: Member) -> tuple[str, Any]:
    """The register's status set on them and their Find a Therapist profile (the photo named, not its bytes)."""
    status = session.scalar(select(RegisterStatus).where(RegisterStatus.member_id == member.id))
    profile = session.scalar(select(PracticeProfile).where(PracticeProfile.member_id == member.id))
    names = ("published", "practice_name", "towns", "region", "outward_code", "delivery", "modalities",
             "client_groups", "languages", "fee_from", "fee_to", "description", "website", "phone")  # fmt: skip
    return "register", {
        "status": None
        if status is None
        else {"status": status.status, "wording": status.wording, "set_at": _iso(status.updated_at)},
        "practice_profile": None
        if profile is None
        else {
            **{name: getattr(profile, name) for name in names},
            "photo": f"{len(profile.photo)} bytes" if profile.photo else None,
            "updated_at": _iso(profile.updated_at),
        },
    }


EXPORTERS = (export_applications, export_payments, export_accreditation, export_register)


# --- erasure: each room's tables --------------------------------------------------------------------------------


def _blank_buyer(invoice: Invoice | None) -> None:
    """The buyer on an invoice: the name and e-mail go; the number, lines and figures an invoice must keep
    stay (the lines name a membership number, not a person)."""
    if invoice is None:
        return
    buyer = json.loads(invoice.buyer or "{}")
    invoice.buyer = json.dumps({**dict.fromkeys(buyer, ""), "name": members.ERASED_NAME})


def erase_applications(session: Session, member: Member, now: datetime) -> None:
    for application in _applications_of(session, member):
        application.first_name = ""
        application.last_name = members.ERASED_NAME
        application.email = ""
        application.address = ""
        application.profession = ""
        application.registration_body = ""
        application.registration_number = ""
        application.training = ""
        application.answer_digest = None
        application.updated_at = now
        session.execute(delete(ApplicationFile).where(ApplicationFile.application_id == application.id))
        session.execute(delete(ApplicationMessage).where(ApplicationMessage.application_id == application.id))
        _blank_buyer(session.get(Invoice, application.invoice_id) if application.invoice_id else None)
        session.expire(application, ["files", "messages"])
    for renewal in session.scalars(select(Renewal).where(Renewal.member_id == member.id)):
        renewal.note = ""
        _blank_buyer(session.get(Invoice, renewal.invoice_id) if renewal.invoice_id else None)


def _registrations_of(session: Session, member: Member) -> list[Registration]:
    condition = Registration.member_id == member.id
    if member.email:
        condition = or_(condition, Registration.email == member.email)
    return list(session.scalars(select(Registration).where(condition).order_by(Registration.id)))


def erase_bookings(session: Session, member: Member, now: datetime) -> None:
    for registration in _registrations_of(session, member):
        registration.first_name = ""
        registration.last_name = members.ERASED_NAME
        registration.email = f"erased-{registration.id}@erased.invalid"
        registration.updated_at = now
        session.execute(delete(Answer).where(Answer.registration_id == registration.id))
        session.expire(registration, ["answers"])
        for payment in session.scalars(select(Payment).where(Payment.registration_id == registration.id)):
            payment.note = ""
        _blank_buyer(session.scalar(select(Invoice).where(Invoice.registration_id == registration.id)))


def erase_accreditation(session: Session, member: Member, now: datetime) -> None:
    """CPD: what was done, the reflections and the evidence go; the dates, hours and kinds stay for the counts.
    Applications for a level: what the member and their supervisor wrote, and the files, go; the level, the
    status and the dates stay."""
    for entry in session.scalars(select(CpdEntry).where(CpdEntry.member_id == member.id)):
        entry.activity = ""
        entry.reflection = ""
        entry.evidence_name, entry.evidence_type, entry.evidence = "", "", None
    for holding in session.scalars(select(Holding).where(Holding.member_id == member.id)):
        holding.conditions = ""
    applications = select(LevelApplication.id).where(LevelApplication.member_id == member.id)
    session.execute(delete(LevelApplicationFile).where(LevelApplicationFile.application_id.in_(applications)))
    session.execute(
        delete(LevelApplicationMessage).where(LevelApplicationMessage.application_id.in_(applications))
    )
    for application in session.scalars(
        select(LevelApplication).where(LevelApplication.member_id == member.id)
    ):
        application.training_note = application.statement = application.reason = ""
        application.supervisor_name = application.supervisor_email = application.supervisor_comment = ""
        application.supervisor_digest = None
        session.expire(application, ["files", "messages"])


def erase_nominations(session: Session, member: Member, now: datetime) -> None:
    for nomination in session.scalars(select(Nomination).where(Nomination.member_id == member.id)):
        nomination.statement = ""
        nomination.photo = None


def erase_mail(session: Session, member: Member, now: datetime) -> None:
    """E-mails to the member still in the outbox (the sent ones go with the outbox's own retention, but a
    failed one is kept), and the throttles' records of their address."""
    if not member.email:
        return
    emails = select(OutboxEmail.id).where(OutboxEmail.to_addr == member.email)
    session.execute(delete(OutboxAttachment).where(OutboxAttachment.email_id.in_(emails)))
    session.execute(delete(OutboxEmail).where(OutboxEmail.to_addr == member.email))
    session.execute(delete(MailRequest).where(MailRequest.email == member.email))
    session.execute(delete(LoginAttempt).where(LoginAttempt.email == member.email))


def erase_register(session: Session, member: Member, now: datetime) -> None:
    """The practice profile goes (it is the member's own words and photo); the register's status stays."""
    session.execute(delete(PracticeProfile).where(PracticeProfile.member_id == member.id))
    session.execute(delete(RelayedMessage).where(RelayedMessage.member_id == member.id))


ERASERS = (
    erase_applications, erase_bookings, erase_accreditation, erase_nominations, erase_register, erase_mail,
)  # fmt: skip


# --- the periodic erasure ---------------------------------------------------------------------------------------


def years_before(day: date, years: int) -> date:
    """The same day `years` earlier (29 February's is 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _due(session: Session, *, now: datetime) -> Any:
    """The condition for a former member due for erasure on the UK day of `now`: resigned (on `left_on`, or
    without a day kept when their membership lapsed) or lapsed by the clock (the day after the grace period
    ends) at least the society's years ago, and not erased yet."""
    settings = membership_settings(session)
    cutoff = years_before(london_day(now), settings.erase_after_years)
    # Lapsed on renewal_on + grace + 1, on or before the cut-off: renewal_on before cut-off - grace.
    lapsed_by = cutoff - timedelta(days=settings.grace_days)
    return and_(
        Member.erased_at.is_(None),
        or_(
            and_(Member.status == "resigned", Member.left_on.is_not(None), Member.left_on <= cutoff),
            and_(
                Member.status == "resigned",
                Member.left_on.is_(None),
                Member.renewal_on.is_not(None),
                Member.renewal_on < lapsed_by,
            ),
            and_(
                Member.status.in_(("active", "lapsed")),
                Member.renewal_on.is_not(None),
                Member.renewal_on < lapsed_by,
            ),
        ),
    )


def due_for_erasure(session: Session, *, now: datetime) -> list[int]:
    return list(session.scalars(select(Member.id).where(_due(session, now=now)).order_by(Member.id)))


def erase_if_due(session: Session, *, member_id: int, now: datetime) -> bool:
    """Erase one former member if they are (still) due: checked again in this transaction, then claimed with
    one conditional UPDATE, so when two workers get here at once only one erases and writes the audit entry."""
    member = session.scalar(select(Member).where(Member.id == member_id, _due(session, now=now)))
    if member is None or not members.claim_erasure(session, member, now=now):
        return False
    members.erase_claimed(session, member, actor_label=AUTOMATIC, now=now, erasers=ERASERS)
    audit.record(
        session,
        actor=None,
        action="member.erase_due",
        subject=member.membership_number,
        details={"after_years": membership_settings(session).erase_after_years},
        now=now,
    )
    return True


def erase_due(database: Database, *, now: datetime) -> int:
    """Erase every former member now due, each in a transaction of its own; how many this call erased."""
    with database.session(write=False) as session:
        candidates = due_for_erasure(session, now=now)
    erased = 0
    for member_id in candidates:
        with database.session(write=True) as session:
            erased += erase_if_due(session, member_id=member_id, now=now)
    return erased


def run_once(app: Any) -> int:
    """The app's periodic job."""
    erased = erase_due(app.state.db, now=app.state.clock())
    if erased:
        log.info("privacy: %s former member(s) erased", erased)
    return erased
