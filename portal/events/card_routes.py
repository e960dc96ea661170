"""Card payments (see `cards`): a booking's "Pay by card" button, the page Stripe sends the browser back to,
Stripe's webhook (the one route exempt from CSRF: it is verified by its signature instead) and the office's
refund."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from portal.accounts import acting
from portal.accounts.access import api, page
from portal.errors import NotFound, PortalError
from portal.events import cards, catalogue, changes
from portal.events.links import manage_token
from portal.events.models import CardCheckout, Registration
from portal.events.payments import PaymentError
from portal.settings import Settings
from portal.web.boundary import CatchUp, Prepare
from portal.web.context import Ctx
from portal.web.errors import status_for
from portal.web.middleware import CSP

STAFF = ("office", "admin")
#: Where Stripe's hosted Checkout pages are (a test stand-in serves its own on its API address).
STRIPE_CHECKOUT = "https://checkout.stripe.com"


def allow_checkout(settings: Settings, response: Response) -> Response:
    """A page whose form sends the browser on to Stripe: the browser enforces `form-action` on the redirect
    too, so the page's policy names Stripe's Checkout address beside 'self' (every other page keeps 'self')."""
    base = urlsplit(settings.stripe_api_base)
    origin = STRIPE_CHECKOUT if base.hostname == "api.stripe.com" else f"{base.scheme}://{base.netloc}"
    response.headers["content-security-policy"] = CSP.replace(
        "form-action 'self'", f"form-action 'self' {origin}"
    )
    return response


def _config(ctx: Ctx) -> cards.StripeConfig:
    config = cards.StripeConfig.of(ctx.settings)
    if config is None:
        raise NotFound("Card payment is not offered.")
    return config


def _booking_plan(ctx: Ctx) -> cards.CheckoutPlan:
    """What the booking behind the link owes by card (NotFound or PaymentError when it cannot be paid)."""
    token = ctx.params["token"]
    registration = changes.find_by_token(ctx.db, token=token, key=ctx.key)
    event = catalogue.get_event(ctx.db, registration.event_id)
    if not cards.offered(ctx.db, ctx.settings, event):
        raise NotFound("Card payment is not offered for this event.")
    return cards.booking_plan(
        registration,
        event,
        success_url=ctx.absolute_url("payments:returned"),
        cancel_url=ctx.absolute_url("events:booking", token=token),
    )


def _booking_look(ctx: Ctx) -> cards.CheckoutPlan | None:
    """The plan, when Stripe must be asked for a new session; None when there is nothing to ask (the handler
    says why, from its own reads)."""
    if cards.StripeConfig.of(ctx.settings) is None:
        return None
    try:
        return cards.needs_session(ctx.db, _booking_plan(ctx), now=ctx.now)
    except PortalError:
        return None


def ask_stripe(ctx: Ctx, plan: cards.CheckoutPlan | None) -> cards.Created | PaymentError | None:
    """`Prepare` work of a route that starts a payment: the Checkout Session, asked with no transaction open."""
    config = cards.StripeConfig.of(ctx.settings)
    if plan is None or config is None:
        return None
    return cards.create_session(config, plan, now=ctx.now)


@page("public", prepare=Prepare(look=_booking_look, work=ask_stripe))
def pay_booking(ctx: Ctx) -> Response:
    """Start (or resume) the Checkout Session for what the booking owes; the browser goes to Stripe. Stripe
    is asked in the route's `Prepare` work, before the write transaction opens; here the session is stored
    (or the one another request stored meanwhile is reused)."""
    _config(ctx)
    token = ctx.params["token"]
    try:
        with ctx.attempt():
            plan = _booking_plan(ctx)
            checkout = cards.start_checkout(ctx.db, plan, ctx.prepared, now=ctx.now)
    except PaymentError as exc:
        ctx.flash(exc.message)
        return ctx.redirect("events:booking", token=token)
    return RedirectResponse(checkout.url, status_code=303)


def _open_return(ctx: Ctx) -> bool:
    """The return page's session is ours and still open: Stripe is to be asked about it."""
    session_id = str(ctx.query.get("session_id", ""))[:255]
    return (
        bool(session_id)
        and cards.StripeConfig.of(ctx.settings) is not None
        and (
            ctx.db.scalar(
                select(CardCheckout.id).where(
                    CardCheckout.session_id == session_id, CardCheckout.status == "open"
                )
            )
            is not None
        )
    )


def _read_return(ctx: Ctx) -> Any:
    config = cards.StripeConfig.of(ctx.settings)
    assert config is not None  # `_open_return` said so
    return cards.read_session(config, str(ctx.query.get("session_id", ""))[:255])


