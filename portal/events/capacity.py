"""Taking and giving back places: conditional updates on the counters, in a fixed order.

`UPDATE events SET places_taken = places_taken + 1 WHERE id = :id AND places_taken < capacity` changes one
row or none: on SQLite the write transaction already holds the database lock (BEGIN IMMEDIATE); on
PostgreSQL the update waits for the row lock and re-checks the condition against the committed row. Either
way the last place goes to exactly one transaction. Rows are always locked in the same order (event, ticket,
workshops by id) so two bookings never wait for each other in a circle; `lock_event` is taken
first by every action that moves places.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, inspect, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from portal.db import is_postgres
from portal.events.models import (
    WORKSHOP_HOLDS_SEAT,
    Event,
    Registration,
    RegistrationWorkshop,
    TicketType,
    Workshop,
)

_EVENTS: Table = Event.__table__  # type: ignore[assignment]
_TICKETS: Table = TicketType.__table__  # type: ignore[assignment]
_WORKSHOPS: Table = Workshop.__table__  # type: ignore[assignment]
_ENTRIES: Table = RegistrationWorkshop.__table__  # type: ignore[assignment]


def lock_event(session: Session, event_id: int) -> None:
    """Serialise everything that moves an event's places (PostgreSQL row lock; SQLite's write transaction
    already holds the database). Taken first, so locks are always acquired in the same order: event,
    registration, ticket, workshops."""
    if is_postgres(session):
        session.execute(select(_EVENTS.c.id).where(_EVENTS.c.id == event_id).with_for_update())


def _take(session: Session, table: Table, row_id: int, counter: str, limit: str, *, enforce: bool) -> bool:
    stmt = update(table).where(table.c.id == row_id).values({counter: table.c[counter] + 1})
    if enforce:
        stmt = stmt.where(or_(table.c[limit].is_(None), table.c[counter] < table.c[limit]))
    return session.execute(stmt).rowcount == 1  # type: ignore[attr-defined]


def _give_back(session: Session, table: Table, row_id: int, counter: str) -> None:
    session.execute(
        update(table)
        .where(table.c.id == row_id, table.c[counter] > 0)
        .values({counter: table.c[counter] - 1})
    )


def workshop_ids(session: Session, registration: Registration, *, statuses: tuple[str, ...]) -> list[int]:
    return sorted(
        session.scalars(
            select(_ENTRIES.c.workshop_id).where(
                _ENTRIES.c.registration_id == registration.id, _ENTRIES.c.status.in_(statuses)
            )
        ).all()
    )


def take_places(
    session: Session, registration: Registration, *, now: datetime, enforce: bool = True
) -> str | None:
    """Take the registration's conference place and its ticket's quota, both or neither; then each chosen
    workshop on its own: a seat if one is free, else the next number in that workshop's line.

    Returns None when the conference place was taken, otherwise what was full: "event" or "ticket" (the
    workshops are then left as they were, pending). With `enforce=False` (staff promoting over capacity)
    the event's and ticket's counters move whatever the limits say; workshops always keep their limit.
    """
    failed: str | None = None
    if not _take(session, _EVENTS, registration.event_id, "places_taken", "capacity", enforce=enforce):
        failed = "event"
    elif not _take(session, _TICKETS, registration.ticket_type_id, "taken", "quota", enforce=enforce):
        # Both or neither: the event's place, just taken under its row lock (held to the commit), is given
        # back by the same transaction (no savepoint: two statements fewer on every booking that fits).
        _give_back(session, _EVENTS, registration.event_id, "places_taken")
        failed = "ticket"
    _forget_counters(session, registration, [])
    if failed:
        return failed
    for workshop_id in _pending_workshops(session, registration):
        seat_or_queue(session, registration_id=registration.id, workshop_id=workshop_id, now=now)
    return None


def _pending_workshops(session: Session, registration: Registration) -> list[int]:
    """The registration's pending workshop choices: from its rows when this session holds them (a booking just
    made), else from the database."""
    if "workshop_places" in inspect(registration).unloaded:
        return workshop_ids(session, registration, statuses=("pending",))
    return sorted(p.workshop_id for p in registration.workshop_places if p.status == "pending")


def take_seat(session: Session, workshop_id: int) -> bool:
    """One seat in a workshop, if one is free (a conditional update: the last seat goes to one person)."""
    taken = _take(session, _WORKSHOPS, workshop_id, "taken", "capacity", enforce=True)
    _forget_workshop(session, workshop_id)
    return taken


def give_back_seat(session: Session, workshop_id: int) -> None:
    _give_back(session, _WORKSHOPS, workshop_id, "taken")
    _forget_workshop(session, workshop_id)


def next_queue_number(session: Session, workshop_id: int) -> int:
    """The next number in the workshop's line: the UPDATE takes the workshop's row (PostgreSQL) or runs in
    SQLite's single write transaction, so two people joining at once get different numbers."""
    session.execute(
        update(_WORKSHOPS)
        .where(_WORKSHOPS.c.id == workshop_id)
        .values(waitlist_seq=_WORKSHOPS.c.waitlist_seq + 1)
    )
    number = session.scalar(select(_WORKSHOPS.c.waitlist_seq).where(_WORKSHOPS.c.id == workshop_id))
    _forget_workshop(session, workshop_id)
    return int(number or 0)


