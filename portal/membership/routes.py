"""Joining the society: the public Membership Options page and the Register as a Member journey (choose a
category, then one form; htmx swaps the form with its messages, and it works without JavaScript), the
applicant's private answer page, and the office's applications queue with its decisions and the membership
year's settings (office staff and administrators)."""

from __future__ import annotations

from typing import Any

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.accounts import acting
from portal.accounts.access import page
from portal.errors import Invalid, NotFound, PortalError
from portal.events import card_routes, cards
from portal.events.payments import PaymentError
from portal.mail.service import MailError
from portal.membership import (
    bank,  # noqa: F401 - registers MEM/REN with the statement import
    fees,
    ledger,
    service,
)
from portal.membership.errors import MembershipError
from portal.membership.links import Links
from portal.membership.models import (
    APPLICATION_STATUSES,
    PAYMENT_METHODS,
    REGISTRATION_BODIES,
    TRAINING,
    Application,
)
from portal.site import files
from portal.society import service as society
from portal.society.models import FIRST_FEES, YEAR_KINDS
from portal.web.boundary import Prepare
from portal.web.context import Ctx
from portal.web.errors import status_for
from portal.web.forms import FormReader

STAFF = ("office", "admin")
#: How the office may say a fee was paid by hand (a card payment is Stripe's to record).
HAND_METHODS = {k: v for k, v in PAYMENT_METHODS.items() if k != "card"}
EVIDENCE_FIELDS = tuple(f"evidence_{n}" for n in range(1, service.MAX_FILES + 1))
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


EVIDENCE = files.evidence_rules(EVIDENCE_FIELDS)


def _links(ctx: Ctx) -> Links:
    return Links.for_app(ctx.request.app)


def _evidence(ctx: Ctx, form: FormReader) -> list[files.Evidence]:
    return files.evidence_of(ctx.uploads, EVIDENCE_FIELDS, form)


# --- the public pages -----------------------------------------------------------------------------------------


@page("public")
def options(ctx: Ctx) -> Response:
    """Membership Options, drawn from the categories staff edit (no second copy to keep in step)."""
    return ctx.render(
        "membership/options.html",
        {
            "categories": service.categories(ctx.db),
            "year": society.membership_settings(ctx.db),
            "months": MONTHS,
        },
    )


@page("public")
def apply(ctx: Ctx) -> Response:
    """Register as a Member, step 1: choose a category (a GET form, so it works without JavaScript)."""
    open_categories = [c for c in service.categories(ctx.db) if c.open_to_applicants]
    errors: dict[str, str] = {}
    if "category" in ctx.query:
        chosen = ctx.query.get("category", "")
        if chosen in {c.code for c in open_categories}:
            return ctx.redirect("membership:apply_form", category=chosen)
        errors["category"] = "Choose the category of membership you are applying for."
    return ctx.render(
        "membership/apply.html",
        {"categories": open_categories, "errors": errors},
        status_code=422 if errors else 200,
    )


def _read_application(
    ctx: Ctx, category: Any
) -> tuple[service.Draft | None, list[service.Evidence], FormReader]:
    form = FormReader(ctx.form)
    year = society.membership_settings(ctx.db)
    values = {
        "first_name": form.text("first_name", label="your first name", max_length=100),
        "last_name": form.text("last_name", label="your last name", max_length=100),
        "email": form.email("email", label="your e-mail address"),
        "address": form.text("address", label="your postal address", max_length=1000),
        "profession": form.text("profession", label="your profession", max_length=200),
        "registration_body": form.raw("registration_body"),
        "registration_number": form.text(
            "registration_number", label="your registration number", required=False, max_length=60
        ),
        "training": form.raw("training"),
    }
    # The lists' choices are checked by the rules (`check_draft`); the form shows them again as chosen.
    form.data.update(registration_body=values["registration_body"], training=values["training"])
    for field, message in service.check_draft(values).items():
        form.error(field, message)
    if not form.checkbox("conduct"):
        form.error("conduct", "Confirm that you will keep to the code of conduct.")
    if not form.checkbox("privacy"):
        form.error("privacy", "Confirm that you have read the privacy notice.")
    evidence = _evidence(ctx, form)
    if category.evidence_upload and not evidence and not any(f in form.errors for f in EVIDENCE_FIELDS):
        form.error("evidence_1", "Upload the evidence this category asks for (a PDF, JPEG or PNG).")
    if not form.ok:
        return None, evidence, form
    draft = service.Draft(
        **values, conduct_version=year.conduct_version, privacy_version=year.privacy_version
    )
    return draft, evidence, form


