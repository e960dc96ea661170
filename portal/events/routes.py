"""Event pages: the public calendar and event pages, the booking journey, the delegate's own booking, and
the office's pages for setting events up, following bookings and payments, and writing to delegates."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from starlette.datastructures import FormData
from starlette.responses import Response
from starlette.routing import Route

from portal.accounts import acting
from portal.accounts.access import page
from portal.errors import NotFound
from portal.events import (
    bulk,
    card_routes,
    cards,
    catalogue,
    catch_up,
    changes,
    consequences,
    forms,
    ics,
    invoices,
    notify,
    payments,
    staff,
    waitlist,
    workshops,
)
from portal.events.errors import EventError
from portal.events.journey_routes import Journey
from portal.events.links import Links, manage_token
from portal.events.models import (
    EVENT_STATUSES,
    KINDS,
    PAYMENT_METHODS,
    PAYMENT_STATUSES,
    PROVIDERS,
    QUESTION_KINDS,
    QUESTION_PURPOSES,
    REGIONS,
    REGISTRATION_STATUSES,
    Answer,
    Event,
    Invoice,
    Question,
    Registration,
    TicketType,
    Workshop,
)
from portal.mail.service import MailError
from portal.members.selfservice_routes import render_section
from portal.search import service as search
from portal.society import service as society_service
from portal.text import not_csv
from portal.training import service as training
from portal.web.caching import revalidated
from portal.web.context import Ctx, society_name
from portal.web.errors import status_for
from portal.web.forms import FormReader, whole_number
from portal.web.hooks import ToDo
from portal.web.meta import share
from portal.web.templating import local_time, long_date, money
from portal.web.uploads import UploadRefused, UploadRule


def _links(ctx: Ctx) -> Links:
    return Links.for_app(ctx.request.app, key=ctx.key)


def _member(ctx: Ctx) -> Any:
    return catalogue.active_member(ctx.db, ctx.principal.member_id if ctx.principal else None, now=ctx.now)


# --- public -----------------------------------------------------------------------------------------------------


@page("public")
def calendar(ctx: Ctx) -> Response:
    kind = ctx.query.get("kind", "")
    kind = kind if kind in KINDS else ""
    events = catalogue.upcoming_events(ctx.db, now=ctx.now, kind=kind or None)
    response = ctx.render(
        "events/calendar.html",
        {
            "events": events,
            "kind": kind,
            "kinds": KINDS,
            "states": {e.id: catalogue.event_state(e, ctx.now) for e in events},
            "share": share(ctx, title="Events", description="Conferences, meetings and training to book."),
        },
        partial="events/_calendar_list.html",
    )
    return revalidated(ctx, response)


@page("public")
def calendar_feed(ctx: Ctx) -> Response:
    entries = [
        ics.CalendarEntry(
            uid=f"event-{e.id}@ipt-portal",
            title=e.title,
            starts_at=e.starts_at,
            ends_at=e.ends_at,
            location=notify.event_location(e),
            url=ctx.absolute_url("events:event", slug=e.slug),
        )
        for e in catalogue.upcoming_events(ctx.db, now=ctx.now)
    ]
    name = society_name(ctx.request)
    body = ics.calendar(entries, name=f"{name} events", now=ctx.now)
    return Response(
        body, media_type="text/calendar", headers={"Content-Disposition": 'inline; filename="events.ics"'}
    )


@page("public")
def regional(ctx: Ctx) -> Response:
    """The upcoming regional meetings, region by region."""
    groups = catalogue.upcoming_regional(ctx.db, now=ctx.now)
    return ctx.render(
        "events/regional.html",
        {
            "groups": groups,
            "states": {e.id: catalogue.event_state(e, ctx.now) for _, events in groups for e in events},
        },
    )


@page("public")
def archive(ctx: Ctx) -> Response:
    """Past events, by year: every finished event stays findable."""
    return ctx.render("events/archive.html", {"years": catalogue.archive_years(ctx.db, now=ctx.now)})


@page("public")
def archive_year(ctx: Ctx) -> Response:
    year = ctx.params["year"]
    events = catalogue.archive_year(ctx.db, year=year, now=ctx.now)
    if not events:
        raise NotFound(f"There are no past events from {year} in the archive.")
    years = [y for y, _ in catalogue.archive_years(ctx.db, now=ctx.now)]
    return ctx.render("events/archive_year.html", {"year": year, "events": events, "years": years})


def course_dates_section(ctx: Ctx, course: Any) -> tuple[str, str] | None:
    """A course's upcoming dates, on the course's page (the training room's `course_page` hook): each links
    to its event page, where it is booked as any event is."""
    events = catalogue.course_dates(ctx.db, course_id=course.id, now=ctx.now)
    return "Upcoming dates", render_section(
        ctx,
        "events/_course_dates.html",
        {"events": events, "states": {e.id: catalogue.event_state(e, ctx.now) for e in events}},
    )


def _public_event(ctx: Ctx) -> Event:
    staff_view = ctx.principal is not None and ctx.principal.has("office")
    return catalogue.event_by_slug(ctx.db, ctx.params["slug"], include_drafts=staff_view)


@page("public", catch_up=(catch_up.BY_SLUG,))
def event_page(ctx: Ctx) -> Response:
    event = _public_event(ctx)
    member = _member(ctx)
    mine = None
    viewer = acting.login_or_none(ctx)
    if viewer is not None:
        mine = next(
            (
                r
                for r in changes.registrations_of(
                    ctx.db, member_id=member.id if member else None, account_id=viewer.account_id
                )
                if r.event_id == event.id and r.status != "cancelled"
            ),
            None,
        )
    choices = catalogue.ticket_choices(event, now=ctx.now, member_active=member is not None)
    quick = next((c.ticket for c in choices if c.available and c.ticket.price == 0), None) if member else None
    response = ctx.render(
        "events/event.html",
        {
            "event": event,
            # A finished event keeps its page (found from the archive): its programme, never a booking form.
            "finished": event.ends_at <= ctx.now,
            "share": share(ctx, title=event.title, description=search.plain_text(event.description)),
            "state": catalogue.event_state(event, ctx.now),
            "left": catalogue.places_left(event),
            "choices": choices,
            "reasons": {
                "not_on_sale": "Not on sale yet",
                "sale_ended": "Sale ended",
                "member_only": "Members only",
            },
            "member": member,
            "mine": mine,
            "mine_token": manage_token(ctx.key, mine.manage_seed) if mine else None,
            "position": waitlist.position(ctx.db, mine) if mine else None,
            "quick_ticket": quick,
            "waiting": waitlist.waiting_count(ctx.db, event.id),
            "when": notify.when(event),
        },
    )
    return revalidated(ctx, response)


@page("public")
def event_ics(ctx: Ctx) -> Response:
    event = catalogue.event_by_slug(ctx.db, ctx.params["slug"])
    entry = ics.CalendarEntry(
        uid=f"event-{event.id}@ipt-portal",
        title=event.title,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        location=notify.event_location(event),
        url=ctx.absolute_url("events:event", slug=event.slug),
    )
    body = ics.calendar([entry], name=event.title, now=ctx.now)
    return Response(
        body,
        media_type="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{event.slug}.ics"'},
    )


def _books(form: FormData | None) -> bool:
    """Of the booking form's steps only "confirm" writes: the others check the booking and show the next step
    in a read-only transaction, so a rush's details and review steps never queue for the writer."""
    return form is not None and form.get("action") == "confirm"


@page("public", write=_books)
def book(ctx: Ctx) -> Response:
    event = catalogue.event_by_slug(ctx.db, ctx.params["slug"])
    journey = Journey(ctx, event, _member(ctx))
    if ctx.request.method == "GET":
        return journey.start()
    return journey.handle(_links(ctx))


# --- the delegate's booking ---------------------------------------------------------------------------------------


@page("public")
def resend_link(ctx: Ctx) -> Response:
    """Ask for a booking's private link again. The answer is the same for every address (booked or not);
    only the throttle's refusal differs, and it counts every request alike."""
    event = catalogue.event_by_slug(ctx.db, ctx.params["slug"])
    form = FormReader(ctx.form)
    error, status = None, 200
    if ctx.request.method == "POST":
        email = form.email(label="your e-mail address")
        if form.ok:
            try:
                with ctx.attempt():
                    changes.resend_manage_link(
                        ctx.db,
                        event_id=event.id,
                        email=email,
                        ip=ctx.client_ip,
                        now=ctx.now,
                        links=_links(ctx),
                    )
            except MailError as exc:
                error, status = exc.message, status_for(exc)
            else:
                return ctx.redirect("events:resend_link", slug=event.slug, query="sent=1")
        else:
            status = 422
    return ctx.render(
        "events/resend_link.html",
        {
            "event": event,
            "errors": form.errors,
            "values": form.data,
            "error": error,
            "sent": bool(ctx.query.get("sent")),
        },
        status_code=status,
    )


#: Who cancelled a booking, from its `cancel_reason`, in the words of the delegate's page.
CANCELLED_BY = {
    "delegate": "by you",
    "declined": "by you (you declined the place offered)",
    "left_waitlist": "by you (you left the waitlist)",
    "offer_lapsed": "because the place offered was not accepted in time",
    "unpaid": "by the office, because the invoice was not paid by its due date",
    "staff": "by the office",
}


def _booking_context(ctx: Ctx, registration: Registration) -> dict[str, Any]:
    event = catalogue.get_event(ctx.db, registration.event_id)
    token = manage_token(ctx.key, registration.manage_seed)
    answers = {a.question_id: a for a in registration.answers}
    kinds = {q.id: q.kind for q in event.questions}
    current = {
        qid: (a.values if kinds.get(qid) == "multiple_choice" else a.value) for qid, a in answers.items()
    }
    invoice = ctx.db.scalar(select(Invoice).where(Invoice.registration_id == registration.id))
    return {
        "registration": registration,
        "event": event,
        "token": token,
        "when": notify.when(event),
        "workshops": notify.chosen_workshops(ctx.db, registration),
        "workshop_places": workshops.places(ctx.db, registration, now=ctx.now),
        "workshop_errors": "",
        "answers": answers,
        "current_answers": current,
        "position": waitlist.position(ctx.db, registration),
        "offer_live": waitlist.offer_is_live(registration, ctx.now),
        "can_cancel": changes.can_cancel(registration, event, ctx.now),
        "cutoff": changes.cancellation_cutoff(event),
        "invoice": invoice,
        "bank": society_service.payment_settings(ctx.db),
        "card_offered": registration.status == "confirmed" and cards.offered(ctx.db, ctx.settings, event),
        "cancelled_by": CANCELLED_BY.get(registration.cancel_reason, "by the office"),
        "refunded": sum(p.amount for p in registration.payments if p.kind == "refund"),
        "refund_method": consequences.cancel_outcome(ctx.db, registration, now=ctx.now).refund_method,
        "statuses": REGISTRATION_STATUSES,
        "payment_statuses": PAYMENT_STATUSES,
        "can_change": registration.status != "cancelled" and ctx.now < event.starts_at,
    }


@page("public", catch_up=(catch_up.BY_BOOKING_LINK,))
def booking(ctx: Ctx) -> Response:
    token = ctx.params["token"]
    registration = changes.find_by_token(ctx.db, token=token, key=ctx.key)
    if ctx.request.method == "GET":
        context = _booking_context(ctx, registration)
        values = {
            "first_name": registration.first_name,
            "last_name": registration.last_name,
            "email": registration.email,
        }
        response = ctx.render("events/booking.html", {**context, "values": values, "errors": {}})
        return card_routes.allow_checkout(ctx.settings, response) if context["card_offered"] else response
    event = catalogue.get_event(ctx.db, registration.event_id)
    values, answers, errors = forms.details_form(ctx.form, questions=event.questions)
    if not errors:
        try:
            with ctx.attempt():
                changes.change_details(
                    ctx.db,
                    registration=registration,
                    first_name=values["first_name"],
                    last_name=values["last_name"],
                    email=values["email"],
                    answers=answers,
                    now=ctx.now,
                )
        except EventError as exc:
            errors = exc.details.get("errors") or {"first_name": exc.message}
        else:
            ctx.flash("Your details are saved.")
            return ctx.redirect("events:booking", token=token)
    context = _booking_context(ctx, registration)
    return ctx.render(
        "events/booking.html",
        {**context, "values": values, "new_answers": answers, "errors": errors},
        status_code=422,
    )


CANCEL_WORDS = {
    # status: (page heading, button, flash once done)
    "confirmed": (
        "Give back your place",
        "Yes, give back my place",
        "Your place is given back. Thank you for letting us know.",
    ),
    "offered": (
        "Decline the place offered",
        "Yes, decline the place",
        "You have declined the place. It goes to the next person waiting.",
    ),
    "waitlisted": ("Leave the waitlist", "Yes, leave the waitlist", "You have left the waitlist."),
}


@page("public")
def booking_cancel(ctx: Ctx) -> Response:
    """GET: what giving back the place (leaving the waitlist, declining an offer) will do, with a form to
    confirm it; POST: do it. Nothing irreversible happens on one click."""
    token = ctx.params["token"]
    registration = changes.find_by_token(ctx.db, token=token, key=ctx.key)
    to_mine = ctx.principal is not None and (
        (ctx.form.get("next") if ctx.form is not None else ctx.query.get("next")) == "mine"
    )
    back = ctx.url_for("events:mine") if to_mine else ctx.url_for("events:booking", token=token)
    if ctx.request.method == "POST":
        was = registration.status
        changes.cancel_by_delegate(ctx.db, registration=registration, now=ctx.now, links=_links(ctx))
        ctx.flash(CANCEL_WORDS.get(was, CANCEL_WORDS["confirmed"])[2])
        return ctx.redirect("events:mine") if to_mine else ctx.redirect("events:booking", token=token)
    event = catalogue.get_event(ctx.db, registration.event_id)
    heading, button, _ = CANCEL_WORDS.get(registration.status, CANCEL_WORDS["confirmed"])
    refusal = ""
    if registration.status == "cancelled":
        refusal = "This booking is already cancelled."
    elif not changes.can_cancel(registration, event, ctx.now):
        refusal = "The deadline for cancelling has passed. Please contact us about your booking."
    outcome = consequences.cancel_outcome(ctx.db, registration, now=ctx.now)
    return ctx.render(
        "events/confirm.html",
        {
            "event": event,
            "heading": heading,
            "subject": f"{registration.full_name}: {registration.ticket_type.name}, {notify.when(event)}.",
            "sentences": consequences.cancel_sentences(outcome),
            "policy": event.cancellation_policy if registration.status == "confirmed" else "",
            "refusal": refusal,
            "action_url": ctx.url_for("events:booking_cancel", token=token),
            "hidden": [("next", "mine")] if to_mine else [],
            "button": button,
            "back_url": back,
            "back_label": "No, keep my place"
            if registration.status != "waitlisted"
            else "No, stay on the waitlist",
        },
    )


@page("public")
def booking_accept(ctx: Ctx) -> Response:
    token = ctx.params["token"]
    registration = changes.find_by_token(ctx.db, token=token, key=ctx.key)
    try:
        with ctx.attempt():
            changes.accept_offer(ctx.db, registration=registration, now=ctx.now, links=_links(ctx))
    except EventError as exc:
        if exc.code != "offer_expired":
            raise
        # What the attempt wrote is undone; the lapse it found is written back (and the place passed on)
        # here, and kept, though the answer is a refusal.
        waitlist.expire_offers(ctx.db, now=ctx.now, links=_links(ctx), event_id=registration.event_id)
        ctx.flash(exc.message)
        return ctx.redirect("events:booking", token=token)
    ctx.flash("The place is yours. We have e-mailed you a confirmation.")
    return ctx.redirect("events:booking", token=token)


WORKSHOP_FLASH = {
    "accept": "The workshop seat is yours.",
    "decline": "You have declined the workshop seat. It goes to the next person waiting for it.",
}


@page("public")
def booking_workshops(ctx: Ctx) -> Response:
    """The delegate changes their workshops (or accepts or declines a seat offered), in one transaction."""
    token = ctx.params["token"]
    registration = changes.find_by_token(ctx.db, token=token, key=ctx.key)
    action, workshop_ids, chosen = forms.workshops_form(
        ctx.form, current=_live_workshop_ids(ctx, registration)
    )
    try:
        with ctx.attempt():
            if action == "accept" and chosen is not None:
                workshops.accept_offer(
                    ctx.db, registration=registration, workshop_id=chosen, now=ctx.now, links=_links(ctx)
                )
                message = WORKSHOP_FLASH["accept"]
            else:
                done = workshops.change(
                    ctx.db,
                    registration=registration,
                    workshop_ids=workshop_ids,
                    now=ctx.now,
                    links=_links(ctx),
                )
                message = WORKSHOP_FLASH.get(action) or workshops.change_message(done)
    except workshops.WorkshopError as exc:
        if exc.code == workshops.Code.OFFER_EXPIRED:
            # What the attempt wrote is undone; the lapse it found is written back (and passed on) here, and
            # kept, though the answer is a refusal.
            workshops.expire_offers(ctx.db, now=ctx.now, links=_links(ctx), event_id=registration.event_id)
        context = _booking_context(ctx, registration)
        values = {"first_name": registration.first_name, "last_name": registration.last_name}
        values["email"] = registration.email
        context.update(values=values, errors={}, workshop_errors=exc.message)
        return ctx.render("events/booking.html", context, status_code=422)
    ctx.flash(message)
    if ctx.form is not None and ctx.form.get("next") == "mine" and ctx.principal is not None:
        return ctx.redirect("events:mine")
    return ctx.redirect("events:booking", token=token)


def _live_workshop_ids(ctx: Ctx, registration: Registration) -> list[int]:
    return [p.workshop.id for p in workshops.places(ctx.db, registration, now=ctx.now)]


@page("public")
def booking_invoice(ctx: Ctx) -> Response:
    registration = changes.find_by_token(ctx.db, token=ctx.params["token"], key=ctx.key)
    invoice = ctx.db.scalar(select(Invoice).where(Invoice.registration_id == registration.id))
    if invoice is None:
        raise NotFound("There is no invoice for this booking.")
    return Response(
        invoices.render_pdf(invoice),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{invoices.invoice_filename(invoice)}"'},
    )


def _my_rows(ctx: Ctx) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A logged-in person's bookings with what they can do, and the events they could still sign up for
    (a member's free place — the National Meeting — in two clicks)."""
    member = _member(ctx)
    registrations = changes.registrations_of(
        ctx.db, member_id=member.id if member else None, account_id=acting.login(ctx).account_id
    )
    rows = [
        {
            "registration": r,
            "token": manage_token(ctx.key, r.manage_seed),
            "position": waitlist.position(ctx.db, r),
            "offer_live": waitlist.offer_is_live(r, ctx.now),
            "can_cancel": changes.can_cancel(r, r.event, ctx.now),
        }
        for r in registrations
    ]
    booked = {r.event_id for r in registrations if r.status != "cancelled"}
    upcoming = []
    for event in catalogue.upcoming_events(ctx.db, now=ctx.now):
        if event.id in booked:
            continue
        state = catalogue.event_state(event, ctx.now)
        choices = catalogue.ticket_choices(event, now=ctx.now, member_active=member is not None)
        quick = next((c.ticket for c in choices if c.available and c.ticket.price == 0), None)
        upcoming.append(
            {
                "event": event,
                "state": state,
                "quick": quick if member is not None and state in ("open", "full_waitlist") else None,
            }
        )
    return rows, upcoming


@page("authenticated", catch_up=(catch_up.EVERY_EVENT,))
def mine(ctx: Ctx) -> Response:
    rows, upcoming = _my_rows(ctx)
    return ctx.render("events/mine.html", {"rows": rows, "upcoming": upcoming})


def my_registrations_section(ctx: Ctx) -> tuple[str, str] | None:
    """The "My registrations" panel of My account: bookings, and one-click sign-ups for members' places."""
    if ctx.principal is None:
        return None
    rows, upcoming = _my_rows(ctx)
    if not rows and not any(u["quick"] for u in upcoming):
        return None
    return "My registrations", render_section(
        ctx, "events/_my_account.html", {"rows": rows, "upcoming": upcoming}
    )


def bookings_to_act_on(ctx: Ctx) -> list[ToDo]:
    """For "Things to do": an offered place to accept before it lapses, a workshop seat offered, and what is
    still owed on a confirmed booking."""
    if ctx.principal is None or ctx.principal.account_id is None:
        return []
    member = _member(ctx)
    todo = []
    for r in changes.registrations_of(
        ctx.db, member_id=member.id if member else None, account_id=acting.login(ctx).account_id
    ):
        token = manage_token(ctx.key, r.manage_seed)
        url = ctx.url_for("events:booking", token=token)
        tz = r.event.timezone
        if waitlist.offer_is_live(r, ctx.now):
            todo.append(
                ToDo(
                    title=f"Accept your place at {r.event.title}",
                    detail=f"The offer ends {local_time(r.offer_expires_at, '%-d %B %Y, %H:%M', tz)}; "
                    "after that it goes to the next person waiting",
                    url=ctx.url_for("events:booking_accept", token=token),
                    action="Accept the place",
                    post=True,
                    due=r.offer_expires_at,
                )
            )
        if r.status != "confirmed":
            continue
        for place in workshops.places(ctx.db, r, now=ctx.now):
            if place.offer_live:
                todo.append(
                    ToDo(
                        title=f"Take up a seat in the workshop {place.workshop.title}",
                        detail=f"The seat is held for you until "
                        f"{local_time(place.offer_expires_at, '%-d %B %Y, %H:%M', tz)}",
                        url=url + "#workshops-heading",
                        action="Accept or decline the seat",
                        due=place.offer_expires_at,
                    )
                )
        if r.balance > 0 and r.invoice is not None:
            due_on = r.invoice.due_on
            overdue = " (overdue)" if due_on < ctx.now.date() else ""
            todo.append(
                ToDo(
                    title=f"Pay for {r.event.title}",
                    detail=f"{money(r.balance, r.invoice.currency)} due by {long_date(due_on)}{overdue}, "
                    f"reference {r.invoice.reference}",
                    url=url + "#pay",
                    action="How to pay",
                    due=datetime.combine(due_on, time(23, 59), tzinfo=UTC),
                )
            )
    return todo


# --- staff: events and their set-up -------------------------------------------------------------------------------


def _staff_event(ctx: Ctx) -> Event:
    return catalogue.get_event(ctx.db, int(ctx.params["event_id"]))


@page("office")
def manage(ctx: Ctx) -> Response:
    events = ctx.db.scalars(select(Event).order_by(Event.starts_at.desc())).all()
    waiting = dict(
        ctx.db.execute(
            select(Registration.event_id, func.count())
            .where(Registration.status == "waitlisted")
            .group_by(Registration.event_id)
        ).all()
    )
    return ctx.render(
        "events/manage.html",
        {
            "events": events,
            "waiting": waiting,
            "states": {e.id: catalogue.event_state(e, ctx.now) for e in events},
        },
    )


def _event_form_values(event: Event) -> dict[str, Any]:
    zone = ZoneInfo(event.timezone)

    def local(value: datetime | None) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if value else ""

    values: dict[str, Any] = {
        name: getattr(event, name)
        for name in (
            "title",
            "slug",
            "kind",
            "status",
            "timezone",
            "venue",
            "address",
            "description",
            "capacity",
            "contact_email",
            "members_only",
            "waitlist_enabled",
            "offer_hours",
            "payment_due_days",
            "payment_provider",
            "tax_label",
            "cancellation_policy",
            "region",
        )
    }
    values["course_id"] = str(event.course_id) if event.course_id is not None else ""
    for name in (
        "starts_at",
        "ends_at",
        "registration_opens_at",
        "registration_closes_at",
        "cancellation_cutoff",
    ):
        values[name] = local(getattr(event, name))
    values["tax_rate"] = f"{event.tax_rate_bp / 100:g}"
    return values


def _event_form_page(
    ctx: Ctx, event: Event | None, values: dict[str, Any], errors: dict[str, str]
) -> Response:
    return ctx.render(
        "events/event_form.html",
        {
            "event": event,
            "values": values,
            "errors": errors,
            "kinds": KINDS,
            "statuses": EVENT_STATUSES,
            "providers": PROVIDERS,
            "regions": REGIONS,
            "courses": _course_choices(ctx),
        },
        status_code=422 if errors else 200,
    )


def _course_choices(ctx: Ctx) -> dict[str, str]:
    """The courses a training event may be a date of (drafts too: a course's first dates are often set up
    before its page is published)."""
    return {
        str(c.id): c.title + ("" if c.is_published else " (draft)")
        for c in training.list_courses(ctx.db, include_drafts=True)
    }


def _refusal_field(exc: EventError) -> str:
    """Which field of the event form a refusal belongs beside."""
    return {"bad_slug": "slug", "slug_taken": "slug", "bad_region": "region", "bad_course": "course_id"}.get(
        exc.code, "title"
    )


def _past_unconfirmed(
    ctx: Ctx, data: catalogue.EventData, values: dict[str, Any], event: Event | None
) -> dict[str, str]:
    """An event whose start is in the past (a new one, or one whose start is changed) is saved only once the
    office ticks that this is right: a mistyped year is caught before anyone is e-mailed about it."""
    if data.starts_at >= ctx.now or (event is not None and event.starts_at == data.starts_at):
        return {}
    values["ask_past"] = True
    if FormReader(ctx.form).checkbox("past_ok"):
        return {}
    when = data.starts_at.astimezone(ZoneInfo(data.timezone)).strftime("%-d %B %Y, %H:%M")
    return {
        "past_ok": f"The start, {when}, is in the past. If that is right, tick the box to confirm it; "
        "otherwise change the date."
    }


@page("office")
def create(ctx: Ctx) -> Response:
    if ctx.request.method == "GET":
        defaults = {
            "kind": "conference",
            "status": "draft",
            "timezone": "Europe/London",
            "offer_hours": 48,
            "payment_due_days": 14,
            "tax_label": "VAT",
            "tax_rate": "0",
            "waitlist_enabled": True,
        }
        return _event_form_page(ctx, None, defaults, {})
    data, errors, values = forms.event_form(ctx.form, courses=_course_choices(ctx))
    if data is not None:
        errors = _past_unconfirmed(ctx, data, values, None)
    if data is not None and not errors:
        try:
            with ctx.attempt():
                event = catalogue.create_event(ctx.db, data=data, actor=acting.actor(ctx), now=ctx.now)
        except EventError as exc:
            errors = {_refusal_field(exc): exc.message}
        else:
            ctx.flash(f"{event.title} is created. Now add its tickets.")
            return ctx.redirect("events:items", event_id=event.id)
    return _event_form_page(ctx, None, values, errors)


@page("office")
def edit(ctx: Ctx) -> Response:
    event = _staff_event(ctx)
    if ctx.request.method == "GET":
        return _event_form_page(ctx, event, _event_form_values(event), {})
    data, errors, values = forms.event_form(ctx.form, courses=_course_choices(ctx))
    if data is not None:
        errors = _past_unconfirmed(ctx, data, values, event)
    if data is not None and not errors:
        try:
            with ctx.attempt():
                catalogue.update_event(
                    ctx.db,
                    event_id=event.id,
                    data=data,
                    actor=acting.actor(ctx),
                    now=ctx.now,
                    links=_links(ctx),
                )
        except EventError as exc:
            errors = {_refusal_field(exc): exc.message}
        else:
            ctx.flash("Saved.")
            return ctx.redirect("events:dashboard", event_id=event.id)
    return _event_form_page(ctx, event, values, errors)


ITEM_FORMS = {"ticket": "ticket", "workshop": "workshop", "question": "question"}


def _save_item(
    ctx: Ctx, event: Event, kind: str, item_id: int | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Parse and save a ticket type, workshop or question; returns the values and errors to show again."""
    data: Any
    if kind == "ticket":
        data, errors, values = forms.ticket_form(ctx.form, tz=event.timezone)
    elif kind == "workshop":
        data, errors, values = forms.workshop_form(ctx.form, tz=event.timezone)
    else:
        data, errors, values = forms.question_form(ctx.form)
    if data is None:
        return values, errors
    common = {"event_id": event.id, "data": data, "actor": acting.actor(ctx), "now": ctx.now}
    try:
        with ctx.attempt():
            if kind == "ticket":
                catalogue.save_ticket(ctx.db, **common, links=_links(ctx), ticket_id=item_id)
            elif kind == "workshop":
                catalogue.save_workshop(ctx.db, **common, links=_links(ctx), workshop_id=item_id)
            else:
                catalogue.save_question(ctx.db, **common, question_id=item_id)
    except EventError as exc:
        return values, {
            "name" if kind == "ticket" else ("title" if kind == "workshop" else "label"): exc.message
        }
    return values, {}


@page("office")
def items(ctx: Ctx) -> Response:
    event = _staff_event(ctx)
    return ctx.render(
        "events/items.html", {"event": event, "question_kinds": QUESTION_KINDS, "purposes": QUESTION_PURPOSES}
    )


def _item_values(event: Event, item: Any, kind: str) -> dict[str, Any]:
    zone = ZoneInfo(event.timezone)

    def local(value: datetime | None) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if value else ""

    values = {c.key: getattr(item, c.key) for c in item.__table__.columns}
    for name in ("starts_at", "ends_at", "sale_starts_at", "sale_ends_at"):
        if name in values:
            values[name] = local(values[name])
    if kind == "ticket":
        values["price"] = f"{item.price / 100:.2f}"
    return values


@page("office")
def item(ctx: Ctx) -> Response:
    event = _staff_event(ctx)
    kind = ctx.params["kind"]
    if kind not in ITEM_FORMS:
        raise NotFound()
    model: Any = {"ticket": TicketType, "workshop": Workshop, "question": Question}[kind]
    item_id = int(ctx.params["item_id"])
    found = ctx.db.get(model, item_id) if item_id else None
    if item_id and (found is None or found.event_id != event.id):
        raise NotFound()
    errors: dict[str, str] = {}
    values = (
        _item_values(event, found, kind)
        if found
        else {"kind": "short_text", "purpose": "general", "price": "0"}
    )
    if ctx.request.method == "POST":
        if found is not None and FormReader(ctx.form).raw("action") == "delete":
            catalogue.delete_item(
                ctx.db, event_id=event.id, kind=kind, item_id=found.id, actor=acting.actor(ctx), now=ctx.now
            )
            ctx.flash(f"The {kind} is removed.")
            return ctx.redirect("events:items", event_id=event.id)
        values, errors = _save_item(ctx, event, kind, found.id if found else None)
        if not errors:
            ctx.flash("Saved." if found else f"The {kind} is added.")
            return ctx.redirect("events:items", event_id=event.id)
    return ctx.render(
        "events/item.html",
        {
            "event": event,
            "kind": kind,
            "item": found,
            "values": values,
            "errors": errors,
            "question_kinds": QUESTION_KINDS,
            "purposes": QUESTION_PURPOSES,
        },
        status_code=422 if errors else 200,
    )


# --- staff: following an event --------------------------------------------------------------------------------------


@page("office", catch_up=(catch_up.BY_ID,))
def dashboard(ctx: Ctx) -> Response:
    event = _staff_event(ctx)
    series = staff.signups_by_day(ctx.db, event, now=ctx.now)
    return ctx.render(
        "events/dashboard.html",
        {
            "event": event,
            "state": catalogue.event_state(event, ctx.now),
            "counts": staff.counts(ctx.db, event.id),
            "gauges": staff.gauges(event),
            "series": series,
            "signups": [total for _, total in series],
            "needs": staff.needs_summary(ctx.db, event),
            "workshop_lines": [(w, workshops.waiting_count(ctx.db, w.id)) for w in event.workshops],
            "when": notify.when(event),
        },
    )


@page("office")
def bookings(ctx: Ctx) -> Response:
    event = _staff_event(ctx)
    result = staff.search_page(ctx.db, event.id, staff.Filters.from_query(ctx.query))
    return ctx.render(
        "events/bookings.html",
        {
            "event": event,
            "result": result,
            "rows": result.rows,
            "filters": result.filters,
            "statuses": REGISTRATION_STATUSES,
            "payment_statuses": PAYMENT_STATUSES,
            "answer_options": staff.answer_options(event),
            "query": str(ctx.request.url.query),
        },
        partial="events/_bookings.html",
    )


@page("office")
def export(ctx: Ctx) -> Response:
    event = _staff_event(ctx)
    return Response(
        staff.export_csv(ctx.db, event),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{event.slug}-bookings.csv"'},
    )


@page("office", catch_up=(catch_up.BY_ID,))
def workshop(ctx: Ctx) -> Response:
    """One workshop: who has a seat (or a seat offered, until when) and its waiting list in order."""
    event = _staff_event(ctx)
    found = ctx.db.get(Workshop, int(ctx.params["workshop_id"]))
    if found is None or found.event_id != event.id:
        raise NotFound("No such workshop.")
    return ctx.render(
        "events/workshop.html",
        {
            "event": event,
            "workshop": found,
            "holders": workshops.seat_holders(ctx.db, found.id),
            "line": workshops.line(ctx.db, found.id),
            "statuses": REGISTRATION_STATUSES,
        },
    )


def _staff_registration(ctx: Ctx, event: Event) -> Registration:
    registration = ctx.db.get(Registration, int(ctx.params["registration_id"]))
    if registration is None or registration.event_id != event.id:
        raise NotFound("No such booking.")
    return registration


STAFF_ACTIONS = ("payment", "refund", "waive", "cancel", "promote")


@page("office")
def registration(ctx: Ctx) -> Response:
    event = _staff_event(ctx)
    found = _staff_registration(ctx, event)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if ctx.request.method == "POST":
        form = FormReader(ctx.form)
        action = form.raw("action")
        if action not in STAFF_ACTIONS:
            raise NotFound()
        try:
            with ctx.attempt():
                errors, values = _staff_action(ctx, event, found, action)
        except (EventError, payments.PaymentError, waitlist.WaitlistError) as exc:
            errors = {"amount" if action in ("payment", "refund") else "action": exc.message}
        if not errors:
            return ctx.redirect("events:registration", event_id=event.id, registration_id=found.id)
    context = _booking_context(ctx, found)
    return ctx.render(
        "events/registration.html",
        {
            **context,
            "methods": PAYMENT_METHODS,
            "errors": errors,
            "values": values,
            "today": invoices.today_in(event, ctx.now),
            # Card payments (only looked up while card payment is on), each refundable in full once.
            "card_checkouts": [
                c
                for c in cards.checkouts_for(ctx.db, purpose="booking", target_id=found.id)
                if c.status == "complete"
            ]
            if ctx.settings.card_payments
            else [],
        },
        status_code=422 if errors else 200,
    )


def _staff_action(
    ctx: Ctx, event: Event, found: Registration, action: str
) -> tuple[dict[str, str], dict[str, Any]]:
    actor = acting.actor(ctx)
    if action in ("payment", "refund"):
        values, errors = forms.payment_form(ctx.form, today=invoices.today_in(event, ctx.now))
        if errors:
            return errors, values
        payments.record_payment(
            ctx.db,
            registration_id=found.id,
            kind=action,
            actor=actor,
            now=ctx.now,
            amount=values["amount"],
            method=values["method"],
            received_on=values["received_on"],
            note=values["note"],
        )
        ctx.flash("The payment is recorded." if action == "payment" else "The refund is recorded.")
    elif action == "waive":
        payments.waive_payment(ctx.db, registration_id=found.id, actor=actor, now=ctx.now)
        ctx.flash("Nothing more is owed on this booking.")
    elif action == "cancel":
        changes.cancel_by_staff(
            ctx.db, registration_id=found.id, actor=actor, reason="staff", now=ctx.now, links=_links(ctx)
        )
        ctx.flash("The booking is cancelled and the delegate e-mailed.")
    else:
        over = FormReader(ctx.form).checkbox("over_capacity")
        waitlist.promote(
            ctx.db, registration_id=found.id, actor=actor, over_capacity=over, now=ctx.now, links=_links(ctx)
        )
        ctx.flash("A place is offered; the delegate has been e-mailed.")
    return {}, {}


@page("office")
def registration_confirm(ctx: Ctx) -> Response:
    """The office's confirmation page for cancelling a booking or waiving what it owes."""
    event = _staff_event(ctx)
    found = _staff_registration(ctx, event)
    action = ctx.params["action"]
    back = ctx.url_for("events:registration", event_id=event.id, registration_id=found.id)
    refusal = ""
    if action == "cancel":
        heading, button = "Cancel this booking", "Yes, cancel the booking"
        sentences = consequences.cancel_sentences(
            consequences.cancel_outcome(ctx.db, found, now=ctx.now), staff=True
        )
        if found.status == "cancelled":
            refusal = "This booking is already cancelled."
    elif action == "waive":
        heading, button = "Waive what is owed", "Yes, waive it"
        sentences = consequences.waive_sentences(found)
        if found.status != "confirmed" or found.payment_status != "unpaid":
            refusal = "Nothing is owed on this booking."
    else:
        raise NotFound()
    return ctx.render(
        "events/confirm.html",
        {
            "event": event,
            "eyebrow": f"{event.title}: booking {found.id}",
            "heading": heading,
            "subject": f"{found.full_name} ({found.email}): {found.ticket_type.name}.",
            "sentences": sentences,
            "policy": "",
            "refusal": refusal,
            "action_url": back,
            "hidden": [("action", action)],
            "button": button,
            "back_url": back,
            "back_label": "No, go back",
        },
    )


def _chosen_ids(values: Any) -> list[int]:
    return [n for v in values if (n := whole_number(v)) is not None]


@page("office")
def unpaid_confirm(ctx: Ctx) -> Response:
    """The chosen unpaid bookings, what cancelling them does (money, waitlist), and the form that does it."""
    event = _staff_event(ctx)
    wanted = set(_chosen_ids(ctx.request.query_params.getlist("registration")))
    chosen = [r for r in bulk.overdue_unpaid(ctx.db, event_id=event.id, now=ctx.now) if r.id in wanted]
    back = ctx.url_for("events:unpaid", event_id=event.id)
    return ctx.render(
        "events/confirm.html",
        {
            "event": event,
            "eyebrow": f"{event.title}: unpaid bookings",
            "heading": "Cancel the unpaid bookings",
            "subject": "; ".join(f"{r.full_name} ({r.payment_reference})" for r in chosen),
            "sentences": consequences.unpaid_sentences(ctx.db, chosen, event_id=event.id),
            "policy": "",
            "refusal": ""
            if chosen
            else "Choose at least one booking that is still unpaid past its due date.",
            "action_url": back,
            "hidden": [("registration", r.id) for r in chosen],
            "button": f"Yes, cancel {len(chosen)} booking{'s' if len(chosen) != 1 else ''}",
            "back_url": back,
            "back_label": "No, go back",
        },
    )


@page("office")
def item_remove(ctx: Ctx) -> Response:
    """The confirmation page for removing a ticket type, workshop or question (a question's answers go)."""
    event = _staff_event(ctx)
    kind = ctx.params["kind"]
    if kind not in ITEM_FORMS:
        raise NotFound()
    model: Any = {"ticket": TicketType, "workshop": Workshop, "question": Question}[kind]
    found = ctx.db.get(model, int(ctx.params["item_id"]))
    if found is None or found.event_id != event.id:
        raise NotFound()
    back = ctx.url_for("events:item", event_id=event.id, kind=kind, item_id=found.id)
    name = getattr(found, "name", None) or getattr(found, "title", None) or found.label
    answers = 0
    if kind == "question":
        answers = ctx.db.scalar(select(func.count()).where(Answer.question_id == found.id)) or 0
    sentences = [f"The {kind} “{name}” is removed from {event.title}; this cannot be undone."]
    if kind == "question":
        sentences.append(
            f"{answers} answer{'s' if answers != 1 else ''} to it {'are' if answers != 1 else 'is'} deleted with it."
            if answers
            else "Nobody has answered it yet."
        )
    else:
        sentences.append("Only something nobody has booked can be removed; otherwise hide it instead.")
    return ctx.render(
        "events/confirm.html",
        {
            "event": event,
            "eyebrow": f"{event.title}: tickets, workshops and questions",
            "heading": f"Remove this {kind}",
            "subject": "",
            "sentences": sentences,
            "policy": "",
            "refusal": "",
            "action_url": back,
            "hidden": [("action", "delete")],
            "button": f"Yes, remove the {kind}",
            "back_url": back,
            "back_label": "No, go back",
        },
    )


@page("office")
def unpaid(ctx: Ctx) -> Response:
    event = _staff_event(ctx)
    if ctx.request.method == "POST":
        chosen = _chosen_ids(ctx.form.getlist("registration") if ctx.form else [])
        cancelled = bulk.cancel_unpaid(
            ctx.db,
            event_id=event.id,
            registration_ids=chosen,
            actor=acting.actor(ctx),
            now=ctx.now,
            links=_links(ctx),
        )
        ctx.flash(
            f"{len(cancelled)} unpaid booking{'s' if len(cancelled) != 1 else ''} cancelled; each delegate e-mailed."
        )
        return ctx.redirect("events:unpaid", event_id=event.id)
    overdue = bulk.overdue_unpaid(ctx.db, event_id=event.id, now=ctx.now)
    dues = dict(
        ctx.db.execute(
            select(Invoice.registration_id, Invoice.due_on).where(
                Invoice.registration_id.in_([r.id for r in overdue])
            )
        ).all()
    )
    return ctx.render("events/unpaid.html", {"event": event, "overdue": overdue, "dues": dues})


@page("office")
def email(ctx: Ctx) -> Response:
    event = _staff_event(ctx)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"audience": "confirmed"}
    if ctx.request.method == "POST":
        form = FormReader(ctx.form)
        audience = form.choice("audience", bulk.AUDIENCES, label="who to write to")
        subject = form.text("subject", label="a subject", max_length=200)
        body = form.text("body", label="a message", max_length=20000)
        values, errors = form.data, form.errors
        if form.ok:
            sent = bulk.email_delegates(
                ctx.db,
                event_id=event.id,
                audience=audience,
                subject=subject,
                body=body,
                actor=acting.actor(ctx),
                now=ctx.now,
                links=_links(ctx),
            )
            ctx.flash(f"Your message is on its way to {sent} delegate{'s' if sent != 1 else ''}.")
            return ctx.redirect("events:dashboard", event_id=event.id)
    counts = staff.counts(ctx.db, event.id)
    return ctx.render(
        "events/email.html",
        {
            "event": event,
            "values": values,
            "errors": errors,
            "audiences": bulk.AUDIENCES,
            "counts": counts,
        },
        status_code=422 if errors else 200,
    )


def _read_statement(data: bytes) -> tuple[str, list[payments.BankLine], list[str]]:
    text = data.decode("utf-8-sig", errors="replace")
    lines, problems = payments.parse_statement(text) if text.strip() else ([], [])
    return text, lines, problems


def _statement_is_csv(data: bytes) -> None:
    refused = not_csv(data)
    if refused is not None:
        raise UploadRefused("bad_file", refused)


#: The bank statement, from the file or sent back from the preview: read and parsed before the transaction.
STATEMENT = UploadRule(
    field="file",
    text_field="statement",
    max_bytes=5 * 1024 * 1024,
    too_large="The statement is larger than 5 MB. Export a shorter period from your bank.",
    process=_read_statement,
    check=_statement_is_csv,
)


@page("office", uploads=(STATEMENT,))
def payments_import(ctx: Ctx) -> Response:
    """A bank statement: upload to preview what each line would do, then apply it all in one transaction."""
    context: dict[str, Any] = {
        "matches": None,
        "problems": [],
        "statement": "",
        "applied": None,
        "errors": {},
    }
    if ctx.request.method == "POST":
        form = ctx.form
        upload = ctx.uploads.get("file")
        if upload is not None and upload.error is not None:
            context["errors"] = {"file": upload.error.message}
            return ctx.render("events/payments_import.html", context, status_code=422)
        text, lines, problems = upload.value if upload is not None else ("", [], [])
        if not text.strip():
            context["errors"] = {"file": "Choose the CSV file your bank gave you."}
            return ctx.render("events/payments_import.html", context, status_code=422)
        if not lines and problems:  # nothing could be read (its headings, say): back to the file field
            context["errors"] = {"file": problems[0]}
            return ctx.render("events/payments_import.html", context, status_code=422)
        matches = payments.match_lines(ctx.db, lines)
        if form is not None and form.get("action") == "apply":
            recorded = payments.apply_matches(
                ctx.db, matches, actor=acting.actor(ctx), now=ctx.now, app=ctx.request.app
            )
            ctx.flash(
                f"{len(recorded)} payment{'s' if len(recorded) != 1 else ''} recorded from the statement."
            )
            return ctx.redirect("events:payments_import")
        context.update(matches=matches, problems=problems, statement=text)
    return ctx.render("events/payments_import.html", context)


#: Full paths, mounted with `namespaced("events", routes)`: `/events` and `/events.ics` sit beside the rest.
routes = [
    Route("/events", calendar, name="calendar"),
    Route("/events.ics", calendar_feed, name="feed"),
    Route("/events/regional", regional, name="regional"),
    Route("/events/archive", archive, name="archive"),
    Route("/events/archive/{year:int}", archive_year, name="archive_year"),
    Route("/events/manage", manage, name="manage"),
    Route("/events/manage/new", create, methods=["GET", "POST"], name="create"),
    Route("/events/manage/payments", payments_import, methods=["GET", "POST"], name="payments_import"),
    Route("/events/manage/{event_id:int}", dashboard, name="dashboard"),
    Route("/events/manage/{event_id:int}/edit", edit, methods=["GET", "POST"], name="edit"),
    Route("/events/manage/{event_id:int}/setup", items, name="items"),
    Route(
        "/events/manage/{event_id:int}/setup/{kind}/{item_id:int}", item, methods=["GET", "POST"], name="item"
    ),
    Route("/events/manage/{event_id:int}/setup/{kind}/{item_id:int}/remove", item_remove, name="item_remove"),
    Route("/events/manage/{event_id:int}/bookings", bookings, name="bookings"),
    Route("/events/manage/{event_id:int}/workshops/{workshop_id:int}", workshop, name="workshop"),
    Route("/events/manage/{event_id:int}/bookings.csv", export, name="export"),
    Route(
        "/events/manage/{event_id:int}/bookings/{registration_id:int}",
        registration,
        methods=["GET", "POST"],
        name="registration",
    ),
    Route(
        "/events/manage/{event_id:int}/bookings/{registration_id:int}/confirm/{action}",
        registration_confirm,
        name="registration_confirm",
    ),
    Route("/events/manage/{event_id:int}/unpaid", unpaid, methods=["GET", "POST"], name="unpaid"),
    Route("/events/manage/{event_id:int}/unpaid/confirm", unpaid_confirm, name="unpaid_confirm"),
    Route("/events/manage/{event_id:int}/email", email, methods=["GET", "POST"], name="email"),
    Route("/events/mine", mine, name="mine"),
    Route("/events/booking/{token}", booking, methods=["GET", "POST"], name="booking"),
    Route("/events/booking/{token}/cancel", booking_cancel, methods=["GET", "POST"], name="booking_cancel"),
    Route("/events/booking/{token}/accept", booking_accept, methods=["POST"], name="booking_accept"),
    Route("/events/booking/{token}/workshops", booking_workshops, methods=["POST"], name="booking_workshops"),
    Route("/events/booking/{token}/invoice.pdf", booking_invoice, name="booking_invoice"),
    Route("/events/{slug}", event_page, name="event"),
    Route("/events/{slug}/book", book, methods=["GET", "POST"], name="book"),
    Route("/events/{slug}/booking-link", resend_link, methods=["GET", "POST"], name="resend_link"),
    Route("/events/{slug}/calendar.ics", event_ics, name="event_ics"),
]
