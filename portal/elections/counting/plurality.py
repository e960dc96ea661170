"""Plurality (one seat, most votes wins) and approval voting (k seats, top k win).

Both are single-stage counts, recorded in the same :class:`CountResult` shape as STV (one stage, no
quota) so that the results page and the audit trail handle every contest alike.  A tie for the last
place(s) is decided by lot from ``random.Random(seed)``, with the seed recorded.
"""

from __future__ import annotations

import random

from ._engine import CONTINUING, ELECTED, EXCLUDED, Recorder, break_tie, resolve_seed
from .model import Candidate, Contest
from .record import CountResult, join_names


def _count_marks(
    contest: Contest, *, rule: str, seed: int | None, max_marks: int, description: str
) -> CountResult:
    """Shared single-stage count: every counted candidate marked on a ballot gets its weight."""
    seed = resolve_seed(seed)
    rng = random.Random(seed)
    candidates: tuple[Candidate, ...] = tuple(c for c in contest.candidates if c.id not in contest.withdrawn)
    withdrawn = tuple(c for c in contest.candidates if c.id in contest.withdrawn)
    index = {c.id: i for i, c in enumerate(candidates)}
    names = [c.name for c in candidates]
    n = len(candidates)
    votes = [0] * n
    valid = 0
    for ballot in contest.ballots:
        if len(ballot.ranking) > max_marks:
            raise ValueError(
                f"a {rule} ballot may mark at most {max_marks} candidate(s), not {len(ballot.ranking)}"
            )
        marked = [index[c] for c in ballot.ranking if c in index]
        if marked:
            valid += ballot.weight
            for c in marked:
                votes[c] += ballot.weight

    seats = contest.seats
    rec = Recorder(candidates, 0)
    lots: list[str] = []
    notes = [f"{valid} valid ballot papers were counted ({description})."]
    winners: list[int] = []
    why: dict[int, str] = {}
    pool = list(range(n))
    while pool and len(winners) < seats:
        top = max(votes[c] for c in pool)
        tied = [c for c in pool if votes[c] == top]
        if len(winners) + len(tied) <= seats:
            chosen = tied
            for c in tied:
                why[c] = f"{names[c]} is elected with {votes[c]} votes."
        else:
            c, sentence = break_tie(
                tied,
                [votes],
                ["in the count"],
                highest=True,
                backward=True,
                rng=rng,
                names=names,
                seed=seed,
                lots=lots,
                what="the last seat" if seats - len(winners) == 1 else "the last seats",
            )
            chosen = [c]
            why[c] = f"{sentence} {names[c]} is elected with {votes[c]} votes."
        winners.extend(chosen)
        pool = [c for c in pool if c not in chosen]
    status = [CONTINUING] * n
    for c in winners:
        status[c] = ELECTED
        rec.elect(c, 0, why[c])
        notes.append(why[c])
    losers = sorted(pool, key=lambda c: (-votes[c], c))
    for c in losers:
        status[c] = EXCLUDED
        rec.exclude(c, 0, f"{names[c]} is not elected with {votes[c]} votes.")
    if losers:
        notes.append(f"Not elected: {join_names([f'{names[c]} ({votes[c]})' for c in losers])}.")
    rec.first_count(quota=None, votes=votes, status=status, notes=notes, description="Votes counted")
    return CountResult(
        rule=rule,
        title=contest.title,
        seats=seats,
        places=0,
        candidates=candidates,
        withdrawn=withdrawn,
        valid_ballots=valid,
        quota=None,
        seed=seed,
        stages=tuple(rec.stages),
        elected=tuple(rec.elected),
        excluded=tuple(rec.excluded),
        lots=tuple(lots),
    )


def count_plurality(contest: Contest, *, seed: int | None = None) -> CountResult:
    """One seat: the candidate marked on most ballots wins; a tie for first place is decided by lot.

    Each ballot must mark at most one candidate (``ValueError`` otherwise); a ballot marking only a
    withdrawn candidate, or nobody, is not a valid vote.
    """
    if contest.seats != 1:
        raise ValueError("plurality elects exactly one candidate; use approval or STV for more seats")
    return _count_marks(contest, rule="plurality", seed=seed, max_marks=1, description="one vote each")


def count_approval(contest: Contest, *, seed: int | None = None) -> CountResult:
    """``contest.seats`` seats: each ballot approves up to that many candidates; the most approved win.

    Ties for the last seat(s) are decided by lot.  A ballot approving more candidates than there are
    seats raises ``ValueError`` (it should have been rejected when cast).
    """
    return _count_marks(
        contest,
        rule="approval",
        seed=seed,
        max_marks=contest.seats,
        description=f"each approving up to {contest.seats} candidate{'s' if contest.seats != 1 else ''}",
    )
