"""Renewals: the renewal date, reminders before it, renewing (by invoice today; a card provider plugs into
`RenewalProvider`), payments staff record by hand, and a member's change of category.

Where a member stands is computed from the clock (`members.standing`); nothing here flips a status when a
date passes. Paying a renewal moves the renewal date on by one membership year: from the current renewal date
when the member renews before lapsing (early, or within the grace period), from the day of payment when they
had lapsed. Each reminder (30 and 7 days before, and on the day) is one row per member, renewal date and kind,
inserted with "on conflict do nothing": whichever worker inserts it sends the e-mail, in the same transaction,
so it goes exactly once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from portal import audit
from portal.accounts.models import Account
from portal.db import Database, rowcount
from portal.errors import Kind
from portal.events import cards, invoices
from portal.events.models import CardCheckout, Invoice
from portal.events.payments import reference_for
from portal.mail import service as mail
from portal.members import service as members
from portal.members.models import Member, MemberCategory
from portal.members.standing import london_day, standing
from portal.membership import ledger
from portal.membership.errors import Code, MembershipError
from portal.membership.fees import CURRENCY, DUE_DAYS
from portal.membership.links import Links
from portal.membership.models import (
    PAYMENT_METHODS,
    REMINDER_KINDS,
    RENEWAL_METHODS,
    Application,
    Renewal,
    RenewalReminder,
)
from portal.membership.periods import _anniversary, next_start
from portal.society.models import MembershipSettings
from portal.society.service import membership_settings, payment_settings, society_name

log = logging.getLogger("portal.membership")

REFERENCE_PREFIX = "REN"
#: How often the periodic job looks for reminders to send.
INTERVAL_SECONDS = 3600.0
#: A reminder missed while the portal was down is still sent this many days late (then it is skipped).
LATE_DAYS = 3
#: The largest amount a payment recorded by hand may be, in pence: anything above is a typing slip.
MAX_AMOUNT = 10_000_000


# --- the renewal date -----------------------------------------------------------------------------------------


def next_renewal(settings: MembershipSettings, *, member: Member, paid_on: date, grace_days: int) -> date:
    """The renewal date one membership year on: from the current date unless the member had lapsed, when the
    year starts again from the day they paid."""
    base = member.renewal_on
    if base is None or paid_on >= base + timedelta(days=grace_days + 1):
        base = paid_on
        if settings.year_kind == "fixed":
            return next_start(settings, base)
        return _anniversary(base)
    if settings.year_kind == "fixed":
        return next_start(settings, base)
    return _anniversary(base)


def member_standing(session: Session, member: Member, now: datetime) -> str:
    """`standing` with the society's grace period."""
    return standing(member, now, grace_days=membership_settings(session).grace_days)


# --- reminders ------------------------------------------------------------------------------------------------

_INSERT_REMINDER = {
    "sqlite": sqlite.insert(RenewalReminder).on_conflict_do_nothing().returning(RenewalReminder.id),
    "postgresql": postgresql.insert(RenewalReminder).on_conflict_do_nothing().returning(RenewalReminder.id),
}


def _claim(connection: Connection, values: dict[str, Any]) -> bool:
    return connection.execute(_INSERT_REMINDER[connection.dialect.name], values).scalar() is not None


def reminder_due(renewal_on: date, today: date) -> str | None:
    """The reminder that is due on `today` for a renewal date (the latest one whose day has come, sent up to
    `LATE_DAYS` late), or None."""
    for kind, days in sorted(REMINDER_KINDS.items(), key=lambda kv: kv[1]):
        day = renewal_on - timedelta(days=days)
        if day <= today <= day + timedelta(days=LATE_DAYS):
            return kind
    return None


