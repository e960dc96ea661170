"""STV under the Electoral Reform Society's 1997 rules ("ERS97"), as used by many UK societies.

Section numbers refer to *How to Conduct an Election by the Single Transferable Vote*, 3rd edition
(ERS, 1997), section 5.  All values are in hundredths (integer fixed point), as the rules require.

* Quota (5.1.6): valid votes / (seats + 1) to two decimal places; if inexact, the remainder is ignored
  and 0.01 added (i.e. rounded up to the next hundredth).  While nobody has been deemed elected, the
  quota is recalculated the same way without the non-transferable votes after each batch of an
  exclusion (5.4.8).
* Election (5.1.7, 5.3.13, 5.4.9): continuing candidates, highest vote first, are deemed elected when
  their vote reaches the quota or, where that is lower, the total active vote / (places unfilled + 1)
  (rounded up to the hundredth like the quota).  Equal votes competing for too few places are decided
  by the earliest point of the count at which they differed; if never, none of them is elected then
  (5.6.2).
* Surpluses (5.2.2-5.2.4): the largest first, ties by the earliest point at which the candidates
  differed, then by lot.  Transfer is deferred while the total of surpluses could not lift the lowest
  candidate(s) above the next one up (5.2.2).
* Surplus transfer (5.3): only the last batch of papers received (all papers for a first-stage surplus)
  is examined; if the transferable papers are worth more than the surplus, each passes at
  surplus / number of transferable papers, truncated to 0.01, the truncation being the
  "non-transferable difference" (recorded here as loss by fractions); otherwise they pass at their
  present value and the rest of the surplus is non-transferable.  The candidate keeps the quota.
* Exclusion (5.2.5, 5.4): as many of the lowest candidates together as possible, provided enough remain
  to fill the places and their votes plus any deferred surpluses do not exceed the next candidate's vote
  (tied candidates are never split); otherwise the single lowest, ties by the earliest point of
  difference, then by lot.  Their papers move in batches of equal value, highest value first; after
  each batch candidates may be deemed elected and receive nothing further (5.4.10).  An exclusion is one
  stage however many batches it has.
* Completion (5.5): if a proposed exclusion would leave as many continuing candidates as unfilled
  places they are all deemed elected without it; once all places are filled no further papers move and
  the rest are excluded.
"""

from __future__ import annotations

import random

from ._engine import CONTINUING, ELECTED, EXCLUDED, Papers, Recorder, break_tie, resolve_seed
from .model import Contest
from .record import CountResult, join_names

PLACES = 2
SCALE = 10**PLACES
RULE = "ers97-stv"


