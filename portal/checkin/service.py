"""Door check-in: the rules of a scan, undoing an admission, offline scans sent later, and scanner devices.

The hot path (`check_in`) is one indexed query for the registration and one insert into the scan log; the
unique `admission_key` on that insert is what lets exactly one of two simultaneous scans admit a badge, on
every engine, and the unique `nonce` is what makes a repeated request change nothing.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, null, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.models import Account
from portal.checkin import badges
from portal.checkin.errors import Code
from portal.checkin.models import RESULTS, CheckInScan, ScannerDevice
from portal.db import Database
from portal.errors import Kind, NotFound, PortalError
from portal.events.models import Answer as QuestionAnswer
from portal.events.models import (
    Event,
    Question,
    Registration,
    RegistrationWorkshop,
    TicketType,
    Workshop,
)
from portal.web.forms import clean_text, whole_number
from portal.web.tokens import new_token, token_digest

#: The event's door opens this long before the event starts and closes this long after it ends.
EVENT_OPENS_BEFORE = timedelta(hours=3)
EVENT_CLOSES_AFTER = timedelta(hours=2)
#: A session's door opens this long before the session starts, and closes when it ends.
SESSION_OPENS_BEFORE = timedelta(minutes=30)
UNDO_WINDOW = timedelta(minutes=15)
#: Largest id a scan may name (the columns are 32-bit on PostgreSQL).
MAX_ID = 2**31 - 1
DEVICE_PURPOSE = "scanner-device"
NONCE_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

MESSAGES: dict[str, str] = {
    "ok": "Admitted",
    "already_checked_in": "Already checked in",
    "invalid": "Not a valid badge",
    "unknown": "Booking not found",
    "revoked": "Old badge: a new one was issued",
    "cancelled": "Booking cancelled",
    "waitlisted": "Not confirmed: on the waiting list",
    "unpaid": "Not paid: send to the registration desk",
    "wrong_event": "This badge is for another event",
    "not_booked": "Not booked on this session",
    "not_open": "Check-in is not open now",
}
assert set(MESSAGES) == set(RESULTS)


class CheckInError(PortalError):
    """`code`: bad_scan, unknown_workshop, wrong_device_event, not_found, other_scanner, too_late, not_admitted."""


# --- who is scanning, and where -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DevicePrincipal:
    """A scanner device's bearer token, seen by the request boundary as a login with the `door` role for one event."""

    device_id: int
    event_id: int
    name: str
    roles: frozenset[str] = frozenset({"door"})
    account_id: None = None
    member_id: None = None
    session_id: None = None
    email: str = ""
    #: A device has no second factor to set up: its token is its credential.
    must_set_up_totp: bool = False

    def has(self, *roles: str) -> bool:
        return "door" in roles

    @property
    def is_staff(self) -> bool:
        return False


@dataclass(frozen=True)
class Place:
    """Where scans happen: an event's door, or a session's room (a workshop), with its check-in window."""

    event_id: int
    opens_at: datetime
    closes_at: datetime
    workshop_id: int | None = None
    title: str = ""

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
    )


class PlaceCache:
    """Places looked up at most every `ttl` seconds per worker: the door's window barely ever changes, and this
    takes a query off every scan. Kept on `app.state`, never at module level."""

    def __init__(self, ttl: float = 30.0) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._places: dict[tuple[int, int | None], tuple[float, Place]] = {}

    def get(self, session: Session, *, event_id: int, workshop_id: int | None) -> Place:
        now = time.monotonic()
        with self._lock:
            hit = self._places.get((event_id, workshop_id))
        if hit is not None and hit[0] > now:
            return hit[1]
        place = place_for(session, event_id=event_id, workshop_id=workshop_id)
        with self._lock:
            self._places[(event_id, workshop_id)] = (now + self.ttl, place)
        return place

    def clear(self) -> None:
        with self._lock:
            self._places.clear()