def send_reminders(session: Session, *, now: datetime, links: Links) -> int:
    """Send every renewal reminder due today that has not been sent; how many this call sent."""
    today = london_day(now)
    candidates = session.scalars(
        select(Member)
        .where(
            Member.status == "active",
            Member.erased_at.is_(None),
            Member.email.is_not(None),
            Member.renewal_on.is_not(None),
            Member.renewal_on >= today - timedelta(days=LATE_DAYS),
            Member.renewal_on <= today + timedelta(days=max(REMINDER_KINDS.values())),
        )
        .order_by(Member.id)
    ).all()
    sent = 0
    connection = session.connection()
    name = society_name(session)
    for member in candidates:
        assert member.renewal_on is not None and member.email is not None
        kind = reminder_due(member.renewal_on, today)
        if kind is None:
            continue
        values = {"member_id": member.id, "renewal_on": member.renewal_on, "kind": kind, "sent_at": now}
        if not _claim(connection, values):
            continue
        category = session.scalar(select(MemberCategory).where(MemberCategory.code == member.category))
        mail.enqueue(
            session,
            to=member.email,
            template="membership/renewal_reminder",
            context={
                "society_name": name,
                "name": member.first_name,
                "membership_number": member.membership_number,
                "renewal_on": member.renewal_on,
                "days": REMINDER_KINDS[kind],
                "amount": invoices.amount_text(category.annual_fee if category else 0, CURRENCY),
                "renew_link": links.url("membership:renew"),
            },
            now=now,
        )
        sent += 1
    return sent


def run_reminders(database: Database, *, now: datetime, links: Links) -> int:
    with database.session(write=True) as session:
        return send_reminders(session, now=now, links=links)


def run_once(app: Any) -> int:
    """The app's periodic job: send the renewal reminders due now; how many went."""
    state = app.state
    sent = run_reminders(state.db, now=state.clock(), links=Links.for_app(app))
    if sent:
        log.info("membership: %s renewal reminder(s) sent", sent)
    return sent


# --- renewing -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenewalRequest:
    """What the member is asked to do to renew: shown on My membership and e-mailed."""

    method: str
    amount: int
    currency: str
    reference: str
    instructions: str
    invoice: Invoice | None


class RenewalProvider(Protocol):
    """A way to take a renewal's fee: bank transfer (an invoice) now; a card provider returns a checkout
    link and records the payment with `record_paid` when its webhook says so."""

    name: str

    def request_fee(
        self, session: Session, *, renewal: Renewal, member: Member, now: datetime
    ) -> RenewalRequest: ...


class BankTransferRenewals:
    """A numbered invoice in the one invoice series, to pay by bank transfer quoting a `REN…` reference."""

    name = "bank_transfer"

    def request_fee(
        self, session: Session, *, renewal: Renewal, member: Member, now: datetime
    ) -> RenewalRequest:
        reference = reference_for(renewal.id, prefix=REFERENCE_PREFIX)
        details = payment_settings(session).as_text()
        due_on = london_day(now) + timedelta(days=DUE_DAYS)
        category = session.scalar(select(MemberCategory).where(MemberCategory.code == renewal.category))
        label = category.label if category else renewal.category
        to = renewal.renewal_to.strftime("%-d %B %Y") if renewal.renewal_to else "renewal"
        invoice = invoices.issue_numbered(
            session,
            lines=[
                {
                    "description": f"Membership renewal ({label}), to {to}, "
                    f"membership number {member.membership_number}",
                    "amount": renewal.amount,
                }
            ],
            currency=CURRENCY,
            tax_label="VAT",
            tax_rate_bp=0,
            due_on=due_on,
            buyer={"name": member.full_name, "email": member.email or ""},
            reference=reference,
            payment_details=details,
            now=now,
        )
        instructions = "\n".join(
            line
            for line in (
                f"Please pay {invoices.amount_text(renewal.amount, CURRENCY)} by bank transfer by "
                f"{due_on.strftime('%-d %B %Y')}, quoting the reference {reference}.",
                details,
            )
            if line
        )
        return RenewalRequest(self.name, renewal.amount, CURRENCY, reference, instructions, invoice)


