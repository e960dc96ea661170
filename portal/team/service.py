"""Committees and their people: what the public sees on Meet the Team, and the staff's changes to it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from portal import audit
from portal.accounts.models import Account
from portal.elections.models import Election
from portal.elections.results import post_results
from portal.errors import Conflict, Invalid, NotFound
from portal.team.errors import Code
from portal.team.models import Committee, TeamMember

#: The committees a fresh portal starts with (the society's current site has these pages).
DEFAULT_COMMITTEES = (
    ("executive-committee", "Executive Committee"),
    ("training-committee", "Training Committee"),
    ("admin-team", "Admin Team"),
)
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: Addresses the team's own pages use: no committee may take them.
RESERVED = frozenset({"manage", "photos"})


def committees(session: Session) -> list[Committee]:
    """Every committee in order, with its people (one query for them all)."""
    return list(
        session.scalars(
            select(Committee)
            .options(selectinload(Committee.people))
            .order_by(Committee.position, Committee.id)
        )
    )


def committee(session: Session, committee_id: int) -> Committee:
    found = session.get(Committee, committee_id)
    if found is None:
        raise NotFound("There is no such committee.", code=Code.NOT_FOUND)
    return found


def committee_by_slug(session: Session, slug: str) -> Committee:
    found = session.scalar(select(Committee).where(Committee.slug == slug))
    if found is None:
        raise NotFound("There is no such committee.", code=Code.NOT_FOUND)
    return found


def person(session: Session, person_id: int) -> TeamMember:
    found = session.get(TeamMember, person_id)
    if found is None:
        raise NotFound("There is no such person on a committee.", code=Code.NOT_FOUND)
    return found


def ensure_defaults(session: Session, *, now: datetime) -> None:
    """The three committees of the society's site, each made if it is missing (a fresh install, the demo)."""
    for position, (slug, name) in enumerate(DEFAULT_COMMITTEES):
        if session.scalar(select(Committee.id).where(Committee.slug == slug)) is None:
            session.add(Committee(slug=slug, name=name, description="", position=position, updated_at=now))
    session.flush()


@dataclass(frozen=True)
class CommitteeData:
    name: str
    slug: str
    description: str


def save_committee(
    session: Session, *, actor: Account, committee_id: int | None, data: CommitteeData, now: datetime
) -> Committee:
    """Add a committee (`committee_id` None) or change one: its name, address and description."""
    if data.slug in RESERVED:
        raise Invalid(
            Code.BAD_SLUG, f"The address “{data.slug}” is used by the portal. Choose another.", field="slug"
        )
    if not SLUG.match(data.slug):
        raise Invalid(
            Code.BAD_SLUG,
            "Use lower-case letters, digits and single hyphens for the address, like executive-committee.",
            field="slug",
        )
    taken = session.scalar(select(Committee.id).where(Committee.slug == data.slug))
    if taken is not None and taken != committee_id:
        raise Conflict(Code.SLUG_TAKEN, "Another committee has that address already.", field="slug")
    if committee_id is None:
        last = session.scalar(select(func.max(Committee.position))) or 0
        found = Committee(position=last + 1)
        session.add(found)
        action = "team.committee_add"
    else:
        found = committee(session, committee_id)
        action = "team.committee_update"
    found.name, found.slug, found.description, found.updated_at = data.name, data.slug, data.description, now
    session.flush()
    audit.record(
        session, actor=actor, action=action, subject=found.name, details={"slug": found.slug}, now=now
    )
    return found


@dataclass(frozen=True)
class PersonData:
    name: str
    post: str
    bio: str
    #: A cleaned JPEG to store, or None to keep the photo as it is (`remove_photo` takes it away).
    photo: bytes | None = None
    remove_photo: bool = False


def _apply(found: TeamMember, data: PersonData, now: datetime) -> None:
    found.name, found.post, found.bio, found.updated_at = data.name, data.post, data.bio, now
    if data.photo is not None:
        found.photo, found.has_photo = data.photo, True
    elif data.remove_photo:
        found.photo, found.has_photo = None, False


