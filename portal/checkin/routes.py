"""Check-in pages and API: the scanner page and its JSON endpoints, live attendance, conflicts, scanner devices,
badge sheets, reissue and ribbons, CPD hours, and a delegate's own badge and certificate."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from portal.accounts import acting
from portal.accounts.access import api, page
from portal.checkin import attendance as attendance_stats
from portal.checkin import badges, badging, parsing, pdf, qr, rosters, scans
from portal.checkin import devices as scanner_devices
from portal.checkin.caches import DoorState, PlaceCache
from portal.checkin.devices import DevicePrincipal
from portal.checkin.errors import CheckInError, Code
from portal.checkin.models import RESULTS, RIBBONS
from portal.checkin.scans import Scanner
from portal.errors import Kind, NotFound
from portal.events.models import REGISTRATION_STATUSES, Event, Registration, TicketType, Workshop
from portal.members.selfservice_routes import render_section
from portal.web.context import Ctx
from portal.web.forms import FormReader, clean_text
from portal.web.tokens import new_token

BADGE_LIST_LIMIT = 200


# --- helpers --------------------------------------------------------------------------------------------------


def _state(ctx: Ctx) -> DoorState:
    return ctx.request.app.state.checkin


def _places(ctx: Ctx) -> PlaceCache:
    return _state(ctx).places


def _event(ctx: Ctx) -> Event:
    event_id = ctx.params["event"]
    event = ctx.db.get(Event, event_id) if 0 < event_id <= scans.MAX_ID else None
    if event is None:
        raise NotFound("There is no such event.")
    return event


def _device_event(ctx: Ctx, requested: int | None) -> int:
    """The event a scan is for: a device's own event (it may not scan for another), or the one a staff
    scanner names."""
    principal = ctx.principal
    if isinstance(principal, DevicePrincipal):
        if requested is not None and requested != principal.event_id:
            raise CheckInError(
                Code.WRONG_DEVICE_EVENT,
                "This scanner device is set up for another event.",
                kind=Kind.FORBIDDEN,
            )
        return principal.event_id
    if requested is None:
        raise CheckInError(Code.BAD_SCAN, "Say which event this door is for (the `event` field).")
    return requested


def _scanner(ctx: Ctx, door: str) -> Scanner:
    principal = ctx.principal
    if isinstance(principal, DevicePrincipal):
        return Scanner(door=door or principal.name, device_id=principal.device_id)
    if not door:
        raise CheckInError(Code.BAD_SCAN, "Say which door this is (the `door` field).")
    return Scanner(door=door, account_id=acting.login(ctx).account_id)


def _workshop_param(ctx: Ctx) -> int | None:
    raw = ctx.query.get("workshop", "")
    if not raw:
        return None
    value = parsing.read_id(raw)
    if value is None:
        raise CheckInError(
            Code.UNKNOWN_WORKSHOP, "There is no such session at this event.", kind=Kind.NOT_FOUND
        )
    return value


def _pdf(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


def _image(content: bytes, media_type: str) -> Response:
    return Response(content, media_type=media_type, headers={"Cache-Control": "private, no-store"})


# --- the scanner API --------------------------------------------------------------------------------------------


@api("door", devices=True, inline=True)
def api_checkin(ctx: Ctx) -> Response:
    """One scan: `{"code" | "registration", "door", "nonce", "event", "workshop"?}` -> `{"status", ...}`.

    The scan is judged and written in the request's one transaction (one indexed read, one insert; the
    device behind a bearer token and the door's place come from `DoorState`'s caches when they can)."""
    request = parsing.read_scan(ctx.json, now=ctx.now)
    event_id = _device_event(ctx, request.event_id)
    place = _places(ctx).get(ctx.db, event_id=event_id, workshop_id=request.workshop_id)
    answer = scans.check_in(
        ctx.db, key=ctx.key, place=place, scanner=_scanner(ctx, request.door), scan=request.scan, now=ctx.now
    )
    return JSONResponse(answer.to_json())


@api("door", devices=True)
def api_sync(ctx: Ctx) -> Response:
    """Offline scans sent later: `{"scans": [scan + "scanned_at" + "client_result", ...]}`, all or none."""
    sent = ctx.json.get("scans") if isinstance(ctx.json, dict) else None
    if not isinstance(sent, list) or len(sent) > 500:
        raise CheckInError(Code.BAD_SCAN, 'Send {"scans": [...]} with at most 500 scans.')
    requests = [parsing.read_scan(s, now=ctx.now, offline=True) for s in sent]
    events = {r.event_id for r in requests if r.event_id is not None}
    if len(events) > 1:
        raise CheckInError(Code.BAD_SCAN, "Send the scans of one event at a time.")
    event_id = _device_event(ctx, events.pop() if events else None)
    places = {
        w: _places(ctx).get(ctx.db, event_id=event_id, workshop_id=w)
        for w in {r.workshop_id for r in requests}
    }
    scanners = [_scanner(ctx, r.door) for r in requests]
    by_request = {id(r): scanner for r, scanner in zip(requests, scanners, strict=True)}
    results = scans.sync(
        ctx.db.connection(),
        key=ctx.key,
        place_for_workshop=places.__getitem__,
        scanner_for=lambda r: by_request[id(r)],
        requests=requests,
        now=ctx.now,
    )
    return JSONResponse({"results": results})


@api("door", devices=True)
def api_undo(ctx: Ctx) -> Response:
    """`{"nonce": <the admitting scan's nonce>, "door": ...}`: undo a mistaken admission (by the same device or
    staff login that admitted, within 15 minutes)."""
    body = ctx.json if isinstance(ctx.json, dict) else {}
    nonce = body.get("nonce")
    if not isinstance(nonce, str) or not parsing.NONCE_RE.match(nonce):
        raise CheckInError(Code.BAD_SCAN, "Send the nonce of the scan to undo.")
    principal = ctx.principal
    device = principal if isinstance(principal, DevicePrincipal) else None
    scanner = _scanner(ctx, parsing.read_text(body.get("door"), 80))
    answer = scans.undo(
        ctx.db,
        nonce=nonce,
        scanner=scanner,
        event_id=device.event_id if device else None,
        actor=acting.actor_or_none(ctx),
        device=device.name if device else "",
        now=ctx.now,
    )
    return JSONResponse(answer.to_json())


@api("door", devices=True)
def api_attendees(ctx: Ctx) -> Response:
    """The list an offline scanner keeps: names, tickets, statuses, badge serials, who is in."""
    event_id = _device_event(ctx, ctx.params["event"])
    place = _places(ctx).get(ctx.db, event_id=event_id, workshop_id=_workshop_param(ctx))
    return JSONResponse(rosters.attendee_list(ctx.db, place=place))


@api("door", devices=True)
def api_search(ctx: Ctx) -> Response:
    event_id = _device_event(ctx, ctx.params["event"])
    place = _places(ctx).get(ctx.db, event_id=event_id, workshop_id=_workshop_param(ctx))
    return JSONResponse({"results": rosters.search(ctx.db, place=place, query=ctx.query.get("q", ""))})


@api("public")
def public_key(ctx: Ctx) -> Response:
    """The event's Ed25519 public key (raw, base64url): all anyone needs to tell a real badge from a forgery."""
    place = _places(ctx).get(ctx.db, event_id=ctx.params["event"], workshop_id=None)
    return JSONResponse(
        {
            "event": place.event_id,
            "algorithm": "Ed25519",
            "format": "raw",
            "key": badges.public_key_b64(ctx.key, place.event_id),
            "prefix": badges.PREFIX,
        },
        headers={"Cache-Control": "public, max-age=3600"},
    )


