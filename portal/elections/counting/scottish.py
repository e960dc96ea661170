"""Scottish STV: the Scottish Local Government Elections Order 2007 (SSI 2007/42), schedule 1 rules 45-52.

The rules, as applied here:

* quota = floor(valid papers / (seats + 1)) + 1 (rule 46); a candidate with at least the quota is
  elected (rule 47);
* surpluses before exclusions; the largest first (rule 49(1)).  Ties go to the candidate with more votes
  at the end of the most recent preceding stage at which they differed, then by lot (rule 49(2)-(3));
* a surplus is transferred by moving *all* of the candidate's papers, each at the value
  ``surplus * value when received / candidate's total``, computed to five decimal places with the
  remainder ignored, paper by paper (rule 48(3)); papers with no further preference are non-transferable
  at that value; what truncation drops is recorded as loss by fractions; the candidate keeps exactly
  the quota;
* as in the reference counts, every elected candidate's papers are passed on in turn, including those
  elected with exactly the quota (a surplus of 0.00000, which moves no value but is a stage);
* with no surplus left, the candidate with the fewest votes is excluded (rule 50); ties as for
  surpluses but choosing the fewest votes (rule 51).  All the excluded candidate's papers move at once
  at their current values: one stage per exclusion;
* when the continuing candidates are no more than the vacancies they are all elected (rule 52); when
  all seats are filled, anyone still continuing is listed as excluded at the last stage.

Arithmetic is integer fixed point in units of 0.00001, so every value is exact.
"""

from __future__ import annotations

import random

from ._engine import CONTINUING, ELECTED, EXCLUDED, Papers, Recorder, break_tie, resolve_seed
from .model import Contest
from .record import CountResult, join_names

PLACES = 5
SCALE = 10**PLACES
RULE = "scottish-stv"


