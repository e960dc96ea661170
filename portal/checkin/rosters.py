"""Who is expected and who is in: the attendee list an offline scanner keeps, search by name, the counts on the
scanner page, and the conflicts from offline scanning. The conditions that say "admitted", "expected", "seated
on a session" and "a conflict" are written here once; live attendance (`attendance.py`) counts with them too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, null, select
from sqlalchemy.orm import Session

from portal.checkin.models import CheckInScan
from portal.checkin.scans import BOOKING_COLUMNS, Place, booking_status, seat_on
from portal.events.models import Answer as QuestionAnswer
from portal.events.models import Question, Registration, RegistrationWorkshop, TicketType
from portal.web.forms import clean_text

# --- the conditions -------------------------------------------------------------------------------------------


def admitted(event_id: int, workshop_id: int | None = None) -> ColumnElement[bool]:
    """Scans that stand as an admission (not undone): at the event's door, or at one session's."""
    return and_(
        CheckInScan.event_id == event_id,
        CheckInScan.admission_key.is_not(None),
        CheckInScan.workshop_id.is_(None) if workshop_id is None else CheckInScan.workshop_id == workshop_id,
    )


def admitted_to_sessions(event_id: int) -> ColumnElement[bool]:
    """Admissions at any of the event's session doors."""
    return and_(
        CheckInScan.event_id == event_id,
        CheckInScan.admission_key.is_not(None),
        CheckInScan.workshop_id.is_not(None),
    )


def expected(event_id: int) -> ColumnElement[bool]:
    """The bookings the event's door expects: confirmed ones (unpaid included: they are sent to the desk)."""
    return and_(Registration.event_id == event_id, Registration.status == "confirmed")


def seated(event_id: int) -> ColumnElement[bool]:
    """Session seats a session's door expects (join `RegistrationWorkshop` to `Registration`): a confirmed
    seat of a confirmed booking."""
    return and_(expected(event_id), RegistrationWorkshop.status == "confirmed")


def conflicted(event_id: int) -> ColumnElement[bool]:
    """Offline scans that let someone in whom the server would not have."""
    return and_(CheckInScan.event_id == event_id, CheckInScan.conflict.is_(True))


# --- for the scanner page and offline checking -------------------------------------------------------------------


def affiliations(session: Session, event_id: int, ids: Sequence[int] | None = None) -> dict[int, str]:
    """The answer to the event's badge question (affiliation), where it has one."""
    stmt = (
        select(QuestionAnswer.registration_id, QuestionAnswer.value)
        .join(Question, Question.id == QuestionAnswer.question_id)
        .where(Question.event_id == event_id, Question.purpose == "badge")
        .order_by(Question.position.desc(), Question.id.desc())
    )
    if ids is not None:
        stmt = stmt.where(QuestionAnswer.registration_id.in_(ids))
    return {rid: " ".join(value.split()) for rid, value in session.execute(stmt)}


def _admissions(session: Session, place: Place) -> dict[int, tuple[datetime, str]]:
    stmt = select(CheckInScan.registration_id, CheckInScan.at, CheckInScan.door).where(
        admitted(place.event_id, place.workshop_id)
    )
    return {rid: (at, door) for rid, at, door in session.execute(stmt) if rid is not None}


def _registrations(
    session: Session, place: Place, *, name_like: str | None = None, limit: int | None = None
) -> list[Any]:
    booked = RegistrationWorkshop.workshop_id if place.workshop_id is not None else null()
    stmt = (
        select(*BOOKING_COLUMNS, booked.label("booked"))
        .join(TicketType, TicketType.id == Registration.ticket_type_id)
        .where(Registration.event_id == place.event_id)
        .order_by(Registration.last_name, Registration.first_name, Registration.id)
    )
    if place.workshop_id is not None:
        stmt = stmt.outerjoin(RegistrationWorkshop, seat_on(place.workshop_id))
    if name_like:
        full = func.lower(Registration.first_name + " " + Registration.last_name)
        stmt = stmt.where(full.contains(name_like.lower(), autoescape=True))
    if limit:
        stmt = stmt.limit(limit)
    return list(session.execute(stmt))


def _person(
    row: Any, place: Place, admissions: dict[int, tuple[datetime, str]], affiliation: str
) -> dict[str, Any]:
    first = admissions.get(row.id)
    return {
        "id": row.id,
        "name": f"{row.first_name} {row.last_name}".strip(),
        "ticket": row.ticket,
        "affiliation": affiliation,
        "status": booking_status(row, place),
        "serial": row.badge_serial,
        "admitted_at": first[0].isoformat() if first else None,
        "admitted_door": first[1] if first else None,
    }


def attendee_list(session: Session, *, place: Place) -> dict[str, Any]:
    """Everything an offline scanner needs: each booking's name, ticket, status and badge serial, who is in
    already, and the check-in window. Cancelled bookings are listed too, so offline answers say so."""
    rows = _registrations(session, place)
    admissions = _admissions(session, place)
    found = affiliations(session, place.event_id)
    people = [_person(r, place, admissions, found.get(r.id, "")) for r in rows]
    return {
        "event": place.event_id,
        "workshop": place.workshop_id,
        "window": {"opens": place.opens_at.isoformat(), "closes": place.closes_at.isoformat()},
        "expected": sum(1 for p in people if p["status"] in ("ok", "unpaid")),
        "admitted": len(admissions),
        "attendees": people,
    }


def search(session: Session, *, place: Place, query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Bookings whose name contains the query (case-insensitive), for admitting someone without their badge."""
    query = " ".join(clean_text(query).split())[:100]
    if len(query) < 2:
        return []
    rows = _registrations(session, place, name_like=query, limit=limit)
    admissions = _admissions(session, place)
    found = affiliations(session, place.event_id, [r.id for r in rows])
    return [_person(r, place, admissions, found.get(r.id, "")) for r in rows]


def counts(session: Session, *, place: Place) -> dict[str, int]:
    """Admitted and expected at this place (the event's door, or one session's)."""
    admitted_q = select(func.count()).where(admitted(place.event_id, place.workshop_id))
    if place.workshop_id is None:
        expected_q = select(func.count()).where(expected(place.event_id))
    else:
        expected_q = (
            select(func.count())
            .select_from(RegistrationWorkshop)
            .join(Registration, Registration.id == RegistrationWorkshop.registration_id)
            .where(seated(place.event_id), RegistrationWorkshop.workshop_id == place.workshop_id)
        )
    return {
        "admitted": session.execute(admitted_q).scalar_one(),
        "expected": session.execute(expected_q).scalar_one(),
    }


def conflicts(session: Session, *, event_id: int) -> list[Any]:
    """Offline scans that let someone in whom the server would not have (most often: in at two doors)."""
    first = CheckInScan.__table__.alias("first_scan")
    stmt = (
        select(
            CheckInScan.id,
            CheckInScan.at,
            CheckInScan.received_at,
            CheckInScan.door,
            CheckInScan.result,
            CheckInScan.workshop_id,
            Registration.id.label("registration_id"),
            Registration.first_name,
            Registration.last_name,
            first.c.at.label("first_at"),
            first.c.door.label("first_door"),
        )
        .outerjoin(Registration, Registration.id == CheckInScan.registration_id)
        .outerjoin(
            first,
            and_(
                first.c.registration_id == CheckInScan.registration_id,
                first.c.admission_key.is_not(None),
                func.coalesce(first.c.workshop_id, 0) == func.coalesce(CheckInScan.workshop_id, 0),
            ),
        )
        .where(conflicted(event_id))
        .order_by(CheckInScan.at.desc())
    )
    return list(session.execute(stmt))