# --- the scanner page -----------------------------------------------------------------------------------------


@page("door")
def door(ctx: Ctx) -> Response:
    """The scanner: camera, keyboard wedge and name search with JavaScript; a plain form and a name search
    that admit without it."""
    event = _event(ctx)
    source = ctx.form if ctx.form is not None else ctx.query
    door_name = parsing.read_text(source.get("door", ""), 80) or "Main entrance"
    workshop_id = parsing.read_id(source.get("workshop", "")) if source.get("workshop") else None
    place = _places(ctx).get(ctx.db, event_id=event.id, workshop_id=workshop_id)
    answer, problem = None, ""
    if ctx.request.method == "POST":
        body = {k: v for k, v in ctx.form.items() if isinstance(v, str)}  # type: ignore[union-attr]
        try:
            with ctx.attempt():
                request = parsing.read_scan(body, now=ctx.now)
        except CheckInError as exc:
            problem = exc.message
        else:
            answer = scans.check_in(
                ctx.db,
                key=ctx.key,
                place=place,
                scanner=_scanner(ctx, door_name),
                scan=request.scan,
                now=ctx.now,
            )
    query = clean_text(ctx.query.get("q", ""))[:100].strip()
    return ctx.render(
        "checkin/door.html",
        {
            "event": event,
            "place": place,
            "door_name": door_name,
            "workshops": ctx.db.scalars(
                select(Workshop).where(Workshop.event_id == event.id).order_by(Workshop.starts_at)
            ).all(),
            "answer": answer,
            "first_at": datetime.fromisoformat(answer.first["at"]) if answer and answer.first else None,
            "query": query,
            "results": rosters.search(ctx.db, place=place, query=query) if query else [],
            "counts": rosters.counts(ctx.db, place=place),
            "public_key": badges.public_key_b64(ctx.key, event.id),
            "answers": scans.ANSWERS,
            "looks": scans.looks_json(),
            "nonce": new_token(16),
            "problem": problem,
        },
        status_code=422 if problem else 200,
    )


