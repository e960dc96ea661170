"""Account rules: first-run setup, staff management, logins and their throttle, sessions, single-use links,
and the TOTP second factor. Plain functions over a Session; the caller owns the transaction."""

from __future__ import annotations

import base64
import hmac
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.errors import Code
from portal.accounts.models import (
    ROLES,
    Account,
    AccountToken,
    LoginAttempt,
    LoginSession,
    RecoveryCode,
    SetupCode,
)
from portal.accounts.passwords import Passwords
from portal.db import rowcount
from portal.errors import Kind, PortalError
from portal.mail.service import enqueue
from portal.society.models import Society
from portal.society.service import is_set_up, society_name
from portal.web.tokens import new_token, token_digest

#: Failed logins are remembered this long (purge_expired drops older ones).
THROTTLE_WINDOW = timedelta(hours=24)
#: Free failures for one (account, address) pair, then waits of 1, 2, 4 ... minutes.
PAIR_LIMIT = 5
#: Free failures from one address across every account (credential stuffing), then the same waits.
ADDRESS_LIMIT = 20
#: Failures against one account from every address before each failing client is slowed to one try a minute.
#: It only slows, and never a client that has not failed: nobody can lock the owner out.
ACCOUNT_CEILING = 100
ACCOUNT_SLOW = timedelta(minutes=1)
MAX_WAIT = timedelta(hours=1)
#: Wrong second-factor codes on one pending login before it ends (the password must be given again).
MFA_PENDING_LIMIT = 5
#: Wrong second-factor codes on one account (every pending login, every worker) before a pause.
MFA_ACCOUNT_LIMIT = 10
MFA_LOCK = timedelta(minutes=15)
#: Roles no administrator may give themselves, or to an account they added: another administrator must.
GUARDED_ROLES = ("returning_officer", "scrutineer")
SETUP_CODE_VALID = timedelta(hours=24)
SET_PASSWORD_VALID = timedelta(days=7)
RESET_VALID = timedelta(hours=1)


class AccountError(PortalError):
    """`code` is one of: already_set_up, bad_setup_code, email_taken, invalid_login, throttled, disabled,
    bad_token, bad_role, self_grant, bad_code, code_used, mfa_locked, mfa_restart, last_admin."""


@dataclass(frozen=True)
class Principal:
    """Who is making a request: loaded once per request from the session cookie."""

    account_id: int
    name: str
    email: str
    roles: frozenset[str]
    session_id: int
    member_id: int | None = None
    #: A staff login that must set up two-step verification before it may do anything else.
    must_set_up_totp: bool = False

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles)) or (
            "admin" in self.roles and bool({"office", "door"} & set(roles))
        )

    @property
    def is_staff(self) -> bool:
        return bool(self.roles)


# --- first run and staff ----------------------------------------------------------------------------------


def _check_roles(roles: list[str] | set[str] | frozenset[str]) -> str:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise AccountError(Code.BAD_ROLE, f"Unknown role: {', '.join(sorted(unknown))}.")
    return " ".join(r for r in ROLES if r in roles)


def _add_account(
    session: Session, *, name: str, email: str, roles: str, password_hash: str | None, now: datetime
) -> Account:
    email = email.strip().lower()
    if session.scalar(select(Account.id).where(Account.email == email)) is not None:
        raise AccountError(Code.EMAIL_TAKEN, "An account with this e-mail address already exists.")
    account = Account(
        name=name.strip(),
        email=email,
        roles=roles,
        password_hash=password_hash,
        created_at=now,
        is_active=True,
    )
    session.add(account)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise AccountError(Code.EMAIL_TAKEN, "An account with this e-mail address already exists.") from None
    return account


def issue_setup_code(session: Session, *, now: datetime, key: bytes) -> str:
    """A fresh one-time code for first-run setup (earlier ones stop working); only its digest is stored."""
    session.execute(update(SetupCode).where(SetupCode.used_at.is_(None)).values(used_at=now))
    code = "-".join(secrets.token_hex(3) for _ in range(4))
    session.add(
        SetupCode(code_digest=_setup_digest(code, key), created_at=now, expires_at=now + SETUP_CODE_VALID)
    )
    session.flush()
    return code


