"""Card payments through Stripe Checkout, for bookings and membership fees, with the official `stripe` client.

The invoice is always issued first (one series, see `invoices`): card is a second way to pay it. Paying
starts a Checkout Session (`start_checkout`), the browser goes to Stripe's page, and the payment is
confirmed by whichever of three arrives first: the browser's return (`settle_returned`, which asks Stripe
for the session), the signed webhook (`handle_webhook`), or the periodic reconciliation of sessions still
open (`reconcile`). Each moves the checkout out of "open" by one conditional update, so between them the
payment is recorded exactly once; the loser sees nothing to move. A webhook event is handled once (its id is
stored), and a late `checkout.session.expired` after `completed` finds the checkout no longer open.

What a confirmed checkout does belongs to its purpose: a booking records a card payment here; a membership
fee is handed to the membership room, which registers its confirmer (`register`) — it sits above events.
An expired checkout releases nothing: the booking keeps its place on its invoice, as every unpaid booking does
until its payment is due (`Event.payment_due_days`), and can be paid by card again or by bank transfer.
"""

from __future__ import annotations

import functools
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


def register(purpose: str, confirmer: Confirmer) -> None:
    """A room above events says what a paid checkout of its `purpose` does (membership: the first fee)."""
    _CONFIRMERS[purpose] = confirmer


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


register("booking", _confirm_booking)


# --- starting a payment ---------------------------------------------------------------------------------------


def start_checkout(
    session: Session,
    *,
    config: StripeConfig,
    purpose: str,
    target_id: int,
    amount: int,
    currency: str,
    description: str,
    reference: str,
    invoice_id: int | None,
    email: str,
    success_url: str,
    cancel_url: str,
    now: datetime,
) -> CardCheckout:
    """A Checkout Session for what is owed (or the one still open for it), stored before the browser leaves."""
    if amount <= 0:
        raise payments.PaymentError(Code.NOT_PAYABLE, "Nothing is owed.", kind=Kind.CONFLICT)
    open_one = session.scalar(
        select(CardCheckout)
        .where(
            CardCheckout.purpose == purpose,
            CardCheckout.target_id == target_id,
            CardCheckout.status == "open",
            CardCheckout.amount == amount,
            CardCheckout.expires_at > now + timedelta(minutes=5),
        )
        .order_by(CardCheckout.id.desc())
        .limit(1)
    )
    if open_one is not None:
        return open_one
    expires_at = now + timedelta(minutes=SESSION_MINUTES)
    metadata = {"purpose": purpose, "target_id": str(target_id), "reference": reference}
    if invoice_id is not None:
        metadata["invoice_id"] = str(invoice_id)
    try:
        created = client(config).v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": currency.lower(),
                            "unit_amount": amount,
                            "product_data": {"name": description[:250]},
                        },
                    }
                ],
                "client_reference_id": f"{purpose}:{target_id}",
                "metadata": metadata,
                "customer_email": email,
                "success_url": success_url + "?session_id={CHECKOUT_SESSION_ID}",
                "cancel_url": cancel_url,
                "expires_at": int(expires_at.timestamp()),
            },
            options={"idempotency_key": f"{purpose}-{target_id}-{amount}-{int(now.timestamp()) // 60}"},
        )
    except stripe.StripeError as exc:
        log.warning("cards: Stripe refused a Checkout Session: %s", type(exc).__name__)
        raise payments.PaymentError(
            Code.NOT_PAYABLE, "Card payment is not available just now. Please try again, or pay by invoice."
        ) from None
    checkout = CardCheckout(
        session_id=created.id,
        purpose=purpose,
        target_id=target_id,
        invoice_id=invoice_id,
        amount=amount,
        currency=currency.upper(),
        url=created.url or "",
        status="open",
        payment_intent="",
        created_at=now,
        expires_at=expires_at,
        refunded=0,
        refund_id="",
    )
    session.add(checkout)
    session.flush()
    return checkout


