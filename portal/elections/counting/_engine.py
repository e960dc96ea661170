"""Machinery shared by the counting rules: grouped papers, tie-breaking and stage recording.

Everything here works on candidate *indices* (positions among the candidates taking part, in ballot-paper
order) and on integer fixed-point values, because that keeps the hot loops free of hashing and of
rational arithmetic.  Conversion to :class:`~decimal.Decimal` happens once per stage when recording.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from decimal import Decimal

from .model import Candidate, CandidateId, Contest
from .record import Decision, Stage, Tally, format_value, join_names

CONTINUING = 0
ELECTED = 1
EXCLUDED = 2

STATUS_WORDS = {CONTINUING: "continuing", ELECTED: "elected", EXCLUDED: "excluded"}


def resolve_seed(seed: int | None) -> int:
    """Use the caller's seed, or draw a fresh one that will be recorded so the count can be repeated."""
    return secrets.randbits(32) if seed is None else int(seed)


class Papers:
    """The ballots of a contest with identical rankings merged into weighted groups.

    Identical rankings always travel together under both STV rule sets (they reach the same candidates
    at the same stages), so one group can stand for all of them: the work per stage is proportional to
    the number of *distinct* rankings, not the number of ballots.  Withdrawn candidates are removed from
    every ranking first, and papers left with no preference are not valid votes.
    """

    def __init__(self, contest: Contest) -> None:
        self.candidates: tuple[Candidate, ...] = tuple(
            c for c in contest.candidates if c.id not in contest.withdrawn
        )
        self.withdrawn: tuple[Candidate, ...] = tuple(
            c for c in contest.candidates if c.id in contest.withdrawn
        )
        index: dict[CandidateId, int] = {c.id: i for i, c in enumerate(self.candidates)}
        merged: dict[tuple[CandidateId, ...], int] = {}
        for ballot in contest.ballots:
            merged[ballot.ranking] = merged.get(ballot.ranking, 0) + ballot.weight
        groups: dict[tuple[int, ...], int] = {}
        for ranking, weight in merged.items():
            indices = tuple(index[c] for c in ranking if c in index)
            if indices:
                groups[indices] = groups.get(indices, 0) + weight
        self.rankings: list[tuple[int, ...]] = list(groups)
        self.counts: list[int] = list(groups.values())
        self.valid: int = sum(self.counts)


def break_tie(
    tied: Sequence[int],
    history: Sequence[Sequence[int]],
    labels: Sequence[str],
    *,
    highest: bool,
    backward: bool,
    rng: random.Random,
    names: Sequence[str],
    seed: int,
    lots: list[str],
    what: str,
) -> tuple[int, str]:
    """Choose one of ``tied`` by looking at earlier points of the count, then by lot.

    ``history[i]`` is everyone's votes at the point described by ``labels[i]``.  Scottish STV looks
    back from the most recent point (``backward=True``); ERS97 looks forward from the first stage.  At
    the first point where the tied candidates' votes are not all equal, only those with the highest (or
    lowest) votes there stay in contention, and the search carries on among them.  If some are equal at
    every point, one of them is drawn by lot from ``rng`` (candidates are listed in ballot-paper order
    before the draw so the seed alone fixes the outcome).  Returns the choice and a sentence (ending in
    a full stop) saying why; the sentence is empty when there was no tie.
    """
    contenders = sorted(tied)
    if len(contenders) == 1:
        return contenders[0], ""
    tied_names = join_names([names[c] for c in contenders])
    order = range(len(history) - 1, -1, -1) if backward else range(len(history))
    pick = max if highest else min
    more = "more" if highest else "fewer"
    steps: list[str] = []
    for i in order:
        point = history[i]
        values = {point[c] for c in contenders}
        if len(values) == 1:
            continue
        best = pick(values)
        contenders = [c for c in contenders if point[c] == best]
        if len(contenders) == 1:
            which = "most recent" if backward else "earliest"
            steps.append(
                f"{names[contenders[0]]} had {more} votes {labels[i]}, "
                f"the {which} point at which they differed"
            )
            return contenders[0], f"{tied_names} were tied for {what}; " + "; ".join(steps) + "."
        steps.append(f"{join_names([names[c] for c in contenders])} had {more} votes {labels[i]}")
    choice = rng.choice(contenders)
    equal = join_names([names[c] for c in contenders])
    lots.append(
        f"{equal} were equal at every point of the count when choosing {what}; "
        f"{names[choice]} was chosen by lot from random.Random({seed})."
    )
    lot = (
        f"{equal} were equal at every point of the count, "
        f"so {names[choice]} was chosen by lot from random.Random({seed})"
    )
    return choice, f"{tied_names} were tied for {what}; " + "; ".join([*steps, lot]) + "."