def _setup_digest(code: str, key: bytes) -> str:
    return token_digest(key, code.strip().lower().replace(" ", ""), purpose="setup")


def redeem_setup_code(session: Session, *, code: str, now: datetime, key: bytes) -> None:
    """Use the setup code up (a conditional update: it opens setup once), or AccountError('bad_setup_code')."""
    used = session.execute(
        update(SetupCode)
        .where(
            SetupCode.code_digest == _setup_digest(code, key),
            SetupCode.used_at.is_(None),
            SetupCode.expires_at > now,
        )
        .values(used_at=now)
    )
    if rowcount(used) != 1:
        raise AccountError(
            Code.BAD_SETUP_CODE,
            "That setup code is not right or has expired. Use the code `portal serve` printed when it started "
            "(restart it for a new one).",
        )


def setup_first_admin(
    session: Session,
    *,
    society_name: str,
    name: str,
    email: str,
    password: str,
    passwords: Passwords,
    now: datetime,
    password_hash: str | None = None,
) -> Account:
    """Name the society and create the first administrator; possible once only. `password_hash` is the
    password already hashed before the transaction opened (so argon2 holds no writer); without it, it
    is hashed here."""
    if is_set_up(session):
        raise AccountError(Code.ALREADY_SET_UP, "The portal is already set up. Log in instead.")
    session.add(Society(id=1, name=society_name.strip(), contact_email=email.strip().lower()))
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise AccountError(Code.ALREADY_SET_UP, "The portal is already set up. Log in instead.") from None
    hashed = password_hash if password_hash is not None else passwords.hash(password)
    account = _add_account(session, name=name, email=email, roles="admin", password_hash=hashed, now=now)
    audit.record(session, actor=account, action="setup", subject=society_name, now=now)
    return account


def create_staff(
    session: Session,
    *,
    actor: Account | None,
    name: str,
    email: str,
    roles: list[str],
    now: datetime,
    key: bytes,
    link_for: Callable[[str], str] | None = None,
) -> tuple[Account, str]:
    """Add a staff account without a password; returns it and the single-use set-password token. With
    `link_for` (token -> absolute URL) the new member of staff is also e-mailed the link."""
    if not roles:
        raise AccountError(Code.BAD_ROLE, "Choose at least one role.")
    guarded = [ROLES[r] for r in GUARDED_ROLES if r in roles]
    if actor is not None and guarded:
        raise AccountError(
            Code.SELF_GRANT,
            f"Add the account without the {' or '.join(guarded)} role: another administrator must give it, "
            "so nobody can create such an account for themselves.",
        )
    account = _add_account(
        session, name=name, email=email, roles=_check_roles(roles), password_hash=None, now=now
    )
    account.created_by_id = actor.id if actor is not None else None
    token = issue_token(
        session, account=account, purpose="set_password", valid=SET_PASSWORD_VALID, now=now, key=key
    )
    if link_for is not None:
        _send_invite(session, account=account, actor=actor, link=link_for(token), now=now, key=key)
    audit.record(
        session,
        actor=actor,
        action="staff.create",
        subject=account.email,
        details={"roles": account.roles},
        now=now,
    )
    return account, token


def _send_invite(
    session: Session, *, account: Account, actor: Account | None, link: str, now: datetime, key: bytes
) -> None:
    """The set-password link, e-mailed to the account's own address only (sealed in the outbox)."""
    enqueue(
        session,
        to=account.email,
        template="accounts/staff_invite",
        context={
            "name": account.name,
            "roles": [ROLES[r] for r in ROLES if r in account.role_set],
            "society_name": society_name(session),
            "invited_by": actor.name if actor else "the administrator",
        },
        now=now,
        secrets={"link": link},
        key=key,
    )


def send_password_link(
    session: Session,
    *,
    actor: Account,
    account_id: int,
    now: datetime,
    key: bytes,
    link_for: Callable[[str], str],
) -> None:
    """An administrator has a new set-password link e-mailed to a member of staff. The link goes only to the
    account's own address: an administrator can never hold another person's password."""
    account = session.get(Account, account_id)
    if account is None:
        raise AccountError(Code.NOT_FOUND, "No such account.", kind=Kind.NOT_FOUND)
    token = issue_token(
        session, account=account, purpose="set_password", valid=SET_PASSWORD_VALID, now=now, key=key
    )
    _send_invite(session, account=account, actor=actor, link=link_for(token), now=now, key=key)
    audit.record(session, actor=actor, action="staff.password_link", subject=account.email, now=now)


