"""Setting an election up: the timetable and its states from the clock, eligibility, posts and their
methods, the counting order, and the lock once voting opens. Every change is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import Account
from portal.audit import AuditEvent
from portal.elections import service
from portal.elections.errors import ElectionError
from portal.elections.models import Election


def _create(database, officer, setup, clock):
    with database.session() as s:
        return service.create_election(s, actor=s.get(Account, officer.id), setup=setup, now=clock())


def test_an_election_is_created_and_audited(database, officer, clock, kit):
    election = _create(database, officer, kit.make_setup(clock(), "draft", reminder_days=(1, 3, 3)), clock)
    with database.session() as s:
        saved = s.get(Election, election.id)
        assert saved.reminder_days == "3,1" and saved.reminder_day_list == [3, 1]
        assert saved.statuses == ["active"]
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "election.create"))
        assert event.actor_id == officer.id


def test_the_state_is_computed_from_the_clock(database, officer, clock, kit):
    election = _create(database, officer, kit.make_setup(clock(), "draft"), clock)
    moments = [
        (election.nominations_open_at - timedelta(seconds=1), "draft"),
        (election.nominations_open_at, "nominations"),
        (election.nominations_close_at, "between"),
        (election.voting_open_at, "voting"),
        (election.voting_close_at - timedelta(seconds=1), "voting"),
        (election.voting_close_at, "closed"),
    ]
    assert [election.state(at) for at, _ in moments] == [state for _, state in moments]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"nominations_close_at": "open"}, "nominations_close_at"),
        ({"withdrawal_deadline_at": "before_close"}, "withdrawal_deadline_at"),
        ({"voting_close_at": "at_open"}, "voting_close_at"),
        ({"statuses": ()}, "statuses"),
        ({"statement_word_limit": 10}, "statement_word_limit"),
        ({"reminder_days": (0,)}, "reminder_days"),
    ],
)
def test_a_timetable_out_of_order_or_bad_rules_are_refused(database, officer, clock, kit, change, field):
    base = kit.make_setup(clock(), "draft")
    values = dict(change)
    if values.get("nominations_close_at") == "open":
        values["nominations_close_at"] = base.nominations_open_at
    if values.get("withdrawal_deadline_at") == "before_close":
        values["withdrawal_deadline_at"] = base.nominations_close_at - timedelta(hours=1)
    if values.get("voting_close_at") == "at_open":
        values["voting_close_at"] = base.voting_open_at
    setup = kit.make_setup(clock(), "draft", **values)
    assert field in service.setup_problems(setup)
    with pytest.raises(ElectionError) as refused:
        _create(database, officer, setup, clock)
    assert refused.value.code == "bad_timetable"


def test_posts_are_counted_officers_first_then_by_position(database, officer, clock, kit):
    election = _create(database, officer, kit.make_setup(clock(), "draft"), clock)
    with database.session() as s:
        actor = s.get(Account, officer.id)
        for title, officer_post, position, seats, method in [
            ("Committee member", False, 1, 3, "stv"),
            ("Treasurer", True, 2, 1, "plurality"),
            ("Chair", True, 1, 1, "plurality"),
            ("Co-opted", False, 0, 2, "approval"),
        ]:
            service.add_contest(
                s,
                actor=actor,
                election_id=election.id,
                setup=service.ContestSetup(
                    title=title, officer=officer_post, position=position, seats=seats, method=method
                ),
                now=clock(),
            )
    with database.session() as s:
        order = [c.title for c in s.get(Election, election.id).contests]
    assert order == ["Chair", "Treasurer", "Co-opted", "Committee member"]


def test_a_one_vote_post_has_one_seat_and_names_are_unique(database, officer, clock, kit):
    election = _create(database, officer, kit.make_setup(clock(), "draft"), clock)
    with database.session() as s:
        actor = s.get(Account, officer.id)
        with pytest.raises(ElectionError) as two_seats:
            service.add_contest(
                s,
                actor=actor,
                election_id=election.id,
                setup=service.ContestSetup(title="Chair", seats=2),
                now=clock(),
            )
        assert two_seats.value.code == "bad_value"
        service.add_contest(
            s, actor=actor, election_id=election.id, setup=service.ContestSetup(title="Chair"), now=clock()
        )
        with pytest.raises(ElectionError) as same_name:
            service.add_contest(
                s,
                actor=actor,
                election_id=election.id,
                setup=service.ContestSetup(title="Chair"),
                now=clock(),
            )
        assert same_name.value.code == "bad_value"
        # The transaction is still usable after the refusal.
        service.add_contest(
            s,
            actor=actor,
            election_id=election.id,
            setup=service.ContestSetup(title="Secretary"),
            now=clock(),
        )
    with database.session() as s:
        assert [c.title for c in s.get(Election, election.id).contests] == ["Chair", "Secretary"]


def test_the_structure_is_locked_once_voting_opens(database, officer, clock, kit):
    election = _create(database, officer, kit.make_setup(clock(), "draft"), clock)
    with database.session() as s:
        chair = service.add_contest(
            s,
            actor=s.get(Account, officer.id),
            election_id=election.id,
            setup=service.ContestSetup(title="Chair"),
            now=clock(),
        )
    opened = election.voting_open_at
    with database.session() as s:
        actor = s.get(Account, officer.id)
        attempts = [
            lambda: service.update_election(
                s, actor=actor, election_id=election.id, setup=kit.make_setup(clock(), "draft"), now=opened
            ),
            lambda: service.add_contest(
                s, actor=actor, election_id=election.id, setup=service.ContestSetup(title="New"), now=opened
            ),
            lambda: service.update_contest(
                s,
                actor=actor,
                election_id=election.id,
                contest_id=chair.id,
                setup=service.ContestSetup(title="Chair"),
                now=opened,
            ),
            lambda: service.remove_contest(
                s, actor=actor, election_id=election.id, contest_id=chair.id, now=opened
            ),
        ]
        for attempt in attempts:
            with pytest.raises(ElectionError) as refused:
                attempt()
            assert refused.value.code == "locked"


def test_an_election_can_be_changed_before_voting_opens(database, officer, clock, kit):
    election = _create(database, officer, kit.make_setup(clock(), "draft"), clock)
    with database.session() as s:
        service.update_election(
            s,
            actor=s.get(Account, officer.id),
            election_id=election.id,
            setup=kit.make_setup(clock(), "nominations", title="Renamed", ballot_order="shuffled"),
            now=clock(),
        )
    with database.session() as s:
        saved = s.get(Election, election.id)
        assert (saved.title, saved.ballot_order, saved.state(clock())) == (
            "Renamed",
            "shuffled",
            "nominations",
        )
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "election.update")) is not None


def test_a_post_with_nominations_cannot_be_removed(database, officer, clock, kit):
    world = kit.build_world(database, officer, now=clock())
    with database.session() as s, pytest.raises(ElectionError) as refused:
        service.remove_contest(
            s,
            actor=s.get(Account, officer.id),
            election_id=world.election_id,
            contest_id=world.contests["Chair"],
            now=clock(),
        )
    assert refused.value.code == "bad_value"