def count_scottish_stv(contest: Contest, *, seed: int | None = None) -> CountResult:
    """Count ``contest`` under the Scottish STV rules and return the full record.

    ``seed`` seeds the ``random.Random`` used if a tie must be decided by lot; when omitted a fresh
    seed is drawn.  Either way it is stored in the result so the count can be repeated exactly.
    """
    seed = resolve_seed(seed)
    rng = random.Random(seed)
    papers = Papers(contest)
    candidates = papers.candidates
    names = [c.name for c in candidates]
    n = len(candidates)
    seats = contest.seats
    rec = Recorder(candidates, PLACES)
    fmt = rec.text
    lots: list[str] = []

    rankings = papers.rankings
    counts = papers.counts
    weight = [SCALE] * len(rankings)
    pos = [0] * len(rankings)
    status = [CONTINUING] * n
    votes = [0] * n
    piles: list[list[int]] = [[] for _ in range(n)]
    for g, ranking in enumerate(rankings):
        first = ranking[0]
        piles[first].append(g)
        votes[first] += counts[g] * SCALE

    valid = papers.valid
    quota = (valid // (seats + 1) + 1) * SCALE
    non_transferable = 0
    loss = 0
    history: list[list[int]] = [list(votes)]
    labels = ["at the end of stage 0"]
    pending: list[int] = []  # elected candidates whose papers have not been passed on yet
    elected_count = 0

    def elect_with_quota(stage: int, notes: list[str]) -> None:
        """Rule 47: everyone continuing with at least the quota is elected, highest vote first."""
        nonlocal elected_count
        reached = sorted(
            (c for c in range(n) if status[c] == CONTINUING and votes[c] >= quota), key=lambda c: -votes[c]
        )
        for c in reached:
            status[c] = ELECTED
            pending.append(c)
            elected_count += 1
            reason = (
                f"{names[c]} has {fmt(votes[c])} votes, at least the quota of {fmt(quota)}, and is elected."
            )
            rec.elect(c, stage, reason)
            notes.append(reason)

    def next_preference(g: int) -> int:
        """Advance group ``g`` to its next continuing candidate; -1 when it has none (exhausted)."""
        ranking = rankings[g]
        p = pos[g] + 1
        end = len(ranking)
        while p < end and status[ranking[p]] != CONTINUING:
            p += 1
        pos[g] = p
        return ranking[p] if p < end else -1

    notes: list[str] = [
        f"The first preferences on {valid} valid ballot papers were counted.",
        f"The quota is {valid} divided by {seats + 1}, ignoring any remainder, plus one: {fmt(quota)}.",
    ]
    elect_with_quota(0, notes)
    rec.first_count(quota=quota, votes=votes, status=status, notes=notes, description="First preferences")

    stage = 0
    while True:
        vacancies = seats - elected_count
        continuing = [c for c in range(n) if status[c] == CONTINUING]
        if vacancies <= 0 or len(continuing) <= vacancies:
            break
        stage += 1
        before = list(votes)
        notes = []
        if pending:
            top = max(votes[c] for c in pending)
            tied = [c for c in pending if votes[c] == top]
            c, why = break_tie(
                tied,
                history,
                labels,
                highest=True,
                backward=True,
                rng=rng,
                names=names,
                seed=seed,
                lots=lots,
                what="the largest surplus",
            )
            if why:
                notes.append(why)
            pending.remove(c)
            total = votes[c]
            surplus = total - quota
            moved = 0
            exhausted = 0
            pile = piles[c]
            piles[c] = []
            for g in pile:
                w = weight[g] * surplus // total
                weight[g] = w
                value = w * counts[g]
                d = next_preference(g)
                if d >= 0:
                    piles[d].append(g)
                    votes[d] += value
                    moved += value
                else:
                    exhausted += value
            votes[c] = quota
            lost = surplus - moved - exhausted
            non_transferable += exhausted
            loss += lost
            papers_count = sum(counts[g] for g in pile)
            if surplus:
                notes.append(
                    f"The surplus of {names[c]}, {fmt(surplus)} votes ({fmt(total)} less the quota), "
                    f"was transferred: each of their {papers_count} ballot papers passed on at its value "
                    f"multiplied by {fmt(surplus)}/{fmt(total)}, truncated to {PLACES} decimal places."
                )
                notes.append(
                    f"{fmt(moved)} went to continuing candidates, {fmt(exhausted)} became non-transferable "
                    f"and {fmt(lost)} was lost by truncation; {names[c]} keeps exactly the quota."
                )
            else:
                notes.append(
                    f"{names[c]} was elected with exactly the quota, so the surplus is {fmt(0)}: "
                    f"their {papers_count} ballot papers are passed on at a value of {fmt(0)}, "
                    "which moves no votes."
                )
            action, description = "surplus", f"Surplus of {names[c]}"
        else:
            low = min(votes[c] for c in continuing)
            tied = [c for c in continuing if votes[c] == low]
            c, why = break_tie(
                tied,
                history,
                labels,
                highest=False,
                backward=True,
                rng=rng,
                names=names,
                seed=seed,
                lots=lots,
                what="exclusion",
            )
            status[c] = EXCLUDED
            reason = f"{names[c]} has the fewest votes ({fmt(votes[c])}) and is excluded."
            if why:
                reason = f"{why} {names[c]} is excluded with {fmt(votes[c])} votes."
            rec.exclude(c, stage, reason)
            notes.append(reason)
            moved = 0
            exhausted = 0
            pile = piles[c]
            piles[c] = []
            for g in pile:
                value = weight[g] * counts[g]
                d = next_preference(g)
                if d >= 0:
                    piles[d].append(g)
                    votes[d] += value
                    moved += value
                else:
                    exhausted += value
            votes[c] = 0
            non_transferable += exhausted
            papers_count = sum(counts[g] for g in pile)
            notes.append(
                f"All {papers_count} of {names[c]}'s ballot papers were transferred at their current values: "
                f"{fmt(moved)} to continuing candidates and {fmt(exhausted)} non-transferable."
            )
            action, description = "exclusion", f"Exclusion of {names[c]}"
        history.append(list(votes))
        labels.append(f"at the end of stage {stage}")
        still = sum(1 for d in range(n) if status[d] == CONTINUING)
        if action == "surplus" or still > seats - elected_count:
            # After an exclusion that leaves no more continuing candidates than vacancies, rule 52 fills
            # the seats directly (below), in ballot-paper order like the reference counts.
            elect_with_quota(stage, notes)
        rec.stage(
            number=stage,
            action=action,
            subjects=(c,),
            description=description,
            quota=quota,
            votes=votes,
            before=before,
            status=status,
            non_transferable=non_transferable,
            loss=loss,
            notes=notes,
        )

    final_notes: list[str] = []
    remaining = [c for c in range(n) if status[c] == CONTINUING]
    vacancies = seats - elected_count
    if vacancies > 0 and remaining:
        left = f"{len(remaining)} continuing candidate{'s' if len(remaining) != 1 else ''}"
        seats_left = f"{vacancies} vacanc{'y' if vacancies == 1 else 'ies'}"
        for c in remaining:
            status[c] = ELECTED
            elected_count += 1
            reason = (
                f"{names[c]} is elected with {fmt(votes[c])} votes: only {left} remained "
                f"for {seats_left} (rule 52)."
            )
            rec.elect(c, stage, reason)
            final_notes.append(reason)
        remaining = []
    if remaining:
        for c in remaining:
            status[c] = EXCLUDED
            reason = f"{names[c]} is not elected: all {seats} seats have been filled."
            rec.exclude(c, stage, reason)
        final_notes.append(
            f"All seats are filled, so {join_names([names[c] for c in remaining])} cannot be elected."
        )
    if final_notes:
        rec.amend_last(status=status, notes=final_notes)

    return CountResult(
        rule=RULE,
        title=contest.title,
        seats=seats,
        places=PLACES,
        candidates=candidates,
        withdrawn=papers.withdrawn,
        valid_ballots=valid,
        quota=rec.value(quota),
        seed=seed,
        stages=tuple(rec.stages),
        elected=tuple(rec.elected),
        excluded=tuple(rec.excluded),
        lots=tuple(lots),
    )
