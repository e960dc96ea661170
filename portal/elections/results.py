"""Counting and results: the ballots' fingerprint at the close, the count of every post in counting order,
its stored record, the review by the returning officer and scrutineers, and publication.

The workflow, each step computed from the election row (nothing depends on a scheduler):

1. **Close.** When the trustees open the ballot box (`voting.open_ballot_box`), `seal_ballot_box` records
   an HMAC-SHA256 over every ballot (`ballots_hash`, keyed by a key derived from the secret key) on the
   election row and in the audit log, once.
2. **Count.** The returning officer runs the count: each post, in counting order, with its method (STV by the
   election's `stv_rule`), a candidate elected earlier withdrawn from later posts. The seed of any lot is drawn
   at the first count and stored, so a recount repeats every draw. Each post's full record is stored.
3. **Review.** The returning officer and scrutineers read the stored count and may download each ranked
   post's ballots in BLT to recount them with independent software.
4. **Publish.** The returning officer publishes (audited): members see the results (everyone, when the
   election's `results_public` is set), and the ballot trackers become public.

Counting and publishing first recompute the fingerprint: ballots changed since the close stop both.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.models import Account
from portal.audit import AuditEvent
from portal.db import rowcount
from portal.elections import counting
from portal.elections.ballots import on_ballot, valid_candidates
from portal.elections.counting.record import RULE_TITLES, join_names
from portal.elections.errors import Code, ElectionError
from portal.elections.models import (
    METHODS,
    RON,
    STV_RULES,
    Ballot,
    Contest,
    ContestCount,
    Election,
    PendingBallot,
    RollEntry,
)
from portal.elections.secrecy import Choice, derived_key, parse_contents
from portal.elections.service import get_election
from portal.errors import Kind

#: Who reviews a count before it is published.
RUNNERS = ("returning_officer", "scrutineer")
#: How "Re-open nominations" is named in counts and results.
RON_NAME = "Re-open nominations (RON)"
#: The counting package's rule for each STV setting.
STV_COUNTING: dict[str, counting.Method] = {"ers97": "ers97-stv", "scottish": "scottish-stv"}
#: Where an election's results stand (see `results_stage`).
RESULT_STAGES: dict[str, str] = {
    "voting": "Voting has not closed",
    "closing": "Voting closed: the ballot box waits for the trustees' shares",
    "sealed": "Waiting for the count",
    "counted": "Counted, not yet published",
    "published": "Published",
}


# --- tamper evidence ---------------------------------------------------------------------------------------------


def ballot_line(ballot_id: str, tracker: str, salt: str, contents: str) -> str:
    """One ballot as canonical JSON: an object with keys contents, id, salt, tracker (sorted), no spaces,
    UTF-8. A `contents` that is not JSON (an edited row) is taken as its text, so it still hashes."""
    try:
        parsed: Any = json.loads(contents)
    except ValueError:
        parsed = contents
    return json.dumps(
        {"contents": parsed, "id": ballot_id, "salt": salt, "tracker": tracker},
        separators=(",", ":"),
        sort_keys=True,
        ensure_ascii=False,
    )


def fingerprint_key(key: bytes) -> bytes:
    """The fingerprint's own key, derived from the secret key: someone who edits the ballots in a database
    copy cannot recompute a matching fingerprint without it."""
    return derived_key(key, "ballots-fingerprint")


def ballots_hash(session: Session, election_id: int, *, key: bytes) -> tuple[int, str]:
    """How many ballots the election has, and HMAC-SHA256 over them (keyed by `fingerprint_key`): each
    ballot's `ballot_line`, in order of ballot id (by code point, sorted here so that no database collation
    decides), joined by "\\n"."""
    rows = session.execute(
        select(Ballot.id, Ballot.tracker, Ballot.salt, Ballot.contents).where(
            Ballot.election_id == election_id
        )
    ).all()
    lines = [ballot_line(*row) for row in sorted(rows, key=lambda r: r[0])]
    digest = hmac.new(fingerprint_key(key), "\n".join(lines).encode(), hashlib.sha256).hexdigest()
    return len(lines), digest


def seal_ballot_box(
    session: Session, *, election_id: int, now: datetime, key: bytes, actor: Account | None = None
) -> str | None:
    """Record the ballots' fingerprint once the pool is closed and empty; returns it when this call recorded
    it. A conditional update (`ballots_hash IS NULL`) lets exactly one transaction do it; while the pool still
    holds ballots (another worker's batch not yet committed) it waits for a later call."""
    election = get_election(session, election_id)
    session.refresh(election)  # the close set `pool_closed` by a statement that left this object stale
    if election.ballots_hash is not None or not election.pool_closed:
        return None
    pending = session.scalar(
        select(func.count()).select_from(PendingBallot).where(PendingBallot.election_id == election_id)
    )
    if pending:
        return None
    total, digest = ballots_hash(session, election_id, key=key)
    sealed = session.execute(
        update(Election)
        .where(Election.id == election_id, Election.pool_closed.is_(True), Election.ballots_hash.is_(None))
        .values(ballots_hash=digest, ballots_total=total, ballots_sealed_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(sealed) != 1:
        return None
    session.refresh(election)
    audit.record(
        session,
        actor=actor,
        action="election.closed",
        subject=f"election {election.id}: {election.title}",
        details={"ballots": total, "ballots_hash": digest},
        now=now,
    )
    return digest


@dataclass(frozen=True)
class Verification:
    """The ballots' fingerprint now, against the one recorded at the close (row and audit log)."""

    ballots: int
    computed: str
    recorded: str | None
    recorded_ballots: int | None
    audited: str | None
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _audited_hash(session: Session, election: Election) -> str | None:
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "election.closed", AuditEvent.subject.like(f"election {election.id}:%"))
        .order_by(AuditEvent.id)
    ).all()
    for event in events:
        if event.subject.startswith(f"election {election.id}: "):
            try:
                return str(json.loads(event.details).get("ballots_hash"))
            except (ValueError, AttributeError):
                return ""
    return None


def verify_ballots(session: Session, *, election_id: int, key: bytes) -> Verification:
    """Recompute the fingerprint and say everything that does not match what was recorded at the close."""
    election = get_election(session, election_id)
    total, digest = ballots_hash(session, election.id, key=key)
    audited = _audited_hash(session, election)
    problems: list[str] = []
    if election.ballots_hash is None:
        problems.append(
            "The ballot box has not been opened: voting has not closed, or the trustees have not yet given "
            "their shares."
        )
    else:
        if digest != election.ballots_hash:
            problems.append(
                "The ballots do not match the fingerprint recorded at the close: "
                "a ballot was changed, added or removed."
            )
        if election.ballots_total is not None and total != election.ballots_total:
            problems.append(
                f"There are {total} ballots now; there were {election.ballots_total} at the close."
            )
        if audited is None:
            problems.append("The audit log has no record of the close of this election.")
        elif audited != election.ballots_hash:
            problems.append("The fingerprint on the election differs from the one in the audit log.")
    return Verification(
        ballots=total,
        computed=digest,
        recorded=election.ballots_hash,
        recorded_ballots=election.ballots_total,
        audited=audited,
        problems=tuple(problems),
    )


def _require_untampered(session: Session, election: Election, key: bytes) -> None:
    _, digest = ballots_hash(session, election.id, key=key)
    if digest != election.ballots_hash:
        raise ElectionError(
            Code.TAMPERED,
            "The ballots no longer match the fingerprint recorded at the close. Nothing was counted or "
            "published; run `portal election verify` and investigate.",
            kind=Kind.CONFLICT,
        )


# --- counting ----------------------------------------------------------------------------------------------------


def counting_rule(election: Election, contest: Contest) -> counting.Method:
    """The counting package's rule for a post: plurality, approval, or STV by the election's setting."""
    if contest.method == "stv":
        return STV_COUNTING.get(election.stv_rule, "ers97-stv")
    if contest.method == "approval":
        return "approval"
    return "plurality"


def _printable(text: str) -> str:
    """A name or title as a count and a BLT file can hold it: one line, no double quotes."""
    return " ".join(text.replace('"', "'").split())


def _ron_id(contest: Contest) -> str:
    """RON is a candidate of its own post only: one id per post, so RON winning one post withdraws nothing."""
    return f"{RON}:{contest.id}"


@dataclass
class PostCount:
    """One post's count (or the reason it needed none), before it is stored."""

    contest: Contest
    position: int
    outcome: str
    rule: str | None
    candidates: list[counting.Candidate]
    #: Membership number of each candidate, by name (RON has none).
    numbers: dict[str, str]
    #: The contest as counted (with the earlier winners withdrawn): what the BLT file holds.
    counted: counting.Contest | None = None
    result: counting.CountResult | None = None
    elected: list[tuple[str, int | None, str]] = field(default_factory=list)
    withdrawn: list[tuple[str, str]] = field(default_factory=list)
    blank: int = 0
    explanation: list[str] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        """The stored record: JSON-ready, the counting package's own `as_dict()` under "count"."""
        result = self.result
        return {
            "outcome": self.outcome,
            "title": self.contest.title,
            "seats": self.contest.seats,
            "method": self.contest.method,
            "rule": self.rule,
            "candidates": [
                {"name": c.name, "ron": isinstance(c.id, str), "number": self.numbers.get(c.name)}
                for c in self.candidates
            ],
            "elected": [{"name": n, "stage": s, "reason": r} for n, s, r in self.elected],
            "excluded": (
                [{"name": d.candidate.name, "stage": d.stage, "reason": d.reason} for d in result.excluded]
                if result
                else []
            ),
            "withdrawn": [{"name": n, "because": why} for n, why in self.withdrawn],
            "blank": self.blank,
            "count": result.as_dict() if result else None,
            "explanation": self.explanation,
        }


def _join(names: Sequence[str]) -> str:
    return join_names(list(names))


def plan_count(session: Session, election: Election, *, seed: int) -> list[PostCount]:
    """Count every post of a closed election from its stored ballots, in counting order (officer posts first,
    then by position), each with its own rule; a candidate elected to an earlier post is withdrawn from later
    ones. This is `counting.count_in_order` (one seed for every count, winners withdrawn by candidate id,
    so the same member carries the same id in every post), extended to the posts decided without a vote:
    an elected-unopposed candidate is withdrawn from later posts too, and one already elected is withdrawn
    from an unopposed post. Reads only; the same database and seed always give the same counts."""
    found = valid_candidates(session, election)
    papers = [
        parse_contents(contents)
        for _, contents in sorted(
            session.execute(
                select(Ballot.id, Ballot.contents).where(Ballot.election_id == election.id)
            ).all(),
            key=lambda row: row[0],
        )
    ]
    elected_in: dict[counting.CandidateId, str] = {}
    posts: list[PostCount] = []
    for position, contest in enumerate(election.contests):
        rows = found.of(contest)
        names = [_printable(member.full_name) for _, member in rows]
        repeated = {name for name in names if names.count(name) > 1}
        candidates: list[counting.Candidate] = []
        by_choice: dict[Choice, counting.CandidateId] = {}
        numbers: dict[str, str] = {}
        for (nomination, member), name in zip(rows, names, strict=True):
            if name in repeated:
                name = f"{name} ({member.membership_number})"
            candidates.append(counting.Candidate(member.id, name))
            by_choice[nomination.id] = member.id
            numbers[name] = member.membership_number
        if contest.ron:
            candidates.append(counting.Candidate(_ron_id(contest), RON_NAME))
            by_choice[RON] = _ron_id(contest)
        withdrawn = [(c.name, elected_in[c.id]) for c in candidates if c.id in elected_in]
        post = PostCount(
            contest=contest,
            position=position,
            outcome="counted",
            rule=None,
            candidates=candidates,
            numbers=numbers,
            withdrawn=withdrawn,
        )
        earlier = [
            f"{name} was elected to an earlier post ({post_title}), so is withdrawn from this one."
            for name, post_title in withdrawn
        ]
        if on_ballot(contest, len(rows)):
            post.rule = counting_rule(election, contest)
            full, post.blank = _contest(election, contest, candidates, by_choice, papers)
            post.counted = full.with_withdrawn(elected_in)
            post.result = counting.count(post.counted, post.rule, seed=seed)
            post.elected = [(d.candidate.name, d.stage, d.reason) for d in post.result.elected]
            post.explanation = [*earlier, *counting.explain(post.result)]
            if any(d.candidate.id == by_choice.get(RON) for d in post.result.elected):
                post.explanation.append(
                    "Re-open nominations won a seat: that seat is not filled, and nominations for it "
                    "will be re-opened."
                )
            winners = [d.candidate for d in post.result.elected]
        elif rows:
            standing = [c for c in candidates if c.id not in elected_in]
            post.outcome = "unopposed"
            post.elected = [(c.name, None, f"{c.name} is elected unopposed.") for c in standing]
            seat_word = "seat" if contest.seats == 1 else "seats"
            post.explanation = [
                *earlier,
                f"There were no more valid candidates than {seat_word} ({contest.seats}), so there was no vote.",
            ]
            if standing:
                verb = "is" if len(standing) == 1 else "are"
                post.explanation.append(f"{_join([c.name for c in standing])} {verb} elected unopposed.")
            if len(standing) < contest.seats:
                post.explanation.append(f"{contest.seats - len(standing)} seat(s) could not be filled.")
            winners = standing
        else:
            post.outcome = "vacant"
            post.explanation = [
                f"Nobody was validly nominated for this post, so its {contest.seats} "
                f"{'seat is' if contest.seats == 1 else 'seats are'} not filled."
            ]
            winners = []
        for winner in winners:
            elected_in.setdefault(winner.id, contest.title)
        posts.append(post)
    return posts


def _contest(
    election: Election,
    contest: Contest,
    candidates: list[counting.Candidate],
    by_choice: dict[Choice, counting.CandidateId],
    papers: Iterable[dict[int, list[Choice]]],
) -> tuple[counting.Contest, int]:
    """The post's ballots as the counting package takes them (identical ones weighted together, in order of
    first appearance), and how many ballots left the post blank."""
    weights: dict[tuple[counting.CandidateId, ...], int] = {}
    blank = 0
    for paper in papers:
        choices = paper.get(contest.id) or []
        if not choices:
            blank += 1
            continue
        if any(choice not in by_choice for choice in choices):
            raise ElectionError(
                Code.INVALID_BALLOT,
                f"A ballot names someone who is not a candidate for {contest.title}.",
                kind=Kind.CONFLICT,
            )
        ranking = tuple(by_choice[choice] for choice in choices)
        weights[ranking] = weights.get(ranking, 0) + 1
    return (
        counting.Contest(
            seats=contest.seats,
            candidates=tuple(candidates),
            ballots=tuple(counting.Ballot(ranking, weight) for ranking, weight in weights.items()),
            title=_printable(f"{contest.title} ({election.title})"),
        ),
        blank,
    )


def _require_sealed(election: Election, now: datetime) -> None:
    if election.ballots_hash is not None:
        return
    if now < election.voting_close_at:
        raise ElectionError(
            Code.NOT_CLOSED, "Voting has not closed yet: the count comes after the close.", kind=Kind.CONFLICT
        )
    raise ElectionError(
        Code.NOT_OPENED,
        "Voting has closed, but the ballot box is still sealed: give the trustees' shares to open it "
        "(the close page, or `portal election decrypt`), then count.",
        kind=Kind.CONFLICT,
    )


def run_count(
    session: Session, *, actor: Account, election_id: int, now: datetime, key: bytes
) -> list[ContestCount]:
    """The returning officer counts (or recounts) a closed election and the record of every post is stored.
    The lot's seed is drawn at the first count and kept, so a recount gives the same result."""
    election = get_election(session, election_id, lock=True)
    _require_sealed(election, now)
    if election.published_at is not None:
        raise ElectionError(
            Code.PUBLISHED, "The results are published: the count is final.", kind=Kind.CONFLICT
        )
    _require_untampered(session, election, key)
    recount = election.counted_at is not None
    if election.count_seed is None:
        election.count_seed = secrets.randbits(32)
    posts = plan_count(session, election, seed=election.count_seed)
    session.execute(
        delete(ContestCount)
        .where(ContestCount.election_id == election.id)
        .execution_options(synchronize_session=False)
    )
    rows = [
        ContestCount(
            election_id=election.id,
            contest_id=post.contest.id,
            position=post.position,
            outcome=post.outcome,
            record=json.dumps(post.record(), ensure_ascii=False),
        )
        for post in posts
    ]
    session.add_all(rows)
    election.counted_at = now
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="election.recounted" if recount else "election.counted",
        subject=f"election {election.id}: {election.title}",
        details={
            "seed": election.count_seed,
            "ballots": election.ballots_total,
            "ballots_hash": election.ballots_hash,
            "elected": {post.contest.title: [name for name, _, _ in post.elected] for post in posts},
        },
        now=now,
    )
    return rows


