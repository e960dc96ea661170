"""Find a Therapist: the practice profiles registrants choose to publish, the directory visitors filter, and the
messages visitors send a therapist, relayed by e-mail through the outbox.

A profile shows while it is published and its holder is on the register and neither suspended nor removed
(`visible`, one SQL condition from the clock, like the register's own). The order is fair and changes daily: a
keyed hash of (the UK day, the member) shuffles the matches, so nobody is first for paying or for a name
beginning with A, and nobody outside can predict tomorrow's order.

A visitor's message reaches the therapist's own e-mail address, which no page shows. The spam defences are
Contact Us's own (`contact.service.check_not_automated`: the honeypot, the signed opening time), and the limits
count only the sender's network (a keyed digest): per hour over all therapists, and per day to one. Nothing is
counted per therapist, so a stranger sending many messages cannot stop anyone else writing to them.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from hashlib import sha256
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from portal import audit
from portal.contact import service as contact
from portal.errors import Invalid, NotFound, Throttled
from portal.mail import service as mail
from portal.members.models import Member
from portal.members.standing import london_day
from portal.register import service as register
from portal.register.errors import Code
from portal.register.models import HIDDEN, PracticeProfile, RegisterStatus, RelayedMessage
from portal.society.service import society_name
from portal.web.tokens import token_digest

PAGE_SIZE = 20
PER_CLIENT_PER_HOUR = 5
PER_CLIENT_PER_THERAPIST_PER_DAY = 2
DESCRIPTION_LIMIT = 1000
MESSAGE_LIMIT = 3000
MAX_TOWNS = 5
MAX_LANGUAGES = 6
MAX_FEE = 1000
#: The first half of a UK postcode: the area's one or two letters, the district's digit, maybe a digit or letter.
OUTWARD = re.compile(r"^([A-Z]{1,2})[0-9][A-Z0-9]?$")
AREA = re.compile(r"^[A-Z]{1,2}$")
PHONE = re.compile(r"^\+?[0-9 ()\-]{7,25}$")


# --- the profile -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileData:
    """What a registrant writes on their profile, already checked by `parse`."""

    published: bool = False
    practice_name: str = ""
    towns: tuple[str, ...] = ()
    region: str = ""
    outward_code: str = ""
    delivery: str = "in_person"
    modalities: tuple[str, ...] = ()
    client_groups: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    fee_from: int | None = None
    fee_to: int | None = None
    description: str = ""
    website: str = ""
    phone: str = ""


def split_list(raw: str, *, limit: int) -> tuple[str, ...] | None:
    """A comma-separated list as typed ("Manchester, Salford"): its parts, tidied; None when longer than `limit`
    or a part is longer than 60 characters."""
    parts = tuple(" ".join(p.split()) for p in raw.split(","))
    parts = tuple(p for p in parts if p)
    if len(parts) > limit or any(len(p) > 60 for p in parts):
        return None
    return parts


def outward_code(raw: str) -> str | None:
    """The first half of a postcode, upper-case without spaces (m1 -> M1, sw1a -> SW1A); None when it is not
    one (a whole postcode included: the profile keeps only its first half)."""
    code = raw.replace(" ", "").upper()
    return code if OUTWARD.match(code) else None


def web_address(raw: str) -> str | None:
    """An http or https address with a host and no spaces; None for anything else (javascript:, data:, ftp:)."""
    if len(raw) > 300 or any(c.isspace() for c in raw) or any(c in raw for c in "<>\"'"):
        return None
    parts = urlsplit(raw)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or "." not in parts.hostname:
        return None
    return raw


def phone_number(raw: str) -> str | None:
    if not PHONE.match(raw) or sum(c.isdigit() for c in raw) < 7:
        return None
    return raw


def _key(parts: tuple[str, ...]) -> str:
    return "|" + "|".join(register.town_key(p) for p in parts) + "|" if parts else ""


def _codes(parts: tuple[str, ...]) -> str:
    return "|" + "|".join(parts) + "|" if parts else ""


def codes(stored: str) -> list[str]:
    return [c for c in stored.split("|") if c]


def profile_of(session: Session, member_id: int) -> PracticeProfile | None:
    return session.scalar(select(PracticeProfile).where(PracticeProfile.member_id == member_id))


def save_profile(
    session: Session,
    *,
    member_id: int,
    data: ProfileData,
    photo: bytes | None,
    remove_photo: bool,
    actor: audit.Actor | None,
    now: datetime,
) -> PracticeProfile:
    """Save the registrant's profile (made on the first save, unpublished until they say), audited with the
    fields that changed. Publishing needs a place on the register today."""
    if data.published and not register.is_on_register(session, member_id=member_id, now=now):
        raise Invalid(
            Code.NOT_ON_REGISTER,
            "Only a practitioner on the register today can publish a profile. Save it unpublished for now.",
            field="published",
        )
    found = profile_of(session, member_id)
    if found is None:
        found = PracticeProfile(member_id=member_id, created_at=now, published=False)
        session.add(found)
    values: dict[str, Any] = {
        "published": data.published,
        "practice_name": data.practice_name,
        "towns": ", ".join(data.towns),
        "towns_key": _key(data.towns),
        "region": data.region,
        "outward_code": data.outward_code,
        "postcode_area": OUTWARD.match(data.outward_code).group(1) if data.outward_code else "",  # type: ignore[union-attr]
        "delivery": data.delivery,
        "modalities": _codes(data.modalities),
        "client_groups": _codes(data.client_groups),
        "languages": ", ".join(data.languages),
        "languages_key": _key(data.languages),
        "fee_from": data.fee_from,
        "fee_to": data.fee_to,
        "description": data.description,
        "website": data.website,
        "phone": data.phone,
    }
    changed = sorted(name for name, value in values.items() if getattr(found, name, None) != value)
    for name, value in values.items():
        setattr(found, name, value)
    if photo is not None:
        found.photo = photo
        changed.append("photo")
    elif remove_photo and found.photo is not None:
        found.photo = None
        changed.append("photo removed")
    found.updated_at = now
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="register.profile_save",
        subject=f"member {member_id}",
        details={"changed": changed, "published": data.published},
        now=now,
    )
    return found


# --- the directory ---------------------------------------------------------------------------------------------


def visible(session: Session, now: datetime) -> Any:
    """The SQL condition that a profile (joined to its member and outer-joined to their status) is shown."""
    return and_(
        PracticeProfile.published,
        register.on_register(session, now),
        or_(RegisterStatus.status.is_(None), RegisterStatus.status.not_in(HIDDEN)),
    )


def _visible_query(session: Session, now: datetime, *columns: Any) -> Any:
    return (
        select(*columns)
        .join(Member, Member.id == PracticeProfile.member_id)
        .outerjoin(RegisterStatus, RegisterStatus.member_id == Member.id)
        .where(visible(session, now))
    )


@dataclass(frozen=True)
class Filters:
    region: str = ""
    town: str = ""
    postcode: str = ""
    online: bool = False
    modality: str = ""
    client_group: str = ""
    language: str = ""
    page: int = 1

    @property
    def asked(self) -> bool:
        return any((self.region, self.town, self.postcode, self.online, self.modality, self.client_group,
                    self.language))  # fmt: skip


@dataclass
class Listing:
    profiles: list[tuple[PracticeProfile, Member]]
    total: int
    page: int
    pages: int


def shuffle_key(key: bytes, day: str, member_id: int) -> bytes:
    return hmac.new(key, f"find-a-therapist:{day}:{member_id}".encode(), sha256).digest()


def _filtered(query: Any, filters: Filters) -> Any:
    if filters.region:
        query = query.where(PracticeProfile.region == filters.region)
    if filters.town:
        query = query.where(
            PracticeProfile.towns_key.contains("|" + register.town_key(filters.town), autoescape=True)
        )
    code = filters.postcode.replace(" ", "").upper()
    if code and AREA.match(code):
        query = query.where(PracticeProfile.postcode_area == code)
    elif code:
        query = query.where(PracticeProfile.outward_code == code)
    if filters.online:
        query = query.where(PracticeProfile.delivery.in_(("online", "both")))
    if filters.modality:
        query = query.where(PracticeProfile.modalities.contains(f"|{filters.modality}|", autoescape=True))
    if filters.client_group:
        query = query.where(
            PracticeProfile.client_groups.contains(f"|{filters.client_group}|", autoescape=True)
        )
    if filters.language:
        query = query.where(
            PracticeProfile.languages_key.contains("|" + register.town_key(filters.language), autoescape=True)
        )
    return query


def directory(session: Session, filters: Filters, *, now: datetime, key: bytes) -> Listing:
    """The profiles shown that match, in today's shuffled order, a page at a time: the matching ids in one
    statement (ordered here by their keyed hash), the page's profiles in another."""
    ids = list(session.scalars(_filtered(_visible_query(session, now, PracticeProfile.member_id), filters)))
    day = london_day(now).isoformat()
    ids.sort(key=lambda member_id: shuffle_key(key, day, member_id))
    total = len(ids)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(filters.page, 1), pages)
    chosen = ids[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    rows: dict[int, tuple[PracticeProfile, Member]] = {}
    if chosen:
        query = (
            select(PracticeProfile, Member)
            .join(Member, Member.id == PracticeProfile.member_id)
            .where(PracticeProfile.member_id.in_(chosen))
        )
        rows = {member.id: (profile, member) for profile, member in session.execute(query)}
    return Listing(profiles=[rows[i] for i in chosen if i in rows], total=total, page=page, pages=pages)


def shown_profile(session: Session, *, number: str, now: datetime) -> tuple[PracticeProfile, Member]:
    """The profile of a registration number while it is shown; NotFound otherwise (unpublished, off the
    register, suspended or removed all read the same)."""
    row = session.execute(
        _visible_query(session, now, PracticeProfile, Member).where(Member.membership_number == number)
    ).first()
    if row is None:
        raise NotFound("There is no practice profile at this address.", Code.NOT_FOUND)
    return row[0], row[1]


# --- a visitor's message ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    name: str
    email: str
    message: str


def client_digest(ip: str, *, key: bytes) -> str:
    return token_digest(key, ip, purpose="find-a-therapist-client")


def relay(
    session: Session,
    *,
    number: str,
    message: Message,
    honeypot: str,
    token: str,
    ip: str,
    now: datetime,
    key: bytes,
) -> None:
    """Relay a visitor's message to the therapist's own address through the outbox, refusing what looks
    automated (Contact Us's checks) and a network that has sent enough; the therapist's address is never
    shown to the visitor, nor kept beside the count."""
    contact.check_not_automated(honeypot=honeypot, token=token, key=key, now=now)
    profile, member = shown_profile(session, number=number, now=now)
    digest = client_digest(ip, key=key)
    sent = select(func.count()).select_from(RelayedMessage).where(RelayedMessage.client_digest == digest)
    if (session.scalar(sent.where(RelayedMessage.created_at > now - timedelta(hours=1))) or 0) >= (
        PER_CLIENT_PER_HOUR
    ):
        raise Throttled(
            Code.THROTTLED,
            f"{PER_CLIENT_PER_HOUR} messages have been sent to therapists from your network in the last hour, "
            "which is as many as we relay. Please try again in an hour.",
        )
    to_them = sent.where(
        RelayedMessage.member_id == member.id, RelayedMessage.created_at > now - timedelta(days=1)
    )
    if (session.scalar(to_them) or 0) >= PER_CLIENT_PER_THERAPIST_PER_DAY:
        raise Throttled(
            Code.THROTTLED,
            "You have already written to this therapist twice today. Please wait for their reply, or try "
            "again tomorrow.",
        )
    if not member.email:
        raise NotFound("There is no practice profile at this address.", Code.NOT_FOUND)
    session.add(RelayedMessage(member_id=member.id, client_digest=digest, created_at=now))
    mail.enqueue(
        session,
        to=member.email,
        template="register/relayed_message",
        context={
            "society_name": society_name(session),
            "therapist": member.full_name,
            "practice": profile.practice_name,
            "name": message.name,
            "email": message.email,
            "message": message.message,
        },
        now=now,
    )
    session.flush()


def purge(session: Session, *, now: datetime) -> dict[str, int]:
    """Forget the relayed messages' counts once no limit reads them (after a day)."""
    done = session.execute(delete(RelayedMessage).where(RelayedMessage.created_at < now - timedelta(days=2)))
    return {"register_messages": int(getattr(done, "rowcount", 0) or 0)}
