"""An election's trustees and its key: nobody, not even an administrator holding the database and the
portal's secret key, can open a ballot before enough trustees bring their shares to the close.

1. **Naming.** The returning officer names the trustees (accounts with the role returning officer or
   scrutineer) and how many of them must come to the close (k of n, k >= 2).
2. **The key.** "Make the election key": an X25519 key pair is made, its private key split by Shamir's
   scheme into one share per trustee and forgotten. The election keeps the public key and each share's
   digest; each share waits, encrypted under a key derived from the secret key, until its trustee downloads it
   (once: it is deleted at download).
3. **Checking.** Each trustee gives their share back ("Check my share"); the digest must match. Voting
   opens only when every trustee has checked theirs, so at that moment no share is anywhere in the database
   and an election cannot become uncountable by surprise.
4. **The close.** k trustees give their shares (`rebuild_key`): each is checked against its digest (a wrong
   one is named), the key is rebuilt in memory only, and `voting.open_ballot_box` opens the pool with it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.models import ROLES, Account
from portal.db import rowcount
from portal.elections import shamir
from portal.elections.errors import Code, ElectionError
from portal.elections.models import Election, Trustee
from portal.elections.secrecy import decrypt_at_rest, encrypt_at_rest, new_key_pair, public_of
from portal.elections.service import get_election
from portal.errors import Kind

#: The accounts that may be trustees.
TRUSTEE_ROLES = ("returning_officer", "scrutineer")
DEFAULT_THRESHOLD = 2
SHARE_LINE = re.compile(r"portal-share:(\d+):(\d+):([0-9a-fA-F]{64})")


@dataclass(frozen=True)
class ParsedShare:
    election_id: int
    position: int
    y: bytes


@dataclass(frozen=True)
class GivenShare:
    """A share given at the close: its text, and (from the close page) whose share it was given as."""

    text: str
    trustee_id: int | None = None


def _purpose(election_id: int, position: int) -> str:
    return f"trustee-share:election:{election_id}:position:{position}"


def share_digest(election_id: int, position: int, y: bytes) -> str:
    return hashlib.sha256(f"portal-trustee-share:{election_id}:{position}:".encode() + y).hexdigest()


def share_line(election_id: int, position: int, y: bytes) -> str:
    return f"portal-share:{election_id}:{position}:{y.hex()}"


def parse_share(text: str) -> ParsedShare | None:
    """The share in a pasted or uploaded text (the whole file, or only its `portal-share:` line)."""
    found = SHARE_LINE.search("".join(text.split()))
    if found is None:
        return None
    return ParsedShare(
        election_id=int(found.group(1)), position=int(found.group(2)), y=bytes.fromhex(found.group(3))
    )


def candidates(session: Session) -> list[Account]:
    """The active accounts that may be named trustees, returning officers first, then by name."""
    accounts = session.scalars(select(Account).where(Account.is_active.is_(True)).order_by(Account.name))
    eligible = [a for a in accounts if a.role_set & set(TRUSTEE_ROLES)]
    return sorted(eligible, key=lambda a: ("returning_officer" not in a.role_set, a.name.lower()))


def label_of(account: Account) -> str:
    role = "returning_officer" if "returning_officer" in account.role_set else "scrutineer"
    return f"{ROLES[role]} {account.name}"


def trustees(session: Session, election_id: int) -> list[Trustee]:
    return list(
        session.scalars(select(Trustee).where(Trustee.election_id == election_id).order_by(Trustee.position))
    )


def trustee_for(session: Session, *, election_id: int, account_id: int) -> Trustee | None:
    return session.scalar(
        select(Trustee).where(Trustee.election_id == election_id, Trustee.account_id == account_id)
    )


def name_trustees(
    session: Session,
    *,
    actor: Account,
    election_id: int,
    account_ids: Sequence[int],
    threshold: int,
    now: datetime,
) -> list[Trustee]:
    """Name (or rename) the trustees and the threshold, until the key is made.

    Raises ElectionError: key_made, bad_trustees."""
    election = get_election(session, election_id, lock=True)
    if election.public_key is not None:
        raise ElectionError(
            Code.KEY_MADE, "The election key is made: the trustees can no longer change.", kind=Kind.CONFLICT
        )
    if election.roll_frozen_at is not None:
        raise ElectionError(
            Code.LOCKED, "Voting has opened: the trustees can no longer change.", kind=Kind.CONFLICT
        )
    allowed = {a.id: a for a in candidates(session)}
    chosen = list(dict.fromkeys(account_ids))
    if any(account_id not in allowed for account_id in chosen):
        raise ElectionError(
            Code.BAD_TRUSTEES, "Trustees must be active returning officers or scrutineers.", kind=Kind.INVALID
        )
    if threshold < 2:
        raise ElectionError(
            Code.BAD_TRUSTEES, "At least 2 trustees must be needed to open the ballot box.", kind=Kind.INVALID
        )
    if len(chosen) < threshold:
        raise ElectionError(
            Code.BAD_TRUSTEES,
            f"Name at least {threshold} trustees: {threshold} of them are needed to open the ballot box.",
            kind=Kind.INVALID,
        )
    session.execute(delete(Trustee).where(Trustee.election_id == election.id))
    named = [
        Trustee(
            election_id=election.id, account_id=account_id, position=i, label=label_of(allowed[account_id])
        )
        for i, account_id in enumerate(chosen, start=1)
    ]
    session.add_all(named)
    election.trustee_threshold = threshold
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="election.trustees_named",
        subject=f"election {election.id}: {election.title}",
        details={"trustees": [t.label for t in named], "threshold": threshold},
        now=now,
    )
    return named


def make_key(session: Session, *, actor: Account, election_id: int, key: bytes, now: datetime) -> Election:
    """Make the election's key pair, give each trustee a share of the private key, keep only the public key.

    Raises ElectionError: no_trustees, key_made, locked."""
    election = get_election(session, election_id, lock=True)
    if election.public_key is not None:
        raise ElectionError(Code.KEY_MADE, "The election key is already made.", kind=Kind.CONFLICT)
    if election.roll_frozen_at is not None:
        raise ElectionError(
            Code.LOCKED, "Voting has opened: it is too late to make a key.", kind=Kind.CONFLICT
        )
    named = trustees(session, election.id)
    if not named or election.trustee_threshold is None:
        raise ElectionError(
            Code.NO_TRUSTEES, "Name the trustees before making the election key.", kind=Kind.CONFLICT
        )
    private, public = new_key_pair()
    shares = shamir.split(private, threshold=election.trustee_threshold, shares=len(named))
    del private
    for trustee, share in zip(named, shares, strict=True):
        assert trustee.position == share.x
        trustee.share_digest = share_digest(election.id, share.x, share.y)
        trustee.share_enc = encrypt_at_rest(key, _purpose(election.id, share.x), share.y)
    del shares
    election.public_key = public.hex()
    election.key_made_at = now
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="election.key_made",
        subject=f"election {election.id}: {election.title}",
        details={"public_key": election.public_key, "threshold": election.trustee_threshold},
        now=now,
    )
    return election


def share_file(election: Election, trustee: Trustee, *, count: int, y: bytes) -> tuple[str, str]:
    """(file name, text) of a trustee's share."""
    text = (
        "IPT UK portal: election trustee share\n"
        f"Election {election.id}: {election.title}\n"
        f"Trustee {trustee.position} of {count}: {trustee.label}\n"
        f"Any {election.trustee_threshold} of the {count} trustees' shares open the ballot box at the close.\n"
        "Keep this file private and safe: it cannot be downloaded again, and it is not kept by the portal.\n"
        "\n"
        f"{share_line(election.id, trustee.position, y)}\n"
    )
    return f"election-{election.id}-trustee-{trustee.position}.share", text