# --- staff pages ------------------------------------------------------------------------------------------------


@page("door", "office")
def index(ctx: Ctx) -> Response:
    """The events door staff can check people into: today's first (in each event's own time zone), then the
    ones coming up, soonest first, then past ones, latest first."""
    events = ctx.db.scalars(
        select(Event).where(Event.status != "draft").order_by(Event.starts_at.desc()).limit(100)
    ).all()
    groups: dict[str, list[Event]] = {"today": [], "coming": [], "past": []}
    for event in events:
        tz = ZoneInfo(event.timezone)
        today = ctx.now.astimezone(tz).date()
        first_day, last_day = event.starts_at.astimezone(tz).date(), event.ends_at.astimezone(tz).date()
        if first_day <= today <= last_day:
            groups["today"].append(event)
        elif first_day > today:
            groups["coming"].append(event)
        else:
            groups["past"].append(event)
    groups["today"].sort(key=lambda e: e.starts_at)
    groups["coming"].sort(key=lambda e: e.starts_at)
    return ctx.render("checkin/index.html", {"events": events, "groups": groups})


@page("door", "office")
def attendance(ctx: Ctx) -> Response:
    event = _event(ctx)
    stats = attendance_stats.attendance(ctx.db, event=event, now=ctx.now)
    return ctx.render(
        "checkin/attendance.html",
        {
            "event": event,
            "stats": stats,
            "chart": attendance_stats.arrivals_svg(stats.arrivals, tz=event.timezone),
            "results_labels": RESULTS,
            "answers": scans.ANSWERS,
        },
        partial="checkin/_attendance.html",
    )


@page("door", "office")
def conflicts(ctx: Ctx) -> Response:
    event = _event(ctx)
    return ctx.render(
        "checkin/conflicts.html",
        {"event": event, "rows": rosters.conflicts(ctx.db, event_id=event.id), "results": RESULTS},
    )


@page("office")
def devices(ctx: Ctx) -> Response:
    event = _event(ctx)
    form = FormReader(ctx.form)
    created = None
    if ctx.request.method == "POST":
        name = form.text("name", label="a name for the device", max_length=80)
        if form.ok:
            device, token = scanner_devices.create_device(
                ctx.db, actor=acting.actor(ctx), event_id=event.id, name=name, key=ctx.key, now=ctx.now
            )
            created = {"device": device, "token": token}
            form = FormReader(None)
    return ctx.render(
        "checkin/devices.html",
        {
            "event": event,
            "devices": scanner_devices.for_event(ctx.db, event_id=event.id),
            "created": created,
            "errors": form.errors,
            "values": form.data,
            "api_url": ctx.absolute_url("checkin:api_checkin"),
        },
        status_code=422 if form.errors else 200,
    )


