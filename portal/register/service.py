"""The public register: who is on it (computed from the clock, in SQL), searching it, one entry, the removal
notices, the regulator's CSV, the registrants whose accreditation ends soon, and the status staff set after a
complaint case.

A person is **on the register** on a day when they hold a level that day (`Holding.from_on <= today <=
until_on`) and their membership is in standing (`members.standing.standing_sql`: active, or in the grace
period after the renewal date). Nothing flips a flag: the day after a level ends or a membership lapses, they
are off, in every query at once. What staff set (`RegisterStatus`: with conditions, suspended, removed) is
shown beside the entry; a removal also stays on the removal notices page after the person leaves.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from portal import audit
from portal.accreditation.models import Holding, Level
from portal.complaints.models import Complaint
from portal.errors import Invalid, NotFound
from portal.members.models import Member
from portal.members.service import grace_days
from portal.members.standing import london_day, standing_sql
from portal.register.errors import Code
from portal.register.models import STATUSES, PracticeProfile, RegisterStatus
from portal.text import csv_safe

PAGE_SIZE = 25
MAX_QUERY = 100
WORDING_LIMIT = 2000
#: How far ahead the staff page looks for accreditations ending.
EXPIRING_DAYS = 90
#: Who sets a registrant's status and reads the staff pages; the link to a complaint case is for HANDLERS.
STAFF = ("complaints", "accreditation", "admin")
HANDLERS = ("complaints", "admin")


#: The holdings as the correlated EXISTS names them (made once: an alias is costly to build per request).
_HELD = aliased(Holding, name="held_today")


# --- who is on the register --------------------------------------------------------------------------------------


def holds_today(today: date, *, whole: bool = False) -> Any:
    """The member of the row holds a level on `today`. Two spellings of one condition, for two plans: a
    correlated EXISTS suits a query that walks the members in name order and stops after a page (SQLite
    checks each row's holdings by index), an IN over the day's holdings suits one that reads them all (a
    count: the list is made once). Measured on SQLite over 5,000 registrants (bench_register.py): the page
    1.6 ms against 4.8 ms, the count 1.8 ms against 3.2 ms."""
    if whole:
        return Member.id.in_(
            select(Holding.member_id).where(Holding.from_on <= today, Holding.until_on >= today)
        )
    held = _HELD
    return exists(
        select(held.id)
        .where(held.member_id == Member.id, held.from_on <= today, held.until_on >= today)
        .correlate(Member)
    )


def on_register(session: Session, now: datetime, *, whole: bool = False) -> Any:
    """The SQL condition over `members` that the member is on the register at `now` (`whole`: for a query
    reading every row, see `holds_today`)."""
    standing = standing_sql(now, grace_days=grace_days(session))
    return and_(standing.in_(("active", "grace")), holds_today(london_day(now), whole=whole))


def is_on_register(session: Session, *, member_id: int, now: datetime) -> bool:
    found = session.scalar(select(Member.id).where(Member.id == member_id, on_register(session, now)))
    return found is not None


# --- entries -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Held:
    level: str
    from_on: date
    until_on: date
    conditions: str


@dataclass(frozen=True)
class Entry:
    """One registrant as the register shows them."""

    member_id: int
    name: str
    number: str
    status: str
    wording: str
    complaint_id: int | None
    complaint_reference: str
    held: list[Held]
    towns: str
    region: str
    last_updated: date
    on_register: bool = True

    @property
    def verified(self) -> bool:
        """What "verify a practitioner" answers: on the register today and not removed from it."""
        return self.on_register and self.status != "removed"

    @property
    def shown_status(self) -> str:
        """What the register says: a level granted with conditions makes "registered" "with conditions"."""
        if self.status == "registered" and any(h.conditions for h in self.held):
            return "conditions"
        return self.status

    @property
    def status_label(self) -> str:
        return STATUSES[self.shown_status]

    @property
    def conditions(self) -> list[str]:
        """The public wording of every condition: the levels' own, then what staff set."""
        found = [f"{h.level}: {h.conditions}" for h in self.held if h.conditions]
        if self.status == "conditions" and self.wording:
            found.append(self.wording)
        return found


@dataclass(frozen=True)
class Search:
    q: str = ""
    town: str = ""
    region: str = ""
    page: int = 1

    @property
    def asked(self) -> bool:
        return bool(self.q or self.town or self.region)


@dataclass
class Results:
    entries: list[Entry]
    total: int
    page: int
    pages: int
    search: Search = field(default_factory=Search)


def _entries(session: Session, rows: list[Any], *, today: date, on: bool = True) -> list[Entry]:
    """Entries for rows of (Member, RegisterStatus | None, PracticeProfile | None), with their levels held today
    (one more statement, whatever the number of rows)."""
    ids = [member.id for member, _status, _profile in rows]
    held: dict[int, list[tuple[Held, datetime]]] = defaultdict(list)
    if ids:
        query = (
            select(Holding, Level.name)
            .join(Level, Level.id == Holding.level_id)
            .where(Holding.member_id.in_(ids), Holding.from_on <= today, Holding.until_on >= today)
            .order_by(Level.position, Holding.from_on)
        )
        for holding, name in session.execute(query):
            item = Held(name, holding.from_on, holding.until_on, holding.conditions or "")
            held[holding.member_id].append((item, holding.created_at))
    references: dict[int, str] = {}
    case_ids = [status.complaint_id for _m, status, _p in rows if status is not None and status.complaint_id]
    if case_ids:
        references = dict(
            session.execute(select(Complaint.id, Complaint.reference).where(Complaint.id.in_(case_ids))).all()
        )
    out = []
    for member, status, profile in rows:
        stamps = [created for _h, created in held[member.id]]
        if status is not None:
            stamps.append(status.updated_at)
        last = max(stamps) if stamps else member.updated_at
        out.append(
            Entry(
                member_id=member.id,
                name=member.full_name,
                number=member.membership_number,
                status=status.status if status is not None else "registered",
                wording=status.wording if status is not None else "",
                complaint_id=status.complaint_id if status is not None else None,
                complaint_reference=references.get(status.complaint_id or 0, "")
                if status is not None
                else "",
                held=[h for h, _c in held[member.id]],
                towns=profile.towns if profile is not None else "",
                region=profile.region if profile is not None else "",
                last_updated=london_day(last),
                on_register=on,
            )
        )
    return out


def _located() -> Any:
    """The published profile a registrant's town and region are read from (they chose to publish them)."""
    return and_(PracticeProfile.member_id == Member.id, PracticeProfile.published)


def _base(session: Session, now: datetime, listed: Any = None) -> Any:
    return (
        select(Member, RegisterStatus, PracticeProfile)
        .outerjoin(RegisterStatus, RegisterStatus.member_id == Member.id)
        .outerjoin(PracticeProfile, _located())
        .where(on_register(session, now) if listed is None else listed)
    )


def town_key(town: str) -> str:
    return " ".join(town.lower().split())


def search(session: Session, found: Search, *, now: datetime) -> Results:
    """The registrants matching a name (any part), a registration number (exactly), a town (the start of one of
        their towns) and a region, by name, a page at a time: at most four statements (the grace period, the count,
    the page, its levels) whatever the page holds."""
    grace = grace_days(session)
    today = london_day(now)
    standing = standing_sql(now, grace_days=grace).in_(("active", "grace"))
    query = _base(session, now, and_(standing, holds_today(today)))
    conditions = []
    q = " ".join(found.q.split())[:MAX_QUERY]
    number = bool(q) and any(c.isdigit() for c in q)
    if number:
        # A name has no digits: this is a registration number, found exactly (by its unique index).
        conditions.append(Member.membership_number == q)
    elif q:
        name = func.lower(Member.first_name + " " + Member.last_name)
        conditions.append(name.contains(q.lower(), autoescape=True))
    if found.town:
        conditions.append(PracticeProfile.towns_key.contains("|" + town_key(found.town), autoescape=True))
    if found.region:
        conditions.append(PracticeProfile.region == found.region)
    query = query.where(*conditions).order_by(Member.last_name, Member.first_name, Member.id)
    if number:
        # One registrant at most: the page is the count.
        rows = session.execute(query.limit(PAGE_SIZE)).all()
        total, pages, page = len(rows), 1, 1
    else:
        # The whole register is counted with the day's holdings listed once; a filtered count checks only
        # the rows the filter keeps (see `holds_today`).
        count = select(func.count()).select_from(Member)
        if found.town or found.region:
            count = count.join(PracticeProfile, _located())
        count = count.where(standing, holds_today(today, whole=not conditions), *conditions)
        total = session.scalar(count) or 0
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(found.page, 1), pages)
        # The page's members first, from the narrow rows alone (ids in name order: PostgreSQL misjudges how many
        # rows the clock's standing keeps, and would otherwise join every registrant's status and profile before
        # sorting); then those members' rows with their status and profile.
        order = (Member.last_name, Member.first_name, Member.id)
        ids = select(Member.id)
        if found.town or found.region:
            ids = ids.join(PracticeProfile, _located())
        ids = ids.where(standing, holds_today(today), *conditions).order_by(*order)
        ids = ids.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
        rows = session.execute(
            _base(session, now, Member.id.in_(ids.scalar_subquery())).order_by(*order)
        ).all()
    entries = _entries(session, [tuple(r) for r in rows], today=london_day(now))
    return Results(entries=entries, total=total, page=page, pages=pages, search=found)


