"""The membership ledger: every sum paid for a membership, written by whichever path recorded it, in the same
transaction as what the payment changed.

A first fee and a renewal are each paid once (their own conditional update decides: `fee_paid_on`,
`Renewal.paid_on`), and that step calls `record` here, so the card webhook, the browser's return, the
reconciliation, the office's hand entry and a bank statement's line all leave the same row. A provider's
reference (`stripe:<session>`, a bank line's fingerprint) is unique, so the same money is never entered twice
even by two imports of one statement at once. My membership's receipts, the income report and the data
export read it (docs/payments.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.models import Account
from portal.events.models import CardCheckout
from portal.membership.models import PAYMENT_METHODS, PAYMENT_SOURCES, MembershipPayment

CURRENCY = "GBP"


@dataclass(frozen=True)
class Paid:
    """How a payment arrived, as the path recording it knows it: passed down to the step that applies it."""

    method: str = "bank_transfer"
    source: str = "staff"
    #: Unique when given (`stripe:<session id>`, a bank line's fingerprint); None for a hand entry.
    provider_ref: str | None = None


def by_card(checkout: CardCheckout) -> Paid:
    """A paid Checkout Session, as the ledger records it (its session id keeps the row unique)."""
    return Paid(method="card", source="stripe", provider_ref=f"stripe:{checkout.session_id}")


def card_paid_twice(
    session: Session, checkout: CardCheckout, *, action: str, subject: str, now: datetime
) -> None:
    """A card payment for something already paid another way: audited for the office to refund, nothing else."""
    audit.record(
        session,
        actor=None,
        action=action,
        subject=subject,
        details={"amount": checkout.amount, "session": checkout.session_id},
        now=now,
    )


def record(
    session: Session,
    *,
    purpose: str,
    paid: Paid,
    member_id: int | None,
    category: str,
    amount: int,
    received_on: date,
    actor: Account | None,
    now: datetime,
    application_id: int | None = None,
    renewal_id: int | None = None,
    invoice_id: int | None = None,
    reference: str = "",
    kind: str = "payment",
) -> MembershipPayment:
    """One row of the ledger, in the caller's transaction, flushed with the caller's next statement (a
    provider reference seen before then raises IntegrityError, which the statement import's savepoint turns
    into "imported a moment ago")."""
    assert paid.method in PAYMENT_METHODS and paid.source in PAYMENT_SOURCES, paid
    row = MembershipPayment(
        purpose=purpose,
        kind=kind,
        member_id=member_id,
        category=category,
        application_id=application_id,
        renewal_id=renewal_id,
        invoice_id=invoice_id,
        amount=amount,
        currency=CURRENCY,
        method=paid.method,
        source=paid.source,
        provider_ref=paid.provider_ref[:255] if paid.provider_ref else None,
        reference=reference[:20],
        received_on=received_on,
        recorded_at=now,
        recorded_by_id=actor.id if actor is not None else None,
        recorded_by=(audit.actor_label(actor) if actor is not None else "Payment provider")[:300],
    )
    session.add(row)
    return row


def of_member(session: Session, member_id: int) -> list[MembershipPayment]:
    """A member's payments and refunds, newest first."""
    return list(
        session.scalars(
            select(MembershipPayment)
            .where(MembershipPayment.member_id == member_id)
            .order_by(MembershipPayment.id.desc())
        )
    )


def imported(session: Session, refs: list[str]) -> set[str]:
    """Which of these provider references the ledger holds already."""
    if not refs:
        return set()
    return set(
        session.scalars(
            select(MembershipPayment.provider_ref).where(MembershipPayment.provider_ref.in_(refs))
        )
    )
