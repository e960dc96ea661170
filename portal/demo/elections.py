"""Elections: last year's Executive Committee election, nominated, voted, counted and published; and this
year's, nominated and now in its voting period, its trustees holding the shares of its key."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.demo.base import DemoBase
from portal.demo.people import DemoMember, statement
from portal.demo.timeline import london, london_date, spread
from portal.elections import photos, results, roll, trustees, voting
from portal.elections import service as elections
from portal.elections.ballots import BallotContest, ballot_contests
from portal.elections.models import Contest, Nomination, NominationToken, RollEntry
from portal.elections.secrecy import Choice
from portal.web.tokens import token_digest


@dataclass
class Candidacy:
    contest: str
    candidate: DemoMember
    proposer: DemoMember
    seconder: DemoMember
    self_nominated: bool
    #: accept, withdraw (after acceptance), decline (the seconder says no), reject (by the returning officer).
    fate: str = "accept"
    photo: bool = False
    popularity: float = 1.0
    nomination_id: int = 0


@dataclass
class DemoElection:
    title: str
    setup: elections.ElectionSetup
    created_at: datetime
    contests: list[elections.ContestSetup]
    candidacies: list[Candidacy]
    turnout: float
    #: Must vote (the demo member votes in last year's election, not yet in this year's).
    voters_included: list[DemoMember] = field(default_factory=list)
    voters_excluded: list[DemoMember] = field(default_factory=list)
    election_id: int = 0
    ballot: list[BallotContest] = field(default_factory=list)


PORTRAIT_COLOURS = ((11, 92, 107), (120, 60, 110), (40, 90, 60), (150, 80, 30), (60, 70, 130), (110, 50, 50))


def portrait(initials: str, colour: tuple[int, int, int]) -> bytes:
    """A plain portrait card (initials on a colour) standing in for a candidate's photo."""
    image = Image.new("RGB", (400, 400), colour)
    draw = ImageDraw.Draw(image)
    draw.text((200, 200), initials, fill=(255, 255, 255), font=ImageFont.load_default(size=170), anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


class ElectionSteps(DemoBase):
    def __init__(self, session: Session, **options: Any) -> None:
        super().__init__(session, **options)
        self.elections: dict[str, DemoElection] = {}
        #: Each election's trustees' share files, (file name, text), in trustee order.
        self.shares: defaultdict[str, list[tuple[str, str]]] = defaultdict(list)

    # --- the plans ---

    def candidacy(
        self, contest: str, candidate: DemoMember, pool: Sequence[DemoMember], **extra: Any
    ) -> Candidacy:
        proposer, seconder = self.rng.sample([m for m in pool if m is not candidate], 2)
        return Candidacy(
            contest,
            candidate,
            proposer,
            seconder,
            self_nominated=self.rng.random() < 0.7,
            popularity=self.rng.uniform(0.5, 1.5),
            photo=self.rng.random() < 0.6,
            **extra,
        )

    def plan_past_election(self) -> None:
        today = self.today
        close = london(today - timedelta(days=364), 17)
        pool = self.in_standing()
        assert self.demo_member is not None
        stand = self.rng.sample(
            [m for m in pool if m.accreditation != "none" and m is not self.demo_member], 8
        )
        candidacies = [
            self.candidacy("Chair", stand[0], pool),
            self.candidacy("Chair", stand[1], pool),
            self.candidacy("Treasurer", stand[2], pool),
            *(self.candidacy("Ordinary committee member", m, pool) for m in stand[3:]),
        ]
        self.elections["past"] = DemoElection(
            title=f"Executive Committee election {close.year}",
            created_at=london(today - timedelta(days=405), 10),
            setup=elections.ElectionSetup(
                title=f"Executive Committee election {close.year}",
                description=(
                    "Elections to the Executive Committee: the Chair, the Treasurer and three ordinary "
                    "members, each for two years. Ranked posts are counted by STV (ERS97 rules)."
                ),
                nominations_open_at=london(today - timedelta(days=400), 9),
                nominations_close_at=london(today - timedelta(days=386), 17),
                withdrawal_deadline_at=london(today - timedelta(days=384), 17),
                voting_open_at=london(today - timedelta(days=378), 9),
                voting_close_at=close,
                stv_rule="ers97",
                results_public=True,
            ),
            contests=[
                elections.ContestSetup("Chair", seats=1, method="stv", officer=True, position=1),
                elections.ContestSetup("Treasurer", seats=1, method="stv", officer=True, position=2),
                elections.ContestSetup("Ordinary committee member", seats=3, method="stv", position=3),
            ],
            candidacies=candidacies,
            turnout=0.46,
            voters_included=[self.demo_member],
        )
        self.plan_election("past")

    def plan_current_election(self) -> None:
        today = self.today
        pool = [
            m for m in self.in_standing() if m.renewal_on is None or m.renewal_on > today + timedelta(days=1)
        ]
        assert self.demo_member is not None
        stand = self.rng.sample(
            [m for m in pool if m.accreditation != "none" and m is not self.demo_member], 14
        )
        candidacies = [
            self.candidacy("Chair", stand[0], pool),
            self.candidacy("Chair", stand[1], pool),
            self.candidacy("Secretary", stand[2], pool),
            self.candidacy("Secretary", stand[3], pool),
            self.candidacy("Treasurer", stand[4], pool),
            # The runner-up for Chair stands for the committee too (the count withdraws a winner from later posts).
            self.candidacy("Ordinary committee member", stand[1], pool),
            *(self.candidacy("Ordinary committee member", m, pool) for m in stand[5:11]),
            self.candidacy("Ordinary committee member", stand[11], pool, fate="withdraw"),
            self.candidacy("Ordinary committee member", stand[12], pool, fate="decline"),
            self.candidacy("Secretary", stand[13], pool, fate="reject"),
        ]
        close = london(today + timedelta(days=8), 17)
        self.elections["current"] = DemoElection(
            title=f"Executive Committee election {close.year}",
            created_at=london(today - timedelta(days=45), 10),
            setup=elections.ElectionSetup(
                title=f"Executive Committee election {close.year}",
                description=(
                    "Elections to the Executive Committee: the Chair, the Secretary, the Treasurer and four "
                    "ordinary members, each for two years. Every post is ranked and counted by STV (ERS97 "
                    "rules): number the candidates in the order you prefer them, as many or as few as you "
                    "like."
                ),
                nominations_open_at=london(today - timedelta(days=35), 9),
                nominations_close_at=london(today - timedelta(days=14), 17),
                withdrawal_deadline_at=london(today - timedelta(days=12), 17),
                voting_open_at=min(london(today - timedelta(days=6), 9), self.now - timedelta(days=5)),
                voting_close_at=close,
                ballot_order="shuffled",
                reminder_days=(3, 1),
                stv_rule="ers97",
                results_public=True,
            ),
            contests=[
                elections.ContestSetup("Chair", seats=1, method="stv", ron=True, officer=True, position=1),
                elections.ContestSetup("Secretary", seats=1, method="stv", officer=True, position=2),
                elections.ContestSetup(
                    "Treasurer", seats=1, method="stv", ron=True, officer=True, position=3
                ),
                elections.ContestSetup("Ordinary committee member", seats=4, method="stv", position=4),
            ],
            candidacies=candidacies,
            turnout=0.40,
            voters_excluded=[self.demo_member],
        )
        self.plan_election("current")

    def plan_election(self, name: str) -> None:
        rng = self.rng
        election = self.elections[name]
        setup = election.setup
        self.at(election.created_at, self.create_election, name)
        opens, closes = setup.nominations_open_at, setup.nominations_close_at
        for candidacy, when in zip(
            election.candidacies,
            spread(rng, opens + timedelta(hours=3), closes - timedelta(days=4), len(election.candidacies)),
            strict=True,
        ):
            self.at(when, self.nominate, name, candidacy)
        decided = closes + timedelta(hours=rng.uniform(14, 22))
        self.at(decided, self.decide, name)
        for candidacy in election.candidacies:
            if candidacy.fate == "withdraw":
                self.at(decided + timedelta(hours=6), self.withdraw, name, candidacy)
        self.at(setup.voting_open_at, self.open_voting, name)
        if setup.voting_close_at < self.now:
            self.at(setup.voting_close_at + timedelta(minutes=3), self.close_and_count, name)

    # --- steps: set-up and trustees ---

    def create_election(self, name: str, t: datetime) -> None:
        election = self.elections[name]
        officer = self.staff["returning_officer"]
        created = elections.create_election(self.s, actor=officer, setup=election.setup, now=t)
        election.election_id = created.id
        for n, contest in enumerate(election.contests):
            self.at(t + timedelta(minutes=n + 1), self.add_contest, name, contest)
        self.at(t + timedelta(days=1), self.make_trustees, name)

    def make_trustees(self, name: str, t: datetime) -> None:
        """The returning officer names the trustees (herself and both scrutineers, any 2 of 3) and makes the
        election key; each trustee downloads their share (kept for the command to write under var/) and
        checks it."""
        election_id = self.elections[name].election_id
        officer = self.staff["returning_officer"]
        people = [officer, self.staff["scrutineer@example.org"], self.staff["scrutineer2@example.org"]]
        trustees.name_trustees(
            self.s,
            actor=officer,
            election_id=election_id,
            account_ids=[p.id for p in people],
            threshold=2,
            now=t,
        )
        trustees.make_key(self.s, actor=officer, election_id=election_id, key=self.key, now=t)
        for n, person in enumerate(people):
            self.at(t + timedelta(hours=2 + n), self.take_share, name, person)

    def take_share(self, name: str, person: Account, t: datetime) -> None:
        election_id = self.elections[name].election_id
        _, text = trustees.download_share(
            self.s, account_id=person.id, election_id=election_id, key=self.key, now=t
        )
        trustees.check_share(self.s, account_id=person.id, election_id=election_id, text=text, now=t)
        who = person.email.split("@")[0]
        self.shares[name].append((f"election-{election_id}-{who}.share", text))

    def add_contest(self, name: str, contest: elections.ContestSetup, t: datetime) -> None:
        elections.add_contest(
            self.s,
            actor=self.staff["returning_officer"],
            election_id=self.elections[name].election_id,
            setup=contest,
            now=t,
        )

    # --- steps: nominations ---

    def nominate(self, name: str, candidacy: Candidacy, t: datetime) -> None:
        """The nomination, then the proposer, seconder and (when someone else nominated) the candidate
        answer the links e-mailed to them, within a couple of days."""
        election = self.elections[name]
        contest_id = self.s.scalar(
            select(Contest.id).where(
                Contest.election_id == election.election_id, Contest.title == candidacy.contest
            )
        )
        assert contest_id is not None
        person = candidacy.candidate.person
        photo = None
        if candidacy.photo:
            photo = photos.clean_photo(
                portrait(person.first_name[0] + person.last_name[0], self.rng.choice(PORTRAIT_COLOURS))
            )
        nominator = candidacy.candidate if candidacy.self_nominated else candidacy.proposer
        nomination = elections.nominate(
            self.s,
            election_id=election.election_id,
            nominator_id=nominator.id,
            form=elections.NominationForm(
                contest_id=contest_id,
                nominee_id=candidacy.candidate.id,
                proposer_id=candidacy.proposer.id,
                seconder_id=candidacy.seconder.id,
                statement=statement(self.rng),
                photo=photo,
            ),
            now=t,
            key=self.key,
            links=self.election_links,
        )
        candidacy.nomination_id = nomination.id
        roles = {
            row.token_digest: row.role
            for row in self.s.scalars(
                select(NominationToken).where(NominationToken.nomination_id == nomination.id)
            )
        }
        deadline = election.setup.nominations_close_at - timedelta(hours=1)
        for token in self._take_inbox():
            role = roles[token_digest(self.key, token, purpose="nomination")]
            confirm = not (candidacy.fate == "decline" and role == "seconder")
            when = min(t + timedelta(hours=self.rng.uniform(1, 60)), deadline)
            self.at(when, self.answer, token, confirm)

    def answer(self, token: str, confirm: bool, t: datetime) -> None:
        _, nomination = elections.nomination_token(self.s, token=token, key=self.key)
        if nomination.status == "pending":  # not already ended by someone else declining
            elections.answer_nomination(self.s, token=token, confirm=confirm, now=t, key=self.key)

    def decide(self, name: str, t: datetime) -> None:
        """The returning officer goes through the nominations, one every four minutes."""
        for n, candidacy in enumerate(self.elections[name].candidacies):
            self.at(t + timedelta(minutes=4 * n), self.decide_one, name, candidacy)

    def decide_one(self, name: str, candidacy: Candidacy, t: datetime) -> None:
        nomination = self.s.get(Nomination, candidacy.nomination_id)
        assert nomination is not None
        if nomination.status != "submitted":
            return
        reject = candidacy.fate == "reject"
        elections.decide_nomination(
            self.s,
            actor=self.staff["returning_officer"],
            election_id=self.elections[name].election_id,
            nomination_id=nomination.id,
            accept=not reject,
            reason="The seconder's membership had lapsed when they seconded." if reject else "",
            now=t,
        )

    def withdraw(self, name: str, candidacy: Candidacy, t: datetime) -> None:
        elections.withdraw_nomination(
            self.s,
            election_id=self.elections[name].election_id,
            nomination_id=candidacy.nomination_id,
            member_id=candidacy.candidate.id,
            now=t,
        )

    # --- steps: voting, the close, the count ---

    def open_voting(self, name: str, t: datetime) -> None:
        """Voting opens: the roll freezes (every member on it is e-mailed a ballot link) and members vote
        through the voting period, most of them early."""
        election = self.elections[name]
        roll.freeze_roll(
            self.s, election_id=election.election_id, now=t, key=self.key, links=self.election_links
        )
        stored = elections.get_election(self.s, election.election_id)
        election.ballot = ballot_contests(self.s, stored, key=self.key)
        on_roll = set(self.s.scalars(select(RollEntry.member_id).where(RollEntry.election_id == stored.id)))
        excluded = {m.id for m in election.voters_excluded}
        # Only those still in good standing at the end vote (an overdue renewal would refuse the ballot).
        able = [
            m
            for m in self.members
            if m.id in on_roll
            and m.id not in excluded
            and (m.renewal_on is None or m.renewal_on > min(self.today, london_date(stored.voting_close_at)))
        ]
        chosen = self.rng.sample(able, round(len(on_roll) * election.turnout) - len(election.voters_included))
        voters = [*election.voters_included, *(m for m in chosen if m not in election.voters_included)]
        self.rng.shuffle(voters)
        end = min(stored.voting_close_at, self.now) - timedelta(minutes=10)
        for member, when in zip(
            voters, spread(self.rng, t + timedelta(minutes=5), end, len(voters), skew=1.7), strict=True
        ):
            self.at(when, self.cast, name, member)

    def preferences(self, name: str, contest: BallotContest) -> list[Choice]:
        """A ranking drawn by popularity (re-open nominations rarely first); some rank only a few."""
        if self.rng.random() < 0.03:
            return []
        weights = {c.nomination_id: c.popularity for c in self.elections[name].candidacies}
        options = list(contest.options)
        length = len(options) if self.rng.random() < 0.4 else self.rng.randint(1, len(options))
        ranked: list[Choice] = []
        while options and len(ranked) < length:
            pick = self.rng.choices(
                options, weights=[0.12 if o.key == "RON" else weights[int(o.key)] for o in options]
            )[0]
            options.remove(pick)
            ranked.append(pick.choice)
        return ranked

    def cast(self, name: str, member: DemoMember, t: datetime) -> None:
        election = self.elections[name]
        voting.cast_ballot(
            self.s,
            election_id=election.election_id,
            member_id=member.id,
            selections={c.id: self.preferences(name, c) for c in election.ballot},
            key=self.key,
            now=t,
        )

    def close_and_count(self, name: str, t: datetime) -> None:
        """The close: voting closes, then the returning officer and a scrutineer give their shares and the
        ballot box is opened (the ballots' fingerprint recorded); the count the next morning, publication
        the day after."""
        election_id = self.elections[name].election_id
        voting.close_voting(self.s, election_id=election_id, now=t)
        voting.open_ballot_box(
            self.s,
            actor=self.staff["returning_officer"],
            election_id=election_id,
            shares=[trustees.GivenShare(text=text) for _, text in self.shares[name][:2]],
            key=self.key,
            now=t + timedelta(minutes=20),
        )
        self.at(t + timedelta(hours=16), self.count, election_id)
        self.at(t + timedelta(days=2), self.publish, election_id)

    def count(self, election_id: int, t: datetime) -> None:
        results.run_count(
            self.s, actor=self.staff["returning_officer"], election_id=election_id, now=t, key=self.key
        )

    def publish(self, election_id: int, t: datetime) -> None:
        results.publish_results(
            self.s, actor=self.staff["returning_officer"], election_id=election_id, now=t, key=self.key
        )