def entry(session: Session, *, number: str, now: datetime) -> Entry:
    """The entry of a registration number: on the register today, or removed (the notice stays); otherwise
    NotFound, whether the number is unknown or its holder is not on the register (they read the same)."""
    row = session.execute(_base(session, now).where(Member.membership_number == number)).first()
    if row is not None:
        return _entries(session, [tuple(row)], today=london_day(now))[0]
    removed = session.execute(
        select(Member, RegisterStatus, PracticeProfile)
        .join(RegisterStatus, RegisterStatus.member_id == Member.id)
        .outerjoin(PracticeProfile, _located())
        .where(Member.membership_number == number, RegisterStatus.status == "removed")
    ).first()
    if removed is not None:
        return _entries(session, [tuple(removed)], today=london_day(now), on=False)[0]
    raise NotFound("There is nobody on the register with this registration number.", Code.NOT_FOUND)


def removals(session: Session) -> list[tuple[Member, RegisterStatus]]:
    """Every removal notice, the latest first."""
    query = (
        select(Member, RegisterStatus)
        .join(RegisterStatus, RegisterStatus.member_id == Member.id)
        .where(RegisterStatus.status == "removed")
        .order_by(RegisterStatus.updated_at.desc(), Member.id)
    )
    return [(m, s) for m, s in session.execute(query)]


