"""Card payments (see `cards`): a booking's "Pay by card" button, the page Stripe sends the browser back to,
Stripe's webhook (the one route exempt from CSRF: it is verified by its signature instead) and the office's
refund."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from portal.accounts import acting
from portal.accounts.access import api, page
from portal.errors import NotFound
from portal.events import cards, catalogue, changes
from portal.events.links import manage_token
from portal.events.models import Registration
from portal.events.payments import PaymentError
from portal.settings import Settings
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


@page("public")
def pay_booking(ctx: Ctx) -> Response:
    """Start (or resume) the Checkout Session for what the booking owes; the browser goes to Stripe."""
    config = _config(ctx)
    token = ctx.params["token"]
    registration = changes.find_by_token(ctx.db, token=token, key=ctx.key)
    event = catalogue.get_event(ctx.db, registration.event_id)
    if not cards.offered(ctx.db, ctx.settings, event):
        raise NotFound("Card payment is not offered for this event.")
    try:
        with ctx.attempt():
            checkout = cards.booking_checkout(
                ctx.db,
                config=config,
                registration=registration,
                event=event,
                success_url=ctx.absolute_url("payments:returned"),
                cancel_url=ctx.absolute_url("events:booking", token=token),
                now=ctx.now,
            )
    except PaymentError as exc:
        ctx.flash(exc.message)
        return ctx.redirect("events:booking", token=token)
    return RedirectResponse(checkout.url, status_code=303)


@page("public", write=True)
def returned(ctx: Ctx) -> Response:
    """Stripe's success URL: the session is read from Stripe and settled here if the webhook has not yet."""
    config = _config(ctx)
    session_id = str(ctx.query.get("session_id", ""))
    checkout = cards.settle_returned(
        ctx.db, config=config, session_id=session_id, now=ctx.now, app=ctx.request.app
    )
    back = None
    if checkout.purpose == "booking":
        registration = ctx.db.get(Registration, checkout.target_id)
        if registration is not None:
            back = ctx.url_for("events:booking", token=manage_token(ctx.key, registration.manage_seed))
    return ctx.render("events/card_return.html", {"checkout": checkout, "back": back})


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


@page(*STAFF)
def refund(ctx: Ctx) -> Response:
    """Refund a card payment in full through Stripe (from the booking's staff page)."""
    config = _config(ctx)
    checkout = cards.refund(
        ctx.db, config=config, checkout_id=ctx.params["checkout_id"], actor=acting.actor(ctx), now=ctx.now
    )
    ctx.flash("The card payment has been refunded.")
    registration = ctx.db.get(Registration, checkout.target_id) if checkout.purpose == "booking" else None
    if registration is not None:
        return ctx.redirect(
            "events:registration", event_id=registration.event_id, registration_id=registration.id
        )
    return ctx.redirect("membership:applications")


routes = [
    Route("/payments/card/booking/{token}", pay_booking, methods=["POST"], name="pay_booking"),
    Route("/payments/card/return", returned, name="returned"),
    Route("/payments/stripe/webhook", webhook, methods=["POST"], name="webhook"),
    Route("/payments/card/{checkout_id:int}/refund", refund, methods=["POST"], name="refund"),
]
