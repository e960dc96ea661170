"""Applying for accreditation, as the member sees it (`/me/accreditation`: the levels with where they stand,
the application form, their own applications with the reviewer's questions and their answers and files) and
as the named supervisor does (`/accreditation/supervise/<token>`: the private link that confirms or declines).
The My account panel is here too."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from portal.accounts import acting
from portal.accounts.access import page
from portal.accreditation import applications as apps
from portal.accreditation.cpd import member_or_404
from portal.accreditation.cpd_routes import today
from portal.accreditation.links import Links
from portal.accreditation.models import APPLICATION_STATUSES, Level
from portal.accreditation.service import MAX_NUMBER, get_level
from portal.errors import PortalError
from portal.members.selfservice_routes import render_section
from portal.site import files
from portal.web.context import Ctx
from portal.web.errors import status_for
from portal.web.forms import FormReader, whole_number
from portal.web.hooks import ToDo

EVIDENCE_FIELDS = tuple(f"evidence_{n}" for n in range(1, apps.MAX_FILES + 1))
EVIDENCE = files.evidence_rules(EVIDENCE_FIELDS)
Errors = dict[str, str]


def links(ctx: Ctx) -> Links:
    return Links.for_app(ctx.request.app)


def _file_response(found: Any) -> Response:
    return Response(
        found.content,
        media_type=found.content_type,
        headers=files.headers(found.filename, found.content_type, public=False),
    )


# --- the member's page ----------------------------------------------------------------------------------------


@page("member")
def mine(ctx: Ctx) -> Response:
    member_id = acting.member_id(ctx)
    return ctx.render(
        "accreditation/mine.html",
        {
            "standings": apps.standings(ctx.db, member_id=member_id, today=today(ctx)),
            "applications": apps.applications_of(ctx.db, member_id=member_id),
            "statuses": APPLICATION_STATUSES,
        },
    )


def accreditation_section(ctx: Ctx) -> tuple[str, str] | None:
    """The "Accreditation" panel of My account: levels held and until when, re-accreditation when open."""
    if ctx.principal is None or ctx.principal.member_id is None:
        return None
    found = [
        s
        for s in apps.standings(ctx.db, member_id=ctx.principal.member_id, today=today(ctx))
        if s.holding is not None or s.application is not None
    ]
    return "Accreditation", render_section(
        ctx, "accreditation/_my_accreditation.html", {"standings": found, "statuses": APPLICATION_STATUSES}
    )


def reaccreditation_to_do(ctx: Ctx) -> list[ToDo]:
    """For "Things to do": a level held whose re-accreditation is open and not yet applied for, or an
    application the reviewer asked more of."""
    if ctx.principal is None or ctx.principal.member_id is None:
        return []
    out = []
    for s in apps.standings(ctx.db, member_id=ctx.principal.member_id, today=today(ctx)):
        if s.application is not None and s.application.status == "more":
            out.append(
                ToDo(
                    title=f"Answer the reviewer: {s.level.name}",
                    detail=f"Application {s.application.reference} waits for your answer",
                    url=ctx.url_for("accreditation:my_application", application_id=s.application.id),
                    action="Answer",
                )
            )
        elif s.held and s.renewable and s.may_apply and s.holding is not None:
            out.append(
                ToDo(
                    title=f"Apply for re-accreditation: {s.level.name}",
                    detail=f"Your accreditation ends on {s.holding.until_on.strftime('%-d %B %Y')}",
                    url=ctx.url_for("accreditation:apply", level_id=s.level.id),
                    action="Apply",
                )
            )
    return out


# --- applying -------------------------------------------------------------------------------------------------


def _number(form: FormReader, name: str, label: str) -> int:
    raw = form.raw(name)
    form.data[name] = raw
    value = whole_number(raw, maximum=MAX_NUMBER) if raw else None
    if value is None:
        form.error(name, f"Enter {label} as a whole number from 0 to {MAX_NUMBER}.")
        return 0
    return value


def _training_options(records: list[apps.TrainingRecord]) -> dict[str, str]:
    options = {f"booking-{r.registration.id}": r.event.title for r in records}
    options["elsewhere"] = "I completed it elsewhere"
    options["none"] = "Not yet"
    return options


def read_application(
    raw: Mapping[str, Any] | None, level: Level, records: list[apps.TrainingRecord]
) -> tuple[apps.ApplicationData | None, FormReader]:
    """The form into what `apps.apply` takes, or the messages beside the fields (never raises)."""
    form = FormReader(raw)
    registration_id: int | None = None
    done = False
    if level.course_id is not None:
        training = form.choice(
            "training", _training_options(records), label="whether you have completed the training"
        )
        if training.startswith("booking-"):
            registration_id = int(training.removeprefix("booking-"))
        done = training not in ("none", "")
    note = form.text(
        "training_note", label="where and when you completed it", required=False, max_length=apps.TEXT_LIMIT
    )
    if level.course_id is not None and form.data.get("training") == "elsewhere" and not note:
        form.error("training_note", "Say where and when you completed the training.")
    cases = _number(form, "supervised_cases", "the supervised cases")
    hours = _number(form, "supervision_hours", "the supervision hours")
    supervisor_name = form.text("supervisor_name", label="your supervisor's name")
    supervisor_email = form.email("supervisor_email", label="your supervisor's e-mail address")
    statement = form.text("statement", label="anything else", required=False, max_length=apps.TEXT_LIMIT)
    if not form.ok:
        return None, form
    data = apps.ApplicationData(
        training_done=done,
        training_registration_id=registration_id,
        training_note=note,
        supervised_cases=cases,
        supervision_hours=hours,
        supervisor_name=supervisor_name,
        supervisor_email=supervisor_email,
        statement=statement,
    )
    return data, form


def _prefill(records: list[apps.TrainingRecord]) -> dict[str, Any]:
    attended = next((r for r in records if r.attended), None)
    return {"training": f"booking-{attended.registration.id}"} if attended else {}


@page("member", uploads=EVIDENCE)
def apply_form(ctx: Ctx) -> Response:
    member_id = acting.member_id(ctx)
    level = get_level(ctx.db, ctx.params["level_id"])
    records = apps.training_records(ctx.db, member_id=member_id, course_id=level.course_id)
    standing = next(
        s for s in apps.standings(ctx.db, member_id=member_id, today=today(ctx)) if s.level.id == level.id
    )
    errors: Errors = {}
    values: dict[str, Any] = _prefill(records)
    problem, status = "", 200
    if ctx.request.method == "POST":
        data, form = read_application(ctx.form, level, records)
        evidence = files.evidence_of(ctx.uploads, EVIDENCE_FIELDS, form)
        errors, values = form.errors, form.data
        if data is not None and form.ok:
            try:
                with ctx.attempt():
                    found = apps.apply(
                        ctx.db,
                        member_id=member_id,
                        level_id=level.id,
                        data=data,
                        files=evidence,
                        today=today(ctx),
                        now=ctx.now,
                        key=ctx.key,
                        links=links(ctx),
                    )
            except PortalError as exc:
                if "field" in exc.details:
                    errors = {exc.details["field"]: exc.message}
                else:
                    problem, status = exc.message, status_for(exc)
            else:
                ctx.flash(
                    f"Your application {found.reference} is sent. We have e-mailed {found.supervisor_name} "
                    "to confirm it."
                )
                return ctx.redirect("accreditation:my_application", application_id=found.id)
    return ctx.render(
        "accreditation/apply.html",
        {
            "level": level,
            "standing": standing,
            "records": records,
            "training_options": _training_options(records),
            "errors": errors,
            "values": values,
            "evidence_fields": EVIDENCE_FIELDS,
            "max_mb": files.MAX_BYTES // (1024 * 1024),
            "problem": problem,
        },
        status_code=422 if errors else status,
    )


@page("member", uploads=EVIDENCE)
def my_application(ctx: Ctx) -> Response:
    member_id = acting.member_id(ctx)
    application_id = ctx.params["application_id"]
    found = apps.member_application(ctx.db, member_id=member_id, application_id=application_id)
    form = FormReader(ctx.form)
    if ctx.request.method == "POST":
        body = form.text("answer", label="your answer", required=False, max_length=apps.TEXT_LIMIT)
        evidence = files.evidence_of(ctx.uploads, EVIDENCE_FIELDS, form)
        if form.ok:
            try:
                with ctx.attempt():
                    apps.member_answer(
                        ctx.db,
                        member_id=member_id,
                        application_id=found.id,
                        body=body,
                        files=evidence,
                        now=ctx.now,
                    )
            except PortalError as exc:
                if "field" not in exc.details:
                    ctx.flash(exc.message)
                    return ctx.redirect("accreditation:my_application", application_id=found.id)
                form.error(exc.details["field"], exc.message)
            else:
                ctx.flash("Your answer is sent to the reviewer.")
                return ctx.redirect("accreditation:my_application", application_id=found.id)
    return ctx.render(
        "accreditation/my_application.html",
        {
            "application": found,
            "level": get_level(ctx.db, found.level_id),
            "statuses": APPLICATION_STATUSES,
            "errors": form.errors,
            "values": form.data,
            "evidence_fields": EVIDENCE_FIELDS,
            "max_mb": files.MAX_BYTES // (1024 * 1024),
        },
        status_code=422 if form.errors else 200,
    )


@page("member")
def my_file(ctx: Ctx) -> Response:
    return _file_response(
        apps.member_file(
            ctx.db,
            member_id=acting.member_id(ctx),
            application_id=ctx.params["application_id"],
            file_id=ctx.params["file_id"],
        )
    )


# --- the supervisor's private link ----------------------------------------------------------------------------


@page("public")
def supervise(ctx: Ctx) -> Response:
    token = ctx.params["token"]
    found = apps.for_supervisor(ctx.db, token=token, key=ctx.key, now=ctx.now)
    form = FormReader(ctx.form)
    if ctx.request.method == "POST":
        answer = form.choice(
            "answer", {"confirm": "Confirm", "decline": "Decline"}, label="confirm or decline"
        )
        comment = form.text("comment", label="your comment", required=False, max_length=apps.TEXT_LIMIT)
        if answer == "decline" and not comment:
            form.error("comment", "Say why you cannot confirm the application.")
        if form.ok:
            try:
                with ctx.attempt():
                    apps.supervisor_answer(
                        ctx.db,
                        token=token,
                        confirm=answer == "confirm",
                        comment=comment,
                        key=ctx.key,
                        now=ctx.now,
                    )
            except PortalError as exc:
                if "field" not in exc.details:
                    raise
                form.error(exc.details["field"], exc.message)
            else:
                return ctx.render("accreditation/supervised.html", {"confirmed": answer == "confirm"})
    return ctx.render(
        "accreditation/supervise.html",
        {
            "application": found,
            "member": member_or_404(ctx.db, found.member_id),
            "level": get_level(ctx.db, found.level_id),
            "errors": form.errors,
            "values": form.data,
        },
        status_code=422 if form.errors else 200,
    )


routes = [
    Route("/me/accreditation", mine, name="mine"),
    Route("/me/accreditation/apply/{level_id:int}", apply_form, methods=["GET", "POST"], name="apply"),
    Route(
        "/me/accreditation/applications/{application_id:int}",
        my_application,
        methods=["GET", "POST"],
        name="my_application",
    ),
    Route("/me/accreditation/applications/{application_id:int}/files/{file_id:int}", my_file, name="my_file"),
    Route("/accreditation/supervise/{token}", supervise, methods=["GET", "POST"], name="supervise"),
]
