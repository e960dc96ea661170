"""What an irreversible action will do, in plain words with the real numbers, for its confirmation page:
a delegate giving back a place (or leaving the waitlist, or declining an offer), the office cancelling a
booking, waiving what is owed, or cancelling unpaid bookings in bulk. Nothing here writes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.events import waitlist, workshops
from portal.events.models import PAYMENT_METHODS, Invoice, Registration
from portal.web.templating import money


def _people(n: int) -> str:
    return "1 person" if n == 1 else f"{n} people"


@dataclass(frozen=True)
class CancelOutcome:
    """The numbers behind a cancellation: who is waiting, what was paid, what was invoiced."""

    status: str
    #: Others on the event's waitlist (who would be offered a freed place, first in line first).
    waiting: int
    #: Where this booking stands in the line, when it is waiting.
    position: int | None
    paid: int
    refund_method: str
    owed: int
    invoice_label: str
    currency: str
    seats: tuple[str, ...]


def cancel_outcome(session: Session, registration: Registration, *, now: datetime) -> CancelOutcome:
    invoice = session.scalar(select(Invoice).where(Invoice.registration_id == registration.id))
    methods = [p.method for p in registration.payments if p.kind == "payment"]
    method = methods[-1] if methods else registration.payment_method
    waiting = waitlist.waiting_count(session, registration.event_id)
    if registration.status == "waitlisted":
        waiting -= 1
    return CancelOutcome(
        status=registration.status,
        waiting=max(waiting, 0),
        position=waitlist.position(session, registration),
        paid=max(registration.amount_paid, 0),
        refund_method=PAYMENT_METHODS.get(method, "bank transfer").lower(),
        owed=registration.balance if registration.payment_status == "unpaid" else 0,
        invoice_label=invoice.label if invoice else "",
        currency=registration.currency,
        seats=tuple(
            p.workshop.title
            for p in workshops.places(session, registration, now=now)
            if p.status in ("confirmed", "offered")
        )
        if registration.status in ("confirmed", "offered")
        else (),
    )


def cancel_sentences(outcome: CancelOutcome, *, staff: bool = False) -> list[str]:
    """What happens next, to "you" (the delegate's page) or to "the delegate" (the office's)."""
    your, you = ("Their", "the delegate") if staff else ("Your", "you")
    lines: list[str] = []
    if outcome.status in ("confirmed", "offered"):
        place = "The place offered" if outcome.status == "offered" else f"{your} place"
        if outcome.waiting:
            lines.append(
                f"{place} goes to the next of the {_people(outcome.waiting)} waiting; "
                f"{you} cannot get it back."
            )
        else:
            lines.append(
                f"{place} is given back and nobody is waiting for it; {you} cannot get it back "
                "(booking again is a new booking, if places are left)."
            )
        for title in outcome.seats:
            lines.append(f"{your} seat in the workshop “{title}” goes to the next person waiting for it.")
    elif outcome.status == "waitlisted":
        lines.append(
            f"{'The delegate leaves' if staff else 'You leave'} the waitlist, where "
            f"{'they are' if staff else 'you are'} number {outcome.position} in line. Joining again means "
            "the back of the line."
        )
    amount = money(outcome.paid, outcome.currency)
    if outcome.paid:
        lines.append(
            f"{'The delegate has' if staff else 'You have'} paid {amount}: "
            f"{'they' if staff else 'you'} will be refunded {amount} by {outcome.refund_method}, "
            "as the cancellation policy allows."
        )
    elif outcome.owed and outcome.invoice_label:
        lines.append(
            f"No payment was taken: invoice {outcome.invoice_label} for {money(outcome.owed, outcome.currency)} "
            f"is cancelled and nothing is owed."
        )
    else:
        lines.append("No payment was taken.")
    lines.append(
        "The delegate is e-mailed to say so." if staff else "We will e-mail you to confirm the cancellation."
    )
    return lines


def waive_sentences(registration: Registration) -> list[str]:
    owed = money(registration.balance, registration.currency)
    paid = money(registration.amount_paid, registration.currency) if registration.amount_paid else "nothing"
    return [
        f"The {owed} still owed is written off: the booking counts as settled, having paid {paid}.",
        "This cannot be undone.",
    ]


def unpaid_sentences(session: Session, chosen: Sequence[Registration], *, event_id: int) -> list[str]:
    if not chosen:
        return []
    currency = chosen[0].currency
    owed = sum(r.balance for r in chosen)
    waiting = waitlist.waiting_count(session, event_id)
    offered = min(len(chosen), waiting)
    lines = [
        f"{len(chosen)} booking{'s' if len(chosen) != 1 else ''} owing {money(owed, currency)} in all "
        "are cancelled; each delegate is e-mailed. They cannot be undone.",
    ]
    if waiting:
        lines.append(
            f"The freed places go to the first {offered} of the {_people(waiting)} on the waitlist, "
            "each of whom is e-mailed an offer."
        )
    else:
        lines.append("Nobody is on the waitlist: the places become free to book.")
    return lines