def publish_results(
    session: Session, *, actor: Account, election_id: int, now: datetime, key: bytes
) -> Election:
    """Publish the stored count (once): members see it, everyone when `results_public`; trackers go public."""
    election = get_election(session, election_id, lock=True)
    if election.published_at is not None:
        raise ElectionError(Code.PUBLISHED, "The results are already published.", kind=Kind.CONFLICT)
    if election.counted_at is None:
        raise ElectionError(
            Code.NOT_COUNTED, "Run the count before publishing the results.", kind=Kind.CONFLICT
        )
    _require_untampered(session, election, key)
    published = session.execute(
        update(Election)
        .where(Election.id == election.id, Election.published_at.is_(None))
        .values(published_at=now, tracker_public=True)
        .execution_options(synchronize_session=False)
    )
    if rowcount(published) != 1:
        raise ElectionError(Code.PUBLISHED, "The results are already published.", kind=Kind.CONFLICT)
    session.refresh(election)
    audit.record(
        session,
        actor=actor,
        action="election.results_published",
        subject=f"election {election.id}: {election.title}",
        details={
            "public": election.results_public,
            "seed": election.count_seed,
            "ballots_hash": election.ballots_hash,
        },
        now=now,
    )
    return election


@dataclass(frozen=True)
class Tally:
    """A count of the stored ballots made on demand (the command line), and how it compares with the
    stored count."""

    seed: int
    stored_seed: bool
    records: list[dict[str, Any]]
    #: None when no count is stored yet.
    matches_stored: bool | None


