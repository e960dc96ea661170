"""Elections: the timetable and rules, contests (posts), nominations and their confirmations, the frozen
roll, ballot links, reminders, and the two ballot tables.

Secrecy is a property of the schema, not only of the code: `pending_ballots` and `ballots` have random ids,
no timestamp and no column that refers to a member, an account, a session or a roll entry, and the roll
records *that* a member voted (a boolean), never *when*. `tests/elections/test_ballot_secrecy.py` reads the
schema to hold this.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime, random_id

#: The state of an election, computed from its timetable at each request (see `Election.state`).
STATES: dict[str, str] = {
    "draft": "Not yet open",
    "nominations": "Nominations open",
    "between": "Nominations closed",
    "voting": "Voting open",
    "closed": "Voting closed",
}
METHODS: dict[str, str] = {
    "plurality": "One vote (first past the post)",
    "approval": "Approval (vote for up to the number of seats)",
    "stv": "Ranked (single transferable vote)",
}
#: How ranked posts are counted; the returning officer chooses at set-up (ERS97 is what UK societies use).
STV_RULES: dict[str, str] = {
    "ers97": "ERS97: the Electoral Reform Society's 1997 rules (used by most UK societies)",
    "scottish": "Scottish STV: the rules of Scottish local government elections (2007)",
}
BALLOT_ORDERS: dict[str, str] = {
    "alphabetical": "Alphabetical by surname",
    "shuffled": "Shuffled for each voter",
}
#: A nomination's life: waiting for proposer, seconder and consent → waiting for the returning officer →
#: accepted or rejected; or withdrawn by the candidate, or declined by a proposer, seconder or nominee.
NOMINATION_STATUSES: dict[str, str] = {
    "pending": "Waiting for confirmations",
    "submitted": "Waiting for the returning officer",
    "accepted": "Valid nomination",
    "rejected": "Rejected",
    "declined": "Declined",
    "withdrawn": "Withdrawn",
}
LIVE_STATUSES = ("pending", "submitted", "accepted")
#: The key a "Re-open nominations" choice has on a ballot (candidates are nomination ids).
RON = "RON"


class Election(Base):
    __tablename__ = "elections"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    nominations_open_at: Mapped[datetime] = mapped_column(UTCDateTime)
    nominations_close_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawal_deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    voting_open_at: Mapped[datetime] = mapped_column(UTCDateTime)
    voting_close_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Space-separated member statuses that may take part ("active").
    eligible_statuses: Mapped[str] = mapped_column(String(200), default="active")
    #: Space-separated category codes; empty means every category.
    eligible_categories: Mapped[str] = mapped_column(Text, default="")
    #: Space-separated accreditation codes; empty means every level.
    eligible_accreditations: Mapped[str] = mapped_column(Text, default="")
    ballot_order: Mapped[str] = mapped_column(String(20), default="alphabetical")
    statement_word_limit: Mapped[int] = mapped_column(Integer, default=300)
    #: Days before the close on which members who have not voted are reminded, e.g. "3,1".
    reminder_days: Mapped[str] = mapped_column(String(50), default="3,1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Set once, by a conditional update, by whichever request or command freezes the roll first.
    roll_frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    roll_size: Mapped[int | None] = mapped_column(Integer)
    #: SHA-256 over the sorted membership numbers of the roll as frozen (see `roll.roll_hash`).
    roll_hash: Mapped[str | None] = mapped_column(String(64))
    #: Set at the close, before the last emptying of the pool: from then on no ballot can be added.
    pool_closed: Mapped[bool] = mapped_column(Boolean, default=False)
    #: How many "remind now" rounds the returning officer has sent (each round's reminders are unique).
    manual_reminders: Mapped[int] = mapped_column(Integer, default=0)
    #: Whether members and the public may see the ballot trackers (the results workflow sets it).
    tracker_public: Mapped[bool] = mapped_column(Boolean, default=False)
    #: How ranked (STV) posts are counted: "ers97" or "scottish" (see `results.STV_RULES`).
    stv_rule: Mapped[str] = mapped_column(String(20), default="ers97", server_default="ers97")
    #: Published results are for everyone, not only members (chosen at set-up, before anyone knows them).
    results_public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: Tamper evidence, recorded once when the pool is emptied for the last time: SHA-256 over every ballot
    #: (see `results.ballots_hash`), how many there were, and when (also in the audit log).
    ballots_hash: Mapped[str | None] = mapped_column(String(64))
    ballots_total: Mapped[int | None] = mapped_column(Integer)
    ballots_sealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The seed of any lot in the count: drawn once, at the first count, so a recount repeats it exactly.
    count_seed: Mapped[int | None] = mapped_column(BigInteger)
    #: How many of the election's trustees must give their shares to open the ballot box (k of n).
    trustee_threshold: Mapped[int | None] = mapped_column(Integer)
    #: The election's X25519 public key (hex): ballots are sealed to it. The private key is never stored;
    #: it exists only as the trustees' shares (see `trustees.py`).
    public_key: Mapped[str | None] = mapped_column(String(64))
    key_made_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set when the last trustee has checked their share: only then may voting open.
    trustees_ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    counted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    contests: Mapped[list[Contest]] = relationship(
        back_populates="election",
        cascade="all, delete-orphan",
        order_by="[Contest.officer.desc(), Contest.position, Contest.id]",
    )

    def state(self, now: datetime) -> str:
        """Where the timetable stands at `now`: nothing depends on a scheduler having run."""
        if now < self.nominations_open_at:
            return "draft"
        if now < self.nominations_close_at:
            return "nominations"
        if now < self.voting_open_at:
            return "between"
        if now < self.voting_close_at:
            return "voting"
        return "closed"

    def locked(self, now: datetime) -> bool:
        """The structure (timetable, eligibility, contests) cannot change once voting has opened."""
        return self.roll_frozen_at is not None or now >= self.voting_open_at

    @property
    def statuses(self) -> list[str]:
        return self.eligible_statuses.split()

    @property
    def categories(self) -> list[str]:
        return self.eligible_categories.split()

    @property
    def accreditations(self) -> list[str]:
        return self.eligible_accreditations.split()

    @property
    def reminder_day_list(self) -> list[int]:
        return sorted({int(d) for d in self.reminder_days.replace(" ", "").split(",") if d}, reverse=True)


class Contest(Base):
    """A post on the committee: its seats, how it is voted on, and where it comes in the counting order."""

    __tablename__ = "election_contests"
    __table_args__ = (UniqueConstraint("election_id", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    seats: Mapped[int] = mapped_column(Integer, default=1)
    method: Mapped[str] = mapped_column(String(20), default="plurality")
    #: "Re-open nominations" is on the ballot; an uncontested post then still goes to a yes/RON vote.
    ron: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Officer posts are counted first (a candidate elected to one withdraws from later contests).
    officer: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)

    election: Mapped[Election] = relationship(back_populates="contests")


class Nomination(Base):
    __tablename__ = "election_nominations"
    #: One live nomination per member per post: `live` is true while live and NULL after (NULLs are distinct).
    __table_args__ = (UniqueConstraint("contest_id", "member_id", "live"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), index=True)
    contest_id: Mapped[int] = mapped_column(
        ForeignKey("election_contests.id", ondelete="CASCADE"), index=True
    )
    #: The candidate.
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    nominator_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    proposer_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    seconder_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    statement: Mapped[str] = mapped_column(Text, default="")
    #: Re-encoded by Pillow (no metadata survives); JPEG.
    photo: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    live: Mapped[bool | None] = mapped_column(Boolean, default=True)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    proposer_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seconder_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str] = mapped_column(String(300), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    contest: Mapped[Contest] = relationship()


class NominationToken(Base):
    """A single-use link for a proposer, seconder or nominee to confirm (or decline); stored as its digest."""

    __tablename__ = "election_nomination_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(
        ForeignKey("election_nominations.id", ondelete="CASCADE"), index=True
    )
    #: "proposer", "seconder" or "consent".
    role: Mapped[str] = mapped_column(String(20))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RollEntry(Base):
    """A member on the frozen roll. `has_voted` says THAT they voted, never when: there is no time column."""

    __tablename__ = "roll_entries"
    __table_args__ = (UniqueConstraint("election_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    has_voted: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Added by the returning officer after the freeze (see RollCorrection for the reason).
    late: Mapped[bool] = mapped_column(Boolean, default=False)


class RollCorrection(Base):
    """A late change to the frozen roll, with its reason (also in the audit log)."""

    __tablename__ = "roll_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    #: "add" or "remove".
    action: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class BallotLink(Base):
    """A personal ballot link (its keyed digest): it opens the ballot of one member in one election. Several
    may exist (each reminder brings a fresh one); any of them can cast once, because the roll decides."""

    __tablename__ = "ballot_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Reminder(Base):
    """One reminder to one member: the unique constraint means a round is sent to a member once, even when
    two workers run the reminders at the same moment."""

    __tablename__ = "election_reminders"
    __table_args__ = (UniqueConstraint("election_id", "member_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    #: "3d" (three days before the close), "1d", or "manual-1", "manual-2" … for "remind now".
    round: Mapped[str] = mapped_column(String(20))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Trustee(Base):
    """One of the people who together hold an election's private key: each holds one Shamir share of it.
    The share waits here (encrypted with a key derived from the secret key) only until its trustee downloads
    it; what stays is its digest, so a share given at the close can be checked and a wrong one named."""

    __tablename__ = "election_trustees"
    __table_args__ = (
        UniqueConstraint("election_id", "account_id"),
        UniqueConstraint("election_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    #: The share's position x (1 … n).
    position: Mapped[int] = mapped_column(Integer)
    #: How the trustee is named in messages, e.g. "Scrutineer Sam Patel" (as when they were named).
    label: Mapped[str] = mapped_column(String(300))
    share_digest: Mapped[str | None] = mapped_column(String(64))
    #: The share, encrypted, until its trustee downloads it (then NULL).
    share_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    downloaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PendingBallot(Base):
    """A cast ballot waiting for the close: sealed in the voter's request to the election's public key
    (X25519 + HKDF + AES-GCM), so nothing in the database, nor the secret key, can open it; only the
    trustees' shares, together, at the close."""

    __tablename__ = "pending_ballots"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class Ballot(Base):
    """A ballot: what was voted, its tracker and the salt that makes the tracker, and nothing about who."""

    __tablename__ = "ballots"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), index=True)
    tracker: Mapped[str] = mapped_column(String(16), index=True)
    salt: Mapped[str] = mapped_column(String(32))
    #: Canonical JSON: {"<contest id>": [choice, ...]}, choices being nomination ids or "RON", in
    #: preference order for ranked contests.
    contents: Mapped[str] = mapped_column(Text)


#: What the count decided for a post.
OUTCOMES: dict[str, str] = {
    "counted": "Counted",
    "unopposed": "Elected unopposed",
    "vacant": "No valid candidates",
}


class ContestCount(Base):
    """The stored record of one post's count (JSON: the counting package's `CountResult.as_dict()` with the
    reasons and the plain-language explanation), so the published results are exactly what was counted."""

    __tablename__ = "election_counts"
    __table_args__ = (UniqueConstraint("election_id", "contest_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), index=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("election_contests.id", ondelete="CASCADE"))
    #: Place in the counting order (0 first).
    position: Mapped[int] = mapped_column(Integer)
    #: A key of OUTCOMES.
    outcome: Mapped[str] = mapped_column(String(20))
    record: Mapped[str] = mapped_column(Text)
