"""The full record of a count, as plain frozen dataclasses.

A result must be publishable and checkable by hand, so it keeps every stage: who had how many votes,
what moved where, what became non-transferable or was lost to rounding, and a plain English sentence
for each decision.  Values are :class:`decimal.Decimal` with a fixed number of places (five for
Scottish STV, two for ERS97, none for plurality/approval) so they print exactly as the rules define
them; they are computed with integer fixed point and converted exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .model import Candidate

RULE_TITLES: dict[str, str] = {
    "plurality": "plurality (first past the post)",
    "approval": "approval voting",
    "scottish-stv": "Scottish STV (Scottish Local Government Elections Order 2007)",
    "ers97-stv": "STV under the Electoral Reform Society's 1997 rules (ERS97)",
}


def format_value(value: Decimal, places: int) -> str:
    """Print a vote value with exactly ``places`` decimals (``"1381.00000"``)."""
    return f"{value:.{places}f}"


@dataclass(frozen=True, slots=True)
class Tally:
    """One candidate's position at the end of a stage."""

    candidate: Candidate
    votes: Decimal
    change: Decimal
    """Votes received (positive) or given away (negative) during this stage."""
    status: str
    """``"continuing"``, ``"elected"`` or ``"excluded"`` at the end of the stage."""


@dataclass(frozen=True, slots=True)
class Stage:
    """One stage of a count: the first count, one surplus transfer or one exclusion."""

    number: int
    action: str
    """``"first count"``, ``"surplus"`` or ``"exclusion"``."""
    subjects: tuple[Candidate, ...]
    """Whose surplus was transferred, or who was excluded, at this stage."""
    description: str
    """Short heading, e.g. ``"Surplus of Craig MacKay"``."""
    quota: Decimal | None
    tallies: tuple[Tally, ...]
    non_transferable: Decimal
    """Cumulative value of papers that became non-transferable (rounding loss not included)."""
    loss_by_fractions: Decimal
    """Cumulative value lost because transfer values are truncated."""
    elected: tuple[Candidate, ...]
    excluded: tuple[Candidate, ...]
    notes: tuple[str, ...]
    """Plain English sentences saying what was done at this stage and why."""

    def votes(self) -> dict[str, Decimal]:
        """Each candidate's votes after this stage, by name."""
        return {t.candidate.name: t.votes for t in self.tallies}

    def transfers(self) -> dict[str, Decimal]:
        """What each candidate gained (or lost) during this stage, by name."""
        return {t.candidate.name: t.change for t in self.tallies}


@dataclass(frozen=True, slots=True)
class Decision:
    """A candidate elected or excluded, the stage at which it happened, and why."""

    candidate: Candidate
    stage: int
    reason: str


