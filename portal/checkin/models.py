"""Check-in tables: every scan, the scanner devices, and what badges and CPD certificates need beyond the
events tables (a ribbon per registration, CPD hours per workshop).

The scan log is also the admission record: a scan that let someone in carries `admission_key` (`r<id>` at the
event's door, `r<id>w<workshop>` at a session's door), which is unique, so two doors scanning one badge at the
same instant get one `ok` between them on every engine, with a single insert on the hot path. Undoing an
admission clears the key (the row stays in the log).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime

#: Every answer a scan can get. `waitlisted` and `not_booked` go beyond the issue's list: a place offered or
#: waited for is not a booking, and a session door must say when someone is not booked on that session.
RESULTS: dict[str, str] = {
    "ok": "Admitted",
    "already_checked_in": "Already checked in",
    "invalid": "Not a valid badge",
    "unknown": "Booking not found",
    "revoked": "Old badge (reissued)",
    "cancelled": "Booking cancelled",
    "waitlisted": "Not confirmed (waiting list or offer)",
    "unpaid": "Not paid",
    "wrong_event": "Badge for another event",
    "not_booked": "Not booked on this session",
    "not_open": "Check-in not open",
}
RIBBONS: dict[str, str] = {
    "delegate": "Delegate",
    "speaker": "Speaker",
    "staff": "Staff",
    "committee": "Committee",
    "organiser": "Organiser",
}


class CheckInScan(Base):
    """One scan at a door, whatever its result; the first `ok` for a registration is its admission."""

    __tablename__ = "checkin_scans"
    __table_args__ = (
        Index("ix_checkin_scans_event_at", "event_id", "at"),
        Index("ix_checkin_scans_registration", "registration_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Chosen by the scanner for each scan; a repeat (a retry, an offline batch sent twice) changes nothing.
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    workshop_id: Mapped[int | None] = mapped_column(
        ForeignKey("workshops.id", ondelete="CASCADE"), index=True
    )
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"))
    #: SHA-256 of what was scanned (first 32 hex digits); the code itself is not kept.
    code_fingerprint: Mapped[str] = mapped_column(String(32), default="")
    result: Mapped[str] = mapped_column(String(30))
    #: Set while this scan is the registration's admission at this place (see the module docstring).
    admission_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    door: Mapped[str] = mapped_column(String(80))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("scanner_devices.id", ondelete="SET NULL"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    #: When the badge was scanned (the scanner's clock for an offline scan).
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When the server learnt of it.
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    offline: Mapped[bool] = mapped_column(Boolean, default=False)
    #: What an offline scanner told the person at the door (an offline scan only).
    client_result: Mapped[str | None] = mapped_column(String(30))
    #: An offline scanner let someone in whom the server would not have: reported on the conflicts page.
    conflict: Mapped[bool] = mapped_column(Boolean, default=False)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The JSON answer given, returned unchanged when the same nonce comes again.
    answer: Mapped[str] = mapped_column(Text, default="{}")


class ScannerDevice(Base):
    """A phone or handheld scanner trusted with one event's door: it sends `Authorization: Bearer <token>`,
    and only the keyed digest of the token is stored."""

    __tablename__ = "scanner_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BadgeRibbon(Base):
    """The coloured ribbon printed on a badge (speaker, staff, committee...); no row means `delegate`."""

    __tablename__ = "badge_ribbons"

    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), primary_key=True
    )
    ribbon: Mapped[str] = mapped_column(String(20))


class WorkshopCpd(Base):
    """CPD hours a session is worth; without a row, its length in hours."""

    __tablename__ = "workshop_cpd"

    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"), primary_key=True)
    cpd_hours: Mapped[float] = mapped_column(Float)
