"""Meet the Team (`/team`, public) and its editing (`/team/manage`, staff), named `team:*`."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from portal.accounts.access import page
from portal.accounts.acting import actor
from portal.elections import photos
from portal.errors import PortalError
from portal.team import service
from portal.web.context import Ctx
from portal.web.forms import FormReader
from portal.web.uploads import UploadRule

#: Who edits Meet the Team (administrators have every staff role's rights).
EDITORS = ("office",)
BIO_LIMIT = 2000
DESCRIPTION_LIMIT = 5000

TEAM_PHOTO = UploadRule(
    field="photo",
    max_bytes=photos.MAX_BYTES,
    too_large=f"The photo is larger than {photos.MAX_BYTES // (1024 * 1024)} MB. Upload a smaller one.",
    check=photos.check_photo,
    process=photos.clean_photo,
    per_hour=30,
    kind="team_photo",
    noun="photos",
)


# --- the public pages ------------------------------------------------------------------------------------------


@page("public")
def team(ctx: Ctx) -> Response:
    return ctx.render("team/index.html", {"committees": service.committees(ctx.db)})


@page("public")
def committee(ctx: Ctx) -> Response:
    found = service.committee_by_slug(ctx.db, ctx.params["slug"])
    return ctx.render("team/committee.html", {"committee": found, "others": service.committees(ctx.db)})


@page("public")
def photo(ctx: Ctx) -> Response:
    found = service.person(ctx.db, ctx.params["person_id"])
    if not found.has_photo or found.photo is None:
        return Response(status_code=404)
    return Response(
        found.photo,
        media_type="image/jpeg",
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


# --- editing -----------------------------------------------------------------------------------------------


def _committee_form(raw: Any) -> tuple[service.CommitteeData, dict[str, str], dict[str, Any]]:
    form = FormReader(raw)
    data = service.CommitteeData(
        name=form.text("committee_name", label="the committee's name"),
        slug=form.text("slug", label="the address", max_length=80).lower(),
        description=form.text(
            "description", label="the description", required=False, max_length=DESCRIPTION_LIMIT
        ),
    )
    return data, form.errors, form.data


@page(*EDITORS)
def manage(ctx: Ctx) -> Response:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if ctx.request.method == "POST":
        data, errors, values = _committee_form(ctx.form)
        if not errors:
            try:
                with ctx.attempt():
                    made = service.save_committee(
                        ctx.db, actor=actor(ctx), committee_id=None, data=data, now=ctx.now
                    )
            except PortalError as exc:
                errors = {exc.details.get("field", "committee_name"): exc.message}
            else:
                ctx.flash(f"{made.name} is added.")
                return ctx.redirect("team:edit", committee_id=made.id)
    return ctx.render(
        "team/manage.html",
        {"committees": service.committees(ctx.db), "errors": errors, "values": values},
        status_code=422 if errors else 200,
    )


def _edit_page(
    ctx: Ctx,
    committee_id: int,
    *,
    errors: dict[str, str],
    values: dict[str, Any],
    status: int,
    person_values: dict[str, Any] | None = None,
) -> Response:
    found = service.committee(ctx.db, committee_id)
    return ctx.render(
        "team/edit.html",
        {
            "committee": found,
            "errors": errors,
            "values": values
            or {"committee_name": found.name, "slug": found.slug, "description": found.description},
            "person_values": person_values or {},
            "elections": service.published_elections(ctx.db),
            "bio_limit": BIO_LIMIT,
        },
        status_code=status,
    )


@page(*EDITORS)
def edit(ctx: Ctx) -> Response:
    committee_id = ctx.params["committee_id"]
    if ctx.request.method != "POST":
        return _edit_page(ctx, committee_id, errors={}, values={}, status=200)
    data, errors, values = _committee_form(ctx.form)
    if not errors:
        try:
            with ctx.attempt():
                service.save_committee(
                    ctx.db, actor=actor(ctx), committee_id=committee_id, data=data, now=ctx.now
                )
        except PortalError as exc:
            errors = {exc.details.get("field", "committee_name"): exc.message}
        else:
            ctx.flash("The committee is saved.")
            return ctx.redirect("team:edit", committee_id=committee_id)
    return _edit_page(ctx, committee_id, errors=errors, values=values, status=422)


def _person_form(ctx: Ctx) -> tuple[service.PersonData | None, dict[str, str], dict[str, Any]]:
    form = FormReader(ctx.form)
    name = form.text("name", label="the person's name")
    post = form.text("post", label="their post", required=False)
    bio = form.text("bio", label="the biography", required=False, max_length=BIO_LIMIT)
    upload = ctx.uploads.get("photo")
    cleaned = None
    if upload is not None and upload.size:
        if upload.error is not None:
            form.error("photo", upload.error.message)
        else:
            cleaned = upload.value.jpeg
    data = service.PersonData(
        name=name, post=post, bio=bio, photo=cleaned, remove_photo=form.checkbox("remove_photo")
    )
    return (data if form.ok else None), form.errors, form.data


@page(*EDITORS, uploads=(TEAM_PHOTO,))
def add_person(ctx: Ctx) -> Response:
    committee_id = ctx.params["committee_id"]
    data, errors, values = _person_form(ctx)
    if data is None:
        return _edit_page(ctx, committee_id, errors=errors, values={}, status=422, person_values=values)
    made = service.add_person(ctx.db, actor=actor(ctx), committee_id=committee_id, data=data, now=ctx.now)
    ctx.flash(f"{made.name} is on the committee.")
    return ctx.redirect("team:edit", committee_id=committee_id)


@page(*EDITORS, uploads=(TEAM_PHOTO,))
def person(ctx: Ctx) -> Response:
    found = service.person(ctx.db, ctx.params["person_id"])
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"name": found.name, "post": found.post, "bio": found.bio}
    if ctx.request.method == "POST":
        data, errors, values = _person_form(ctx)
        if data is not None:
            service.update_person(ctx.db, actor=actor(ctx), person_id=found.id, data=data, now=ctx.now)
            ctx.flash(f"{data.name}'s entry is saved.")
            return ctx.redirect("team:edit", committee_id=found.committee_id)
    return ctx.render(
        "team/person.html",
        {"person": found, "errors": errors, "values": values, "bio_limit": BIO_LIMIT},
        status_code=422 if errors else 200,
    )


@page(*EDITORS)
def remove_person(ctx: Ctx) -> Response:
    found = service.person(ctx.db, ctx.params["person_id"])
    if ctx.form is None or ctx.form.get("confirm") != "yes":
        return ctx.render("team/remove.html", {"person": found})
    target = service.remove_person(ctx.db, actor=actor(ctx), person_id=found.id, now=ctx.now)
    ctx.flash(f"{found.name} is no longer on {target.name}.")
    return ctx.redirect("team:edit", committee_id=target.id)


@page(*EDITORS)
def move_person(ctx: Ctx) -> Response:
    found = service.person(ctx.db, ctx.params["person_id"])
    up = ctx.form is not None and ctx.form.get("direction") == "up"
    service.move_person(ctx.db, actor=actor(ctx), person_id=found.id, up=up, now=ctx.now)
    return ctx.redirect("team:edit", committee_id=found.committee_id)


@page(*EDITORS)
def from_election(ctx: Ctx) -> Response:
    """What a published election would put on the committee, and a button to do it."""
    target = service.committee(ctx.db, ctx.params["committee_id"])
    election, winners = service.elected(ctx.db, ctx.params["election_id"])
    if ctx.request.method == "POST":
        try:
            with ctx.attempt():
                added = service.take_elected(
                    ctx.db, actor=actor(ctx), committee_id=target.id, election_id=election.id, now=ctx.now
                )
        except PortalError as exc:
            ctx.flash(exc.message)
        else:
            ctx.flash(f"{len(added)} elected from {election.title} are on {target.name}.")
        return ctx.redirect("team:edit", committee_id=target.id)
    leaving = [p for p in target.people if p.elected_in_id is not None]
    return ctx.render(
        "team/from_election.html",
        {"committee": target, "election": election, "winners": winners, "leaving": leaving},
    )


routes = [
    Route("/team", team, name="index"),
    Route("/team/manage", manage, methods=["GET", "POST"], name="manage"),
    Route("/team/manage/{committee_id:int}", edit, methods=["GET", "POST"], name="edit"),
    Route("/team/manage/{committee_id:int}/people", add_person, methods=["POST"], name="add_person"),
    Route(
        "/team/manage/{committee_id:int}/from-election/{election_id:int}",
        from_election,
        methods=["GET", "POST"],
        name="from_election",
    ),
    Route("/team/manage/people/{person_id:int}", person, methods=["GET", "POST"], name="person"),
    Route(
        "/team/manage/people/{person_id:int}/remove", remove_person, methods=["GET", "POST"], name="remove"
    ),
    Route("/team/manage/people/{person_id:int}/move", move_person, methods=["POST"], name="move"),
    Route("/team/photos/{person_id:int}.jpg", photo, name="photo"),
    Route("/team/{slug}", committee, name="committee"),
]