def _render_form(
    ctx: Ctx, category: Any, *, form: FormReader | None = None, status_code: int = 200
) -> Response:
    return ctx.render(
        "membership/apply_form.html",
        {
            "category": category,
            "errors": form.errors if form else {},
            "values": {k: v for k, v in (form.data if form else {}).items()},
            "bodies": REGISTRATION_BODIES,
            "training": TRAINING,
            "year": society.membership_settings(ctx.db),
            "evidence_fields": EVIDENCE_FIELDS,
            "max_mb": files.MAX_BYTES // (1024 * 1024),
        },
        status_code=status_code,
        partial="membership/_apply_form.html",
    )


@page("public", uploads=EVIDENCE)
def apply_form(ctx: Ctx) -> Response:
    """Register as a Member, step 2: details, declarations and evidence, in one form."""
    category = service.open_category(ctx.db, ctx.params["category"])
    if ctx.request.method != "POST":
        return _render_form(ctx, category)
    draft, evidence, form = _read_application(ctx, category)
    if draft is None:
        return _render_form(ctx, category, form=form, status_code=422)
    try:
        with ctx.attempt():
            service.submit_application(
                ctx.db,
                category_code=category.code,
                draft=draft,
                files=evidence,
                ip=ctx.client_ip,
                now=ctx.now,
                key=ctx.key,
                links=_links(ctx),
            )
    except (MembershipError, MailError) as exc:
        form.error(exc.details.get("field", "form"), exc.message)
        return _render_form(ctx, category, form=form, status_code=status_for(exc))
    return ctx.redirect("membership:applied")


@page("public")
def applied(ctx: Ctx) -> Response:
    return ctx.render("membership/applied.html")


@page("public", uploads=EVIDENCE)
def answer(ctx: Ctx) -> Response:
    """The applicant's private page: the office's question, and the answer (text, and files if need be)."""
    token = ctx.params["token"]
    application = service.application_for_token(ctx.db, token=token, key=ctx.key)
    form = FormReader(ctx.form)
    if ctx.request.method == "POST":
        body = form.text("answer", label="your answer", required=False, max_length=10000)
        evidence = _evidence(ctx, form)
        if form.ok:
            try:
                with ctx.attempt():
                    service.answer(ctx.db, token=token, body=body, files=evidence, now=ctx.now, key=ctx.key)
            except MembershipError as exc:
                if exc.code != "bad_application_value":
                    raise
                form.error(exc.details.get("field", "answer"), exc.message)
            else:
                return ctx.redirect("membership:answered")
    question = next((m for m in reversed(application.messages) if m.author == "office"), None)
    return ctx.render(
        "membership/answer.html",
        {
            "application": application,
            "question": question,
            "errors": form.errors,
            "values": form.data,
            "evidence_fields": EVIDENCE_FIELDS,
            "max_mb": files.MAX_BYTES // (1024 * 1024),
        },
        status_code=422 if form.errors else 200,
    )


@page("public")
def answered(ctx: Ctx) -> Response:
    return ctx.render("membership/answered.html")


# --- the office -----------------------------------------------------------------------------------------------


@page(*STAFF)
def applications(ctx: Ctx) -> Response:
    status = ctx.query.get("status", "new")
    status = status if status in (*APPLICATION_STATUSES, "all") else "new"
    return ctx.render(
        "membership/queue.html",
        {
            "applications": service.queue(ctx.db, status=status),
            "status": status,
            "statuses": APPLICATION_STATUSES,
            "counts": service.queue_counts(ctx.db),
            "labels": {c.code: c.label for c in service.categories(ctx.db)},
        },
    )


