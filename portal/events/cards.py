"""Card payments through Stripe Checkout, for bookings and membership fees, with the official `stripe` client.

The invoice is always issued first (one series, see `invoices`): card is a second way to pay it. Paying
starts a Checkout Session (`create_session`; `start_checkout` stores it), the browser goes to Stripe's page,
and the payment is confirmed by whichever of three arrives first: the browser's return (`read_session`, then
`settle`), the signed webhook (`handle_webhook`), or the periodic reconciliation of sessions still open
(`reconcile`). Each moves the checkout out of "open" by one conditional update, so between them the payment
is recorded exactly once; the loser sees nothing to move. A webhook event is handled once (its id is
stored), and a late `checkout.session.expired` after `completed` finds the checkout no longer open.

Every call to Stripe (an HTTP round trip) is made with no transaction open, so the database writer holds
only writes (issue 13): starting a session and refunding are a route's `Prepare` work, between its read-only
look and its short write, which checks what the look read; the return page reads the session in its
catch-up step, before that step's short write; the reconciliation reads first and settles each in its own.

What a confirmed checkout does belongs to its purpose: a booking records a card payment here; a membership's
first fee and a renewal are handed to the membership room, which registers its confirmer and its refund
recorder (`register`) — it sits above events. An expired checkout releases nothing, for a Checkout Session holds
nothing: the booking keeps its place on its invoice, as every unpaid booking does until its payment is due
(`Event.payment_due_days`), and a fee or renewal stays owed; each can be paid by card again (a new session: an
expired one is never reused) or by bank transfer. See docs/payments.md.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import stripe
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.models import Account
from portal.db import Database, rowcount
from portal.errors import Kind
from portal.events import payments
from portal.events.errors import Code
from portal.events.models import CardCheckout, CardEvent, Event, Registration
from portal.settings import Settings
from portal.society.service import payment_settings

log = logging.getLogger("portal.cards")

PROVIDER = "card"
#: How often the periodic job asks Stripe about sessions still open.
RECONCILE_SECONDS = 300.0
#: A Checkout Session lasts this long (Stripe allows 30 minutes to 24 hours).
SESSION_MINUTES = 60
#: Stripe's documented tolerance for a webhook's timestamp: an older signature is a replay.
TOLERANCE_SECONDS = 300
LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class StripeConfig:
    """The Stripe secrets and address; `None` from `of` when card payment is off."""

    secret_key: str
    webhook_secret: str
    api_base: str

    @classmethod
    def of(cls, settings: Settings) -> StripeConfig | None:
        if settings.stripe_secret_key is None or settings.stripe_webhook_secret is None:
            return None
        return cls(
            str(settings.stripe_secret_key), str(settings.stripe_webhook_secret), settings.stripe_api_base
        )

    def __repr__(self) -> str:  # the secrets never reach a log line
        return f"StripeConfig(api_base={self.api_base!r})"


@functools.lru_cache(maxsize=8)
def client(config: StripeConfig) -> stripe.StripeClient:
    """The official client, pointed at `PORTAL_STRIPE_API_BASE` (Stripe, or the tests' stand-in)."""
    return stripe.StripeClient(
        config.secret_key, base_addresses={"api": config.api_base}, max_network_retries=1
    )


def provider_of(session: Session, event: Event | None = None) -> str:
    """ "card" or "bank_transfer": the event's own choice, else the society's."""
    chosen = event.payment_provider if event is not None else ""
    return chosen or payment_settings(session).provider or PROVIDER


def offered(session: Session, settings: Settings, event: Event | None = None) -> bool:
    """Card payment is offered: Stripe is configured and the society (or the event) chose it."""
    return settings.card_payments and provider_of(session, event) == PROVIDER


# --- what a paid checkout does -----------------------------------------------------------------------------------


class Confirmer(Protocol):
    def __call__(self, session: Session, checkout: CardCheckout, *, now: datetime, app: Any) -> None: ...


_CONFIRMERS: dict[str, Confirmer] = {}


class RefundRecorder(Protocol):
    def __call__(
        self, session: Session, checkout: CardCheckout, *, refund_id: str, actor: Account, now: datetime
    ) -> None: ...


_REFUNDS: dict[str, RefundRecorder] = {}


def register(purpose: str, confirmer: Confirmer, refunded: RefundRecorder | None = None) -> None:
    """A room above events says what a paid checkout of its `purpose` does (membership: the first fee, a
    renewal), and how it records the checkout refunded (its ledger's refund row)."""
    _CONFIRMERS[purpose] = confirmer
    if refunded is not None:
        _REFUNDS[purpose] = refunded


def _confirm_booking(session: Session, checkout: CardCheckout, *, now: datetime, app: Any) -> None:
    payments.record_payment(
        session,
        registration_id=checkout.target_id,
        amount=checkout.amount,
        method="card",
        received_on=now.astimezone(LONDON).date(),
        note=f"Stripe Checkout {checkout.session_id}",
        actor=None,
        now=now,
        source="provider",
        external_id=f"stripe:{checkout.session_id}"[:100],
    )


def _refunded_booking(
    session: Session, checkout: CardCheckout, *, refund_id: str, actor: Account, now: datetime
) -> None:
    payments.record_payment(
        session,
        registration_id=checkout.target_id,
        amount=checkout.amount,
        method="card",
        received_on=now.astimezone(LONDON).date(),
        note=f"Stripe refund {refund_id}",
        kind="refund",
        actor=actor,
        now=now,
        source="provider",
        external_id=f"stripe-refund:{refund_id}"[:100],
    )


register("booking", _confirm_booking, _refunded_booking)


# --- starting a payment ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckoutPlan:
    """What a Checkout Session is asked for: read in the look's short read-only transaction, and built again
    from what the write transaction reads (a plan that differs means the booking or fee changed meanwhile)."""

    purpose: str
    target_id: int
    amount: int
    currency: str
    description: str
    reference: str
    invoice_id: int | None
    email: str
    success_url: str
    cancel_url: str


@dataclass(frozen=True)
class Created:
    """The Checkout Session Stripe made for a plan (`create_session`, with no transaction open)."""

    plan: CheckoutPlan
    session_id: str
    url: str
    expires_at: datetime


def open_checkout(session: Session, plan: CheckoutPlan, *, now: datetime) -> CardCheckout | None:
    """The checkout still open for the plan's target, amount and invoice, with time left to pay: reused, not
    remade. (The invoice too: a member's renewal session left open for a renewal since paid by hand is for
    that invoice, never the next one's.)"""
    return session.scalar(
        select(CardCheckout)
        .where(
            CardCheckout.purpose == plan.purpose,
            CardCheckout.target_id == plan.target_id,
            CardCheckout.status == "open",
            CardCheckout.amount == plan.amount,
            CardCheckout.invoice_id.is_(None)
            if plan.invoice_id is None
            else CardCheckout.invoice_id == plan.invoice_id,
            CardCheckout.expires_at > now + timedelta(minutes=5),
        )
        .order_by(CardCheckout.id.desc())
        .limit(1)
    )


def needs_session(session: Session, plan: CheckoutPlan, *, now: datetime) -> CheckoutPlan | None:
    """The look of a route that starts a payment: the plan, when Stripe must be asked for a new session (the
    work); None when one is open to reuse or nothing is owed (the handler then says which)."""
    if plan.amount <= 0 or open_checkout(session, plan, now=now) is not None:
        return None
    return plan


def create_session(
    config: StripeConfig, plan: CheckoutPlan, *, now: datetime
) -> Created | payments.PaymentError:
    """Ask Stripe for a Checkout Session (an HTTP round trip: run with no transaction open, as a route's
    `Prepare` work). A refusal comes back as the error, for the handler to show."""
    expires_at = now + timedelta(minutes=SESSION_MINUTES)
    metadata = {"purpose": plan.purpose, "target_id": str(plan.target_id), "reference": plan.reference}
    if plan.invoice_id is not None:
        metadata["invoice_id"] = str(plan.invoice_id)
    try:
        created = client(config).v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": plan.currency.lower(),
                            "unit_amount": plan.amount,
                            "product_data": {"name": plan.description[:250]},
                        },
                    }
                ],
                "client_reference_id": f"{plan.purpose}:{plan.target_id}",
                "metadata": metadata,
                "customer_email": plan.email,
                "success_url": plan.success_url + "?session_id={CHECKOUT_SESSION_ID}",
                "cancel_url": plan.cancel_url,
                "expires_at": int(expires_at.timestamp()),
            },
            options={
                "idempotency_key": f"{plan.purpose}-{plan.target_id}-{plan.amount}-{int(now.timestamp()) // 60}"
            },
        )
    except stripe.StripeError as exc:
        log.warning("cards: Stripe refused a Checkout Session: %s", type(exc).__name__)
        return payments.PaymentError(Code.NOT_PAYABLE, UNAVAILABLE)
    return Created(plan, str(created.id), created.url or "", expires_at)


