"""Plurality, approval, counting contests in order, the count record and the package's boundaries."""

from __future__ import annotations

import ast
import dataclasses
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import portal.elections.counting as counting
from portal.elections.counting import (
    METHODS,
    Ballot,
    Candidate,
    Contest,
    count,
    count_approval,
    count_ers97_stv,
    count_in_order,
    count_plurality,
    count_scottish_stv,
    explain,
)

PEOPLE = (Candidate(1, "Alice"), Candidate(2, "Bob"), Candidate(3, "Carol"), Candidate(4, "RON"))


def ballots(*spec: tuple[tuple[int, ...], int]) -> tuple[Ballot, ...]:
    return tuple(Ballot(ranking, weight) for ranking, weight in spec)


def test_plurality_elects_the_candidate_with_most_votes() -> None:
    contest = Contest(1, PEOPLE, ballots(((1,), 5), ((2,), 7), ((3,), 2), ((), 3)), title="Chair")
    result = count_plurality(contest, seed=1)
    assert [c.name for c in result.winners] == ["Bob"]
    assert result.valid_ballots == 14  # the 3 blank papers are not valid votes
    assert result.final_votes == {"Alice": 5, "Bob": 7, "Carol": 2, "RON": 0}
    assert [d.candidate.name for d in result.excluded] == ["Alice", "Carol", "RON"]
    assert result.quota is None and result.lots == ()
    assert result.as_dict()["final_votes"]["Bob"] == "7"


def test_plurality_breaks_a_tie_for_first_place_by_lot_with_the_recorded_seed() -> None:
    contest = Contest(1, PEOPLE[:2], ballots(((1,), 4), ((2,), 4)))
    winners = {count_plurality(contest, seed=s).winners[0].name for s in range(10)}
    assert winners == {"Alice", "Bob"}
    result = count_plurality(contest, seed=42)
    assert result.seed == 42 and len(result.lots) == 1
    assert count_plurality(contest, seed=42) == result


def test_plurality_refuses_more_than_one_seat_or_more_than_one_mark() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        count_plurality(Contest(2, PEOPLE, ()))
    with pytest.raises(ValueError, match="at most 1"):
        count_plurality(Contest(1, PEOPLE, ballots(((1, 2), 1))))


def test_approval_elects_the_most_approved_candidates() -> None:
    contest = Contest(2, PEOPLE, ballots(((1, 2), 3), ((2, 3), 4), ((3,), 2), ((4, 1), 1)))
    result = count_approval(contest, seed=1)
    assert result.final_votes == {"Alice": 4, "Bob": 7, "Carol": 6, "RON": 1}
    assert [c.name for c in result.winners] == ["Bob", "Carol"]
    assert result.valid_ballots == 10


def test_approval_breaks_a_tie_for_the_last_seat_by_lot() -> None:
    contest = Contest(2, PEOPLE[:3], ballots(((1, 2), 3), ((1, 3), 3)))
    result = count_approval(contest, seed=9)
    assert result.winners[0].name == "Alice"
    assert result.winners[1].name in {"Bob", "Carol"}
    assert len(result.lots) == 1 and "random.Random(9)" in result.lots[0]
    seconds = {count_approval(contest, seed=s).winners[1].name for s in range(10)}
    assert seconds == {"Bob", "Carol"}


def test_approval_refuses_a_ballot_approving_more_candidates_than_seats() -> None:
    with pytest.raises(ValueError, match="at most 2"):
        count_approval(Contest(2, PEOPLE, ballots(((1, 2, 3), 1))))


@pytest.mark.parametrize("method", METHODS)
def test_re_open_nominations_is_counted_like_any_other_candidate(method: str) -> None:
    contest = Contest(1, PEOPLE, ballots(((4,), 9), ((1,), 3), ((2,), 2)))
    assert [c.name for c in count(contest, method, seed=1).winners] == ["RON"]  # type: ignore[arg-type]


def test_count_dispatches_by_method_name_and_rejects_unknown_methods() -> None:
    contest = Contest(1, PEOPLE, ballots(((1, 2), 3), ((2,), 2)))
    assert count(contest, "scottish-stv", seed=4) == count_scottish_stv(contest, seed=4)
    assert count(contest, "ers97-stv", seed=4) == count_ers97_stv(contest, seed=4)
    with pytest.raises(ValueError, match="unknown counting method"):
        count(contest, "borda", seed=1)  # type: ignore[arg-type]


def test_count_in_order_withdraws_candidates_elected_to_earlier_contests() -> None:
    president = Contest(1, PEOPLE[:3], ballots(((1,), 6), ((2,), 4), ((3,), 1)), title="President")
    # Alice's supporters prefer Carol next; once Alice is withdrawn their papers go straight to Carol.
    vice = Contest(1, PEOPLE[:3], ballots(((1, 3), 6), ((2,), 4), ((3,), 1)), title="Vice-president")
    first, second = count_in_order([(president, "plurality"), (vice, "scottish-stv")], seed=8)
    assert [c.name for c in first.winners] == ["Alice"]
    assert [c.name for c in second.winners] == ["Carol"]
    assert [c.name for c in second.withdrawn] == ["Alice"]
    assert second.final_votes == {"Bob": Decimal("4.00000"), "Carol": Decimal("7.00000")}
    assert first.seed == second.seed == 8
    # Without the withdrawal Alice would simply win again.
    assert [c.name for c in count_scottish_stv(vice, seed=8).winners] == ["Alice"]


