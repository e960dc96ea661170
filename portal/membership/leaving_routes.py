"""Resigning (the member, from My membership; staff, recording the day a member left) and accepting the
current code of conduct and privacy notice (the member, from My membership)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from portal.accounts import acting
from portal.accounts.access import page
from portal.members import service as members
from portal.members.standing import london_day
from portal.membership import leaving, renewal_routes
from portal.membership.errors import MembershipError
from portal.society import service as society
from portal.web.context import Ctx
from portal.web.forms import FormReader

STAFF = ("office", "admin")


def _render_resign(ctx: Ctx, *, errors: dict[str, str] | None = None) -> Response:
    member = members.get_member(ctx.db, acting.member_id(ctx))
    return ctx.render(
        "membership/resign.html",
        {
            "member": member,
            "errors": errors or {},
            "years": society.membership_settings(ctx.db).erase_after_years,
        },
        status_code=422 if errors else 200,
    )


@page("member")
def resign(ctx: Ctx) -> Response:
    """The member resigns: a page that says what it means, then a confirmed POST."""
    if ctx.request.method != "POST":
        return _render_resign(ctx)
    form = FormReader(ctx.form)
    if not form.checkbox("confirm"):
        return _render_resign(ctx, errors={"confirm": "Tick the box to confirm that you are resigning."})
    try:
        with ctx.attempt():
            leaving.resign(
                ctx.db,
                member_id=acting.member_id(ctx),
                left_on=london_day(ctx.now),
                actor=None,
                by_member=True,
                now=ctx.now,
            )
    except MembershipError as exc:
        return _render_resign(ctx, errors={"confirm": exc.message})
    ctx.flash("Your resignation is recorded. We have e-mailed you a confirmation.")
    return ctx.redirect("me:account")


@page("member")
def consent(ctx: Ctx) -> Response:
    """The member accepts the current versions of the code of conduct and privacy notice."""
    leaving.accept_current(ctx.db, member_id=acting.member_id(ctx), now=ctx.now, source="consent")
    ctx.flash("Thank you: your acceptance of the current code of conduct and privacy notice is recorded.")
    return ctx.redirect("me:account")


@page(*STAFF)
def record_resignation(ctx: Ctx) -> Response:
    """Staff record that a member resigned, and the day they left."""
    member_id = int(ctx.params["member_id"])
    form = FormReader(ctx.form)
    left_on = form.date("left_on", label="the day they left")
    if left_on is not None and form.ok:
        try:
            with ctx.attempt():
                leaving.resign(
                    ctx.db,
                    member_id=member_id,
                    left_on=left_on,
                    actor=acting.actor(ctx),
                    by_member=False,
                    now=ctx.now,
                )
        except MembershipError as exc:
            if exc.code == "application_not_found":
                raise
            form.error(exc.details.get("field", "left_on"), exc.message)
        else:
            ctx.flash("The resignation is recorded.")
            return ctx.redirect("membership:member_renewals", member_id=member_id)
    return renewal_routes._render_staff(
        ctx, member_id, errors=dict(form.errors), values={"left_on": form.raw("left_on")}, status_code=422
    )


routes = [
    Route("/resign", resign, methods=["GET", "POST"], name="resign"),
    Route("/consent", consent, methods=["POST"], name="consent"),
    Route("/members/{member_id:int}/resign", record_resignation, methods=["POST"], name="resign_member"),
]
