"""Trustees for a benchmark's election: a returning officer and two scrutineers named (2 of 3), the key
made, every share downloaded and checked (so voting may open); and the close with two of the shares."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from portal.accounts.models import Account
from portal.db import Database
from portal.elections import trustees, voting

PEOPLE = (
    ("bench.ro@example.org", "Rita Returning", "returning_officer"),
    ("bench.s1@example.org", "Sam Patel", "scrutineer"),
    ("bench.s2@example.org", "Sue Okafor", "scrutineer"),
)


def make_trustees(database: Database, election_id: int, *, key: bytes, now: datetime) -> list[str]:
    """The three trustees' share files, in order."""
    with database.session() as s:
        ids = []
        for email, name, role in PEOPLE:
            account = s.scalar(select(Account).where(Account.email == email))
            if account is None:
                account = Account(
                    email=email, name=name, roles=role, created_at=datetime(2026, 1, 1, tzinfo=UTC)
                )
                s.add(account)
                s.flush()
            ids.append(account.id)
    return hand_out(database, election_id, ids, key=key, now=now)


def hand_out(
    database: Database,
    election_id: int,
    account_ids: list[int],
    *,
    key: bytes,
    now: datetime,
    check: bool = True,
) -> list[str]:
    """Name these accounts trustees (any 2 open the box; the first names them), make the key, and have each
    download their share and (unless `check` is False) check it; returns the share files in order."""
    with database.session() as s:
        actor = s.get(Account, account_ids[0])
        trustees.name_trustees(
            s, actor=actor, election_id=election_id, account_ids=account_ids, threshold=2, now=now
        )
        trustees.make_key(s, actor=actor, election_id=election_id, key=key, now=now)
    shares = []
    for account_id in account_ids:
        with database.session() as s:
            _, text = trustees.download_share(
                s, account_id=account_id, election_id=election_id, key=key, now=now
            )
            if check:
                trustees.check_share(s, account_id=account_id, election_id=election_id, text=text, now=now)
            shares.append(text)
    return shares


def open_box(database: Database, election_id: int, shares: list[str], *, key: bytes, now: datetime) -> int:
    with database.session() as s:
        return voting.open_ballot_box(
            s,
            actor=None,
            election_id=election_id,
            shares=[trustees.GivenShare(text=t) for t in shares[:2]],
            key=key,
            now=now,
        )
