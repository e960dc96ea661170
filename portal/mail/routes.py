"""Staff outbox pages: every e-mail the portal sends, its delivery, its text, and a retry for failures."""

from __future__ import annotations

from sqlalchemy import select
from starlette.responses import Response
from starlette.routing import Route

from portal.accounts import acting
from portal.accounts.access import page
from portal.errors import NotFound
from portal.mail import service
from portal.mail.models import MAIL_STATUSES, OutboxAttachment, OutboxEmail
from portal.mail.sealing import ATTACHMENT_PLACEHOLDER
from portal.web.context import Ctx
from portal.web.forms import whole_number

OUTBOX_PAGE = 50

STATUS_LABELS = {
    "pending": "Waiting",
    "sending": "Sending",
    "sent": "Sent",
    "logged": "Logged, not sent",
    "failed": "Failed",
}


def _email(ctx: Ctx) -> OutboxEmail:
    email = ctx.db.get(OutboxEmail, int(ctx.params["email_id"]))
    if email is None:
        raise NotFound("No such e-mail.")
    return email


@page("office")
def outbox(ctx: Ctx) -> Response:
    status = ctx.query.get("status", "")
    status = status if status in MAIL_STATUSES else ""
    query = select(OutboxEmail).order_by(OutboxEmail.id.desc())
    if status:
        query = query.where(OutboxEmail.status == status)
    before = whole_number(ctx.query.get("before", ""))
    if before is not None:
        query = query.where(OutboxEmail.id < before)
    emails = ctx.db.scalars(query.limit(OUTBOX_PAGE + 1)).all()
    return ctx.render(
        "mail/outbox.html",
        {
            "emails": emails[:OUTBOX_PAGE],
            "more": len(emails) > OUTBOX_PAGE,
            "status": status,
            "counts": service.counts(ctx.db),
            "labels": STATUS_LABELS,
            "logging_only": not ctx.settings.smtp_url,
        },
        partial="mail/_rows.html",
    )


@page("office")
def email_detail(ctx: Ctx) -> Response:
    email = _email(ctx)
    return ctx.render(
        "mail/email.html",
        {
            "email": email,
            "labels": STATUS_LABELS,
            "mail_from": ctx.settings.mail_from,
            # The stored body never holds a single-use link (a placeholder stands in its place), so it is
            # shown in every state; a failed e-mail that carried one cannot be sent again.
            "can_retry": service.can_retry(email),
            "secret_gone": service.NO_RESEND,
        },
    )


@page("office")
def attachment(ctx: Ctx) -> Response:
    email = _email(ctx)
    found = ctx.db.get(OutboxAttachment, int(ctx.params["attachment_id"]))
    # An attachment that carries a single-use link is stored as a note saying so; the real one is sealed.
    if found is None or found.email_id != email.id:
        raise NotFound("No such attachment.")
    content = found.content
    if found.source is not None and content != ATTACHMENT_PLACEHOLDER:
        # Held by reference: drawn now from the stored data, as the sender draws it (one that carries a
        # single-use link keeps its note: it is drawn only to be sent).
        draw = ctx.hooks.attachments.get(found.source) if ctx.hooks is not None else None
        drawn = draw(ctx.db, found.source_id, ctx.now) if draw is not None and found.source_id else None
        if drawn is None:
            raise NotFound("This attachment can no longer be drawn: what it was made from is gone.")
        content = drawn
    safe_name = "".join(c for c in found.filename if c.isalnum() or c in "._- ")[:100] or "attachment"
    return Response(
        content,
        media_type=found.content_type or "application/octet-stream",
        # Always a download, never shown in the portal's own origin.
        headers={"Content-Disposition": f'attachment; filename="{safe_name}"'},
    )


@page("office")
def retry(ctx: Ctx) -> Response:
    actor = acting.actor(ctx)
    email = service.retry(ctx.db, email_id=int(ctx.params["email_id"]), actor=actor, now=ctx.now)
    ctx.flash(f"The e-mail to {email.to_addr} will be sent again now.")
    return ctx.redirect("mail:email", email_id=email.id)


routes = [
    Route("/outbox", outbox, methods=["GET"], name="outbox"),
    Route("/outbox/{email_id:int}", email_detail, methods=["GET"], name="email"),
    Route(
        "/outbox/{email_id:int}/attachments/{attachment_id:int}",
        attachment,
        methods=["GET"],
        name="attachment",
    ),
    Route("/outbox/{email_id:int}/retry", retry, methods=["POST"], name="retry"),
]
