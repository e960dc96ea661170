"""The membership roll. It comes from the office's export; every change is kept in the member's history."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime

STATUSES: dict[str, str] = {
    "active": "Active",
    # Approved and on the roll, the first fee not yet paid (portal/membership): active once it is.
    "pending": "Awaiting first fee",
    "lapsed": "Lapsed",
    "resigned": "Resigned",
}


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (Index("ix_members_last_first", "last_name", "first_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    membership_number: Mapped[str] = mapped_column(String(40), unique=True)
    #: Stored lower-case, so uniqueness is case-insensitive on every engine. Empty once erased.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(50), index=True)
    accreditation: Mapped[str] = mapped_column(String(50), default="none")
    status: Mapped[str] = mapped_column(String(20), index=True, default="active")
    joined_on: Mapped[date | None] = mapped_column(Date)
    renewal_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Set when a lapsed member's personal data was erased; the row stays so counts stay right.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The versions of the code of conduct and privacy notice the member last accepted ("" for none kept:
    #: an imported member), and when: carried from the application at approval, renewed by re-consenting.
    conduct_version: Mapped[str] = mapped_column(String(40), default="", server_default="")
    privacy_version: Mapped[str] = mapped_column(String(40), default="", server_default="")
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The day a resigned member left (the erasure of a former member's data counts its years from it).
    left_on: Mapped[date | None] = mapped_column(Date)

    history: Mapped[list[MemberChange]] = relationship(
        back_populates="member", cascade="all, delete-orphan", order_by="MemberChange.id"
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_active(self) -> bool:
        return self.status == "active"


class MemberChange(Base):
    """One change to a member: who, when, how (import, staff edit, self-service) and each field's before/after."""

    __tablename__ = "member_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(30))
    #: JSON: {"field": [before, after], ...}
    changes: Mapped[str] = mapped_column(Text, default="{}")

    member: Mapped[Member] = relationship(back_populates="history")


class MemberCategory(Base):
    """A membership category (trainee, basic, ...), configurable by staff. `code` is what members store and
    never changes once made; `label` is what people see and may be renamed. Its terms (fee, who may join,
    the evidence asked for, approval, the vote) are what the public Membership Options page prints and what
    an application to it follows (portal/membership)."""

    __tablename__ = "member_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: The annual fee in pence (GBP); 0 for a free category.
    annual_fee: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Who may join, in the society's words (Markdown-free plain text; shown on the options page).
    eligibility: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: What an applicant must show, and whether the application form asks for a file of it.
    evidence: Mapped[str] = mapped_column(Text, default="", server_default="")
    evidence_upload: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: Staff look at each application before it is approved (otherwise it is approved as it is sent).
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    can_vote: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    #: People may apply for it on the website (an honorary membership is given, not applied for).
    open_to_applicants: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class AccreditationLevel(Base):
    """An accreditation level ("none", "accredited practitioner", ...), configurable like the categories."""

    __tablename__ = "accreditation_levels"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)


class RollUpload(Base):
    """An uploaded roll file waiting to be applied, keyed by its SHA-256: the preview a person checked and the
    file that is applied are provably the same bytes. Deleted when applied, and purged after a day."""

    __tablename__ = "member_roll_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: No foreign key: an upload is short-lived and must not block removing an account.
    uploaded_by: Mapped[int | None] = mapped_column(Integer)
