"""Asking for a membership fee, through a payment provider.

`FeeProvider` is the seam a card provider plugs into: it is asked for the fee when an application is approved
(`request_fee`) and returns what the new member is told to do; the money is then recorded by
`service.record_first_fee`, by staff today (a bank transfer they see on the statement) and by a provider's
webhook later. Bank transfer is the one provider now: the fee gets a reference of its own (`MEM0000127`, apart
from the bookings' `IPT…`) and a numbered invoice in the one invoice series the events' invoices use.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from portal.events import invoices
from portal.events.models import Invoice
from portal.events.payments import reference_for
from portal.members.models import Member, MemberCategory
from portal.membership.models import Application
from portal.society.service import payment_settings

REFERENCE_PREFIX = "MEM"
CURRENCY = "GBP"
#: Days from the invoice to the day its payment is due.
DUE_DAYS = 30
LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class FeeRequest:
    """What the new member is asked to do: printed in the approval e-mail and on the staff page."""

    method: str
    amount: int
    currency: str
    reference: str
    instructions: str
    #: Numbered and stored; its PDF is drawn when the e-mail is sent (`invoices.draw_pdf`), or downloaded.
    invoice: Invoice | None


class FeeProvider(Protocol):
    """A way to take a membership fee (bank transfer today; a card provider returns a checkout link)."""

    name: str

    def request_fee(
        self,
        session: Session,
        *,
        application: Application,
        member: Member,
        category: MemberCategory,
        amount: int,
        now: datetime,
    ) -> FeeRequest: ...


class BankTransferFees:
    """An invoice to pay by bank transfer, quoting the fee's reference."""

    name = "bank_transfer"

    def request_fee(
        self,
        session: Session,
        *,
        application: Application,
        member: Member,
        category: MemberCategory,
        amount: int,
        now: datetime,
    ) -> FeeRequest:
        reference = reference_for(application.id, prefix=REFERENCE_PREFIX)
        details = payment_settings(session).as_text()
        due_on = now.astimezone(LONDON).date() + timedelta(days=DUE_DAYS)
        invoice = invoices.issue_numbered(
            session,
            lines=[
                {
                    "description": f"Membership ({category.label}), first year to "
                    f"{member.renewal_on.strftime('%-d %B %Y') if member.renewal_on else 'renewal'}"
                    f", membership number {member.membership_number}",
                    "amount": amount,
                }
            ],
            currency=CURRENCY,
            # A charity's membership subscription carries no VAT.
            tax_label="VAT",
            tax_rate_bp=0,
            due_on=due_on,
            buyer={"name": application.full_name, "email": application.email},
            reference=reference,
            payment_details=details,
            now=now,
        )
        instructions = "\n".join(
            line
            for line in (
                f"Please pay {invoices.amount_text(amount, CURRENCY)} by bank transfer by "
                f"{due_on.strftime('%-d %B %Y')}, quoting the reference {reference}.",
                details,
            )
            if line
        )
        return FeeRequest(self.name, amount, CURRENCY, reference, instructions, invoice)


def pay_token(key: bytes, application_id: int) -> str:
    """The private part of the link that pays an approved application's first fee by card."""
    return hmac.new(key, f"membership-fee:{application_id}".encode(), hashlib.sha256).hexdigest()[:32]


def pay_token_ok(key: bytes, application_id: int, token: str) -> bool:
    return hmac.compare_digest(pay_token(key, application_id), token)