def download_share(
    session: Session, *, account_id: int, election_id: int, key: bytes, now: datetime
) -> tuple[str, str]:
    """Give a trustee their share, once: it is deleted from the database in the same transaction.

    Raises ElectionError: not_trustee, no_key, downloaded."""
    election = get_election(session, election_id)
    trustee = trustee_for(session, election_id=election_id, account_id=account_id)
    if trustee is None:
        raise ElectionError(Code.NOT_TRUSTEE, "You are not a trustee of this election.", kind=Kind.FORBIDDEN)
    if election.public_key is None:
        raise ElectionError(Code.NO_KEY, "The election key has not been made yet.", kind=Kind.CONFLICT)
    stored = trustee.share_enc
    taken = session.execute(
        update(Trustee)
        .where(Trustee.id == trustee.id, Trustee.share_enc.is_not(None))
        .values(share_enc=None, downloaded_at=now)
        .execution_options(synchronize_session=False)
    )
    if stored is None or rowcount(taken) != 1:
        raise ElectionError(
            Code.DOWNLOADED,
            "Your share has already been downloaded, and the portal no longer has it.",
            kind=Kind.CONFLICT,
        )
    session.refresh(trustee)
    y = decrypt_at_rest(key, _purpose(election.id, trustee.position), stored)
    audit.record(
        session,
        actor=session.get(Account, account_id),
        action="election.share_downloaded",
        subject=f"election {election.id}: {election.title}",
        details={"trustee": trustee.label},
        now=now,
    )
    return share_file(election, trustee, count=len(trustees(session, election.id)), y=y)


