"""The reviewer's queue of accreditation applications (`/accreditation/applications`, the accreditation role
and administrators) and one application's page with its decisions: approve (from and until; conditions in
their public wording, or none), ask the member for more, refuse with reasons."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from portal.accounts.access import page
from portal.accounts.acting import actor
from portal.accreditation import applications as apps
from portal.accreditation.application_routes import _file_response, links
from portal.accreditation.cpd import member_or_404
from portal.accreditation.cpd_routes import today
from portal.accreditation.models import APPLICATION_STATUSES, Holding, LevelApplication
from portal.accreditation.routes import STAFF
from portal.accreditation.service import get_level
from portal.errors import PortalError
from portal.web.context import Ctx
from portal.web.forms import FormReader

Errors = dict[str, str]


@page(*STAFF)
def queue(ctx: Ctx) -> Response:
    status = ctx.query.get("status", "")
    return ctx.render(
        "accreditation/applications.html",
        {
            "rows": apps.queue(ctx.db, status=status or None),
            "statuses": APPLICATION_STATUSES,
            "status": status if status in APPLICATION_STATUSES else "",
        },
    )


def _default_from(ctx: Ctx, found: LevelApplication) -> date:
    """A first accreditation starts today; a renewal the day after the level held ends (or today, if later)."""
    start = today(ctx)
    if found.renews_id is not None:
        held = ctx.db.get(Holding, found.renews_id)
        if held is not None:
            start = max(start, held.until_on + timedelta(days=1))
    return start


def _review_page(ctx: Ctx, found: LevelApplication, errors: Errors, values: dict[str, Any]) -> Response:
    level = get_level(ctx.db, found.level_id)
    from_on = _default_from(ctx, found)
    shown = {"from_on": from_on, "until_on": apps.default_until(level, from_on), **values}
    records = apps.training_records(ctx.db, member_id=found.member_id, course_id=level.course_id)
    return ctx.render(
        "accreditation/application.html",
        {
            "application": found,
            "member": member_or_404(ctx.db, found.member_id),
            "level": level,
            "training": next(
                (r for r in records if r.registration.id == found.training_registration_id), None
            ),
            "statuses": APPLICATION_STATUSES,
            "errors": errors,
            "values": shown,
        },
        status_code=422 if errors else 200,
    )


@page(*STAFF)
def review(ctx: Ctx) -> Response:
    return _review_page(ctx, apps.get_application(ctx.db, ctx.params["application_id"]), {}, {})


def _decide(ctx: Ctx, form: FormReader, call: Any, done: str) -> Response:
    found = apps.get_application(ctx.db, ctx.params["application_id"])
    if form.ok:
        try:
            with ctx.attempt():
                call(found)
        except PortalError as exc:
            form.error(exc.details.get("field", "decision"), exc.message)
        else:
            ctx.flash(done)
            return ctx.redirect("accreditation:application", application_id=found.id)
    return _review_page(ctx, found, form.errors, form.data)


@page(*STAFF)
def approve(ctx: Ctx) -> Response:
    form = FormReader(ctx.form)
    from_on = form.date("from_on", label="the first day")
    form.data.setdefault("from_on", form.raw("from_on"))
    until_on = form.date("until_on", label="the last day", required=False)
    form.data.setdefault("until_on", form.raw("until_on"))
    conditions = form.text("conditions", label="the conditions", required=False, max_length=apps.TEXT_LIMIT)
    if form.checkbox("with_conditions") and not conditions:
        form.error("conditions", "Write the conditions, in the words the public register will show.")
    if from_on and until_on and until_on < from_on:
        form.error("until_on", "The accreditation must end on or after the day it starts.")

    def call(found: LevelApplication) -> None:
        assert from_on is not None
        apps.approve(
            ctx.db,
            application_id=found.id,
            from_on=from_on,
            until_on=until_on,
            conditions=conditions,
            actor=actor(ctx),
            now=ctx.now,
            links=links(ctx),
        )

    return _decide(
        ctx,
        form,
        call,
        "The application is approved with conditions, and the member is told."
        if conditions
        else "The application is approved, and the member is told.",
    )


@page(*STAFF)
def ask(ctx: Ctx) -> Response:
    form = FormReader(ctx.form)
    question = form.text("question", label="what you need from the member", max_length=apps.TEXT_LIMIT)
    return _decide(
        ctx,
        form,
        lambda found: apps.ask(
            ctx.db,
            application_id=found.id,
            question=question,
            actor=actor(ctx),
            now=ctx.now,
            links=links(ctx),
        ),
        "The member is asked for more.",
    )


@page(*STAFF)
def refuse(ctx: Ctx) -> Response:
    form = FormReader(ctx.form)
    reasons = form.text("reasons", label="the reasons for refusing", max_length=apps.TEXT_LIMIT)
    return _decide(
        ctx,
        form,
        lambda found: apps.refuse(
            ctx.db, application_id=found.id, reasons=reasons, actor=actor(ctx), now=ctx.now, links=links(ctx)
        ),
        "The application is refused, and the member is told why.",
    )


@page(*STAFF)
def resend(ctx: Ctx) -> Response:
    return _decide(
        ctx,
        FormReader(ctx.form),
        lambda found: apps.resend_supervisor(
            ctx.db, application_id=found.id, actor=actor(ctx), now=ctx.now, key=ctx.key, links=links(ctx)
        ),
        "The supervisor is sent a new link; the old one no longer works.",
    )


@page(*STAFF)
def file(ctx: Ctx) -> Response:
    return _file_response(
        apps.get_file(ctx.db, application_id=ctx.params["application_id"], file_id=ctx.params["file_id"])
    )


routes = [
    Route("/accreditation/applications", queue, name="applications"),
    Route("/accreditation/applications/{application_id:int}", review, name="application"),
    Route(
        "/accreditation/applications/{application_id:int}/approve", approve, methods=["POST"], name="approve"
    ),
    Route("/accreditation/applications/{application_id:int}/ask", ask, methods=["POST"], name="ask"),
    Route("/accreditation/applications/{application_id:int}/refuse", refuse, methods=["POST"], name="refuse"),
    Route("/accreditation/applications/{application_id:int}/resend", resend, methods=["POST"], name="resend"),
    Route(
        "/accreditation/applications/{application_id:int}/files/{file_id:int}", file, name="application_file"
    ),
]