#: What the payer is told when no session could be had (Stripe refused, or the booking changed meanwhile).
UNAVAILABLE = "Card payment is not available just now. Please try again, or pay by invoice."


def start_checkout(session: Session, plan: CheckoutPlan, created: Any, *, now: datetime) -> CardCheckout:
    """The checkout for what is owed, in the request's short write transaction: the one still open for it
    (another request may have stored one since the look), else the session `created` asked Stripe for
    (the route's `ctx.prepared`), stored before the browser leaves. `created` must be for this very plan;
    anything else (a refusal, no session asked, a plan changed meanwhile) is a PaymentError."""
    if plan.amount <= 0:
        raise payments.PaymentError(Code.NOT_PAYABLE, "Nothing is owed.", kind=Kind.CONFLICT)
    open_one = open_checkout(session, plan, now=now)
    if open_one is not None:
        return open_one
    if isinstance(created, payments.PaymentError):
        raise created
    if not isinstance(created, Created) or created.plan != plan:
        raise payments.PaymentError(Code.NOT_PAYABLE, UNAVAILABLE)
    same = session.scalar(select(CardCheckout).where(CardCheckout.session_id == created.session_id))
    if same is not None:  # Stripe's idempotency gave another request's session back, stored since
        return same
    checkout = CardCheckout(
        session_id=created.session_id,
        purpose=plan.purpose,
        target_id=plan.target_id,
        invoice_id=plan.invoice_id,
        amount=plan.amount,
        currency=plan.currency.upper(),
        url=created.url,
        status="open",
        payment_intent="",
        created_at=now,
        expires_at=created.expires_at,
        refunded=0,
        refund_id="",
    )
    session.add(checkout)
    session.flush()
    return checkout