def open_renewal(session: Session, member_id: int) -> Renewal | None:
    """The member's renewal asked for and not yet paid, if any."""
    return session.scalar(
        select(Renewal)
        .where(Renewal.member_id == member_id, Renewal.paid_on.is_(None))
        .order_by(Renewal.id.desc())
        .limit(1)
    )


def request_renewal(
    session: Session,
    *,
    member_id: int,
    now: datetime,
    provider: RenewalProvider | None = None,
    tell: bool = True,
) -> Renewal:
    """The member asks to renew: a renewal for the next year at their category's fee, with its invoice (the
    one already open is given again: pressing twice never bills twice). A free category renews at once.
    `tell=False` when the member pays by card there and then: the invoice is not e-mailed with its bank
    transfer instructions (it stays on My membership, and the payment's receipt with it)."""
    member = members.get_member(session, member_id, lock=True)
    _renewable(member)
    found = open_renewal(session, member.id)
    if found is not None:
        return found
    settings = membership_settings(session)
    category = session.scalar(select(MemberCategory).where(MemberCategory.code == member.category))
    amount = category.annual_fee if category is not None else 0
    today = london_day(now)
    renewal = Renewal(
        member_id=member.id,
        category=member.category,
        amount=amount,
        method=(provider or BankTransferRenewals()).name,
        renewal_from=member.renewal_on,
        renewal_to=next_renewal(settings, member=member, paid_on=today, grace_days=settings.grace_days),
        created_at=now,
        recorded_by="",
        note="",
    )
    session.add(renewal)
    session.flush()
    audit.record(
        session,
        actor=None,
        action="membership.renewal_requested",
        subject=member.membership_number,
        details={"renewal": renewal.id, "amount": amount},
        now=now,
    )
    if amount == 0:
        renewal.paid_on = today
        renewal.recorded_by = "The member (a free category)"
        _apply_payment(
            session, renewal=renewal, member=member, paid_on=today, actor_label="The member", now=now
        )
        return renewal
    request = (provider or BankTransferRenewals()).request_fee(
        session, renewal=renewal, member=member, now=now
    )
    renewal.reference = request.reference
    renewal.invoice_id = request.invoice.id if request.invoice is not None else None
    session.flush()
    if member.email and tell:
        attachments = invoices.invoice_attachments(request.invoice)
        mail.enqueue(
            session,
            to=member.email,
            template="membership/renewal_invoice",
            context={
                "society_name": society_name(session),
                "name": member.first_name,
                "membership_number": member.membership_number,
                "renewal_to": renewal.renewal_to,
                "amount": invoices.amount_text(request.amount, request.currency),
                "instructions": request.instructions,
                "invoice": request.invoice.label if request.invoice is not None else "",
            },
            now=now,
            attachments=attachments,
        )
    return renewal


def _apply_payment(
    session: Session, *, renewal: Renewal, member: Member, paid_on: date, actor_label: str, now: datetime
) -> None:
    """Move the member's renewal date on (from where it stands now: the renewal may have been asked for before
    the member lapsed) and make a lapsed member active again."""
    settings = membership_settings(session)
    new_date = next_renewal(settings, member=member, paid_on=paid_on, grace_days=settings.grace_days)
    renewal.renewal_from = member.renewal_on
    renewal.renewal_to = new_date
    changes: dict[str, list[Any]] = {}
    if member.renewal_on != new_date:
        changes["renewal_on"] = [members.json_value(member.renewal_on), new_date.isoformat()]
        member.renewal_on = new_date
    if member.status == "lapsed":
        changes["status"] = ["lapsed", "active"]
        member.status = "active"
    member.updated_at = now
    # Flushed with what the caller writes next (the ledger's row and the audit entry): one unit of work.
    members.record_change(
        session, member=member, changes=changes, actor=actor_label, source="renewal", now=now
    )


