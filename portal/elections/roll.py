"""The electoral roll: frozen once, when voting opens, with its size and hash published; late corrections
with a reason; personal ballot links; and turnout.

Freezing is idempotent and safe across workers: a conditional update on the election row
(`roll_frozen_at IS NULL`) lets exactly one transaction do it, whichever request, command or button gets
there first; the others see that it is done.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.models import Account
from portal.db import rowcount
from portal.elections.errors import Code, ElectionError
from portal.elections.links import Links
from portal.elections.models import BallotLink, Election, RollCorrection, RollEntry
from portal.elections.service import eligible_members, get_election, mail_context
from portal.elections.trustees import not_ready_reason
from portal.errors import Kind
from portal.mail.service import enqueue
from portal.members.models import Member
from portal.web.tokens import new_token, token_digest


def roll_hash(membership_numbers: Iterable[str]) -> str:
    """SHA-256 of the sorted membership numbers, one per line (UTF-8, "\\n" between, none at the end).
    Anyone with the list can check it: `printf '%s' "$(LC_ALL=C sort numbers.txt)" | sha256sum`."""
    return hashlib.sha256("\n".join(sorted(membership_numbers)).encode()).hexdigest()


def issue_ballot_link(
    session: Session, *, election_id: int, member_id: int, now: datetime, key: bytes
) -> str:
    """A new personal ballot link; earlier links keep working (each can cast once, because the roll decides)."""
    token = new_token()
    session.add(
        BallotLink(
            election_id=election_id,
            member_id=member_id,
            token_digest=token_digest(key, token, purpose="ballot"),
            created_at=now,
        )
    )
    return token


def send_ballot_link(
    session: Session,
    *,
    election: Election,
    member: Member,
    now: datetime,
    key: bytes,
    links: Links,
    template: str,
) -> bool:
    if not member.email:
        return False
    token = issue_ballot_link(session, election_id=election.id, member_id=member.id, now=now, key=key)
    enqueue(
        session,
        to=member.email,
        template=template,
        context=mail_context(
            session,
            election,
            member=member,
            election_link=links.election(election.id),
        ),
        now=now,
        secrets={"link": links.ballot(token)},
        key=key,
    )
    return True


def freeze_roll(
    session: Session,
    *,
    election_id: int,
    now: datetime,
    key: bytes,
    links: Links,
    actor: Account | None = None,
) -> bool:
    """Freeze the roll if voting has opened and no one has frozen it yet; e-mail every member on it their
    ballot link. Returns whether this call froze it. Voting never opens before every trustee has checked
    their share (`trustees.not_ready_reason`): until then the clock does nothing and `open_voting` refuses."""
    election = get_election(session, election_id)
    if now < election.voting_open_at or election.roll_frozen_at is not None:
        return False
    if election.trustees_ready_at is None or election.public_key is None:
        return False
    claimed = session.execute(
        update(Election)
        .where(Election.id == election.id, Election.roll_frozen_at.is_(None))
        .values(roll_frozen_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(claimed) != 1:
        session.refresh(election)
        return False
    session.refresh(election)
    members = eligible_members(session, election, now=now)
    session.add_all(
        RollEntry(election_id=election.id, member_id=m.id, has_voted=False, late=False) for m in members
    )
    election.roll_size = len(members)
    election.roll_hash = roll_hash(m.membership_number for m in members)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="election.roll_frozen",
        subject=f"election {election.id}: {election.title}",
        details={"size": election.roll_size, "sha256": election.roll_hash},
        now=now,
    )
    if now < election.voting_close_at:
        for member in members:
            send_ballot_link(
                session,
                election=election,
                member=member,
                now=now,
                key=key,
                links=links,
                template="elections/ballot_link",
            )
    session.flush()
    return True


def open_voting(
    session: Session, *, actor: Account, election_id: int, now: datetime, key: bytes, links: Links
) -> Election:
    """The returning officer opens voting now (nominations must have closed): the roll freezes at once."""
    election = get_election(session, election_id, lock=True)
    if election.roll_frozen_at is not None:
        return election
    if now < election.nominations_close_at or now < election.withdrawal_deadline_at:
        raise ElectionError(
            Code.TOO_EARLY,
            "Voting can open only after nominations and withdrawals have closed.",
            kind=Kind.CONFLICT,
        )
    reason = not_ready_reason(session, election)
    if reason is not None:
        raise ElectionError(Code.TRUSTEES_NOT_READY, reason, kind=Kind.CONFLICT)
    if now < election.voting_open_at:
        audit.record(
            session,
            actor=actor,
            action="election.open_voting",
            subject=f"election {election.id}: {election.title}",
            details={"scheduled": election.voting_open_at, "opened": now},
            now=now,
        )
        election.voting_open_at = now
        session.flush()
    freeze_roll(session, election_id=election.id, now=now, key=key, links=links, actor=actor)
    return election


@dataclass(frozen=True)
class RollSummary:
    frozen_size: int
    frozen_hash: str
    size: int
    hash: str
    corrections: int


def summary(session: Session, election: Election) -> RollSummary | None:
    """The roll as frozen and as it stands after late corrections, for members to see."""
    if election.roll_frozen_at is None:
        return None
    numbers = session.scalars(
        select(Member.membership_number)
        .join(RollEntry, RollEntry.member_id == Member.id)
        .where(RollEntry.election_id == election.id)
    ).all()
    corrections = session.scalar(
        select(func.count()).select_from(RollCorrection).where(RollCorrection.election_id == election.id)
    )
    return RollSummary(
        frozen_size=election.roll_size or 0,
        frozen_hash=election.roll_hash or "",
        size=len(numbers),
        hash=roll_hash(numbers),
        corrections=corrections or 0,
    )


def correct_roll(
    session: Session,
    *,
    actor: Account,
    election_id: int,
    member_id: int,
    action: str,
    reason: str,
    now: datetime,
    key: bytes,
    links: Links,
) -> RollCorrection:
    """Add a member to the frozen roll (they get a ballot link) or remove one who has not voted."""
    election = get_election(session, election_id)
    if election.roll_frozen_at is None:
        raise ElectionError(
            Code.NOT_OPEN, "The roll is frozen when voting opens; correct it after that.", kind=Kind.CONFLICT
        )
    if election.state(now) == "closed":
        raise ElectionError(
            Code.CLOSED, "Voting has closed: the roll can no longer be corrected.", kind=Kind.CONFLICT
        )
    reason = reason.strip()
    if not reason:
        raise ElectionError(Code.REASON_REQUIRED, "Give the reason for the correction.", kind=Kind.INVALID)
    member = session.get(Member, member_id)
    if member is None:
        raise ElectionError(Code.NOT_FOUND, "There is no such member.", kind=Kind.NOT_FOUND)
    if action == "add":
        try:
            # Added inside the savepoint: begin_nested() flushes what is pending before it starts.
            with session.begin_nested():
                session.add(
                    RollEntry(election_id=election.id, member_id=member.id, has_voted=False, late=True)
                )
                session.flush()
        except IntegrityError:
            raise ElectionError(
                Code.ALREADY_ON_ROLL, f"{member.full_name} is already on the roll.", kind=Kind.CONFLICT
            ) from None
        send_ballot_link(
            session,
            election=election,
            member=member,
            now=now,
            key=key,
            links=links,
            template="elections/ballot_link",
        )
    elif action == "remove":
        removed = session.execute(
            delete(RollEntry)
            .where(
                RollEntry.election_id == election.id,
                RollEntry.member_id == member.id,
                RollEntry.has_voted.is_(False),
            )
            .execution_options(synchronize_session=False)
        )
        if rowcount(removed) != 1:
            on_roll = session.scalar(
                select(RollEntry.id).where(
                    RollEntry.election_id == election.id, RollEntry.member_id == member.id
                )
            )
            if on_roll is None:
                raise ElectionError(
                    Code.NOT_ON_ROLL, f"{member.full_name} is not on the roll.", kind=Kind.CONFLICT
                )
            raise ElectionError(
                Code.ALREADY_VOTED, f"{member.full_name} has already voted.", kind=Kind.CONFLICT
            )
    else:
        raise ElectionError(Code.BAD_VALUE, "Choose whether to add or remove.", kind=Kind.INVALID)
    correction = RollCorrection(
        election_id=election.id,
        member_id=member.id,
        action=action,
        reason=reason,
        actor=audit.actor_label(actor),
        at=now,
    )
    session.add(correction)
    audit.record(
        session,
        actor=actor,
        action=f"election.roll_{action}",
        subject=f"election {election.id}: {member.membership_number}",
        details={"reason": reason},
        now=now,
    )
    session.flush()
    return correction


def entries(session: Session, election_id: int) -> list[tuple[RollEntry, Member]]:
    """Who is on the roll and whether they have voted (never how, never when)."""
    return [
        (entry, member)
        for entry, member in session.execute(
            select(RollEntry, Member)
            .join(Member, Member.id == RollEntry.member_id)
            .where(RollEntry.election_id == election_id)
            .order_by(Member.last_name, Member.first_name, Member.membership_number)
        ).all()
    ]


def corrections(session: Session, election_id: int) -> list[tuple[RollCorrection, Member]]:
    return [
        (c, m)
        for c, m in session.execute(
            select(RollCorrection, Member)
            .join(Member, Member.id == RollCorrection.member_id)
            .where(RollCorrection.election_id == election_id)
            .order_by(RollCorrection.id)
        ).all()
    ]


def roll_entry(session: Session, *, election_id: int, member_id: int) -> RollEntry | None:
    return session.scalar(
        select(RollEntry).where(RollEntry.election_id == election_id, RollEntry.member_id == member_id)
    )


@dataclass(frozen=True)
class TurnoutRow:
    label: str
    total: int
    voted: int

    @property
    def percent(self) -> float:
        return round(100 * self.voted / self.total, 1) if self.total else 0.0


@dataclass(frozen=True)
class Turnout:
    total: TurnoutRow
    by_category: list[TurnoutRow]


def turnout(session: Session, election_id: int, *, category_labels: dict[str, str] | None = None) -> Turnout:
    labels = category_labels or {}
    voted = func.sum(case((RollEntry.has_voted.is_(True), 1), else_=0))
    rows = session.execute(
        select(Member.category, func.count(), voted)
        .join(RollEntry, RollEntry.member_id == Member.id)
        .where(RollEntry.election_id == election_id)
        .group_by(Member.category)
        .order_by(Member.category)
    ).all()
    by_category = [TurnoutRow(labels.get(c, c), int(t), int(v or 0)) for c, t, v in rows]
    total = TurnoutRow("Everyone", sum(r.total for r in by_category), sum(r.voted for r in by_category))
    return Turnout(total=total, by_category=by_category)
