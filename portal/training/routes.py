"""Training (`/training`, public: the courses, each with its upcoming dates, and the external CPD courses) and
its editing (`/training/manage`, staff), named `training:*`.

A course's upcoming dates are the events room's to show: it adds them to the course page through the
`course_page` hook (`web/hooks.py`), so this room knows nothing of events.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.responses import Response
from starlette.routing import Route

from portal.accounts.access import page
from portal.accounts.acting import actor
from portal.errors import PortalError
from portal.training import service
from portal.training.models import STATUSES, Course, ExternalCourse
from portal.web.caching import revalidated
from portal.web.context import Ctx
from portal.web.forms import FormReader, whole_number
from portal.web.meta import share

#: Who edits the courses and the CPD list: the website's editors and office staff (administrators have every
#: staff role's rights).
EDITORS = ("editor", "office")
TEXT_LIMIT = 20_000
UK = ZoneInfo("Europe/London")
Errors = dict[str, str]


def is_editor(ctx: Ctx) -> bool:
    return ctx.principal is not None and ctx.principal.has(*EDITORS)


def today(now: datetime) -> date:
    """The day it is in the UK: a course on the CPD list drops off after its last day there."""
    return now.astimezone(UK).date()


# --- the public pages ------------------------------------------------------------------------------------------


@page("public")
def index(ctx: Ctx) -> Response:
    return ctx.render(
        "training/index.html",
        {"courses": service.list_courses(ctx.db, include_drafts=is_editor(ctx)), "editor": is_editor(ctx)},
    )


@page("public")
def course(ctx: Ctx) -> Response:
    found = service.course_by_slug(ctx.db, ctx.params["slug"], include_drafts=is_editor(ctx))
    values = {
        "course": found,
        "editor": is_editor(ctx),
        # What other rooms add to the page: the events room's upcoming dates of this course.
        "panels": [shown for panel in ctx.hooks.course_page if (shown := panel(ctx, found)) is not None],
        "share": share(ctx, title=found.title, description=found.summary),
    }
    return revalidated(ctx, ctx.render("training/course.html", values))


@page("public")
def cpd(ctx: Ctx) -> Response:
    return ctx.render(
        "training/cpd.html",
        {"items": service.current_external(ctx.db, today=today(ctx.now)), "editor": is_editor(ctx)},
    )


# --- staff: the list -------------------------------------------------------------------------------------------


@page(*EDITORS)
def manage(ctx: Ctx) -> Response:
    on = today(ctx.now)
    items = service.external_courses(ctx.db)
    return ctx.render(
        "training/manage.html",
        {
            "courses": service.list_courses(ctx.db, include_drafts=True),
            "statuses": STATUSES,
            "items": items,
            "past": {i.id for i in items if i.last_day is not None and i.last_day < on},
        },
    )


# --- staff: courses --------------------------------------------------------------------------------------------


def _course_form(raw: Mapping[str, Any] | None) -> tuple[service.CourseData | None, Errors, dict[str, Any]]:
    form = FormReader(raw)
    title = form.text("title", label="the course's title")
    slug = form.text("slug", label="the address", max_length=service.MAX_SLUG).lower()
    summary = form.text("summary", label="the summary", required=False, max_length=300)
    about = form.text("about", label="what the course is", max_length=TEXT_LIMIT)
    audience = form.text("audience", label="who it is for", required=False, max_length=TEXT_LIMIT)
    prerequisites = form.text(
        "prerequisites", label="the prerequisites", required=False, max_length=TEXT_LIMIT
    )
    raw_position = form.raw("position")
    form.data["position"] = raw_position
    position = whole_number(raw_position, maximum=10_000) if raw_position else None
    if raw_position and position is None:
        form.error("position", "Enter the position as a whole number from 0 to 10000, or leave it empty.")
    status = form.choice("status", STATUSES, label="draft or published")
    if not form.ok:
        return None, form.errors, form.data
    data = service.CourseData(
        title=title,
        slug=slug,
        summary=summary,
        about=about,
        audience=audience,
        prerequisites=prerequisites,
        position=position,
        status=status,
    )
    return data, form.errors, form.data


def _course_values(found: Course) -> dict[str, Any]:
    names = ("title", "slug", "summary", "about", "audience", "prerequisites", "position", "status")
    return {name: getattr(found, name) for name in names}


def _save_course(ctx: Ctx, found: Course | None) -> Response:
    data, errors, values = _course_form(ctx.form)
    if data is not None:
        try:
            with ctx.attempt():
                saved = service.save_course(
                    ctx.db, course_id=found.id if found else None, data=data, actor=actor(ctx), now=ctx.now
                )
        except PortalError as exc:
            errors = {exc.details.get("field", "title"): exc.message}
        else:
            ctx.flash(f"The course \u201c{saved.title}\u201d is saved.")
            return ctx.redirect("training:course_edit", course_id=saved.id)
    return _course_page(ctx, found, values, errors)


def _course_page(ctx: Ctx, found: Course | None, values: dict[str, Any], errors: Errors) -> Response:
    return ctx.render(
        "training/course_form.html",
        {"course": found, "values": values, "errors": errors, "statuses": STATUSES},
        status_code=422 if errors else 200,
    )


@page(*EDITORS)
def course_new(ctx: Ctx) -> Response:
    if ctx.request.method == "POST":
        return _save_course(ctx, None)
    return _course_page(ctx, None, {"status": "draft"}, {})


@page(*EDITORS)
def course_edit(ctx: Ctx) -> Response:
    found = service.get_course(ctx.db, ctx.params["course_id"])
    if ctx.request.method == "POST":
        return _save_course(ctx, found)
    return _course_page(ctx, found, _course_values(found), {})


# --- staff: the external CPD courses ---------------------------------------------------------------------------


def _external_form(
    raw: Mapping[str, Any] | None,
) -> tuple[service.ExternalData | None, Errors, dict[str, Any]]:
    form = FormReader(raw)
    title = form.text("title", label="the course's title")
    provider = form.text("provider", label="who runs it")
    url = form.text("url", label="the course's web address", max_length=500)
    starts = form.date("starts_on", label="the first day", required=False)
    form.data.setdefault("starts_on", form.raw("starts_on"))
    ends = form.date("ends_on", label="the last day", required=False)
    form.data.setdefault("ends_on", form.raw("ends_on"))
    note = form.text("note", label="the note", required=False, max_length=500)
    if url and "url" not in form.errors:
        try:
            service.check_url(url)
        except PortalError as exc:
            form.error("url", exc.message)
    if starts and ends and ends < starts:
        form.error("ends_on", "The course must end on or after the day it starts.")
    if not form.ok:
        return None, form.errors, form.data
    return service.ExternalData(title, provider, url, starts, ends, note), form.errors, form.data


def _external_values(found: ExternalCourse) -> dict[str, Any]:
    return {
        "title": found.title,
        "provider": found.provider,
        "url": found.url,
        "starts_on": found.starts_on.isoformat() if found.starts_on else "",
        "ends_on": found.ends_on.isoformat() if found.ends_on else "",
        "note": found.note,
    }


def _external_page(
    ctx: Ctx, found: ExternalCourse | None, values: dict[str, Any], errors: Errors
) -> Response:
    return ctx.render(
        "training/cpd_form.html",
        {"item": found, "values": values, "errors": errors},
        status_code=422 if errors else 200,
    )


def _save_external(ctx: Ctx, found: ExternalCourse | None) -> Response:
    data, errors, values = _external_form(ctx.form)
    if data is not None:
        try:
            with ctx.attempt():
                saved = service.save_external(
                    ctx.db, item_id=found.id if found else None, data=data, actor=actor(ctx), now=ctx.now
                )
        except PortalError as exc:
            errors = {exc.details.get("field", "title"): exc.message}
        else:
            ctx.flash(f"\u201c{saved.title}\u201d is saved on the list of external CPD courses.")
            return ctx.redirect("training:manage")
    return _external_page(ctx, found, values, errors)


@page(*EDITORS)
def cpd_new(ctx: Ctx) -> Response:
    if ctx.request.method == "POST":
        return _save_external(ctx, None)
    return _external_page(ctx, None, {}, {})


@page(*EDITORS)
def cpd_edit(ctx: Ctx) -> Response:
    found = service.get_external(ctx.db, ctx.params["item_id"])
    if ctx.request.method == "POST":
        return _save_external(ctx, found)
    return _external_page(ctx, found, _external_values(found), {})


@page(*EDITORS)
def cpd_remove(ctx: Ctx) -> Response:
    """GET: what will be removed, with a form to confirm it; POST: remove it."""
    found = service.get_external(ctx.db, ctx.params["item_id"])
    if ctx.request.method != "POST":
        return ctx.render("training/cpd_remove.html", {"item": found})
    title = service.remove_external(ctx.db, item_id=found.id, actor=actor(ctx), now=ctx.now)
    ctx.flash(f"\u201c{title}\u201d is off the list.")
    return ctx.redirect("training:manage")


routes = [
    Route("/training", index, name="index"),
    Route("/training/external-cpd-courses", cpd, name="cpd"),
    Route("/training/manage", manage, name="manage"),
    Route("/training/manage/courses/new", course_new, methods=["GET", "POST"], name="course_new"),
    Route(
        "/training/manage/courses/{course_id:int}", course_edit, methods=["GET", "POST"], name="course_edit"
    ),
    Route("/training/manage/cpd/new", cpd_new, methods=["GET", "POST"], name="cpd_new"),
    Route("/training/manage/cpd/{item_id:int}", cpd_edit, methods=["GET", "POST"], name="cpd_edit"),
    Route(
        "/training/manage/cpd/{item_id:int}/remove", cpd_remove, methods=["GET", "POST"], name="cpd_remove"
    ),
    Route("/training/{slug}", course, name="course"),
]
