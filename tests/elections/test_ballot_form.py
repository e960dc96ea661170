"""Reading a filled-in ballot: one choice, up to N, or a ranking by numbered selects (duplicates and gaps
refused with a message for that contest), and the order candidates are shown in."""

from __future__ import annotations

import pytest
from starlette.datastructures import FormData

from portal.elections.ballots import (
    BallotContest,
    Option,
    ballot_contests,
    hidden_fields,
    on_ballot,
    ordinal,
    read_ballot,
)
from portal.elections.models import RON, Contest, Election


def contest(cid: int, method: str, seats: int = 1, ron: bool = False) -> BallotContest:
    options = [Option("11", "Ann Adams"), Option("12", "Bob Brown"), Option("13", "Cat Clark")]
    if ron:
        options.append(Option(RON, "Re-open nominations (RON)"))
    return BallotContest(Contest(id=cid, title=f"Post {cid}", method=method, seats=seats, ron=ron), options)


def form(*pairs: tuple[str, str]) -> FormData:
    return FormData(list(pairs))


def test_one_choice_is_read_and_a_second_is_refused():
    contests = [contest(1, "plurality")]
    assert read_ballot(form(("c1", "12")), contests).selections == {1: [12]}
    refused = read_ballot(form(("c1", "12"), ("c1", "13")), contests)
    assert "c1" in refused.errors and 1 not in refused.selections


def test_the_abstain_choice_is_an_empty_vote():
    assert read_ballot(form(("c1", "")), [contest(1, "plurality")]).selections == {1: []}


def test_approval_takes_up_to_the_number_of_seats():
    contests = [contest(2, "approval", seats=2, ron=True)]
    assert read_ballot(form(("c2", "13"), ("c2", RON)), contests).selections == {2: [13, RON]}
    assert "c2" in read_ballot(form(("c2", "11"), ("c2", "12"), ("c2", "13")), contests).errors


def test_a_candidate_not_on_the_ballot_is_refused():
    assert "c1" in read_ballot(form(("c1", "99")), [contest(1, "plurality")]).errors


def test_a_ranking_is_read_in_order_of_preference():
    contests = [contest(3, "stv", ron=True)]
    read = read_ballot(form(("c3-12", "1"), ("c3-RON", "2"), ("c3-11", "3"), ("c3-13", "")), contests)
    assert read.errors == {}
    assert read.selections == {3: [12, RON, 11]}


@pytest.mark.parametrize(
    ("pairs", "words"),
    [
        ((("c3-11", "1"), ("c3-12", "1")), "more than one candidate"),
        ((("c3-11", "1"), ("c3-12", "3")), "without leaving a gap"),
        ((("c3-11", "2"),), "without leaving a gap"),
        ((("c3-11", "first"),), "choose a preference"),
        ((("c3-11", "9"),), "choose a preference"),
    ],
)
def test_a_ranking_with_a_repeat_a_gap_or_a_bad_number_is_refused_with_a_message(pairs, words):
    read = read_ballot(form(*pairs), [contest(3, "stv")])
    assert words in read.errors["c3"]
    assert read.raw[3]  # what was chosen comes back to show the form again


def test_hidden_fields_carry_the_ballot_to_the_next_step_unchanged():
    contests = [contest(1, "plurality"), contest(2, "approval", seats=2), contest(3, "stv", ron=True)]
    selections = {1: [12], 2: [11, 13], 3: [RON, 11]}
    again = read_ballot(FormData(hidden_fields(contests, selections)), contests)
    assert again.errors == {} and again.selections == selections


def test_ordinals_read_naturally():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st",
    ]  # fmt: skip


def test_only_contested_posts_or_posts_with_ron_are_voted_on():
    one_seat = Contest(seats=1, ron=False)
    with_ron = Contest(seats=1, ron=True)
    assert not on_ballot(one_seat, 1) and on_ballot(one_seat, 2)
    assert on_ballot(with_ron, 1) and not on_ballot(with_ron, 0)


def test_shuffled_order_is_stable_for_a_voter_and_differs_between_voters(database, officer, clock, key, kit):
    names = [f"Name{i:02d}" for i in range(8)]
    world = kit.build_world(
        database, officer, now=clock(), posts=[("Chair", 1, "stv", True, names)], ballot_order="shuffled"
    )
    with database.session() as s:
        election = s.get(Election, world.election_id)
        first = [o.key for o in ballot_contests(s, election, key=key, voter=1)[0].options]
        again = [o.key for o in ballot_contests(s, election, key=key, voter=1)[0].options]
        others = {
            tuple(o.key for o in ballot_contests(s, election, key=key, voter=v)[0].options)
            for v in range(2, 8)
        }
    assert first == again
    assert first[-1] == RON  # RON always comes last
    assert len(others | {tuple(first)}) > 1


def test_alphabetical_order_is_by_surname(database, officer, clock, key, kit):
    world = kit.build_world(
        database, officer, now=clock(), posts=[("Chair", 1, "plurality", False, ["Young", "Abbot", "Moss"])]
    )
    with database.session() as s:
        election = s.get(Election, world.election_id)
        labels = [o.label for o in ballot_contests(s, election, key=key, voter=5)[0].options]
    assert labels == ["Cand Abbot", "Cand Moss", "Cand Young"]
