"""Election rules: setting an election up, its contests, eligibility, and nominations with their proposer,
seconder and consent. Plain functions over a Session that flush but never commit; failures raise
`ElectionError` with a stable code. Every returning-officer action is written to the audit log.

The roll is in `roll.py`, casting and the ballot pool in `voting.py`, reminders in `reminders.py`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.models import Account
from portal.db import is_postgres, rowcount
from portal.elections import photos
from portal.elections.errors import Code, ElectionError
from portal.elections.links import Links
from portal.elections.models import (
    BALLOT_ORDERS,
    LIVE_STATUSES,
    METHODS,
    STV_RULES,
    Contest,
    Election,
    Nomination,
    NominationToken,
)
from portal.errors import Kind
from portal.mail.service import enqueue
from portal.members.models import STATUSES, Member, MemberCategory
from portal.members.service import member_in_good_standing
from portal.members.standing import standing_sql
from portal.society.service import society_name
from portal.web.templating import local_time
from portal.web.tokens import new_token, token_digest

LONDON = ZoneInfo("Europe/London")
WORD_RE = re.compile(r"\S+")
MAX_SEATS = 20


def count_words(text: str) -> int:
    return len(WORD_RE.findall(text or ""))


def mail_context(session: Session, election: Election, **extra: object) -> dict[str, object]:
    """What every election e-mail may use; times are formatted here in UK time (e-mails have no filters)."""
    return {
        "society_name": society_name(session),
        "election": election,
        "close_text": local_time(election.voting_close_at),
        "close_short": local_time(election.voting_close_at, "%-d %B at %H:%M"),
        "nominations_close_text": local_time(election.nominations_close_at),
        "withdrawal_text": local_time(election.withdrawal_deadline_at),
        **extra,
    }


# --- eligibility ----------------------------------------------------------------------------------------------


def is_eligible(election: Election, member: Member, *, now: datetime) -> bool:
    """The election's rule (statuses, categories, accreditation levels) and good standing on today's date."""
    if member.status not in election.statuses:
        return False
    if election.categories and member.category not in election.categories:
        return False
    if election.accreditations and member.accreditation not in election.accreditations:
        return False
    return member_in_good_standing(member, now=now)


def eligible_members(session: Session, election: Election, *, now: datetime) -> list[Member]:
    """Everyone eligible at `now`, by membership number (the database narrows, the rule decides). Stricter
    than the roll's standing: no grace period, so a member whose renewal date has passed cannot vote (the
    same SQL standing as the staff list, with 0 grace days, as `member_in_good_standing` in Python)."""
    query = select(Member).where(
        Member.status.in_(election.statuses),
        Member.erased_at.is_(None),
        standing_sql(now, grace_days=0) == "active",
        # One member, one vote: a category that cannot vote (students, organisations) is never on a roll.
        Member.category.not_in(select(MemberCategory.code).where(MemberCategory.can_vote.is_(False))),
    )
    if election.categories:
        query = query.where(Member.category.in_(election.categories))
    if election.accreditations:
        query = query.where(Member.accreditation.in_(election.accreditations))
    members = session.scalars(query.order_by(Member.membership_number)).all()
    return [m for m in members if is_eligible(election, m, now=now)]


def find_member(session: Session, text: str) -> Member | None:
    """A member by membership number or e-mail address, as a nominator types them."""
    text = text.strip()
    if not text:
        return None
    return session.scalar(
        select(Member).where(or_(Member.membership_number == text, Member.email == text.lower()))
    )


# --- setting up -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ElectionSetup:
    title: str
    nominations_open_at: datetime
    nominations_close_at: datetime
    withdrawal_deadline_at: datetime
    voting_open_at: datetime
    voting_close_at: datetime
    description: str = ""
    statuses: tuple[str, ...] = ("active",)
    categories: tuple[str, ...] = ()
    accreditations: tuple[str, ...] = ()
    ballot_order: str = "alphabetical"
    statement_word_limit: int = 300
    reminder_days: tuple[int, ...] = (3, 1)
    stv_rule: str = "ers97"
    results_public: bool = False


def setup_problems(setup: ElectionSetup) -> dict[str, str]:
    """Every problem with a set-up, keyed by the form field it belongs to (the form shows them beside it)."""
    problems: dict[str, str] = {}
    if not setup.title.strip():
        problems["title"] = "Enter a title."
    if setup.nominations_close_at <= setup.nominations_open_at:
        problems["nominations_close_at"] = "Nominations must close after they open."
    if not setup.nominations_close_at <= setup.withdrawal_deadline_at <= setup.voting_open_at:
        problems["withdrawal_deadline_at"] = (
            "The withdrawal deadline must be after nominations close and no later than voting opens."
        )
    if setup.voting_open_at < setup.nominations_close_at:
        problems["voting_open_at"] = "Voting must open after nominations close."
    if setup.voting_close_at <= setup.voting_open_at:
        problems["voting_close_at"] = "Voting must close after it opens."
    if not setup.statuses or set(setup.statuses) - set(STATUSES):
        problems["statuses"] = "Choose at least one membership status."
    if setup.ballot_order not in BALLOT_ORDERS:
        problems["ballot_order"] = "Choose how candidates are ordered on the ballot."
    if not 50 <= setup.statement_word_limit <= 2000:
        problems["statement_word_limit"] = "The word limit must be between 50 and 2,000."
    if any(not 1 <= d <= 60 for d in setup.reminder_days):
        problems["reminder_days"] = "Reminder days must be whole numbers between 1 and 60."
    if setup.stv_rule not in STV_RULES:
        problems["stv_rule"] = "Choose how ranked posts are counted."
    return problems


def _apply(election: Election, setup: ElectionSetup) -> None:
    election.title = setup.title.strip()
    election.description = setup.description.strip()
    election.nominations_open_at = setup.nominations_open_at
    election.nominations_close_at = setup.nominations_close_at
    election.withdrawal_deadline_at = setup.withdrawal_deadline_at
    election.voting_open_at = setup.voting_open_at
    election.voting_close_at = setup.voting_close_at
    election.eligible_statuses = " ".join(s for s in STATUSES if s in setup.statuses)
    election.eligible_categories = " ".join(sorted(set(setup.categories)))
    election.eligible_accreditations = " ".join(sorted(set(setup.accreditations)))
    election.ballot_order = setup.ballot_order
    election.statement_word_limit = setup.statement_word_limit
    election.reminder_days = ",".join(str(d) for d in sorted(set(setup.reminder_days), reverse=True))
    election.stv_rule = setup.stv_rule
    election.results_public = setup.results_public


def _check_setup(setup: ElectionSetup) -> None:
    problems = setup_problems(setup)
    if problems:
        raise ElectionError(
            Code.BAD_TIMETABLE, next(iter(problems.values())), fields=problems, kind=Kind.INVALID
        )


def _setup_details(election: Election) -> dict[str, object]:
    return {
        "nominations": [election.nominations_open_at, election.nominations_close_at],
        "withdrawal_deadline": election.withdrawal_deadline_at,
        "voting": [election.voting_open_at, election.voting_close_at],
        "statuses": election.eligible_statuses,
        "categories": election.eligible_categories,
        "accreditations": election.eligible_accreditations,
        "ballot_order": election.ballot_order,
        "stv_rule": election.stv_rule,
        "results_public": election.results_public,
    }


def create_election(session: Session, *, actor: Account, setup: ElectionSetup, now: datetime) -> Election:
    _check_setup(setup)
    election = Election(created_at=now, pool_closed=False, manual_reminders=0, tracker_public=False)
    _apply(election, setup)
    session.add(election)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="election.create",
        subject=f"election {election.id}: {election.title}",
        details=_setup_details(election),
        now=now,
    )
    return election


def get_election(session: Session, election_id: int, *, lock: bool = False) -> Election:
    query = select(Election).where(Election.id == election_id)
    if lock and is_postgres(session):
        query = query.with_for_update()
    election = session.scalar(query)
    if election is None:
        raise ElectionError(Code.NOT_FOUND, "There is no such election.", kind=Kind.NOT_FOUND)
    return election


def _unlocked(session: Session, election_id: int, now: datetime) -> Election:
    """The election, locked against a concurrent freeze; ElectionError('locked') once voting has opened."""
    election = get_election(session, election_id, lock=True)
    if election.locked(now):
        raise ElectionError(
            Code.LOCKED, "Voting has opened: the election can no longer be changed.", kind=Kind.CONFLICT
        )
    return election


def update_election(
    session: Session, *, actor: Account, election_id: int, setup: ElectionSetup, now: datetime
) -> Election:
    election = _unlocked(session, election_id, now)
    _check_setup(setup)
    _apply(election, setup)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="election.update",
        subject=f"election {election.id}: {election.title}",
        details=_setup_details(election),
        now=now,
    )
    return election


def list_elections(session: Session) -> list[Election]:
    return list(session.scalars(select(Election).order_by(Election.voting_close_at.desc(), Election.id)))


def current_election(session: Session, *, now: datetime) -> Election | None:
    """The election under way at `now` (nominations opened, voting not yet closed), for the home page's notice:
    the one whose voting closes first when two overlap. One statement; its contests are not loaded."""
    return session.scalar(
        select(Election)
        .where(Election.nominations_open_at <= now, Election.voting_close_at > now)
        .order_by(Election.voting_close_at, Election.id)
        .limit(1)
    )


# --- contests -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContestSetup:
    title: str
    seats: int = 1
    method: str = "plurality"
    ron: bool = False
    officer: bool = False
    position: int = 0
    description: str = ""


def contest_problems(setup: ContestSetup) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not setup.title.strip():
        problems["title"] = "Enter the name of the post."
    if setup.method not in METHODS:
        problems["method"] = "Choose how this post is voted on."
    if not 1 <= setup.seats <= MAX_SEATS:
        problems["seats"] = f"The number of seats must be between 1 and {MAX_SEATS}."
    elif setup.method == "plurality" and setup.seats != 1:
        problems["seats"] = "One-vote contests have one seat. Use approval or ranked voting for several."
    return problems


def _contest_apply(contest: Contest, setup: ContestSetup) -> None:
    contest.title = setup.title.strip()
    contest.description = setup.description.strip()
    contest.seats = setup.seats
    contest.method = setup.method
    contest.ron = setup.ron
    contest.officer = setup.officer
    contest.position = setup.position


def _save_contest(session: Session, contest: Contest, setup: ContestSetup) -> None:
    """Apply and flush inside a savepoint (begin_nested() flushes pending changes before it starts), so a
    duplicate name becomes a domain error and leaves the transaction usable."""
    session.flush()
    try:
        with session.begin_nested():
            _contest_apply(contest, setup)
            session.add(contest)
            session.flush()
    except IntegrityError:
        raise ElectionError(
            Code.BAD_VALUE, "This election already has a post with that name.", kind=Kind.INVALID
        ) from None


def add_contest(
    session: Session, *, actor: Account, election_id: int, setup: ContestSetup, now: datetime
) -> Contest:
    election = _unlocked(session, election_id, now)
    problems = contest_problems(setup)
    if problems:
        raise ElectionError(Code.BAD_VALUE, next(iter(problems.values())), fields=problems, kind=Kind.INVALID)
    contest = Contest(election_id=election.id)
    _save_contest(session, contest, setup)
    session.expire(election, ["contests"])
    _record_contest(session, actor, "election.contest_add", contest, now)
    return contest


def get_contest(session: Session, contest_id: int, *, election_id: int) -> Contest:
    contest = session.get(Contest, contest_id)
    if contest is None or contest.election_id != election_id:
        raise ElectionError(Code.NOT_FOUND, "There is no such post.", kind=Kind.NOT_FOUND)
    return contest


def update_contest(
    session: Session, *, actor: Account, election_id: int, contest_id: int, setup: ContestSetup, now: datetime
) -> Contest:
    election = _unlocked(session, election_id, now)
    contest = get_contest(session, contest_id, election_id=election.id)
    problems = contest_problems(setup)
    if problems:
        raise ElectionError(Code.BAD_VALUE, next(iter(problems.values())), fields=problems, kind=Kind.INVALID)
    _save_contest(session, contest, setup)
    _record_contest(session, actor, "election.contest_update", contest, now)
    return contest


def _record_contest(session: Session, actor: Account, action: str, contest: Contest, now: datetime) -> None:
    """The audit line of a post's set-up: what it is elected by, as it now stands."""
    audit.record(
        session,
        actor=actor,
        action=action,
        subject=f"election {contest.election_id}: {contest.title}",
        details={
            "seats": contest.seats,
            "method": contest.method,
            "ron": contest.ron,
            "officer": contest.officer,
        },
        now=now,
    )


