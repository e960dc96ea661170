"""The random CPD audit: staff draw N registrants (members accredited on the day), reproducibly: the pool is
everyone accredited that day in membership-number order, the sample is `random.Random(seed).sample(pool, N)`,
and both the seed and the pool are stored, so the draw can be made again and checked. Each registrant drawn is
asked by e-mail for their log and evidence by the deadline; staff record the outcome."""

from __future__ import annotations

import json
import random
import secrets
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import audit
from portal.accreditation.errors import Code
from portal.accreditation.links import Links
from portal.accreditation.models import AUDIT_OUTCOMES, CpdAudit, CpdAuditMember, Holding
from portal.errors import Invalid, NotFound
from portal.mail import service as mail
from portal.members.models import Member
from portal.society.service import society_name

MAX_SIZE = 1000


def registrants(session: Session, *, today: date) -> list[int]:
    """Member ids of everyone on the roll, active, holding a level on `today`: the audit's pool, in a fixed
    order (membership number, then id)."""
    query = (
        select(Member.id)
        .join(Holding, Holding.member_id == Member.id)
        .where(Member.status == "active", Holding.from_on <= today, Holding.until_on >= today)
        .group_by(Member.id, Member.membership_number)
        .order_by(Member.membership_number, Member.id)
    )
    return list(session.scalars(query))


def sample(pool: list[int], *, seed: int, size: int) -> list[int]:
    """The draw itself: the same pool, seed and size give the same members in the same order."""
    return random.Random(seed).sample(pool, min(size, len(pool)))


def draw(
    session: Session,
    *,
    size: int,
    deadline: date,
    today: date,
    actor: audit.Actor | None,
    now: datetime,
    links: Links,
    seed: int | None = None,
) -> CpdAudit:
    """Draw an audit of `size` registrants (all of them when fewer), store it with its seed and pool, and
    e-mail each one drawn (asking for their log and evidence by the deadline, with a link to the log), in one
    transaction."""
    if not 1 <= size <= MAX_SIZE:
        raise Invalid(Code.BAD_NUMBER, f"Draw from 1 to {MAX_SIZE} registrants.", field="size")
    if deadline <= today:
        raise Invalid(Code.BAD_DATES, "The deadline must be after today.", field="deadline")
    pool = registrants(session, today=today)
    if not pool:
        raise Invalid(
            Code.NO_REGISTRANTS, "Nobody is accredited today, so there is nobody to audit.", field="size"
        )
    seed = secrets.randbelow(2**53) if seed is None else seed
    found = CpdAudit(
        seed=seed,
        size=size,
        pool=json.dumps(pool),
        deadline=deadline,
        drawn_at=now,
        drawn_by=actor.name if actor else "",
    )
    session.add(found)
    session.flush()
    name = society_name(session)
    for position, member_id in enumerate(sample(pool, seed=seed, size=size)):
        session.add(CpdAuditMember(audit_id=found.id, member_id=member_id, position=position))
        member = session.get(Member, member_id)
        if member is not None and member.email:
            mail.enqueue(
                session,
                to=member.email,
                template="accreditation/cpd_audit",
                context={
                    "society_name": name,
                    "name": member.full_name,
                    "deadline": deadline.strftime("%-d %B %Y"),
                    "log_link": links.log(),
                },
                now=now,
            )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="accreditation.cpd_audit_draw",
        subject=f"cpd audit {found.id}",
        details={"seed": seed, "size": size, "pool": len(pool), "deadline": deadline.isoformat()},
        now=now,
    )
    return found


def get_audit(session: Session, audit_id: int) -> CpdAudit:
    found = session.get(CpdAudit, audit_id)
    if found is None:
        raise NotFound("There is no such audit.", Code.NOT_FOUND)
    return found


def drawn(session: Session, *, audit_id: int) -> list[tuple[CpdAuditMember, Member]]:
    """The registrants drawn, in the order of the sample."""
    query = (
        select(CpdAuditMember, Member)
        .join(Member, Member.id == CpdAuditMember.member_id)
        .where(CpdAuditMember.audit_id == audit_id)
        .order_by(CpdAuditMember.position)
    )
    return [(row, member) for row, member in session.execute(query)]


def redraw(found: CpdAudit) -> list[int]:
    """The sample drawn again from the audit's stored seed and pool."""
    return sample(json.loads(found.pool), seed=found.seed, size=found.size)


def record_outcome(
    session: Session, *, audit_id: int, member_id: int, outcome: str, actor: audit.Actor | None, now: datetime
) -> CpdAuditMember:
    if outcome not in AUDIT_OUTCOMES or outcome == "pending":
        raise Invalid(Code.BAD_OUTCOME, "Choose met, not met or an extension.", field="outcome")
    row = session.scalar(
        select(CpdAuditMember).where(
            CpdAuditMember.audit_id == audit_id, CpdAuditMember.member_id == member_id
        )
    )
    if row is None:
        raise NotFound("That member was not drawn for this audit.", Code.NOT_FOUND)
    row.outcome, row.decided_at = outcome, now
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="accreditation.cpd_audit_outcome",
        subject=f"cpd audit {audit_id}",
        details={"member": member_id, "outcome": outcome},
        now=now,
    )
    return row
