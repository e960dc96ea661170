"""Workshop places apart from the conference place: each workshop has its own seats, its own line and its
own offers, so a full workshop waitlists the delegate for that workshop and leaves the conference place alone.

The machinery is the event waitlist's, one level down: the seat counter moves only by conditional updates
(`capacity.take_seat`), line numbers come from a counter on the workshop row and are unique per workshop, a
freed seat is offered to the first in that workshop's line with a deadline, and a lapsed offer passes on.
Everything that moves a workshop's seats takes the event's lock first (`capacity.lock_event`), as event
places do. A delegate changes their workshops in one transaction: drops give their seat to the next person
waiting for that workshop, adds take a free seat or join that workshop's line.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.orm import Session

from portal.db import table_of
from portal.errors import PortalError
from portal.events import capacity, notify
from portal.events.errors import Code
from portal.events.links import Links
from portal.events.models import (
    HOLDS_PLACE,
    WORKSHOP_HOLDS_SEAT,
    Event,
    Registration,
    RegistrationWorkshop,
    Workshop,
)

_ENTRIES = table_of(RegistrationWorkshop)


class WorkshopError(PortalError):
    """`code`: not_found, not_offered, offer_expired, bad_workshop, workshop_clash, workshop_full,
    already_cancelled, past_cutoff."""


@dataclass(frozen=True)
class WorkshopPlace:
    """What a delegate has in one workshop, for pages and e-mails."""

    workshop: Workshop
    status: str
    #: 1 for the first in the workshop's line; None unless waitlisted.
    position: int | None
    offer_expires_at: datetime | None
    offer_live: bool

    @property
    def summary(self) -> str:
        """ "confirmed", "waiting list, number 4" …: the words the review, booking page and e-mail use."""
        if self.status == "confirmed":
            return "confirmed"
        if self.status == "waitlisted":
            return f"waiting list, number {self.position}"
        if self.status == "offered":
            return "a seat is offered to you" if self.offer_live else "the seat offered has passed on"
        if self.status == "pending":
            return "considered when you get a conference place"
        return "cancelled"


def clash(workshops: Sequence[Workshop]) -> tuple[Workshop, Workshop] | None:
    ordered = sorted(workshops, key=lambda w: w.starts_at)
    for first, second in itertools.pairwise(ordered):
        if second.starts_at < first.ends_at:
            return first, second
    return None


def is_full(workshop: Workshop) -> bool:
    return workshop.capacity is not None and workshop.taken >= workshop.capacity


def waiting_count(session: Session, workshop_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(RegistrationWorkshop)
            .where(
                RegistrationWorkshop.workshop_id == workshop_id, RegistrationWorkshop.status == "waitlisted"
            )
        )
        or 0
    )


def position(session: Session, entry: RegistrationWorkshop) -> int | None:
    """1 for the first in the workshop's line; None when not waiting."""
    if entry.status != "waitlisted" or entry.queue_number is None:
        return None
    ahead = session.scalar(
        select(func.count())
        .select_from(RegistrationWorkshop)
        .where(
            RegistrationWorkshop.workshop_id == entry.workshop_id,
            RegistrationWorkshop.status == "waitlisted",
            RegistrationWorkshop.queue_number < entry.queue_number,
        )
    )
    return int(ahead or 0) + 1


def offer_is_live(entry: RegistrationWorkshop, now: datetime) -> bool:
    return entry.status == "offered" and entry.offer_expires_at is not None and entry.offer_expires_at > now


def _entries(session: Session, registration_id: int, *, live_only: bool = True) -> list[RegistrationWorkshop]:
    query = (
        select(RegistrationWorkshop)
        .join(Workshop, Workshop.id == RegistrationWorkshop.workshop_id)
        .where(RegistrationWorkshop.registration_id == registration_id)
        .order_by(Workshop.starts_at, Workshop.id)
        .execution_options(populate_existing=True)
    )
    if live_only:
        query = query.where(RegistrationWorkshop.status != "cancelled")
    return list(session.scalars(query))