def booking_plan(
    registration: Registration, event: Event, *, success_url: str, cancel_url: str
) -> CheckoutPlan:
    """The Checkout Session for what a confirmed booking still owes (its invoice issued already)."""
    owed = registration.amount_due - registration.amount_paid
    if registration.status != "confirmed" or registration.payment_status != "unpaid" or owed <= 0:
        raise payments.PaymentError(Code.NOT_PAYABLE, "This booking owes nothing.", kind=Kind.CONFLICT)
    invoice = registration.invoice
    return CheckoutPlan(
        purpose="booking",
        target_id=registration.id,
        amount=owed,
        currency=registration.currency,
        description=f"{event.title}: {registration.ticket_type.name}",
        reference=registration.payment_reference or "",
        invoice_id=invoice.id if invoice is not None else None,
        email=registration.email,
        success_url=success_url,
        cancel_url=cancel_url,
    )


# --- confirming --------------------------------------------------------------------------------------------------


def settle(session: Session, stripe_session: Any, *, now: datetime, app: Any) -> str:
    """Apply what Stripe says of a Checkout Session: "confirmed" (this call recorded the payment),
    "expired" (this call closed it), or "unchanged" (not ours, still open, or already settled)."""
    if isinstance(stripe_session, stripe.StripeObject):
        stripe_session = stripe_session.to_dict()
    session_id = str(stripe_session.get("id") or "")
    status = stripe_session.get("status")
    if status == "complete" and stripe_session.get("payment_status") in ("paid", "no_payment_required"):
        # One conditional update decides: whoever moves the checkout out of "open" records the payment.
        # The row comes back with the update (RETURNING): no second look for what was just written.
        checkout = session.execute(
            update(CardCheckout)
            .where(CardCheckout.session_id == session_id, CardCheckout.status == "open")
            .values(
                status="complete",
                completed_at=now,
                payment_intent=str(stripe_session.get("payment_intent") or "")[:255],
            )
            .returning(CardCheckout)
            .execution_options(synchronize_session=False, populate_existing=True)
        ).scalar()
        if checkout is None:
            return "unchanged"
        # Recorded and audited by its purpose: the booking's payment, or the member's first fee.
        _CONFIRMERS[checkout.purpose](session, checkout, now=now, app=app)
        return "confirmed"
    if status == "expired":
        moved = rowcount(
            session.execute(
                update(CardCheckout)
                .where(CardCheckout.session_id == session_id, CardCheckout.status == "open")
                .values(status="expired")
                .execution_options(synchronize_session=False)
            )
        )
        return "expired" if moved == 1 else "unchanged"
    return "unchanged"


def find_checkout(session: Session, session_id: str) -> CardCheckout:
    """The checkout of a Stripe session id (the return page's query string), or NotFound."""
    checkout = session.scalar(select(CardCheckout).where(CardCheckout.session_id == session_id[:255]))
    if checkout is None:
        raise payments.PaymentError(Code.NOT_FOUND, "There is no such card payment.", kind=Kind.NOT_FOUND)
    return checkout