@dataclass(frozen=True)
class CountResult:
    """The complete, reproducible record of one count."""

    rule: str
    """One of ``"plurality"``, ``"approval"``, ``"scottish-stv"``, ``"ers97-stv"``."""
    title: str
    seats: int
    places: int
    """Decimal places used for every value in this record."""
    candidates: tuple[Candidate, ...]
    """Candidates who took part in the count, in ballot-paper order (withdrawn ones excluded)."""
    withdrawn: tuple[Candidate, ...]
    valid_ballots: int
    quota: Decimal | None
    """The quota in force at the end of the count (``None`` for plurality and approval)."""
    seed: int
    """Seed of the ``random.Random`` any lot was drawn from; recount with it to repeat the draws."""
    stages: tuple[Stage, ...]
    elected: tuple[Decision, ...]
    """Winners in the order they were elected."""
    excluded: tuple[Decision, ...]
    """Everyone else, in the order they were excluded (those left over at the end come last)."""
    lots: tuple[str, ...]
    """One sentence per tie that had to be decided by lot."""

    @property
    def winners(self) -> tuple[Candidate, ...]:
        """The elected candidates, in order of election."""
        return tuple(d.candidate for d in self.elected)

    @property
    def last_stage(self) -> int:
        """Number of the final stage (the number of transfers made)."""
        return self.stages[-1].number

    @property
    def final_votes(self) -> dict[str, Decimal]:
        """Each candidate's votes at the end of the count, by name."""
        return self.stages[-1].votes()

    @property
    def non_transferable(self) -> Decimal:
        """Value of papers that became non-transferable, rounding loss excluded."""
        return self.stages[-1].non_transferable

    @property
    def loss_by_fractions(self) -> Decimal:
        """Total value lost to truncation of transfer values."""
        return self.stages[-1].loss_by_fractions

    def fmt(self, value: Decimal | None) -> str | None:
        """Format a value of this record with its number of decimal places."""
        return None if value is None else format_value(value, self.places)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; its summary fields match an entry of the reference ``expected.json``.

        ``stages`` is the number of transfers (stage 0 is the first count); the stage-by-stage detail is
        under ``rounds``.  All vote values are strings with this record's number of decimals.
        """
        fmt = self.fmt
        return {
            "rule": self.rule,
            "title": self.title,
            "seats": self.seats,
            "ballots": self.valid_ballots,
            "quota": fmt(self.quota),
            "seed": self.seed,
            "stages": self.last_stage,
            "elected": [{"name": d.candidate.name, "stage": d.stage} for d in self.elected],
            "excluded": [{"name": d.candidate.name, "stage": d.stage} for d in self.excluded],
            "withdrawn": [c.name for c in self.withdrawn],
            "final_votes": {name: fmt(v) for name, v in self.final_votes.items()},
            "non_transferable_final": fmt(self.non_transferable),
            "loss_by_fractions_final": fmt(self.loss_by_fractions),
            "lots": list(self.lots),
            "rounds": [
                {
                    "stage": s.number,
                    "action": s.action,
                    "subjects": [c.name for c in s.subjects],
                    "description": s.description,
                    "quota": fmt(s.quota),
                    "votes": {t.candidate.name: fmt(t.votes) for t in s.tallies},
                    "transfers": {t.candidate.name: fmt(t.change) for t in s.tallies},
                    "status": {t.candidate.name: t.status for t in s.tallies},
                    "non_transferable": fmt(s.non_transferable),
                    "loss_by_fractions": fmt(s.loss_by_fractions),
                    "elected": [c.name for c in s.elected],
                    "excluded": [c.name for c in s.excluded],
                    "notes": list(s.notes),
                }
                for s in self.stages
            ],
        }

    def to_json(self) -> dict[str, Any]:
        """Alias of :meth:`as_dict` (the dict is what gets serialised with ``json.dumps``)."""
        return self.as_dict()

    def explain(self) -> list[str]:
        """Plain-language sentences describing the count stage by stage (see :func:`explain`)."""
        return explain(self)


def explain(result: CountResult) -> list[str]:
    """Describe a count in plain sentences, one list item per sentence, for the results page.

    The first sentences give the rule, ballots and quota; then each stage's heading and the notes
    recorded while counting; finally the outcome.
    """
    fmt = result.fmt
    lines = [f"This count used {RULE_TITLES.get(result.rule, result.rule)}."]
    seat_word = "seat" if result.seats == 1 else "seats"
    lines.append(f"There were {result.valid_ballots} valid ballot papers for {result.seats} {seat_word}.")
    if result.withdrawn:
        names = join_names([c.name for c in result.withdrawn])
        lines.append(f"Withdrawn before the count (ballots skip them): {names}.")
    for stage in result.stages:
        if result.rule in ("plurality", "approval"):
            lines.extend(stage.notes)
            continue
        lines.append(f"Stage {stage.number}: {stage.description}.")
        lines.extend(stage.notes)
    if result.quota is not None and result.stages[0].quota != result.quota:
        lines.append(f"The quota at the end of the count was {fmt(result.quota)}.")
    winners = join_names([f"{d.candidate.name}" for d in result.elected]) or "nobody"
    lines.append(f"Elected: {winners}.")
    if len(result.elected) < result.seats:
        lines.append(f"{result.seats - len(result.elected)} seat(s) could not be filled.")
    return lines


def join_names(names: Sequence[str]) -> str:
    """``"A"``, ``"A and B"``, ``"A, B and C"``: how lists of candidates read in sentences."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
