"""The society's courses and the external CPD courses staff list.

A course's id is stable (its address may change): events of kind `training` point at it as their course
(`events.course_id`), and accreditation levels will name one as their required training."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime

STATUSES = {"draft": "Draft (staff only)", "published": "Published"}


class Course(Base):
    """A training the society runs, at `/training/<slug>`. Its texts are Markdown, rendered and sanitised like
    every staff-written text."""

    __tablename__ = "training_courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    #: One line for the list of courses.
    summary: Mapped[str] = mapped_column(String(300), default="")
    #: What the course is.
    about: Mapped[str] = mapped_column(Text, default="")
    #: Who it is for.
    audience: Mapped[str] = mapped_column(Text, default="")
    prerequisites: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Who saved it last, by name (the audit log holds the rest).
    updated_by: Mapped[str] = mapped_column(String(200), default="")

    @property
    def is_published(self) -> bool:
        return self.status == "published"


class ExternalCourse(Base):
    """A CPD course another provider runs, listed for members while it is current: until its last day (its
    end, or its start when it has no end); one with no dates at all (self-paced) stays until staff remove it."""

    __tablename__ = "training_external_courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(200))
    #: An http or https address (checked when saved).
    url: Mapped[str] = mapped_column(String(500))
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def last_day(self) -> date | None:
        return self.ends_on or self.starts_on