class DoorState:
    """What the check-in routes keep per app (on `app.state.checkin`): the place cache and the device cache.
    SQLite's check-in writes queue on the database's own writer queue (`portal.db._WriterQueue`)."""

    #: How long a device token's look-up is trusted. A revocation applies at once in the process that made
    #: it (the cache is emptied) and within this long in any other worker.
    DEVICE_TTL = 5.0
    DEVICE_CACHE_SIZE = 1000

    def __init__(self) -> None:
        self.places = PlaceCache()
        self._devices: dict[str, tuple[float, DevicePrincipal | None]] = {}
        self._devices_lock = threading.Lock()

    def device(self, session: Session, *, token: str, key: bytes) -> DevicePrincipal | None:
        """The device holding `token` (see `load_device`), looked up at most every DEVICE_TTL seconds."""
        if not token or len(token) > 200:
            return None
        digest = token_digest(key, token, purpose=DEVICE_PURPOSE)
        now = time.monotonic()
        with self._devices_lock:
            hit = self._devices.get(digest)
        if hit is not None and hit[0] > now:
            return hit[1]
        found = _device_by_digest(session, digest)
        with self._devices_lock:
            if len(self._devices) >= self.DEVICE_CACHE_SIZE:
                self._devices.clear()
            self._devices[digest] = (now + self.DEVICE_TTL, found)
        return found

    def forget_devices(self) -> None:
        with self._devices_lock:
            self._devices.clear()

    @contextmanager
    def writer(self, database: Database) -> Iterator[Connection]:
        """A write transaction (Core), committed when the block ends (queued behind this process's others on
        SQLite by the database's writer queue)."""
        with database.write_engine.begin() as connection:
            yield connection


# --- reading a scan request -------------------------------------------------------------------------------------


def read_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    number = whole_number(value) if isinstance(value, str) else None
    return number if number is not None and 0 < number <= MAX_ID else None


def read_text(value: Any, limit: int) -> str:
    return " ".join(clean_text(value).split())[:limit] if isinstance(value, str) else ""


def _when(value: Any, now: datetime) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    # A scanner's clock may run ahead; a scan is never later than its arrival.
    return min(parsed, now)


@dataclass(frozen=True)
class ScanRequest:
    event_id: int | None
    workshop_id: int | None
    door: str
    scan: Scan


def read_scan(body: Any, *, now: datetime, offline: bool = False) -> ScanRequest:
    """A scan from JSON: `{"code" | "registration", "door", "nonce", "event"?, "workshop"?}` (plus
    `scanned_at` and `client_result` for an offline scan). Raises `CheckInError("bad_scan")`."""
    if not isinstance(body, dict):
        raise CheckInError(Code.BAD_SCAN, "Send a JSON object with a code (or a registration) and a door.")
    code = body.get("code")
    code = clean_text(code)[: badges.MAX_CODE_CHARS * 2] if isinstance(code, str) else None
    registration_id = read_id(body.get("registration"))
    if not code and registration_id is None:
        raise CheckInError(Code.BAD_SCAN, "Send the badge's code, or the registration to admit.")
    nonce = body.get("nonce")
    if nonce is None and not offline:
        nonce = new_token(16)
    if not isinstance(nonce, str) or not NONCE_RE.match(nonce):
        raise CheckInError(Code.BAD_SCAN, "The nonce must be 1 to 64 letters, digits or - _ . :")
    workshop = body.get("workshop")
    workshop_id = read_id(workshop)
    if workshop not in (None, "") and workshop_id is None:
        raise CheckInError(
            Code.UNKNOWN_WORKSHOP, "There is no such session at this event.", kind=Kind.NOT_FOUND
        )
    event = body.get("event")
    event_id = read_id(event)
    if event not in (None, "") and event_id is None:
        raise NotFound("There is no such event.")
    client_result = body.get("client_result") if offline else None
    return ScanRequest(
        event_id=event_id,
        workshop_id=workshop_id,
        door=read_text(body.get("door"), 80),
        scan=Scan(
            nonce=nonce,
            code=code or None,
            registration_id=None if code else registration_id,
            scanned_at=(_when(body.get("scanned_at"), now) or now) if offline else None,
            client_result=client_result if client_result in RESULTS else None,
        ),
    )