def record_paid(
    session: Session,
    *,
    renewal_id: int,
    paid_on: date,
    actor: Account | None,
    now: datetime,
    paid: ledger.Paid = ledger.Paid(),
    member_id: int | None = None,
) -> Renewal:
    """The renewal's invoice has been paid (staff saw it on the statement, a statement's line quoted its
    reference, or the card provider said so): the renewal date moves on one membership year, and the payment
    is entered in the ledger. Once only: a second call is refused. `member_id`, when given, must be the
    renewal's (a staff page names both)."""
    renewal = session.get(Renewal, renewal_id)
    if renewal is None or (member_id is not None and renewal.member_id != member_id):
        raise MembershipError(Code.NOT_FOUND, "There is no such renewal.", kind=Kind.NOT_FOUND)
    label = audit.actor_label(actor) if actor is not None else "Payment provider"
    claimed = {"paid_on": paid_on, "method": paid.method, "recorded_by": label[:300]}
    moved = rowcount(
        session.execute(
            update(Renewal)
            .where(Renewal.id == renewal.id, Renewal.paid_on.is_(None))
            .values(**claimed)
            .execution_options(synchronize_session=False)
        )
    )
    if moved != 1:
        raise MembershipError(Code.NOTHING_OWED, "This renewal has already been paid.", kind=Kind.CONFLICT)
    for name, value in claimed.items():  # what the update wrote, without reading the row back
        set_committed_value(renewal, name, value)
    member = members.get_member(session, renewal.member_id, lock=True)
    _apply_payment(session, renewal=renewal, member=member, paid_on=paid_on, actor_label=label, now=now)
    if renewal.amount > 0:
        ledger.record(
            session,
            purpose="renewal",
            paid=paid,
            member_id=member.id,
            category=renewal.category,
            amount=renewal.amount,
            received_on=paid_on,
            actor=actor,
            now=now,
            renewal_id=renewal.id,
            invoice_id=renewal.invoice_id,
            reference=renewal.reference,
        )
    if member.email and renewal.amount > 0 and renewal.renewal_to is not None:
        mail.enqueue(
            session,
            to=member.email,
            template="membership/renewal_paid",
            context={
                "society_name": society_name(session),
                "name": member.first_name,
                "membership_number": member.membership_number,
                "amount": invoices.amount_text(renewal.amount, CURRENCY),
                "method": PAYMENT_METHODS.get(paid.method, paid.method).lower(),
                "renewal_to": renewal.renewal_to,
            },
            now=now,
        )
    audit.record(
        session,
        actor=actor,
        action="membership.renewal_paid",
        subject=member.membership_number,
        details={
            "renewal": renewal.id,
            "amount": renewal.amount,
            "method": renewal.method,
            "source": paid.source,
            "reference": renewal.reference,
            "renewal_on": renewal.renewal_to.isoformat() if renewal.renewal_to else None,
        },
        now=now,
    )
    return renewal


# --- renewing by card ------------------------------------------------------------------------------------------

#: A renewal's Checkout Session (`CardCheckout.purpose`): its target is the member, and its invoice the
#: renewal's, which is how the confirmer finds the renewal it pays.
CARD_PURPOSE = "renewal"


def _renewable(member: Member) -> None:
    if member.status in ("resigned", "pending") or member.erased_at is not None:
        raise MembershipError(
            Code.WRONG_STATUS,
            "This membership cannot be renewed here: please contact the office.",
            kind=Kind.CONFLICT,
        )


