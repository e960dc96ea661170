"""What a voter's ballot looks like, and reading a filled-in ballot back from the form.

A contest is on the ballot when it has valid candidates and is either contested (more candidates than
seats) or offers "Re-open nominations" (then an uncontested post becomes a yes/RON vote). Each contest is
marked with the input its method needs: one choice (radio buttons), up to N (checkboxes), or a ranking (a
number select per candidate, which works by keyboard and without drag-and-drop).
"""

from __future__ import annotations

import hashlib
import hmac
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.elections.errors import Code, ElectionError
from portal.elections.models import RON, Contest, Election, Nomination
from portal.elections.secrecy import Choice, Selections
from portal.members.models import Member


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th … 11th, 12th, 13th … 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@dataclass(frozen=True)
class Option:
    key: str
    label: str

    @property
    def choice(self) -> Choice:
        return RON if self.key == RON else int(self.key)


@dataclass(frozen=True)
class BallotContest:
    contest: Contest
    options: list[Option]

    @property
    def id(self) -> int:
        return self.contest.id

    @property
    def kind(self) -> str:
        return {"plurality": "one", "approval": "many", "stv": "rank"}[self.contest.method]

    @property
    def max_choices(self) -> int:
        if self.kind == "one":
            return 1
        if self.kind == "many":
            return min(self.contest.seats, len(self.options))
        return len(self.options)

    @property
    def field(self) -> str:
        return f"c{self.contest.id}"

    def label_of(self, choice: Choice) -> str:
        key = str(choice)
        return next((o.label for o in self.options if o.key == key), "(unknown)")

    @property
    def keys(self) -> set[str]:
        return {o.key for o in self.options}


@dataclass
class Candidates:
    """The valid (accepted) candidates of each contest of an election, with their members."""

    by_contest: dict[int, list[tuple[Nomination, Member]]] = field(default_factory=dict)

    def of(self, contest: Contest) -> list[tuple[Nomination, Member]]:
        return self.by_contest.get(contest.id, [])


def valid_candidates(session: Session, election: Election) -> Candidates:
    rows = session.execute(
        select(Nomination, Member)
        .join(Member, Member.id == Nomination.member_id)
        .where(Nomination.election_id == election.id, Nomination.status == "accepted")
        .order_by(Member.last_name, Member.first_name, Nomination.id)
    ).all()
    found = Candidates()
    for nomination, member in rows:
        found.by_contest.setdefault(nomination.contest_id, []).append((nomination, member))
    return found


def uncontested(contest: Contest, count: int) -> bool:
    return 0 < count <= contest.seats


def on_ballot(contest: Contest, count: int) -> bool:
    """Contested, or uncontested with RON (a yes/RON vote). Elected-unopposed posts are not voted on."""
    return count > contest.seats or (count > 0 and contest.ron)


def _voter_rng(key: bytes, election_id: int, voter: int, contest_id: int) -> random.Random:
    """The same shuffled order for the same voter on every page (ballot, review), and stored nowhere."""
    seed = hmac.new(key, f"ballot-order:{election_id}:{voter}:{contest_id}".encode(), hashlib.sha256).digest()
    return random.Random(int.from_bytes(seed, "big"))


def _ballot_names(session: Session, election: Election) -> dict[int, list[tuple[int, str]]]:
    """The valid candidates of each contest as the ballot shows them, (nomination id, name), in
    `valid_candidates`' order: plain columns, not a Nomination and a Member row for each (the ballot, its
    review and its cast each read them, for every voter)."""
    rows = session.execute(
        select(Nomination.contest_id, Nomination.id, Member.first_name, Member.last_name)
        .join(Member, Member.id == Nomination.member_id)
        .where(Nomination.election_id == election.id, Nomination.status == "accepted")
        .order_by(Member.last_name, Member.first_name, Nomination.id)
    ).all()
    found: dict[int, list[tuple[int, str]]] = {}
    for contest_id, nomination_id, first_name, last_name in rows:
        found.setdefault(contest_id, []).append((nomination_id, f"{first_name} {last_name}".strip()))
    return found


def ballot_contests(
    session: Session, election: Election, *, key: bytes, voter: int | None = None
) -> list[BallotContest]:
    """The contests this voter sees, in the election's order, each with its options in ballot order."""
    candidates = _ballot_names(session, election)
    result = []
    for contest in election.contests:
        rows = candidates.get(contest.id, [])
        if not on_ballot(contest, len(rows)):
            continue
        options = [Option(str(nomination_id), name) for nomination_id, name in rows]
        if election.ballot_order == "shuffled" and voter is not None:
            _voter_rng(key, election.id, voter, contest.id).shuffle(options)
        if contest.ron:
            options.append(Option(RON, "Re-open nominations (RON)"))
        result.append(BallotContest(contest, options))
    return result