@page("office")
def device_revoke(ctx: Ctx) -> Response:
    event = _event(ctx)
    device = scanner_devices.revoke_device(
        ctx.db, actor=acting.actor(ctx), event_id=event.id, device_id=ctx.params["device"], now=ctx.now
    )
    _state(ctx).forget_devices()
    ctx.flash(f"{device.name} can no longer check anyone in.")
    return ctx.redirect("checkin:devices", event=event.id)


def _badge_filter(ctx: Ctx, event: Event) -> tuple[badging.BadgeFilter, str]:
    query = ctx.query
    ticket = parsing.read_id(query.get("ticket", ""))
    status = query.get("status", "confirmed")
    ribbon = query.get("ribbon", "")
    layout = query.get("layout", "a4-4")
    return (
        badging.BadgeFilter(
            ticket_type_id=ticket,
            status=status if status in (*REGISTRATION_STATUSES, "all") else "confirmed",
            ribbon=ribbon if ribbon in RIBBONS else None,
        ),
        layout if layout in pdf.LAYOUTS else "a4-4",
    )


@page("office")
def badge_sheet(ctx: Ctx) -> Response:
    event = _event(ctx)
    chosen, layout = _badge_filter(ctx, event)
    rows = badging.badge_people(ctx.db, event_id=event.id, chosen=chosen)
    name = clean_text(ctx.query.get("q", ""))[:100].strip()
    shown = [r for r in rows if name.lower() in r.Registration.full_name.lower()] if name else rows
    return ctx.render(
        "checkin/badges.html",
        {
            "event": event,
            "chosen": chosen,
            "layout": layout,
            "q": name,
            "total": len(rows),
            "rows": shown[:BADGE_LIST_LIMIT],
            "more": max(0, len(shown) - BADGE_LIST_LIMIT),
            "tickets": ctx.db.scalars(
                select(TicketType).where(TicketType.event_id == event.id).order_by(TicketType.position)
            ).all(),
            "statuses": REGISTRATION_STATUSES,
            "ribbons": RIBBONS,
            "layouts": {
                "a4-4": "A4, 4 badges (A6) a sheet",
                "a4-8": "A4, 8 badges a sheet",
                "a6": "A6, one a page",
            },
            "default_ribbon": badging.default_ribbon,
        },
    )


@page("office")
def badges_pdf(ctx: Ctx) -> Response:
    event = _event(ctx)
    chosen, layout = _badge_filter(ctx, event)
    _, content, _count = badging.event_badges_pdf(
        ctx.db, event_id=event.id, chosen=chosen, layout=layout, key=ctx.key
    )
    return _pdf(content, f"badges-{event.slug}-{layout}.pdf")


def _registration(ctx: Ctx) -> Registration:
    registration_id = ctx.params["registration"]
    registration = ctx.db.get(Registration, registration_id) if 0 < registration_id <= scans.MAX_ID else None
    if registration is None:
        raise NotFound("There is no such booking.")
    return registration


@page("office")
def badge_pdf(ctx: Ctx) -> Response:
    registration = _registration(ctx)
    return _pdf(
        badging.single_badge_pdf(ctx.db, registration=registration, key=ctx.key),
        f"badge-{registration.id}.pdf",
    )


@page("office")
def reissue(ctx: Ctx) -> Response:
    registration = badging.reissue(
        ctx.db, actor=acting.actor(ctx), registration_id=ctx.params["registration"], now=ctx.now
    )
    ctx.flash(f"A new badge was issued to {registration.full_name}; the old one will be refused at the door.")
    return ctx.redirect("checkin:badges", event=registration.event_id, query=f"q={registration.last_name}")


@page("office")
def ribbon(ctx: Ctx) -> Response:
    form = FormReader(ctx.form)
    choice = form.choice("ribbon", RIBBONS, label="a ribbon")
    registration = _registration(ctx)
    if not form.ok:
        raise CheckInError(Code.BAD_RIBBON, "Choose one of the ribbons shown.", kind=Kind.INVALID)
    badging.set_ribbon(
        ctx.db, actor=acting.actor(ctx), registration_id=registration.id, ribbon=choice, now=ctx.now
    )
    ctx.flash(f"{registration.full_name}'s badge will carry the {RIBBONS[choice].lower()} ribbon.")
    return ctx.redirect("checkin:badges", event=registration.event_id, query=f"q={registration.last_name}")