# --- the scan itself --------------------------------------------------------------------------------------------


# The hot path's statements are built once and run on the session's connection with parameters: building and
# cache-keying a statement per scan, and the ORM's result handling, cost several times the query itself.
_BOOKING_COLUMNS = (
    Registration.id,
    Registration.status,
    Registration.payment_status,
    Registration.amount_due,
    Registration.amount_paid,
    Registration.badge_serial,
    Registration.first_name,
    Registration.last_name,
    TicketType.name.label("ticket"),
)
_BOOKING = (
    select(*_BOOKING_COLUMNS, null().label("booked"))
    .join(TicketType, TicketType.id == Registration.ticket_type_id)
    .where(Registration.id == bindparam("registration_id"), Registration.event_id == bindparam("event_id"))
)
_BOOKING_FOR_SESSION = (
    select(*_BOOKING_COLUMNS, RegistrationWorkshop.workshop_id.label("booked"))
    .join(TicketType, TicketType.id == Registration.ticket_type_id)
    .outerjoin(
        RegistrationWorkshop,
        and_(
            RegistrationWorkshop.registration_id == Registration.id,
            RegistrationWorkshop.workshop_id == bindparam("workshop_id"),
            RegistrationWorkshop.status == "confirmed",  # a seat, not a place in the workshop's line
        ),
    )
    .where(Registration.id == bindparam("registration_id"), Registration.event_id == bindparam("event_id"))
)
_INSERT = {
    "sqlite": sqlite.insert(CheckInScan).on_conflict_do_nothing().returning(CheckInScan.id),
    "postgresql": postgresql.insert(CheckInScan).on_conflict_do_nothing().returning(CheckInScan.id),
}
_ANSWER_BY_NONCE = select(CheckInScan.answer).where(CheckInScan.nonce == bindparam("nonce"))
_ADMISSION = select(CheckInScan.at, CheckInScan.door).where(CheckInScan.admission_key == bindparam("key"))
_DEVICE = select(ScannerDevice.id, ScannerDevice.event_id, ScannerDevice.name).where(
    ScannerDevice.token_digest == bindparam("digest"), ScannerDevice.revoked_at.is_(None)
)


def _insert(connection: Connection, values: dict[str, Any]) -> int | None:
    """Insert a scan unless its nonce or admission key is taken; the new id, or None."""
    return connection.execute(_INSERT[connection.dialect.name], values).scalar()


def _replay(connection: Connection, nonce: str) -> CheckInAnswer | None:
    raw = connection.execute(_ANSWER_BY_NONCE, {"nonce": nonce}).scalar()
    return CheckInAnswer.from_json(raw) if raw is not None else None


def admission_key(registration_id: int, workshop_id: int | None) -> str:
    return f"r{registration_id}" if workshop_id is None else f"r{registration_id}w{workshop_id}"


def _unpaid(status: str, payment_status: str, due: int, paid: int) -> bool:
    return payment_status not in ("paid", "waived") and due > paid


def _judge(row: Any, scan: Scan, claimed_serial: int | None, place: Place, at: datetime) -> str:
    """The answer for a booking that exists, short of the admission itself (checked by the insert)."""
    if claimed_serial is not None and claimed_serial != row.badge_serial:
        return "revoked" if claimed_serial < row.badge_serial else "invalid"
    if row.status == "cancelled":
        return "cancelled"
    if row.status != "confirmed":
        return "waitlisted"
    if place.workshop_id is not None and row.booked is None:
        return "not_booked"
    if _unpaid(row.status, row.payment_status, row.amount_due, row.amount_paid):
        return "unpaid"
    if not place.is_open(at):
        return "not_open"
    return "ok"


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

    row = None
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
            status = _judge(row, scan, claimed_serial, place, at)
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
    if done.rowcount != 1:
        raise CheckInError(Code.NOT_ADMITTED, "That admission was already undone.", kind=Kind.CONFLICT)
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
        message="Admission undone",
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


