"""The roll: who is eligible, frozen once when voting opens (from any request, command or button, even at
the same moment), its published size and hash, and late corrections with a reason."""

from __future__ import annotations

import hashlib
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from support import as_sent

from portal.accounts.models import Account
from portal.audit import AuditEvent
from portal.elections import roll, service, voting
from portal.elections.errors import ElectionError
from portal.elections.models import BallotLink, Election, RollCorrection, RollEntry
from portal.mail.models import OutboxEmail


def _roll_numbers(session, election_id) -> list[str]:
    return sorted(m.membership_number for _e, m in roll.entries(session, election_id))


def test_the_roll_hash_is_sha256_over_the_sorted_membership_numbers():
    assert roll.roll_hash(["B2", "A1", "C3"]) == hashlib.sha256(b"A1\nB2\nC3").hexdigest()


def test_eligibility_follows_status_category_accreditation_and_good_standing(database, clock, kit):
    today = clock().date()
    with database.session() as s:
        kit.add_member(s, "OK1", category="basic", accreditation="supervisor")
        kit.add_member(s, "LAPSED", status="lapsed", accreditation="supervisor")
        kit.add_member(s, "TRAINEE", category="trainee", accreditation="supervisor")
        kit.add_member(s, "NOACC", accreditation="none")
        kit.add_member(s, "EXPIRED", accreditation="supervisor", renewal_on=today - timedelta(days=1))
        kit.add_member(s, "RENEWS", accreditation="supervisor", renewal_on=today + timedelta(days=30))
        election = Election(created_at=clock(), pool_closed=False, manual_reminders=0, tracker_public=False)
        service._apply(
            election,
            kit.make_setup(
                clock(), "voting", categories=("basic",), accreditations=("supervisor", "trainer")
            ),
        )
        s.add(election)
        s.flush()
        found = [m.membership_number for m in service.eligible_members(s, election, now=clock())]
    assert found == ["OK1", "RENEWS"]


def test_the_roll_freezes_once_with_its_size_hash_and_a_ballot_link_for_everyone(
    database, officer, clock, links, key, kit
):
    world = kit.build_world(database, officer, now=clock(), voters=3)
    kit.open_world(database, world, now=clock(), links=links, key=key)
    with database.session() as s:
        election = s.get(Election, world.election_id)
        numbers = _roll_numbers(s, world.election_id)
        assert election.roll_frozen_at == clock()
        assert election.roll_size == len(numbers) == 3 + 3 * 2
        assert election.roll_hash == roll.roll_hash(numbers)
        links_sent = s.scalars(select(OutboxEmail).where(OutboxEmail.kind == "elections/ballot_link")).all()
        assert sorted(e.to_addr for e in links_sent) == sorted(f"{n.lower()}@example.org" for n in numbers)
        assert s.scalar(select(func.count()).select_from(BallotLink)) == len(numbers)
        assert all("/elections/vote/" in as_sent(e).text for e in links_sent)
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "election.roll_frozen")) is not None
        # Freezing again changes nothing and sends nothing.
        assert (
            roll.freeze_roll(
                s, election_id=world.election_id, now=clock() + timedelta(hours=1), key=key, links=links
            )
            is False
        )
        assert s.scalar(select(func.count()).select_from(OutboxEmail)) == len(numbers)


def test_a_member_who_joins_after_the_freeze_is_not_on_the_roll(database, officer, clock, links, key, kit):
    world = kit.build_world(database, officer, now=clock(), voters=1)
    kit.open_world(database, world, now=clock(), links=links, key=key)
    with database.session() as s:
        newcomer = kit.add_member(s, "NEW1")
        election = s.get(Election, world.election_id)
        assert voting.voter_status(s, election=election, member_id=newcomer.id, now=clock()) == "not_on_roll"