def _ceil_div(a: int, b: int) -> int:
    """``a / b`` rounded up: the rules' "ignore the remainder and add 0.01" in hundredths."""
    return -(-a // b)


def count_ers97_stv(contest: Contest, *, seed: int | None = None) -> CountResult:
    """Count ``contest`` under the ERS97 STV rules and return the full record.

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
    batches: list[list[list[int]]] = [[] for _ in range(n)]
    first: list[list[int]] = [[] for _ in range(n)]
    for g, ranking in enumerate(rankings):
        first[ranking[0]].append(g)
        votes[ranking[0]] += counts[g] * SCALE
    for c in range(n):
        if first[c]:
            batches[c].append(first[c])

    valid = papers.valid
    total = valid * SCALE
    quota = _ceil_div(total, seats + 1)
    nobody_elected = True
    non_transferable = 0
    loss = 0
    history: list[list[int]] = [list(votes)]
    labels = ["at the first stage"]
    awaiting: list[int] = []  # elected candidates whose surplus has not been transferred
    elected_count = 0

    def next_preference(g: int) -> int:
        """Advance group ``g`` to its next continuing candidate; -1 when it has none."""
        ranking = rankings[g]
        p = pos[g] + 1
        end = len(ranking)
        while p < end and status[ranking[p]] != CONTINUING:
            p += 1
        pos[g] = p
        return ranking[p] if p < end else -1

    def rank_forward(tied: list[int]) -> list[list[int]]:
        """Order equal candidates by votes at the earliest point where they differed (5.6.2)."""
        groups: list[list[int]] = []
        pool = sorted(tied)
        while pool:
            best = pool
            for point in history:
                top = max(point[c] for c in best)
                narrowed = [c for c in best if point[c] == top]
                if len(narrowed) < len(best):
                    best = narrowed
                    if len(best) == 1:
                        break
            groups.append(best)
            pool = [c for c in pool if c not in best]
        return groups

    def deem_elected(stage: int, notes: list[str]) -> None:
        """Deem elected, highest first, everyone who reaches the quota or the active-vote threshold."""
        nonlocal elected_count, nobody_elected
        while True:
            vacancies = seats - elected_count
            continuing = [c for c in range(n) if status[c] == CONTINUING]
            if vacancies <= 0 or not continuing:
                return
            active = (
                total
                - non_transferable
                - loss
                - sum(min(votes[c], quota) for c in range(n) if status[c] == ELECTED)
            )
            dynamic = _ceil_div(active, vacancies + 1)
            threshold = max(1, min(quota, dynamic))
            over = [c for c in continuing if votes[c] >= threshold]
            if not over:
                return
            top = max(votes[c] for c in over)
            tied = sorted(c for c in over if votes[c] == top)
            chosen: list[int] = []
            if len(tied) <= vacancies:
                chosen = [c for group in rank_forward(tied) for c in group]
            else:
                for group in rank_forward(tied):
                    if len(chosen) + len(group) > vacancies:
                        break
                    chosen.extend(group)
                blocked = [c for c in tied if c not in chosen]
                notes.append(
                    f"{join_names([names[c] for c in blocked])} have equal votes ({fmt(top)}) "
                    "at every point of the count and there are not enough places for them all, "
                    "so none of them is deemed elected at this stage (rule 5.6.2)."
                )
            for c in chosen:
                status[c] = ELECTED
                elected_count += 1
                nobody_elected = False
                if votes[c] > quota:
                    awaiting.append(c)
                if votes[c] >= quota:
                    reason = (
                        f"{names[c]} has {fmt(votes[c])} votes, at least the quota of {fmt(quota)}, "
                        "and is deemed elected."
                    )
                else:
                    reason = (
                        f"{names[c]} has {fmt(votes[c])} votes, below the quota but at least "
                        f"the total active vote {fmt(active)} divided by {vacancies + 1} "
                        f"({fmt(dynamic)}), and is deemed elected."
                    )
                rec.elect(c, stage, reason)
                notes.append(reason)
            if len(chosen) < len(tied):
                return

    def exclusion_group(continuing: list[int], surplus_total: int, vacancies: int) -> list[int] | None:
        """The largest set of lowest candidates excludable together under 5.2.5, or ``None``.

        The set must leave enough candidates for the places, must not split candidates with equal votes,
        and its votes plus the deferred surpluses must not exceed the vote of the next candidate up.
        """
        ordered = sorted(continuing, key=lambda c: (votes[c], c))
        best: list[int] | None = None
        running = 0
        for k in range(1, len(ordered) - vacancies + 1):
            running += votes[ordered[k - 1]]
            above = votes[ordered[k]]
            if votes[ordered[k - 1]] < above and running + surplus_total <= above:
                best = ordered[:k]
        return best

    notes: list[str] = [
        f"The first preferences on {valid} valid ballot papers were counted.",
        f"The quota is {valid} divided by {seats + 1}, to two decimal places rounded up: {fmt(quota)}.",
    ]
    deem_elected(0, notes)
    rec.first_count(quota=quota, votes=votes, status=status, notes=notes, description="First preferences")

    stage = 0
    while True:
        vacancies = seats - elected_count
        continuing = [c for c in range(n) if status[c] == CONTINUING]
        if vacancies <= 0 or len(continuing) <= vacancies:
            break
        notes = []
        surpluses = {c: votes[c] - quota for c in awaiting}
        surplus_total = sum(surpluses.values())
        group = exclusion_group(continuing, surplus_total, vacancies)
        if surplus_total > 0 and group is None:
            stage += 1
            before = list(votes)
            top = max(surpluses.values())
            tied = [c for c in awaiting if surpluses[c] == top]
            c, why = break_tie(
                tied,
                history,
                labels,
                highest=True,
                backward=False,
                rng=rng,
                names=names,
                seed=seed,
                lots=lots,
                what="the largest surplus",
            )
            if why:
                notes.append(why)
            awaiting.remove(c)
            surplus = surpluses[c]
            last = batches[c][-1] if batches[c] else []
            moving: list[tuple[int, int]] = []
            n_transferable = 0
            value_transferable = 0
            for g in last:
                d = next_preference(g)
                if d >= 0:
                    moving.append((g, d))
                    n_transferable += counts[g]
                    value_transferable += counts[g] * weight[g]
            n_examined = sum(counts[g] for g in last)
            which = (
                "all their papers" if len(batches[c]) == 1 else "only the last batch of papers they received"
            )
            notes.append(
                f"{names[c]}'s surplus of {fmt(surplus)} was transferred, examining {which} "
                f"({n_examined} papers, {n_transferable} of them transferable, "
                f"worth {fmt(value_transferable)})."
            )
            if value_transferable > surplus:
                transfer_value = surplus // n_transferable
                for g, _ in moving:
                    weight[g] = transfer_value
                moved = transfer_value * n_transferable
                loss += surplus - moved
                notes.append(
                    f"Each transferable paper passed at {fmt(surplus)} / {n_transferable} = "
                    f"{fmt(transfer_value)} (remainder ignored); the non-transferable difference "
                    f"is {fmt(surplus - moved)}."
                )
            else:
                moved = value_transferable
                non_transferable += surplus - moved
                notes.append(
                    "The transferable papers are worth no more than the surplus, so they passed at "
                    f"their present values and the remaining {fmt(surplus - moved)} is non-transferable."
                )
            received: dict[int, list[int]] = {}
            for g, d in moving:
                received.setdefault(d, []).append(g)
                votes[d] += counts[g] * weight[g]
            for d, gs in received.items():
                batches[d].append(gs)
            batches[c] = []
            votes[c] = quota
            notes.append(f"{names[c]} keeps exactly the quota.")
            history.append(list(votes))
            labels.append(f"after stage {stage}")
            deem_elected(stage, notes)
            rec.stage(
                number=stage,
                action="surplus",
                subjects=(c,),
                description=f"Surplus of {names[c]}",
                quota=quota,
                votes=votes,
                before=before,
                status=status,
                non_transferable=non_transferable,
                loss=loss,
                notes=notes,
            )
            continue

        if surplus_total > 0:
            notes.append(
                f"The transfer of surpluses totalling {fmt(surplus_total)} is deferred: it could not "
                "lift the lowest candidate(s) above the next candidate up (rule 5.2.2)."
            )
        if group is not None and len(group) > 1:
            above = min(votes[c] for c in continuing if c not in group)
            deferred = f", with deferred surpluses of {fmt(surplus_total)}," if surplus_total else ""
            why = (
                f"{join_names([names[c] for c in group])} together have "
                f"{fmt(sum(votes[c] for c in group))} votes, which{deferred} do not exceed "
                f"the {fmt(above)} of the next candidate up, so they can be excluded together (rule 5.2.5)."
            )
        elif group is not None:
            why = f"{names[group[0]]} has the fewest votes ({fmt(votes[group[0]])})."
        else:
            low = min(votes[c] for c in continuing)
            tied = [c for c in continuing if votes[c] == low]
            chosen, why = break_tie(
                tied,
                history,
                labels,
                highest=False,
                backward=False,
                rng=rng,
                names=names,
                seed=seed,
                lots=lots,
                what="exclusion",
            )
            group = [chosen]

        if len(continuing) - len(group) <= vacancies:
            # 5.5.1: the proposed exclusion would leave exactly as many candidates as places.
            final = [c for c in continuing if c not in group]
            final.sort(key=lambda c: (-votes[c], c))
            closing = [
                f"{why} Excluding {join_names([names[c] for c in group])} would leave as many continuing "
                "candidates as places, so those remaining are deemed elected (rule 5.5.1)."
            ]
            for c in final:
                status[c] = ELECTED
                elected_count += 1
                reason = (
                    f"{names[c]} is deemed elected with {fmt(votes[c])} votes "
                    "as one of the last continuing candidates."
                )
                rec.elect(c, stage, reason)
                closing.append(reason)
            for c in group:
                status[c] = EXCLUDED
                rec.exclude(c, stage, f"{names[c]} is excluded: all places have been filled.")
            rec.amend_last(status=status, notes=closing)
            break

        stage += 1
        before = list(votes)
        for c in group:
            status[c] = EXCLUDED
            rec.exclude(c, stage, f"{why} {names[c]} is excluded.")
        together = "is excluded" if len(group) == 1 else "are excluded together"
        notes.append(f"{why} {join_names([names[c] for c in group])} {together}.")
        by_value: dict[int, list[tuple[int, int]]] = {}
        for x in group:
            for batch in batches[x]:
                for g in batch:
                    by_value.setdefault(weight[g], []).append((x, g))
            batches[x] = []
        for value in sorted(by_value, reverse=True):
            received = {}
            moved = 0
            exhausted = 0
            n_papers = 0
            for x, g in by_value[value]:
                amount = counts[g] * value
                n_papers += counts[g]
                votes[x] -= amount
                d = next_preference(g)
                if d >= 0:
                    received.setdefault(d, []).append(g)
                    votes[d] += amount
                    moved += amount
                else:
                    exhausted += amount
            for d, gs in received.items():
                batches[d].append(gs)
            non_transferable += exhausted
            notes.append(
                f"{n_papers} papers of value {fmt(value)} were transferred: "
                f"{fmt(moved)} to continuing candidates, {fmt(exhausted)} non-transferable."
            )
            if nobody_elected and exhausted:
                new_quota = _ceil_div(total - non_transferable - loss, seats + 1)
                if new_quota != quota:
                    quota = new_quota
                    notes.append(
                        "No one has yet been elected, so the quota is recalculated without the "
                        f"non-transferable votes: {fmt(quota)} (rule 5.4.8)."
                    )
            history.append(list(votes))
            labels.append(f"after the papers of value {fmt(value)} at stage {stage}")
            deem_elected(stage, notes)
            if elected_count >= seats:
                notes.append("All places are now filled, so no further papers are transferred (rule 5.5.2).")
                break
        rec.stage(
            number=stage,
            action="exclusion",
            subjects=group,
            description=f"Exclusion of {join_names([names[c] for c in group])}",
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
        remaining.sort(key=lambda c: (-votes[c], c))
        for c in remaining:
            status[c] = ELECTED
            elected_count += 1
            reason = (
                f"{names[c]} is deemed elected with {fmt(votes[c])} votes: no more candidates remained than "
                "unfilled places."
            )
            rec.elect(c, stage, reason)
            final_notes.append(reason)
        remaining = []
    if remaining:
        for c in remaining:
            status[c] = EXCLUDED
            rec.exclude(c, stage, f"{names[c]} is excluded: all places have been filled (rule 5.5.2).")
        final_notes.append(
            f"All places are filled, so {join_names([names[c] for c in remaining])} cannot be elected."
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
