"""ERS97 STV on small elections worked out by hand (the working is in each test's comments).

Values are in hundredths.  "Rule" numbers are sections of the ERS's 1997 rules.  With 100 valid votes
and 2 seats the quota is 100 / 3 = 33.333... -> 33.33 with the remainder ignored, plus 0.01 = 33.34.
"""

from __future__ import annotations

from decimal import Decimal

from portal.elections.counting import (
    Ballot,
    Candidate,
    Contest,
    CountResult,
    count_ers97_stv,
    count_scottish_stv,
)


def contest(seats: int, ballots: list[tuple[str, int]], order: str = "ABCDE") -> Contest:
    """Candidates are single letters (id and name); ``ballots`` are (ranking string, weight) pairs."""
    used = {c for ranking, _ in ballots for c in ranking}
    candidates = tuple(Candidate(c, c) for c in order if c in used)
    return Contest(seats, candidates, tuple(Ballot(tuple(r), w) for r, w in ballots))


def outcome(result: CountResult) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    return (
        [(d.candidate.name, d.stage) for d in result.elected],
        [(d.candidate.name, d.stage) for d in result.excluded],
    )


def votes(result: CountResult, stage: int | None = None) -> dict[str, str]:
    chosen = result.stages[-1 if stage is None else stage]
    return {name: f"{v:.2f}" for name, v in chosen.votes().items()}


def test_ers97_transfers_a_first_stage_surplus_at_a_truncated_transfer_value() -> None:
    # 60 AB, 26 C, 14 B.  Quota 33.34; A has 60.00 and is elected at the first stage.
    # Continuing B 14, C 26: 14 + surplus 26.66 = 40.66 > 26, so the surplus is not deferred.
    # All 60 of A's papers are examined (first-stage surplus); all 60 are transferable to B, worth 60.00,
    # more than the surplus, so each passes at 26.66 / 60 = 0.4443 -> 0.44: B gets 60 x 0.44 = 26.40,
    # and the non-transferable difference is 26.66 - 26.40 = 0.26.  B has 14 + 26.40 = 40.40: elected.
    result = count_ers97_stv(contest(2, [("AB", 60), ("C", 26), ("B", 14)]), seed=1)
    assert result.quota == Decimal("33.34")
    assert outcome(result) == ([("A", 0), ("B", 1)], [("C", 1)])
    assert votes(result) == {"A": "33.34", "B": "40.40", "C": "26.00"}
    assert result.loss_by_fractions == Decimal("0.26")
    assert result.non_transferable == 0
    assert result.stages[1].transfers()["B"] == Decimal("26.40")


def test_ers97_transfers_only_the_last_parcel_of_a_surplus_arising_from_a_transfer() -> None:
    # 30 BC, 10 DBA, 25 A, 20 C, 15 EC.  Quota 33.34.  First stage: B 30, A 25, C 20, E 15, D 10.
    # Stage 1: D (10) is excluded (D + E = 25 > C's 20, so D alone); D's 10 papers go to B: B 40.00,
    #   elected with a surplus of 6.66.
    # Stage 2: E 15 + 6.66 = 21.66 > C's 20, so the surplus is not deferred.  Only the last parcel, the
    #   10 papers from D, is examined; next preference A.  10.00 > 6.66, so each passes at 0.66:
    #   A gets 6.60 and 0.06 is the non-transferable difference.  C gets nothing from B's own 30 papers
    #   (whole-ballot Scottish STV would send them all on).  A 31.60 < 33.34; the active-vote threshold
    #   is (100 - 0.06 - 33.34) / 2 = 33.30, which A does not reach either.
    # Stage 3: E (15) is excluded (E + C = 35 > A's 31.60): C gets 15, has 35.00 and is elected.
    result = count_ers97_stv(contest(2, [("BC", 30), ("DBA", 10), ("A", 25), ("C", 20), ("EC", 15)]), seed=1)
    assert outcome(result) == ([("B", 1), ("C", 3)], [("D", 1), ("E", 3), ("A", 3)])
    assert result.stages[2].description == "Surplus of B"
    assert result.stages[2].transfers() == {
        "A": Decimal("6.60"),
        "B": Decimal("-6.66"),
        "C": Decimal("0.00"),
        "D": Decimal("0.00"),
        "E": Decimal("0.00"),
    }
    assert votes(result, 2) == {"A": "31.60", "B": "33.34", "C": "20.00", "D": "0.00", "E": "15.00"}
    assert result.loss_by_fractions == Decimal("0.06")
    assert "only the last batch" in " ".join(result.stages[2].notes)
    # Under the Scottish rules all 40 of B's papers move, so C does get a share of B's surplus.
    scottish = count_scottish_stv(
        contest(2, [("BC", 30), ("DBA", 10), ("A", 25), ("C", 20), ("EC", 15)]), seed=1
    )
    assert scottish.stages[2].description == "Surplus of B"
    assert scottish.stages[2].transfers()["C"] > 0


