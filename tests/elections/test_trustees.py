"""The election's trustees and key: shares handed out once and deleted, checked before voting can open, and
at the close k valid shares (each named when wrong) open the ballot box; fewer change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import Account
from portal.elections import roll, trustees, voting
from portal.elections.errors import ElectionError
from portal.elections.models import Ballot, Election, PendingBallot, Trustee
from portal.mail.models import OutboxEmail


@pytest.fixture
def world(database, officer, clock, links, key, kit):
    world = kit.build_world(database, officer, now=clock(), voters=3)
    kit.open_world(database, world, now=clock(), links=links, key=key)
    for member_id in world.voters:
        with database.session() as s:
            voting.cast_ballot(
                s,
                election_id=world.election_id,
                member_id=member_id,
                selections={world.contests["Chair"]: [world.choice("Chair", "Adams")]},
                key=key,
                now=clock(),
            )
    return world


def _give(database, world, key, now, given):
    with database.session() as s:
        return voting.open_ballot_box(
            s, actor=None, election_id=world.election_id, shares=given, key=key, now=now
        )


def _state(database, world):
    with database.session() as s:
        election = s.get(Election, world.election_id)
        return (
            election.ballots_hash,
            s.query(Ballot).count(),
            s.query(PendingBallot).count(),
        )


def test_a_share_is_downloaded_once_and_is_then_gone_from_the_database(database, officer, clock, key, kit):
    world = kit.build_world(database, officer, now=clock(), trustees=False)
    kit.make_trustees(database, world, officer, now=clock(), key=key, check=False)
    with database.session() as s:
        assert all(t.share_enc is None and t.downloaded_at for t in s.scalars(select(Trustee)))
        with pytest.raises(ElectionError) as again:
            trustees.download_share(
                s, account_id=officer.id, election_id=world.election_id, key=key, now=clock()
            )
    assert again.value.code == "downloaded"


def test_voting_cannot_open_until_every_trustee_has_checked_their_share(
    database, officer, clock, links, key, kit
):
    world = kit.build_world(database, officer, now=clock(), trustees=False)
    kit.make_trustees(database, world, officer, now=clock(), key=key, check=False)
    with database.session() as s:
        election = s.get(Election, world.election_id)
        election.nominations_close_at = election.withdrawal_deadline_at = clock() - timedelta(hours=1)
    for account_id in world.trustee_ids[:2]:
        with database.session() as s:
            trustees.check_share(
                s,
                account_id=account_id,
                election_id=world.election_id,
                text=world.shares[account_id],
                now=clock(),
            )
    with database.session() as s, pytest.raises(ElectionError) as refused:
        roll.open_voting(
            s,
            actor=s.get(Account, officer.id),
            election_id=world.election_id,
            now=clock(),
            key=key,
            links=links,
        )
    assert refused.value.code == "trustees_not_ready" and "Sue Okafor" in refused.value.message
    # Nor does the clock open it.
    with database.session() as s:
        opens = s.get(Election, world.election_id).voting_open_at + timedelta(minutes=1)
        assert not voting.needs_update(s.get(Election, world.election_id), opens)
        voting.bring_up_to_date(s, election_id=world.election_id, now=opens, key=key, links=links)
        assert s.get(Election, world.election_id).roll_frozen_at is None
    last = world.trustee_ids[2]
    with database.session() as s:
        trustees.check_share(
            s, account_id=last, election_id=world.election_id, text=world.shares[last], now=clock()
        )
    with database.session() as s:
        roll.open_voting(
            s,
            actor=s.get(Account, officer.id),
            election_id=world.election_id,
            now=clock(),
            key=key,
            links=links,
        )
        assert s.get(Election, world.election_id).roll_frozen_at is not None


def test_checking_a_damaged_share_is_refused_and_names_whose_it_was(database, officer, clock, key, kit):
    world = kit.build_world(database, officer, now=clock(), trustees=False)
    kit.make_trustees(database, world, officer, now=clock(), key=key, check=False)
    sam = world.trustee_ids[1]
    text = world.shares[sam]
    line = text.strip().splitlines()[-1]
    damaged = text.replace(line, line[:-1] + ("0" if line[-1] != "0" else "1"))
    with database.session() as s, pytest.raises(ElectionError) as refused:
        trustees.check_share(s, account_id=sam, election_id=world.election_id, text=damaged, now=clock())
    assert refused.value.code == "wrong_share"
    assert (
        refused.value.message
        == "The share given as Scrutineer Sam Patel's does not match the one made for them."
    )


def test_fewer_than_the_threshold_of_shares_cannot_open_the_ballot_box(database, world, key, clock):
    later = clock() + timedelta(days=8)
    before = _state(database, world)
    with pytest.raises(ElectionError) as refused:
        _give(database, world, key, later, [trustees.GivenShare(text=world.share_texts(1)[0])])
    assert refused.value.code == "too_few"
    assert _state(database, world) == before == (None, 0, 3)
    with database.session() as s:
        from portal.elections import results

        with pytest.raises(ElectionError) as count:
            results.run_count(
                s, actor=s.scalars(select(Account)).first(), election_id=world.election_id, now=later, key=key
            )
    assert count.value.code == "not_opened"


def test_a_wrong_share_is_named_and_changes_nothing(database, world, key, clock):
    later = clock() + timedelta(days=8)
    officer_id, sam, sue = world.trustee_ids
    with database.session() as s:
        sams = s.scalar(select(Trustee).where(Trustee.account_id == sam))
        sam_id = sams.id
    # Sue's share given in Sam's place.
    given = [
        trustees.GivenShare(text=world.shares[officer_id]),
        trustees.GivenShare(text=world.shares[sue], trustee_id=sam_id),
    ]
    with pytest.raises(ElectionError) as refused:
        _give(database, world, key, later, given)
    assert refused.value.code == "wrong_share"
    assert (
        refused.value.message
        == "The share given as Scrutineer Sam Patel's does not match the one made for them."
    )
    assert _state(database, world) == (None, 0, 3)


def test_a_share_of_another_election_is_refused(database, officer, world, key, clock, links, kit):
    other = kit.build_world(database, officer, now=clock(), key=key, voters=0)
    later = clock() + timedelta(days=8)
    given = [
        trustees.GivenShare(text=world.share_texts(1)[0]),
        trustees.GivenShare(text=other.share_texts(2)[1]),
    ]
    with pytest.raises(ElectionError) as refused:
        _give(database, world, key, later, given)
    assert refused.value.code == "other_election"
    assert _state(database, world) == (None, 0, 3)


def test_the_ballot_box_cannot_be_opened_before_the_close(database, world, key, clock):
    with pytest.raises(ElectionError) as refused:
        _give(database, world, key, clock(), [trustees.GivenShare(text=t) for t in world.share_texts()])
    assert refused.value.code == "not_closed"


def test_any_two_of_the_three_shares_open_the_ballot_box_and_the_scrutineers_get_the_audit_head(
    database, world, key, clock
):
    later = clock() + timedelta(days=8)
    _, sam, sue = world.trustee_ids
    assert (
        _give(database, world, key, later, [trustees.GivenShare(text=world.shares[i]) for i in (sue, sam)])
        == 3
    )
    with database.session() as s:
        from portal.audit import AuditEvent, chain_head

        closed = s.scalar(select(AuditEvent).where(AuditEvent.action == "election.closed"))
        head = chain_head(s)
        assert head == closed.hash
        sent = s.scalars(select(OutboxEmail).where(OutboxEmail.kind == "elections/chain_head")).all()
        assert sorted(e.to_addr for e in sent) == ["sam.patel@example.org", "sue.okafor@example.org"]
        assert all(head in e.text_body for e in sent)
    with pytest.raises(ElectionError) as again:
        _give(database, world, key, later, [trustees.GivenShare(text=t) for t in world.share_texts()])
    assert again.value.code == "opened"


def test_the_trustees_cannot_change_once_the_key_is_made(database, officer, clock, key, kit):
    world = kit.build_world(database, officer, now=clock(), key=key)
    with database.session() as s, pytest.raises(ElectionError) as refused:
        trustees.name_trustees(
            s,
            actor=s.get(Account, officer.id),
            election_id=world.election_id,
            account_ids=world.trustee_ids[:2],
            threshold=2,
            now=clock(),
        )
    assert refused.value.code == "key_made"


def test_a_threshold_below_two_or_above_the_trustees_is_refused(database, officer, clock, kit):
    world = kit.build_world(database, officer, now=clock(), trustees=False)
    for threshold, ids in ((1, [officer.id]), (3, [officer.id])):
        with database.session() as s, pytest.raises(ElectionError) as refused:
            trustees.name_trustees(
                s,
                actor=s.get(Account, officer.id),
                election_id=world.election_id,
                account_ids=ids,
                threshold=threshold,
                now=clock(),
            )
        assert refused.value.code == "bad_trustees"
