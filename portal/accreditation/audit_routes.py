"""The random CPD audit (`/accreditation/audits`, the accreditation role): draw one, see who was drawn with
the seed that draws them again, and record each outcome."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.responses import Response
from starlette.routing import Route

from portal.accounts.access import page
from portal.accounts.acting import actor
from portal.accreditation import audits
from portal.accreditation.cpd_routes import today
from portal.accreditation.links import Links
from portal.accreditation.models import AUDIT_OUTCOMES, CpdAudit
from portal.accreditation.routes import STAFF
from portal.errors import PortalError
from portal.web.context import Ctx
from portal.web.forms import FormReader, whole_number

Errors = dict[str, str]


@page(*STAFF)
def index(ctx: Ctx) -> Response:
    errors: Errors = {}
    values: dict[str, Any] = {}
    if ctx.request.method == "POST":
        form = FormReader(ctx.form)
        raw = form.raw("size")
        size = whole_number(raw, maximum=audits.MAX_SIZE) if raw else None
        if size is None or size < 1:
            form.error(
                "size", f"Enter how many registrants to draw, a whole number from 1 to {audits.MAX_SIZE}."
            )
        form.data["size"] = raw
        deadline = form.date("deadline", label="the deadline")
        form.data.setdefault("deadline", form.raw("deadline"))
        errors, values = form.errors, form.data
        if form.ok and size is not None and deadline is not None:
            try:
                with ctx.attempt():
                    found = audits.draw(
                        ctx.db,
                        size=size,
                        deadline=deadline,
                        today=today(ctx),
                        actor=actor(ctx),
                        now=ctx.now,
                        links=Links.for_app(ctx.request.app),
                    )
            except PortalError as exc:
                errors = {exc.details.get("field", "size"): exc.message}
            else:
                ctx.flash("The audit is drawn and each registrant drawn is asked for their log.")
                return ctx.redirect("accreditation:audit", audit_id=found.id)
    return ctx.render(
        "accreditation/audits.html",
        {
            "audits": list(
                ctx.db.scalars(select(CpdAudit).order_by(CpdAudit.drawn_at.desc(), CpdAudit.id.desc()))
            ),
            "pool": len(audits.registrants(ctx.db, today=today(ctx))),
            "errors": errors,
            "values": values,
        },
        status_code=422 if errors else 200,
    )


@page(*STAFF)
def detail(ctx: Ctx) -> Response:
    found = audits.get_audit(ctx.db, ctx.params["audit_id"])
    errors: Errors = {}
    if ctx.request.method == "POST":
        form = FormReader(ctx.form)
        member_id = whole_number(form.raw("member_id"))
        outcome = form.choice("outcome", AUDIT_OUTCOMES, label="the outcome")
        if member_id is None:
            form.error("outcome", "Choose the outcome for a member drawn for this audit.")
        errors = form.errors
        if form.ok and member_id is not None:
            try:
                with ctx.attempt():
                    audits.record_outcome(
                        ctx.db,
                        audit_id=found.id,
                        member_id=member_id,
                        outcome=outcome,
                        actor=actor(ctx),
                        now=ctx.now,
                    )
            except PortalError as exc:
                errors = {"outcome": exc.message}
            else:
                ctx.flash("The outcome is recorded.")
                return ctx.redirect("accreditation:audit", audit_id=found.id)
    return ctx.render(
        "accreditation/audit.html",
        {
            "audit": found,
            "drawn": audits.drawn(ctx.db, audit_id=found.id),
            "outcomes": AUDIT_OUTCOMES,
            "errors": errors,
        },
        status_code=422 if errors else 200,
    )


routes = [
    Route("/accreditation/audits", index, methods=["GET", "POST"], name="audits"),
    Route("/accreditation/audits/{audit_id:int}", detail, methods=["GET", "POST"], name="audit"),
]
