"""Committees and the people on them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime


class Committee(Base):
    __tablename__ = "committees"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: What the committee does, in Markdown (rendered and sanitised like every staff-written text).
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    people: Mapped[list[TeamMember]] = relationship(
        back_populates="committee",
        cascade="all, delete-orphan",
        order_by="(TeamMember.position, TeamMember.id)",
    )


class TeamMember(Base):
    """One person's place on a committee: their post ("Chair"), a short biography and an optional photo (a
    re-encoded JPEG, nothing of the uploaded file kept)."""

    __tablename__ = "team_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    post: Mapped[str] = mapped_column(String(200), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    has_photo: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
    #: The election a person was taken from, when they came from one.
    elected_in_id: Mapped[int | None] = mapped_column(ForeignKey("elections.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    committee: Mapped[Committee] = relationship(back_populates="people")
