"""The e-mails a booking sends: confirmation (with the .ics, the invoice and whatever the confirmation hooks
add), waitlist, offer, lapsed offer, cancellation, and staff messages. All go through the outbox, in the
transaction of the action that causes them. The confirmation's attachments are held by reference and drawn
by the outbox sender when it sends (`calendar_source`, `invoices.draw_pdf`, the badge's source in checkin),
so the booking's transaction, which holds the database writer, renders no PDF, image or calendar."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.events import ics, invoices
from portal.events.links import Links
from portal.events.models import Event, Invoice, Registration, RegistrationWorkshop, Workshop
from portal.mail.service import Attachment, enqueue
from portal.society import service as society_service
from portal.society.service import payment_settings, society_name
from portal.web.hooks import AttachmentSource
from portal.web.templating import money


def when(event: Event) -> str:
    zone = ZoneInfo(event.timezone)
    start, end = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
    if start.date() == end.date():
        return f"{start:%A %-d %B %Y}, {start:%H:%M} to {end:%H:%M}"
    return f"{start:%A %-d %B %Y, %H:%M} to {end:%A %-d %B %Y, %H:%M}"


def local(event: Event, value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(event.timezone)).strftime("%A %-d %B %Y at %H:%M")


def chosen_workshops(session: Session, registration: Registration) -> list[Workshop]:
    """The workshops the delegate has a seat in (confirmed, or held with an offer): their calendar."""
    return list(
        session.scalars(
            select(Workshop)
            .join(RegistrationWorkshop, RegistrationWorkshop.workshop_id == Workshop.id)
            .where(
                RegistrationWorkshop.registration_id == registration.id,
                RegistrationWorkshop.status == "confirmed",
            )
            .order_by(Workshop.starts_at, Workshop.id)
        )
    )


def workshop_lines(session: Session, registration: Registration, *, now: datetime) -> list[tuple[str, str]]:
    """(title, state) for each workshop choice: "confirmed", "waiting list, number 4" …"""
    from portal.events import workshops  # workshops sends e-mails through this module

    return [(p.workshop.title, p.summary) for p in workshops.places(session, registration, now=now)]


def event_location(event: Event) -> str:
    return ", ".join(p for p in (event.venue, " ".join(event.address.split())) if p)


def registration_calendar(
    session: Session,
    registration: Registration,
    event: Event,
    *,
    links: Links,
    now: datetime,
    chosen: Sequence[Workshop] | None = None,
) -> bytes:
    """The delegate's calendar: the event, and each workshop they chose (`chosen`, when the caller has them
    already from `chosen_workshops`)."""
    entries = [
        ics.CalendarEntry(
            uid=f"event-{event.id}-registration-{registration.id}@ipt-portal",
            title=event.title,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            location=event_location(event),
            description=f"Your booking: {links.manage(registration)}",
            url=links.event(event),
        )
    ]
    for workshop in chosen_workshops(session, registration) if chosen is None else chosen:
        entries.append(
            ics.CalendarEntry(
                uid=f"workshop-{workshop.id}-registration-{registration.id}@ipt-portal",
                title=f"{workshop.title} ({event.title})",
                starts_at=workshop.starts_at,
                ends_at=workshop.ends_at,
                location=event_location(event),
            )
        )
    return ics.calendar(entries, name=event.title, now=now).encode()


def calendar_source(links: Links) -> AttachmentSource:
    """The confirmation's calendar file, drawn by the outbox sender at send time from the stored booking
    (None when the booking is gone). It carries the booking link, so it is never stored: only drawn to send."""

    def draw(session: Session, registration_id: int, now: datetime) -> bytes | None:
        registration = session.get(Registration, registration_id)
        event = session.get(Event, registration.event_id) if registration is not None else None
        if registration is None or event is None:
            return None
        return registration_calendar(session, registration, event, links=links, now=now)

    return draw


def bank_details(session: Session, registration: Registration) -> list[tuple[str, str]]:
    """How to pay by bank transfer, one (label, value) a line: shown as a list, never a run-on sentence."""
    bank = payment_settings(session)
    rows = [
        ("Amount", money(registration.balance, registration.currency)),
        ("Account name", bank.account_name),
        ("Sort code", bank.sort_code),
        ("Account number", bank.account_number),
        ("IBAN", bank.iban),
        ("BIC", bank.bic),
        ("Reference", registration.payment_reference or ""),
    ]
    return [(label, value) for label, value in rows if value]


def _base(session: Session, registration: Registration, event: Event, links: Links) -> dict[str, Any]:
    society = society_service.society(session)
    return {
        "society_name": society_name(session),
        "event": event,
        "registration": registration,
        "ticket": registration.ticket_type,
        "when": when(event),
        "location": event_location(event),
        "event_url": links.event(event),
        "contact_email": event.contact_email or (society.contact_email if society else ""),
        "notes": [],
        "inline_images": [],
    }


def _manage(registration: Registration, links: Links) -> dict[str, str]:
    """The booking-management link, a single-use secret for the delegate alone: sealed in the outbox."""
    return {"manage_url": links.manage(registration)}


def _send_with_link(
    session: Session,
    registration: Registration,
    *,
    template: str,
    context: dict[str, Any],
    links: Links,
    now: datetime,
) -> None:
    """An e-mail to the delegate that carries their booking's private link (sealed in the outbox)."""
    enqueue(
        session,
        to=registration.email,
        template=template,
        context=context,
        now=now,
        secrets=_manage(registration, links),
        key=links.key,
    )


