"""Ballot secrecy, also against someone holding a copy of the database: the schema cannot join a ballot to a
person, the stored order of ballots does not follow the order of casting beyond a batch, and neither the
request log nor the outbox carries a ballot."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from sqlalchemy import inspect, select, text
from support import login, make_account, post

from portal.db import is_postgres
from portal.elections import voting
from portal.elections.models import Ballot, PendingBallot
from portal.mail.models import OutboxEmail
from portal.members.models import Member

PERSONAL_TABLES = {
    "members",
    "accounts",
    "login_sessions",
    "roll_entries",
    "ballot_links",
    "election_reminders",
}


@pytest.mark.parametrize(
    ("table", "allowed"),
    [
        ("ballots", {"id", "election_id", "tracker", "salt", "contents"}),
        ("pending_ballots", {"id", "election_id", "sealed"}),
    ],
)
def test_ballot_tables_hold_nothing_that_joins_a_ballot_to_a_person_or_a_time(database, table, allowed):
    inspector = inspect(database.engine)
    columns = {c["name"]: c for c in inspector.get_columns(table)}
    assert set(columns) == allowed
    # No timestamps of any kind.
    assert not [
        name
        for name, c in columns.items()
        if "time" in str(c["type"]).lower() or "date" in str(c["type"]).lower()
    ]
    # The only reference is to the election.
    foreign = inspector.get_foreign_keys(table)
    assert [fk["referred_table"] for fk in foreign] == ["elections"]
    assert not {fk["referred_table"] for fk in foreign} & PERSONAL_TABLES
    # Random ids: a 32-character string key, not an integer sequence.
    assert inspector.get_pk_constraint(table)["constrained_columns"] == ["id"]
    assert "CHAR" in str(columns["id"]["type"]).upper()


def test_the_roll_records_that_a_member_voted_not_when(database):
    columns = {c["name"]: c for c in inspect(database.engine).get_columns("roll_entries")}
    assert set(columns) == {"id", "election_id", "member_id", "has_voted", "late"}
    assert not [n for n, c in columns.items() if "time" in str(c["type"]).lower()]


def test_no_table_refers_to_a_ballot(database):
    inspector = inspect(database.engine)
    for table in inspector.get_table_names():
        for fk in inspector.get_foreign_keys(table):
            assert fk["referred_table"] not in ("ballots", "pending_ballots"), table


def _stored_order(session) -> list[str]:
    if is_postgres(session):
        return list(session.scalars(text("SELECT tracker FROM ballots ORDER BY ctid")))
    return list(session.scalars(text("SELECT tracker FROM ballots ORDER BY rowid")))


def _kendall_tau(order: list[int]) -> float:
    n = len(order)
    pairs = n * (n - 1) / 2
    concordant = sum(1 for i in range(n) for j in range(i + 1, n) if order[i] < order[j])
    return (2 * concordant - pairs) / pairs


def test_stored_order_of_ballots_does_not_follow_the_order_of_casting(
    database, officer, clock, links, key, kit
):
    world = kit.build_world(
        database, officer, now=clock(), voters=60, posts=[("Chair", 1, "stv", False, ["A", "B", "C", "D"])]
    )
    kit.open_world(database, world, now=clock(), links=links, key=key)
    rng = random.Random(20261125)
    names = list(world.candidates["Chair"].values())
    cast_order = []
    for i, member_id in enumerate(world.voters):
        ranking = names[i % 4 :] + names[: i % 4]
        with database.session() as session:
            tracker = voting.cast_ballot(
                session,
                election_id=world.election_id,
                member_id=member_id,
                selections={world.contests["Chair"]: ranking[: 1 + i % 4]},
                key=key,
                now=clock(),
            )
        cast_order.append(tracker.replace("-", ""))
        voting.after_cast(database, election_id=world.election_id, key=key, rng=rng)
    with database.session() as session:
        assert (
            voting.ballots_cast(session, world.election_id) == 50
        )  # two full batches; ten wait for the close
        voting.close_pool(
            session, election_id=world.election_id, key=key, now=clock() + timedelta(days=8), rng=rng
        )
    with database.session() as session:
        stored = _stored_order(session)
    assert sorted(stored) == sorted(cast_order)
    for start in (0, 25, 50):
        cast_batch = cast_order[start : start + 25]
        stored_batch = stored[start : start + 25]
        # A batch is the unit of mixing: its members are together, in an order unrelated to casting.
        assert set(stored_batch) == set(cast_batch)
        ranks = [cast_batch.index(t) for t in stored_batch]
        assert ranks != sorted(ranks) and ranks != sorted(ranks, reverse=True)
        assert abs(_kendall_tau(ranks)) < 0.5, ranks


def test_casting_through_the_app_logs_no_ballot_and_emails_no_receipt(
    client, admin, database, officer, clock, links, key, kit, caplog, passwords
):
    caplog.set_level("DEBUG")
    world = kit.build_world(database, officer, now=clock(), voters=2)
    kit.open_world(database, world, now=clock(), links=links, key=key)
    with database.session() as session:
        member = session.get(Member, world.voters[0])
        emails_before = session.scalar(select(OutboxEmail.id).order_by(OutboxEmail.id.desc()).limit(1))
    make_account(database, passwords, email=member.email, name=member.full_name, member_id=member.id)
    login(client, member.email)
    chair = world.contests["Chair"]
    brown = world.choice("Chair", "Brown")
    review = post(client, f"/elections/{world.election_id}/ballot/review", {f"c{chair}": str(brown)})
    assert review.status_code == 200
    receipt = post(client, f"/elections/{world.election_id}/ballot/cast", {f"c{chair}": str(brown)})
    assert receipt.status_code == 200
    tracker = receipt.text.split('class="tracker"')[1].split("<strong>")[1].split("</strong>")[0]
    everything = "\n".join(r.getMessage() for r in caplog.records)
    assert tracker not in everything and tracker.replace("-", "") not in everything
    access = [json.loads(r.getMessage()) for r in caplog.records if r.name == "portal.access"]
    assert access and all(set(line) == {"request_id", "method", "route", "status", "ms"} for line in access)
    cast_line = next(line for line in access if line["route"].endswith("/ballot/cast"))
    assert "{election_id:int}" in cast_line["route"] and cast_line["status"] == 200
    with database.session() as session:
        new = session.scalars(select(OutboxEmail).where(OutboxEmail.id > (emails_before or 0))).all()
        assert not [e for e in new if tracker in e.text_body or tracker.replace("-", "") in e.text_body]
        assert session.scalars(select(PendingBallot)).all()
        assert not session.scalars(select(Ballot)).all()
