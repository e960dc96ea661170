"""Inputs to a count: candidates, ballots and contests.

These are plain frozen dataclasses so that a contest can be built from the database, from a BLT file or
by a test, and handed to any counting function without the counting code knowing where it came from.
Candidates are identified by an ``id`` (an ``int`` or a ``str``) so that ballots stay valid even when
candidates share a display name or are re-ordered; names are used only for reports.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

CandidateId: TypeAlias = int | str
"""How ballots refer to candidates: any hashable, orderable scalar the caller chooses."""

Method: TypeAlias = Literal["plurality", "approval", "scottish-stv", "ers97-stv"]
"""The counting rules this package implements (see :func:`portal.elections.counting.count`)."""

METHODS: tuple[Method, ...] = ("plurality", "approval", "scottish-stv", "ers97-stv")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A candidate as the count sees it: an identifier and the name printed in results.

    "Re-open nominations" (RON) is simply a candidate like any other as far as counting goes.
    """

    id: CandidateId
    name: str


@dataclass(frozen=True, slots=True)
class Ballot:
    """One ballot (or ``weight`` identical ballots): candidate ids in order of preference.

    For plurality the ranking holds the single candidate marked; for approval it holds the approved
    candidates (order is irrelevant).  An empty ranking is a blank, invalid paper.
    """

    ranking: tuple[CandidateId, ...]
    weight: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.ranking, tuple):
            object.__setattr__(self, "ranking", tuple(self.ranking))
        if isinstance(self.weight, bool) or not isinstance(self.weight, int) or self.weight < 1:
            raise ValueError(f"ballot weight must be a positive integer, not {self.weight!r}")
        if len(set(self.ranking)) != len(self.ranking):
            raise ValueError(f"ballot ranks a candidate more than once: {self.ranking!r}")


@dataclass(frozen=True)
class Contest:
    """Everything needed to count one contest.

    ``withdrawn`` candidates stay in ``candidates`` (so ballots that mention them remain valid input)
    but are removed before the count: every ballot simply skips them.
    """

    seats: int
    candidates: tuple[Candidate, ...]
    ballots: tuple[Ballot, ...]
    withdrawn: frozenset[CandidateId] = field(default_factory=frozenset)
    title: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "candidates", tuple(self.candidates))
        object.__setattr__(self, "ballots", tuple(self.ballots))
        object.__setattr__(self, "withdrawn", frozenset(self.withdrawn))
        if isinstance(self.seats, bool) or not isinstance(self.seats, int) or self.seats < 1:
            raise ValueError(f"a contest needs at least one seat, not {self.seats!r}")
        ids = [c.id for c in self.candidates]
        if len(set(ids)) != len(ids):
            raise ValueError("candidate ids must be unique")
        names = [c.name for c in self.candidates]
        if len(set(names)) != len(names):
            raise ValueError("candidate names must be unique (results are reported by name)")
        known = set(ids)
        unknown_withdrawn = self.withdrawn - known
        if unknown_withdrawn:
            raise ValueError(
                f"withdrawn candidates are not in the contest: {sorted(map(str, unknown_withdrawn))}"
            )
        for ballot in self.ballots:
            for cid in ballot.ranking:
                if cid not in known:
                    raise ValueError(f"ballot refers to unknown candidate {cid!r}")

    @property
    def total_weight(self) -> int:
        """Number of ballot papers, counting each ballot ``weight`` times (blank ones included)."""
        return sum(b.weight for b in self.ballots)

    def candidate(self, cid: CandidateId) -> Candidate:
        """Look a candidate up by id (``KeyError`` if absent)."""
        for c in self.candidates:
            if c.id == cid:
                return c
        raise KeyError(cid)

    def grouped(self) -> Contest:
        """The same election with identical rankings merged into one weighted ballot.

        Merging keeps the order in which each ranking first appears, so grouping is deterministic and
        idempotent; the BLT writer relies on it and counts do not depend on it.
        """
        weights: dict[tuple[CandidateId, ...], int] = {}
        for b in self.ballots:
            weights[b.ranking] = weights.get(b.ranking, 0) + b.weight
        ballots = tuple(Ballot(r, w) for r, w in weights.items())
        return Contest(self.seats, self.candidates, ballots, self.withdrawn, self.title)

    def with_withdrawn(self, ids: Iterable[CandidateId]) -> Contest:
        """A copy with the given candidates (those present in this contest) also withdrawn."""
        present = {c.id for c in self.candidates}
        extra = frozenset(i for i in ids if i in present)
        return Contest(self.seats, self.candidates, self.ballots, self.withdrawn | extra, self.title)