def test_ers97_excludes_the_lowest_candidate_and_elects_on_the_total_active_vote() -> None:
    # 60 AB, 26 C, 10 D, 4 DC.  Quota 33.34; A 60 is elected with a surplus of 26.66; D 14, B 0.
    # Stage 1: lowest B 0 + 26.66 > D's 14 (and B + D + 26.66 > C's 26): not deferred.  A's 60 papers
    #   go to B at 26.66 / 60 -> 0.44: B 26.40, loss 0.26.
    # Stage 2: D 14 is lowest (D + C = 40 > B's 26.40, so D alone) and is excluded: its 10 D-only papers
    #   become non-transferable and 4 go to C: C 30.00.  Active vote = 100 - 10 - 0.26 - 33.34 = 56.40,
    #   threshold 56.40 / 2 = 28.20: C (30.00) is deemed elected although below the quota (5.4.9(b)).
    result = count_ers97_stv(contest(2, [("AB", 60), ("C", 26), ("D", 10), ("DC", 4)]), seed=1)
    assert outcome(result) == ([("A", 0), ("C", 2)], [("D", 2), ("B", 2)])
    assert votes(result) == {"A": "33.34", "B": "26.40", "C": "30.00", "D": "0.00"}
    assert result.non_transferable == Decimal("10.00")
    assert "total active vote 56.40 divided by 2 (28.20)" in result.elected[1].reason


def test_ers97_moves_an_excluded_candidates_papers_in_batches_of_descending_value() -> None:
    # 20 AXB, 40 AB, 10 XC, 25 B, 25 C; 2 seats; 120 votes, quota 40.00 exactly.
    # Stage 0: A 60 (elected, surplus 20), B 25, C 25, X 10.
    # Stage 1: X 10 + 20 > 25, not deferred.  A's 60 papers pass at 20 / 60 -> 0.33: X gets 20 x 0.33 =
    #   6.60 (X 16.60), B gets 40 x 0.33 = 13.20 (B 38.20); loss 0.20.
    # Stage 2: X 16.60 is lowest (X + C = 41.60 > B's 38.20) and is excluded holding two batches:
    #   first the 10 papers of value 1.00 -> C (C 35.00); nobody is elected (threshold is the quota 40
    #   or (120 - 0.20 - 40) / 2 = 39.90); then the 20 papers of value 0.33 -> B: B 44.80, elected.
    result = count_ers97_stv(
        contest(2, [("AXB", 20), ("AB", 40), ("XC", 10), ("B", 25), ("C", 25)], "ABCX"), seed=1
    )
    assert outcome(result) == ([("A", 0), ("B", 2)], [("X", 2), ("C", 2)])
    assert votes(result) == {"A": "40.00", "B": "44.80", "C": "35.00", "X": "0.00"}
    notes = result.stages[2].notes
    assert notes.index(
        "10 papers of value 1.00 were transferred: 10.00 to continuing candidates, 0.00 non-transferable."
    ) < notes.index(
        "20 papers of value 0.33 were transferred: 6.60 to continuing candidates, 0.00 non-transferable."
    )
    assert result.loss_by_fractions == Decimal("0.20")


