"""Badges for bookings: their codes, reissuing them, ribbons, printable sheets, the badge in the confirmation
e-mail, who may see a badge, and the CPD certificate made from the sessions a delegate attended."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.models import Account
from portal.checkin import badges, pdf, qr
from portal.checkin import cpd as checkin_cpd
from portal.checkin.errors import CheckInError, Code
from portal.checkin.models import RIBBONS, BadgeRibbon, CheckInScan, WorkshopCpd
from portal.checkin.rosters import affiliations
from portal.errors import Kind, NotFound
from portal.events.links import manage_digest
from portal.events.models import Event, Registration, TicketType, Workshop
from portal.mail.service import Attachment
from portal.society.service import society_name
from portal.web.hooks import AttachmentSource, ConfirmationExtra

#: Bookings that have a badge. Only a confirmed booking gets one in its e-mail and on its pages; staff may
#: still print a sheet for other statuses (a filter on the badges page).
BADGE_STATUSES = ("confirmed",)


def code_for(key: bytes, registration: Registration) -> str:
    return badges.issue(
        key, registration_id=registration.id, event_id=registration.event_id, serial=registration.badge_serial
    )


def has_badge(registration: Registration) -> bool:
    return registration.status in BADGE_STATUSES


# --- who may see a badge ------------------------------------------------------------------------------------


def owned_registration(session: Session, *, principal: Any, registration_id: int) -> Registration:
    """The booking if it belongs to this login (its account, or its member record); NotFound otherwise, so
    a stranger cannot even learn that the booking exists."""
    registration = session.get(Registration, registration_id) if 0 < registration_id < 2**31 else None
    if registration is None or principal is None:
        raise NotFound("There is no such booking.")
    account_id = getattr(principal, "account_id", None)
    member_id = getattr(principal, "member_id", None)
    mine = (account_id is not None and registration.account_id == account_id) or (
        member_id is not None and registration.member_id == member_id
    )
    if not mine:
        raise NotFound("There is no such booking.")
    return registration


def registration_for_token(session: Session, *, token: str, key: bytes) -> Registration:
    """The booking behind a private manage link."""
    if not token or len(token) > 100:
        raise NotFound("This link is not valid.")
    registration = session.scalar(
        select(Registration).where(Registration.manage_token_digest == manage_digest(key, token))
    )
    if registration is None:
        raise NotFound("This link is not valid.")
    return registration


def my_registrations(session: Session, *, principal: Any) -> list[Registration]:
    account_id = getattr(principal, "account_id", None)
    member_id = getattr(principal, "member_id", None)
    conditions = []
    if account_id is not None:
        conditions.append(Registration.account_id == account_id)
    if member_id is not None:
        conditions.append(Registration.member_id == member_id)
    if not conditions:
        return []
    return list(
        session.scalars(
            select(Registration)
            .join(Event, Event.id == Registration.event_id)
            .where(or_(*conditions), Registration.status != "cancelled")
            .order_by(Event.starts_at.desc(), Registration.id)
        )
    )


# --- reissue and ribbons ------------------------------------------------------------------------------------


def reissue(session: Session, *, actor: Account, registration_id: int, now: datetime) -> Registration:
    """A new badge for a lost or shared one: the serial goes up, so the old code now scans as `revoked`."""
    registration = session.get(Registration, registration_id) if 0 < registration_id < 2**31 else None
    if registration is None:
        raise NotFound("There is no such booking.")
    if not has_badge(registration):
        raise CheckInError(
            Code.NO_BADGE, "Only a confirmed booking has a badge to reissue.", kind=Kind.CONFLICT
        )
    old = registration.badge_serial
    session.execute(
        update(Registration)
        .where(Registration.id == registration_id)
        .values(badge_serial=Registration.badge_serial + 1)
    )
    session.refresh(registration)
    audit.record(
        session,
        actor=actor,
        action="badge.reissue",
        subject=f"registration {registration_id}",
        details={"event": registration.event_id, "old_serial": old, "serial": registration.badge_serial},
        now=now,
    )
    return registration


def default_ribbon(ticket_name: str) -> str:
    """A ribbon implied by the ticket's name ("Speaker", "Committee pass", ...), else `delegate`."""
    lowered = ticket_name.lower()
    for ribbon in ("speaker", "committee", "organiser", "staff"):
        if ribbon in lowered:
            return ribbon
    return "delegate"