def read_hours(form: FormReader, workshops: list[Workshop]) -> dict[int, float | None]:
    """`hours-<id>` for each session: blank means its length; else 0 to 24 in quarter hours."""
    hours: dict[int, float | None] = {}
    for workshop in workshops:
        name = f"hours-{workshop.id}"
        raw = form.raw(name)
        form.data[name] = raw
        if not raw:
            hours[workshop.id] = None
            continue
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not (0 <= value <= 24) or value * 4 != int(value * 4):
            form.error(name, f"Enter the CPD hours for {workshop.title} as a number such as 1.5 (0 to 24).")
        else:
            hours[workshop.id] = value
    return hours


@page("office")
def cpd(ctx: Ctx) -> Response:
    event = _event(ctx)
    form = FormReader(ctx.form)
    sessions = badging.cpd_settings(ctx.db, event_id=event.id)
    form.data.update({f"hours-{w.id}": f"{hours:g}" if by_staff else "" for w, hours, by_staff in sessions})
    if ctx.request.method == "POST":
        hours = read_hours(form, [w for w, _, _ in sessions])
        if form.ok:
            badging.set_cpd_hours(
                ctx.db, actor=acting.actor(ctx), event_id=event.id, hours=hours, now=ctx.now
            )
            ctx.flash("CPD hours saved.")
            return ctx.redirect("checkin:cpd", event=event.id)
    return ctx.render(
        "checkin/cpd.html",
        {"event": event, "sessions": sessions, "errors": form.errors, "values": form.data},
        status_code=422 if form.errors else 200,
    )


# --- a delegate's own badge -------------------------------------------------------------------------------------


def _badge_view(ctx: Ctx, registration: Registration, token: str | None = None) -> dict[str, Any]:
    """One booking's badge and CPD links: through the manage link's token, or the logged-in owner's pages."""
    if token is not None:
        urls = {
            "svg_url": ctx.url_for("checkin:manage_svg", token=token),
            "png_url": ctx.url_for("checkin:manage_png", token=token),
            "certificate_url": ctx.url_for("checkin:manage_certificate", token=token),
        }
    else:
        urls = {
            "svg_url": ctx.url_for("checkin:my_svg", registration=registration.id),
            "png_url": ctx.url_for("checkin:my_png", registration=registration.id),
            "certificate_url": ctx.url_for("checkin:my_certificate", registration=registration.id),
        }
    return {
        "registration": registration,
        "event": ctx.db.get(Event, registration.event_id),
        "has_badge": badging.has_badge(registration),
        "sessions": badging.attended_sessions(ctx.db, registration=registration),
        **urls,
    }


def my_badges_section(ctx: Ctx) -> tuple[str, str] | None:
    """The "My badges" panel of "My account" (named in the app's hooks): nothing without a booking."""
    bookings = [_badge_view(ctx, r) for r in badging.my_registrations(ctx.db, principal=ctx.principal)]
    if not bookings:
        return None
    return "My badges", render_section(ctx, "checkin/_my_badges.html", {"bookings": bookings})


@page("authenticated")
def mine(ctx: Ctx) -> Response:
    bookings = [_badge_view(ctx, r) for r in badging.my_registrations(ctx.db, principal=ctx.principal)]
    return ctx.render("checkin/mine.html", {"bookings": bookings})


def _owned_with_badge(ctx: Ctx) -> Registration:
    registration = badging.owned_registration(
        ctx.db, principal=ctx.principal, registration_id=ctx.params["registration"]
    )
    if not badging.has_badge(registration):
        raise NotFound("This booking has no badge (it is not confirmed).")
    return registration


@page("authenticated")
def my_png(ctx: Ctx) -> Response:
    return _image(qr.png(badging.code_for(ctx.key, _owned_with_badge(ctx))), "image/png")


@page("authenticated")
def my_svg(ctx: Ctx) -> Response:
    return _image(qr.svg(badging.code_for(ctx.key, _owned_with_badge(ctx))), "image/svg+xml")