def tally(session: Session, *, election_id: int, now: datetime) -> Tally:
    """Count an election's stored ballots without storing anything: with the stored seed once the returning
    officer has counted (so the result is the page's), else with a fresh seed that is reported."""
    election = get_election(session, election_id)
    _require_sealed(election, now)
    stored_seed = election.count_seed is not None
    seed = election.count_seed if election.count_seed is not None else secrets.randbits(32)
    records = [_normal(post.record()) for post in plan_count(session, election, seed=seed)]
    stored = stored_records(session, election.id)
    matches = None if election.counted_at is None else [r for _, r in stored] == records
    return Tally(seed=seed, stored_seed=stored_seed, records=records, matches_stored=matches)


def _normal(record: dict[str, Any]) -> dict[str, Any]:
    """A record as it reads back from storage (JSON has no tuples)."""
    result: dict[str, Any] = json.loads(json.dumps(record, ensure_ascii=False))
    return result


def stored_records(session: Session, election_id: int) -> list[tuple[ContestCount, dict[str, Any]]]:
    rows = session.scalars(
        select(ContestCount).where(ContestCount.election_id == election_id).order_by(ContestCount.position)
    ).all()
    return [(row, json.loads(row.record)) for row in rows]


def contest_blt(session: Session, *, election_id: int, contest_id: int) -> tuple[str, str]:
    """A counted ranked post's ballots in BLT (candidate names; earlier winners withdrawn as negative
    numbers; quoted title), as counted: recount it with `portal count FILE --rule ... --seed ...`.
    Returns (file name, text)."""
    election = get_election(session, election_id)
    if election.counted_at is None or election.count_seed is None:
        raise ElectionError(
            Code.NOT_COUNTED, "The ballots are exported once the count has run.", kind=Kind.NOT_FOUND
        )
    post = next(
        (p for p in plan_count(session, election, seed=election.count_seed) if p.contest.id == contest_id),
        None,
    )
    if post is None:
        raise ElectionError(Code.NOT_FOUND, "There is no such post.", kind=Kind.NOT_FOUND)
    if post.contest.method != "stv" or post.counted is None:
        raise ElectionError(
            Code.NOT_RANKED,
            "Only ranked (STV) posts that went to a vote are exported as BLT.",
            kind=Kind.NOT_FOUND,
        )
    return f"election-{election.id}-post-{post.contest.id}.blt", counting.write_blt(post.counted)