# --- the attendee list, search and counts (for the scanner page and offline checking) -----------------------


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
        CheckInScan.event_id == place.event_id, CheckInScan.admission_key.is_not(None)
    )
    stmt = stmt.where(
        CheckInScan.workshop_id.is_(None)
        if place.workshop_id is None
        else CheckInScan.workshop_id == place.workshop_id
    )
    return {rid: (at, door) for rid, at, door in session.execute(stmt)}


def attendee_status(row: Any, place: Place) -> str:
    """What an offline scanner needs to know about a booking: ok, cancelled, waitlisted, not_booked, unpaid."""
    if row.status == "cancelled":
        return "cancelled"
    if row.status != "confirmed":
        return "waitlisted"
    if place.workshop_id is not None and row.booked is None:
        return "not_booked"
    if _unpaid(row.status, row.payment_status, row.amount_due, row.amount_paid):
        return "unpaid"
    return "ok"


def _registrations(
    session: Session, place: Place, *, name_like: str | None = None, limit: int | None = None
) -> list[Any]:
    booked = RegistrationWorkshop.workshop_id if place.workshop_id is not None else null()
    stmt = (
        select(
            Registration.id,
            Registration.status,
            Registration.payment_status,
            Registration.amount_due,
            Registration.amount_paid,
            Registration.badge_serial,
            Registration.first_name,
            Registration.last_name,
            TicketType.name.label("ticket"),
            booked.label("booked"),
        )
        .join(TicketType, TicketType.id == Registration.ticket_type_id)
        .where(Registration.event_id == place.event_id)
        .order_by(Registration.last_name, Registration.first_name, Registration.id)
    )
    if place.workshop_id is not None:
        stmt = stmt.outerjoin(
            RegistrationWorkshop,
            and_(
                RegistrationWorkshop.registration_id == Registration.id,
                RegistrationWorkshop.workshop_id == place.workshop_id,
                RegistrationWorkshop.status == "confirmed",
            ),
        )
    if name_like:
        full = func.lower(Registration.first_name + " " + Registration.last_name)
        stmt = stmt.where(full.contains(name_like.lower(), autoescape=True))
    if limit:
        stmt = stmt.limit(limit)
    return list(session.execute(stmt))


def _person(
    row: Any, place: Place, admitted: dict[int, tuple[datetime, str]], affiliation: str
) -> dict[str, Any]:
    first = admitted.get(row.id)
    return {
        "id": row.id,
        "name": f"{row.first_name} {row.last_name}".strip(),
        "ticket": row.ticket,
        "affiliation": affiliation,
        "status": attendee_status(row, place),
        "serial": row.badge_serial,
        "admitted_at": first[0].isoformat() if first else None,
        "admitted_door": first[1] if first else None,
    }


def attendee_list(session: Session, *, place: Place) -> dict[str, Any]:
    """Everything an offline scanner needs: each booking's name, ticket, status and badge serial, who is in
    already, and the check-in window. Cancelled bookings are listed too, so offline answers say so."""
    rows = _registrations(session, place)
    admitted = _admissions(session, place)
    found = affiliations(session, place.event_id)
    people = [_person(r, place, admitted, found.get(r.id, "")) for r in rows]
    return {
        "event": place.event_id,
        "workshop": place.workshop_id,
        "window": {"opens": place.opens_at.isoformat(), "closes": place.closes_at.isoformat()},
        "expected": sum(1 for p in people if p["status"] in ("ok", "unpaid")),
        "admitted": len(admitted),
        "attendees": people,
    }


