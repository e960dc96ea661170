"""A member's CPD log (`/me/cpd`, the member: the year's hours against the requirement, the entries, a form to
add one), its panel on My account, and the levels a member holds as staff record them
(`/accreditation/members/<id>`, the accreditation role; a panel on the member's staff page leads there)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from starlette.responses import Response
from starlette.routing import Route

from portal.accounts import acting
from portal.accounts.access import page
from portal.accreditation import cpd, service
from portal.accreditation.models import CPD_CATEGORIES
from portal.accreditation.routes import STAFF
from portal.errors import PortalError
from portal.members.selfservice_routes import render_section
from portal.site import files
from portal.web.context import Ctx
from portal.web.forms import FormReader

UK = ZoneInfo("Europe/London")
EVIDENCE = files.evidence_rule("evidence")
Errors = dict[str, str]


def today(ctx: Ctx) -> date:
    return ctx.now.astimezone(UK).date()


# --- the member's log ------------------------------------------------------------------------------------------


def _entry_form(
    raw: Mapping[str, Any] | None, uploads: Mapping[str, Any] | None = None
) -> tuple[cpd.CpdData | None, Errors, dict[str, Any]]:
    form = FormReader(raw)
    done_on = form.date("done_on", label="the date of the activity")
    form.data.setdefault("done_on", form.raw("done_on"))
    activity = form.text("activity", label="what the activity was", max_length=300)
    raw_hours = form.raw("hours")
    form.data["hours"] = raw_hours
    hours = cpd.parse_hours(raw_hours) if raw_hours else None
    if not raw_hours:
        form.error("hours", "Enter the hours the activity took.")
    elif hours is None:
        form.error("hours", "Enter the hours as a number more than 0 and at most 100, like 1.5.")
    category = form.choice("category", CPD_CATEGORIES, label="the kind of CPD")
    reflection = form.text("reflection", label="the reflection", required=False, max_length=5000)
    evidence = files.evidence_of(uploads or {}, ("evidence",), form)
    if not form.ok or done_on is None or hours is None:
        return None, form.errors, form.data
    data = cpd.CpdData(done_on, activity, hours, category, reflection, evidence[0] if evidence else None)
    return data, form.errors, form.data


@page("member", uploads=(EVIDENCE,))
def log(ctx: Ctx) -> Response:
    member_id = acting.member_id(ctx)
    errors: Errors = {}
    values: dict[str, Any] = {}
    if ctx.request.method == "POST":
        data, errors, values = _entry_form(ctx.form, ctx.uploads)
        if data is not None:
            try:
                with ctx.attempt():
                    cpd.add_entry(ctx.db, member_id=member_id, data=data, today=today(ctx), now=ctx.now)
            except PortalError as exc:
                errors = {exc.details.get("field", "activity"): exc.message}
            else:
                ctx.flash("The entry is in your CPD log.")
                return ctx.redirect("accreditation:cpd")
    return ctx.render(
        "accreditation/cpd.html",
        {
            "progress": cpd.progress(ctx.db, member_id=member_id, today=today(ctx)),
            "entries": cpd.entries_of(ctx.db, member_id=member_id),
            "categories": CPD_CATEGORIES,
            "errors": errors,
            "values": values,
            "max_mb": files.MAX_BYTES // (1024 * 1024),
        },
        status_code=422 if errors else 200,
    )


def _evidence_response(found: Any) -> Response:
    assert found.evidence is not None
    return Response(
        found.evidence,
        media_type=found.evidence_type,
        headers=files.headers(found.evidence_name, found.evidence_type, public=False),
    )


@page("member")
def evidence(ctx: Ctx) -> Response:
    """The evidence of one of the member's own CPD entries."""
    return _evidence_response(
        cpd.entry_evidence(ctx.db, member_id=acting.member_id(ctx), entry_id=ctx.params["entry_id"])
    )