def _merge(context: dict[str, Any], extra: dict[str, Any]) -> None:
    for name, value in extra.items():
        if isinstance(value, list) and isinstance(context.get(name), list):
            context[name] = [*context[name], *value]
        else:
            context[name] = value


def send_confirmation(
    session: Session,
    registration: Registration,
    *,
    event: Event,
    invoice: Invoice | None,
    payment_instructions: str,
    links: Links,
    now: datetime,
) -> None:
    from portal.events import workshops  # workshops sends e-mails through this module

    context = _base(session, registration, event, links)
    # The lines of the e-mail: each workshop the delegate asked for, and where they stand (the calendar's
    # entries are drawn by the sender).
    places = workshops.places(session, registration, now=now)
    context.update(
        workshop_lines=[(p.workshop.title, p.summary) for p in places],
        invoice=invoice,
        payment_instructions=payment_instructions,
        due_on=invoice.due_on.strftime("%-d %B %Y") if invoice else "",
        cancellation_cutoff=local(event, event.cancellation_cutoff or event.starts_at),
        bank_details=bank_details(session, registration) if invoice else [],
    )
    # Drawn by the outbox sender when it sends, from what is stored then (see the module's docstring).
    attachments = [
        Attachment.drawn(
            "event.ics", "text/calendar", source="calendar", source_id=registration.id, secret=True
        ),
        *invoices.invoice_attachments(invoice),
    ]
    # What other domains add (the badge's QR code): each gives context and attachments; list values under
    # one key are joined (the templates show `notes`, and in HTML `inline_images`).
    for hook in links.extras:
        extra, more = hook(session, registration)
        _merge(context, extra)
        attachments.extend(more)
    enqueue(
        session,
        to=registration.email,
        template="events/confirmation",
        context=context,
        now=now,
        attachments=attachments,
        secrets=_manage(registration, links),
        key=links.key,
    )


def send_waitlisted(
    session: Session, registration: Registration, *, event: Event, position: int, links: Links, now: datetime
) -> None:
    context = _base(session, registration, event, links)
    context.update(position=position, offer_hours=event.offer_hours)
    _send_with_link(
        session, registration, template="events/waitlisted", context=context, links=links, now=now
    )


def send_offer(
    session: Session, registration: Registration, *, event: Event, links: Links, now: datetime
) -> None:
    context = _base(session, registration, event, links)
    context.update(expires=local(event, registration.offer_expires_at))
    _send_with_link(session, registration, template="events/offer", context=context, links=links, now=now)


def send_workshop_offer(
    session: Session,
    registration: Registration,
    *,
    workshop: Workshop,
    event: Event,
    expires: datetime | None,
    links: Links,
    now: datetime,
) -> None:
    context = _base(session, registration, event, links)
    context.update(workshop=workshop, expires=local(event, expires))
    _send_with_link(
        session, registration, template="events/workshop_offer", context=context, links=links, now=now
    )


def send_workshop_offer_lapsed(
    session: Session,
    registration: Registration,
    *,
    workshop: Workshop,
    event: Event,
    links: Links,
    now: datetime,
) -> None:
    context = _base(session, registration, event, links)
    context.update(workshop=workshop)
    _send_with_link(
        session, registration, template="events/workshop_offer_lapsed", context=context, links=links, now=now
    )


def send_offer_lapsed(
    session: Session, registration: Registration, *, event: Event, links: Links, now: datetime
) -> None:
    context = _base(session, registration, event, links)
    enqueue(session, to=registration.email, template="events/offer_lapsed", context=context, now=now)


def send_cancelled(
    session: Session, registration: Registration, *, event: Event, reason: str, links: Links, now: datetime
) -> None:
    context = _base(session, registration, event, links)
    context.update(reason=reason, refund_due=registration.amount_paid > 0)
    enqueue(session, to=registration.email, template="events/cancelled", context=context, now=now)


def send_message(
    session: Session,
    registration: Registration,
    *,
    event: Event,
    subject: str,
    body: str,
    links: Links,
    now: datetime,
) -> None:
    context = _base(session, registration, event, links)
    context.update(subject=" ".join(subject.split()), body=body)
    _send_with_link(session, registration, template="events/message", context=context, links=links, now=now)


def send_manage_link(
    session: Session, registration: Registration, *, event: Event, links: Links, now: datetime
) -> None:
    """The booking's private link again, asked for by whoever holds the address."""
    context = _base(session, registration, event, links)
    _send_with_link(
        session, registration, template="events/manage_link", context=context, links=links, now=now
    )
