"""Reminders: the scheduled rounds before the close, once per member per round, only to members who have not
voted, each with a fresh ballot link (earlier links keep working); "remind now"; the CLI command."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from support import as_sent

from portal.accounts.models import Account
from portal.audit import AuditEvent
from portal.cli import main
from portal.elections import reminders, voting
from portal.elections.errors import ElectionError
from portal.elections.models import Election, Reminder
from portal.mail.models import OutboxEmail

LINK = re.compile(r"http://testserver/elections/vote/(\S+)")


@pytest.fixture
def voting_world(database, officer, clock, links, key, kit):
    world = kit.build_world(
        database, officer, now=clock(), voters=3, posts=[("Chair", 1, "plurality", False, ["A", "B"])]
    )
    kit.open_world(database, world, now=clock(), links=links, key=key)
    with database.session() as s:
        close = s.get(Election, world.election_id).voting_close_at
    return world, close


def remind(database, now, key, links) -> int:
    with database.session() as s:
        return reminders.send_due_reminders(s, now=now, key=key, links=links)


def reminder_emails(database) -> list[OutboxEmail]:
    with database.session() as s:
        return list(s.scalars(select(OutboxEmail).where(OutboxEmail.kind == "elections/reminder")))


def test_no_reminder_is_due_until_three_days_before_the_close(database, voting_world, key, links):
    world, close = voting_world
    assert remind(database, close - timedelta(days=3, seconds=1), key, links) == 0
    with database.session() as s:
        election = s.get(Election, world.election_id)
        assert reminders.due_round(election, close - timedelta(days=3)) == "3d"
        assert reminders.due_round(election, close - timedelta(hours=23)) == "1d"
        assert reminders.due_round(election, close) is None


def test_a_round_reaches_each_member_who_has_not_voted_once(database, voting_world, key, links, clock):
    world, close = voting_world
    with database.session() as s:
        voting.cast_ballot(
            s, election_id=world.election_id, member_id=world.voters[0], selections={}, key=key, now=clock()
        )
        on_roll = s.get(Election, world.election_id).roll_size
    sent = remind(database, close - timedelta(days=2), key, links)
    assert sent == on_roll - 1
    assert remind(database, close - timedelta(days=2) + timedelta(hours=1), key, links) == 0
    assert "v00000@example.org" not in {e.to_addr for e in reminder_emails(database)}
    # The next round goes to whoever still has not voted.
    assert remind(database, close - timedelta(hours=12), key, links) == on_roll - 1
    with database.session() as s:
        rounds = {r: n for r, n in s.execute(select(Reminder.round, func.count()).group_by(Reminder.round))}
    assert rounds == {"3d": on_roll - 1, "1d": on_roll - 1}


def test_a_reminder_brings_a_fresh_link_and_the_old_one_still_works(
    database, voting_world, key, links, clock
):
    world, close = voting_world
    remind(database, close - timedelta(days=2), key, links)
    with database.session() as s:
        first_link = LINK.search(
            as_sent(
                s.scalar(
                    select(OutboxEmail).where(
                        OutboxEmail.to_addr == "v00001@example.org",
                        OutboxEmail.kind == "elections/ballot_link",
                    )
                )
            ).text
        ).group(1)
    fresh = LINK.search(
        next(as_sent(e).text for e in reminder_emails(database) if e.to_addr == "v00001@example.org")
    ).group(1)
    assert fresh != first_link
    with database.session() as s:
        assert voting.voter_from_link(s, token=first_link, key=key).member_id == world.voters[1]
        assert voting.voter_from_link(s, token=fresh, key=key).member_id == world.voters[1]


def test_a_late_task_sends_only_the_latest_due_round(database, voting_world, key, links):
    _world, close = voting_world
    remind(database, close - timedelta(hours=2), key, links)
    with database.session() as s:
        assert set(s.scalars(select(Reminder.round))) == {"1d"}


def test_two_workers_reminding_at_once_send_each_reminder_once(database, voting_world, key, links):
    world, close = voting_world
    barrier = threading.Barrier(4)
    counts: list[int] = []

    def work() -> None:
        barrier.wait()
        counts.append(remind(database, close - timedelta(days=2), key, links))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    with database.session() as s:
        on_roll = s.get(Election, world.election_id).roll_size
    assert sum(counts) == on_roll == len(reminder_emails(database))


def test_remind_now_sends_a_new_round_and_is_audited(database, voting_world, officer, key, links, clock):
    world, _close = voting_world
    with database.session() as s:
        actor = s.get(Account, officer.id)
        first = reminders.remind_now(
            s, actor=actor, election_id=world.election_id, now=clock(), key=key, links=links
        )
        second = reminders.remind_now(
            s, actor=actor, election_id=world.election_id, now=clock(), key=key, links=links
        )
        assert first == second == s.get(Election, world.election_id).roll_size
        assert set(s.scalars(select(Reminder.round))) == {"manual-1", "manual-2"}
        assert s.scalar(select(func.count()).where(AuditEvent.action == "election.remind")) == 2


def test_remind_now_is_refused_outside_voting(database, officer, clock, key, links, kit):
    world = kit.build_world(database, officer, now=clock())
    with database.session() as s, pytest.raises(ElectionError) as refused:
        reminders.remind_now(
            s,
            actor=s.get(Account, officer.id),
            election_id=world.election_id,
            now=clock(),
            key=key,
            links=links,
        )
    assert refused.value.code == "not_open"


def test_the_cli_freezes_a_due_roll_and_sends_due_reminders(database, officer, db_url, monkeypatch, kit):
    from datetime import UTC, datetime

    from support import SECRET

    now = datetime.now(UTC)
    world = kit.build_world(database, officer, now=now, voters=2)
    with database.session() as s:
        election = s.get(Election, world.election_id)
        election.voting_open_at = now - timedelta(days=5)
        election.voting_close_at = now + timedelta(hours=20)
    monkeypatch.setenv("PORTAL_DATABASE_URL", db_url)
    monkeypatch.setenv("PORTAL_SECRET_KEY", SECRET)
    monkeypatch.setenv("PORTAL_ENV", "test")
    result = CliRunner().invoke(main, ["election", "remind"])
    assert result.exit_code == 0, result.output
    assert "Elections brought up to date: 1. Reminders sent: 0." in result.output
    with database.session() as s:
        election = s.get(Election, world.election_id)
        assert election.roll_frozen_at is not None
        # Two days pass: the reminder one day before the close falls due.
        election.roll_frozen_at = now - timedelta(days=2)
        on_roll = election.roll_size
    result = CliRunner().invoke(main, ["election", "remind"])
    assert f"Elections brought up to date: 0. Reminders sent: {on_roll}." in result.output
    assert all("/elections/vote/" in as_sent(e).text for e in reminder_emails(database))