def set_ribbon(session: Session, *, actor: Account, registration_id: int, ribbon: str, now: datetime) -> str:
    if ribbon not in RIBBONS:
        raise CheckInError(Code.BAD_RIBBON, "Choose one of the ribbons shown.", kind=Kind.INVALID)
    registration = session.get(Registration, registration_id) if 0 < registration_id < 2**31 else None
    if registration is None:
        raise NotFound("There is no such booking.")
    row = session.get(BadgeRibbon, registration_id)
    if row is None:
        session.add(BadgeRibbon(registration_id=registration_id, ribbon=ribbon))
    else:
        row.ribbon = ribbon
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="badge.ribbon",
        subject=f"registration {registration_id}",
        details={"event": registration.event_id, "ribbon": ribbon},
        now=now,
    )
    return ribbon


# --- printable badges -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BadgeFilter:
    ticket_type_id: int | None = None
    status: str = "confirmed"
    ribbon: str | None = None


def badge_people(session: Session, *, event_id: int, chosen: BadgeFilter) -> list[Any]:
    """The bookings a badge sheet covers, sorted by surname, with ticket and ribbon."""
    stmt = (
        select(Registration, TicketType.name.label("ticket"), BadgeRibbon.ribbon)
        .join(TicketType, TicketType.id == Registration.ticket_type_id)
        .outerjoin(BadgeRibbon, BadgeRibbon.registration_id == Registration.id)
        .where(Registration.event_id == event_id)
        .order_by(Registration.last_name, Registration.first_name, Registration.id)
    )
    if chosen.status != "all":
        stmt = stmt.where(Registration.status == chosen.status)
    if chosen.ticket_type_id is not None:
        stmt = stmt.where(Registration.ticket_type_id == chosen.ticket_type_id)
    rows = list(session.execute(stmt))
    if chosen.ribbon:
        rows = [r for r in rows if (r.ribbon or default_ribbon(r.ticket)) == chosen.ribbon]
    return rows


def badges_for(session: Session, *, event: Event, rows: Sequence[Any], key: bytes) -> list[pdf.Badge]:
    found = affiliations(session, event.id, [r.Registration.id for r in rows])
    return [
        pdf.Badge(
            name=r.Registration.full_name,
            code=code_for(key, r.Registration),
            ticket=r.ticket,
            affiliation=found.get(r.Registration.id, ""),
            ribbon=r.ribbon or default_ribbon(r.ticket),
            event=event.title,
        )
        for r in rows
    ]


def event_badges_pdf(
    session: Session, *, event_id: int, chosen: BadgeFilter, layout: str, key: bytes
) -> tuple[Event, bytes, int]:
    """A PDF of the event's badges (filtered); returns the event, the PDF and how many badges it holds."""
    event = session.get(Event, event_id) if 0 < event_id < 2**31 else None
    if event is None:
        raise NotFound("There is no such event.")
    rows = badge_people(session, event_id=event_id, chosen=chosen)
    items = badges_for(session, event=event, rows=rows, key=key)
    return event, pdf.badges_pdf(items, layout=layout, title=f"Badges - {event.title}"), len(items)


def single_badge_pdf(session: Session, *, registration: Registration, key: bytes) -> bytes:
    row = session.execute(
        select(Registration, TicketType.name.label("ticket"), BadgeRibbon.ribbon)
        .join(TicketType, TicketType.id == Registration.ticket_type_id)
        .outerjoin(BadgeRibbon, BadgeRibbon.registration_id == Registration.id)
        .where(Registration.id == registration.id)
    ).one()
    event = session.get(Event, registration.event_id)
    assert event is not None
    return pdf.badges_pdf(badges_for(session, event=event, rows=[row], key=key), layout="a6", title="Badge")


# --- the confirmation e-mail ----------------------------------------------------------------------------------


def badge_attachments(key: bytes, registration: Registration) -> tuple[dict[str, Any], list[Attachment]]:
    """The badge for an e-mail: shown inline (Content-ID) in the HTML part, and attached as a PNG file. Both
    are drawn by the outbox sender when it sends (`badge_source`), not in the booking's transaction."""
    if not has_badge(registration):
        return {}, []
    cid = f"badge-{registration.id}-{registration.badge_serial}@portal"
    return (
        {
            "notes": [
                "Your badge is the QR code in this e-mail (also attached as badge.png). Show it at the door "
                "on your phone or printed; we print a name badge for you too."
            ],
            "inline_images": [{"cid": cid, "alt": f"Badge QR code for {registration.full_name}"}],
        },
        [
            Attachment.drawn(
                "badge-qr.png", "image/png", source="badge", source_id=registration.id, content_id=cid
            ),
            Attachment.drawn("badge.png", "image/png", source="badge", source_id=registration.id),
        ],
    )