def read_session(config: StripeConfig, session_id: str) -> dict[str, Any] | None:
    """What Stripe says of a Checkout Session (an HTTP round trip: called with no transaction open), or None
    when Stripe cannot be read just now (the webhook or the reconciliation settles it later)."""
    try:
        return client(config).v1.checkout.sessions.retrieve(session_id).to_dict()
    except stripe.StripeError as exc:
        log.warning("cards: could not read a Checkout Session: %s", type(exc).__name__)
        return None


@dataclass(frozen=True)
class WebhookOutcome:
    event_id: str
    kind: str
    #: "confirmed", "expired", "unchanged", "duplicate" (handled before) or "ignored" (not a kind we use).
    result: str


def verify(config: StripeConfig, payload: bytes, signature: str) -> dict[str, Any]:
    """The event, when `Stripe-Signature` holds for the payload (Stripe's scheme: `t=…,v1=…`, HMAC-SHA256 of
    `t.payload` with the endpoint's secret, at most `TOLERANCE_SECONDS` old, checked by the official
    client's `WebhookSignature`); else PaymentError. The event is read as plain JSON: building the client's
    nested objects (`Webhook.construct_event`) cost the webhook more CPU than the rest of its reading."""
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(
            text, signature, config.webhook_secret, tolerance=TOLERANCE_SECONDS
        )
        event = json.loads(text)
    except stripe.SignatureVerificationError:
        raise payments.PaymentError(
            Code.BAD_SIGNATURE, "The webhook's signature does not hold.", kind=Kind.FORBIDDEN
        ) from None
    except ValueError:  # not UTF-8, or not JSON
        raise payments.PaymentError(Code.BAD_NOTIFICATION, "The webhook could not be read.") from None
    if not (isinstance(event, dict) and isinstance(event.get("data"), dict) and "id" in event):
        raise payments.PaymentError(Code.BAD_NOTIFICATION, "The webhook could not be read.")
    return event


_INSERT_EVENT = {
    "sqlite": sqlite.insert(CardEvent).on_conflict_do_nothing().returning(CardEvent.event_id),
    "postgresql": postgresql.insert(CardEvent).on_conflict_do_nothing().returning(CardEvent.event_id),
}

HANDLED = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.expired",
)


def handle_event(session: Session, event: dict[str, Any], *, now: datetime, app: Any) -> WebhookOutcome:
    """A verified event (`verify`), once: its id is stored in the same transaction as what it changed."""
    event_id = str(event["id"])
    kind = str(event.get("type") or "")
    stored = session.execute(
        _INSERT_EVENT[session.get_bind().dialect.name],
        {"event_id": event_id[:255], "kind": kind[:80], "received_at": now},
    ).scalar()
    if stored is None:  # delivered before (or by another worker a moment ago: its insert decided)
        return WebhookOutcome(event_id, kind, "duplicate")
    if kind not in HANDLED:
        return WebhookOutcome(event_id, kind, "ignored")
    found = event["data"].get("object")
    if not isinstance(found, dict):
        raise payments.PaymentError(Code.BAD_NOTIFICATION, "The webhook could not be read.")
    result = settle(session, found, now=now, app=app)
    return WebhookOutcome(event_id, kind, result)


def handle_webhook(
    session: Session, *, config: StripeConfig, payload: bytes, signature: str, now: datetime, app: Any
) -> WebhookOutcome:
    return handle_event(session, verify(config, payload, signature), now=now, app=app)


# --- reconciling and refunding -------------------------------------------------------------------------------------


def reconcile(database: Database, *, config: StripeConfig, now: datetime, app: Any, limit: int = 50) -> int:
    """Ask Stripe about sessions still open a while (a webhook lost, a browser that never came back) and settle
    what has moved: the open ones read in a short transaction, Stripe asked with none open, each settled in a
    short write transaction of its own (safe beside the webhook and other workers: `settle` moves a checkout
    once). How many were settled."""
    with database.session(write=False) as session:
        open_ids = list(
            session.scalars(
                select(CardCheckout.session_id)
                .where(CardCheckout.status == "open", CardCheckout.created_at <= now - timedelta(minutes=2))
                .order_by(CardCheckout.expires_at)
                .limit(limit)
            )
        )
    settled = 0
    for session_id in open_ids:
        try:
            found = client(config).v1.checkout.sessions.retrieve(session_id)
        except stripe.StripeError as exc:
            log.warning("cards: reconciliation could not read a session: %s", type(exc).__name__)
            continue
        with database.session(write=True) as session:
            if settle(session, found, now=now, app=app) != "unchanged":
                settled += 1
    return settled