def test_ers97_stops_transferring_papers_once_all_places_are_filled() -> None:
    # As above but 20 AXCB, 40 AB, 10 XC, 20 B, 30 C (120 votes, quota 40.00).  After A's surplus:
    # X 16.60, B 33.20, C 30.  X is excluded (X + C = 46.60 > B's 33.20); its first batch (10 papers of
    # value 1.00) gives C 40.00 = the quota, filling the last place, so the 0.33 batch is not moved
    # (rule 5.5.2) and X keeps 6.60.
    result = count_ers97_stv(
        contest(2, [("AXCB", 20), ("AB", 40), ("XC", 10), ("B", 20), ("C", 30)], "ABCX"), seed=1
    )
    assert outcome(result) == ([("A", 0), ("C", 2)], [("X", 2), ("B", 2)])
    assert votes(result) == {"A": "40.00", "B": "33.20", "C": "40.00", "X": "6.60"}
    assert "no further papers are transferred (rule 5.5.2)" in " ".join(result.stages[2].notes)


def test_ers97_defers_a_surplus_that_cannot_change_the_order_of_the_lowest_candidates() -> None:
    # 35 AB, 30 B, 25 C, 10 DC.  Quota 33.34; A 35 is elected with a surplus of 1.66.
    # Lowest D 10 + 1.66 = 11.66 <= C's 25, so the transfer is deferred (rule 5.2.2) and D is excluded
    # at stage 1: C gets 10 and has 35.00, elected.  All places are filled, so A's surplus is never
    # transferred: A still shows 35.00 and B 30.00.
    result = count_ers97_stv(contest(2, [("AB", 35), ("B", 30), ("C", 25), ("DC", 10)]), seed=1)
    assert outcome(result) == ([("A", 0), ("C", 1)], [("D", 1), ("B", 1)])
    assert result.last_stage == 1
    assert votes(result) == {"A": "35.00", "B": "30.00", "C": "35.00", "D": "0.00"}
    assert "deferred" in " ".join(result.stages[1].notes)


def test_ers97_transfers_a_deferred_surplus_once_it_could_change_the_order() -> None:
    # 50 AB, 16 BC, 10 C, 24 D, 20 E; 3 seats; 120 votes, quota 30.00 exactly.  A 50, surplus 20.
    # Stage 1: lowest C 10 + 20 > B's 16: transfer A's 50 papers to B at 20 / 50 = 0.40: B 36.00,
    #   elected with a surplus of 6.00.
    # Stage 2: lowest C 10 + 6 = 16 <= E's 20, so B's surplus is deferred and C is excluded (C + E + 6 >
    #   D's 24): its 10 papers are non-transferable.  Active = 120 - 10 - 30 - 30 = 50, threshold
    #   min(30, 50 / 2 = 25): D (24) and E (20) fall short.
    # Stage 3: lowest E 20 + 6 = 26 > D's 24: now B's surplus is transferred.  Its last parcel is A's 50
    #   papers with no further preference, so the 6.00 is non-transferable.
    # Continuing D and E for one place: excluding E would leave one, so D is deemed elected (5.5.1).
    result = count_ers97_stv(contest(3, [("AB", 50), ("BC", 16), ("C", 10), ("D", 24), ("E", 20)]), seed=1)
    assert result.quota == Decimal("30.00")
    assert [s.description for s in result.stages] == [
        "First preferences",
        "Surplus of A",
        "Exclusion of C",
        "Surplus of B",
    ]
    assert "deferred" in " ".join(result.stages[2].notes)
    assert outcome(result) == ([("A", 0), ("B", 1), ("D", 3)], [("C", 2), ("E", 3)])
    assert result.non_transferable == Decimal("16.00")


