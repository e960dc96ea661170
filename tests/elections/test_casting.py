"""Casting a ballot: one member, one vote, in one transaction; the sealed pool; trackers; the close."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.elections import roll, voting
from portal.elections.errors import ElectionError
from portal.elections.models import RON, Ballot, BallotLink, Election, PendingBallot
from portal.elections.secrecy import canonical, tracker_for
from portal.members.models import Member
from portal.web.tokens import token_digest


@pytest.fixture
def world(database, officer, clock, links, key, kit):
    world = kit.build_world(
        database,
        officer,
        now=clock(),
        posts=[
            ("Chair", 1, "plurality", False, ["Adams", "Brown"]),
            ("Committee", 2, "approval", False, ["Clark", "Davis", "Evans"]),
            ("Secretary", 1, "stv", True, ["Ford", "Green"]),
        ],
    )
    kit.open_world(database, world, now=clock(), links=links, key=key)
    return world


def ballot_for(world, **overrides):
    selections = {
        world.contests["Chair"]: [world.choice("Chair", "Adams")],
        world.contests["Committee"]: [world.choice("Committee", "Clark"), world.choice("Committee", "Evans")],
        world.contests["Secretary"]: [world.choice("Secretary", "Green"), RON],
    }
    selections.update(overrides)
    return selections


def cast(database, world, member_id, key, now, selections=None):
    with database.session() as session:
        return voting.cast_ballot(
            session,
            election_id=world.election_id,
            member_id=member_id,
            selections=ballot_for(world) if selections is None else selections,
            key=key,
            now=now,
        )


def test_casting_marks_the_roll_and_puts_one_sealed_ballot_in_the_pool(database, world, key, clock):
    tracker = cast(database, world, world.voters[0], key, clock())
    assert len(tracker) == 11 and tracker[5] == "-"
    with database.session() as s:
        entry = roll.roll_entry(s, election_id=world.election_id, member_id=world.voters[0])
        assert entry.has_voted is True
        pool = s.scalars(select(PendingBallot)).all()
        assert len(pool) == 1
        assert s.query(Ballot).count() == 0
        # Sealed: the contents, the tracker and the candidates' ids are not readable in the row.
        assert tracker.replace("-", "").encode() not in pool[0].sealed
        assert b"Adams" not in pool[0].sealed and b'"RON"' not in pool[0].sealed


def test_a_second_cast_by_the_same_member_is_refused_and_leaves_one_ballot(database, world, key, clock):
    cast(database, world, world.voters[0], key, clock())
    with pytest.raises(ElectionError) as refused:
        cast(database, world, world.voters[0], key, clock())
    assert refused.value.code == "already_voted"
    with database.session() as s:
        assert voting.pool_size(s, world.election_id) == 1


def test_a_member_not_on_the_roll_cannot_vote(database, world, key, clock, kit):
    with database.session() as s:
        late = kit.add_member(s, "LATE1").id
    with pytest.raises(ElectionError) as refused:
        cast(database, world, late, key, clock())
    assert refused.value.code == "not_on_roll"


def test_a_member_who_lapsed_after_the_roll_froze_cannot_vote_and_is_not_marked(database, world, key, clock):
    with database.session() as s:
        member = s.get(Member, world.voters[1])
        member.status = "lapsed"
    with pytest.raises(ElectionError) as refused:
        cast(database, world, world.voters[1], key, clock())
    assert refused.value.code == "not_eligible"
    with database.session() as s:
        assert roll.roll_entry(s, election_id=world.election_id, member_id=world.voters[1]).has_voted is False


def test_a_renewal_date_that_has_passed_stops_a_vote(database, world, key, clock):
    with database.session() as s:
        s.get(Member, world.voters[1]).renewal_on = (clock() - timedelta(days=1)).date()
    with pytest.raises(ElectionError) as refused:
        cast(database, world, world.voters[1], key, clock())
    assert refused.value.code == "not_eligible"


@pytest.mark.parametrize(
    "bad",
    [
        "unknown_candidate",
        "too_many_for_one_seat",
        "too_many_approvals",
        "repeated_preference",
        "unknown_contest",
    ],
)
def test_an_invalid_ballot_is_refused_and_nothing_is_marked(database, world, key, clock, bad):
    chair, committee, secretary = (world.contests[p] for p in ("Chair", "Committee", "Secretary"))
    adams, brown = world.choice("Chair", "Adams"), world.choice("Chair", "Brown")
    selections = {
        "unknown_candidate": {chair: [99999]},
        "too_many_for_one_seat": {chair: [adams, brown]},
        "too_many_approvals": {committee: list(world.candidates["Committee"].values())},
        "repeated_preference": {secretary: [world.choice("Secretary", "Ford")] * 2},
        "unknown_contest": {12345: [adams]},
    }[bad]
    with pytest.raises(ElectionError) as refused:
        cast(database, world, world.voters[0], key, clock(), selections)
    assert refused.value.code == "invalid_ballot"
    with database.session() as s:
        assert roll.roll_entry(s, election_id=world.election_id, member_id=world.voters[0]).has_voted is False


def test_a_blank_contest_is_an_abstention_recorded_as_an_empty_choice(database, world, key, clock, kit):
    cast(
        database,
        world,
        world.voters[0],
        key,
        clock(),
        {world.contests["Chair"]: [world.choice("Chair", "Brown")]},
    )
    kit.close_world(database, world, now=clock() + timedelta(days=8), key=key)
    with database.session() as s:
        ballot = s.scalars(select(Ballot)).one()
    assert ballot.contents == canonical(
        {
            world.contests["Chair"]: [world.choice("Chair", "Brown")],
            world.contests["Committee"]: [],
            world.contests["Secretary"]: [],
        }
    )


def test_the_tracker_is_derived_from_the_salt_and_the_ballot_so_anyone_can_check_it(
    database, world, key, clock, kit
):
    tracker = cast(database, world, world.voters[0], key, clock())
    kit.close_world(database, world, now=clock() + timedelta(days=8), key=key)
    with database.session() as s:
        ballot = s.scalars(select(Ballot)).one()
    assert ballot.tracker == tracker.replace("-", "")
    assert tracker_for(ballot.salt, ballot.contents) == ballot.tracker
    assert ballot.contents == canonical(ballot_for(world))


def test_voting_before_the_window_is_refused(database, officer, clock, key, kit):
    world = kit.build_world(database, officer, now=clock(), key=key)
    with pytest.raises(ElectionError) as refused:
        cast(database, world, world.voters[0], key, clock(), {})
    assert refused.value.code == "not_open"


def test_voting_after_the_close_is_refused(database, world, key, clock):
    with pytest.raises(ElectionError) as refused:
        cast(database, world, world.voters[0], key, clock() + timedelta(days=8))
    assert refused.value.code == "closed"


def test_a_cast_after_the_pool_was_closed_is_refused_even_with_an_early_clock(database, world, key, clock):
    """A request that read the clock before the close but reaches the database after voting was closed."""
    with database.session() as s:
        assert voting.close_voting(s, election_id=world.election_id, now=clock() + timedelta(days=8))
    with pytest.raises(ElectionError) as refused:
        cast(database, world, world.voters[0], key, clock())
    assert refused.value.code == "closed"


def test_the_pool_is_never_emptied_during_voting_however_many_ballots_it_holds(
    database, officer, clock, links, key, kit
):
    world = kit.build_world(database, officer, now=clock(), voters=30)
    kit.open_world(database, world, now=clock(), links=links, key=key)
    choice = {world.contests["Chair"]: [world.choice("Chair", "Adams")]}
    for member_id in world.voters:
        cast(database, world, member_id, key, clock(), choice)
        with database.session() as s:
            voting.bring_up_to_date(s, election_id=world.election_id, now=clock(), key=key, links=links)
    with database.session() as s:
        assert voting.pool_size(s, world.election_id) == 30
        assert voting.ballots_cast(s, world.election_id) == 0


def test_the_clock_closes_voting_but_only_the_trustees_shares_open_the_ballot_box(
    database, world, key, clock, links, kit
):
    cast(database, world, world.voters[0], key, clock())
    cast(database, world, world.voters[1], key, clock())
    later = clock() + timedelta(days=8)
    with database.session() as s:
        assert voting.needs_update(s.get(Election, world.election_id), later)
        voting.bring_up_to_date(s, election_id=world.election_id, now=later, key=key, links=links)
    with database.session() as s:
        election = s.get(Election, world.election_id)
        assert election.pool_closed is True and election.ballots_hash is None
        assert not voting.needs_update(election, later)
        assert voting.ballots_cast(s, world.election_id) == 0
        assert voting.pool_size(s, world.election_id) == 2
    assert kit.close_world(database, world, now=later, key=key) == 2
    with database.session() as s:
        election = s.get(Election, world.election_id)
        assert election.ballots_hash is not None and election.ballots_total == 2
        assert voting.ballots_cast(s, world.election_id) == 2
        assert voting.pool_size(s, world.election_id) == 0


def test_approval_choices_are_stored_sorted_whatever_order_they_were_ticked_in(
    database, world, key, clock, kit
):
    clark, evans = world.choice("Committee", "Clark"), world.choice("Committee", "Evans")
    green = world.choice("Secretary", "Green")
    cast(
        database,
        world,
        world.voters[0],
        key,
        clock(),
        ballot_for(world, **{})
        | {world.contests["Committee"]: [evans, clark], world.contests["Secretary"]: [RON, green]},
    )
    kit.close_world(database, world, now=clock() + timedelta(days=8), key=key)
    with database.session() as s:
        stored = json.loads(s.scalars(select(Ballot)).one().contents)
    assert stored[str(world.contests["Committee"])] == sorted([evans, clark])
    # A ranking is the vote: its order stays.
    assert stored[str(world.contests["Secretary"])] == ["RON", green]


def test_a_ballot_link_belongs_to_one_member_and_one_election(database, world, key, clock):
    with database.session() as s:
        token = roll.issue_ballot_link(
            s, election_id=world.election_id, member_id=world.voters[2], now=clock(), key=key
        )
    with database.session() as s:
        voter = voting.voter_from_link(s, token=token, key=key)
        assert (voter.election_id, voter.member_id) == (world.election_id, world.voters[2])
        # Stored only as its keyed digest.
        digests = s.scalars(select(BallotLink.token_digest)).all()
        assert token_digest(key, token, purpose="ballot") in digests
        assert all(token not in d for d in digests)
    with database.session() as s, pytest.raises(ElectionError) as refused:
        voting.voter_from_link(s, token=token + "x", key=key)
    assert refused.value.code == "bad_link"


def test_voter_status_follows_the_roll_and_the_clock(database, world, key, clock):
    with database.session() as s:
        election = s.get(Election, world.election_id)
        assert voting.voter_status(s, election=election, member_id=world.voters[0], now=clock()) == "can_vote"
    cast(database, world, world.voters[0], key, clock())
    with database.session() as s:
        election = s.get(Election, world.election_id)
        assert voting.voter_status(s, election=election, member_id=world.voters[0], now=clock()) == "voted"
        later = clock() + timedelta(days=8)
        assert voting.voter_status(s, election=election, member_id=world.voters[1], now=later) == "closed"
        assert voting.voter_status(s, election=election, member_id=world.voters[0], now=later) == "voted"


def test_a_cast_reads_the_pool_afresh_even_when_its_session_holds_the_election_from_before_the_close(
    database, world, key, clock
):
    """The session had loaded the election while the pool was open; the close committed since (another
    worker): the cast must see the pool closed, not what the session remembered."""
    session = database.new_session(write=True)
    try:
        with session.begin():
            remembered = session.get(Election, world.election_id)  # held: the identity map keeps it
            assert remembered.pool_closed is False
        with database.session() as other:
            other.get(Election, world.election_id).pool_closed = True
        with pytest.raises(ElectionError) as refused, session.begin():
            voting.cast_ballot(
                session,
                election_id=world.election_id,
                member_id=world.voters[0],
                selections=ballot_for(world),
                key=key,
                now=clock(),
            )
        assert refused.value.code == "closed" and remembered.pool_closed is True
    finally:
        session.close()
    with database.session() as s:
        assert voting.pool_size(s, world.election_id) == 0
