"""Renewing: My membership on My account (where the member stands, what is owed, Renew, receipts, the
certificate), the two-click renewal (the Renew button, then the way to pay), and the office's page for one
member's renewals (a payment recorded by hand, an invoice marked paid, a change of category)."""

from __future__ import annotations

from typing import Any

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.accounts import acting
from portal.accounts.access import page
from portal.errors import Kind, NotFound, PortalError
from portal.events import card_routes, cards, invoices
from portal.events.payments import PaymentError
from portal.members import service as members
from portal.members.models import STATUSES
from portal.members.selfservice_routes import render_section
from portal.members.standing import STANDINGS, london_day
from portal.membership import certificate, leaving, ledger, renewals
from portal.membership.errors import Code, MembershipError
from portal.membership.models import PAYMENT_METHODS
from portal.society import service as society
from portal.web.boundary import Prepare
from portal.web.context import Ctx
from portal.web.forms import FormReader
from portal.web.hooks import ToDo

STAFF = ("office", "admin")
#: How the office may say a renewal invoice was paid (a card payment is Stripe's to record).
HAND_METHODS = {k: v for k, v in PAYMENT_METHODS.items() if k != "card"}


# --- the member -----------------------------------------------------------------------------------------------


def my_membership(ctx: Ctx) -> tuple[str, str] | None:
    """The "My membership" panel of My account."""
    if ctx.principal is None or ctx.principal.member_id is None:
        return None
    found = renewals.summary(ctx.db, member_id=ctx.principal.member_id, now=ctx.now)
    return "My membership", render_section(
        ctx,
        "membership/_my_membership.html",
        {
            "s": found,
            "standings": STANDINGS,
            "invoice": renewals.open_invoice(ctx.db, found.open),
            "needs_consent": leaving.needs_consent(ctx.db, found.member),
            "year": society.membership_settings(ctx.db),
        },
    )


def renewal_to_do(ctx: Ctx) -> list[ToDo]:
    """For "Things to do": renew when the date is near or passed, or pay the renewal invoice."""
    if ctx.principal is None or ctx.principal.member_id is None:
        return []
    found = renewals.summary(ctx.db, member_id=ctx.principal.member_id, now=ctx.now)
    if not found.can_renew and found.open is None:
        return []
    renewal_on = found.member.renewal_on
    if found.open is not None:
        # Card as well when it is offered (the settings answer first: no look-up where Stripe is not set up).
        how = "by card or bank transfer" if cards.offered(ctx.db, ctx.settings) else "by bank transfer"
        detail = f"{invoices.amount_text(found.open.amount, 'GBP')} {how}, reference {found.open.reference}"
        action = "How to pay"
    else:
        detail = (
            f"Your membership is due for renewal on {renewal_on.strftime('%-d %B %Y')}" if renewal_on else ""
        )
        action = "Renew"
    return [
        ToDo(
            title="Renew your membership",
            detail=detail,
            url=ctx.url_for("membership:renew"),
            action=action,
        )
    ]


def _render_renew(ctx: Ctx, *, status_code: int = 200, error: str = "") -> Response:
    found = renewals.summary(ctx.db, member_id=acting.member_id(ctx), now=ctx.now)
    card = cards.offered(ctx.db, ctx.settings)
    response = ctx.render(
        "membership/renew.html",
        {
            "s": found,
            "standings": STANDINGS,
            "invoice": renewals.open_invoice(ctx.db, found.open),
            "error": error,
            "payment": society.payment_settings(ctx.db).as_text(),
            "card": card,
        },
        status_code=status_code,
    )
    # The card button's form ends on Stripe's page: the policy's form-action names it.
    return card_routes.allow_checkout(ctx.settings, response) if card else response


@page("member")
def renew(ctx: Ctx) -> Response:
    """The second click: what renewing costs and how to pay. POST asks for the invoice."""
    if ctx.request.method == "GET":
        return _render_renew(ctx)
    try:
        with ctx.attempt():
            renewal = renewals.request_renewal(ctx.db, member_id=acting.member_id(ctx), now=ctx.now)
            # Renewing accepts the current code of conduct and privacy notice (the page says so).
            leaving.accept_current(ctx.db, member_id=acting.member_id(ctx), now=ctx.now, source="renewal")
    except MembershipError as exc:
        if exc.code == "application_not_found":
            raise
        return _render_renew(ctx, status_code=409, error=exc.message)
    if renewal.paid_on is not None:
        ctx.flash("Renewed: thank you.")
    else:
        ctx.flash("Your invoice has been e-mailed to you; the details to pay are below.")
    return ctx.redirect("membership:renew")