# --- staff: the status after a complaint case ---------------------------------------------------------------------


def status_of(session: Session, member_id: int) -> RegisterStatus | None:
    return session.scalar(select(RegisterStatus).where(RegisterStatus.member_id == member_id))


def case_by_reference(session: Session, reference: str) -> Complaint | None:
    return session.scalar(select(Complaint).where(Complaint.reference == reference.strip().upper()))


def set_status(
    session: Session,
    *,
    member_id: int,
    status: str,
    wording: str,
    complaint_id: int | None,
    actor: audit.Actor | None,
    now: datetime,
) -> RegisterStatus:
    """Set a registrant's status, with the words the public reads (needed for anything but "registered") and
    the complaint case it follows; audited with what it was before."""
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound("There is no such member.", Code.NOT_FOUND)
    if status not in STATUSES:
        raise Invalid(Code.BAD_STATUS, "Choose a status from the list.", field="status")
    wording = wording.strip()
    if status != "registered" and not wording:
        raise Invalid(
            Code.NO_WORDING, "Enter the words the public register shows for this status.", field="wording"
        )
    if len(wording) > WORDING_LIMIT:
        raise Invalid(
            Code.NO_WORDING,
            f"The public wording must be at most {WORDING_LIMIT} characters.",
            field="wording",
        )
    if complaint_id is not None and session.get(Complaint, complaint_id) is None:
        raise Invalid(Code.BAD_CASE, "There is no complaint case with this reference.", field="case")
    found = status_of(session, member_id)
    before = {"status": found.status, "wording": found.wording} if found else {"status": "registered"}
    if found is None:
        found = RegisterStatus(member_id=member_id)
        session.add(found)
    found.status = status
    found.wording = wording if status != "registered" else ""
    found.complaint_id = complaint_id
    found.updated_at = now
    found.updated_by = actor.name if actor else ""
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="register.status_set",
        subject=f"member {member_id}",
        details={"before": before, "status": status, "wording": found.wording, "complaint": complaint_id},
        now=now,
    )
    return found