def places(session: Session, registration: Registration, *, now: datetime) -> list[WorkshopPlace]:
    """The registration's workshops (cancelled choices left out), each with its state and line position."""
    return [
        WorkshopPlace(e.workshop, e.status, position(session, e), e.offer_expires_at, offer_is_live(e, now))
        for e in _entries(session, registration.id)
    ]


def line(session: Session, workshop_id: int) -> list[tuple[RegistrationWorkshop, int]]:
    """The workshop's waiting list in order, each with its position (for staff)."""
    waiting = session.scalars(
        select(RegistrationWorkshop)
        .where(RegistrationWorkshop.workshop_id == workshop_id, RegistrationWorkshop.status == "waitlisted")
        .order_by(RegistrationWorkshop.queue_number)
    ).all()
    return [(entry, number) for number, entry in enumerate(waiting, start=1)]


def seat_holders(session: Session, workshop_id: int) -> list[RegistrationWorkshop]:
    return list(
        session.scalars(
            select(RegistrationWorkshop)
            .join(Registration, Registration.id == RegistrationWorkshop.registration_id)
            .where(
                RegistrationWorkshop.workshop_id == workshop_id,
                RegistrationWorkshop.status.in_(WORKSHOP_HOLDS_SEAT),
            )
            .order_by(Registration.last_name, Registration.first_name, Registration.id)
        )
    )


def offer_deadline(event: Event, workshop: Workshop, now: datetime) -> datetime:
    """The event's offer time (48 hours by default), but never past the workshop's start."""
    return min(now + timedelta(hours=event.offer_hours), max(workshop.starts_at, now))


def offer_next(
    session: Session, *, workshop_id: int, now: datetime, links: Links
) -> list[RegistrationWorkshop]:
    """Offer the workshop's free seats to the people in its line, in order, each with a deadline and an
    e-mail. Only people who hold their conference place are in a line (others' choices are pending)."""
    workshop = session.get(Workshop, workshop_id)
    if workshop is None:
        return []
    capacity.lock_event(session, workshop.event_id)
    session.refresh(workshop)
    event = session.get(Event, workshop.event_id)
    assert event is not None
    if now >= workshop.starts_at:
        return []
    offered: list[RegistrationWorkshop] = []
    waiting = session.scalars(
        select(RegistrationWorkshop)
        .join(Registration, Registration.id == RegistrationWorkshop.registration_id)
        .where(
            RegistrationWorkshop.workshop_id == workshop_id,
            RegistrationWorkshop.status == "waitlisted",
            Registration.status.in_(HOLDS_PLACE),
        )
        .order_by(RegistrationWorkshop.queue_number)
    ).all()
    for entry in waiting:
        savepoint = session.begin_nested()
        claimed = session.execute(
            update(_ENTRIES)
            .where(
                _ENTRIES.c.registration_id == entry.registration_id,
                _ENTRIES.c.workshop_id == workshop_id,
                _ENTRIES.c.status == "waitlisted",
            )
            .values(status="offered", offered_at=now, offer_expires_at=offer_deadline(event, workshop, now))
        ).rowcount  # type: ignore[attr-defined]
        if claimed != 1:
            savepoint.rollback()
            continue
        if not capacity.take_seat(session, workshop_id):
            savepoint.rollback()
            break  # no seat left: nobody further down the line can have one either
        savepoint.commit()
        session.expire(entry)
        offered.append(entry)
        registration = session.get(Registration, entry.registration_id)
        assert registration is not None
        notify.send_workshop_offer(
            session,
            registration,
            workshop=workshop,
            event=event,
            expires=entry.offer_expires_at,
            links=links,
            now=now,
        )
    for entry in waiting:
        session.expire(entry)
    return offered


def offer_freed(session: Session, workshop_ids: Iterable[int], *, now: datetime, links: Links) -> None:
    for workshop_id in sorted(set(workshop_ids)):
        offer_next(session, workshop_id=workshop_id, now=now, links=links)