@page(*STAFF)
def member_evidence(ctx: Ctx) -> Response:
    """The evidence of a member's CPD entry, for the reviewer (a CPD audit)."""
    return _evidence_response(
        cpd.entry_evidence(ctx.db, member_id=ctx.params["member_id"], entry_id=ctx.params["entry_id"])
    )


def cpd_section(ctx: Ctx) -> tuple[str, str] | None:
    """The "CPD" panel of My account: this year's hours against the requirement."""
    if ctx.principal is None or ctx.principal.member_id is None:
        return None
    found = cpd.progress(ctx.db, member_id=ctx.principal.member_id, today=today(ctx))
    return "CPD", render_section(ctx, "accreditation/_my_cpd.html", {"progress": found})


# --- staff: the levels a member holds --------------------------------------------------------------------------


def _holding_form(
    raw: Mapping[str, Any] | None, levels: Mapping[str, str]
) -> tuple[tuple[int, date, date] | None, Errors, dict[str, Any]]:
    form = FormReader(raw)
    level = form.choice("level_id", levels, label="the level")
    from_on = form.date("from_on", label="the first day")
    form.data.setdefault("from_on", form.raw("from_on"))
    until_on = form.date("until_on", label="the last day")
    form.data.setdefault("until_on", form.raw("until_on"))
    if from_on and until_on and until_on < from_on:
        form.error("until_on", "The accreditation must end on or after the day it starts.")
    if not form.ok or from_on is None or until_on is None:
        return None, form.errors, form.data
    return (int(level), from_on, until_on), form.errors, form.data


@page(*STAFF)
def member(ctx: Ctx) -> Response:
    found = cpd.member_or_404(ctx.db, ctx.params["member_id"])
    levels = {str(level.id): level.name for level in service.list_levels(ctx.db)}
    errors: Errors = {}
    values: dict[str, Any] = {}
    if ctx.request.method == "POST":
        data, errors, values = _holding_form(ctx.form, levels)
        if data is not None:
            level_id, from_on, until_on = data
            try:
                with ctx.attempt():
                    cpd.record_holding(
                        ctx.db,
                        member_id=found.id,
                        level_id=level_id,
                        from_on=from_on,
                        until_on=until_on,
                        actor=acting.actor(ctx),
                        now=ctx.now,
                    )
            except PortalError as exc:
                errors = {exc.details.get("field", "level_id"): exc.message}
            else:
                ctx.flash(f"The accreditation of {found.full_name} is recorded.")
                return ctx.redirect("accreditation:member", member_id=found.id)
    return ctx.render(
        "accreditation/member.html",
        {
            "member": found,
            "holdings": cpd.holdings_of(ctx.db, member_id=found.id),
            "progress": cpd.progress(ctx.db, member_id=found.id, today=today(ctx)),
            "entries": cpd.entries_of(ctx.db, member_id=found.id),
            "categories": CPD_CATEGORIES,
            "levels": levels,
            "errors": errors,
            "values": values,
        },
        status_code=422 if errors else 200,
    )


def member_levels_section(ctx: Ctx, found: Any) -> tuple[str, str] | None:
    """The levels a member holds, on the member's staff page: for the accreditation role."""
    if ctx.principal is None or not ctx.principal.has(*STAFF):
        return None
    return "Accreditation", render_section(
        ctx,
        "accreditation/_member_levels.html",
        {"member": found, "holdings": cpd.holdings_of(ctx.db, member_id=found.id)},
    )


routes = [
    Route("/me/cpd", log, methods=["GET", "POST"], name="cpd"),
    Route("/me/cpd/{entry_id:int}/evidence", evidence, name="cpd_evidence"),
    Route("/accreditation/members/{member_id:int}", member, methods=["GET", "POST"], name="member"),
    Route(
        "/accreditation/members/{member_id:int}/cpd/{entry_id:int}/evidence",
        member_evidence,
        name="member_cpd_evidence",
    ),
]