def remove_contest(
    session: Session, *, actor: Account, election_id: int, contest_id: int, now: datetime
) -> None:
    election = _unlocked(session, election_id, now)
    contest = get_contest(session, contest_id, election_id=election.id)
    if session.scalar(select(Nomination.id).where(Nomination.contest_id == contest.id).limit(1)) is not None:
        raise ElectionError(
            Code.BAD_VALUE,
            "This post has nominations, so it cannot be removed. Reject them first.",
            kind=Kind.CONFLICT,
        )
    title = contest.title
    session.delete(contest)
    session.flush()
    session.expire(election, ["contests"])
    audit.record(
        session,
        actor=actor,
        action="election.contest_remove",
        subject=f"election {election.id}: {title}",
        now=now,
    )


# --- nominations ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NominationForm:
    contest_id: int
    nominee_id: int
    proposer_id: int
    seconder_id: int
    statement: str
    #: Already re-encoded, before the transaction began (photos.clean_photo): nothing is decoded here.
    photo: photos.CleanPhoto | None = None


@dataclass
class NominationView:
    """A nomination with the people named in it, for pages."""

    nomination: Nomination
    nominee: Member
    proposer: Member
    seconder: Member
    contest: Contest
    pending: list[str] = field(default_factory=list)


def _nominations_open(election: Election, now: datetime) -> None:
    if election.state(now) != "nominations":
        raise ElectionError(
            Code.NOMINATIONS_CLOSED, "Nominations are not open for this election.", kind=Kind.CONFLICT
        )