@dataclass
class ReadBallot:
    selections: dict[int, list[Choice]]
    #: What the voter chose, as the form fields hold it, to show the form again.
    raw: dict[int, Any]
    errors: dict[str, str]


def read_ballot(form: Mapping[str, Any] | None, contests: list[BallotContest]) -> ReadBallot:
    """Parse the ballot form. Never raises on user input: every problem becomes a message for one contest.
    A contest left blank is an abstention in that contest, which is allowed."""
    form = form or {}
    getlist = getattr(form, "getlist", None)
    selections: dict[int, list[Choice]] = {}
    raw: dict[int, Any] = {}
    errors: dict[str, str] = {}
    for bc in contests:
        if bc.kind in ("one", "many"):
            values = getlist(bc.field) if getlist else ([form[bc.field]] if bc.field in form else [])
            values = [v for v in values if isinstance(v, str) and v]
            raw[bc.id] = values
            if any(v not in bc.keys for v in values) or len(set(values)) != len(values):
                errors[bc.field] = f"{bc.contest.title}: choose only from the candidates shown."
            elif len(values) > bc.max_choices:
                errors[bc.field] = (
                    f"{bc.contest.title}: choose one candidate only."
                    if bc.kind == "one"
                    else f"{bc.contest.title}: choose at most {bc.max_choices}."
                )
            else:
                selections[bc.id] = [o.choice for o in bc.options if o.key in values]
            continue
        ranks: dict[str, str] = {}
        for option in bc.options:
            value = form.get(f"{bc.field}-{option.key}")
            if isinstance(value, str) and value.strip():
                ranks[option.key] = value.strip()
        raw[bc.id] = ranks
        message = _rank_problem(bc, ranks)
        if message:
            errors[bc.field] = message
        else:
            ordered = sorted(ranks.items(), key=lambda kv: int(kv[1]))
            selections[bc.id] = [Option(k, "").choice for k, _ in ordered]
    return ReadBallot(selections=selections, raw=raw, errors=errors)


def _rank_problem(bc: BallotContest, ranks: dict[str, str]) -> str | None:
    title = bc.contest.title
    numbers = []
    for value in ranks.values():
        # ASCII digits only: str.isdigit() also accepts '²' (which int() refuses) and Arabic-Indic digits
        # (which it reads).
        rank = int(value) if value.isascii() and value.isdigit() and len(value) <= 4 else 0
        if not 1 <= rank <= len(bc.options):
            return f"{title}: choose a preference from the list for each candidate."
        numbers.append(rank)
    if len(set(numbers)) != len(numbers):
        twice = sorted({n for n in numbers if numbers.count(n) > 1})[0]
        return f"{title}: you gave your {ordinal(twice)} preference to more than one candidate. Give each preference once."
    if sorted(numbers) != list(range(1, len(numbers) + 1)):
        return f"{title}: number your preferences 1st, 2nd, 3rd and so on, without leaving a gap."
    return None


def hidden_fields(contests: list[BallotContest], selections: Selections) -> list[tuple[str, str]]:
    """The form fields that carry a ballot from the review page to the cast (or back to the ballot)."""
    fields: list[tuple[str, str]] = []
    for bc in contests:
        choices = selections.get(bc.id, [])
        if bc.kind == "rank":
            fields.extend((f"{bc.field}-{c}", str(i)) for i, c in enumerate(choices, start=1))
        else:
            fields.extend((bc.field, str(c)) for c in choices)
    return fields


def check_selections(contests: list[BallotContest], selections: Selections) -> dict[int, list[Choice]]:
    """The service's own check of a ballot (whatever the form said): known contests and candidates, no
    repeats, no more choices than allowed. Contests not on the ballot may not be voted in."""
    by_id = {bc.id: bc for bc in contests}
    clean: dict[int, list[Choice]] = {}
    for contest_id, choices in selections.items():
        bc = by_id.get(contest_id)
        if bc is None:
            raise ElectionError(Code.INVALID_BALLOT, "The ballot names a contest that is not on it.")
        keys = [str(c) for c in choices]
        if any(k not in bc.keys for k in keys) or len(set(keys)) != len(keys) or len(keys) > bc.max_choices:
            raise ElectionError(Code.INVALID_BALLOT, f"The choices for {bc.contest.title} are not valid.")
        clean[contest_id] = [Option(k, "").choice for k in keys]
    for bc in contests:
        clean.setdefault(bc.id, [])
    return clean