def _active_admins(session: Session) -> int:
    return len(
        [
            a
            for a in session.scalars(select(Account).where(Account.is_active.is_(True)))
            if "admin" in a.role_set
        ]
    )


def update_staff(
    session: Session, *, actor: Account, account_id: int, roles: list[str], active: bool, now: datetime
) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise AccountError(Code.NOT_FOUND, "No such account.", kind=Kind.NOT_FOUND)
    before = (account.roles, account.is_active)
    new_roles = _check_roles(roles)
    granted = [r for r in GUARDED_ROLES if r in new_roles.split() and r not in account.role_set]
    if granted and (account.id == actor.id or account.created_by_id == actor.id):
        names = " or ".join(ROLES[r] for r in granted)
        raise AccountError(
            Code.SELF_GRANT,
            f"You cannot give the {names} role to yourself or to an account you added: another administrator "
            "must.",
        )
    account.roles = new_roles
    account.is_active = active
    session.flush()
    if _active_admins(session) == 0:
        raise AccountError(Code.LAST_ADMIN, "The portal must keep at least one active administrator.")
    if not active:
        session.execute(delete(LoginSession).where(LoginSession.account_id == account.id))
    if before != (account.roles, account.is_active):
        audit.record(
            session,
            actor=actor,
            action="staff.update",
            subject=account.email,
            details={"roles": account.roles, "active": account.is_active},
            now=now,
        )
    for role in granted:
        audit.record(
            session,
            actor=actor,
            action="staff.role_granted",
            subject=account.email,
            details={"role": role},
            now=now,
        )
        enqueue(
            session,
            to=account.email,
            template="accounts/role_granted",
            context={
                "name": account.name,
                "role": ROLES[role],
                "granted_by": actor.name,
                "society_name": society_name(session),
            },
            now=now,
        )
    return account


# --- single-use tokens --------------------------------------------------------------------------------------


