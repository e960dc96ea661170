"""The register's own tables: the status staff set on a registrant after a complaint case, the practice
profile a registrant may publish in Find a Therapist, and the visitors' messages relayed to them (kept only to
count, never their words).

Who is on the register is never stored: it is computed from the clock (a level held today, and a membership in
standing), in SQL, so a lapse or an expiry takes a person off at once (see `service.on_register`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime

#: What staff may set a registrant's status to, in the words the register shows. No record: registered.
STATUSES: dict[str, str] = {
    "registered": "Registered",
    "conditions": "Registered with conditions",
    "suspended": "Suspended",
    "removed": "Removed from the register",
}
#: The statuses that take a person out of Find a Therapist (they stay on the register, marked).
HIDDEN = ("suspended", "removed")

#: What a practice offers, as the directory filters them.
MODALITIES: dict[str, str] = {
    "ipt": "IPT",
    "ipt-a": "IPT-A (adolescents)",
    "ipc": "IPC",
    "ipt-bipolar": "IPT for bipolar disorder",
    "group": "Group IPT",
}
CLIENT_GROUPS: dict[str, str] = {
    "adults": "Adults",
    "adolescents": "Adolescents",
    "older-adults": "Older adults",
    "perinatal": "Perinatal",
}
DELIVERY: dict[str, str] = {"in_person": "In person", "online": "Online", "both": "In person and online"}


class RegisterStatus(Base):
    """A registrant's status as staff set it (after a complaint case), with the words the public sees. Changed
    only by `service.set_status`, each change audited."""

    __tablename__ = "register_statuses"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    #: The public wording: the conditions, or why suspended or removed.
    wording: Mapped[str] = mapped_column(Text, default="")
    #: The complaint case it follows (shown to the complaints role only).
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(200), default="")


class PracticeProfile(Base):
    """A registrant's practice, as Find a Therapist shows it when they publish it (off until they do) and while
    they are on the register and neither suspended nor removed. The lists are kept as `|a|b|` so one LIKE finds
    a code or a town on either engine; the e-mail address a visitor's message goes to is the member's own and
    is never on the profile."""

    __tablename__ = "practice_profiles"
    __table_args__ = (Index("ix_practice_profiles_published_region", "published", "region"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), unique=True)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    practice_name: Mapped[str] = mapped_column(String(200), default="")
    #: As typed, comma separated ("Manchester, Salford"); `towns_key` is `|manchester|salford|`.
    towns: Mapped[str] = mapped_column(String(400), default="")
    towns_key: Mapped[str] = mapped_column(String(400), default="")
    region: Mapped[str] = mapped_column(String(40), default="")
    #: The first half of the postcode (M1, SW1A) and its area's letters (M, SW).
    outward_code: Mapped[str] = mapped_column(String(4), default="")
    postcode_area: Mapped[str] = mapped_column(String(2), default="", index=True)
    delivery: Mapped[str] = mapped_column(String(20), default="in_person")
    modalities: Mapped[str] = mapped_column(String(200), default="")
    client_groups: Mapped[str] = mapped_column(String(200), default="")
    languages: Mapped[str] = mapped_column(String(300), default="")
    languages_key: Mapped[str] = mapped_column(String(300), default="")
    #: Whole pounds a session, from and to (None: not said).
    fee_from: Mapped[int | None] = mapped_column(Integer)
    fee_to: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    #: A JPEG re-encoded from the upload (no metadata kept), at most 800 pixels a side.
    photo: Mapped[bytes | None] = mapped_column(LargeBinary)
    website: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RelayedMessage(Base):
    """That a visitor's message was relayed to a registrant: who to, from which network (a keyed digest, never
    the address) and when, for the limits per network. The words went to the outbox and are not kept here."""

    __tablename__ = "register_messages"
    __table_args__ = (Index("ix_register_messages_client_created", "client_digest", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    client_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