def badge_source(key: bytes) -> AttachmentSource:
    """The badge's QR code, drawn by the outbox sender at send time with the app's key: the badge as it is
    then (a reissue since counts), or None when the booking is gone or holds no badge any more (cancelled)."""

    def draw(session: Session, registration_id: int, now: datetime) -> bytes | None:
        registration = session.get(Registration, registration_id)
        if registration is None or not has_badge(registration):
            return None
        return qr.png(code_for(key, registration))

    return draw


def confirmation_extra(key: bytes) -> ConfirmationExtra:
    """The badge in every confirmation e-mail (`create_app` puts it in the app's hooks)."""

    def badge(session: Session, registration: Registration) -> tuple[dict[str, Any], list[Attachment]]:
        return badge_attachments(key, registration)

    return badge


# --- CPD --------------------------------------------------------------------------------------------------------


def session_hours(workshop: Workshop, override: float | None) -> float:
    if override is not None:
        return override
    return round((workshop.ends_at - workshop.starts_at) / timedelta(hours=1) * 4) / 4


def cpd_settings(session: Session, *, event_id: int) -> list[tuple[Workshop, float, bool]]:
    """Each session of the event with its CPD hours, and whether staff set them (else its length)."""
    rows = session.execute(
        select(Workshop, WorkshopCpd.cpd_hours)
        .outerjoin(WorkshopCpd, WorkshopCpd.workshop_id == Workshop.id)
        .where(Workshop.event_id == event_id)
        .order_by(Workshop.starts_at, Workshop.id)
    )
    return [(w, session_hours(w, hours), hours is not None) for w, hours in rows]


def set_cpd_hours(
    session: Session, *, actor: Account, event_id: int, hours: dict[int, float | None], now: datetime
) -> None:
    """Set (or, with None, clear back to the session's length) the CPD hours of the event's sessions."""
    known = {w.id: w for w, _, _ in cpd_settings(session, event_id=event_id)}
    changed: dict[int, float | None] = {}
    for workshop_id, value in hours.items():
        if workshop_id not in known:
            raise NotFound("There is no such session.")
        row = session.get(WorkshopCpd, workshop_id)
        if value is None:
            if row is not None:
                session.delete(row)
                changed[workshop_id] = None
        elif row is None:
            session.add(WorkshopCpd(workshop_id=workshop_id, cpd_hours=value))
            changed[workshop_id] = value
        elif row.cpd_hours != value:
            row.cpd_hours = value
            changed[workshop_id] = value
    session.flush()
    if changed:
        checkin_cpd.recount_event(session, event_id=event_id, now=now)
        audit.record(
            session,
            actor=actor,
            action="checkin.cpd_hours",
            subject=f"event {event_id}",
            details={str(k): v for k, v in changed.items()},
            now=now,
        )


def attended_sessions(session: Session, *, registration: Registration) -> list[tuple[Workshop, float]]:
    """Sessions where this delegate's badge was scanned in (and the admission not undone), in time order."""
    rows = session.execute(
        select(Workshop, WorkshopCpd.cpd_hours)
        .join(CheckInScan, CheckInScan.workshop_id == Workshop.id)
        .outerjoin(WorkshopCpd, WorkshopCpd.workshop_id == Workshop.id)
        .where(CheckInScan.registration_id == registration.id, CheckInScan.admission_key.is_not(None))
        .order_by(Workshop.starts_at, Workshop.id)
    )
    return [(w, session_hours(w, hours)) for w, hours in rows]


def certificate_pdf(session: Session, *, registration: Registration, now: datetime) -> bytes:
    """The delegate's CPD certificate; `no_sessions` until a session scan has been recorded."""
    attended = attended_sessions(session, registration=registration)
    if not attended:
        raise CheckInError(
            Code.NO_SESSIONS,
            "No session attendance is recorded for this booking yet, so there is no certificate.",
            kind=Kind.NOT_FOUND,
        )
    event = session.get(Event, registration.event_id)
    assert event is not None
    zone = ZoneInfo(event.timezone)
    start, end = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
    dates = (
        start.strftime("%-d %B %Y")
        if start.date() == end.date()
        else f"{start.strftime('%-d %B %Y')} to {end.strftime('%-d %B %Y')}"
    )
    cert = pdf.Certificate(
        name=registration.full_name,
        event=event.title,
        event_dates=dates,
        society=society_name(session),
        sessions=[
            pdf.CpdSession(title=w.title, starts=w.starts_at.astimezone(zone).strftime("%-d %b %Y"), hours=h)
            for w, h in attended
        ],
        issued_on=now.astimezone(zone).date(),
        reference=f"E{event.id}-R{registration.id}",
    )
    return pdf.certificate_pdf(cert)