# --- what the pages show ------------------------------------------------------------------------------------------


def results_stage(election: Election, now: datetime) -> str:
    """A key of RESULT_STAGES."""
    if election.published_at is not None:
        return "published"
    if election.counted_at is not None:
        return "counted"
    if election.ballots_hash is not None:
        return "sealed"
    return "voting" if now < election.voting_close_at else "closing"


def is_runner(principal: Any) -> bool:
    return principal is not None and principal.has(*RUNNERS)


def may_see_results(election: Election, principal: Any) -> bool:
    """The returning officer and scrutineers see a count as soon as it is stored (to review it); members
    once it is published; everyone once it is published if the election's results are public."""
    if is_runner(principal):
        return election.counted_at is not None
    if election.published_at is None:
        return False
    return election.results_public or (principal is not None and principal.member_id is not None)


@dataclass(frozen=True)
class Turnout:
    roll: int
    voted: int
    ballots: int

    @property
    def percent(self) -> str:
        return f"{100 * self.ballots / self.roll:.1f}" if self.roll else "0.0"


def turnout(session: Session, election: Election) -> Turnout:
    """The roll as it stood at the close (late corrections included), who voted, and the ballots counted."""
    voted_sum = func.sum(case((RollEntry.has_voted.is_(True), 1), else_=0))
    roll, voted = session.execute(
        select(func.count(), voted_sum).where(RollEntry.election_id == election.id)
    ).one()
    ballots = election.ballots_total
    if ballots is None:
        ballots = session.scalar(
            select(func.count()).select_from(Ballot).where(Ballot.election_id == election.id)
        )
    return Turnout(roll=int(roll or 0), voted=int(voted or 0), ballots=int(ballots or 0))


