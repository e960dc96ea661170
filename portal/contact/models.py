"""Enquiries sent through Contact Us, what staff wrote about them, and where each topic goes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime

#: What a visitor may write about, in the order the form offers them.
TOPICS: dict[str, str] = {
    "membership": "Membership",
    "training": "Training and accreditation",
    "events": "Events and the conference",
    "elections": "Elections",
    "website": "This website",
    "other": "Something else",
}

#: An enquiry's life, in order.
STATUSES: dict[str, str] = {"new": "New", "in_hand": "In hand", "answered": "Answered", "closed": "Closed"}


class ContactTopic(Base):
    """Where messages on one topic go: `inbox` is a staff e-mail address told of each new message (empty: the
    society's contact address). One row per topic of TOPICS, made when first set."""

    __tablename__ = "contact_topics"

    key: Mapped[str] = mapped_column(String(20), primary_key=True)
    inbox: Mapped[str] = mapped_column(String(254), default="")


class Enquiry(Base):
    __tablename__ = "enquiries"
    __table_args__ = (
        Index("ix_enquiries_status_created", "status", "created_at"),
        Index("ix_enquiries_client_created", "client_digest", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What the sender and staff quote: `E-<year>-<id>`, unique because the id is.
    reference: Mapped[str] = mapped_column(String(20), unique=True, default="")
    topic: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="new")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    #: A keyed digest of the sender's network address, for the per-address limit (never the address itself).
    client_digest: Mapped[str] = mapped_column(String(64))
    #: False when the acknowledgement was held back (this address had been sent enough of them today).
    acknowledged: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    entries: Mapped[list[EnquiryEntry]] = relationship(
        back_populates="enquiry", cascade="all, delete-orphan", order_by="EnquiryEntry.id"
    )

    @property
    def topic_label(self) -> str:
        return TOPICS.get(self.topic, self.topic)

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)


class EnquiryEntry(Base):
    """Something staff did on an enquiry that the case file keeps: a note (staff only) or a reply (e-mailed to
    the sender through the outbox)."""

    __tablename__ = "enquiry_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    enquiry_id: Mapped[int] = mapped_column(ForeignKey("enquiries.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # "note" or "reply"
    author_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    enquiry: Mapped[Enquiry] = relationship(back_populates="entries")