def _issue_nomination_token(
    session: Session, *, nomination: Nomination, role: str, member_id: int, now: datetime, key: bytes
) -> str:
    token = new_token()
    session.add(
        NominationToken(
            nomination_id=nomination.id,
            role=role,
            member_id=member_id,
            token_digest=token_digest(key, token, purpose="nomination"),
            created_at=now,
        )
    )
    return token


def nominate(
    session: Session,
    *,
    election_id: int,
    nominator_id: int,
    form: NominationForm,
    now: datetime,
    key: bytes,
    links: Links,
) -> Nomination:
    """Record a nomination and ask the proposer, the seconder and (when someone else nominated them) the
    nominee to confirm by e-mailed link. A role the nominator holds is confirmed by the nomination itself."""
    election = get_election(session, election_id)
    _nominations_open(election, now)
    contest = get_contest(session, form.contest_id, election_id=election.id)
    people = {
        "nominator": session.get(Member, nominator_id),
        "nominee": session.get(Member, form.nominee_id),
        "proposer": session.get(Member, form.proposer_id),
        "seconder": session.get(Member, form.seconder_id),
    }
    for role, member in people.items():
        if member is None or not is_eligible(election, member, now=now):
            raise ElectionError(
                Code.NOT_ELIGIBLE, f"The {role} is not eligible to take part in this election.", role=role
            )
    nominee, proposer, seconder = people["nominee"], people["proposer"], people["seconder"]
    assert nominee is not None and proposer is not None and seconder is not None
    if len({nominee.id, proposer.id, seconder.id}) != 3:
        raise ElectionError(
            Code.SAME_PERSON, "The candidate, the proposer and the seconder must be three different members."
        )
    words = count_words(form.statement)
    if words > election.statement_word_limit:
        raise ElectionError(
            Code.TOO_LONG, f"The statement has {words} words; the limit is {election.statement_word_limit}."
        )
    photo = form.photo.jpeg if form.photo is not None else None
    nomination = Nomination(
        election_id=election.id,
        contest_id=contest.id,
        member_id=nominee.id,
        nominator_id=nominator_id,
        proposer_id=proposer.id,
        seconder_id=seconder.id,
        statement=form.statement.strip(),
        photo=photo,
        status="pending",
        live=True,
        created_at=now,
        consent_at=now if nominee.id == nominator_id else None,
        proposer_confirmed_at=now if proposer.id == nominator_id else None,
        seconder_confirmed_at=now if seconder.id == nominator_id else None,
    )
    try:
        # Added inside the savepoint: begin_nested() flushes what is pending before it starts.
        with session.begin_nested():
            session.add(nomination)
            session.flush()
    except IntegrityError:
        raise ElectionError(
            Code.ALREADY_NOMINATED,
            f"{nominee.full_name} already has a nomination for {contest.title}.",
            kind=Kind.CONFLICT,
        ) from None
    asks = [
        ("proposer", proposer, nomination.proposer_confirmed_at),
        ("seconder", seconder, nomination.seconder_confirmed_at),
        ("consent", nominee, nomination.consent_at),
    ]
    for role, member, done in asks:
        if done is not None or not member.email:
            continue
        token = _issue_nomination_token(
            session, nomination=nomination, role=role, member_id=member.id, now=now, key=key
        )
        enqueue(
            session,
            to=member.email,
            template="elections/nomination_confirm",
            context=mail_context(
                session,
                election,
                role=role,
                member=member,
                nominee=nominee,
                contest=contest,
            ),
            now=now,
            secrets={"link": links.nomination(token)},
            key=key,
        )
    _advance(nomination)
    session.flush()
    return nomination


