"""Account rules: first-run setup, staff management, logins and their throttle, sessions, single-use links,
and the TOTP second factor. Plain functions over a Session; the caller owns the transaction."""

from __future__ import annotations

import base64
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.accounts import audit
from portal.accounts.models import (
    ROLES,
    Account,
    AccountToken,
    LoginAttempt,
    LoginSession,
    RecoveryCode,
    Society,
)
from portal.accounts.passwords import Passwords
from portal.mail.service import enqueue
from portal.web.errors import PortalError
from portal.web.tokens import new_token, token_digest

THROTTLE_WINDOW = timedelta(minutes=15)
THROTTLE_LIMIT = 5
SET_PASSWORD_VALID = timedelta(days=7)
RESET_VALID = timedelta(hours=1)


class AccountError(PortalError):
    """`code` is one of: already_set_up, email_taken, invalid_login, throttled, disabled, bad_token,
    bad_role, bad_code, last_admin."""


@dataclass(frozen=True)
class Principal:
    """Who is making a request: loaded once per request from the session cookie."""

    account_id: int
    name: str
    email: str
    roles: frozenset[str]
    session_id: int
    member_id: int | None = None

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles)) or (
            "admin" in self.roles and bool({"office", "door"} & set(roles))
        )

    @property
    def is_staff(self) -> bool:
        return bool(self.roles)


# --- first run and staff ----------------------------------------------------------------------------------


def is_set_up(session: Session) -> bool:
    return session.get(Society, 1) is not None


def society(session: Session) -> Society | None:
    return session.get(Society, 1)


def _check_roles(roles: list[str] | set[str] | frozenset[str]) -> str:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise AccountError("bad_role", f"Unknown role: {', '.join(sorted(unknown))}.")
    return " ".join(r for r in ROLES if r in roles)


def _add_account(
    session: Session, *, name: str, email: str, roles: str, password_hash: str | None, now: datetime
) -> Account:
    email = email.strip().lower()
    if session.scalar(select(Account.id).where(Account.email == email)) is not None:
        raise AccountError("email_taken", "An account with this e-mail address already exists.")
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
        raise AccountError("email_taken", "An account with this e-mail address already exists.") from None
    return account


def setup_first_admin(
    session: Session,
    *,
    society_name: str,
    name: str,
    email: str,
    password: str,
    passwords: Passwords,
    now: datetime,
) -> Account:
    """Name the society and create the first administrator; possible once only."""
    if is_set_up(session):
        raise AccountError("already_set_up", "The portal is already set up. Log in instead.")
    session.add(Society(id=1, name=society_name.strip(), contact_email=email.strip().lower()))
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise AccountError("already_set_up", "The portal is already set up. Log in instead.") from None
    account = _add_account(
        session, name=name, email=email, roles="admin", password_hash=passwords.hash(password), now=now
    )
    audit.record(session, actor=account, action="setup", subject=society_name, now=now)
    return account