def test_count_in_order_leaves_contests_without_earlier_winners_untouched() -> None:
    treasurer = Contest(1, (Candidate(7, "Dan"), Candidate(8, "Eve")), ballots(((7,), 2), ((8,), 1)))
    chair = Contest(1, PEOPLE[:2], ballots(((1,), 2), ((2,), 1)))
    results = count_in_order([(chair, "plurality"), (treasurer, "ers97-stv")], seed=1)
    assert results[1].withdrawn == ()
    assert [c.name for c in results[1].winners] == ["Dan"]


def test_count_without_a_seed_draws_one_and_records_it() -> None:
    contest = Contest(1, PEOPLE[:2], ballots(((1,), 1), ((2,), 1)))
    result = count_scottish_stv(contest)
    assert isinstance(result.seed, int)
    assert count_scottish_stv(contest, seed=result.seed) == result


def test_count_record_serialises_to_json_with_the_reference_field_names() -> None:
    contest = Contest(2, PEOPLE, ballots(((1, 2), 40), ((2,), 10), ((3, 1), 25), ((4,), 5)), title="Council")
    for counter, places in ((count_scottish_stv, 5), (count_ers97_stv, 2)):
        data = json.loads(json.dumps(counter(contest, seed=3).to_json()))
        for field in (
            "seats",
            "ballots",
            "quota",
            "stages",
            "elected",
            "excluded",
            "final_votes",
            "non_transferable_final",
            "title",
            "seed",
            "rounds",
        ):
            assert field in data
        assert data["title"] == "Council" and data["ballots"] == 80 and data["seats"] == 2
        assert len(data["quota"].split(".")[1]) == places
        assert all(len(v.split(".")[1]) == places for v in data["final_votes"].values())
        assert len(data["rounds"]) == data["stages"] + 1
        first = data["rounds"][0]
        assert first["action"] == "first count" and first["votes"]["Alice"].startswith("40.")
        for stage in data["rounds"][1:]:
            assert stage["action"] in ("surplus", "exclusion")
            assert stage["subjects"] and stage["notes"]


def test_count_record_is_made_of_frozen_dataclasses() -> None:
    result = count_scottish_stv(Contest(1, PEOPLE[:2], ballots(((1,), 2), ((2,), 1))), seed=1)
    for record in (result, result.stages[0], result.stages[0].tallies[0], result.elected[0]):
        assert dataclasses.is_dataclass(record)
        field = dataclasses.fields(record)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, field, None)


def test_explanation_describes_plurality_and_stv_counts_in_sentences() -> None:
    single = Contest(1, PEOPLE, ballots(((1,), 5), ((2,), 3), ((3,), 2)), title="Chair")
    plurality = explain(count_plurality(single, seed=1))
    assert plurality[0] == "This count used plurality (first past the post)."
    assert "Alice is elected with 5 votes." in plurality
    assert plurality[-1] == "Elected: Alice."
    # 9 papers, quota 4.50: RON (0) and Carol (2) are excluded together, giving Alice 6.
    ranked = Contest(1, PEOPLE, ballots(((1,), 4), ((2, 1), 3), ((3, 1), 2)), title="Chair")
    stv = explain(count_ers97_stv(ranked, seed=1))
    assert "Stage 0: First preferences." in stv
    assert "Stage 1: Exclusion of RON and Carol." in stv
    assert any(line.endswith("RON and Carol are excluded together.") for line in stv)
    assert stv[-1] == "Elected: Alice."


def test_stv_count_with_no_valid_ballots_still_fills_the_seats_by_lot() -> None:
    contest = Contest(2, PEOPLE, ballots(((), 3)))
    for counter in (count_scottish_stv, count_ers97_stv):
        result = counter(contest, seed=6)
        assert result.valid_ballots == 0
        assert len(result.winners) == 2
        assert result.lots


def test_stv_count_with_fewer_candidates_than_seats_elects_them_all() -> None:
    contest = Contest(3, PEOPLE[:2], ballots(((1, 2), 3), ((2,), 1)))
    for counter in (count_scottish_stv, count_ers97_stv):
        result = counter(contest, seed=1)
        assert {c.name for c in result.winners} == {"Alice", "Bob"}
        assert result.excluded == ()


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Contest(0, PEOPLE, ()), "at least one seat"),
        (lambda: Contest(1, (*PEOPLE, Candidate(1, "Again")), ()), "ids must be unique"),
        (lambda: Contest(1, (*PEOPLE, Candidate(9, "Alice")), ()), "names must be unique"),
        (lambda: Contest(1, PEOPLE, ballots(((9,), 1))), "unknown candidate"),
        (lambda: Contest(1, PEOPLE, (), withdrawn=frozenset({9})), "not in the contest"),
        (lambda: Ballot((1, 1)), "more than once"),
        (lambda: Ballot((1,), 0), "positive integer"),
    ],
)
def test_contest_rejects_inconsistent_input(build: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()  # type: ignore[operator]


def test_counting_package_imports_only_the_standard_library_and_itself() -> None:
    package = Path(counting.__file__).parent
    for source in package.glob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative import within the package
                    continue
                roots = [(node.module or "").split(".")[0]]
            else:
                continue
            for root in roots:
                assert root in sys.stdlib_module_names, f"{source.name} imports {root}"


def test_counting_package_exports_its_documented_api() -> None:
    for name in counting.__all__:
        assert getattr(counting, name) is not None
        assert name in (counting.__doc__ or "") or name in {"CandidateId"}
