"""Taking and giving back places: conditional updates on the counters, in a fixed order.

`UPDATE events SET places_taken = places_taken + 1 WHERE id = :id AND places_taken < capacity` changes one
row or none: on SQLite the write transaction already holds the database lock (BEGIN IMMEDIATE); on
PostgreSQL the update waits for the row lock and re-checks the condition against the committed row. Either
way the last place goes to exactly one transaction. Rows are always locked in the same order (event, ticket,
workshops by id) so two bookings never wait for each other in a circle; `lock_event` is taken
first by every action that moves places.
"""

from __future__ import annotations

from sqlalchemy import Table, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from portal.db import is_postgres
from portal.events.models import Event, Registration, RegistrationWorkshop, TicketType, Workshop

_EVENTS: Table = Event.__table__  # type: ignore[assignment]
_TICKETS: Table = TicketType.__table__  # type: ignore[assignment]
_WORKSHOPS: Table = Workshop.__table__  # type: ignore[assignment]


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


def workshop_ids(session: Session, registration: Registration) -> list[int]:
    return sorted(
        session.scalars(
            RegistrationWorkshop.__table__.select()
            .with_only_columns(RegistrationWorkshop.workshop_id)
            .where(RegistrationWorkshop.registration_id == registration.id)
        ).all()
    )


def take_places(session: Session, registration: Registration, *, enforce: bool = True) -> str | None:
    """Take the registration's place in the event, its ticket's quota and each chosen workshop, all or none.

    Returns None when every place was taken, otherwise what was full: "event", "ticket" or "workshop".
    With `enforce=False` (staff promoting over capacity) the counters move whatever the limits say.
    """
    workshops = workshop_ids(session, registration)
    savepoint = session.begin_nested()
    failed: str | None = None
    if not _take(session, _EVENTS, registration.event_id, "places_taken", "capacity", enforce=enforce):
        failed = "event"
    elif not _take(session, _TICKETS, registration.ticket_type_id, "taken", "quota", enforce=enforce):
        failed = "ticket"
    else:
        for workshop_id in workshops:
            if not _take(session, _WORKSHOPS, workshop_id, "taken", "capacity", enforce=enforce):
                failed = "workshop"
                break
    if failed:
        savepoint.rollback()
    else:
        savepoint.commit()
    _forget_counters(session, registration, workshops)
    return failed


def give_back_places(session: Session, registration: Registration) -> None:
    """The reverse of `take_places`, for a registration that held its places."""
    _give_back(session, _EVENTS, registration.event_id, "places_taken")
    _give_back(session, _TICKETS, registration.ticket_type_id, "taken")
    workshops = workshop_ids(session, registration)
    for workshop_id in workshops:
        _give_back(session, _WORKSHOPS, workshop_id, "taken")
    _forget_counters(session, registration, workshops)


def _forget_counters(session: Session, registration: Registration, workshops: list[int]) -> None:
    """The counters were changed behind the ORM's back: reload them when next read (only rows already
    loaded in this session need it; looked up by identity, without SQL)."""
    keys = [
        (Event, registration.event_id, "places_taken"),
        (TicketType, registration.ticket_type_id, "taken"),
    ]
    keys += [(Workshop, workshop_id, "taken") for workshop_id in workshops]
    for model, row_id, counter in keys:
        loaded = session.identity_map.get(identity_key(model, row_id))
        if loaded is not None:
            session.expire(loaded, [counter])
