"""Accreditation (`/accreditation/standards`, public: the levels and their standards) and the editing of the
levels (`/accreditation/manage`, the accreditation role), named `accreditation:*`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from portal.accounts.access import page
from portal.accounts.acting import actor
from portal.accreditation import service
from portal.accreditation.models import Level
from portal.errors import PortalError
from portal.training import service as training
from portal.web.context import Ctx
from portal.web.forms import FormReader, whole_number

#: Who edits the levels: the accreditation role, and administrators.
STAFF = ("accreditation", "admin")
TEXT_LIMIT = 20_000
Errors = dict[str, str]


def is_staff(ctx: Ctx) -> bool:
    return ctx.principal is not None and ctx.principal.has(*STAFF)


# --- the public page -------------------------------------------------------------------------------------------


@page("public")
def standards(ctx: Ctx) -> Response:
    return ctx.render(
        "accreditation/standards.html",
        {"standards": service.standards(ctx.db), "staff": is_staff(ctx)},
    )


# --- staff: the levels -----------------------------------------------------------------------------------------


@page(*STAFF)
def manage(ctx: Ctx) -> Response:
    return ctx.render(
        "accreditation/manage.html", {"standards": service.standards(ctx.db, include_drafts=True)}
    )


def _number(form: FormReader, name: str, label: str, least: int) -> int:
    raw = form.raw(name)
    form.data[name] = raw
    value = whole_number(raw, maximum=service.MAX_NUMBER) if raw else None
    if value is None or value < least:
        form.error(name, f"Enter {label} as a whole number from {least} to {service.MAX_NUMBER}.")
        return 0
    return value


def _level_form(
    raw: Mapping[str, Any] | None, courses: Mapping[str, str]
) -> tuple[service.LevelData | None, Errors, dict[str, Any]]:
    form = FormReader(raw)
    name = form.text("name", label="the level's name")
    slug = form.text("slug", label="the short name", max_length=service.MAX_SLUG).lower()
    course = form.choice("course_id", courses, label="one of the society's courses, or none", required=False)
    numbers = {
        field: _number(form, field, label, 1 if field == "duration_months" else 0)
        for field, label in service.NUMBERS.items()
    }
    sign_off = form.checkbox("sign_off_required")
    description = form.text("description", label="the description", required=False, max_length=TEXT_LIMIT)
    raw_position = form.raw("position")
    form.data["position"] = raw_position
    position = whole_number(raw_position, maximum=10_000) if raw_position else None
    if raw_position and position is None:
        form.error("position", "Enter the position as a whole number from 0 to 10000, or leave it empty.")
    if not form.ok:
        return None, form.errors, form.data
    data = service.LevelData(
        name=name,
        slug=slug,
        course_id=int(course) if course else None,
        sign_off_required=sign_off,
        description=description,
        position=position,
        **numbers,
    )
    return data, form.errors, form.data


def _values(found: Level) -> dict[str, Any]:
    names = ("name", "slug", "sign_off_required", "description", "position", *service.NUMBERS)
    values = {name: getattr(found, name) for name in names}
    values["course_id"] = str(found.course_id) if found.course_id else ""
    return values


def _courses(ctx: Ctx) -> dict[str, str]:
    return {str(c.id): c.title for c in training.list_courses(ctx.db, include_drafts=True)}


def _level_page(
    ctx: Ctx, found: Level | None, values: dict[str, Any], errors: Errors, courses: dict[str, str]
) -> Response:
    return ctx.render(
        "accreditation/level_form.html",
        {"level": found, "values": values, "errors": errors, "courses": courses},
        status_code=422 if errors else 200,
    )


def _save(ctx: Ctx, found: Level | None) -> Response:
    courses = _courses(ctx)
    data, errors, values = _level_form(ctx.form, courses)
    if data is not None:
        try:
            with ctx.attempt():
                saved = service.save_level(
                    ctx.db, level_id=found.id if found else None, data=data, actor=actor(ctx), now=ctx.now
                )
        except PortalError as exc:
            errors = {exc.details.get("field", "name"): exc.message}
        else:
            ctx.flash(f"The level \u201c{saved.name}\u201d is saved.")
            return ctx.redirect("accreditation:manage")
    return _level_page(ctx, found, values, errors, courses)


@page(*STAFF)
def level_new(ctx: Ctx) -> Response:
    if ctx.request.method == "POST":
        return _save(ctx, None)
    return _level_page(ctx, None, {"duration_months": 36}, {}, _courses(ctx))


@page(*STAFF)
def level_edit(ctx: Ctx) -> Response:
    found = service.get_level(ctx.db, ctx.params["level_id"])
    if ctx.request.method == "POST":
        return _save(ctx, found)
    return _level_page(ctx, found, _values(found), {}, _courses(ctx))


routes = [
    Route("/accreditation/standards", standards, name="standards"),
    Route("/accreditation/manage", manage, name="manage"),
    Route("/accreditation/manage/levels/new", level_new, methods=["GET", "POST"], name="level_new"),
    Route(
        "/accreditation/manage/levels/{level_id:int}", level_edit, methods=["GET", "POST"], name="level_edit"
    ),
]