@dataclass(frozen=True)
class StageRow:
    name: str
    votes: str
    change: str
    status: str
    ron: bool
    elected_here: bool
    excluded_here: bool
    #: Excluded at the last stage only because every place was filled: simply not elected (not the stage's
    #: exclusion of the lowest candidate).
    not_elected_here: bool = False


@dataclass(frozen=True)
class StageView:
    number: int
    action: str
    description: str
    quota: str | None
    rows: list[StageRow]
    non_transferable: str
    loss_by_fractions: str
    elected: list[str]
    excluded: list[str]
    notes: list[str]

    @property
    def transfers(self) -> bool:
        """Whether this stage moved votes (every stage after the first count)."""
        return self.number > 0 or self.action != "first count"


@dataclass(frozen=True)
class Decided:
    name: str
    stage: int | None
    reason: str
    ron: bool


@dataclass(frozen=True)
class PostResult:
    """One post's stored count, ready for the page, the CSV and the PDF."""

    contest_id: int
    position: int
    title: str
    seats: int
    method: str
    method_label: str
    outcome: str
    rule: str | None
    rule_title: str
    valid_ballots: int | None
    blank: int
    quota: str | None
    seed: int | None
    elected: list[Decided]
    excluded: list[Decided]
    withdrawn: list[tuple[str, str]]
    stages: list[StageView]
    explanation: list[str]
    record: dict[str, Any]

    @property
    def ranked(self) -> bool:
        return self.method == "stv" and self.outcome == "counted"

    @property
    def winners(self) -> list[str]:
        return [d.name for d in self.elected]

    def final_votes(self) -> dict[str, Decimal]:
        if not self.stages:
            return {}
        return {row.name: Decimal(row.votes) for row in self.stages[-1].rows}