def seat_or_queue(session: Session, *, registration_id: int, workshop_id: int, now: datetime) -> str:
    """A pending workshop choice of a registration that now holds its conference place: "confirmed" with a
    seat if one is free, else "waitlisted" with the next number in that workshop's line."""
    if take_seat(session, workshop_id):
        values: dict[str, object] = {"status": "confirmed"}
    else:
        values = {
            "status": "waitlisted",
            "queue_number": next_queue_number(session, workshop_id),
            "waitlisted_at": now,
        }
    session.execute(
        update(_ENTRIES)
        .where(_ENTRIES.c.registration_id == registration_id, _ENTRIES.c.workshop_id == workshop_id)
        .values(values)
    )
    # The row as the update left it, when this session holds it (no reload for the e-mail that follows).
    loaded = session.identity_map.get(identity_key(RegistrationWorkshop, (registration_id, workshop_id)))
    if loaded is not None:
        for name, value in values.items():
            set_committed_value(loaded, name, value)
    return str(values["status"])


def give_back_places(session: Session, registration: Registration) -> list[int]:
    """The reverse of `take_places`, for a registration that held its places and is being cancelled: its
    workshop choices are cancelled with it. Returns the workshops whose seat was freed (to offer them on)."""
    _give_back(session, _EVENTS, registration.event_id, "places_taken")
    _give_back(session, _TICKETS, registration.ticket_type_id, "taken")
    freed = workshop_ids(session, registration, statuses=WORKSHOP_HOLDS_SEAT)
    for workshop_id in freed:
        give_back_seat(session, workshop_id)
    cancel_workshop_choices(session, registration)
    _forget_counters(session, registration, freed)
    return freed


def cancel_workshop_choices(session: Session, registration: Registration) -> None:
    """Every live workshop choice of a cancelled registration leaves its line (seats are given back first)."""
    session.execute(
        update(_ENTRIES)
        .where(_ENTRIES.c.registration_id == registration.id, _ENTRIES.c.status != "cancelled")
        .values(status="cancelled", offer_expires_at=None)
    )
    for entry in list(session.identity_map.values()):
        if isinstance(entry, RegistrationWorkshop) and entry.registration_id == registration.id:
            session.expire(entry)


def _forget_workshop(session: Session, workshop_id: int) -> None:
    loaded = session.identity_map.get(identity_key(Workshop, workshop_id))
    if loaded is not None:
        session.expire(loaded, ["taken", "waitlist_seq"])


def _forget_counters(session: Session, registration: Registration, workshops: list[int]) -> None:
    """The counters were changed behind the ORM's back: reload them when next read (only rows already
    loaded in this session need it; looked up by identity, without SQL)."""
    keys = [
        (Event, registration.event_id, "places_taken"),
        (TicketType, registration.ticket_type_id, "taken"),
    ]
    for model, row_id, counter in keys:
        loaded = session.identity_map.get(identity_key(model, row_id))
        if loaded is not None:
            session.expire(loaded, [counter])
    for workshop_id in workshops:
        _forget_workshop(session, workshop_id)