def _advance(nomination: Nomination) -> None:
    if (
        nomination.status == "pending"
        and nomination.consent_at
        and nomination.proposer_confirmed_at
        and nomination.seconder_confirmed_at
    ):
        nomination.status = "submitted"


def nomination_token(session: Session, *, token: str, key: bytes) -> tuple[NominationToken, Nomination]:
    row = session.scalar(
        select(NominationToken).where(
            NominationToken.token_digest == token_digest(key, token, purpose="nomination")
        )
    )
    if row is None:
        raise ElectionError(
            Code.BAD_LINK, "This link is not valid. Check that you copied all of it.", kind=Kind.NOT_FOUND
        )
    nomination = session.get(Nomination, row.nomination_id)
    assert nomination is not None
    return row, nomination


def answer_nomination(
    session: Session, *, token: str, confirm: bool, now: datetime, key: bytes
) -> Nomination:
    """A proposer, seconder or nominee confirms (or declines) through their single-use link."""
    row, nomination = nomination_token(session, token=token, key=key)
    election = get_election(session, nomination.election_id)
    _nominations_open(election, now)
    used = session.execute(
        update(NominationToken)
        .where(NominationToken.id == row.id, NominationToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(used) != 1 or nomination.status != "pending":
        raise ElectionError(Code.BAD_LINK, "This link has already been used.", kind=Kind.GONE)
    if not confirm:
        nomination.status = "declined"
        nomination.live = None
    elif row.role == "proposer":
        nomination.proposer_confirmed_at = now
    elif row.role == "seconder":
        nomination.seconder_confirmed_at = now
    else:
        nomination.consent_at = now
    _advance(nomination)
    session.flush()
    return nomination


def decide_nomination(
    session: Session,
    *,
    actor: Account,
    election_id: int,
    nomination_id: int,
    accept: bool,
    reason: str,
    now: datetime,
) -> Nomination:
    """The returning officer accepts a complete nomination, or rejects one with a reason."""
    election = _unlocked(session, election_id, now)
    nomination = _nomination(session, election.id, nomination_id)
    reason = reason.strip()
    if accept:
        if nomination.status != "submitted":
            raise ElectionError(
                Code.INCOMPLETE,
                "Only a nomination with every confirmation can be accepted.",
                kind=Kind.CONFLICT,
            )
        nomination.status = "accepted"
    else:
        if not reason:
            raise ElectionError(
                Code.REASON_REQUIRED, "Give a reason for rejecting the nomination.", kind=Kind.INVALID
            )
        if nomination.status not in LIVE_STATUSES:
            raise ElectionError(Code.INCOMPLETE, "This nomination is no longer live.", kind=Kind.CONFLICT)
        nomination.status = "rejected"
        nomination.live = None
    nomination.decided_at = now
    nomination.decided_by = audit.actor_label(actor)
    nomination.reason = reason
    session.flush()
    nominee = session.get(Member, nomination.member_id)
    contest = session.get(Contest, nomination.contest_id)
    assert nominee is not None and contest is not None
    audit.record(
        session,
        actor=actor,
        action="election.nomination_accept" if accept else "election.nomination_reject",
        subject=f"election {election.id}: {contest.title}: {nominee.membership_number}",
        details={"reason": reason} if reason else {},
        now=now,
    )
    if nominee.email:
        enqueue(
            session,
            to=nominee.email,
            template="elections/nomination_decided",
            context=mail_context(session, election, member=nominee, contest=contest, nomination=nomination),
            now=now,
        )
    return nomination


def _nomination(session: Session, election_id: int, nomination_id: int) -> Nomination:
    nomination = session.get(Nomination, nomination_id)
    if nomination is None or nomination.election_id != election_id:
        raise ElectionError(Code.NOT_FOUND, "There is no such nomination.", kind=Kind.NOT_FOUND)
    return nomination


def withdraw_nomination(
    session: Session, *, election_id: int, nomination_id: int, member_id: int, now: datetime
) -> Nomination:
    """A candidate withdraws, until the withdrawal deadline."""
    election = get_election(session, election_id, lock=True)
    nomination = _nomination(session, election.id, nomination_id)
    if nomination.member_id != member_id:
        raise ElectionError(
            Code.NOT_YOURS, "Only the candidate can withdraw a nomination.", kind=Kind.FORBIDDEN
        )
    if now >= election.withdrawal_deadline_at or election.locked(now):
        raise ElectionError(Code.TOO_LATE, "The deadline for withdrawing has passed.", kind=Kind.CONFLICT)
    if nomination.status not in LIVE_STATUSES:
        raise ElectionError(Code.INCOMPLETE, "This nomination is no longer live.", kind=Kind.CONFLICT)
    nomination.status = "withdrawn"
    nomination.live = None
    nomination.withdrawn_at = now
    session.flush()
    return nomination


def nomination_views(
    session: Session,
    election: Election,
    *,
    statuses: Iterable[str] | None = None,
    member_id: int | None = None,
) -> list[NominationView]:
    """Nominations with their people, by post (counting order) and then candidate's surname."""
    query = select(Nomination).where(Nomination.election_id == election.id)
    if statuses is not None:
        query = query.where(Nomination.status.in_(list(statuses)))
    if member_id is not None:
        query = query.where(
            or_(
                Nomination.member_id == member_id,
                Nomination.nominator_id == member_id,
                Nomination.proposer_id == member_id,
                Nomination.seconder_id == member_id,
            )
        )
    nominations = session.scalars(query).all()
    ids = (
        {n.member_id for n in nominations}
        | {n.proposer_id for n in nominations}
        | {n.seconder_id for n in nominations}
    )
    members = {m.id: m for m in session.scalars(select(Member).where(Member.id.in_(ids)))} if ids else {}
    order = {c.id: i for i, c in enumerate(election.contests)}
    views = []
    for n in nominations:
        view = NominationView(
            n, members[n.member_id], members[n.proposer_id], members[n.seconder_id], n.contest
        )
        if n.status == "pending":
            view.pending = [
                label
                for label, done in (
                    ("the proposer", n.proposer_confirmed_at),
                    ("the seconder", n.seconder_confirmed_at),
                    ("the candidate's consent", n.consent_at),
                )
                if done is None
            ]
        views.append(view)
    views.sort(
        key=lambda v: (order.get(v.contest.id, 0), v.nominee.last_name, v.nominee.first_name, v.nomination.id)
    )
    return views


def photo_of(session: Session, *, election_id: int, nomination_id: int, staff: bool) -> bytes:
    """A candidate's photo: public once the nomination is valid; the returning officer sees it before."""
    nomination = session.get(Nomination, nomination_id)
    if (
        nomination is None
        or nomination.election_id != election_id
        or nomination.photo is None
        or not (staff or nomination.status == "accepted")
    ):
        raise ElectionError(Code.NOT_FOUND, "There is no such photo.", kind=Kind.NOT_FOUND)
    return nomination.photo