def _stage_view(raw: dict[str, Any], ron_names: set[str], *, last: bool) -> StageView:
    elected, excluded = set(raw["elected"]), set(raw["excluded"])
    # At the last stage, whoever was excluded without being the stage's own subject (the lowest candidate an
    # exclusion stage removes) was left when every place had been filled.
    excluded_by_the_stage = set(raw.get("subjects", [])) if raw["action"] == "exclusion" else set()
    rows = [
        StageRow(
            name=name,
            votes=votes,
            change=raw["transfers"][name],
            status=raw["status"][name],
            ron=name in ron_names,
            elected_here=name in elected,
            excluded_here=name in excluded,
            not_elected_here=last and name in excluded and name not in excluded_by_the_stage,
        )
        for name, votes in raw["votes"].items()
    ]
    return StageView(
        number=raw["stage"],
        action=raw["action"],
        description=raw["description"],
        quota=raw["quota"],
        rows=rows,
        non_transferable=raw["non_transferable"],
        loss_by_fractions=raw["loss_by_fractions"],
        elected=list(raw["elected"]),
        excluded=list(raw["excluded"]),
        notes=list(raw["notes"]),
    )


def post_result(row: ContestCount, record: dict[str, Any]) -> PostResult:
    ron_names = {c["name"] for c in record["candidates"] if c["ron"]}
    count = record.get("count") or {}
    rule = record.get("rule")
    rounds = count.get("rounds", [])
    return PostResult(
        contest_id=row.contest_id,
        position=row.position,
        title=record["title"],
        seats=record["seats"],
        method=record["method"],
        method_label=METHODS.get(record["method"], record["method"]),
        outcome=record["outcome"],
        rule=rule,
        rule_title=RULE_TITLES.get(rule, "") if rule else "",
        valid_ballots=count.get("ballots"),
        blank=record.get("blank", 0),
        quota=count.get("quota"),
        seed=count.get("seed"),
        elected=[
            Decided(d["name"], d["stage"], d["reason"], d["name"] in ron_names) for d in record["elected"]
        ],
        excluded=[
            Decided(d["name"], d["stage"], d["reason"], d["name"] in ron_names) for d in record["excluded"]
        ],
        withdrawn=[(w["name"], w["because"]) for w in record["withdrawn"]],
        stages=[_stage_view(stage, ron_names, last=i == len(rounds) - 1) for i, stage in enumerate(rounds)],
        explanation=list(record["explanation"]),
        record=record,
    )


def post_results(session: Session, election_id: int) -> list[PostResult]:
    """Every post's stored count, in counting order."""
    return [post_result(row, record) for row, record in stored_records(session, election_id)]


def stv_rule_label(election: Election) -> str:
    return STV_RULES.get(election.stv_rule, election.stv_rule)


def archive(session: Session, principal: Any) -> list[Election]:
    """Past elections whose published results this viewer may see, latest first."""
    elections = session.scalars(
        select(Election).where(Election.published_at.is_not(None)).order_by(Election.voting_close_at.desc())
    ).all()
    return [e for e in elections if may_see_results(e, principal)]