def statuses(session: Session) -> list[tuple[Member, RegisterStatus]]:
    """Every status staff have set, the latest first."""
    query = (
        select(Member, RegisterStatus)
        .join(RegisterStatus, RegisterStatus.member_id == Member.id)
        .order_by(RegisterStatus.updated_at.desc(), Member.id)
    )
    return [(m, s) for m, s in session.execute(query)]


# --- staff: the regulator's export and the accreditations ending soon ----------------------------------------------

EXPORT_HEADINGS = (
    "Registration number",
    "Name",
    "Status",
    "Levels held (from to)",
    "Conditions",
    "Public wording",
    "Town",
    "Region",
    "Last updated",
)


def export_csv(session: Session, *, actor: audit.Actor | None, now: datetime) -> tuple[bytes, int]:
    """Everyone on the register today and every removal, as CSV (UTF-8 with a BOM), for the regulator;
    audited (personal data leaving the portal)."""
    rows = session.execute(_base(session, now).order_by(Member.membership_number, Member.id)).all()
    entries = _entries(session, [tuple(r) for r in rows], today=london_day(now))
    listed = {e.member_id for e in entries}
    removed = session.execute(
        select(Member, RegisterStatus, PracticeProfile)
        .join(RegisterStatus, RegisterStatus.member_id == Member.id)
        .outerjoin(PracticeProfile, _located())
        .where(RegisterStatus.status == "removed")
        .order_by(Member.membership_number, Member.id)
    ).all()
    entries += _entries(
        session, [tuple(r) for r in removed if r[0].id not in listed], today=london_day(now), on=False
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_HEADINGS)
    for found in entries:
        levels = "; ".join(f"{h.level} {h.from_on.isoformat()} {h.until_on.isoformat()}" for h in found.held)
        values = (
            found.number,
            found.name,
            found.status_label,
            levels,
            "; ".join(found.conditions),
            found.wording,
            found.towns,
            found.region,
            found.last_updated,
        )
        writer.writerow([csv_safe(v) for v in values])
    audit.record(session, actor=actor, action="register.export_csv", details={"rows": len(entries)}, now=now)
    return ("\ufeff" + buffer.getvalue()).encode(), len(entries)


@dataclass(frozen=True)
class Ending:
    member: Member
    level: str
    until_on: date
    days: int


def expiring(session: Session, *, now: datetime, days: int = EXPIRING_DAYS) -> list[Ending]:
    """Registrants whose level held today ends within `days` and is not followed by a later holding of the same
    level (already re-accredited), the soonest first."""
    today = london_day(now)
    after = aliased(Holding)
    later = exists(
        select(after.id).where(
            after.member_id == Holding.member_id,
            after.level_id == Holding.level_id,
            after.until_on > Holding.until_on,
        )
    )
    query = (
        select(Member, Level.name, Holding.until_on)
        .join(Holding, Holding.member_id == Member.id)
        .join(Level, Level.id == Holding.level_id)
        .where(
            on_register(session, now),
            Holding.from_on <= today,
            Holding.until_on >= today,
            Holding.until_on <= today + timedelta(days=days),
            ~later,
        )
        .order_by(Holding.until_on, Member.last_name, Member.first_name, Member.id)
    )
    return [Ending(m, name, until, (until - today).days) for m, name, until in session.execute(query)]