def card_plan(session: Session, *, member_id: int, success_url: str, cancel_url: str) -> cards.CheckoutPlan:
    """The Checkout Session for a member's renewal: the open renewal's amount, or a year at the category's fee
    when none is asked for yet (the renewal and its invoice are then made in the write that stores the
    session, `card_checkout`). Read alike by the route's look and its write, so the two can be compared."""
    member = members.get_member(session, member_id)
    _renewable(member)
    found = open_renewal(session, member.id)
    code = found.category if found is not None else member.category
    category = session.scalar(select(MemberCategory).where(MemberCategory.code == code))
    amount = found.amount if found is not None else (category.annual_fee if category is not None else 0)
    if amount <= 0:
        raise MembershipError(Code.NOTHING_OWED, "Nothing is owed to renew.", kind=Kind.CONFLICT)
    return cards.CheckoutPlan(
        purpose=CARD_PURPOSE,
        target_id=member.id,
        amount=amount,
        currency=CURRENCY,
        description=f"Membership renewal ({category.label if category else code}), "
        f"membership number {member.membership_number}",
        reference=member.membership_number,
        # The open renewal's invoice; none yet when the renewal is made with the session (`card_checkout`).
        invoice_id=found.invoice_id if found is not None else None,
        email=member.email or "",
        success_url=success_url,
        cancel_url=cancel_url,
    )


def card_checkout(
    session: Session, *, member_id: int, created: Any, now: datetime, success_url: str, cancel_url: str
) -> CardCheckout:
    """Renew by card, in the request's short write: the plan checked against what Stripe was asked for (see
    `cards.start_checkout`; the open session is reused), the renewal and its invoice made if the member had
    not asked yet, and the checkout tied to that invoice. Refused, it leaves nothing (the caller's savepoint)."""
    plan = card_plan(session, member_id=member_id, success_url=success_url, cancel_url=cancel_url)
    checkout = cards.start_checkout(session, plan, created, now=now)
    renewal = request_renewal(session, member_id=member_id, now=now, tell=False)
    if checkout.invoice_id is None and renewal.invoice_id is not None:
        checkout.invoice_id = renewal.invoice_id
        session.flush()
    return checkout


def _checkout_renewal(session: Session, checkout: CardCheckout) -> Renewal | None:
    if checkout.invoice_id is not None:
        return session.scalar(
            select(Renewal).where(
                Renewal.member_id == checkout.target_id, Renewal.invoice_id == checkout.invoice_id
            )
        )
    return open_renewal(session, checkout.target_id)


def card_renewal_paid(session: Session, checkout: CardCheckout, *, now: datetime, app: Any) -> None:
    """A paid Checkout Session for a renewal: recorded as staff would record it (`record_paid`: the renewal
    date moved on, the ledger written). Paid already (by hand, or by a statement's line): the card payment is
    audited for the office to refund from the member's renewals page, and nothing else changes."""
    renewal = _checkout_renewal(session, checkout)
    try:
        if renewal is None:
            raise MembershipError(Code.NOT_FOUND, "There is no such renewal.", kind=Kind.NOT_FOUND)
        record_paid(
            session,
            renewal_id=renewal.id,
            paid_on=london_day(now),
            actor=None,
            now=now,
            paid=ledger.by_card(checkout),
        )
    except MembershipError:
        ledger.card_paid_twice(
            session,
            checkout,
            action="membership.renewal_paid_twice",
            subject=f"member {checkout.target_id}",
            now=now,
        )


def card_renewal_refunded(
    session: Session, checkout: CardCheckout, *, refund_id: str, actor: Account, now: datetime
) -> None:
    """A renewal's card payment paid back through Stripe: a refund row in the ledger (the renewal date stays
    where it is: the office changes it by hand if the membership is to end)."""
    renewal = _checkout_renewal(session, checkout)
    member = members.get_member(session, checkout.target_id)
    ledger.record(
        session,
        purpose="renewal",
        kind="refund",
        paid=ledger.Paid(method="card", source="stripe", provider_ref=f"stripe-refund:{refund_id}"),
        member_id=member.id,
        category=renewal.category if renewal is not None else member.category,
        amount=checkout.amount,
        received_on=london_day(now),
        actor=actor,
        now=now,
        renewal_id=renewal.id if renewal is not None else None,
        invoice_id=checkout.invoice_id,
        reference=renewal.reference if renewal is not None else "",
    )


