"""The public register (`/register`, public: search, an entry, removal notices, the "verify a practitioner"
page and badge) and its staff pages (`/register/manage`, the roles that set a registrant's status after a
complaint case; the regulator's CSV; the accreditations ending soon), named `register:*`."""

from __future__ import annotations

from datetime import date

from markupsafe import escape
from sqlalchemy import select
from starlette.responses import Response
from starlette.routing import Route

from portal.accounts.access import page
from portal.accounts.acting import actor
from portal.complaints.models import Complaint
from portal.errors import NotFound, PortalError
from portal.events.models import REGIONS
from portal.members.models import Member
from portal.members.selfservice_routes import render_section
from portal.members.standing import london_day
from portal.register import service
from portal.register.errors import Code
from portal.register.models import STATUSES
from portal.society.service import society_name
from portal.web.context import Ctx
from portal.web.forms import FormReader, whole_number

#: How long a browser or another site's page may keep the badge before asking again.
BADGE_MAX_AGE = 3600


def _handles_complaints(ctx: Ctx) -> bool:
    return ctx.principal is not None and ctx.principal.has(*service.HANDLERS)


def _is_staff(ctx: Ctx) -> bool:
    return ctx.principal is not None and ctx.principal.has(*service.STAFF)


def _search(ctx: Ctx) -> service.Search:
    region = ctx.query.get("region", "")
    return service.Search(
        q=ctx.query.get("q", "")[: service.MAX_QUERY].strip(),
        town=ctx.query.get("town", "")[:60].strip(),
        region=region if region in REGIONS else "",
        page=whole_number(ctx.query.get("page", "1")) or 1,
    )


@page("public")
def index(ctx: Ctx) -> Response:
    found = _search(ctx)
    results = service.search(ctx.db, found, now=ctx.now)
    return ctx.render(
        "register/index.html",
        {
            "results": results,
            "search": found,
            "regions": REGIONS,
            "today": london_day(ctx.now),
            "staff": _is_staff(ctx),
        },
        partial="register/_results.html",
    )


@page("public")
def entry(ctx: Ctx) -> Response:
    found = service.entry(ctx.db, number=ctx.params["number"], now=ctx.now)
    return ctx.render(
        "register/entry.html",
        {
            "entry": found,
            "regions": REGIONS,
            "today": london_day(ctx.now),
            "handler": _handles_complaints(ctx),
            "staff": _is_staff(ctx),
            # For the snippet a therapist copies onto their own site: the portal's configured address.
            "verify_url": ctx.absolute_url("register:verify", number=found.number),
            "badge_url": ctx.absolute_url("register:badge", number=found.number),
        },
    )


@page("public")
def removals(ctx: Ctx) -> Response:
    return ctx.render("register/removals.html", {"removals": service.removals(ctx.db)})


def _verified(ctx: Ctx) -> service.Entry | None:
    try:
        found = service.entry(ctx.db, number=ctx.params["number"], now=ctx.now)
    except NotFound:
        return None
    return found if found.verified else None


@page("public")
def verify(ctx: Ctx) -> Response:
    """A short page a therapist links to from their own site: on the register today, or not."""
    return ctx.render(
        "register/verify.html",
        {"entry": _verified(ctx), "number": ctx.params["number"], "today": london_day(ctx.now)},
    )


def badge_svg(*, society: str, entry: service.Entry | None, today: date) -> str:
    """The badge as SVG text, every word escaped (a name is the member's, a number comes from the address)."""
    if entry is None:
        line1, line2, colour = "Not on the register", f"checked {today:%-d %b %Y}", "#8a1c1c"
    else:
        line1 = f"{entry.name} · {entry.status_label}"
        line2 = f"Registration {entry.number} · checked {today:%-d %b %Y}"
        colour = "#8a1c1c" if entry.shown_status in ("suspended", "removed") else "#1d5e3a"
    title = f"{society} register: {line1}, {line2}"
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="64" viewBox="0 0 320 64" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<rect width="320" height="64" rx="6" fill="{colour}"/>'
        '<g fill="#fff" font-family="Arial, Helvetica, sans-serif">'
        f'<text x="12" y="20" font-size="12" font-weight="bold">{escape(society)} register</text>'
        f'<text x="12" y="38" font-size="12">{escape(line1[:48])}</text>'
        f'<text x="12" y="55" font-size="11">{escape(line2[:52])}</text></g></svg>'
    )


