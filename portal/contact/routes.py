"""Contact Us (`/contact`, public) and the office's enquiries (`/contact/enquiries`, office), named `contact:*`."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from portal.accounts.access import page
from portal.accounts.acting import actor
from portal.contact import service
from portal.contact.models import STATUSES, TOPICS
from portal.errors import PortalError
from portal.web.context import Ctx
from portal.web.forms import FormReader, whole_number
from portal.web.tokens import same, token_digest

MESSAGE_LIMIT = 5000
NOTE_LIMIT = 5000


def _sent_signature(ctx: Ctx, reference: str) -> str:
    return token_digest(ctx.key, reference, purpose="contact-sent")[:24]


def _form_page(
    ctx: Ctx, *, values: dict[str, Any], errors: dict[str, str], status_code: int = 200, refused: str = ""
) -> Response:
    return ctx.render(
        "contact/form.html",
        {
            "values": values,
            "errors": errors,
            "refused": refused,
            "topics": TOPICS,
            "token": service.form_token(key=ctx.key, now=ctx.now),
            "message_limit": MESSAGE_LIMIT,
        },
        status_code=status_code,
    )


@page("public")
def contact(ctx: Ctx) -> Response:
    if ctx.request.method != "POST":
        topic = ctx.query.get("topic", "")
        return _form_page(ctx, values={"topic": topic if topic in TOPICS else ""}, errors={})
    form = FormReader(ctx.form)
    message = service.Message(
        topic=form.choice("topic", TOPICS, label="what your message is about"),
        name=form.text("name", label="your name"),
        email=form.email("email", label="your e-mail address, so that we can reply"),
        subject=form.text("subject", label="a subject", required=False),
        message=form.text("message", label="your message", max_length=MESSAGE_LIMIT),
    )
    if not form.ok:
        return _form_page(ctx, values=form.data, errors=form.errors, status_code=422)
    try:
        with ctx.attempt():
            enquiry = service.submit(
                ctx.db,
                message=message,
                honeypot=form.raw("website"),
                token=form.raw("started"),
                ip=ctx.client_ip,
                now=ctx.now,
                key=ctx.key,
                staff_link=lambda enquiry_id: ctx.absolute_url("contact:enquiry", enquiry_id=enquiry_id),
            )
    except PortalError as exc:
        status = 429 if exc.code == service.Code.THROTTLED else 422
        return _form_page(ctx, values=form.data, errors={}, refused=exc.message, status_code=status)
    reference = enquiry.reference
    return ctx.redirect("contact:sent", query=f"ref={reference}&sig={_sent_signature(ctx, reference)}")


@page("public")
def sent(ctx: Ctx) -> Response:
    reference = ctx.query.get("ref", "")
    signature = ctx.query.get("sig", "")
    known = bool(reference) and same(signature, _sent_signature(ctx, reference))
    return ctx.render("contact/sent.html", {"reference": reference if known else ""})


# --- the office -----------------------------------------------------------------------------------------------


@page(*service.STAFF_ROLES)
def enquiries(ctx: Ctx) -> Response:
    status = ctx.query.get("status", "")
    topic = ctx.query.get("topic", "")
    number = whole_number(ctx.query.get("page", "1")) or 1
    found = service.listing(ctx.db, status=status, topic=topic, page=number)
    return ctx.render(
        "contact/enquiries.html",
        {
            "listing": found,
            "status": status if status in STATUSES else "",
            "topic": topic if topic in TOPICS else "",
            "statuses": STATUSES,
            "topics": TOPICS,
        },
    )


def _enquiry_page(
    ctx: Ctx, enquiry_id: int, *, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None
) -> Response:
    enquiry = service.get(ctx.db, enquiry_id)
    staff = service.staff_choices(ctx.db)
    return ctx.render(
        "contact/enquiry.html",
        {
            "enquiry": enquiry,
            "staff": staff,
            "assignee": next((a for a in staff if a.id == enquiry.assignee_id), None),
            "statuses": STATUSES,
            "errors": errors or {},
            "values": values or {},
            "note_limit": NOTE_LIMIT,
        },
        status_code=422 if errors else 200,
    )


@page(*service.STAFF_ROLES)
def enquiry(ctx: Ctx) -> Response:
    return _enquiry_page(ctx, ctx.params["enquiry_id"])


@page(*service.STAFF_ROLES)
def update(ctx: Ctx) -> Response:
    enquiry_id = ctx.params["enquiry_id"]
    form = FormReader(ctx.form)
    status = form.choice("status", STATUSES, label="a status")
    raw_assignee = form.raw("assignee")
    assignee = whole_number(raw_assignee) if raw_assignee else None
    if raw_assignee and assignee is None:
        form.error("assignee", "Choose a member of staff from the list.")
    if not form.ok:
        return _enquiry_page(ctx, enquiry_id, errors=form.errors)
    try:
        with ctx.attempt():
            service.update(
                ctx.db,
                actor=actor(ctx),
                enquiry_id=enquiry_id,
                status=status,
                assignee_id=assignee,
                now=ctx.now,
            )
    except PortalError as exc:
        return _enquiry_page(ctx, enquiry_id, errors={exc.details.get("field", "status"): exc.message})
    ctx.flash("The enquiry is updated.")
    return ctx.redirect("contact:enquiry", enquiry_id=enquiry_id)


def _write(ctx: Ctx, field: str, label: str, do: Any, done: str) -> Response:
    enquiry_id = ctx.params["enquiry_id"]
    form = FormReader(ctx.form)
    body = form.text(field, label=label, max_length=NOTE_LIMIT)
    if not form.ok:
        return _enquiry_page(ctx, enquiry_id, errors=form.errors, values=form.data)
    try:
        with ctx.attempt():
            do(ctx.db, actor=actor(ctx), enquiry_id=enquiry_id, body=body, now=ctx.now)
    except PortalError as exc:
        return _enquiry_page(ctx, enquiry_id, errors={field: exc.message}, values=form.data)
    ctx.flash(done)
    return ctx.redirect("contact:enquiry", enquiry_id=enquiry_id)


@page(*service.STAFF_ROLES)
def note(ctx: Ctx) -> Response:
    return _write(ctx, "note", "the note", service.add_note, "The note is added.")


@page(*service.STAFF_ROLES)
def reply(ctx: Ctx) -> Response:
    return _write(ctx, "reply", "your reply", service.reply, "Your reply is on its way to the sender.")


@page(*service.STAFF_ROLES)
def inboxes(ctx: Ctx) -> Response:
    values = service.inboxes(ctx.db)
    errors: dict[str, str] = {}
    if ctx.request.method == "POST":
        form = FormReader(ctx.form)
        values = {topic: form.email(topic, label="an e-mail address", required=False) for topic in TOPICS}
        errors = form.errors
        if not errors:
            service.set_inboxes(ctx.db, actor=actor(ctx), inboxes=values, now=ctx.now)
            ctx.flash("Where each topic goes is saved.")
            return ctx.redirect("contact:inboxes")
    return ctx.render(
        "contact/inboxes.html",
        {"values": values, "errors": errors, "topics": TOPICS},
        status_code=422 if errors else 200,
    )


routes = [
    Route("/contact", contact, methods=["GET", "POST"], name="form"),
    Route("/contact/sent", sent, name="sent"),
    Route("/contact/enquiries", enquiries, name="enquiries"),
    Route("/contact/enquiries/inboxes", inboxes, methods=["GET", "POST"], name="inboxes"),
    Route("/contact/enquiries/{enquiry_id:int}", enquiry, name="enquiry"),
    Route("/contact/enquiries/{enquiry_id:int}/update", update, methods=["POST"], name="update"),
    Route("/contact/enquiries/{enquiry_id:int}/note", note, methods=["POST"], name="note"),
    Route("/contact/enquiries/{enquiry_id:int}/reply", reply, methods=["POST"], name="reply"),
]