class Recorder:
    """Builds the :class:`~portal.elections.counting.record.Stage` records of a count."""

    def __init__(self, candidates: Sequence[Candidate], places: int) -> None:
        self.candidates = tuple(candidates)
        self.places = places
        self.stages: list[Stage] = []
        self.elected: list[Decision] = []
        self.excluded: list[Decision] = []

    def value(self, scaled: int) -> Decimal:
        """Exact decimal for a fixed-point integer."""
        return Decimal(scaled).scaleb(-self.places)

    def text(self, scaled: int) -> str:
        """A fixed-point integer printed with the record's decimals."""
        return format_value(self.value(scaled), self.places)

    def elect(self, c: int, stage: int, reason: str) -> None:
        """Note that candidate ``c`` was elected at ``stage``; the order of calls is the order of election."""
        self.elected.append(Decision(self.candidates[c], stage, reason))

    def exclude(self, c: int, stage: int, reason: str) -> None:
        """Note that candidate ``c`` was excluded (or left over when the seats were filled) at ``stage``."""
        self.excluded.append(Decision(self.candidates[c], stage, reason))

    def stage(
        self,
        *,
        number: int,
        action: str,
        subjects: Sequence[int],
        description: str,
        quota: int | None,
        votes: Sequence[int],
        before: Sequence[int],
        status: Sequence[int],
        non_transferable: int,
        loss: int,
        notes: Sequence[str],
    ) -> None:
        """Record a finished stage; who was elected/excluded is taken from decisions made at it."""
        tallies = tuple(
            Tally(c, self.value(votes[i]), self.value(votes[i] - before[i]), STATUS_WORDS[status[i]])
            for i, c in enumerate(self.candidates)
        )
        self.stages.append(
            Stage(
                number=number,
                action=action,
                subjects=tuple(self.candidates[c] for c in subjects),
                description=description,
                quota=None if quota is None else self.value(quota),
                tallies=tallies,
                non_transferable=self.value(non_transferable),
                loss_by_fractions=self.value(loss),
                elected=tuple(d.candidate for d in self.elected if d.stage == number),
                excluded=tuple(d.candidate for d in self.excluded if d.stage == number),
                notes=tuple(notes),
            )
        )

    def first_count(
        self,
        *,
        quota: int | None,
        votes: Sequence[int],
        status: Sequence[int],
        notes: Sequence[str],
        description: str,
    ) -> None:
        """Record stage 0: the first preferences (or, for plurality, all the votes) as counted."""
        self.stage(
            number=0,
            action="first count",
            subjects=(),
            description=description,
            quota=quota,
            votes=votes,
            before=[0] * len(votes),
            status=status,
            non_transferable=0,
            loss=0,
            notes=notes,
        )

    def amend_last(self, *, status: Sequence[int], notes: Sequence[str]) -> None:
        """Update the final stage after end-of-count decisions (remaining seats filled or excluded)."""
        last = self.stages[-1]
        tallies = tuple(
            Tally(t.candidate, t.votes, t.change, STATUS_WORDS[status[i]]) for i, t in enumerate(last.tallies)
        )
        self.stages[-1] = Stage(
            number=last.number,
            action=last.action,
            subjects=last.subjects,
            description=last.description,
            quota=last.quota,
            tallies=tallies,
            non_transferable=last.non_transferable,
            loss_by_fractions=last.loss_by_fractions,
            elected=tuple(d.candidate for d in self.elected if d.stage == last.number),
            excluded=tuple(d.candidate for d in self.excluded if d.stage == last.number),
            notes=(*last.notes, *notes),
        )
