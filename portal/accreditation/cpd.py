"""Members' accreditation and their CPD: the levels a member holds (staff record them until applications make
them), the CPD log a member keeps, and the year's hours against the requirement of the highest level held.

The requirement is computed from the clock: the levels held on the day asked about, the entries of that
calendar year."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import audit
from portal.accreditation.errors import Code
from portal.accreditation.models import CPD_CATEGORIES, CpdEntry, Holding, Level
from portal.accreditation.service import get_level
from portal.errors import Invalid, NotFound
from portal.members.models import Member
from portal.site.files import Evidence

MAX_HOURS = Decimal(100)


def member_or_404(session: Session, member_id: int) -> Member:
    found = session.get(Member, member_id)
    if found is None:
        raise NotFound("There is no such member.", Code.NOT_FOUND)
    return found


# --- levels held -----------------------------------------------------------------------------------------------


def record_holding(
    session: Session,
    *,
    member_id: int,
    level_id: int,
    from_on: date,
    until_on: date,
    actor: audit.Actor | None,
    now: datetime,
) -> Holding:
    """Record that the member holds the level from one day until another (audited)."""
    member = member_or_404(session, member_id)
    level = get_level(session, level_id)
    if until_on < from_on:
        raise Invalid(
            Code.BAD_DATES, "The accreditation must end on or after the day it starts.", field="until_on"
        )
    holding = Holding(
        member_id=member.id,
        level_id=level.id,
        from_on=from_on,
        until_on=until_on,
        created_at=now,
        recorded_by=actor.name if actor else "",
    )
    session.add(holding)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="accreditation.holding_add",
        subject=f"member {member.id}",
        details={"level": level.slug, "from": from_on.isoformat(), "until": until_on.isoformat()},
        now=now,
    )
    return holding


def holdings_of(session: Session, *, member_id: int) -> list[tuple[Holding, Level]]:
    """Every level the member has held or holds, the latest first."""
    query = (
        select(Holding, Level)
        .join(Level, Level.id == Holding.level_id)
        .where(Holding.member_id == member_id)
        .order_by(Holding.until_on.desc(), Holding.id.desc())
    )
    return [(h, level) for h, level in session.execute(query)]


# --- the CPD log -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CpdData:
    done_on: date
    activity: str
    hours: Decimal
    category: str
    reflection: str = ""
    #: Optional evidence (a certificate, notes), checked and cleaned before it gets here.
    evidence: Evidence | None = None


def parse_hours(raw: str) -> Decimal | None:
    """Hours as typed ("1.5", "2"): more than 0, at most 100, to the quarter-hour's precision of two decimals;
    None for anything else."""
    try:
        value = Decimal(raw.strip())
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite() or value <= 0 or value > MAX_HOURS or value != value.quantize(Decimal("0.01")):
        return None
    return value.quantize(Decimal("0.01"))


def add_entry(session: Session, *, member_id: int, data: CpdData, today: date, now: datetime) -> CpdEntry:
    """A CPD entry the member records in their own log."""
    member = member_or_404(session, member_id)
    if data.category not in CPD_CATEGORIES:
        raise Invalid(Code.BAD_CATEGORY, "Choose the kind of CPD from the list.", field="category")
    if not Decimal(0) < data.hours <= MAX_HOURS:
        raise Invalid(
            Code.BAD_HOURS, "Enter the hours as a number more than 0 and at most 100.", field="hours"
        )
    if data.done_on > today:
        raise Invalid(Code.BAD_DATES, "The date cannot be in the future.", field="done_on")
    if not data.activity:
        raise Invalid(Code.BAD_ACTIVITY, "Enter what the activity was.", field="activity")
    entry = CpdEntry(
        member_id=member.id,
        done_on=data.done_on,
        activity=data.activity,
        hours=data.hours,
        category=data.category,
        reflection=data.reflection,
        created_at=now,
    )
    if data.evidence is not None:
        entry.evidence_name = data.evidence.filename[:200]
        entry.evidence_type = data.evidence.content_type
        entry.evidence = data.evidence.content
    session.add(entry)
    session.flush()
    return entry


def entry_evidence(session: Session, *, member_id: int, entry_id: int) -> CpdEntry:
    """A CPD entry of the member's with evidence; "not found" for anyone else's, or one with none."""
    found = session.get(CpdEntry, entry_id)
    if found is None or found.member_id != member_id or not found.evidence_name:
        raise NotFound("There is no such evidence.", Code.NOT_FOUND)
    return found


def entries_of(session: Session, *, member_id: int, year: int | None = None) -> list[CpdEntry]:
    """The member's log, the latest first (one calendar year only, when asked)."""
    query = select(CpdEntry).where(CpdEntry.member_id == member_id)
    if year is not None:
        query = query.where(CpdEntry.done_on >= date(year, 1, 1), CpdEntry.done_on <= date(year, 12, 31))
    return list(session.scalars(query.order_by(CpdEntry.done_on.desc(), CpdEntry.id.desc())))


@dataclass(frozen=True)
class Progress:
    """A member's CPD in one calendar year: the hours logged and what the highest level held asks (None: no
    level held on the day, so nothing is required)."""

    year: int
    hours: Decimal
    required: int | None
    level: str | None

    @property
    def met(self) -> bool:
        return self.required is not None and self.hours >= self.required


def progress(session: Session, *, member_id: int, today: date) -> Progress:
    """The hours of `today`'s year against the CPD hours of the highest level the member holds today."""
    year = today.year
    hours = session.scalar(
        select(func.coalesce(func.sum(CpdEntry.hours), 0)).where(
            CpdEntry.member_id == member_id,
            CpdEntry.done_on >= date(year, 1, 1),
            CpdEntry.done_on <= date(year, 12, 31),
        )
    )
    highest = session.execute(
        select(Level.name, Level.cpd_hours)
        .join(Holding, Holding.level_id == Level.id)
        .where(Holding.member_id == member_id, Holding.from_on <= today, Holding.until_on >= today)
        .order_by(Level.cpd_hours.desc(), Level.position)
        .limit(1)
    ).first()
    return Progress(
        year=year,
        hours=Decimal(hours or 0).quantize(Decimal("0.01")),
        required=highest.cpd_hours if highest else None,
        level=highest.name if highest else None,
    )
