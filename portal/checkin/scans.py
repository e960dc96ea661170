"""The rules of a scan at the door: where it happens (a `Place` and its window), what the door answers
(`ANSWERS`, said once for the page, the scanner's script and the API), judging a scan against its booking,
recording it, offline scans sent later, and undoing an admission.

The hot path (`judge`, then `record`) is one indexed query for the registration and one insert into the scan
log; the unique `admission_key` on that insert is what lets exactly one of two simultaneous scans admit a
badge, on every engine, and the unique `nonce` is what makes a repeated request change nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Connection, and_, bindparam, null, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.models import Account
from portal.checkin import badges
from portal.checkin import cpd as checkin_cpd
from portal.checkin.errors import CheckInError, Code
from portal.checkin.models import RESULTS, CheckInScan
from portal.db import rowcount
from portal.errors import Kind, NotFound
from portal.events.models import Event, Registration, RegistrationWorkshop, TicketType, Workshop

if TYPE_CHECKING:
    from portal.checkin.parsing import ScanRequest

#: The event's door opens this long before the event starts and closes this long after it ends.
EVENT_OPENS_BEFORE = timedelta(hours=3)
EVENT_CLOSES_AFTER = timedelta(hours=2)
#: A session's door opens this long before the session starts, and closes when it ends.
SESSION_OPENS_BEFORE = timedelta(minutes=30)
UNDO_WINDOW = timedelta(minutes=15)
#: Largest id a scan may name (the columns are 32-bit on PostgreSQL).
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class Look:
    """How the door shows an answer: its colour (`ok` green, `warn` amber, `bad` red, `info` neither) and its
    words."""

    colour: str
    message: str


#: Every answer the door shows, said once: the API's `message`, the scanner page's answer panel, and (as JSON
#: in the page) the scanner's script, for the answers it decides itself offline. `undone` answers an undo;
#: `error` is what the script shows when the server refuses a scan or cannot be reached.
ANSWERS: dict[str, Look] = {
    "ok": Look("ok", "Admitted"),
    "already_checked_in": Look("warn", "Already checked in"),
    "unpaid": Look("warn", "Not paid: send to the registration desk"),
    "not_open": Look("warn", "Check-in is not open now"),
    "invalid": Look("bad", "Not a valid badge"),
    "unknown": Look("bad", "Booking not found"),
    "revoked": Look("bad", "Old badge: a new one was issued"),
    "cancelled": Look("bad", "Booking cancelled"),
    "waitlisted": Look("bad", "Not confirmed: on the waiting list"),
    "wrong_event": Look("bad", "This badge is for another event"),
    "not_booked": Look("bad", "Not booked on this session"),
    "undone": Look("info", "Admission undone"),
    "error": Look("bad", "Could not check this badge"),
}
assert set(RESULTS) <= set(ANSWERS)
MESSAGES: dict[str, str] = {status: ANSWERS[status].message for status in RESULTS}


def looks_json() -> dict[str, dict[str, str]]:
    """`ANSWERS` as the scanner page hands it to its script: `{status: {"colour", "message"}}`."""
    return {status: {"colour": look.colour, "message": look.message} for status, look in ANSWERS.items()}


# --- who is scanning, and where -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """Where scans happen: an event's door, or a session's room (a workshop), with its check-in window."""

    event_id: int
    opens_at: datetime
    closes_at: datetime
    workshop_id: int | None = None
    title: str = ""
    #: What an admission here writes to a member's CPD log (see `checkin.cpd`).
    cpd: checkin_cpd.PlaceCpd | None = None

    def is_open(self, at: datetime) -> bool:
        return self.opens_at <= at <= self.closes_at


@dataclass(frozen=True)
class Scanner:
    """Who scanned (a staff account or a device) and at which door."""

    door: str
    account_id: int | None = None
    device_id: int | None = None


@dataclass(frozen=True)
class Scan:
    """One scan as sent: a badge code, or a registration id chosen by name at the door."""

    nonce: str
    code: str | None = None
    registration_id: int | None = None
    #: For an offline scan: when it happened, and what the scanner told the person at the door.
    scanned_at: datetime | None = None
    client_result: str | None = None


@dataclass(frozen=True)
class CheckInAnswer:
    status: str
    message: str
    registration: int | None = None
    name: str = ""
    ticket: str = ""
    first: dict[str, str] | None = None
    conflict: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "status": self.status,
            "message": self.message,
            "registration": self.registration,
            "name": self.name,
            "ticket": self.ticket,
            "conflict": self.conflict,
            **self.extra,
        }
        if self.first is not None:
            data["first"] = dict(self.first)
        return data

    @classmethod
    def from_json(cls, raw: str) -> CheckInAnswer:
        data = json.loads(raw)
        known = {
            k: data.pop(k)
            for k in ("status", "message", "registration", "name", "ticket", "first", "conflict")
            if k in data
        }
        return cls(**known, extra=data)


def place_for(session: Session, *, event_id: int, workshop_id: int | None = None) -> Place:
    """The event (or one of its sessions) with its check-in window; NotFound when there is no such place."""
    if not 0 < event_id <= MAX_ID or (workshop_id is not None and not 0 < workshop_id <= MAX_ID):
        raise NotFound("There is no such event or session.")
    if workshop_id is None:
        row = session.execute(
            select(Event.starts_at, Event.ends_at, Event.title).where(Event.id == event_id)
        ).first()
        if row is None:
            raise NotFound("There is no such event.")
        return Place(
            event_id=event_id,
            opens_at=row.starts_at - EVENT_OPENS_BEFORE,
            closes_at=row.ends_at + EVENT_CLOSES_AFTER,
            title=row.title,
            cpd=checkin_cpd.place_cpd(session, event_id=event_id, workshop_id=None),
        )
    row = session.execute(
        select(Workshop.starts_at, Workshop.ends_at, Workshop.title).where(
            Workshop.id == workshop_id, Workshop.event_id == event_id
        )
    ).first()
    if row is None:
        raise CheckInError(
            Code.UNKNOWN_WORKSHOP, "There is no such session at this event.", kind=Kind.NOT_FOUND
        )
    return Place(
        event_id=event_id,
        workshop_id=workshop_id,
        opens_at=row.starts_at - SESSION_OPENS_BEFORE,
        closes_at=row.ends_at,
        title=row.title,
        cpd=checkin_cpd.place_cpd(session, event_id=event_id, workshop_id=workshop_id),
    )


# --- a booking, as the door sees it ------------------------------------------------------------------------------

#: What the door reads of a booking (with `booked`: the session seat, for a session's door).
BOOKING_COLUMNS = (
    Registration.id,
    Registration.status,
    Registration.payment_status,
    Registration.amount_due,
    Registration.amount_paid,
    Registration.badge_serial,
    Registration.first_name,
    Registration.last_name,
    Registration.member_id,
    TicketType.name.label("ticket"),
)


def seat_on(workshop_id: Any) -> ColumnElement[bool]:
    """The join to a booking's seat on one session: a seat, not a place in the session's waiting line."""
    return and_(
        RegistrationWorkshop.registration_id == Registration.id,
        RegistrationWorkshop.workshop_id == workshop_id,
        RegistrationWorkshop.status == "confirmed",
    )


def booking_status(row: Any, place: Place) -> str:
    """Whether a booking may come in at this place, clock aside: ok, cancelled, waitlisted, not_booked or
    unpaid (what a scan answers, and what an offline scanner is told of each booking)."""
    if row.status == "cancelled":
        return "cancelled"
    if row.status != "confirmed":
        return "waitlisted"
    if place.workshop_id is not None and row.booked is None:
        return "not_booked"
    if row.payment_status not in ("paid", "waived") and row.amount_due > row.amount_paid:
        return "unpaid"
    return "ok"


# --- the scan itself --------------------------------------------------------------------------------------------


# The hot path's statements are built once and run on the session's connection with parameters: building and
# cache-keying a statement per scan, and the ORM's result handling, cost several times the query itself.
_BOOKING = (
    select(*BOOKING_COLUMNS, null().label("booked"))
    .join(TicketType, TicketType.id == Registration.ticket_type_id)
    .where(Registration.id == bindparam("registration_id"), Registration.event_id == bindparam("event_id"))
)
_BOOKING_FOR_SESSION = (
    select(*BOOKING_COLUMNS, RegistrationWorkshop.workshop_id.label("booked"))
    .join(TicketType, TicketType.id == Registration.ticket_type_id)
    .outerjoin(RegistrationWorkshop, seat_on(bindparam("workshop_id")))
    .where(Registration.id == bindparam("registration_id"), Registration.event_id == bindparam("event_id"))
)
_INSERT = {
    "sqlite": sqlite.insert(CheckInScan).on_conflict_do_nothing().returning(CheckInScan.id),
    "postgresql": postgresql.insert(CheckInScan).on_conflict_do_nothing().returning(CheckInScan.id),
}
_ANSWER_BY_NONCE = select(CheckInScan.answer).where(CheckInScan.nonce == bindparam("nonce"))
_ADMISSION = select(CheckInScan.at, CheckInScan.door).where(CheckInScan.admission_key == bindparam("key"))


def _insert(connection: Connection, values: dict[str, Any]) -> int | None:
    """Insert a scan unless its nonce or admission key is taken; the new id, or None."""
    return connection.execute(_INSERT[connection.dialect.name], values).scalar()


def _replay(connection: Connection, nonce: str) -> CheckInAnswer | None:
    raw = connection.execute(_ANSWER_BY_NONCE, {"nonce": nonce}).scalar()
    return CheckInAnswer.from_json(raw) if raw is not None else None


def admission_key(registration_id: int, workshop_id: int | None) -> str:
    return f"r{registration_id}" if workshop_id is None else f"r{registration_id}w{workshop_id}"


def _judge(row: Any, claimed_serial: int | None, place: Place, at: datetime) -> str:
    """The answer for a booking that exists, short of the admission itself (checked by the insert)."""
    if claimed_serial is not None and claimed_serial != row.badge_serial:
        return "revoked" if claimed_serial < row.badge_serial else "invalid"
    status = booking_status(row, place)
    if status == "ok" and not place.is_open(at):
        return "not_open"
    return status


@dataclass(frozen=True)
class Judged:
    """A scan judged against the booking (the read half of a check-in), ready to be recorded."""

    status: str
    values: dict[str, Any]
    registration_id: int | None
    name: str
    ticket: str
    offline: bool
    client_said_ok: bool
    #: The member a booking is linked to, and what admitting them adds to their CPD log (None: nothing).
    member_id: int | None = None
    cpd: checkin_cpd.PlaceCpd | None = None

    def answer(self, status: str, first: dict[str, str] | None = None) -> CheckInAnswer:
        return CheckInAnswer(
            status=status,
            message=MESSAGES[status],
            registration=self.registration_id,
            name=self.name,
            ticket=self.ticket,
            first=first,
            conflict=self.offline and self.client_said_ok and status != "ok",
        )


def judge(
    connection: Connection, *, key: bytes, place: Place, scanner: Scanner, scan: Scan, now: datetime
) -> Judged:
    """Everything about a scan that only needs reading: the code's signature and the booking's state.
    Whether the badge is in already is left to `record`, whose insert decides it."""
    offline = scan.scanned_at is not None
    at = scan.scanned_at or now
    registration_id: int | None = None
    claimed_serial: int | None = None
    status = ""
    if scan.code is not None:
        try:
            claim = badges.verify(key, scan.code)
        except badges.BadCode:
            status = "invalid"
        else:
            if claim.event_id != place.event_id:
                status = "wrong_event"
            elif claim.registration_id > MAX_ID:
                status = "unknown"
            else:
                registration_id, claimed_serial = claim.registration_id, claim.serial
    else:
        registration_id = scan.registration_id

    row: Any = None
    if registration_id is not None:
        params = {"registration_id": registration_id, "event_id": place.event_id}
        if place.workshop_id is None:
            row = connection.execute(_BOOKING, params).first()
        else:
            row = connection.execute(
                _BOOKING_FOR_SESSION, {**params, "workshop_id": place.workshop_id}
            ).first()
        if row is None:
            status, registration_id = "unknown", None
        else:
            status = _judge(row, claimed_serial, place, at)
    return Judged(
        status=status,
        values={
            "nonce": scan.nonce,
            "event_id": place.event_id,
            "workshop_id": place.workshop_id,
            "registration_id": registration_id,
            "code_fingerprint": badges.fingerprint(scan.code) if scan.code else "",
            "door": scanner.door,
            "device_id": scanner.device_id,
            "account_id": scanner.account_id,
            "at": at,
            "received_at": now,
            "offline": offline,
            "client_result": scan.client_result if offline else None,
        },
        registration_id=registration_id,
        name=f"{row.first_name} {row.last_name}".strip() if row is not None else "",
        ticket=row.ticket if row is not None else "",
        offline=offline,
        client_said_ok=scan.client_result == "ok",
        member_id=row.member_id if row is not None else None,
        cpd=place.cpd,
    )


def record(connection: Connection, judged: Judged) -> CheckInAnswer:
    """The write half: one insert, which is also the admission when the scan may enter (its unique
    `admission_key` lets only one of two simultaneous scans in). A nonce seen before changes nothing and
    gets its first answer back. Core only: the hot path needs none of the ORM."""
    values = judged.values
    if judged.status == "ok":
        assert judged.registration_id is not None
        result = judged.answer("ok")
        key_value = admission_key(judged.registration_id, values["workshop_id"])
        row = {**values, "result": "ok", "admission_key": key_value, "conflict": False}
        if _insert(connection, {**row, "answer": json.dumps(result.to_json())}) is not None:
            if judged.member_id is not None and judged.cpd is not None:
                checkin_cpd.credit(
                    connection, member_id=judged.member_id, cpd=judged.cpd, now=values["received_at"]
                )
            return result
        replayed = _replay(connection, values["nonce"])
        if replayed is not None:
            return replayed
        first = connection.execute(_ADMISSION, {"key": key_value}).first()
        first_json = {"at": first.at.isoformat(), "door": first.door} if first is not None else None
        result = judged.answer("already_checked_in", first_json)
    else:
        result = judged.answer(judged.status)
    row = {**values, "result": result.status, "admission_key": None, "conflict": result.conflict}
    if _insert(connection, {**row, "answer": json.dumps(result.to_json())}) is None:
        replayed = _replay(connection, values["nonce"])
        if replayed is not None:
            return replayed
    return result


def check_in(
    session: Session, *, key: bytes, place: Place, scanner: Scanner, scan: Scan, now: datetime
) -> CheckInAnswer:
    """Check one scan and record it, whatever its result (`judge`, then `record`, in one session). An offline
    scan (`scan.scanned_at` set) is judged at the time it happened, and one the scanner let in that the
    server would not have is marked as a conflict."""
    connection = session.connection()
    return record(connection, judge(connection, key=key, place=place, scanner=scanner, scan=scan, now=now))


def sync(
    connection: Connection,
    *,
    key: bytes,
    place_for_workshop: Callable[[int | None], Place],
    scanner_for: Callable[[ScanRequest], Scanner],
    requests: Sequence[ScanRequest],
    now: datetime,
) -> list[dict[str, Any]]:
    """Offline scans sent in a batch, in the order they happened. Each is checked as if it had arrived then;
    the answers say which were conflicts. A batch sent twice changes nothing the second time."""
    results = []
    for request in sorted(requests, key=lambda r: r.scan.scanned_at or now):
        place = place_for_workshop(request.workshop_id)
        judged = judge(
            connection, key=key, place=place, scanner=scanner_for(request), scan=request.scan, now=now
        )
        answer = record(connection, judged)
        results.append({"nonce": request.scan.nonce, "status": answer.status, "conflict": answer.conflict})
    return results


def undo(
    session: Session,
    *,
    nonce: str,
    scanner: Scanner,
    event_id: int | None,
    actor: Account | None,
    device: str,
    now: datetime,
) -> CheckInAnswer:
    """Take back a mistaken admission: only the scanner that made it (the same device token, or the same
    staff login), only within 15 minutes. The door name is the client's own word, so it decides nothing.
    The scan stays in the log, marked undone, and the admission is free again."""
    row = session.execute(select(CheckInScan).where(CheckInScan.nonce == nonce)).scalar_one_or_none()
    if row is None or row.result != "ok" or (event_id is not None and row.event_id != event_id):
        raise CheckInError(Code.NOT_FOUND, "There is no admission with that scan.", kind=Kind.NOT_FOUND)
    if row.admission_key is None:
        raise CheckInError(Code.NOT_ADMITTED, "That admission was already undone.", kind=Kind.CONFLICT)
    if not _same_scanner(row, scanner):
        raise CheckInError(
            Code.OTHER_SCANNER,
            "Only the scanner that admitted someone (the same device or staff login) can undo it.",
            kind=Kind.FORBIDDEN,
        )
    if now - row.at > UNDO_WINDOW:
        raise CheckInError(
            Code.TOO_LATE, "An admission can be undone only within 15 minutes.", kind=Kind.CONFLICT
        )
    done = session.execute(
        update(CheckInScan)
        .where(CheckInScan.id == row.id, CheckInScan.admission_key.is_not(None))
        .values(admission_key=None, undone_at=now)
    )
    if rowcount(done) != 1:
        raise CheckInError(Code.NOT_ADMITTED, "That admission was already undone.", kind=Kind.CONFLICT)
    member_id = session.scalar(select(Registration.member_id).where(Registration.id == row.registration_id))
    if member_id is not None:
        checkin_cpd.recount(session, event_id=row.event_id, member_id=member_id, now=now)
    audit.record(
        session,
        actor=actor,
        action="checkin.undo",
        subject=f"registration {row.registration_id}",
        details={
            "door": row.door,
            "event": row.event_id,
            "workshop": row.workshop_id,
            "device": device,
            "scan": row.id,
        },
        now=now,
    )
    original = CheckInAnswer.from_json(row.answer)
    return CheckInAnswer(
        status="undone",
        message=ANSWERS["undone"].message,
        registration=row.registration_id,
        name=original.name,
        ticket=original.ticket,
    )


def _same_scanner(row: CheckInScan, scanner: Scanner) -> bool:
    """Whether this scanner made the scan: a device by its id, a member of staff by their account (and only
    for scans not made through a device)."""
    if scanner.device_id is not None:
        return row.device_id == scanner.device_id
    return scanner.account_id is not None and row.device_id is None and row.account_id == scanner.account_id
