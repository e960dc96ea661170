"""BLT export and the command line: a ranked post's ballots exported as counted (earlier winners withdrawn,
names and a quoted title), recounted by `portal count` to the same winners and stage values as the stored
count; `portal election tally`, `verify` and `export-blt`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import results_kit as rk
from click.testing import CliRunner
from sqlalchemy import select
from support import SECRET

from portal.cli import main
from portal.elections import counting, results
from portal.elections.models import Ballot, ContestCount, Election

POSTS = [
    ("Chair", 1, "plurality", False, ["Adams", "Brown"]),
    ("Committee", 2, "stv", True, ["Clark", "Davis", "Evans"]),
]
BALLOTS = [
    {"Chair": ["Adams"], "Committee": ["Adams", "Clark", "Davis"]},
    {"Chair": ["Adams"], "Committee": ["Clark", "Adams"]},
    {"Chair": ["Brown"], "Committee": ["Davis", "Evans", "RON"]},
    {"Chair": ["Adams"], "Committee": ["Evans"]},
    {"Chair": ["Brown"], "Committee": ["Adams", "Evans"]},
    {"Chair": ["Adams"], "Committee": ["RON", "Clark"]},
    {"Chair": ["Brown"], "Committee": ["Davis", "Clark"]},
    {"Chair": ["Adams"], "Committee": []},
]


@pytest.fixture
def cli_env(db_url, monkeypatch):
    monkeypatch.setenv("PORTAL_DATABASE_URL", db_url)
    monkeypatch.setenv("PORTAL_SECRET_KEY", SECRET)
    monkeypatch.setenv("PORTAL_ENV", "test")


def counted(database, officer, kit, clock, key, links, *, stv_rule="ers97"):
    world = rk.closed_election(
        database,
        officer,
        kit,
        clock=clock,
        key=key,
        links=links,
        posts=POSTS,
        ballots=BALLOTS,
        officer_posts=("Chair",),
        also=(("Chair", "Adams", "Committee"),),
        stv_rule=stv_rule,
    )
    rk.count(database, officer, world, clock=clock, key=key)
    return world


def stored_count(database, world, title):
    with database.session() as s:
        return next(r for _, r in results.stored_records(s, world.election_id) if r["title"] == title)


def test_the_blt_of_a_ranked_post_has_its_names_withdrawn_winners_and_quoted_title(
    database, officer, kit, clock, key, links
):
    world = counted(database, officer, kit, clock, key, links)
    with database.session() as s:
        name, text = results.contest_blt(
            s, election_id=world.election_id, contest_id=world.contests["Committee"]
        )
    lines = text.splitlines()
    assert name == f"election-{world.election_id}-post-{world.contests['Committee']}.blt"
    assert lines[0] == "5 2"  # Adams (also standing), Clark, Davis, Evans and RON; two seats
    assert lines[1] == "-1"  # Adams won the Chair, counted first: withdrawn
    assert lines[-6:] == [
        '"Cand Adams"',
        '"Cand Clark"',
        '"Cand Davis"',
        '"Cand Evans"',
        '"Re-open nominations (RON)"',
        '"Committee (Executive Committee 2027)"',
    ]
    contest = counting.read_blt(text)
    assert contest.withdrawn == frozenset({1}) and contest.total_weight == 7  # the blank paper is left out


@pytest.mark.parametrize(("stv_rule", "option"), [("ers97", "ers97"), ("scottish", "scottish")])
def test_a_blt_export_recounted_by_portal_count_gives_the_stored_count(
    database, officer, kit, clock, key, links, cli_env, tmp_path, stv_rule, option
):
    world = counted(database, officer, kit, clock, key, links, stv_rule=stv_rule)
    stored = stored_count(database, world, "Committee")["count"]
    file = tmp_path / "committee.blt"
    exported = CliRunner().invoke(
        main,
        ["election", "export-blt", str(world.election_id), str(world.contests["Committee"]), "-o", str(file)],
    )
    assert exported.exit_code == 0, exported.output
    recount = CliRunner().invoke(
        main, ["count", str(file), "--rule", option, "--seed", str(stored["seed"]), "--json"]
    )
    assert recount.exit_code == 0, recount.output
    again = json.loads(recount.output)
    assert [e["name"] for e in again["elected"]] == [e["name"] for e in stored["elected"]]
    assert again["rounds"] == stored["rounds"]
    assert again == stored


def test_export_blt_refuses_a_post_that_is_not_ranked(database, officer, kit, clock, key, links, cli_env):
    world = counted(database, officer, kit, clock, key, links)
    refused = CliRunner().invoke(
        main, ["election", "export-blt", str(world.election_id), str(world.contests["Chair"])]
    )
    assert refused.exit_code == 1 and "Only ranked (STV) posts" in refused.output
    printed = CliRunner().invoke(
        main, ["election", "export-blt", str(world.election_id), str(world.contests["Committee"])]
    )
    assert printed.exit_code == 0 and printed.output.startswith("5 2\n-1\n")


def test_tally_prints_the_same_count_as_the_stored_one(database, officer, kit, clock, key, links, cli_env):
    world = counted(database, officer, kit, clock, key, links)
    result = CliRunner().invoke(main, ["election", "tally", str(world.election_id), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    with database.session() as s:
        stored = [r for _, r in results.stored_records(s, world.election_id)]
        seed = s.get(Election, world.election_id).count_seed
    assert body["posts"] == stored and body["seed"] == seed and body["matches_stored"] is True
    text = CliRunner().invoke(main, ["election", "tally", str(world.election_id)])
    assert "This tally matches the stored count." in text.output
    assert "Elected: Cand Adams." in text.output


def test_tally_is_refused_before_the_close(database, officer, kit, clock, key, links, cli_env):
    world = kit.build_world(database, officer, now=clock(), posts=POSTS[:1], voters=1)
    with database.session() as s:
        election = s.get(Election, world.election_id)
        election.voting_open_at = datetime.now(UTC) - timedelta(hours=1)
        election.voting_close_at = datetime.now(UTC) + timedelta(days=2)
    result = CliRunner().invoke(main, ["election", "tally", str(world.election_id)])
    assert result.exit_code == 1
    assert "Voting has not closed yet" in result.output


def test_verify_exits_1_once_a_ballot_is_altered(database, officer, kit, clock, key, links, cli_env):
    world = counted(database, officer, kit, clock, key, links)
    good = CliRunner().invoke(main, ["election", "verify", str(world.election_id)])
    assert good.exit_code == 0, good.output
    assert "The ballots match the fingerprint recorded at the close" in good.output
    with database.session() as s:
        ballot = s.scalars(select(Ballot).order_by(Ballot.id)).first()
        ballot.tracker = "AAAAAAAAAA"
    bad = CliRunner().invoke(main, ["election", "verify", str(world.election_id)])
    assert bad.exit_code == 1
    assert "a ballot was changed, added or removed" in bad.output


def test_tally_exits_1_when_the_stored_count_differs_from_the_ballots(
    database, officer, kit, clock, key, links, cli_env
):
    world = counted(database, officer, kit, clock, key, links)
    with database.session() as s:
        row = s.scalars(select(ContestCount).where(ContestCount.contest_id == world.contests["Chair"])).one()
        row.record = row.record.replace('"Cand Adams"', '"Cand Brown"')
    result = CliRunner().invoke(main, ["election", "tally", str(world.election_id)])
    assert result.exit_code == 1
    assert "THE STORED COUNT DIFFERS" in result.output
