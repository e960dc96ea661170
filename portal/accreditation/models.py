"""The levels the society accredits at, each carrying its standard.

A level's required training is a course of the training room by its stable id (`training_courses.id`); a course
removed leaves the level with no required training rather than taking the level with it.

The table is `accreditation_standards`: the members room's `accreditation_levels` is the roll's older list of
codes a member's `accreditation` holds (elections' eligibility reads it); the two are kept apart until
accreditation applications give a member levels from this room."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

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
    #: Optional evidence (a certificate, notes), checked and cleaned as every uploaded file; the bytes are
    #: loaded only when the file is asked for.
    evidence_name: Mapped[str] = mapped_column(String(200), default="")
    evidence_type: Mapped[str] = mapped_column(String(100), default="")
    evidence: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))


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


# --- applications ------------------------------------------------------------------------------------------------

#: Where an application stands. `supervisor`: the named supervisor has not answered yet; `new`: waiting for
#: the reviewer; `more`: the reviewer asked the member for more; then approved or refused.
APPLICATION_STATUSES: dict[str, str] = {
    "supervisor": "Waiting for the supervisor",
    "new": "Waiting for review",
    "more": "Waiting for the member",
    "approved": "Approved",
    "refused": "Refused",
}
OPEN_STATUSES = ("supervisor", "new", "more")
OPEN_APPLICATION = "status IN ('supervisor', 'new', 'more')"


class LevelApplication(Base):
    """A member's application for a level (or to renew one held: `renews_id`), with the evidence the standard
    asks for and the supervisor who vouches for it. One open application per member and level, held by a
    partial unique index. The supervisor answers through a private link stored only as its keyed digest."""

    __tablename__ = "accreditation_applications"
    __table_args__ = (
        Index(
            "uq_accreditation_applications_open",
            "member_id",
            "level_id",
            unique=True,
            sqlite_where=text(OPEN_APPLICATION),
            postgresql_where=text(OPEN_APPLICATION),
        ),
        Index("ix_accreditation_applications_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    level_id: Mapped[int] = mapped_column(ForeignKey("accreditation_standards.id", ondelete="CASCADE"))
    #: The holding this application renews (re-accreditation), or None for a first application.
    renews_id: Mapped[int | None] = mapped_column(
        ForeignKey("accreditation_holdings.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(20), default="supervisor")
    #: The required course: whether the member completed it, and the booking of the portal's own that shows
    #: it (None: the member's word, in `training_note`).
    training_done: Mapped[bool] = mapped_column(Boolean, default=False)
    training_registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="SET NULL")
    )
    training_note: Mapped[str] = mapped_column(Text, default="")
    supervised_cases: Mapped[int] = mapped_column(Integer, default=0)
    supervision_hours: Mapped[int] = mapped_column(Integer, default=0)
    statement: Mapped[str] = mapped_column(Text, default="")
    supervisor_name: Mapped[str] = mapped_column(String(200))
    #: Lower-case.
    supervisor_email: Mapped[str] = mapped_column(String(254))
    supervisor_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    supervisor_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: "" until the supervisor answers, then "confirmed" or "declined", with their comment.
    supervisor_answer: Mapped[str] = mapped_column(String(20), default="")
    supervisor_comment: Mapped[str] = mapped_column(Text, default="")
    supervisor_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str] = mapped_column(String(300), default="")
    #: The refusal's reasons, or the conditions granted (the public wording), as the reviewer wrote them.
    reason: Mapped[str] = mapped_column(Text, default="")
    #: The level held that an approval made.
    holding_id: Mapped[int | None] = mapped_column(
        ForeignKey("accreditation_holdings.id", ondelete="SET NULL")
    )

    files: Mapped[list[LevelApplicationFile]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="LevelApplicationFile.id"
    )
    messages: Mapped[list[LevelApplicationMessage]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="LevelApplicationMessage.id"
    )

    @property
    def reference(self) -> str:
        return f"ACC-{self.id:05d}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class LevelApplicationFile(Base):
    """A document sent with an application (a certificate, a case summary), checked and cleaned."""

    __tablename__ = "accreditation_application_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("accreditation_applications.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    application: Mapped[LevelApplication] = relationship(back_populates="files")


class LevelApplicationMessage(Base):
    """One turn of an application's conversation: the reviewer asking, the member answering, the
    supervisor's comment, a decision."""

    __tablename__ = "accreditation_application_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("accreditation_applications.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: "reviewer", "member" or "supervisor".
    author: Mapped[str] = mapped_column(String(20))
    author_name: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)

    application: Mapped[LevelApplication] = relationship(back_populates="messages")


#: The re-accreditation reminders, by days before the last day held.
REMINDER_KINDS: dict[str, int] = {"days_90": 90, "days_30": 30, "days_7": 7}


class Reminder(Base):
    """A re-accreditation reminder sent: one row per holding and kind, inserted "on conflict do nothing", so
    each goes once whichever worker gets there first."""

    __tablename__ = "accreditation_reminders"
    __table_args__ = (UniqueConstraint("holding_id", "kind", name="uq_accreditation_reminders_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    holding_id: Mapped[int] = mapped_column(ForeignKey("accreditation_holdings.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
