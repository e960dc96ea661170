"""The complaints tables: the procedure (one row), cases, their documents, their record (notes, decisions,
letters, stage changes) and the yearly counter their references are numbered from."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime

#: What a complaint may be about.
ABOUT: dict[str, str] = {
    "member": "A member or practitioner",
    "society": "The society itself",
    "course": "A training course",
}

#: The stages of a case, in order; `referred` (to another body) leaves the procedure before an outcome.
STAGES: dict[str, str] = {
    "received": "Received",
    "acknowledged": "Acknowledged",
    "under_consideration": "Under consideration",
    "outcome": "Outcome given",
    "closed": "Closed",
    "referred": "Referred",
}
#: Where each stage may move to.
NEXT_STAGES: dict[str, tuple[str, ...]] = {
    "received": ("acknowledged", "referred"),
    "acknowledged": ("under_consideration", "referred"),
    "under_consideration": ("outcome", "referred"),
    "outcome": ("closed",),
    "referred": ("closed",),
    "closed": (),
}
OPEN_STAGES = ("received", "acknowledged", "under_consideration")

#: The kinds of entry on a case's record.
ENTRY_KINDS: dict[str, str] = {
    "note": "Note",
    "decision": "Decision",
    "letter": "Letter sent",
    "stage": "Stage",
}


class ComplaintProcedure(Base):
    """The society's complaints procedure (row id 1): the text the public page shows (Markdown) and the
    working days its targets are counted in."""

    __tablename__ = "complaint_procedure"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    acknowledge_days: Mapped[int] = mapped_column(Integer, default=5)
    outcome_days: Mapped[int] = mapped_column(Integer, default=28)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: No foreign key: who last changed it is a name kept as written.
    updated_by: Mapped[str] = mapped_column(String(300), default="")


class ComplaintCounter(Base):
    """The last reference number given in a year: `UPDATE ... SET last = last + 1` hands out each once."""

    __tablename__ = "complaint_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Complaint(Base):
    """One complaint, a case from the moment it is received."""

    __tablename__ = "complaints"
    __table_args__ = (UniqueConstraint("year", "number", name="uq_complaints_year_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: C-2026-0007: the year received and its number within it.
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    about: Mapped[str] = mapped_column(String(20))
    #: The member or practitioner named, or the course; empty for one about the society.
    subject_name: Mapped[str] = mapped_column(String(200), default="")
    #: The member on the roll the case is about, linked by the complaints staff (never by the form).
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), index=True)
    complainant_name: Mapped[str] = mapped_column(String(200))
    complainant_email: Mapped[str] = mapped_column(String(254))
    complainant_phone: Mapped[str] = mapped_column(String(40), default="")
    what_happened: Mapped[str] = mapped_column(Text)
    happened_when: Mapped[str] = mapped_column(String(200))
    outcome_sought: Mapped[str] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(String(30), default="received", index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    acknowledge_by: Mapped[date] = mapped_column(Date)
    outcome_by: Mapped[date] = mapped_column(Date)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    referred_to: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    documents: Mapped[list[ComplaintDocument]] = relationship(
        back_populates="complaint", cascade="all, delete-orphan", order_by="ComplaintDocument.id"
    )
    entries: Mapped[list[ComplaintEntry]] = relationship(
        back_populates="complaint", cascade="all, delete-orphan", order_by="ComplaintEntry.id"
    )

    @property
    def about_label(self) -> str:
        return ABOUT.get(self.about, self.about)

    @property
    def stage_label(self) -> str:
        return STAGES.get(self.stage, self.stage)


class ComplaintDocument(Base):
    """A file the complainant sent with the complaint (PDF, JPEG or PNG), kept in the database."""

    __tablename__ = "complaint_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)

    complaint: Mapped[Complaint] = relationship(back_populates="documents")


class ComplaintEntry(Base):
    """One entry on a case's record: a note, a decision, a letter sent, or a change of stage."""

    __tablename__ = "complaint_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(20))
    #: No foreign key: the record keeps who wrote it even after the account is gone.
    author_id: Mapped[int | None] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(300), default="")
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    #: The outbox e-mail a letter went out as.
    email_id: Mapped[int | None] = mapped_column(Integer)

    complaint: Mapped[Complaint] = relationship(back_populates="entries")

    @property
    def kind_label(self) -> str:
        return ENTRY_KINDS.get(self.kind, self.kind)