def booking_checkout(
    session: Session,
    *,
    config: StripeConfig,
    registration: Registration,
    event: Event,
    success_url: str,
    cancel_url: str,
    now: datetime,
) -> CardCheckout:
    """A Checkout Session for what a confirmed booking still owes (its invoice issued already)."""
    owed = registration.amount_due - registration.amount_paid
    if registration.status != "confirmed" or registration.payment_status != "unpaid" or owed <= 0:
        raise payments.PaymentError(Code.NOT_PAYABLE, "This booking owes nothing.", kind=Kind.CONFLICT)
    invoice = registration.invoice
    return start_checkout(
        session,
        config=config,
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
        now=now,
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
        moved = session.execute(
            update(CardCheckout)
            .where(CardCheckout.session_id == session_id, CardCheckout.status == "open")
            .values(
                status="complete",
                completed_at=now,
                payment_intent=str(stripe_session.get("payment_intent") or "")[:255],
            )
            .returning(CardCheckout.id)
            .execution_options(synchronize_session=False)
        ).scalar()
        if moved is None:
            return "unchanged"
        checkout = session.get(CardCheckout, moved, populate_existing=True)
        assert checkout is not None
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


def settle_returned(
    session: Session, *, config: StripeConfig, session_id: str, now: datetime, app: Any
) -> CardCheckout:
    """The browser came back from Stripe: ask Stripe for the session (the query string proves nothing) and
    settle it. Returns the checkout, whatever settled it."""
    checkout = session.scalar(select(CardCheckout).where(CardCheckout.session_id == session_id[:255]))
    if checkout is None:
        raise payments.PaymentError(Code.NOT_FOUND, "There is no such card payment.", kind=Kind.NOT_FOUND)
    if checkout.status == "open":
        try:
            found = client(config).v1.checkout.sessions.retrieve(session_id)
        except stripe.StripeError as exc:
            log.warning("cards: could not read a Checkout Session: %s", type(exc).__name__)
            return checkout
        settle(session, found, now=now, app=app)
        session.refresh(checkout)
    return checkout


@dataclass(frozen=True)
class WebhookOutcome:
    event_id: str
    kind: str
    #: "confirmed", "expired", "unchanged", "duplicate" (handled before) or "ignored" (not a kind we use).
    result: str


def verify(config: StripeConfig, payload: bytes, signature: str) -> stripe.Event:
    """The event, when `Stripe-Signature` holds for the payload (Stripe's scheme: `t=…,v1=…`, HMAC-SHA256 of
    `t.payload` with the endpoint's secret, at most `TOLERANCE_SECONDS` old); else PaymentError."""
    try:
        return stripe.Webhook.construct_event(
            payload, signature, config.webhook_secret, tolerance=TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError:
        raise payments.PaymentError(
            Code.BAD_SIGNATURE, "The webhook's signature does not hold.", kind=Kind.FORBIDDEN
        ) from None
    except ValueError:
        raise payments.PaymentError(Code.BAD_NOTIFICATION, "The webhook could not be read.") from None


_INSERT_EVENT = {
    "sqlite": sqlite.insert(CardEvent).on_conflict_do_nothing().returning(CardEvent.event_id),
    "postgresql": postgresql.insert(CardEvent).on_conflict_do_nothing().returning(CardEvent.event_id),
}

HANDLED = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.expired",
)


def handle_event(session: Session, event: stripe.Event, *, now: datetime, app: Any) -> WebhookOutcome:
    """A verified event, once: its id is stored in the same transaction as what it changed."""
    event_id = str(event.id)
    kind = str(event.type)
    stored = session.execute(
        _INSERT_EVENT[session.get_bind().dialect.name],
        {"event_id": event_id[:255], "kind": kind[:80], "received_at": now},
    ).scalar()
    if stored is None:  # delivered before (or by another worker a moment ago: its insert decided)
        return WebhookOutcome(event_id, kind, "duplicate")
    if kind not in HANDLED:
        return WebhookOutcome(event_id, kind, "ignored")
    result = settle(session, event.data.object, now=now, app=app)
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


def refund(
    session: Session, *, config: StripeConfig, checkout_id: int, actor: Account, now: datetime
) -> CardCheckout:
    """Pay back a card payment in full through Stripe; recorded against the booking, and audited."""
    checkout = session.get(CardCheckout, checkout_id, with_for_update=True)
    if checkout is None:
        raise payments.PaymentError(Code.NOT_FOUND, "There is no such card payment.", kind=Kind.NOT_FOUND)
    if checkout.status != "complete" or checkout.refunded > 0 or not checkout.payment_intent:
        raise payments.PaymentError(
            Code.NOTHING_TO_REFUND, "This card payment cannot be refunded.", kind=Kind.CONFLICT
        )
    try:
        made = client(config).v1.refunds.create(
            params={"payment_intent": checkout.payment_intent, "amount": checkout.amount},
            options={"idempotency_key": f"refund-{checkout.session_id}"},
        )
    except stripe.StripeError as exc:
        log.warning("cards: Stripe refused a refund: %s", type(exc).__name__)
        raise payments.PaymentError(Code.NOTHING_TO_REFUND, "Stripe refused the refund.") from None
    checkout.refunded = checkout.amount
    checkout.refund_id = str(made.id)[:255]
    if checkout.purpose == "booking":
        payments.record_payment(
            session,
            registration_id=checkout.target_id,
            amount=checkout.amount,
            method="card",
            received_on=now.astimezone(LONDON).date(),
            note=f"Stripe refund {made.id}",
            kind="refund",
            actor=actor,
            now=now,
            source="provider",
            external_id=f"stripe-refund:{made.id}"[:100],
        )
    audit.record(
        session,
        actor=actor,
        action="payments.card_refund",
        subject=f"{checkout.purpose} {checkout.target_id}",
        details={"amount": checkout.amount, "refund": str(made.id), "session": checkout.session_id},
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