def _check_given(election: Election, trustee: Trustee, parsed: ParsedShare | None) -> None:
    wrong = ElectionError(
        Code.WRONG_SHARE,
        f"The share given as {trustee.label}'s does not match the one made for them.",
        trustee_id=trustee.id,
        kind=Kind.INVALID,
    )
    if parsed is None:
        raise ElectionError(
            Code.BAD_SHARE,
            f"The share given as {trustee.label}'s is not a share: it should hold a line that starts "
            "with portal-share:.",
            trustee_id=trustee.id,
            kind=Kind.INVALID,
        )
    if parsed.election_id != election.id:
        raise ElectionError(
            Code.OTHER_ELECTION,
            f"The share given as {trustee.label}'s is a share of another election "
            f"(election {parsed.election_id}).",
            trustee_id=trustee.id,
            kind=Kind.INVALID,
        )
    if parsed.position != trustee.position:
        raise wrong
    if share_digest(election.id, parsed.position, parsed.y) != trustee.share_digest:
        raise wrong


def check_share(session: Session, *, account_id: int, election_id: int, text: str, now: datetime) -> Trustee:
    """A trustee proves they kept their share: it must match the digest made for them. When the last trustee
    has checked theirs, the election is ready to open.

    Raises ElectionError: not_trustee, not_downloaded, bad_share, other_election, wrong_share."""
    election = get_election(session, election_id, lock=True)
    trustee = trustee_for(session, election_id=election_id, account_id=account_id)
    if trustee is None:
        raise ElectionError(Code.NOT_TRUSTEE, "You are not a trustee of this election.", kind=Kind.FORBIDDEN)
    if trustee.downloaded_at is None:
        raise ElectionError(
            Code.NOT_DOWNLOADED, "Download your share first, then check it here.", kind=Kind.CONFLICT
        )
    _check_given(election, trustee, parse_share(text))
    if trustee.checked_at is None:
        trustee.checked_at = now
        session.flush()
        audit.record(
            session,
            actor=session.get(Account, account_id),
            action="election.share_checked",
            subject=f"election {election.id}: {election.title}",
            details={"trustee": trustee.label},
            now=now,
        )
    if election.trustees_ready_at is None and all(t.checked_at for t in trustees(session, election.id)):
        election.trustees_ready_at = now
        session.flush()
    return trustee


def not_ready_reason(session: Session, election: Election) -> str | None:
    """Why voting cannot open yet (None when it can): the key, and every trustee's checked share."""
    if election.trustees_ready_at is not None:
        return None
    named = trustees(session, election.id)
    if not named:
        return "Name the election's trustees and make the election key before voting can open."
    if election.public_key is None:
        return "Make the election key before voting can open."
    waiting = [t.label for t in named if t.checked_at is None]
    return (
        "Voting cannot open until every trustee has downloaded and checked their share. Still to check: "
        + ", ".join(waiting)
        + "."
    )


def rebuild_key(session: Session, *, election: Election, given: Sequence[GivenShare]) -> bytearray:
    """The election's private key from k or more trustees' shares, each checked against its digest first.
    The caller deletes the result as soon as it has opened the pool.

    Raises ElectionError: too_few, bad_share, other_election, wrong_share, same_share, bad_key."""
    named = {t.id: t for t in trustees(session, election.id)}
    by_position = {t.position: t for t in named.values()}
    threshold = election.trustee_threshold or 0
    shares: dict[int, shamir.Share] = {}
    for item in given:
        if not item.text.strip():
            continue
        parsed = parse_share(item.text)
        if item.trustee_id is not None:
            trustee = named.get(item.trustee_id)
            if trustee is None:
                raise ElectionError(
                    Code.NOT_TRUSTEE, "That person is not a trustee of this election.", kind=Kind.INVALID
                )
        else:
            if parsed is None:
                raise ElectionError(
                    Code.BAD_SHARE,
                    "One of the shares is not a share: it has no portal-share: line.",
                    kind=Kind.INVALID,
                )
            trustee = by_position.get(parsed.position) if parsed.election_id == election.id else None
            if trustee is None:
                raise ElectionError(
                    Code.OTHER_ELECTION,
                    f"One of the shares is a share of another election (election {parsed.election_id}).",
                    kind=Kind.INVALID,
                )
        _check_given(election, trustee, parsed)
        assert parsed is not None
        if parsed.position in shares:
            raise ElectionError(
                Code.SAME_SHARE,
                f"{trustee.label}'s share was given twice.",
                trustee_id=trustee.id,
                kind=Kind.INVALID,
            )
        shares[parsed.position] = shamir.Share(x=parsed.position, y=parsed.y)
    if len(shares) < threshold:
        raise ElectionError(
            Code.TOO_FEW,
            f"{threshold} trustees' shares are needed to open the ballot box; {len(shares)} "
            f"{'was' if len(shares) == 1 else 'were'} given. Nothing was changed.",
            kind=Kind.INVALID,
        )
    private = bytearray(shamir.combine(list(shares.values())))
    if election.public_key is None or public_of(bytes(private)).hex() != election.public_key:
        raise ElectionError(Code.BAD_KEY, "The shares do not rebuild the election key.", kind=Kind.INVALID)
    return private