def test_ers97_excludes_several_lowest_candidates_together_and_recalculates_the_quota() -> None:
    # 40 A, 35 B, 10 C, 8 D, 7 E; 1 seat; quota 100 / 2 = 50.00 exactly.
    # Lowest first: E 7 <= D 8; E + D = 15 > C 10; E + D + C = 25 <= B 35; + B = 60 > A 40.
    # So E, D and C are excluded together at stage 1 (rule 5.2.5).  Their 25 papers are
    # non-transferable and nobody is elected yet, so the quota becomes (100 - 25) / 2 = 37.50
    # (rule 5.4.8): A (40) is elected.
    result = count_ers97_stv(contest(1, [("A", 40), ("B", 35), ("C", 10), ("D", 8), ("E", 7)]), seed=1)
    assert result.stages[1].description == "Exclusion of E, D and C"
    assert outcome(result) == ([("A", 1)], [("E", 1), ("D", 1), ("C", 1), ("B", 1)])
    assert result.stages[0].quota == Decimal("50.00")
    assert result.quota == Decimal("37.50")


def test_ers97_breaks_a_tie_by_the_earliest_stage_at_which_the_candidates_differed() -> None:
    # 18 A, 5 X, 6 Y, 3 ZX, 1 ZY, 2 WX, 3 WY; 1 seat; 38 votes, quota 19.00.
    # Stage 0: A 18, Y 6, X 5, W 5, Z 4.  Stage 1: Z excluded (Z 4 < 5): X 8, Y 7.
    # Stage 2: W (5) excluded: X 10, Y 10.  Stage 3: X and Y tie for exclusion.  ERS97 looks at the
    # first stage (X 5 < Y 6), so X is excluded; the Scottish rules look back to the most recent
    # difference (stage 1: X 8 > Y 7) and exclude Y.  X's 10 papers are non-transferable, so the
    # ERS97 quota (nobody elected yet) becomes (38 - 10) / 2 = 14.00 and A (18) is elected.
    ballots = [("A", 18), ("X", 5), ("Y", 6), ("ZX", 3), ("ZY", 1), ("WX", 2), ("WY", 3)]
    ers97 = count_ers97_stv(contest(1, ballots, "AXYZW"), seed=1)
    assert outcome(ers97) == ([("A", 3)], [("Z", 1), ("W", 2), ("X", 3), ("Y", 3)])
    assert "X had fewer votes at the first stage, the earliest point" in ers97.excluded[2].reason
    assert ers97.quota == Decimal("14.00")
    assert ers97.lots == ()
    scottish = count_scottish_stv(contest(1, ballots, "AXYZW"), seed=1)
    assert [(d.candidate.name, d.stage) for d in scottish.excluded][:3] == [("Z", 1), ("W", 2), ("Y", 3)]


def test_ers97_breaks_a_complete_tie_by_lot_and_the_seed_repeats_it() -> None:
    # 4 AC, 4 BC, 7 C; 1 seat; quota 7.50.  A and B have 4 each at every stage, and 4 + 4 > C's 7,
    # so they cannot be excluded together: one is chosen by lot.  Its 4 papers go to C (11): elected.
    election = contest(1, [("AC", 4), ("BC", 4), ("C", 7)])
    first_out = {count_ers97_stv(election, seed=seed).excluded[0].candidate.name for seed in range(8)}
    assert first_out == {"A", "B"}  # the lot really is drawn from the seed
    result = count_ers97_stv(election, seed=5)
    assert len(result.lots) == 1 and "random.Random(5)" in result.lots[0]
    assert result.seed == 5
    assert outcome(result)[0] == [("C", 1)]
    assert count_ers97_stv(election, seed=5) == result
    assert count_ers97_stv(election, seed=5).as_dict() == result.as_dict()


def test_ers97_deems_nobody_elected_when_candidates_tie_at_the_quota_for_the_last_place() -> None:
    # 50 A, 50 B; 1 seat; quota 100 / 2 = 50.00 exactly: both reach it, equal at every point, so
    # neither is deemed elected at the first stage (rule 5.6.2).  Excluding one (by lot) would leave one
    # candidate for one place (rule 5.5.1), so the other is deemed elected at stage 0.
    result = count_ers97_stv(contest(1, [("A", 50), ("B", 50)]), seed=3)
    assert "none of them is deemed elected" in " ".join(result.stages[0].notes)
    assert len(result.elected) == 1 and result.elected[0].stage == 0
    assert len(result.lots) == 1