def _card_urls(ctx: Ctx) -> dict[str, str]:
    return {
        "success_url": ctx.absolute_url("payments:returned"),
        "cancel_url": ctx.absolute_url("membership:renew"),
    }


def _card_look(ctx: Ctx) -> cards.CheckoutPlan | None:
    """The renewal's plan, when Stripe must be asked for a new session (None: nothing to ask; the handler
    says why, from its own reads)."""
    principal = acting.login_or_none(ctx)
    if principal is None or principal.member_id is None or not cards.offered(ctx.db, ctx.settings):
        return None
    try:
        plan = renewals.card_plan(ctx.db, member_id=principal.member_id, **_card_urls(ctx))
        return cards.needs_session(ctx.db, plan, now=ctx.now)
    except PortalError:
        return None


@page("member", prepare=Prepare(look=_card_look, work=card_routes.ask_stripe))
def renew_card(ctx: Ctx) -> Response:
    """The second click, by card: the renewal asked for (if it was not already) and its Checkout Session
    started or resumed, then the browser goes to Stripe. Stripe is asked in the route's `Prepare` work, with no
    transaction open; the session is stored here with the renewal and its invoice, in one short write."""
    if not cards.offered(ctx.db, ctx.settings):
        raise NotFound("Card payment is not offered.")
    try:
        with ctx.attempt():
            checkout = renewals.card_checkout(
                ctx.db, member_id=acting.member_id(ctx), created=ctx.prepared, now=ctx.now, **_card_urls(ctx)
            )
    except (MembershipError, PaymentError) as exc:
        if exc.code == "application_not_found":
            raise
        return _render_renew(ctx, status_code=409, error=exc.message)
    return RedirectResponse(checkout.url, status_code=303)