def add_person(
    session: Session, *, actor: Account, committee_id: int, data: PersonData, now: datetime
) -> TeamMember:
    target = committee(session, committee_id)
    last = session.scalar(select(func.max(TeamMember.position)).where(TeamMember.committee_id == target.id))
    found = TeamMember(committee_id=target.id, position=(last or 0) + 1)
    _apply(found, data, now)
    session.add(found)
    session.flush()
    session.expire(target, ["people"])
    audit.record(
        session, actor=actor, action="team.person_add", subject=f"{target.name}: {found.name}", now=now
    )
    return found


def update_person(
    session: Session, *, actor: Account, person_id: int, data: PersonData, now: datetime
) -> TeamMember:
    found = person(session, person_id)
    _apply(found, data, now)
    audit.record(
        session,
        actor=actor,
        action="team.person_update",
        subject=f"{found.committee.name}: {found.name}",
        details={"photo": "new" if data.photo else "removed" if data.remove_photo else "kept"},
        now=now,
    )
    return found


def remove_person(session: Session, *, actor: Account, person_id: int, now: datetime) -> Committee:
    found = person(session, person_id)
    target = found.committee
    session.delete(found)
    session.flush()
    session.expire(target, ["people"])
    audit.record(
        session, actor=actor, action="team.person_remove", subject=f"{target.name}: {found.name}", now=now
    )
    return target


def move_person(session: Session, *, actor: Account, person_id: int, up: bool, now: datetime) -> None:
    """Swap a person with the one above (or below) them on their committee's page."""
    found = person(session, person_id)
    people = list(found.committee.people)
    i = people.index(found)
    j = i - 1 if up else i + 1
    if not 0 <= j < len(people):
        return
    for n, member in enumerate(people):
        member.position = n
    people[i].position, people[j].position = j, i
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="team.person_move",
        subject=f"{found.committee.name}: {found.name}",
        details={"to": j + 1},
        now=now,
    )


# --- from a published election --------------------------------------------------------------------------------


def published_elections(session: Session) -> list[Election]:
    return list(
        session.scalars(
            select(Election).where(Election.published_at.is_not(None)).order_by(Election.published_at.desc())
        )
    )


@dataclass(frozen=True)
class Elected:
    name: str
    post: str


def elected(session: Session, election_id: int) -> tuple[Election, list[Elected]]:
    """The candidates a published election elected, with the post each was elected to, in counting order
    (re-opened nominations, where they won, elect nobody)."""
    election = session.get(Election, election_id)
    if election is None or election.published_at is None:
        raise NotFound("There is no published election of that number.", code=Code.NOT_PUBLISHED)
    found = [
        Elected(name=decided.name, post=post.title)
        for post in post_results(session, election.id)
        for decided in post.elected
        if not decided.ron
    ]
    return election, found


def take_elected(
    session: Session, *, actor: Account, committee_id: int, election_id: int, now: datetime
) -> list[TeamMember]:
    """Put a published election's elected candidates on the committee, each with their post. Those who came
    from an earlier election leave it (they were elected for a term); people added by hand stay. A person
    confirms this: nothing calls it when results are published."""
    target = committee(session, committee_id)
    election, winners = elected(session, election_id)
    if not winners:
        raise Conflict(Code.NOTHING_ELECTED, "That election elected nobody to take onto the committee.")
    leaving = [p for p in target.people if p.elected_in_id is not None]
    for member in leaving:
        session.delete(member)
    session.flush()
    last = (
        session.scalar(select(func.max(TeamMember.position)).where(TeamMember.committee_id == target.id)) or 0
    )
    added = []
    for n, winner in enumerate(winners, start=1):
        member = TeamMember(
            committee_id=target.id,
            name=winner.name,
            post=winner.post,
            bio="",
            has_photo=False,
            position=last + n,
            elected_in_id=election.id,
            updated_at=now,
        )
        session.add(member)
        added.append(member)
    session.flush()
    session.expire(target, ["people"])
    audit.record(
        session,
        actor=actor,
        action="team.take_elected",
        subject=f"{target.name}: {election.title}",
        details={"election": election.id, "added": len(added), "left": len(leaving)},
        now=now,
    )
    return added