def _lapse(session: Session, entry: RegistrationWorkshop, *, now: datetime, links: Links) -> bool:
    """offered → cancelled once its deadline has passed: the seat is given back (the caller offers it on)."""
    changed = session.execute(
        update(_ENTRIES)
        .where(
            _ENTRIES.c.registration_id == entry.registration_id,
            _ENTRIES.c.workshop_id == entry.workshop_id,
            _ENTRIES.c.status == "offered",
            _ENTRIES.c.offer_expires_at <= now,
        )
        .values(status="cancelled")
    ).rowcount  # type: ignore[attr-defined]
    session.expire(entry)
    if changed != 1:
        return False
    capacity.give_back_seat(session, entry.workshop_id)
    registration = session.get(Registration, entry.registration_id)
    workshop = session.get(Workshop, entry.workshop_id)
    assert registration is not None and workshop is not None
    notify.send_workshop_offer_lapsed(
        session, registration, workshop=workshop, event=registration.event, links=links, now=now
    )
    return True


def expire_offers(
    session: Session, *, now: datetime, links: Links, event_id: int | ColumnElement[int] | None = None
) -> list[RegistrationWorkshop]:
    """Write back every workshop seat offer whose deadline has passed: the person leaves that workshop's
    line, is told so, and the seat is offered to the next in line. Returns the lapsed entries."""
    query = (
        select(RegistrationWorkshop)
        .join(Workshop, Workshop.id == RegistrationWorkshop.workshop_id)
        .where(RegistrationWorkshop.status == "offered", RegistrationWorkshop.offer_expires_at <= now)
        .order_by(RegistrationWorkshop.workshop_id, RegistrationWorkshop.queue_number)
    )
    if event_id is not None:
        query = query.where(Workshop.event_id == event_id)
    lapsed: list[RegistrationWorkshop] = []
    for entry in session.scalars(query).all():
        capacity.lock_event(session, entry.workshop.event_id)
        if _lapse(session, entry, now=now, links=links):
            lapsed.append(entry)
    offer_freed(session, (e.workshop_id for e in lapsed), now=now, links=links)
    return lapsed


def accept_offer(
    session: Session, *, registration: Registration, workshop_id: int, now: datetime, links: Links
) -> None:
    """Take up a workshop seat offered before its deadline; a lapsed offer is written back and refused."""
    capacity.lock_event(session, registration.event_id)
    entry = session.get(RegistrationWorkshop, (registration.id, workshop_id), populate_existing=True)
    if entry is None or entry.status != "offered":
        raise WorkshopError(Code.NOT_OFFERED, "There is no offer of a seat in this workshop on your booking.")
    if not offer_is_live(entry, now):
        expire_offers(session, now=now, links=links, event_id=registration.event_id)
        raise WorkshopError(Code.OFFER_EXPIRED, "Sorry, the time to accept this workshop seat has passed.")
    changed = session.execute(
        update(_ENTRIES)
        .where(
            _ENTRIES.c.registration_id == registration.id,
            _ENTRIES.c.workshop_id == workshop_id,
            _ENTRIES.c.status == "offered",
            _ENTRIES.c.offer_expires_at > now,
        )
        .values(status="confirmed", offer_expires_at=None)
    ).rowcount  # type: ignore[attr-defined]
    session.expire(entry)
    if changed != 1:
        raise WorkshopError(Code.NOT_OFFERED, "There is no offer of a seat in this workshop on your booking.")


@dataclass(frozen=True)
class WorkshopChange:
    dropped: list[Workshop]
    confirmed: list[Workshop]
    waitlisted: list[Workshop]
    pending: list[Workshop]


