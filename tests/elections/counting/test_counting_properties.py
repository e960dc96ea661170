"""Properties every count must have, checked on many small random elections (hypothesis)."""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.elections.counting import (
    Ballot,
    Candidate,
    Contest,
    CountResult,
    count_approval,
    count_ers97_stv,
    count_plurality,
    count_scottish_stv,
    read_blt,
    write_blt,
)

STV: dict[str, Callable[..., CountResult]] = {"scottish": count_scottish_stv, "ers97": count_ers97_stv}
FAST = settings(max_examples=60, deadline=None, database=None)


@st.composite
def elections(
    draw: st.DrawFn, *, max_candidates: int = 6, max_ballots: int = 25, withdraw: bool = True
) -> Contest:
    """Small contests: 2-6 candidates, truncated rankings, weights 1-5, sometimes a withdrawal."""
    n = draw(st.integers(2, max_candidates))
    ids = list(range(1, n + 1))
    seats = draw(st.integers(1, n))
    ballots = []
    for _ in range(draw(st.integers(0, max_ballots))):
        order = draw(st.permutations(ids))
        length = draw(st.integers(0, n))  # 0: a blank paper
        ballots.append(Ballot(tuple(order[:length]), draw(st.integers(1, 5))))
    withdrawn = frozenset(draw(st.sets(st.sampled_from(ids), max_size=n - 1))) if withdraw else frozenset()
    candidates = tuple(Candidate(i, f"Candidate {i}") for i in ids)
    return Contest(seats, candidates, tuple(ballots), withdrawn, "Random election")


rules = st.sampled_from(sorted(STV))


@FAST
@given(elections(), rules, st.randoms(use_true_random=False))
def test_stv_count_does_not_depend_on_ballot_order_or_grouping(
    contest: Contest, rule: str, rnd: random.Random
) -> None:
    count = STV[rule]
    split = [Ballot(b.ranking) for b in contest.ballots for _ in range(b.weight)]
    rnd.shuffle(split)
    shuffled = Contest(contest.seats, contest.candidates, tuple(split), contest.withdrawn, contest.title)
    assert count(shuffled, seed=7).as_dict() == count(contest, seed=7).as_dict()


@FAST
@given(elections(), rules)
def test_stv_conserves_votes_exactly_at_every_stage(contest: Contest, rule: str) -> None:
    result = STV[rule](contest, seed=3)
    assert [s.number for s in result.stages] == list(range(len(result.stages)))
    previous = Decimal(0)
    for stage in result.stages:
        total = sum(t.votes for t in stage.tallies) + stage.non_transferable + stage.loss_by_fractions
        assert total == result.valid_ballots
        assert all(t.votes >= 0 for t in stage.tallies)
        assert stage.loss_by_fractions >= 0
        assert stage.non_transferable >= previous
        previous = stage.non_transferable


@FAST
@given(elections(), rules)
def test_stv_fills_every_seat_it_can_and_decides_every_candidate_once(contest: Contest, rule: str) -> None:
    result = STV[rule](contest, seed=11)
    counted = [c for c in contest.candidates if c.id not in contest.withdrawn]
    assert len(result.elected) == min(contest.seats, len(counted))
    decided = [d.candidate for d in (*result.elected, *result.excluded)]
    assert sorted(c.id for c in decided) == sorted(c.id for c in counted)
    assert [d.stage for d in result.elected] == sorted(d.stage for d in result.elected)
    assert all(d.stage <= result.last_stage for d in (*result.elected, *result.excluded))
    assert {c.id for c in result.withdrawn} == set(contest.withdrawn)


@FAST
@given(elections(), rules)
def test_stv_elects_candidate_with_quota_at_first_stage(contest: Contest, rule: str) -> None:
    result = STV[rule](contest, seed=5)
    first = result.stages[0]
    with_quota = {t.candidate.name for t in first.tallies if t.votes >= (first.quota or 0) and t.votes > 0}
    if len(with_quota) <= contest.seats:
        assert with_quota <= {d.candidate.name for d in result.elected if d.stage == 0}


@FAST
@given(
    st.integers(2, 6).flatmap(
        lambda n: st.tuples(st.permutations(list(range(1, n + 1))), st.integers(1, n - 1))
    ),
    st.integers(0, 150),
    rules,
)
def test_stv_unanimous_electorate_elects_its_first_choices_in_order(
    ranking_and_seats: tuple[list[int], int], extra: int, rule: str
) -> None:
    ranking, seats = ranking_and_seats
    voters = 2 * (seats + 1) ** 2 + extra  # enough papers for every surplus to reach the quota
    candidates = tuple(Candidate(i, f"C{i}") for i in sorted(ranking))
    contest = Contest(seats, candidates, (Ballot(tuple(ranking), voters),))
    result = STV[rule](contest, seed=1)
    assert [c.id for c in result.winners] == ranking[:seats]
    assert result.lots == ()


@FAST
@given(elections(), rules, st.integers(0, 2**32 - 1))
def test_stv_recount_with_the_recorded_seed_repeats_the_count(contest: Contest, rule: str, seed: int) -> None:
    result = STV[rule](contest, seed=seed)
    assert result.seed == seed
    assert STV[rule](contest, seed=result.seed) == result


@FAST
@given(elections(max_ballots=30))
def test_plurality_elects_a_candidate_with_the_most_votes(contest: Contest) -> None:
    single = Contest(
        1,
        contest.candidates,
        tuple(Ballot(b.ranking[:1], b.weight) for b in contest.ballots),
        contest.withdrawn,
    )
    result = count_plurality(single, seed=2)
    votes = result.final_votes
    assert sum(votes.values()) == result.valid_ballots
    assert len(result.winners) == 1
    assert votes[result.winners[0].name] == max(votes.values())
    assert len(result.lots) == (list(votes.values()).count(max(votes.values())) > 1)


@FAST
@given(elections(max_ballots=30, withdraw=False))
def test_approval_elects_the_most_approved_candidates(contest: Contest) -> None:
    approvals = Contest(
        contest.seats,
        contest.candidates,
        tuple(Ballot(b.ranking[: contest.seats], b.weight) for b in contest.ballots),
    )
    result = count_approval(approvals, seed=4)
    votes = result.final_votes
    assert sum(votes.values()) == sum(len(b.ranking) * b.weight for b in approvals.ballots)
    assert len(result.winners) == min(contest.seats, len(contest.candidates))
    losers = [votes[d.candidate.name] for d in result.excluded]
    assert all(votes[w.name] >= max(losers, default=0) for w in result.winners)


names = st.text(
    st.characters(codec="utf-8", exclude_characters='"\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029'), max_size=12
)


@FAST
@given(elections(), st.lists(names, min_size=6, max_size=6, unique=True), names)
def test_blt_round_trip_gives_the_same_election(contest: Contest, labels: list[str], title: str) -> None:
    named = Contest(
        contest.seats,
        tuple(Candidate(c.id, labels[i]) for i, c in enumerate(contest.candidates)),
        contest.ballots,
        contest.withdrawn,
        title,
    )
    again = read_blt(write_blt(named))
    assert again == named.grouped()
    assert write_blt(again) == write_blt(named)
