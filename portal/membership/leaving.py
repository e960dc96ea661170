"""Leaving and consenting: a member resigns (from My membership, or staff record it with the day they left),
and a member accepts the current versions of the code of conduct and privacy notice (re-consent, and with each
renewal they ask for). The day a member left is what the erasure of a former member's data counts its years
from (portal/privacy.py).

Plain functions over a Session that flush but never commit; each is audited by membership number, never by
name, and kept in the member's history.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.models import Account
from portal.errors import Kind
from portal.mail import service as mail
from portal.members import service as members
from portal.members.models import Member
from portal.members.standing import london_day
from portal.membership.errors import Code, MembershipError
from portal.society.service import membership_settings, society_name


def resign(
    session: Session,
    *,
    member_id: int,
    left_on: date,
    actor: Account | None,
    by_member: bool,
    now: datetime,
) -> Member:
    """The member leaves the society on `left_on` (today when they resign themselves; a day staff give, not in
    the future). They keep their login; they cannot vote, get member prices or renew; an invoice already
    issued stands. Their data is erased the society's number of years after `left_on`."""
    member = members.get_member(session, member_id, lock=True)
    if member.erased_at is not None or member.status == "resigned":
        raise MembershipError(
            Code.WRONG_STATUS, "This member has already resigned.", kind=Kind.CONFLICT, field="left_on"
        )
    if left_on > london_day(now):
        raise MembershipError(Code.BAD_VALUE, "The day they left cannot be in the future.", field="left_on")
    if member.joined_on is not None and left_on < member.joined_on:
        raise MembershipError(
            Code.BAD_VALUE, "The day they left cannot be before the day they joined.", field="left_on"
        )
    before = member.status
    member.status = "resigned"
    member.left_on = left_on
    member.updated_at = now
    label = "The member" if by_member else audit.actor_label(actor)
    members.record_change(
        session,
        member=member,
        changes={"status": [before, "resigned"], "left_on": [None, left_on.isoformat()]},
        actor=label,
        source="self-service" if by_member else "staff",
        now=now,
    )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="membership.resign",
        subject=member.membership_number,
        details={"left_on": left_on.isoformat(), "by": "member" if by_member else "staff"},
        now=now,
    )
    if member.email:
        mail.enqueue(
            session,
            to=member.email,
            template="membership/resigned",
            context={
                "society_name": society_name(session),
                "name": member.first_name,
                "membership_number": member.membership_number,
                "left_on": left_on,
                "erase_after_years": membership_settings(session).erase_after_years,
            },
            now=now,
        )
    return member


def needs_consent(session: Session, member: Member) -> bool:
    """The member has not accepted the current version of the code of conduct or the privacy notice."""
    current = membership_settings(session)
    return (member.conduct_version, member.privacy_version) != (
        current.conduct_version,
        current.privacy_version,
    )


def accept_current(session: Session, *, member_id: int, now: datetime, source: str) -> Member:
    """The member accepts the current versions (re-consent on My membership, or in asking to renew: `source`
    "consent" or "renewal"); nothing changes when they already have."""
    member = members.get_member(session, member_id, lock=True)
    if member.erased_at is not None:
        raise MembershipError(Code.WRONG_STATUS, "This membership has ended.", kind=Kind.CONFLICT)
    current = membership_settings(session)
    changes = {
        field: [getattr(member, field), getattr(current, field)]
        for field in ("conduct_version", "privacy_version")
        if getattr(member, field) != getattr(current, field)
    }
    if not changes:
        return member
    for field, (_before, after) in changes.items():
        setattr(member, field, after)
    member.consented_at = now
    member.updated_at = now
    members.record_change(
        session,
        member=member,
        changes=changes,
        actor="The member",
        source="self-service" if source == "consent" else "renewal",
        now=now,
    )
    session.flush()
    audit.record(
        session,
        actor=None,
        action="membership.consent",
        subject=member.membership_number,
        details={"how": source, **{field: after for field, (_before, after) in changes.items()}},
        now=now,
    )
    return member
