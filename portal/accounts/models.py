"""Accounts, their login sessions and single-use tokens, login attempts, the society, the first-run setup code,
and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime

ROLES: dict[str, str] = {
    "admin": "Administrator",
    "office": "Office staff",
    "returning_officer": "Returning officer",
    "scrutineer": "Scrutineer",
    "door": "Door staff",
    "editor": "Website editor",
    "complaints": "Complaints handler",
    "accreditation": "Accreditation officer",
}


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-case, so the unique constraint is case-insensitive on every engine.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    #: Space-separated role names (see ROLES); empty for a member's own account.
    roles: Mapped[str] = mapped_column(String(200), default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The TOTP secret, encrypted with a key derived from the secret key (a database copy alone cannot use it).
    totp_secret_enc: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The last TOTP time step accepted: a code is good once, so an overheard code cannot be replayed.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    #: Wrong second-factor codes since the last right one, across every pending login and worker.
    mfa_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: No second-factor code is checked before this time (set after too many wrong codes).
    mfa_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The member this login belongs to: only people on the roll have member accounts.
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), unique=True)
    #: The administrator who added this account (None: the command line or first-run setup). Whoever adds an
    #: account may not also give it the returning officer's or a scrutineer's role.
    created_by_id: Mapped[int | None] = mapped_column(Integer)

    sessions: Mapped[list[LoginSession]] = relationship(
        back_populates="account", cascade="all, delete-orphan"
    )

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(self.roles.split())

    @property
    def is_staff(self) -> bool:
        return bool(self.role_set)

    @property
    def totp_enabled(self) -> bool:
        return self.totp_enabled_at is not None


class LoginSession(Base):
    """A server-side login: the cookie holds a random token, the row holds only its keyed digest."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Password accepted, second factor still owed: the session grants nothing until it is given.
    mfa_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Wrong second-factor codes on this pending login; at the limit the pending login ends.
    mfa_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")

    account: Mapped[Account] = relationship(back_populates="sessions")


class AccountToken(Base):
    """A single-use link: set a first password, reset a password, activate a member account."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(30))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: What the link carries besides the account (e.g. the new address for a change of e-mail).
    payload: Mapped[str] = mapped_column(String(300), default="")


class SetupCode(Base):
    """The one-time code that opens first-run setup, printed by `portal serve` on an empty database. Only its
    keyed digest is kept; it works once and expires."""

    __tablename__ = "setup_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RecoveryCode(Base):
    __tablename__ = "recovery_codes"
    __table_args__ = (UniqueConstraint("account_id", "code_digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    code_digest: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginAttempt(Base):
    """Every failed login, for throttling per account and per address across all workers."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "at"),
        Index("ix_login_attempts_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