cards.register(CARD_PURPOSE, card_renewal_paid, card_renewal_refunded)


@dataclass(frozen=True)
class ManualRenewal:
    """A payment staff record by hand (a cheque, a bank transfer seen on the statement)."""

    paid_on: date
    amount: int
    method: str
    note: str = ""


def check_manual(data: ManualRenewal, *, today: date) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.paid_on > today:
        errors["paid_on"] = "The date paid cannot be in the future."
    if not 0 <= data.amount <= MAX_AMOUNT:
        errors["amount"] = "Enter the amount paid, from £0 to £100,000."
    if data.method not in RENEWAL_METHODS:
        errors["method"] = "Choose how it was paid."
    if len(data.note) > 2000:
        errors["note"] = "Keep the note to 2000 characters."
    return errors


def record_manual(
    session: Session, *, member_id: int, data: ManualRenewal, actor: Account, now: datetime
) -> Renewal:
    """Staff record a renewal paid by hand. An open renewal invoice is settled by it; otherwise a renewal row
    is made for the payment. Audited with the date, amount, method and note."""
    errors = check_manual(data, today=london_day(now))
    if errors:
        field, message = next(iter(errors.items()))
        raise MembershipError(Code.BAD_VALUE, message, field=field)
    member = members.get_member(session, member_id, lock=True)
    if member.erased_at is not None or member.status in ("resigned", "pending"):
        raise MembershipError(
            Code.WRONG_STATUS, "Only an active or lapsed member can renew.", kind=Kind.CONFLICT
        )
    renewal = open_renewal(session, member.id)
    if renewal is None:
        renewal = Renewal(
            member_id=member.id,
            category=member.category,
            amount=data.amount,
            method=data.method,
            reference="",
            renewal_from=member.renewal_on,
            created_at=now,
            recorded_by="",
            note="",
        )
        session.add(renewal)
        session.flush()
    renewal.amount = data.amount
    renewal.note = data.note.strip()
    session.flush()
    return record_paid(
        session,
        renewal_id=renewal.id,
        paid_on=data.paid_on,
        actor=actor,
        now=now,
        paid=ledger.Paid(method=data.method, source="staff"),
    )


def change_category(
    session: Session, *, member_id: int, category: str, actor: Account, now: datetime
) -> Member:
    """Move a member to another category (a trainee who qualifies becomes a full member): their next
    renewal is at the new category's fee; kept in their history and audited."""
    member = members.get_member(session, member_id, lock=True)
    found = session.scalar(select(MemberCategory).where(MemberCategory.code == category))
    if found is None:
        raise MembershipError(Code.BAD_VALUE, "Choose a category.", field="category")
    if member.category == category:
        return member
    before = member.category
    member.category = category
    member.updated_at = now
    label = audit.actor_label(actor)
    members.record_change(
        session, member=member, changes={"category": [before, category]}, actor=label, source="staff", now=now
    )
    # An invoice asked for at the old fee stands (it was issued); the next one follows the new category.
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="membership.category_changed",
        subject=member.membership_number,
        details={"from": before, "to": category},
        now=now,
    )
    return member


