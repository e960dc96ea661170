"""The levels the society accredits at, each carrying its standard.

A level's required training is a course of the training room by its stable id (`training_courses.id`); a course
removed leaves the level with no required training rather than taking the level with it.

The table is `accreditation_standards`: the members room's `accreditation_levels` is the roll's older list of
codes a member's `accreditation` holds (elections' eligibility reads it); the two are kept apart until
accreditation applications give a member levels from this room."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
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