@page("authenticated")
def my_certificate(ctx: Ctx) -> Response:
    registration = badging.owned_registration(
        ctx.db, principal=ctx.principal, registration_id=ctx.params["registration"]
    )
    return _pdf(
        badging.certificate_pdf(ctx.db, registration=registration, now=ctx.now),
        f"cpd-certificate-{registration.id}.pdf",
    )


def _by_token(ctx: Ctx, *, need_badge: bool = True) -> Registration:
    registration = badging.registration_for_token(ctx.db, token=ctx.params["token"], key=ctx.key)
    if need_badge and not badging.has_badge(registration):
        raise NotFound("This booking has no badge (it is not confirmed).")
    return registration


@page("public")
def manage(ctx: Ctx) -> Response:
    registration = _by_token(ctx, need_badge=False)
    view = _badge_view(ctx, registration, token=ctx.params["token"])
    return ctx.render("checkin/manage.html", {**view, "bookings": [view]})


@page("public")
def manage_png(ctx: Ctx) -> Response:
    return _image(qr.png(badging.code_for(ctx.key, _by_token(ctx))), "image/png")


@page("public")
def manage_svg(ctx: Ctx) -> Response:
    return _image(qr.svg(badging.code_for(ctx.key, _by_token(ctx))), "image/svg+xml")


@page("public")
def manage_certificate(ctx: Ctx) -> Response:
    registration = _by_token(ctx, need_badge=False)
    return _pdf(
        badging.certificate_pdf(ctx.db, registration=registration, now=ctx.now),
        f"cpd-certificate-{registration.id}.pdf",
    )


routes = [
    Route("/api/checkin", api_checkin, methods=["POST"], name="api_checkin"),
    Route("/api/checkin/sync", api_sync, methods=["POST"], name="api_sync"),
    Route("/api/checkin/undo", api_undo, methods=["POST"], name="api_undo"),
    Route("/api/checkin/events/{event:int}/attendees", api_attendees, methods=["GET"], name="api_attendees"),
    Route("/api/checkin/events/{event:int}/search", api_search, methods=["GET"], name="api_search"),
    Route("/api/events/{event:int}/public-key", public_key, methods=["GET"], name="public_key"),
    Route("/door/{event:int}", door, methods=["GET", "POST"], name="door"),
    Route("/checkin", index, methods=["GET"], name="index"),
    Route("/checkin/{event:int}/attendance", attendance, methods=["GET"], name="attendance"),
    Route("/checkin/{event:int}/conflicts", conflicts, methods=["GET"], name="conflicts"),
    Route("/checkin/{event:int}/devices", devices, methods=["GET", "POST"], name="devices"),
    Route(
        "/checkin/{event:int}/devices/{device:int}/revoke",
        device_revoke,
        methods=["POST"],
        name="device_revoke",
    ),
    Route("/checkin/{event:int}/badges", badge_sheet, methods=["GET"], name="badges"),
    Route("/checkin/{event:int}/badges.pdf", badges_pdf, methods=["GET"], name="badges_pdf"),
    Route("/checkin/{event:int}/cpd", cpd, methods=["GET", "POST"], name="cpd"),
    Route(
        "/checkin/registrations/{registration:int}/badge.pdf", badge_pdf, methods=["GET"], name="badge_pdf"
    ),
    Route("/checkin/registrations/{registration:int}/reissue", reissue, methods=["POST"], name="reissue"),
    Route("/checkin/registrations/{registration:int}/ribbon", ribbon, methods=["POST"], name="ribbon"),
    Route("/my/badges", mine, methods=["GET"], name="mine"),
    Route("/my/badges/{registration:int}/qr.png", my_png, methods=["GET"], name="my_png"),
    Route("/my/badges/{registration:int}/qr.svg", my_svg, methods=["GET"], name="my_svg"),
    Route(
        "/my/badges/{registration:int}/certificate.pdf",
        my_certificate,
        methods=["GET"],
        name="my_certificate",
    ),
    Route("/badge/{token}", manage, methods=["GET"], name="manage"),
    Route("/badge/{token}/qr.png", manage_png, methods=["GET"], name="manage_png"),
    Route("/badge/{token}/qr.svg", manage_svg, methods=["GET"], name="manage_svg"),
    Route("/badge/{token}/certificate.pdf", manage_certificate, methods=["GET"], name="manage_certificate"),
]