def _render_application(
    ctx: Ctx,
    application: Application,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    categories = {c.code: c for c in service.categories(ctx.db)}
    return ctx.render(
        "membership/application.html",
        {
            "application": application,
            "category": categories.get(application.category),
            "statuses": APPLICATION_STATUSES,
            "bodies": REGISTRATION_BODIES,
            "training": TRAINING,
            "invoice": service.invoice_of(ctx.db, application),
            "errors": errors or {},
            "values": values or {},
            "today": ctx.now.astimezone(service.LONDON).date().isoformat(),
            "methods": HAND_METHODS,
        },
        status_code=422 if errors else 200,
    )


@page(*STAFF)
def application(ctx: Ctx) -> Response:
    return _render_application(ctx, service.get_application(ctx.db, int(ctx.params["application_id"])))


def _step(ctx: Ctx, run: Any, *, done: str, field: str, values: dict[str, str] | None = None) -> Response:
    """One decision on an application: done, or shown again with the refusal beside its field."""
    application_id = int(ctx.params["application_id"])
    try:
        with ctx.attempt():
            run(application_id)
    except MembershipError as exc:
        if exc.code == "application_not_found":
            raise
        return _render_application(
            ctx,
            service.get_application(ctx.db, application_id),
            errors={exc.details.get("field", field): exc.message},
            values=values,
        )
    ctx.flash(done)
    return ctx.redirect("membership:application", application_id=application_id)


@page(*STAFF)
def ask(ctx: Ctx) -> Response:
    question = FormReader(ctx.form).raw("question")
    return _step(
        ctx,
        lambda application_id: service.ask_for_more(
            ctx.db,
            application_id=application_id,
            question=question,
            actor=acting.actor(ctx),
            now=ctx.now,
            key=ctx.key,
            links=_links(ctx),
        ),
        done="Your question has been e-mailed to the applicant.",
        field="question",
        values={"question": question},
    )


@page(*STAFF)
def approve(ctx: Ctx) -> Response:
    return _step(
        ctx,
        lambda application_id: service.approve(
            ctx.db,
            application_id=application_id,
            actor=acting.actor(ctx),
            now=ctx.now,
            key=ctx.key,
            links=_links(ctx),
            card=cards.offered(ctx.db, ctx.settings),
        ),
        done="Approved: the applicant is on the roll and has been e-mailed.",
        field="decision",
    )


@page(*STAFF)
def reject(ctx: Ctx) -> Response:
    reason = FormReader(ctx.form).raw("reason")
    return _step(
        ctx,
        lambda application_id: service.reject(
            ctx.db, application_id=application_id, reason=reason, actor=acting.actor(ctx), now=ctx.now
        ),
        done="Rejected: the applicant has been e-mailed the reason.",
        field="reason",
        values={"reason": reason},
    )


@page(*STAFF)
def fee_paid(ctx: Ctx) -> Response:
    form = FormReader(ctx.form)
    received_on = form.date("received_on", label="the day the payment arrived")
    method = form.choice("method", HAND_METHODS, label="how it was paid", required=False)
    if received_on is None or not form.ok:
        application_id = int(ctx.params["application_id"])
        return _render_application(
            ctx,
            service.get_application(ctx.db, application_id),
            errors=form.errors,
            values={"received_on": form.raw("received_on"), "method": form.raw("method")},
        )
    paid = ledger.Paid(method=method or "bank_transfer", source="staff")
    return _step(
        ctx,
        lambda application_id: service.record_first_fee(
            ctx.db,
            application_id=application_id,
            received_on=received_on,
            actor=acting.actor(ctx),
            now=ctx.now,
            key=ctx.key,
            links=_links(ctx),
            paid=paid,
        ),
        done="The first fee is recorded: the member is active and has been sent the activation link.",
        field="received_on",
    )


def _payable(ctx: Ctx) -> tuple[Application, cards.StripeConfig]:
    """The application whose private pay link this is, while card payment is offered."""
    application_id = int(ctx.params["application_id"])
    config = cards.StripeConfig.of(ctx.settings)
    if (
        config is None
        or not cards.offered(ctx.db, ctx.settings)
        or not fees.pay_token_ok(ctx.key, application_id, str(ctx.params["token"]))
    ):
        raise NotFound()
    return service.get_application(ctx.db, application_id), config


def _fee_urls(ctx: Ctx) -> dict[str, str]:
    return {
        "success_url": ctx.absolute_url("payments:returned"),
        "cancel_url": ctx.absolute_url(
            "membership:pay", application_id=int(ctx.params["application_id"]), token=ctx.params["token"]
        ),
    }


def _fee_look(ctx: Ctx) -> cards.CheckoutPlan | None:
    """The fee's plan, when Stripe must be asked for a new session (None: nothing to ask; the handler says
    why, from its own reads)."""
    try:
        application, _config = _payable(ctx)
        plan = service.fee_plan(ctx.db, application_id=application.id, **_fee_urls(ctx))
        return cards.needs_session(ctx.db, plan, now=ctx.now)
    except PortalError:
        return None


@page("public", prepare=Prepare(look=_fee_look, work=card_routes.ask_stripe))
def pay(ctx: Ctx) -> Response:
    """The applicant's private link to pay the first fee by card: a page with the button, which starts (or
    resumes) the Checkout Session and sends the browser to Stripe (asked in the route's `Prepare` work, with
    no transaction open; stored here)."""
    application, _config = _payable(ctx)
    if ctx.request.method == "POST":
        try:
            with ctx.attempt():
                checkout = service.fee_checkout(
                    ctx.db, application_id=application.id, created=ctx.prepared, now=ctx.now, **_fee_urls(ctx)
                )
        except (MembershipError, PaymentError) as exc:
            ctx.flash(exc.message)
            return ctx.redirect("membership:pay", application_id=application.id, token=ctx.params["token"])
        return RedirectResponse(checkout.url, status_code=303)
    owed = application.status == "approved" and application.fee_amount > 0 and application.fee_paid_on is None
    return card_routes.allow_checkout(
        ctx.settings, ctx.render("membership/pay.html", {"application": application, "owed": owed})
    )


@page(*STAFF)
def evidence_file(ctx: Ctx) -> Response:
    found = service.get_file(
        ctx.db, application_id=int(ctx.params["application_id"]), file_id=int(ctx.params["file_id"])
    )
    return Response(
        found.content,
        media_type=found.content_type,
        headers=files.headers(found.filename, found.content_type, public=False),
    )


@page(*STAFF)
def settings(ctx: Ctx) -> Response:
    """The membership year, and the versions of the code of conduct and privacy notice applicants accept."""
    current = society.membership_settings(ctx.db)
    form = FormReader(ctx.form)
    if ctx.request.method == "POST":
        values: dict[str, Any] = {
            "year_kind": form.choice("year_kind", YEAR_KINDS, label="how the membership year runs"),
            "year_start_month": form.integer(
                "year_start_month", label="the month the year starts", minimum=1
            ),
            "year_start_day": form.integer("year_start_day", label="the day the year starts", minimum=1),
            "first_fee": form.choice("first_fee", FIRST_FEES, label="what a new member pays first"),
            "conduct_version": form.text(
                "conduct_version", label="the code of conduct's version", max_length=40
            ),
            "privacy_version": form.text(
                "privacy_version", label="the privacy notice's version", max_length=40
            ),
        }
        grace = form.integer("grace_days", label="the grace period in days", minimum=0, required=False)
        if grace is not None:
            values["grace_days"] = grace
        years = form.integer("erase_after_years", label="the years after leaving", minimum=1, required=False)
        if years is not None:
            values["erase_after_years"] = years
        if form.ok:
            try:
                with ctx.attempt():
                    society.save_membership_settings(
                        ctx.db, values=values, actor=acting.actor(ctx), now=ctx.now
                    )
            except Invalid as exc:
                form.error(exc.details.get("field", "year_kind"), exc.message)
            else:
                ctx.flash("The membership year is saved.")
                return ctx.redirect("membership:settings")
    values_shown = (
        form.data if form.errors else {name: getattr(current, name) for name in society.MEMBERSHIP_FIELDS}
    )
    return ctx.render(
        "membership/settings.html",
        {
            "errors": form.errors,
            "values": values_shown,
            "year_kinds": YEAR_KINDS,
            "first_fees": FIRST_FEES,
            "months": {str(number): name for number, name in enumerate(MONTHS, start=1)},
        },
        status_code=422 if form.errors else 200,
    )


def _fee_back(ctx: Ctx, checkout: Any) -> tuple[str, str]:
    """The return page's way back to the first fee's pay page (where an expired payment can start again)."""
    application_id = int(checkout.target_id)
    return "Back to your first fee", ctx.url_for(
        "membership:pay", application_id=application_id, token=fees.pay_token(ctx.key, application_id)
    )


card_routes.register_back("membership_fee", _fee_back)


routes = [
    Route("/options", options, name="options"),
    Route("/apply", apply, name="apply"),
    Route("/apply/sent", applied, name="applied"),
    Route("/apply/{category}", apply_form, methods=["GET", "POST"], name="apply_form"),
    Route("/answer/sent", answered, name="answered"),
    Route("/answer/{token}", answer, methods=["GET", "POST"], name="answer"),
    Route("/applications", applications, name="applications"),
    Route("/applications/{application_id:int}", application, name="application"),
    Route("/applications/{application_id:int}/ask", ask, methods=["POST"], name="ask"),
    Route("/applications/{application_id:int}/approve", approve, methods=["POST"], name="approve"),
    Route("/applications/{application_id:int}/reject", reject, methods=["POST"], name="reject"),
    Route("/applications/{application_id:int}/fee-paid", fee_paid, methods=["POST"], name="fee_paid"),
    Route("/pay/{application_id:int}/{token}", pay, methods=["GET", "POST"], name="pay"),
    Route("/applications/{application_id:int}/files/{file_id:int}", evidence_file, name="file"),
    Route("/settings", settings, methods=["GET", "POST"], name="settings"),
]
