"""The membership roll. It comes from the office's export; every change is kept in the member's history."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime

STATUSES: dict[str, str] = {"active": "Active", "lapsed": "Lapsed", "resigned": "Resigned"}


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
