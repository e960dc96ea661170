"""The levels the society accredits at, each carrying its standard.

A level's required training is a course of the training room by its stable id (`training_courses.id`); a course
removed leaves the level with no required training rather than taking the level with it.

The table is `accreditation_standards`: the members room's `accreditation_levels` is the roll's older list of
codes a member's `accreditation` holds (elections' eligibility reads it); the two are kept apart until
accreditation applications give a member levels from this room."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime


class Level(Base):
    """One level of accreditation (IPT practitioner, supervisor, …) and what it takes to hold it."""

    __tablename__ = "accreditation_standards"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: The course the standard asks to have completed (None: no particular course).
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_courses.id", ondelete="SET NULL"), index=True
    )
    supervised_cases: Mapped[int] = mapped_column(Integer, default=0)
    supervision_hours: Mapped[int] = mapped_column(Integer, default=0)
    sign_off_required: Mapped[bool] = mapped_column(Boolean, default=False)
    #: CPD hours a holder records each calendar year.
    cpd_hours: Mapped[int] = mapped_column(Integer, default=0)
    #: How long an accreditation at this level lasts before re-accreditation.
    duration_months: Mapped[int] = mapped_column(Integer, default=36)
    #: Markdown, rendered and sanitised like every staff-written text.
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(200), default="")


class Holding(Base):
    """A member's accreditation at a level, from one day until another (both included). Staff record it on
    the member's page until applications (issue 17, point 2) make it; the member's CPD requirement for a year
    is the highest of the levels held."""

    __tablename__ = "accreditation_holdings"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    level_id: Mapped[int] = mapped_column(
        ForeignKey("accreditation_standards.id", ondelete="CASCADE"), index=True
    )
    from_on: Mapped[date] = mapped_column(Date)
    until_on: Mapped[date] = mapped_column(Date)
    #: Conditions attached when the level was granted, in the words the public register shows ("" for none).
    conditions: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(200), default="")


#: The kinds of CPD a member records (what the log and an audit group hours by).
CPD_CATEGORIES: dict[str, str] = {
    "course": "Course or workshop",
    "conference": "Conference or meeting",
    "supervision": "Supervision (given or received)",
    "reading": "Reading and self-study",
    "teaching": "Teaching or presenting",
    "other": "Other",
}


class CpdEntry(Base):
    """One piece of CPD in a member's log: recorded by the member, or by the portal when the member was
    checked in at one of its events (`event_id`: one entry per member per event, held by the database)."""

    __tablename__ = "cpd_entries"
    __table_args__ = (UniqueConstraint("member_id", "event_id", name="uq_cpd_entries_member_id_event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    done_on: Mapped[date] = mapped_column(Date)
    activity: Mapped[str] = mapped_column(String(300))
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    category: Mapped[str] = mapped_column(String(30))
    reflection: Mapped[str] = mapped_column(Text, default="")
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


#: What staff record for each member of a CPD audit.
AUDIT_OUTCOMES: dict[str, str] = {
    "pending": "Waiting for the log",
    "met": "Met",
    "not_met": "Not met",
    "extension": "Extension given",
}


class CpdAudit(Base):
    """A random CPD audit: `size` registrants drawn with `random.Random(seed).sample` from `pool` (the member
    ids of everyone accredited that day, in membership-number order), so anyone can draw it again."""

    __tablename__ = "cpd_audits"

    id: Mapped[int] = mapped_column(primary_key=True)
    seed: Mapped[int] = mapped_column(BigInteger)
    size: Mapped[int] = mapped_column(Integer)
    #: JSON list of member ids, in the order the sample was drawn from.
    pool: Mapped[str] = mapped_column(Text)
    deadline: Mapped[date] = mapped_column(Date)
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime)
    drawn_by: Mapped[str] = mapped_column(String(200), default="")


class CpdAuditMember(Base):
    """One registrant drawn for an audit, and what staff decided."""

    __tablename__ = "cpd_audit_members"
    __table_args__ = (
        UniqueConstraint("audit_id", "member_id", name="uq_cpd_audit_members_audit_id_member_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("cpd_audits.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    #: Where in the sample it was drawn (the sample's order).
    position: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20), default="pending")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