def change(
    session: Session, *, registration: Registration, workshop_ids: Sequence[int], now: datetime, links: Links
) -> WorkshopChange:
    """The delegate's workshops become `workshop_ids`, in one transaction: each dropped workshop's seat (if
    held) goes to the next person in its line; each added one takes a free seat or joins its line (or, while
    the booking itself waits for a conference place, is pending). Workshops kept are left as they are."""
    capacity.lock_event(session, registration.event_id)
    session.refresh(registration)
    event = session.get(Event, registration.event_id)
    assert event is not None
    if registration.status == "cancelled":
        raise WorkshopError(Code.ALREADY_CANCELLED, "This booking is cancelled.")
    if now >= event.starts_at:
        raise WorkshopError(Code.PAST_CUTOFF, "The event has started: please speak to us at the desk.")
    wanted_ids = set(workshop_ids)
    wanted = list(session.scalars(select(Workshop).where(Workshop.id.in_(wanted_ids)))) if wanted_ids else []
    if len(wanted) != len(wanted_ids) or any(w.event_id != event.id for w in wanted):
        raise WorkshopError(Code.BAD_WORKSHOP, "Choose workshops from the list.")
    overlap = clash(wanted)
    if overlap:
        raise WorkshopError(
            Code.WORKSHOP_CLASH,
            f"'{overlap[0].title}' and '{overlap[1].title}' are at the same time: choose one.",
        )
    current = {e.workshop_id: e for e in _entries(session, registration.id, live_only=False)}
    live = {wid for wid, e in current.items() if e.status != "cancelled"}
    by_id = {w.id: w for w in wanted}
    dropped: list[Workshop] = []
    freed: list[int] = []
    for workshop_id in sorted(live - wanted_ids):
        entry = current[workshop_id]
        if entry.holds_seat:
            capacity.give_back_seat(session, workshop_id)
            freed.append(workshop_id)
        dropped.append(entry.workshop)
    outcome: dict[str, list[Workshop]] = {"confirmed": [], "waitlisted": [], "pending": []}
    added = sorted(wanted_ids - live)
    gone = (live - wanted_ids) | {wid for wid in added if wid in current}
    if gone:
        # Dropped choices go, and so do cancelled ones about to be chosen again (they start afresh).
        session.execute(
            delete(_ENTRIES).where(
                _ENTRIES.c.registration_id == registration.id, _ENTRIES.c.workshop_id.in_(gone)
            )
        )
        for workshop_id in gone:
            if current[workshop_id] in session:
                session.expunge(current[workshop_id])
    for workshop_id in added:
        session.execute(
            insert(_ENTRIES).values(
                registration_id=registration.id, workshop_id=workshop_id, status="pending"
            )
        )
        if registration.status in HOLDS_PLACE:
            status = capacity.seat_or_queue(
                session, registration_id=registration.id, workshop_id=workshop_id, now=now
            )
            if status == "waitlisted" and not event.waitlist_enabled:
                raise WorkshopError(
                    Code.WORKSHOP_FULL, f"'{by_id[workshop_id].title}' is full: choose another."
                )
        else:
            status = "pending"
        outcome[status].append(by_id[workshop_id])
    session.expire(registration, ["workshop_places"])
    offer_freed(session, freed, now=now, links=links)
    return WorkshopChange(dropped, outcome["confirmed"], outcome["waitlisted"], outcome["pending"])


def change_message(done: WorkshopChange) -> str:
    """What the delegate is told after changing their workshops, plainly."""
    parts = ["Your workshops are saved."]
    if done.confirmed:
        parts.append("You have a seat in " + _titles(done.confirmed) + ".")
    if done.waitlisted:
        parts.append(
            "You are on the waiting list for "
            + _titles(done.waitlisted)
            + "; your conference place is not affected."
        )
    if done.pending:
        parts.append(_titles(done.pending) + " will be considered when you get a conference place.")
    if done.dropped:
        parts.append("You have given up " + _titles(done.dropped) + ".")
    return " ".join(parts)


def _titles(chosen: Sequence[Workshop]) -> str:
    return ", ".join(f"'{w.title}'" for w in chosen)
