"""Member self-service pages: "Activate your member account", "Forgot your password?", "My account" and
the change of e-mail address. At the site's root, named `me:<name>` (app.py: `namespaced("me", routes)`).

"My account" sections
---------------------
`/me` shows first "Things to do" (every `ToDo` the app's `hooks.things_to_do` sources give, the soonest due
first: a vote, an offered place, what is owed), then one panel per entry of the app's `hooks.my_account`, in
the order `create_app` lists them, and last the member's details from the roll and the change of e-mail
address. Another domain writes a section function, for
example events::

    def my_registrations(ctx: Ctx) -> tuple[str, str] | None:
        rows = service.registrations_for_member(ctx.db, member_id=ctx.principal.member_id)
        if not rows:
            return None  # nothing to show: no panel at all
        return "My registrations", render_section(ctx, "events/_my_registrations.html", {"rows": rows})

and `create_app` names it in `Hooks(my_account=(…, events_routes.my_registrations, …))`.

A section function receives the request's `Ctx` (read-only database session, `ctx.principal.member_id`
set) and returns `(title, html)` — the panel's heading and its body — or None to show no panel. The body is
HTML when it is `Markup` (what `render_section` returns, from an autoescaped partial); a plain `str` is shown
as text. With no sections registered the page shows only the member's details.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markupsafe import Markup
from starlette.responses import Response
from starlette.routing import Route

from portal.accounts import acting
from portal.accounts.access import page
from portal.mail.service import MailError
from portal.members import selfservice
from portal.members.models import STATUSES, Member
from portal.web.context import Ctx, page_context
from portal.web.errors import status_for
from portal.web.forms import FormReader


def render_section(ctx: Ctx, template: str, context: dict[str, Any] | None = None) -> Markup:
    """Render a partial template with the page's usual context, for a "My account" section."""
    env = ctx.request.app.state.templates.env
    data = {**page_context(ctx.request, ctx), **(context or {})}
    return Markup(env.get_template(template).render(data))  # noqa: S704 - an autoescaped template


def _links(ctx: Ctx) -> selfservice.Links:
    return selfservice.Links.for_app(ctx.request.app)


def _request_link(ctx: Ctx, *, template: str, request: Callable[..., None], done: str) -> Response:
    """The shared shape of "activate" and "forgot password": one e-mail field, the same answer for every
    address, 429 when the throttle says so."""
    form = FormReader(ctx.form)
    error = None
    status = 200
    if ctx.request.method == "POST":
        email = form.email(label="your e-mail address")
        if form.ok:
            try:
                with ctx.attempt():
                    request(
                        ctx.db, email=email, ip=ctx.client_ip, now=ctx.now, key=ctx.key, links=_links(ctx)
                    )
            except MailError as exc:
                error, status = exc.message, status_for(exc)
            else:
                return ctx.redirect(done, query="sent=1")
        else:
            status = 422
    return ctx.render(
        template,
        {"errors": form.errors, "values": form.data, "error": error, "sent": bool(ctx.query.get("sent"))},
        status_code=status,
    )


@page("public")
def activate(ctx: Ctx) -> Response:
    return _request_link(
        ctx, template="me/activate.html", request=selfservice.request_activation, done="me:activate"
    )


@page("public")
def forgot_password(ctx: Ctx) -> Response:
    return _request_link(
        ctx,
        template="me/forgot_password.html",
        request=selfservice.request_password_reset,
        done="me:forgot_password",
    )


def _my_account(
    ctx: Ctx,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    account = acting.actor(ctx)
    member = ctx.db.get(Member, acting.member_id(ctx))
    sections = [found for section in ctx.hooks.my_account if (found := section(ctx)) is not None]
    todo = sorted(
        (item for source in ctx.hooks.things_to_do for item in source(ctx)),
        key=lambda item: (item.due is None, item.due or ctx.now),
    )
    return ctx.render(
        "me/account.html",
        {
            "account": account,
            "member": member,
            "statuses": STATUSES,
            "sections": sections,
            "todo": todo,
            "errors": errors or {},
            "values": values or {},
        },
        status_code=status_code,
    )


@page("member")
def my_account(ctx: Ctx) -> Response:
    return _my_account(ctx)


@page("member")
def change_email(ctx: Ctx) -> Response:
    form = FormReader(ctx.form)
    new_email = form.email("new_email", label="your new e-mail address")
    if form.ok:
        try:
            with ctx.attempt():
                selfservice.request_email_change(
                    ctx.db,
                    account_id=acting.login(ctx).account_id,
                    new_email=new_email,
                    ip=ctx.client_ip,
                    now=ctx.now,
                    key=ctx.key,
                    links=_links(ctx),
                )
        except (selfservice.SelfServiceError, MailError) as exc:
            form.error("new_email", exc.message)
            return _my_account(ctx, errors=form.errors, values=form.data, status_code=status_for(exc))
        ctx.flash(
            f"We have sent a link to {new_email}. Your address changes when you follow it (within 24 hours)."
        )
        return ctx.redirect("me:account")
    return _my_account(ctx, errors=form.errors, values=form.data, status_code=422)


@page("public")
def confirm_email(ctx: Ctx) -> Response:
    token = ctx.params["token"]
    # Showing the page changes nothing (mail scanners open links); the button does.
    row = selfservice.pending_email_change(ctx.db, token=token, now=ctx.now, key=ctx.key)
    error = None
    if ctx.request.method == "POST":
        try:
            with ctx.attempt():
                account = selfservice.confirm_email_change(ctx.db, token=token, now=ctx.now, key=ctx.key)
        except selfservice.SelfServiceError as exc:
            error = exc
        else:
            ctx.flash(f"Your e-mail address is now {account.email}.")
            if ctx.principal is not None and ctx.principal.account_id == account.id:
                return ctx.redirect("me:account" if account.member_id else "home")
            return ctx.redirect("accounts:login")
    return ctx.render(
        "me/confirm_email.html",
        {"new_email": row.payload, "error": error.message if error else None},
        status_code=status_for(error) if error else 200,
    )


routes = [
    Route("/activate", activate, methods=["GET", "POST"], name="activate"),
    Route("/forgot-password", forgot_password, methods=["GET", "POST"], name="forgot_password"),
    Route("/me", my_account, methods=["GET"], name="account"),
    Route("/me/email", change_email, methods=["POST"], name="change_email"),
    Route("/me/email/{token}", confirm_email, methods=["GET", "POST"], name="confirm_email"),
]