def test_a_member_lapsed_by_the_clock_and_a_category_that_cannot_vote_are_left_off_a_roll_frozen_after(
    database, officer, clock, links, key, kit
):
    """Lapsed is computed from the clock: the status on the roll still says active, but the renewal date and
    the grace period have passed by the time voting opens. A category whose terms say it cannot vote is never
    on a roll, whatever the election's own rule."""
    from portal.members.models import MemberCategory

    world = kit.build_world(database, officer, now=clock(), voters=1)
    with database.session() as s:
        opens = s.get(Election, world.election_id).voting_open_at
        kit.add_member(s, "PAIDUP", renewal_on=opens.date() + timedelta(days=200))
        kit.add_member(s, "LAPSES", renewal_on=opens.date() - timedelta(days=45))
        kit.add_member(s, "ORG1", category="organisation", renewal_on=opens.date() + timedelta(days=200))
        found = s.scalar(select(MemberCategory).where(MemberCategory.code == "organisation"))
        if found is None:
            s.add(MemberCategory(code="organisation", label="Organisation", position=5, can_vote=False))
        else:
            found.can_vote = False
    kit.open_world(database, world, now=opens, links=links, key=key)
    with database.session() as s:
        numbers = _roll_numbers(s, world.election_id)
    assert "PAIDUP" in numbers
    assert "LAPSES" not in numbers
    assert "ORG1" not in numbers


def test_the_first_request_after_voting_opens_freezes_the_roll(database, officer, clock, links, key, kit):
    world = kit.build_world(database, officer, now=clock(), voters=2)
    with database.session() as s:
        election = s.get(Election, world.election_id)
        opens = election.voting_open_at
        assert not voting.needs_update(election, clock())
        assert voting.needs_update(election, opens)
        voting.bring_up_to_date(s, election_id=world.election_id, now=opens, key=key, links=links)
        assert election.roll_frozen_at == opens


def test_freezing_at_the_same_moment_from_many_workers_makes_one_roll(
    database, officer, clock, links, key, kit
):
    world = kit.build_world(database, officer, now=clock(), voters=5)
    with database.session() as s:
        opens = s.get(Election, world.election_id).voting_open_at
    barrier = threading.Barrier(8)
    results: list[object] = []

    def freeze() -> None:
        barrier.wait()
        try:
            with database.session() as s:
                results.append(
                    roll.freeze_roll(s, election_id=world.election_id, now=opens, key=key, links=links)
                )
        except Exception as exc:  # shown by the assertion
            results.append(exc)

    threads = [threading.Thread(target=freeze) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results, key=str) == [False] * 7 + [True]
    with database.session() as s:
        entries = s.scalar(select(func.count()).select_from(RollEntry))
        assert entries == s.get(Election, world.election_id).roll_size == 5 + 2 * 3
        assert s.scalar(select(func.count()).select_from(OutboxEmail)) == entries


def test_the_returning_officer_can_open_voting_early_once_nominations_have_closed(
    database, officer, clock, links, key, kit
):
    world = kit.build_world(database, officer, now=clock())
    with database.session() as s:
        actor = s.get(Account, officer.id)
        roll.open_voting(s, actor=actor, election_id=world.election_id, now=clock(), key=key, links=links)
        election = s.get(Election, world.election_id)
        assert election.voting_open_at == clock() and election.roll_frozen_at == clock()
        assert election.state(clock()) == "voting"
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "election.open_voting")) is not None


def test_voting_cannot_be_opened_while_nominations_are_open(database, officer, clock, links, key, kit):
    with database.session() as s:
        actor = s.get(Account, officer.id)
        election = service.create_election(
            s, actor=actor, setup=kit.make_setup(clock(), "nominations"), now=clock()
        )
    with database.session() as s, pytest.raises(ElectionError) as refused:
        roll.open_voting(
            s, actor=s.get(Account, officer.id), election_id=election.id, now=clock(), key=key, links=links
        )
    assert refused.value.code == "too_early"


@pytest.fixture
def frozen(database, officer, clock, links, key, kit):
    world = kit.build_world(database, officer, now=clock(), voters=2)
    kit.open_world(database, world, now=clock(), links=links, key=key)
    return world


def _correct(database, officer, world, member_id, action, reason, clock, links, key):
    with database.session() as s:
        return roll.correct_roll(
            s,
            actor=s.get(Account, officer.id),
            election_id=world.election_id,
            member_id=member_id,
            action=action,
            reason=reason,
            now=clock(),
            key=key,
            links=links,
        )