def _pdf(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@page("member")
def my_invoice(ctx: Ctx) -> Response:
    invoice = renewals.member_invoice(
        ctx.db, member_id=acting.member_id(ctx), invoice_id=int(ctx.params["invoice_id"])
    )
    return _pdf(invoices.render_pdf(invoice), invoices.invoice_filename(invoice))


@page("member")
def my_certificate(ctx: Ctx) -> Response:
    found = renewals.summary(ctx.db, member_id=acting.member_id(ctx), now=ctx.now)
    if found.standing not in ("active", "grace"):
        raise MembershipError(
            Code.WRONG_STATUS,
            "A certificate is given to members in good standing: renew first.",
            kind=Kind.CONFLICT,
        )
    details = society.society(ctx.db)
    member = found.member
    content = certificate.render_pdf(
        certificate.Certificate(
            society=society.society_name(ctx.db),
            charity_number=details.charity_number if details else "",
            name=member.full_name,
            membership_number=member.membership_number,
            category=found.category_label,
            joined_on=member.joined_on,
            valid_to=member.renewal_on,
            issued_on=london_day(ctx.now),
        )
    )
    return _pdf(content, f"membership-certificate-{member.membership_number}.pdf")


# --- the office -----------------------------------------------------------------------------------------------


def _render_staff(
    ctx: Ctx,
    member_id: int,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    found = renewals.summary(ctx.db, member_id=member_id, now=ctx.now)
    return ctx.render(
        "membership/renewals_staff.html",
        {
            "s": found,
            "standings": STANDINGS,
            "statuses": STATUSES,
            "history": renewals.renewals_of(ctx.db, member_id),
            "payments": ledger.of_member(ctx.db, member_id),
            "payment_methods": PAYMENT_METHODS,
            "hand_methods": HAND_METHODS,
            "card_checkouts": [
                c
                for c in cards.checkouts_for(ctx.db, purpose=renewals.CARD_PURPOSE, target_id=member_id)
                if c.status == "complete"
            ],
            "methods": renewals.methods(),
            "categories": members.option_labels(ctx.db, "category"),
            "errors": errors or {},
            "values": values
            or {"paid_on": london_day(ctx.now).isoformat(), "amount": f"{found.fee / 100:.2f}"},
        },
        status_code=status_code,
    )


@page(*STAFF)
def member_renewals(ctx: Ctx) -> Response:
    return _render_staff(ctx, int(ctx.params["member_id"]))


def _done(
    ctx: Ctx, member_id: int, run: Any, *, message: str, field: str, values: dict[str, Any]
) -> Response:
    try:
        with ctx.attempt():
            run()
    except MembershipError as exc:
        if exc.code == "application_not_found":
            raise
        return _render_staff(
            ctx,
            member_id,
            errors={exc.details.get("field", field): exc.message},
            values=values,
            status_code=422,
        )
    ctx.flash(message)
    return ctx.redirect("membership:member_renewals", member_id=member_id)


@page(*STAFF)
def record_renewal(ctx: Ctx) -> Response:
    member_id = int(ctx.params["member_id"])
    form = FormReader(ctx.form)
    paid_on = form.date("paid_on", label="the day it was paid")
    amount = form.money("amount", label="the amount paid", maximum=renewals.MAX_AMOUNT)
    method = form.choice("method", renewals.methods(), label="how it was paid")
    note = form.text("note", label="a note", required=False, max_length=2000)
    values = {k: form.raw(k) for k in ("paid_on", "amount", "method", "note")}
    if paid_on is None or amount is None or not form.ok:
        return _render_staff(ctx, member_id, errors=dict(form.errors), values=values, status_code=422)
    data = renewals.ManualRenewal(paid_on=paid_on, amount=amount, method=method, note=note)
    return _done(
        ctx,
        member_id,
        lambda: renewals.record_manual(
            ctx.db, member_id=member_id, data=data, actor=acting.actor(ctx), now=ctx.now
        ),
        message="The renewal is recorded and the renewal date moved on.",
        field="paid_on",
        values=values,
    )


@page(*STAFF)
def renewal_paid(ctx: Ctx) -> Response:
    member_id = int(ctx.params["member_id"])
    form = FormReader(ctx.form)
    paid_on = form.date("invoice_paid_on", label="the day the payment arrived")
    method = form.choice("invoice_method", HAND_METHODS, label="how it was paid", required=False)
    values = {"invoice_paid_on": form.raw("invoice_paid_on"), "invoice_method": form.raw("invoice_method")}
    if paid_on is None or not form.ok:
        return _render_staff(ctx, member_id, errors=dict(form.errors), values=values, status_code=422)
    renewal_id = int(ctx.params["renewal_id"])
    paid = ledger.Paid(method=method or "bank_transfer", source="staff")
    return _done(
        ctx,
        member_id,
        lambda: renewals.record_paid(
            ctx.db,
            renewal_id=renewal_id,
            paid_on=paid_on,
            actor=acting.actor(ctx),
            now=ctx.now,
            paid=paid,
            member_id=member_id,
        ),
        message="The invoice is marked paid and the renewal date moved on.",
        field="invoice_paid_on",
        values=values,
    )


@page(*STAFF)
def change_category(ctx: Ctx) -> Response:
    member_id = int(ctx.params["member_id"])
    category = FormReader(ctx.form).raw("category")
    return _done(
        ctx,
        member_id,
        lambda: renewals.change_category(
            ctx.db, member_id=member_id, category=category, actor=acting.actor(ctx), now=ctx.now
        ),
        message="The category is changed.",
        field="category",
        values={"category": category},
    )


def member_renewals_section(ctx: Ctx, member: Any) -> tuple[str, str] | None:
    """On a member's staff page: their renewal date and standing, with the way to their renewals page."""
    if ctx.principal is None or not ctx.principal.has(*STAFF):
        return None
    found = renewals.summary(ctx.db, member_id=member.id, now=ctx.now)
    return "Renewals", render_section(
        ctx, "membership/_member_renewals.html", {"s": found, "standings": STANDINGS}
    )


def _renewal_back(ctx: Ctx, checkout: Any) -> tuple[str, str]:
    return "Back to your membership", ctx.url_for("membership:renew")


card_routes.register_back(renewals.CARD_PURPOSE, _renewal_back)


routes = [
    Route("/renew", renew, methods=["GET", "POST"], name="renew"),
    Route("/renew/card", renew_card, methods=["POST"], name="renew_card"),
    Route("/invoices/{invoice_id:int}.pdf", my_invoice, name="my_invoice"),
    Route("/certificate.pdf", my_certificate, name="certificate"),
    Route("/members/{member_id:int}/renewals", member_renewals, name="member_renewals"),
    Route(
        "/members/{member_id:int}/renewals/record", record_renewal, methods=["POST"], name="record_renewal"
    ),
    Route(
        "/members/{member_id:int}/renewals/{renewal_id:int}/paid",
        renewal_paid,
        methods=["POST"],
        name="renewal_paid",
    ),
    Route("/members/{member_id:int}/category", change_category, methods=["POST"], name="change_category"),
]
