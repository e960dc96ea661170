"""CPD from check-in: a member admitted at one of the portal's events gets one entry in their CPD log for
that event (`cpd_entries` is unique on member and event), written in the scan's own transaction.

The hours are the CPD certificate's (`badging.attended_sessions`): each session attended is worth its CPD hours
(set by staff, or its length), so a session's door adds that session's hours to the entry, once (its admission
is unique). An event with no sessions is worth its own length; the event's door of one with sessions makes the
entry with no hours yet, which its sessions then add. Undoing an admission, or staff changing a session's
hours, counts the entry again from the admissions (`recount`), off the hot path.

On the hot path this is one statement, and only for a booking linked to a member that the scan admits: a
prepared upsert (no ORM); the hours come with the door's `Place`, which is cached per worker."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, delete, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal.accreditation.models import CpdEntry
from portal.checkin.models import CheckInScan, WorkshopCpd
from portal.events.models import Event, Registration, Workshop

#: The most hours one event's entry may carry (the CPD log's own limit for an entry).
MAX_HOURS = Decimal(100)


def quarter_hours(starts_at: datetime, ends_at: datetime) -> Decimal:
    """A length in hours to the quarter-hour, as the certificate counts a session."""
    quarters = round((ends_at - starts_at) / timedelta(hours=1) * 4)
    return min(Decimal(max(quarters, 0)) / 4, MAX_HOURS).quantize(Decimal("0.01"))


def session_hours(workshop: Workshop, override: float | None) -> Decimal:
    if override is not None:
        return min(Decimal(str(override)), MAX_HOURS).quantize(Decimal("0.01"))
    return quarter_hours(workshop.starts_at, workshop.ends_at)


@dataclass(frozen=True)
class PlaceCpd:
    """What an admission at one place writes to a member's log: the event's entry, and the hours it is worth
    (`adds`: a session's door, whose hours add to the entry; else the event's door, which only makes it)."""

    event_id: int
    done_on: date
    activity: str
    category: str
    hours: Decimal
    adds: bool


def place_cpd(session: Session, *, event_id: int, workshop_id: int | None) -> PlaceCpd | None:
    """The CPD an admission at this place is worth (read when the door's place is looked up, not per scan)."""
    event = session.get(Event, event_id)
    if event is None:
        return None
    done_on = event.starts_at.astimezone(ZoneInfo(event.timezone)).date()
    category = "course" if event.kind == "training" else "conference"
    base = functools.partial(
        PlaceCpd, event_id=event.id, done_on=done_on, activity=event.title[:300], category=category
    )
    if workshop_id is not None:
        row = session.execute(
            select(Workshop, WorkshopCpd.cpd_hours)
            .outerjoin(WorkshopCpd, WorkshopCpd.workshop_id == Workshop.id)
            .where(Workshop.id == workshop_id)
        ).first()
        if row is None:
            return None
        return base(hours=session_hours(row[0], row[1]), adds=True)
    has_sessions = session.scalar(select(exists().where(Workshop.event_id == event.id)))
    hours = Decimal("0.00") if has_sessions else quarter_hours(event.starts_at, event.ends_at)
    return base(hours=hours, adds=False)


def _statements() -> dict[tuple[str, bool], Any]:
    made: dict[tuple[str, bool], Any] = {}
    for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql)):
        keep = dialect.insert(CpdEntry).on_conflict_do_nothing(index_elements=["member_id", "event_id"])
        add = dialect.insert(CpdEntry)
        add = add.on_conflict_do_update(
            index_elements=["member_id", "event_id"],
            set_={"hours": CpdEntry.hours + add.excluded.hours},
        )
        made[(name, False)], made[(name, True)] = keep, add
    return made


_UPSERT = _statements()


def credit(connection: Connection, *, member_id: int, cpd: PlaceCpd, now: datetime) -> None:
    """The hot path's one statement: make the member's entry for the event, or add a session's hours to it."""
    connection.execute(
        _UPSERT[(connection.dialect.name, cpd.adds)],
        {
            "member_id": member_id,
            "event_id": cpd.event_id,
            "done_on": cpd.done_on,
            "activity": cpd.activity,
            "hours": cpd.hours,
            "category": cpd.category,
            "reflection": "",
            "created_at": now,
            "evidence_name": "",
            "evidence_type": "",
        },
    )


def recount(session: Session, *, event_id: int, member_id: int, now: datetime) -> None:
    """Count a member's entry for an event again from their admissions (after an undo, or staff changing a
    session's hours): the sessions attended, or the event's length when it has none; no admission, no entry."""
    registrations = select(Registration.id).where(
        Registration.event_id == event_id, Registration.member_id == member_id
    )
    scans = session.execute(
        select(CheckInScan.workshop_id).where(
            CheckInScan.event_id == event_id,
            CheckInScan.registration_id.in_(registrations),
            CheckInScan.admission_key.is_not(None),
        )
    ).all()
    if not scans:
        session.execute(
            delete(CpdEntry).where(CpdEntry.member_id == member_id, CpdEntry.event_id == event_id)
        )
        return
    sessions = {w for (w,) in scans if w is not None}
    cpd = place_cpd(session, event_id=event_id, workshop_id=None)
    if cpd is None:
        return
    hours = cpd.hours
    if sessions:
        rows = session.execute(
            select(Workshop, WorkshopCpd.cpd_hours)
            .outerjoin(WorkshopCpd, WorkshopCpd.workshop_id == Workshop.id)
            .where(Workshop.id.in_(sessions))
        ).all()
        hours = min(sum((session_hours(w, h) for w, h in rows), Decimal(0)), MAX_HOURS)
    credit(session.connection(), member_id=member_id, cpd=cpd, now=now)
    session.execute(
        update(CpdEntry)
        .where(CpdEntry.member_id == member_id, CpdEntry.event_id == event_id)
        .values(hours=hours)
    )


def recount_event(session: Session, *, event_id: int, now: datetime) -> None:
    """Every member's entry for the event counted again (a session's CPD hours changed)."""
    members = session.scalars(
        select(CpdEntry.member_id).where(CpdEntry.event_id == event_id).distinct()
    ).all()
    for member_id in members:
        recount(session, event_id=event_id, member_id=member_id, now=now)