def test_a_late_addition_needs_a_reason_is_audited_and_sends_a_ballot_link(
    database, officer, frozen, clock, links, key, kit
):
    with database.session() as s:
        late = kit.add_member(s, "LATE1").id
    with pytest.raises(ElectionError) as refused:
        _correct(database, officer, frozen, late, "add", "  ", clock, links, key)
    assert refused.value.code == "reason_required"
    _correct(database, officer, frozen, late, "add", "Renewal paid on time; office error", clock, links, key)
    with database.session() as s:
        entry = roll.roll_entry(s, election_id=frozen.election_id, member_id=late)
        assert entry.late is True and entry.has_voted is False
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "election.roll_add"))
        assert "office error" in event.details and "LATE1" in event.subject
        assert s.scalar(select(OutboxEmail).where(OutboxEmail.to_addr == "late1@example.org")) is not None
        summary = roll.summary(s, s.get(Election, frozen.election_id))
        assert summary.size == summary.frozen_size + 1 and summary.corrections == 1
        assert summary.hash == roll.roll_hash(_roll_numbers(s, frozen.election_id)) != summary.frozen_hash
    with pytest.raises(ElectionError) as again:
        _correct(database, officer, frozen, late, "add", "twice", clock, links, key)
    assert again.value.code == "already_on_roll"


def test_a_member_who_has_not_voted_can_be_removed_but_one_who_has_cannot(
    database, officer, frozen, clock, links, key
):
    voter, other = frozen.voters
    with database.session() as s:
        voting.cast_ballot(
            s, election_id=frozen.election_id, member_id=voter, selections={}, key=key, now=clock()
        )
    with pytest.raises(ElectionError) as refused:
        _correct(database, officer, frozen, voter, "remove", "Resigned before the vote", clock, links, key)
    assert refused.value.code == "already_voted"
    _correct(database, officer, frozen, other, "remove", "Resigned before the vote", clock, links, key)
    with database.session() as s:
        assert roll.roll_entry(s, election_id=frozen.election_id, member_id=other) is None
        assert s.scalar(select(RollCorrection.reason)) == "Resigned before the vote"
        election = s.get(Election, frozen.election_id)
        assert voting.voter_status(s, election=election, member_id=other, now=clock()) == "not_on_roll"


def test_turnout_counts_who_has_voted_by_category(database, officer, clock, links, key, kit):
    world = kit.build_world(database, officer, now=clock(), voters=0)
    with database.session() as s:
        ids = [kit.add_member(s, f"T{i}", category="trainee" if i < 2 else "basic").id for i in range(4)]
    kit.open_world(database, world, now=clock(), links=links, key=key)
    for member_id in (ids[0], ids[2], ids[3]):
        with database.session() as s:
            voting.cast_ballot(
                s, election_id=world.election_id, member_id=member_id, selections={}, key=key, now=clock()
            )
    with database.session() as s:
        figures = roll.turnout(s, world.election_id, category_labels={"trainee": "Trainee", "basic": "Basic"})
    by = {row.label: (row.voted, row.total) for row in figures.by_category}
    assert by == {"Basic": (2, 2 + 6), "Trainee": (1, 2)}
    assert (figures.total.voted, figures.total.total) == (3, 10)
    assert figures.total.percent == 30.0


def test_good_standing_uses_the_uk_date(database, clock, kit):
    """A renewal date is a UK date: at 23:30 UTC on 31 May it is already 1 June in London (summer time)."""
    from datetime import UTC, datetime

    with database.session() as s:
        member = kit.add_member(s, "UKDATE", renewal_on=date(2027, 5, 31))
        election = Election(created_at=clock(), pool_closed=False, manual_reminders=0, tracker_public=False)
        service._apply(election, kit.make_setup(clock(), "voting"))
        assert service.is_eligible(election, member, now=datetime(2027, 5, 31, 22, 30, tzinfo=UTC)) is True
        assert service.is_eligible(election, member, now=datetime(2027, 5, 31, 23, 30, tzinfo=UTC)) is False
