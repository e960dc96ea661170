"""Staff pages for the membership roll: the list (live search, filters, sort, pages, CSV export), a member's
page (details, history, edit, data export, erasure), the roll import (upload → preview → apply), and the
lists of categories and accreditation levels. Office staff and administrators use them."""

from __future__ import annotations

import json
import re
from typing import Any
from zoneinfo import ZoneInfo

from starlette.responses import Response
from starlette.routing import Route

from portal.accounts import acting
from portal.accounts.access import page
from portal.members import importer, service
from portal.members.models import STATUSES, Member
from portal.members.standing import STANDINGS, grace_ends, standing
from portal.web.context import Ctx
from portal.web.forms import FormReader
from portal.web.uploads import UploadRule

LONDON = ZoneInfo("Europe/London")
#: The preview lists at most this many new or changed members (the counts are always complete).
PREVIEW_LIMIT = 500


def _labels(ctx: Ctx) -> dict[str, Any]:
    return {
        "categories": service.option_labels(ctx.db, "category"),
        "levels": service.option_labels(ctx.db, "accreditation"),
        "statuses": STATUSES,
        "standings": STANDINGS,
        "fields": service.FIELDS,
        "sources": service.SOURCES,
    }


def _download(body: bytes, *, filename: str, media_type: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


# --- the list ---------------------------------------------------------------------------------------------------


@page("office")
def member_list(ctx: Ctx) -> Response:
    query = service.MemberQuery.from_params(ctx.query)
    result = service.search_members(ctx.db, query, now=ctx.now)
    # Going back to a pushed search URL, htmx asks for the whole page again (its history cache is off).
    restoring = ctx.request.headers.get("HX-History-Restore-Request") == "true"
    response = ctx.render(
        "members/list.html",
        {"result": result, "query": result.query, **_labels(ctx)},
        partial=None if restoring else "members/_rows.html",
    )
    response.headers["Vary"] = "HX-Request, HX-History-Restore-Request"
    return response


@page("office", write=True)
def export_csv(ctx: Ctx) -> Response:
    query = service.MemberQuery.from_params(ctx.query)
    body, _count = service.export_csv(ctx.db, query, actor=acting.actor(ctx), now=ctx.now)
    filename = service.export_filename(query, today=ctx.now.astimezone(LONDON).date())
    return _download(body, filename=filename, media_type="text/csv; charset=utf-8")


# --- one member -------------------------------------------------------------------------------------------------


def _member_values(member: Member) -> dict[str, Any]:
    return {f: getattr(member, f) for f in service.EDITABLE}


def _read_member_form(form: FormReader, labels: dict[str, Any]) -> dict[str, Any]:
    return {
        "first_name": form.text("first_name", label="the first name", max_length=100),
        "last_name": form.text("last_name", label="the last name", max_length=100),
        "email": form.email(),
        "category": form.choice("category", labels["categories"], label="a category"),
        "accreditation": form.choice("accreditation", labels["levels"], label="an accreditation level"),
        "status": form.choice("status", list(STATUSES), label="a status"),
        "joined_on": form.date("joined_on", label="the date they joined", required=False),
        "renewal_on": form.date("renewal_on", label="the renewal date", required=False),
    }


def _render_member(
    ctx: Ctx, member: Member, *, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None
) -> Response:
    grace = service.grace_days(ctx.db)
    return ctx.render(
        "members/detail.html",
        {
            "member": member,
            "history": service.history_entries(ctx.db, member.id),
            "account": service.account_for(ctx.db, member),
            "good_standing": service.member_in_good_standing(member, now=ctx.now),
            "standing": standing(member, ctx.now, grace_days=grace),
            "grace_ends": grace_ends(member, grace_days=grace),
            "errors": errors or {},
            "values": values if values is not None else _member_values(member),
            # What other domains add to the page (complaints about the member, for the complaints role).
            "panels": [
                found for panel in ctx.hooks.member_staff if (found := panel(ctx, member)) is not None
            ],
            **_labels(ctx),
        },
        status_code=422 if errors else 200,
    )


@page("office")
def member_detail(ctx: Ctx) -> Response:
    member = service.get_member(ctx.db, int(ctx.params["member_id"]))
    if ctx.request.method != "POST":
        return _render_member(ctx, member)
    form = FormReader(ctx.form)
    values = _read_member_form(form, _labels(ctx))
    if form.ok:
        try:
            with ctx.attempt():
                _, changes = service.update_member(
                    ctx.db, member_id=member.id, values=values, actor=acting.actor(ctx), now=ctx.now
                )
        except service.MemberError as exc:
            if exc.code not in ("email_taken", "bad_value"):
                raise
            form.error(exc.details.get("field", "email"), exc.message)
        else:
            ctx.flash(
                f"Saved {len(changes)} change{'s' if len(changes) != 1 else ''}."
                if changes
                else "No changes."
            )
            return ctx.redirect("members:detail", member_id=member.id)
    member = service.get_member(ctx.db, member.id)
    raw = {name: form.raw(name) for name in service.EDITABLE}
    return _render_member(ctx, member, errors=form.errors, values=raw)


@page("office")
def member_export(ctx: Ctx) -> Response:
    data = service.export_member_data(
        ctx.db,
        member_id=int(ctx.params["member_id"]),
        actor=acting.actor(ctx),
        now=ctx.now,
        exporters=ctx.hooks.member_exporters,
    )
    number = re.sub(r"[^A-Za-z0-9_-]+", "_", data["member"]["membership_number"])[:40]
    body = json.dumps(data, indent=2, ensure_ascii=False).encode()
    return _download(body, filename=f"member-{number}.json", media_type="application/json")


@page("office")
def member_erase(ctx: Ctx) -> Response:
    member = service.get_member(ctx.db, int(ctx.params["member_id"]))
    form = FormReader(ctx.form)
    if not form.checkbox("confirm"):
        form.error("confirm", "Tick the box to confirm that this member's personal data should be erased.")
        return _render_member(ctx, member, errors=form.errors)
    service.erase_member(
        ctx.db, member_id=member.id, actor=acting.actor(ctx), now=ctx.now, erasers=ctx.hooks.member_erasers
    )
    ctx.flash(f"The personal data of member {member.membership_number} has been erased.")
    return ctx.redirect("members:detail", member_id=member.id)


# --- the roll import ----------------------------------------------------------------------------------------------


#: The roll file: read (at most 5 MB) before the request's transaction opens; parsed only for the preview.
ROLL_FILE = UploadRule(
    field="file",
    max_bytes=importer.MAX_BYTES,
    too_large=f"The file is larger than {importer.MAX_BYTES // (1024 * 1024)} MB.",
    process=bytes,
)


@page("office", uploads=(ROLL_FILE,))
def import_upload(ctx: Ctx) -> Response:
    errors: dict[str, str] = {}
    if ctx.request.method == "POST":
        upload = ctx.uploads.get("file")
        if upload is None:
            errors["file"] = "Choose the CSV file exported from the membership system."
        elif upload.error is not None:
            errors["file"] = upload.error.message
        else:
            try:
                with ctx.attempt():
                    stored = importer.store_upload(
                        ctx.db,
                        content=upload.value,
                        filename=upload.filename,
                        account_id=acting.login(ctx).account_id,
                        now=ctx.now,
                    )
            except importer.RollImportError as exc:
                errors["file"] = exc.message
            else:
                return ctx.redirect("members:import_preview", sha256=stored.sha256)
    return ctx.render(
        "members/import.html",
        {"errors": errors, "headings": importer.HEADINGS, **_labels(ctx)},
        status_code=422 if errors else 200,
    )


@page("office")
def import_preview(ctx: Ctx) -> Response:
    upload = importer.load_upload(ctx.db, sha256=ctx.params["sha256"], now=ctx.now)
    plan = importer.plan_import(ctx.db, content=upload.content, filename=upload.filename)
    return ctx.render("members/import_preview.html", {"plan": plan, "limit": PREVIEW_LIMIT, **_labels(ctx)})


@page("office")
def import_apply(ctx: Ctx) -> Response:
    form = FormReader(ctx.form)
    sha256 = ctx.params["sha256"]
    try:
        with ctx.attempt():
            plan, result = importer.apply_upload(
                ctx.db,
                sha256=sha256,
                actor=acting.actor(ctx),
                lapse_missing=form.checkbox("lapse_missing"),
                expected_digest=form.raw("plan"),
                now=ctx.now,
            )
    except importer.RollImportError as exc:
        if exc.code != "stale_preview":
            raise
        ctx.flash(exc.message)
        return ctx.redirect("members:import_preview", sha256=sha256)
    ctx.flash(
        f"Imported {plan.filename}: {result.added} new, {result.changed} changed, {result.unchanged} unchanged"
        f", {result.lapsed} marked lapsed."
    )
    return ctx.redirect("members:list")


# --- categories and accreditation levels ------------------------------------------------------------------------

LIST_TITLES = {"category": "Membership categories", "accreditation": "Accreditation levels"}


def _render_options(
    ctx: Ctx, *, errors: dict[str, str] | None = None, values: dict[str, str] | None = None
) -> Response:
    lists = [
        {
            "kind": kind,
            "title": title,
            "options": service.options(ctx.db, kind),
            "usage": service.option_usage(ctx.db, kind),
        }
        for kind, title in LIST_TITLES.items()
    ]
    return ctx.render(
        "members/options.html",
        {"lists": lists, "errors": errors or {}, "values": values or {}},
        status_code=422 if errors else 200,
    )


@page("office")
def options_page(ctx: Ctx) -> Response:
    if ctx.request.method != "POST":
        return _render_options(ctx)
    form = FormReader(ctx.form)
    kind = form.choice("kind", list(LIST_TITLES), label="a list")
    field = f"{kind}-new" if kind in LIST_TITLES else "kind"
    label = form.raw("label")
    if not label:
        form.error(field, "Enter a name.")
    if form.ok:
        try:
            with ctx.attempt():
                option = service.add_option(
                    ctx.db, kind=kind, label=label, actor=acting.actor(ctx), now=ctx.now
                )
        except service.MemberError as exc:
            form.error(field, exc.message)
        else:
            ctx.flash(f"Added “{option.label}”.")
            return ctx.redirect("members:options")
    return _render_options(ctx, errors=form.errors, values={field: label})


@page("office")
def option_edit(ctx: Ctx) -> Response:
    kind, option_id = ctx.params["kind"], int(ctx.params["option_id"])
    form = FormReader(ctx.form)
    field = f"{kind}-{option_id}"
    try:
        with ctx.attempt():
            if form.raw("action") == "remove":
                label = service.remove_option(
                    ctx.db, kind=kind, option_id=option_id, actor=acting.actor(ctx), now=ctx.now
                )
                ctx.flash(f"Removed “{label}”.")
            else:
                option = service.rename_option(
                    ctx.db,
                    kind=kind,
                    option_id=option_id,
                    label=form.raw("label"),
                    actor=acting.actor(ctx),
                    now=ctx.now,
                )
                ctx.flash(f"Saved “{option.label}”.")
    except service.MemberError as exc:
        if exc.code == "not_found":
            raise
        return _render_options(ctx, errors={field: exc.message}, values={field: form.raw("label")})
    return ctx.redirect("members:options")


def _render_category(
    ctx: Ctx, category: Any, *, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None
) -> Response:
    return ctx.render(
        "members/category.html",
        {
            "category": category,
            "errors": errors or {},
            "values": values
            if values is not None
            else {
                **vars(service.terms_of(category)),
                "annual_fee": f"{category.annual_fee // 100}.{category.annual_fee % 100:02d}",
            },
        },
        status_code=422 if errors else 200,
    )


@page("office")
def category_terms(ctx: Ctx) -> Response:
    """A category's terms: its fee, who may join, the evidence asked for, approval, the vote."""
    category = service.get_category(ctx.db, int(ctx.params["option_id"]))
    if ctx.request.method != "POST":
        return _render_category(ctx, category)
    form = FormReader(ctx.form)
    fee = form.money("annual_fee", label="the annual fee", maximum=service.MAX_FEE)
    terms = service.CategoryTerms(
        annual_fee=fee if fee is not None else 0,
        eligibility=form.text("eligibility", label="who is eligible", required=False, max_length=2000),
        evidence=form.text("evidence", label="the evidence needed", required=False, max_length=2000),
        evidence_upload=form.checkbox("evidence_upload"),
        needs_approval=form.checkbox("needs_approval"),
        can_vote=form.checkbox("can_vote"),
        open_to_applicants=form.checkbox("open_to_applicants"),
    )
    for field, message in service.check_terms(terms).items():
        form.error(field, message)
    if form.ok:
        service.update_category_terms(
            ctx.db, option_id=category.id, terms=terms, actor=acting.actor(ctx), now=ctx.now
        )
        ctx.flash(f"Saved the terms of “{category.label}”.")
        return ctx.redirect("members:options")
    return _render_category(ctx, category, errors=form.errors, values=form.data)


routes = [
    Route("/", member_list, name="list"),
    Route("/export.csv", export_csv, name="export"),
    Route("/import", import_upload, methods=["GET", "POST"], name="import"),
    Route("/import/{sha256}", import_preview, name="import_preview"),
    Route("/import/{sha256}/apply", import_apply, methods=["POST"], name="import_apply"),
    Route("/lists", options_page, methods=["GET", "POST"], name="options"),
    Route("/lists/{kind}/{option_id:int}", option_edit, methods=["POST"], name="option_edit"),
    Route("/lists/category/{option_id:int}/terms", category_terms, methods=["GET", "POST"], name="category"),
    Route("/{member_id:int}", member_detail, methods=["GET", "POST"], name="detail"),
    Route("/{member_id:int}/export", member_export, methods=["POST"], name="export_json"),
    Route("/{member_id:int}/erase", member_erase, methods=["POST"], name="erase"),
]
