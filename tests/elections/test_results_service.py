"""Counting and results without HTTP: the close seals the ballots with a fingerprint, the returning officer's
count takes each post in counting order by its method (withdrawing earlier winners), the seed is drawn once,
altered ballots are found, and publication happens once."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
import threading
from datetime import timedelta

import pytest
import results_kit as rk
from sqlalchemy import select
from support import as_sent

from portal.accounts.models import Account
from portal.accounts.service import Principal
from portal.audit import AuditEvent
from portal.elections import counting, results, roll, service, voting
from portal.elections.errors import ElectionError
from portal.elections.models import Ballot, ContestCount, Election
from portal.mail.models import OutboxEmail

POSTS = [
    ("Chair", 1, "plurality", False, ["Adams", "Brown"]),
    ("Committee", 2, "stv", False, ["Clark", "Davis", "Evans", "Ford"]),
    ("Auditors", 2, "approval", True, ["Gray", "Hill", "Ince"]),
]
BALLOTS = [
    {"Chair": ["Adams"], "Committee": ["Clark", "Davis"], "Auditors": ["Gray", "Hill"]},
    {"Chair": ["Adams"], "Committee": ["Clark", "Evans"], "Auditors": ["Gray"]},
    {"Chair": ["Brown"], "Committee": ["Clark", "Ford", "Davis"], "Auditors": ["Hill", "RON"]},
    {"Chair": ["Adams"], "Committee": ["Davis", "Clark"], "Auditors": ["Ince"]},
    {"Chair": ["Brown"], "Committee": ["Evans", "Davis"], "Auditors": ["Gray", "Ince"]},
    {"Chair": [], "Committee": ["Clark", "Davis"], "Auditors": []},
    {"Chair": ["Adams"], "Committee": ["Ford", "Davis"], "Auditors": ["RON"]},
]


@pytest.fixture
def world(database, officer, kit, clock, key, links):
    return rk.closed_election(
        database, officer, kit, clock=clock, key=key, links=links, posts=POSTS, ballots=BALLOTS
    )


def stored(database, world) -> dict[str, dict]:
    with database.session() as s:
        return {record["title"]: record for _, record in results.stored_records(s, world.election_id)}


def names(decisions) -> list[str]:
    return [d["name"] for d in decisions]


def audit_actions(database) -> list[tuple[str, str]]:
    with database.session() as s:
        return [(e.action, e.details) for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]


# --- a whole election through the services --------------------------------------------------------------------


LINK = re.compile(r"http://testserver/elections/nominations/(\S+)")


def test_an_election_run_through_the_services_is_counted_and_published(
    database, officer, kit, clock, key, links
):
    with database.session() as s:
        actor = s.get(Account, officer.id)
        election = service.create_election(
            s, actor=actor, setup=kit.make_setup(clock(), "nominations"), now=clock()
        )
        for title, seats, method in (("Chair", 1, "plurality"), ("Committee", 2, "stv")):
            service.add_contest(
                s,
                actor=actor,
                election_id=election.id,
                setup=service.ContestSetup(title=title, seats=seats, method=method, position=len(title)),
                now=clock(),
            )
        election_id = election.id
        contests = {c.title: c.id for c in s.get(Election, election_id).contests}
        people = {
            name: kit.add_member(s, name.upper(), first=name, last=f"{name}son").id
            for name in ("Ann", "Bob", "Cat", "Dan", "Eve", "Fay", "Gus", "Hal")
        }
    stands = [
        ("Chair", "Ann"),
        ("Chair", "Bob"),
        ("Committee", "Cat"),
        ("Committee", "Dan"),
        ("Committee", "Eve"),
    ]
    for post, who in stands:
        proposer, seconder = [p for p in ("Fay", "Gus", "Hal") if p != who][:2]
        with database.session() as s:
            service.nominate(
                s,
                election_id=election_id,
                nominator_id=people[who],
                form=service.NominationForm(
                    contest_id=contests[post],
                    nominee_id=people[who],
                    proposer_id=people[proposer],
                    seconder_id=people[seconder],
                    statement=f"{who} for {post}.",
                ),
                now=clock(),
                key=key,
                links=links,
            )
    with database.session() as s:
        tokens = [LINK.search(as_sent(e).text).group(1) for e in s.scalars(select(OutboxEmail))]
    for token in tokens:
        with database.session() as s:
            service.answer_nomination(s, token=token, confirm=True, now=clock(), key=key)
    with database.session() as s:
        actor = s.get(Account, officer.id)
        for view in service.nomination_views(s, s.get(Election, election_id)):
            service.decide_nomination(
                s,
                actor=actor,
                election_id=election_id,
                nomination_id=view.nomination.id,
                accept=True,
                reason="",
                now=clock(),
            )
        nominations = {
            (v.contest.title, v.nominee.first_name): v.nomination.id
            for v in service.nomination_views(s, s.get(Election, election_id))
        }
    # The returning officer and two scrutineers are the trustees: each downloads and checks their share.
    trustee_world = kit.World(election_id=election_id, contests={}, candidates={})
    kit.make_trustees(database, trustee_world, officer, now=clock(), key=key)
    clock.advance(days=5)
    with database.session() as s:
        roll.open_voting(
            s, actor=s.get(Account, officer.id), election_id=election_id, now=clock(), key=key, links=links
        )
    votes = {
        "Ann": (["Ann"], ["Cat", "Dan"]),
        "Bob": (["Bob"], ["Dan", "Cat"]),
        "Cat": (["Ann"], ["Cat", "Eve"]),
        "Dan": (["Ann"], ["Eve", "Cat"]),
        "Eve": (["Bob"], ["Dan"]),
        "Fay": (["Ann"], ["Cat", "Dan", "Eve"]),
    }
    trackers = []
    for voter, (chair, committee) in votes.items():
        with database.session() as s:
            trackers.append(
                voting.cast_ballot(
                    s,
                    election_id=election_id,
                    member_id=people[voter],
                    selections={
                        contests["Chair"]: [nominations[("Chair", n)] for n in chair],
                        contests["Committee"]: [nominations[("Committee", n)] for n in committee],
                    },
                    key=key,
                    now=clock(),
                )
            )
    with database.session() as s:
        close_at = s.get(Election, election_id).voting_close_at
    clock.now = close_at + timedelta(seconds=1)
    with database.session() as s:
        voting.bring_up_to_date(s, election_id=election_id, now=clock(), key=key, links=links)
    kit.close_world(database, trustee_world, now=clock(), key=key)
    with database.session() as s:
        results.run_count(s, actor=s.get(Account, officer.id), election_id=election_id, now=clock(), key=key)
    with database.session() as s:
        results.publish_results(
            s, actor=s.get(Account, officer.id), election_id=election_id, now=clock(), key=key
        )
    with database.session() as s:
        election = s.get(Election, election_id)
        posts = results.post_results(s, election_id)
        turnout = results.turnout(s, election)
        assert election.tracker_public is True and election.published_at == clock()
        assert {t.replace("-", "") for t in s.scalars(select(Ballot.tracker))} == {
            t.replace("-", "") for t in trackers
        }
    assert [p.title for p in posts] == [
        "Chair",
        "Committee",
    ]  # by position: "Chair" (5) before "Committee" (9)
    assert posts[0].winners == ["Ann Annson"] and posts[0].rule == "plurality"
    assert posts[1].rule == "ers97-stv" and posts[1].quota == "2.00"
    assert posts[1].winners == ["Cat Catson", "Dan Danson"]
    assert (turnout.roll, turnout.voted, turnout.ballots, turnout.percent) == (8, 6, 6, "75.0")
    actions = [a for a, _ in audit_actions(database)]
    assert actions[-3:] == ["election.closed", "election.counted", "election.results_published"]


# --- tamper evidence ---------------------------------------------------------------------------------------------


def test_the_close_records_a_fingerprint_of_every_ballot_on_the_election_and_in_the_audit_log(
    database, world, key
):
    with database.session() as s:
        election = s.get(Election, world.election_id)
        total, digest = results.ballots_hash(s, world.election_id, key=key)
        rows = sorted(s.execute(select(Ballot.id, Ballot.tracker, Ballot.salt, Ballot.contents)).all())
    assert (election.ballots_total, election.ballots_hash) == (len(BALLOTS), digest) and total == len(BALLOTS)
    # The documented recipe: canonical JSON of each ballot, in order of id, joined by newlines.
    lines = [
        json.dumps(
            {"contents": json.loads(c), "id": i, "salt": salt, "tracker": t},
            separators=(",", ":"),
            sort_keys=True,
        )
        for i, t, salt, c in rows
    ]
    # Keyed: HMAC-SHA256 with a key derived from the secret key, so an edited copy cannot be re-fingerprinted.
    assert (
        hmac.new(results.fingerprint_key(key), "\n".join(lines).encode(), hashlib.sha256).hexdigest()
        == digest
    )
    assert hashlib.sha256("\n".join(lines).encode()).hexdigest() != digest
    closed = [json.loads(d) for a, d in audit_actions(database) if a == "election.closed"]
    assert closed == [{"ballots": len(BALLOTS), "ballots_hash": digest}]


def test_the_fingerprint_is_recorded_once_however_often_the_close_runs(
    database, world, clock, key, links, kit
):
    for _ in range(2):
        with database.session() as s:
            voting.bring_up_to_date(s, election_id=world.election_id, now=clock(), key=key, links=links)
        with pytest.raises(ElectionError) as again:
            kit.close_world(database, world, now=clock(), key=key)
        assert again.value.code == "opened"
    assert [a for a, _ in audit_actions(database)].count("election.closed") == 1


def test_verify_finds_nothing_wrong_with_untouched_ballots(database, world, key):
    with database.session() as s:
        report = results.verify_ballots(s, election_id=world.election_id, key=key)
    assert (
        report.ok and report.ballots == len(BALLOTS) and report.computed == report.recorded == report.audited
    )


def test_an_altered_ballot_is_reported_by_verify_and_stops_the_count(database, officer, world, clock, key):
    with database.session() as s:
        ballot = s.scalars(select(Ballot).order_by(Ballot.id)).first()
        chair = str(world.contests["Chair"])
        contents = json.loads(ballot.contents)
        brown, adams = world.choice("Chair", "Brown"), world.choice("Chair", "Adams")
        contents[chair] = [adams] if contents[chair] == [brown] else [brown]
        ballot.contents = json.dumps(contents, separators=(",", ":"), sort_keys=True)
    with database.session() as s:
        report = results.verify_ballots(s, election_id=world.election_id, key=key)
    assert not report.ok and report.computed != report.recorded
    assert any("changed, added or removed" in p for p in report.problems)
    with pytest.raises(ElectionError) as refused:
        rk.count(database, officer, world, clock=clock, key=key)
    assert refused.value.code == "tampered"


def test_a_deleted_ballot_is_reported_with_the_numbers(database, world, key):
    with database.session() as s:
        s.delete(s.scalars(select(Ballot)).first())
    with database.session() as s:
        report = results.verify_ballots(s, election_id=world.election_id, key=key)
    assert (
        f"There are {len(BALLOTS) - 1} ballots now; there were {len(BALLOTS)} at the close."
        in report.problems
    )


def test_a_fingerprint_changed_on_the_election_row_disagrees_with_the_audit_log(database, world, key):
    with database.session() as s:
        s.get(Election, world.election_id).ballots_hash = "0" * 64
    with database.session() as s:
        report = results.verify_ballots(s, election_id=world.election_id, key=key)
    assert "The fingerprint on the election differs from the one in the audit log." in report.problems


# --- the count ---------------------------------------------------------------------------------------------------


def test_counting_is_refused_before_the_close(database, officer, kit, clock, key, links):
    world = kit.build_world(database, officer, now=clock(), posts=POSTS[:1], voters=2)
    kit.open_world(database, world, now=clock(), links=links, key=key)
    rk.cast_all(database, world, [{"Chair": ["Adams"]}] * 2, key=key, now=clock())
    with pytest.raises(ElectionError) as refused:
        rk.count(database, officer, world, clock=clock, key=key)
    assert refused.value.code == "not_closed"
    with database.session() as s, pytest.raises(ElectionError) as tally_refused:
        results.tally(s, election_id=world.election_id, now=clock())
    assert tally_refused.value.code == "not_closed"


def test_each_post_is_counted_by_its_method_and_the_count_is_stored(database, officer, world, clock, key):
    rk.count(database, officer, world, clock=clock, key=key)
    records = stored(database, world)
    assert [records[p]["rule"] for p in ("Chair", "Committee", "Auditors")] == [
        "plurality",
        "ers97-stv",
        "approval",
    ]
    chair = records["Chair"]
    assert names(chair["elected"]) == ["Cand Adams"]
    assert chair["count"]["final_votes"] == {"Cand Adams": "4", "Cand Brown": "2"}
    assert chair["blank"] == 1 and chair["count"]["ballots"] == 6
    # RON is a candidate like any other; identical rankings are counted together.
    auditors = records["Auditors"]
    assert auditors["count"]["final_votes"] == {
        "Cand Gray": "3",
        "Cand Hill": "2",
        "Cand Ince": "2",
        "Re-open nominations (RON)": "2",
    }
    committee = records["Committee"]
    assert committee["count"]["quota"] == "2.34"  # ERS97: 7 valid papers, 2 seats
    assert names(committee["elected"]) == ["Cand Clark", "Cand Davis"]
    assert committee["elected"][0]["reason"] and committee["explanation"][0].startswith("This count used STV")
    assert all(r["stage"] >= 0 for r in committee["count"]["rounds"])
    with database.session() as s:
        rows = s.scalars(select(ContestCount).order_by(ContestCount.position)).all()
        assert [r.outcome for r in rows] == ["counted", "counted", "counted"]
        assert s.get(Election, world.election_id).counted_at == clock()


@pytest.mark.parametrize(("stv_rule", "rule"), [("ers97", "ers97-stv"), ("scottish", "scottish-stv")])
def test_ranked_posts_are_counted_by_the_elections_stv_rule(
    database, officer, kit, clock, key, links, stv_rule, rule
):
    world = rk.closed_election(
        database,
        officer,
        kit,
        clock=clock,
        key=key,
        links=links,
        posts=POSTS[1:2],
        ballots=[{"Committee": b["Committee"]} for b in BALLOTS],
        stv_rule=stv_rule,
    )
    rk.count(database, officer, world, clock=clock, key=key)
    committee = stored(database, world)["Committee"]
    assert committee["rule"] == rule and committee["count"]["rule"] == rule
    assert committee["count"]["quota"] == ("2.34" if stv_rule == "ers97" else "3.00000")


def test_officer_posts_are_counted_first_and_their_winner_is_withdrawn_from_later_posts(
    database, officer, kit, clock, key, links
):
    # The ordinary seats come first by position, but the Chair is an officer post, so it is counted first;
    # Adams stands for both, wins the Chair, and is withdrawn from the committee count.
    world = rk.closed_election(
        database,
        officer,
        kit,
        clock=clock,
        key=key,
        links=links,
        posts=[
            ("Committee", 2, "stv", False, ["Clark", "Davis", "Evans"]),
            ("Chair", 1, "plurality", False, ["Adams", "Brown"]),
        ],
        officer_posts=("Chair",),
        also=(("Chair", "Adams", "Committee"),),
        ballots=[
            {"Chair": ["Adams"], "Committee": ["Adams", "Evans"]},
            {"Chair": ["Adams"], "Committee": ["Adams", "Evans", "Clark"]},
            {"Chair": ["Adams"], "Committee": ["Adams", "Evans"]},
            {"Chair": ["Brown"], "Committee": ["Clark"]},
            {"Chair": ["Brown"], "Committee": ["Davis"]},
        ],
    )
    rk.count(database, officer, world, clock=clock, key=key)
    with database.session() as s:
        order = [(r["title"], row.position) for row, r in results.stored_records(s, world.election_id)]
    assert order == [("Chair", 0), ("Committee", 1)]
    records = stored(database, world)
    assert names(records["Chair"]["elected"]) == ["Cand Adams"]
    committee = records["Committee"]
    assert committee["count"]["withdrawn"] == ["Cand Adams"]
    assert committee["withdrawn"] == [{"name": "Cand Adams", "because": "Chair"}]
    assert "Cand Adams" not in names(committee["elected"])
    # Adams's papers went to their next preference: Evans tops the first count.
    assert committee["count"]["rounds"][0]["votes"]["Cand Evans"] == "3.00"
    assert names(committee["elected"])[0] == "Cand Evans"
    assert committee["explanation"][0] == (
        "Cand Adams was elected to an earlier post (Chair), so is withdrawn from this one."
    )


def test_the_count_is_count_in_order_for_posts_that_go_to_a_vote(database, officer, kit, clock, key, links):
    world = rk.closed_election(
        database,
        officer,
        kit,
        clock=clock,
        key=key,
        links=links,
        posts=[
            ("Chair", 1, "stv", False, ["Adams", "Brown"]),
            ("Committee", 2, "stv", False, ["Clark", "Davis", "Evans"]),
        ],
        officer_posts=("Chair",),
        also=(("Chair", "Adams", "Committee"), ("Chair", "Brown", "Committee")),
        ballots=[
            {"Chair": ["Adams", "Brown"], "Committee": ["Adams", "Clark"]},
            {"Chair": ["Brown"], "Committee": ["Brown", "Davis", "Adams"]},
            {"Chair": ["Adams"], "Committee": ["Evans", "Adams"]},
            {"Chair": ["Adams"], "Committee": ["Clark", "Brown"]},
        ],
    )
    with database.session() as s:
        election = s.get(Election, world.election_id)
        posts = results.plan_count(s, election, seed=1234)
    expected = counting.count_in_order(
        [(dataclasses.replace(p.counted, withdrawn=frozenset()), p.rule) for p in posts], seed=1234
    )
    assert [p.result.as_dict() for p in posts] == [r.as_dict() for r in expected]
    assert posts[1].result.as_dict()["withdrawn"] == ["Cand Adams"]


def test_a_candidate_elected_unopposed_to_an_officer_post_is_withdrawn_from_later_posts(
    database, officer, kit, clock, key, links
):
    world = rk.closed_election(
        database,
        officer,
        kit,
        clock=clock,
        key=key,
        links=links,
        posts=[
            ("Chair", 1, "plurality", False, ["Adams"]),
            ("Committee", 1, "plurality", False, ["Clark", "Davis"]),
        ],
        officer_posts=("Chair",),
        also=(("Chair", "Adams", "Committee"),),
        ballots=[{"Committee": ["Adams"]}, {"Committee": ["Adams"]}, {"Committee": ["Davis"]}],
    )
    rk.count(database, officer, world, clock=clock, key=key)
    records = stored(database, world)
    chair = records["Chair"]
    assert chair["outcome"] == "unopposed" and chair["count"] is None
    assert names(chair["elected"]) == ["Cand Adams"]
    assert "Cand Adams is elected unopposed." in chair["explanation"]
    committee = records["Committee"]
    assert committee["count"]["withdrawn"] == ["Cand Adams"]
    assert names(committee["elected"]) == ["Cand Davis"]


def test_an_uncontested_post_with_ron_goes_to_a_vote_and_ron_can_win(
    database, officer, kit, clock, key, links
):
    world = rk.closed_election(
        database,
        officer,
        kit,
        clock=clock,
        key=key,
        links=links,
        posts=[("Secretary", 1, "plurality", True, ["Green"]), ("Editor", 1, "plurality", False, [])],
        ballots=[{"Secretary": ["RON"]}, {"Secretary": ["RON"]}, {"Secretary": ["Green"]}],
    )
    rk.count(database, officer, world, clock=clock, key=key)
    records = stored(database, world)
    secretary = records["Secretary"]
    assert secretary["outcome"] == "counted"
    assert names(secretary["elected"]) == ["Re-open nominations (RON)"]
    assert secretary["candidates"][-1] == {"name": "Re-open nominations (RON)", "ron": True, "number": None}
    assert any("nominations for it will be re-opened" in line for line in secretary["explanation"])
    editor = records["Editor"]
    assert editor["outcome"] == "vacant" and editor["elected"] == []


def test_the_seed_is_drawn_once_and_a_recount_repeats_every_lot(database, officer, kit, clock, key, links):
    world = rk.closed_election(
        database,
        officer,
        kit,
        clock=clock,
        key=key,
        links=links,
        posts=[("Chair", 1, "plurality", False, ["Adams", "Brown", "Clark", "Davis"])],
        ballots=[{"Chair": ["Adams"]}, {"Chair": ["Brown"]}, {"Chair": ["Clark"]}, {"Chair": ["Davis"]}],
    )
    rk.count(database, officer, world, clock=clock, key=key)
    with database.session() as s:
        seed = s.get(Election, world.election_id).count_seed
    first = stored(database, world)
    assert first["Chair"]["count"]["seed"] == seed and first["Chair"]["count"]["lots"]
    clock.advance(hours=1)
    rk.count(database, officer, world, clock=clock, key=key)
    with database.session() as s:
        assert s.get(Election, world.election_id).count_seed == seed
    assert stored(database, world) == first
    actions = [(a, json.loads(d)) for a, d in audit_actions(database) if a.startswith("election.")]
    assert [a for a, _ in actions][-2:] == ["election.counted", "election.recounted"]
    assert actions[-1][1]["seed"] == seed and actions[-1][1]["elected"] == {
        "Chair": names(first["Chair"]["elected"])
    }


def test_tally_counts_the_stored_ballots_with_the_stored_seed_and_matches_the_count(
    database, officer, world, clock, key
):
    with database.session() as s:
        before = results.tally(s, election_id=world.election_id, now=clock())
    assert before.matches_stored is None and before.stored_seed is False
    rk.count(database, officer, world, clock=clock, key=key)
    with database.session() as s:
        after = results.tally(s, election_id=world.election_id, now=clock())
        seed = s.get(Election, world.election_id).count_seed
    assert after.matches_stored is True and after.seed == seed and after.stored_seed
    assert after.records == list(stored(database, world).values())


# --- publication -------------------------------------------------------------------------------------------------


def test_publishing_needs_a_count_and_happens_once(database, officer, world, clock, key):
    with pytest.raises(ElectionError) as early:
        rk.publish(database, officer, world, clock=clock, key=key)
    assert early.value.code == "not_counted"
    rk.count(database, officer, world, clock=clock, key=key)
    with database.session() as s:
        assert s.get(Election, world.election_id).tracker_public is False
    rk.publish(database, officer, world, clock=clock, key=key)
    with database.session() as s:
        election = s.get(Election, world.election_id)
        assert election.tracker_public is True and election.published_at == clock()
    with pytest.raises(ElectionError) as again:
        rk.publish(database, officer, world, clock=clock, key=key)
    assert again.value.code == "published"
    with pytest.raises(ElectionError) as recount:
        rk.count(database, officer, world, clock=clock, key=key)
    assert recount.value.code == "published"
    published = [json.loads(d) for a, d in audit_actions(database) if a == "election.results_published"]
    assert len(published) == 1 and published[0]["public"] is False


def test_turnout_is_the_roll_at_the_close_who_voted_and_the_ballots(database, world):
    with database.session() as s:
        turnout = results.turnout(s, s.get(Election, world.election_id))
    # Everyone eligible is on the roll: 9 candidates with their proposers and seconders, and 7 voters.
    assert (turnout.roll, turnout.voted, turnout.ballots) == (34, 7, 7) and turnout.percent == "20.6"


def principal(*roles: str, member: int | None = None) -> Principal:
    return Principal(
        account_id=1, name="x", email="x@example.org", roles=frozenset(roles), session_id=1, member_id=member
    )


@pytest.mark.parametrize(
    ("viewer", "counted", "published", "public", "sees"),
    [
        (principal("returning_officer"), False, False, False, False),
        (principal("scrutineer"), True, False, False, True),
        (principal(member=7), True, False, False, False),
        (principal(member=7), True, True, False, True),
        (principal("office"), True, True, False, False),
        (None, True, True, False, False),
        (None, True, True, True, True),
    ],
)
def test_who_may_see_the_results(viewer, counted, published, public, sees, clock):
    election = Election(
        counted_at=clock() if counted else None,
        published_at=clock() if published else None,
        results_public=public,
    )
    assert results.may_see_results(election, viewer) is sees


def test_the_archive_lists_published_elections_the_viewer_may_see(database, officer, world, clock, key):
    with database.session() as s:
        assert results.archive(s, principal(member=1)) == []
    rk.count(database, officer, world, clock=clock, key=key)
    rk.publish(database, officer, world, clock=clock, key=key)
    with database.session() as s:
        assert [e.id for e in results.archive(s, principal(member=1))] == [world.election_id]
        assert results.archive(s, None) == []


def _at_once(attempt, times: int = 2) -> list[str]:
    """Run `attempt` in `times` threads released together; each returns "ok" or the error's code."""
    barrier = threading.Barrier(times)
    outcomes: list[str] = []

    def run() -> None:
        barrier.wait()
        try:
            attempt()
            outcomes.append("ok")
        except ElectionError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def test_two_counts_at_once_store_one_record_per_post_with_one_seed(database, officer, world, clock, key):
    assert _at_once(lambda: rk.count(database, officer, world, clock=clock, key=key)) == ["ok", "ok"]
    with database.session() as s:
        rows = s.scalars(select(ContestCount)).all()
        seeds = {json.loads(r.record)["count"]["seed"] for r in rows}
        assert len(rows) == len(POSTS) and seeds == {s.get(Election, world.election_id).count_seed}
    assert [a for a, _ in audit_actions(database)][-2:] == ["election.counted", "election.recounted"]


def test_two_publications_at_once_publish_once(database, officer, world, clock, key):
    rk.count(database, officer, world, clock=clock, key=key)
    assert _at_once(lambda: rk.publish(database, officer, world, clock=clock, key=key)) == ["ok", "published"]
    assert [a for a, _ in audit_actions(database)].count("election.results_published") == 1