def run_once(app: Any) -> int:
    """The app's periodic job (see `create_app`): one reconciliation, when card payment is on."""
    config = StripeConfig.of(app.state.settings)
    if config is None:
        return 0
    settled = reconcile(app.state.db, config=config, now=app.state.clock(), app=app)
    if settled:
        log.info("cards: %s Checkout Session(s) settled by reconciliation", settled)
    return settled


@dataclass(frozen=True)
class Refundable:
    """A complete, unrefunded card payment as the refund's look read it."""

    checkout_id: int
    session_id: str
    payment_intent: str
    amount: int


@dataclass(frozen=True)
class Refunded:
    """The refund Stripe made for a `Refundable` (`ask_refund`, with no transaction open)."""

    of: Refundable
    refund_id: str


def _refundable(checkout: CardCheckout | None) -> Refundable:
    if checkout is None:
        raise payments.PaymentError(Code.NOT_FOUND, "There is no such card payment.", kind=Kind.NOT_FOUND)
    if checkout.status != "complete" or checkout.refunded > 0 or not checkout.payment_intent:
        raise payments.PaymentError(
            Code.NOTHING_TO_REFUND, "This card payment cannot be refunded.", kind=Kind.CONFLICT
        )
    return Refundable(checkout.id, checkout.session_id, checkout.payment_intent, checkout.amount)


def refund_look(session: Session, checkout_id: int) -> Refundable | None:
    """The refund's look (read-only): what Stripe is to be asked to pay back, or None when nothing can be
    (the handler then says why)."""
    try:
        return _refundable(session.get(CardCheckout, checkout_id))
    except payments.PaymentError:
        return None


def ask_refund(config: StripeConfig, refundable: Refundable) -> Refunded | payments.PaymentError:
    """Ask Stripe to pay the payment back (an HTTP round trip: run with no transaction open). The idempotency
    key is the checkout's: a request retried after its write failed gets the same refund back from Stripe,
    never a second one."""
    try:
        made = client(config).v1.refunds.create(
            params={"payment_intent": refundable.payment_intent, "amount": refundable.amount},
            options={"idempotency_key": f"refund-{refundable.session_id}"},
        )
    except stripe.StripeError as exc:
        log.warning("cards: Stripe refused a refund: %s", type(exc).__name__)
        return payments.PaymentError(Code.NOTHING_TO_REFUND, "Stripe refused the refund.")
    return Refunded(refundable, str(made.id))


def refund(
    session: Session, *, checkout_id: int, refunded: Any, actor: Account, now: datetime
) -> CardCheckout:
    """Record the refund Stripe made (`refunded`, the route's `ctx.prepared`) in the request's short write
    transaction: re-checked against the checkout as it is now, and moved by one conditional update, so a
    refund is recorded once however many requests race; recorded against the booking, and audited."""
    expected = _refundable(session.get(CardCheckout, checkout_id))
    if isinstance(refunded, payments.PaymentError):
        raise refunded
    if not isinstance(refunded, Refunded) or refunded.of != expected:
        raise payments.PaymentError(
            Code.NOTHING_TO_REFUND,
            "The card payment changed meanwhile. Please try again.",
            kind=Kind.CONFLICT,
        )
    refund_id = refunded.refund_id
    moved = rowcount(
        session.execute(
            update(CardCheckout)
            .where(
                CardCheckout.id == checkout_id, CardCheckout.status == "complete", CardCheckout.refunded == 0
            )
            .values(refunded=expected.amount, refund_id=refund_id[:255])
            .execution_options(synchronize_session=False)
        )
    )
    if moved != 1:
        raise payments.PaymentError(
            Code.NOTHING_TO_REFUND, "This card payment cannot be refunded.", kind=Kind.CONFLICT
        )
    checkout = session.get(CardCheckout, checkout_id, populate_existing=True)
    assert checkout is not None
    if checkout.purpose in _REFUNDS:
        _REFUNDS[checkout.purpose](session, checkout, refund_id=refund_id, actor=actor, now=now)
    audit.record(
        session,
        actor=actor,
        action="payments.card_refund",
        subject=f"{checkout.purpose} {checkout.target_id}",
        details={"amount": checkout.amount, "refund": refund_id, "session": checkout.session_id},
        now=now,
    )
    session.flush()
    return checkout


def checkouts_for(session: Session, *, purpose: str, target_id: int) -> list[CardCheckout]:
    return list(
        session.scalars(
            select(CardCheckout)
            .where(CardCheckout.purpose == purpose, CardCheckout.target_id == target_id)
            .order_by(CardCheckout.id)
        )
    )