def _settle_return(ctx: Ctx) -> None:
    if ctx.prepared is not None and str(ctx.prepared.get("id") or "") == str(ctx.query.get("session_id", "")):
        cards.settle(ctx.db, ctx.prepared, now=ctx.now, app=ctx.request.app)


#: The return page's catch-up: the session read from Stripe with no transaction open (`ask`), then settled in
#: a short write of its own (`settle` moves an open checkout once, so a webhook meanwhile is harmless).
SETTLE_RETURN = CatchUp(due=_open_return, ask=_read_return, run=_settle_return)


@page("public", catch_up=(SETTLE_RETURN,))
def returned(ctx: Ctx) -> Response:
    """Stripe's success URL: the session is read from Stripe and settled here if the webhook has not yet.

    A GET that reads: Stripe is asked in the route's catch-up step (`SETTLE_RETURN`), whose look and
    settling are short transactions of their own and whose call to Stripe has none open, so neither
    SQLite's writer nor PostgreSQL's row locks wait on the round trip; this handler then shows the checkout
    as it now is. (`Prepare` is for a writing request with a form; a browser's return is neither.)"""
    _config(ctx)
    checkout = cards.find_checkout(ctx.db, str(ctx.query.get("session_id", "")))
    back = _BACKS[checkout.purpose](ctx, checkout) if checkout.purpose in _BACKS else None
    return ctx.render("events/card_return.html", {"checkout": checkout, "back": back})


#: The return page's way back, by purpose: `(ctx, checkout) -> (link text, address)` or None. A room above
#: events registers its own (the renewal goes back to Renew, where an expired one can be paid again).
BackLink = Callable[[Ctx, CardCheckout], tuple[str, str] | None]
_BACKS: dict[str, BackLink] = {}


def register_back(purpose: str, back: BackLink) -> None:
    _BACKS[purpose] = back


def _booking_back(ctx: Ctx, checkout: CardCheckout) -> tuple[str, str] | None:
    registration = ctx.db.get(Registration, checkout.target_id)
    if registration is None:
        return None
    return "Back to your booking", ctx.url_for(
        "events:booking", token=manage_token(ctx.key, registration.manage_seed)
    )


register_back("booking", _booking_back)


@api("public", signed=True)
def webhook(ctx: Ctx) -> Response:
    """Stripe's events, verified by `Stripe-Signature` before anything is read."""
    config = _config(ctx)
    payload = ctx.json if isinstance(ctx.json, bytes) else b""
    try:
        with ctx.attempt():
            outcome = cards.handle_webhook(
                ctx.db,
                config=config,
                payload=payload,
                signature=ctx.request.headers.get("stripe-signature", ""),
                now=ctx.now,
                app=ctx.request.app,
            )
    except PaymentError as exc:
        return JSONResponse({"error": exc.code, "message": exc.message}, status_code=status_for(exc))
    return JSONResponse({"received": True, "result": outcome.result})


def _refund_look(ctx: Ctx) -> cards.Refundable | None:
    return cards.refund_look(ctx.db, int(ctx.params["checkout_id"]))


def _ask_refund(ctx: Ctx, refundable: cards.Refundable | None) -> cards.Refunded | PaymentError | None:
    config = cards.StripeConfig.of(ctx.settings)
    if refundable is None or config is None:
        return None
    return cards.ask_refund(config, refundable)


@page(*STAFF, prepare=Prepare(look=_refund_look, work=_ask_refund))
def refund(ctx: Ctx) -> Response:
    """Refund a card payment in full through Stripe (from the booking's staff page): Stripe is asked in the
    route's `Prepare` work, with no transaction open; here the refund is recorded, once."""
    _config(ctx)
    checkout = cards.refund(
        ctx.db,
        checkout_id=ctx.params["checkout_id"],
        refunded=ctx.prepared,
        actor=acting.actor(ctx),
        now=ctx.now,
    )
    ctx.flash("The card payment has been refunded.")
    registration = ctx.db.get(Registration, checkout.target_id) if checkout.purpose == "booking" else None
    if registration is not None:
        return ctx.redirect(
            "events:registration", event_id=registration.event_id, registration_id=registration.id
        )
    if checkout.purpose == "renewal":
        return ctx.redirect("membership:member_renewals", member_id=checkout.target_id)
    return ctx.redirect("membership:applications")


routes = [
    Route("/payments/card/booking/{token}", pay_booking, methods=["POST"], name="pay_booking"),
    Route("/payments/card/return", returned, name="returned"),
    Route("/payments/stripe/webhook", webhook, methods=["POST"], name="webhook"),
    Route("/payments/card/{checkout_id:int}/refund", refund, methods=["POST"], name="refund"),
]
