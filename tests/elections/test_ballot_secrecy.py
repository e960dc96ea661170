"""Ballot secrecy, also against someone holding a copy of the database and the secret key: the schema cannot
join a ballot to a person; during voting no ballot can be opened or counted; after the close neither a
transaction id, a row order nor any column ties a ballot to a roll entry; and neither the request log nor
the outbox carries a ballot."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import timedelta

import pytest
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import inspect, select, text
from support import login, make_account, post

from portal.db import is_postgres
from portal.elections import results, voting
from portal.elections.errors import ElectionError
from portal.elections.models import Ballot, PendingBallot
from portal.elections.secrecy import derived_key, unseal
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


def _cast_one_by_one(database, world, key, clock) -> list[str]:
    """Each voter casts in their own transaction, in order; returns the trackers in casting order."""
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
    return cast_order


def _copy_of_every_table(database) -> dict[str, list[dict]]:
    """What a thief takes: every row of every table (SQLite: through the backup API into a fresh file)."""
    if database.engine.dialect.name == "sqlite":
        source = database.engine.raw_connection()
        target = sqlite3.connect(":memory:")
        try:
            source.driver_connection.backup(target)
        finally:
            source.close()
        copy = sa.create_engine("sqlite://", creator=lambda: target, poolclass=sa.pool.StaticPool)
    else:
        copy = database.engine
    metadata = sa.MetaData()
    metadata.reflect(copy)
    with copy.connect() as conn:
        return {
            name: [dict(row._mapping) for row in conn.execute(table.select())]
            for name, table in metadata.tables.items()
        }


def _every_key_derivable(key: bytes, election_ids: list[int], trustee_rows: list[dict]) -> list[bytes]:
    """The secret key itself and every key the portal derives from it (and the old pool key)."""
    purposes = ["ballots-fingerprint", "ballot-pool", "ballots", "election-key"]
    for election_id in election_ids:
        purposes += [f"election:{election_id}", f"portal-ballot:election:{election_id}"]
        purposes += [
            f"trustee-share:election:{election_id}:position:{row['position']}" for row in trustee_rows
        ]
    keys = [key[:32].ljust(32, b"\0"), hashlib.sha256(key).digest()]
    keys += [derived_key(key, purpose) for purpose in purposes]
    keys += [
        HKDF(algorithm=SHA256(), length=32, salt=b"portal-ballot-pool", info=f"election:{e}".encode()).derive(
            key
        )
        for e in election_ids
    ]
    return keys


def _opens(candidate: bytes, election_id: int, sealed: bytes) -> bool:
    attempts = [lambda: unseal(candidate, election_id, sealed)]
    for offset in (0, 32):
        nonce, body = sealed[offset : offset + 12], sealed[offset + 12 :]
        for aad in (f"election:{election_id}".encode(), None):
            attempts.append(
                lambda nonce=nonce, body=body, aad=aad: AESGCM(candidate).decrypt(nonce, body, aad)
            )
    for attempt in attempts:
        try:
            attempt()
        except (InvalidTag, ValueError):
            continue
        return True
    return False


def test_a_database_copy_taken_during_voting_with_the_secret_key_opens_no_ballot_and_counts_nothing(
    database, officer, clock, links, key, kit
):
    world = kit.build_world(
        database, officer, now=clock(), voters=12, posts=[("Chair", 1, "stv", False, ["A", "B", "C", "D"])]
    )
    kit.open_world(database, world, now=clock(), links=links, key=key)
    _cast_one_by_one(database, world, key, clock)
    copy = _copy_of_every_table(database)
    # Nothing is counted during voting: the ballots table is empty, every ballot is sealed in the pool,
    # and no trustee's share is left in the database (each was downloaded, so deleted, before voting).
    assert copy["ballots"] == []
    assert len(copy["pending_ballots"]) == 12
    assert [row["share_enc"] for row in copy["election_trustees"]] == [None, None, None]
    keys = _every_key_derivable(key, [world.election_id], copy["election_trustees"])
    for row in copy["pending_ballots"]:
        assert not [k for k in keys if _opens(k, world.election_id, bytes(row["sealed"]))]
    # The stored public key does not open them either (it is public), and the count is refused.
    public = bytes.fromhex(copy["elections"][0]["public_key"])
    assert not _opens(public, world.election_id, bytes(copy["pending_ballots"][0]["sealed"]))
    with database.session() as session, pytest.raises(ElectionError) as refused:
        results.tally(session, election_id=world.election_id, now=clock() + timedelta(days=8))
    assert refused.value.code == "not_opened"


def test_after_the_close_no_transaction_id_or_row_order_links_a_ballot_to_a_roll_entry(
    database, officer, clock, links, key, kit
):
    world = kit.build_world(
        database, officer, now=clock(), voters=40, posts=[("Chair", 1, "stv", False, ["A", "B", "C", "D"])]
    )
    kit.open_world(database, world, now=clock(), links=links, key=key)
    cast_order = _cast_one_by_one(database, world, key, clock)
    with database.session() as session:
        postgres = is_postgres(session)
        if postgres:
            # During voting each cast's roll row carries its own transaction id: that is the link to break.
            during = session.scalars(
                text("SELECT DISTINCT xmin::text FROM roll_entries WHERE election_id = :e AND has_voted"),
                {"e": world.election_id},
            ).all()
            assert len(during) == 40
    kit.close_world(database, world, now=clock() + timedelta(days=8), key=key)
    with database.session() as session:
        stored = _stored_order(session)
        if postgres:
            xmins = session.scalars(
                text(
                    "SELECT DISTINCT xmin::text FROM ballots WHERE election_id = :e "
                    "UNION SELECT DISTINCT xmin::text FROM roll_entries WHERE election_id = :e"
                ),
                {"e": world.election_id},
            ).all()
            assert len(xmins) == 1, xmins
    assert sorted(stored) == sorted(cast_order)
    ranks = [cast_order.index(t) for t in stored]
    # Shuffled once, all together: the stored order is unrelated to the casting order.
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