@page("public")
def badge(ctx: Ctx) -> Response:
    """The badge image another site embeds with <img>: an image cannot run script, and it says "not on the
    register" the day its holder leaves it (kept by browsers for an hour at most)."""
    body = badge_svg(society=society_name(ctx.db), entry=_verified(ctx), today=london_day(ctx.now))
    return Response(
        body,
        media_type="image/svg+xml",
        headers={
            "Cache-Control": f"public, max-age={BADGE_MAX_AGE}",
            "Cross-Origin-Resource-Policy": "cross-origin",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        },
    )


# --- staff ---------------------------------------------------------------------------------------------------


@page(*service.STAFF)
def manage(ctx: Ctx) -> Response:
    errors: dict[str, str] = {}
    number = ctx.query.get("number", "").strip()
    if number:
        member_id = ctx.db.scalar(select(Member.id).where(Member.membership_number == number))
        if member_id is not None:
            return ctx.redirect("register:status", member_id=member_id)
        errors["number"] = "There is no member with this membership number."
    return ctx.render(
        "register/manage.html",
        {
            "statuses": service.statuses(ctx.db),
            "labels": STATUSES,
            "errors": errors,
            "values": {"number": number},
        },
        status_code=422 if errors else 200,
    )


@page(*service.STAFF)
def status(ctx: Ctx) -> Response:
    member = ctx.db.get(Member, ctx.params["member_id"])
    if member is None:
        raise NotFound("There is no such member.", Code.NOT_FOUND)
    current = service.status_of(ctx.db, member.id)
    values: dict[str, object] = {
        "status": current.status if current else "registered",
        "wording": current.wording if current else "",
        "case": "",
    }
    if current is not None and current.complaint_id:
        case = ctx.db.get(Complaint, current.complaint_id)
        values["case"] = case.reference if case else ""
    errors: dict[str, str] = {}
    if ctx.request.method == "POST":
        form = FormReader(ctx.form)
        chosen = form.choice("status", STATUSES, label="a status")
        wording = form.text(
            "wording", label="the public wording", required=False, max_length=service.WORDING_LIMIT
        )
        reference = form.text("case", label="the complaint case's reference", required=False, max_length=20)
        complaint_id = None
        if reference:
            case = service.case_by_reference(ctx.db, reference)
            if case is None:
                form.error("case", "There is no complaint case with this reference (like C-2026-0007).")
            else:
                complaint_id = case.id
        values, errors = {**values, **form.data}, dict(form.errors)
        if form.ok:
            try:
                with ctx.attempt():
                    service.set_status(
                        ctx.db,
                        member_id=member.id,
                        status=chosen,
                        wording=wording,
                        complaint_id=complaint_id,
                        actor=actor(ctx),
                        now=ctx.now,
                    )
            except PortalError as exc:
                errors = {exc.details.get("field", "status"): exc.message}
            else:
                ctx.flash(f"The register status of {member.full_name} is saved.")
                return ctx.redirect("register:status", member_id=member.id)
    return ctx.render(
        "register/status.html",
        {
            "member": member,
            "current": current,
            "on_register": service.is_on_register(ctx.db, member_id=member.id, now=ctx.now),
            "labels": STATUSES,
            "values": values,
            "errors": errors,
        },
        status_code=422 if errors else 200,
    )


@page(*service.STAFF, write=True)
def export(ctx: Ctx) -> Response:
    body, _count = service.export_csv(ctx.db, actor=actor(ctx), now=ctx.now)
    name = f"register-{london_day(ctx.now).isoformat()}.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@page(*service.STAFF)
def expiring(ctx: Ctx) -> Response:
    return ctx.render(
        "register/expiring.html",
        {"endings": service.expiring(ctx.db, now=ctx.now), "days": service.EXPIRING_DAYS},
    )


def member_register_section(ctx: Ctx, member: Member) -> tuple[str, str] | None:
    """The member's place on the register, on their staff page: for the roles that set register statuses."""
    if not _is_staff(ctx):
        return None
    return "Register", render_section(
        ctx,
        "register/_member_panel.html",
        {
            "member": member,
            "current": service.status_of(ctx.db, member.id),
            "on_register": service.is_on_register(ctx.db, member_id=member.id, now=ctx.now),
            "labels": STATUSES,
        },
    )


routes = [
    Route("/register", index, name="index"),
    Route("/register/removals", removals, name="removals"),
    Route("/register/export.csv", export, name="export"),
    Route("/register/expiring", expiring, name="expiring"),
    Route("/register/manage", manage, name="manage"),
    Route("/register/manage/{member_id:int}", status, methods=["GET", "POST"], name="status"),
    Route("/register/verify/{number}", verify, name="verify"),
    Route("/register/verify/{number}/badge.svg", badge, name="badge"),
    Route("/register/{number}", entry, name="entry"),
]