def issue_token(
    session: Session,
    *,
    account: Account,
    purpose: str,
    valid: timedelta,
    now: datetime,
    key: bytes,
    payload: str = "",
) -> str:
    """A new single-use link token; earlier unused tokens of the same purpose stop working."""
    session.execute(
        update(AccountToken)
        .where(
            AccountToken.account_id == account.id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    token = new_token()
    session.add(
        AccountToken(
            account_id=account.id,
            purpose=purpose,
            token_digest=token_digest(key, token, purpose=purpose),
            created_at=now,
            expires_at=now + valid,
            payload=payload,
        )
    )
    session.flush()
    return token


def peek_token(
    session: Session, *, token: str, purposes: tuple[str, ...], now: datetime, key: bytes
) -> AccountToken:
    """The live token row, or AccountError('bad_token'). Does not use it up."""
    for purpose in purposes:
        row = session.scalar(
            select(AccountToken).where(AccountToken.token_digest == token_digest(key, token, purpose=purpose))
        )
        if row is not None and row.purpose == purpose:
            if row.used_at is not None or row.expires_at <= now:
                break
            return row
    raise AccountError(
        Code.BAD_TOKEN, "This link has expired or has already been used. Ask for a new one.", kind=Kind.GONE
    )


def redeem_token(
    session: Session, *, token: str, purposes: tuple[str, ...], now: datetime, key: bytes
) -> AccountToken:
    """Use a token up, with a conditional update so two clicks cannot both redeem it."""
    row = peek_token(session, token=token, purposes=purposes, now=now, key=key)
    used = session.execute(
        update(AccountToken)
        .where(AccountToken.id == row.id, AccountToken.used_at.is_(None))
        .values(used_at=now)
    )
    if rowcount(used) != 1:
        raise AccountError(Code.BAD_TOKEN, "This link has already been used.", kind=Kind.GONE)
    return row


def set_password_with_token(
    session: Session,
    *,
    token: str,
    password: str,
    passwords: Passwords,
    now: datetime,
    key: bytes,
    password_hash: str | None = None,
) -> Account:
    """Set the password a set-password, reset or activation link was sent for, and use the link up.
    `password_hash` is the password already hashed before the transaction opened."""
    row = redeem_token(
        session, token=token, purposes=("set_password", "reset_password", "activate"), now=now, key=key
    )
    account = session.get(Account, row.account_id)
    assert account is not None
    if not account.is_active:
        raise AccountError(Code.DISABLED, "This account has been disabled.")
    account.password_hash = password_hash if password_hash is not None else passwords.hash(password)
    # A new password ends every existing login.
    session.execute(delete(LoginSession).where(LoginSession.account_id == account.id))
    if account.is_staff:
        audit.record(session, actor=account, action=f"account.{row.purpose}", subject=account.email, now=now)
    return account


# --- logins -------------------------------------------------------------------------------------------------


def _growing_wait(failures: int, limit: int, last: datetime | None, now: datetime) -> timedelta:
    """After `limit` failures: 1 minute from the last one, then 2, 4 ... (capped at MAX_WAIT)."""
    if failures < limit or last is None:
        return timedelta(0)
    wait = min(timedelta(minutes=2 ** min(failures - limit, 10)), MAX_WAIT)
    return max(last + wait - now, timedelta(0))


def _throttle_query(*, email: str, ip: str, now: datetime) -> Any:
    """One statement counts all three: the rows of this address or this e-mail, by which they match."""
    since = now - THROTTLE_WINDOW
    same_pair = and_(LoginAttempt.email == email, LoginAttempt.ip == ip)
    same_address = LoginAttempt.ip == ip
    return select(
        func.count().filter(same_pair),
        func.max(LoginAttempt.at).filter(same_pair),
        func.count().filter(same_address),
        func.max(LoginAttempt.at).filter(same_address),
        func.count().filter(LoginAttempt.email == email),
    ).where(LoginAttempt.at > since, or_(LoginAttempt.email == email, same_address))


def _wait_for(counts: Any, now: datetime) -> timedelta:
    pair, pair_last, address, address_last, account = counts
    pair, address, account = int(pair), int(address), int(account)
    waits = [
        _growing_wait(pair, PAIR_LIMIT, pair_last, now),
        _growing_wait(address, ADDRESS_LIMIT, address_last, now),
    ]
    if account >= ACCOUNT_CEILING and pair and pair_last is not None:
        waits.append(max(pair_last + ACCOUNT_SLOW - now, timedelta(0)))
    return max(waits)


def _throttle_wait(session: Session, *, email: str, ip: str, now: datetime) -> timedelta:
    """How long this client must wait before trying `email` again. Counted per (account, address) pair and
    per address, with growing waits; per account only as a ceiling that slows clients which have failed
    against it. A client that has not failed is never held back, so no stranger can lock the owner out.
    The same query runs for an unknown e-mail as for a known one."""
    return _wait_for(session.execute(_throttle_query(email=email, ip=ip, now=now)).one(), now)


def _wait_message(wait: timedelta, now: datetime) -> tuple[str, int]:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    at = (now + wait).strftime("%H:%M UTC")
    return (
        f"Too many failed attempts from your address. Try again in {minutes} minute"
        f"{'s' if minutes != 1 else ''} (after {at}).",
        minutes,
    )


@dataclass(frozen=True)
class LoginLook:
    """What checking a login's password needs, read before the login's write transaction opens."""

    email: str
    #: The client must wait (the throttle): no password is checked, so no argon2 is spent on it.
    waiting: bool
    #: The account's stored hash; None for an unknown e-mail (or one without a password).
    stored: str | None


@dataclass(frozen=True)
class CheckedPassword:
    """A password checked against a stored hash, outside any transaction (argon2 holds no writer)."""

    email: str
    #: The hash it was checked against: the login's transaction uses the result only if it is still stored.
    stored: str | None
    ok: bool
    #: The password hashed again with the current parameters, when it was right and the stored hash is old.
    rehashed: str | None = None


def login_look(session: Session, *, email: str, ip: str, now: datetime) -> LoginLook:
    """Read, in a short read-only transaction, whether the client must wait and the hash to check against.
    The same queries run for an unknown e-mail as for a known one."""
    email = email.strip().lower()
    # The throttle's counts and the stored hash in one statement.
    stored_hash = select(Account.password_hash).where(Account.email == email).scalar_subquery()
    row = session.execute(_throttle_query(email=email, ip=ip, now=now).add_columns(stored_hash)).one()
    if _wait_for(row[:5], now) > timedelta(0):
        return LoginLook(email=email, waiting=True, stored=None)
    return LoginLook(email=email, waiting=False, stored=row[5])


def check_password(look: LoginLook, password: str, passwords: Passwords) -> CheckedPassword | None:
    """The argon2 part of a login, with no session open: None when the client must wait (nothing is
    verified). An unknown e-mail is verified against a dummy hash, so it costs the same time."""
    if look.waiting:
        return None
    ok = passwords.verify(look.stored, password)
    rehashed = (
        passwords.hash(password) if ok and look.stored and passwords.needs_rehash(look.stored) else None
    )
    return CheckedPassword(email=look.email, stored=look.stored, ok=ok, rehashed=rehashed)


def authenticate(
    session: Session,
    *,
    email: str,
    password: str,
    ip: str,
    now: datetime,
    passwords: Passwords,
    checked: CheckedPassword | None = None,
) -> Account:
    """Check a password, counting failures. Unknown e-mails cost the same time as known ones.

    The throttle is decided here, in the login's transaction, whatever `checked` says. `checked` is the
    password already verified before the transaction opened (`login_look`, `check_password`), so argon2 does
    not hold the database writer; it counts only if it was checked against the hash stored now. If that hash
    changed in between (a reset at the same moment), the login is refused without counting a failure: the
    password was not tried against the account's current one. Without `checked` (the CLI, tests) the
    password is verified here."""
    email = email.strip().lower()
    wait = _throttle_wait(session, email=email, ip=ip, now=now)
    if wait > timedelta(0):
        message, minutes = _wait_message(wait, now)
        raise AccountError(Code.THROTTLED, message, minutes=minutes, kind=Kind.THROTTLED)
    account = session.scalar(select(Account).where(Account.email == email))
    stored = account.password_hash if account else None
    if checked is None:
        checked = check_password(LoginLook(email=email, waiting=False, stored=stored), password, passwords)
        assert checked is not None
    elif checked.email != email or checked.stored != stored:
        raise AccountError(Code.INVALID_LOGIN, "That e-mail address and password do not match an account.")
    if not checked.ok or account is None:
        session.add(LoginAttempt(email=email, ip=ip, at=now))
        session.flush()
        raise AccountError(Code.INVALID_LOGIN, "That e-mail address and password do not match an account.")
    if not account.is_active:
        raise AccountError(Code.DISABLED, "This account has been disabled. Contact the society office.")
    if checked.rehashed is not None:
        account.password_hash = checked.rehashed
    # The owner got in from here: this address's failures against the account are forgiven.
    session.execute(delete(LoginAttempt).where(LoginAttempt.email == email, LoginAttempt.ip == ip))
    account.last_login_at = now
    return account


def start_session(
    session: Session,
    *,
    account: Account,
    now: datetime,
    max_age: timedelta,
    key: bytes,
    ip: str = "",
    user_agent: str = "",
    mfa_pending: bool = False,
) -> str:
    """A fresh session (a new token at every login, so a planted cookie is worthless). Returns the token."""
    token = new_token(32)
    session.add(
        LoginSession(
            token_digest=token_digest(key, token, purpose="session"),
            account_id=account.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + max_age,
            mfa_pending=mfa_pending,
            ip=ip[:64],
            user_agent=user_agent[:300],
        )
    )
    session.flush()
    return token


def load_session(
    session: Session, *, token: str, now: datetime, idle: timedelta, key: bytes
) -> tuple[LoginSession, Account] | None:
    row = session.execute(
        select(LoginSession, Account)
        .join(Account, Account.id == LoginSession.account_id)
        .where(LoginSession.token_digest == token_digest(key, token, purpose="session"))
    ).first()
    if row is None:
        return None
    login, account = row
    if login.expires_at <= now or login.last_seen_at + idle <= now or not account.is_active:
        return None
    return login, account


def touch_session_token(session: Session, *, token: str, now: datetime, idle: timedelta, key: bytes) -> None:
    """Record activity on the login behind `token` for its idle timeout: never on one that has already timed
    out or ended (that would bring it back), and not more than once a minute."""
    session.execute(
        update(LoginSession)
        .where(
            LoginSession.token_digest == token_digest(key, token, purpose="session"),
            LoginSession.last_seen_at > now - idle,
            LoginSession.last_seen_at <= now - timedelta(minutes=1),
            LoginSession.expires_at > now,
        )
        .values(last_seen_at=now)
    )


def end_session(session: Session, *, session_id: int) -> None:
    session.execute(delete(LoginSession).where(LoginSession.id == session_id))


def end_all_sessions(session: Session, *, account_id: int) -> int:
    return rowcount(session.execute(delete(LoginSession).where(LoginSession.account_id == account_id)))


def purge_expired(
    session: Session, *, now: datetime, keep_attempts: timedelta, keep_expired: timedelta
) -> dict[str, int]:
    """Delete what the accounts keep past its use; returns the rows removed per table.

    Login attempts (e-mail, address, time) are kept `keep_attempts` (never less than the throttle's window);
    ended logins, used or lapsed links, setup codes and upload allowance records `keep_expired` after they
    ended (a pending second-factor login is a login session, and ends with it)."""
    from portal.accounts.uploads import UploadAttempt

    keep_attempts = max(keep_attempts, THROTTLE_WINDOW)
    ended = now - keep_expired
    statements = {
        "login_attempts": delete(LoginAttempt).where(LoginAttempt.at < now - keep_attempts),
        "login_sessions": delete(LoginSession).where(LoginSession.expires_at < ended),
        "account_tokens": delete(AccountToken).where(
            (AccountToken.expires_at < ended) | (AccountToken.used_at < ended)
        ),
        "setup_codes": delete(SetupCode).where((SetupCode.expires_at < ended) | (SetupCode.used_at < ended)),
        # The allowance counts the last hour; a record older than that only says when someone uploaded.
        "upload_attempts": delete(UploadAttempt).where(UploadAttempt.at < ended),
    }
    return {
        table: rowcount(session.execute(statement.execution_options(synchronize_session=False)))
        for table, statement in statements.items()
    }


# --- second factor ------------------------------------------------------------------------------------------


def _totp_key(key: bytes) -> AESGCM:
    derived = HKDF(algorithm=SHA256(), length=32, salt=b"portal-totp", info=b"totp-secret-encryption").derive(
        key
    )
    return AESGCM(derived)


def encrypt_totp_secret(secret: str, *, key: bytes) -> str:
    nonce = secrets.token_bytes(12)
    return base64.urlsafe_b64encode(nonce + _totp_key(key).encrypt(nonce, secret.encode(), b"totp")).decode()


def decrypt_totp_secret(blob: str, *, key: bytes) -> str:
    raw = base64.urlsafe_b64decode(blob.encode())
    return _totp_key(key).decrypt(raw[:12], raw[12:], b"totp").decode()


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, *, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def _recovery_digest(code: str, key: bytes) -> str:
    normalised = code.replace("-", "").replace(" ", "").lower()
    return token_digest(key, normalised, purpose="recovery")


TOTP_STEP = 30


def _totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (of the one before, now, and the one after) whose code is `code`, or None."""
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // TOTP_STEP
    found = None
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.at(step * TOTP_STEP), code):
            found = step
    return found


def enable_totp(
    session: Session, *, account: Account, secret: str, code: str, now: datetime, key: bytes
) -> list[str]:
    """Turn on the second factor once the user proves their authenticator works; returns recovery codes."""
    step = _totp_step(secret, code.strip(), now) if code.strip().isdigit() else None
    if step is None:
        raise AccountError(
            Code.BAD_CODE, "That code is not right. Check the time on your phone and try again."
        )
    account.totp_secret_enc = encrypt_totp_secret(secret, key=key)
    account.totp_enabled_at = now
    # The code just shown proves the app works; it must not also open a login.
    account.totp_last_step = step
    account.mfa_failures = 0
    session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(10)]
    session.add_all(RecoveryCode(account_id=account.id, code_digest=_recovery_digest(c, key)) for c in codes)
    audit.record(session, actor=account, action="account.totp_enabled", subject=account.email, now=now)
    return codes


def disable_totp(session: Session, *, account: Account, now: datetime) -> None:
    account.totp_secret_enc = None
    account.totp_enabled_at = None
    account.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    audit.record(session, actor=account, action="account.totp_disabled", subject=account.email, now=now)


def _wrong_code(session: Session, *, account: Account, login: LoginSession | None, now: datetime) -> None:
    """Count a wrong code on the account (in the database, so every worker sees it) and on the pending login;
    the caller keeps the transaction although the answer is an error."""
    failures = session.execute(
        update(Account)
        .where(Account.id == account.id)
        .values(mfa_failures=Account.mfa_failures + 1)
        .returning(Account.mfa_failures)
    ).scalar_one()
    if failures % MFA_ACCOUNT_LIMIT == 0:
        session.execute(
            update(Account).where(Account.id == account.id).values(mfa_locked_until=now + MFA_LOCK)
        )
    if login is not None:
        pending = session.execute(
            update(LoginSession)
            .where(LoginSession.id == login.id)
            .values(mfa_failures=LoginSession.mfa_failures + 1)
            .returning(LoginSession.mfa_failures)
        ).scalar_one_or_none()
        if pending is not None and pending >= MFA_PENDING_LIMIT:
            session.execute(delete(LoginSession).where(LoginSession.id == login.id))
            raise AccountError(
                Code.MFA_RESTART, "Too many wrong codes. Log in again with your password to try once more."
            )
    if failures % MFA_ACCOUNT_LIMIT == 0:
        raise AccountError(
            Code.MFA_LOCKED,
            f"Too many wrong codes for this account. Try again in {MFA_LOCK.seconds // 60} minutes.",
            kind=Kind.THROTTLED,
        )


def check_second_factor(
    session: Session,
    *,
    account: Account,
    code: str,
    now: datetime,
    key: bytes,
    login: LoginSession | None = None,
) -> str:
    """Accept a current TOTP code (each time step once only) or an unused recovery code; returns which was
    used. Wrong codes are counted on the account and on the pending `login`: at the limits the pending
    login ends, and the account takes no codes for a while."""
    code = code.strip()
    locked = session.scalar(select(Account.mfa_locked_until).where(Account.id == account.id))
    if locked is not None and locked > now:
        minutes = max(1, math.ceil((locked - now).total_seconds() / 60))
        raise AccountError(
            Code.MFA_LOCKED,
            f"Too many wrong codes for this account. Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
            kind=Kind.THROTTLED,
        )
    if account.totp_secret_enc and code.isascii() and code.isdigit() and len(code) == 6:
        secret = decrypt_totp_secret(account.totp_secret_enc, key=key)
        step = _totp_step(secret, code, now)
        if step is not None:
            # A conditional update: two requests with one code (or an overheard code) cannot both pass.
            fresh = session.execute(
                update(Account)
                .where(
                    Account.id == account.id,
                    (Account.totp_last_step.is_(None)) | (Account.totp_last_step < step),
                )
                .values(totp_last_step=step, mfa_failures=0)
                .execution_options(synchronize_session=False)
            )
            if rowcount(fresh) != 1:
                raise AccountError(
                    Code.CODE_USED,
                    "That code has already been used. Wait for the next code in your authenticator app "
                    "and enter that one.",
                )
            return "totp"
    used = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.account_id == account.id,
            RecoveryCode.code_digest == _recovery_digest(code, key),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
    )
    if rowcount(used) == 1:
        session.execute(update(Account).where(Account.id == account.id).values(mfa_failures=0))
        return "recovery"
    _wrong_code(session, account=account, login=login, now=now)
    raise AccountError(
        Code.BAD_CODE, "That code is not right. Enter the 6-digit code from your authenticator app."
    )


def complete_second_factor(session: Session, *, session_id: int) -> None:
    session.execute(update(LoginSession).where(LoginSession.id == session_id).values(mfa_pending=False))