def create_staff(
    session: Session,
    *,
    actor: Account,
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
        raise AccountError("bad_role", "Choose at least one role.")
    account = _add_account(
        session, name=name, email=email, roles=_check_roles(roles), password_hash=None, now=now
    )
    token = issue_token(
        session, account=account, purpose="set_password", valid=SET_PASSWORD_VALID, now=now, key=key
    )
    if link_for is not None:
        society_row = society(session)
        enqueue(
            session,
            to=account.email,
            template="accounts/staff_invite",
            context={
                "name": account.name,
                "link": link_for(token),
                "roles": [ROLES[r] for r in ROLES if r in account.role_set],
                "society_name": society_row.name if society_row else "IPT UK",
                "invited_by": actor.name if actor else "the administrator",
            },
            now=now,
            secret=True,
        )
    audit.record(
        session,
        actor=actor,
        action="staff.create",
        subject=account.email,
        details={"roles": account.roles},
        now=now,
    )
    return account, token


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
        raise AccountError("not_found", "No such account.", status_code=404)
    before = (account.roles, account.is_active)
    account.roles = _check_roles(roles)
    account.is_active = active
    session.flush()
    if _active_admins(session) == 0:
        raise AccountError("last_admin", "The portal must keep at least one active administrator.")
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
        "bad_token", "This link has expired or has already been used. Ask for a new one.", status_code=410
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
    if used.rowcount != 1:
        raise AccountError("bad_token", "This link has already been used.", status_code=410)
    return row


def set_password_with_token(
    session: Session, *, token: str, password: str, passwords: Passwords, now: datetime, key: bytes
) -> Account:
    row = redeem_token(
        session, token=token, purposes=("set_password", "reset_password", "activate"), now=now, key=key
    )
    account = session.get(Account, row.account_id)
    assert account is not None
    if not account.is_active:
        raise AccountError("disabled", "This account has been disabled.")
    account.password_hash = passwords.hash(password)
    # A new password ends every existing login.
    session.execute(delete(LoginSession).where(LoginSession.account_id == account.id))
    if account.is_staff:
        audit.record(session, actor=account, action=f"account.{row.purpose}", subject=account.email, now=now)
    return account


# --- logins -------------------------------------------------------------------------------------------------


def _throttle_wait(session: Session, *, email: str, ip: str, now: datetime) -> int:
    """Minutes to wait before another attempt, or 0. Five failures in 15 minutes, per account or address."""
    since = now - THROTTLE_WINDOW
    waits = []
    for column, value in ((LoginAttempt.email, email), (LoginAttempt.ip, ip)):
        count, oldest = session.execute(
            select(func.count(), func.min(LoginAttempt.at)).where(column == value, LoginAttempt.at > since)
        ).one()
        if count >= THROTTLE_LIMIT and oldest is not None:
            waits.append(math.ceil((oldest + THROTTLE_WINDOW - now).total_seconds() / 60))
    return max(waits, default=0)


def authenticate(
    session: Session, *, email: str, password: str, ip: str, now: datetime, passwords: Passwords
) -> Account:
    """Check a password, counting failures. Unknown e-mails cost the same time as known ones."""
    email = email.strip().lower()
    wait = _throttle_wait(session, email=email, ip=ip, now=now)
    if wait:
        raise AccountError(
            "throttled",
            f"Too many failed attempts. Try again in {wait} minute{'s' if wait != 1 else ''}.",
            status_code=429,
            minutes=wait,
        )
    account = session.scalar(select(Account).where(Account.email == email))
    if not passwords.verify(account.password_hash if account else None, password) or account is None:
        session.add(LoginAttempt(email=email, ip=ip, at=now))
        session.flush()
        raise AccountError("invalid_login", "That e-mail address and password do not match an account.")
    if not account.is_active:
        raise AccountError("disabled", "This account has been disabled. Contact the society office.")
    if account.password_hash and passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash(password)
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


def touch_session(session: Session, *, session_id: int, now: datetime) -> None:
    session.execute(update(LoginSession).where(LoginSession.id == session_id).values(last_seen_at=now))


def end_session(session: Session, *, session_id: int) -> None:
    session.execute(delete(LoginSession).where(LoginSession.id == session_id))


def end_all_sessions(session: Session, *, account_id: int) -> int:
    return session.execute(delete(LoginSession).where(LoginSession.account_id == account_id)).rowcount


def purge_expired(session: Session, *, now: datetime) -> None:
    """Housekeeping: drop expired sessions and old login attempts."""
    session.execute(delete(LoginSession).where(LoginSession.expires_at <= now))
    session.execute(delete(LoginAttempt).where(LoginAttempt.at <= now - timedelta(days=1)))
    session.execute(delete(AccountToken).where(AccountToken.expires_at <= now - timedelta(days=30)))


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


def enable_totp(
    session: Session, *, account: Account, secret: str, code: str, now: datetime, key: bytes
) -> list[str]:
    """Turn on the second factor once the user proves their authenticator works; returns recovery codes."""
    if not pyotp.TOTP(secret).verify(code.strip(), for_time=now, valid_window=1):
        raise AccountError("bad_code", "That code is not right. Check the time on your phone and try again.")
    account.totp_secret_enc = encrypt_totp_secret(secret, key=key)
    account.totp_enabled_at = now
    session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(10)]
    session.add_all(RecoveryCode(account_id=account.id, code_digest=_recovery_digest(c, key)) for c in codes)
    audit.record(session, actor=account, action="account.totp_enabled", subject=account.email, now=now)
    return codes


def disable_totp(session: Session, *, account: Account, now: datetime) -> None:
    account.totp_secret_enc = None
    account.totp_enabled_at = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    audit.record(session, actor=account, action="account.totp_disabled", subject=account.email, now=now)


def check_second_factor(session: Session, *, account: Account, code: str, now: datetime, key: bytes) -> str:
    """Accept a current TOTP code or an unused recovery code; returns which was used."""
    code = code.strip()
    if account.totp_secret_enc and code.isascii() and code.isdigit() and len(code) == 6:
        secret = decrypt_totp_secret(account.totp_secret_enc, key=key)
        if pyotp.TOTP(secret).verify(code, for_time=now, valid_window=1):
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
    if used.rowcount == 1:
        return "recovery"
    raise AccountError(
        "bad_code", "That code is not right. Enter the 6-digit code from your authenticator app."
    )


def complete_second_factor(session: Session, *, session_id: int) -> None:
    session.execute(update(LoginSession).where(LoginSession.id == session_id).values(mfa_pending=False))
