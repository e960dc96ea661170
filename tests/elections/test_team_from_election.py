"""A published election's elected candidates go onto a committee with their posts, when a person confirms it:
those from an earlier election leave, people added by hand stay, re-opened nominations elect nobody."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import results_kit as rk
from sqlalchemy import select
from support import login, make_account, post

from portal.errors import PortalError
from portal.team import service as team
from portal.team.models import Committee, TeamMember

POSTS = [
    ("Chair", 1, "stv", True, ["Adams", "Brown"]),
    ("Committee", 2, "stv", True, ["Clark", "Davis", "Evans"]),
]
BALLOTS = [
    {"Chair": ["Adams"], "Committee": ["Clark", "Davis"]},
    {"Chair": ["Adams"], "Committee": ["Davis", "Clark"]},
    {"Chair": ["Brown"], "Committee": ["Clark"]},
]


def _published(database, officer, kit, clock, key, links):
    world = rk.closed_election(
        database, officer, kit, clock=clock, key=key, links=links, posts=POSTS, ballots=BALLOTS
    )
    rk.count(database, officer, world, clock=clock, key=key)
    rk.publish(database, officer, world, clock=clock, key=key)
    return world


def _people(database, committee_id):
    with database.session() as s:
        return [
            (p.name, p.post, p.elected_in_id is not None)
            for p in s.scalars(
                select(TeamMember)
                .where(TeamMember.committee_id == committee_id)
                .order_by(TeamMember.position)
            )
        ]


def test_the_office_takes_the_elected_onto_the_committee_after_seeing_who_joins_and_leaves(
    database, officer, kit, clock, key, links, client, passwords, admin
):
    world = _published(database, officer, kit, clock, key, links)
    make_account(database, passwords, email="office@example.org", roles="office", name="Owen Office")
    with database.session() as s:
        team.ensure_defaults(s, now=clock())
    with database.session() as s:
        executive = s.scalar(select(Committee).where(Committee.slug == "executive-committee"))
        s.add(
            TeamMember(
                committee_id=executive.id,
                name="Old Elected",
                post="Chair",
                bio="",
                has_photo=False,
                position=1,
                elected_in_id=world.election_id,
                updated_at=datetime(2025, 1, 1, tzinfo=UTC),
            )
        )
        s.add(
            TeamMember(
                committee_id=executive.id,
                name="Co Opted",
                post="Co-opted member",
                bio="",
                has_photo=False,
                position=2,
                updated_at=datetime(2025, 1, 1, tzinfo=UTC),
            )
        )
        committee_id = executive.id
    login(client, "office@example.org")
    edit = client.get(f"/team/manage/{committee_id}")
    assert "From an election" in edit.text
    preview = client.get(f"/team/manage/{committee_id}/from-election/{world.election_id}")
    assert preview.status_code == 200
    assert "Cand Adams</strong>, Chair" in preview.text
    assert "Old Elected" in preview.text  # told who leaves
    assert _people(database, committee_id) == [
        ("Old Elected", "Chair", True),
        ("Co Opted", "Co-opted member", False),
    ]
    taken = post(client, f"/team/manage/{committee_id}/from-election/{world.election_id}", {})
    assert taken.status_code == 303
    assert _people(database, committee_id) == [
        ("Co Opted", "Co-opted member", False),
        ("Cand Adams", "Chair", True),
        ("Cand Clark", "Committee", True),
        ("Cand Davis", "Committee", True),
    ]


def test_an_unpublished_election_gives_nobody(database, officer, kit, clock, key, links):
    world = rk.closed_election(
        database, officer, kit, clock=clock, key=key, links=links, posts=POSTS, ballots=BALLOTS
    )
    with database.session() as s, pytest.raises(PortalError) as refused:
        team.elected(s, world.election_id)
    assert refused.value.code == team.Code.NOT_PUBLISHED