def search(session: Session, *, place: Place, query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Bookings whose name contains the query (case-insensitive), for admitting someone without their badge."""
    query = " ".join(clean_text(query).split())[:100]
    if len(query) < 2:
        return []
    rows = _registrations(session, place, name_like=query, limit=limit)
    admitted = _admissions(session, place)
    found = affiliations(session, place.event_id, [r.id for r in rows])
    return [_person(r, place, admitted, found.get(r.id, "")) for r in rows]


def counts(session: Session, *, place: Place) -> dict[str, int]:
    admitted_q = select(func.count()).where(
        CheckInScan.event_id == place.event_id, CheckInScan.admission_key.is_not(None)
    )
    if place.workshop_id is None:
        admitted_q = admitted_q.where(CheckInScan.workshop_id.is_(None))
        expected_q = select(func.count()).where(
            Registration.event_id == place.event_id, Registration.status == "confirmed"
        )
    else:
        admitted_q = admitted_q.where(CheckInScan.workshop_id == place.workshop_id)
        expected_q = (
            select(func.count())
            .select_from(RegistrationWorkshop)
            .join(Registration, Registration.id == RegistrationWorkshop.registration_id)
            .where(
                RegistrationWorkshop.workshop_id == place.workshop_id,
                RegistrationWorkshop.status == "confirmed",
                Registration.status == "confirmed",
            )
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
        .where(CheckInScan.event_id == event_id, CheckInScan.conflict.is_(True))
        .order_by(CheckInScan.at.desc())
    )
    return list(session.execute(stmt))


# --- scanner devices --------------------------------------------------------------------------------------------


def _device_by_digest(session: Session, digest: str) -> DevicePrincipal | None:
    row = session.connection().execute(_DEVICE, {"digest": digest}).first()
    if row is None:
        return None
    return DevicePrincipal(device_id=row.id, event_id=row.event_id, name=row.name)


def load_device(session: Session, *, token: str, key: bytes) -> DevicePrincipal | None:
    """The live device holding this bearer token, or None (unknown or revoked)."""
    if not token or len(token) > 200:
        return None
    return _device_by_digest(session, token_digest(key, token, purpose=DEVICE_PURPOSE))


def device_loader(ctx: Any, token: str) -> DevicePrincipal | None:
    """The device loader `create_app` wires in: what the boundary calls for `@api(..., devices=True)` with a bearer token.
    Scanners send a scan a second: the look-up is cached briefly (see `DoorState.device`)."""
    state = getattr(ctx.request.app.state, "checkin", None)
    if state is None:
        return load_device(ctx.db, token=token, key=ctx.key)
    return state.device(ctx.db, token=token, key=ctx.key)  # type: ignore[no-any-return]


def create_device(
    session: Session, *, actor: Account, event_id: int, name: str, key: bytes, now: datetime
) -> tuple[ScannerDevice, str]:
    """A new scanner device for one event; returns it and its token (shown once, stored only as a digest)."""
    name = " ".join(clean_text(name).split())[:80]
    if not name:
        raise CheckInError(Code.BAD_NAME, "Give the device a name, such as the door it is used at.")
    if session.get(Event, event_id) is None:
        raise NotFound("There is no such event.")
    token = new_token(32)
    device = ScannerDevice(
        event_id=event_id,
        name=name,
        token_digest=token_digest(key, token, purpose=DEVICE_PURPOSE),
        created_at=now,
        created_by_id=actor.id,
    )
    session.add(device)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="checkin.device_create",
        subject=name,
        details={"event": event_id, "device": device.id},
        now=now,
    )
    return device, token


def revoke_device(
    session: Session, *, actor: Account, event_id: int, device_id: int, now: datetime
) -> ScannerDevice:
    device = session.get(ScannerDevice, device_id)
    if device is None or device.event_id != event_id:
        raise NotFound("There is no such scanner device.")
    done = session.execute(
        update(ScannerDevice)
        .where(ScannerDevice.id == device_id, ScannerDevice.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    if done.rowcount == 1:
        audit.record(
            session,
            actor=actor,
            action="checkin.device_revoke",
            subject=device.name,
            details={"event": event_id, "device": device_id},
            now=now,
        )
    session.refresh(device)
    return device


def devices(session: Session, *, event_id: int) -> list[ScannerDevice]:
    return list(
        session.scalars(
            select(ScannerDevice)
            .where(ScannerDevice.event_id == event_id)
            .order_by(ScannerDevice.revoked_at.is_not(None), ScannerDevice.name)
        )
    )