# --- what My membership shows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    """One line of My membership's receipts: a payment from the ledger (or a refund), or an invoice still to
    pay (`paid_on` None)."""

    invoice: Invoice | None
    paid_on: date | None
    what: str
    amount: int
    #: How it was paid ("Card", "Bank transfer"), empty while unpaid.
    method: str = ""


def receipts(session: Session, member_id: int) -> list[Receipt]:
    """The member's membership receipts, newest first, read from the ledger (every path that records a
    payment writes it), after the invoices still to pay (the first fee's, an open renewal's)."""
    found: list[Receipt] = []
    payments = ledger.of_member(session, member_id)
    wanted = {p.invoice_id for p in payments if p.invoice_id is not None}
    unpaid: list[tuple[int | None, int, str]] = []
    for application in session.scalars(
        select(Application).where(
            Application.member_id == member_id,
            Application.invoice_id.is_not(None),
            Application.fee_paid_on.is_(None),
        )
    ):
        unpaid.append((application.invoice_id, application.fee_amount, "First year"))
    renewal = open_renewal(session, member_id)
    if renewal is not None and renewal.invoice_id is not None:
        unpaid.append((renewal.invoice_id, renewal.amount, "Renewal"))
    wanted |= {invoice_id for invoice_id, _amount, _what in unpaid if invoice_id is not None}
    by_id = (
        {i.id: i for i in session.scalars(select(Invoice).where(Invoice.id.in_(wanted)))} if wanted else {}
    )
    for invoice_id, amount, what in unpaid:
        found.append(Receipt(by_id.get(invoice_id) if invoice_id else None, None, what, amount))
    for payment in payments:
        what = "First year" if payment.purpose == "first_fee" else "Renewal"
        found.append(
            Receipt(
                by_id.get(payment.invoice_id) if payment.invoice_id else None,
                payment.received_on,
                what if payment.kind == "payment" else f"Refund ({what.lower()})",
                payment.amount,
                PAYMENT_METHODS.get(payment.method, payment.method),
            )
        )
    return found


def member_invoice(session: Session, *, member_id: int, invoice_id: int) -> Invoice:
    """One of the member's own membership invoices (another's is not found)."""
    for receipt in receipts(session, member_id):
        if receipt.invoice is not None and receipt.invoice.id == invoice_id:
            return receipt.invoice
    raise MembershipError(Code.NOT_FOUND, "There is no such invoice.", kind=Kind.NOT_FOUND)


@dataclass(frozen=True)
class Summary:
    """My membership: where the member stands, what renewing costs, what is owed now, and the receipts."""

    member: Member
    category_label: str
    standing: str
    lapses_on: date | None
    #: The category's annual fee: what renewing costs.
    fee: int
    #: A renewal asked for and not paid (its invoice to pay), or None.
    open: Renewal | None
    #: Renewing is offered: the renewal date is within 60 days, passed, or the member has lapsed.
    can_renew: bool
    #: The first fee, when the member is still waiting for it to be paid (approved, invoice sent).
    first_fee: Application | None
    receipts: list[Receipt]


#: How long before the renewal date the Renew button shows.
RENEW_FROM_DAYS = 60


def summary(session: Session, *, member_id: int, now: datetime) -> Summary:
    member = members.get_member(session, member_id)
    settings = membership_settings(session)
    found = standing(member, now, grace_days=settings.grace_days)
    category = session.scalar(select(MemberCategory).where(MemberCategory.code == member.category))
    today = london_day(now)
    near = member.renewal_on is not None and member.renewal_on - timedelta(days=RENEW_FROM_DAYS) <= today
    first_fee = None
    if found == "pending":
        first_fee = session.scalar(
            select(Application).where(Application.member_id == member.id, Application.fee_paid_on.is_(None))
        )
    return Summary(
        member=member,
        category_label=category.label if category else member.category,
        standing=found,
        lapses_on=(
            member.renewal_on + timedelta(days=settings.grace_days + 1)
            if member.renewal_on is not None
            else None
        ),
        fee=category.annual_fee if category else 0,
        open=open_renewal(session, member.id),
        can_renew=found in ("grace", "lapsed") or (found == "active" and near),
        first_fee=first_fee,
        receipts=receipts(session, member.id),
    )


def renewals_of(session: Session, member_id: int) -> list[Renewal]:
    return list(
        session.scalars(select(Renewal).where(Renewal.member_id == member_id).order_by(Renewal.id.desc()))
    )


def open_invoice(session: Session, renewal: Renewal | None) -> Invoice | None:
    return session.get(Invoice, renewal.invoice_id) if renewal is not None and renewal.invoice_id else None


def methods() -> dict[str, str]:
    return dict(RENEWAL_METHODS)
