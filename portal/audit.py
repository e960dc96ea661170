"""The audit log: every staff action appended with actor, action, subject, details and time, each entry
chained to the one before by an HMAC-SHA256, so an edited, inserted or deleted entry is found by `verify`.

The chain is keyed: each entry's hash is an HMAC under a key of its own, derived by HKDF from the portal's
secret key (`chain_key`). Someone who can write to the database but does not hold the secret key can edit an
entry and recompute a plain SHA-256 chain, but not this one. Appends take the key from the session (the
`Database` is built with `audit_key=`, so the fifty places that record need not carry it); `verify` is given
the secret key explicitly, by the CLI and the admin page.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Integer, String, Text, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.db import Base, UTCDateTime, is_postgres

GENESIS = "0" * 64
_HKDF_INFO = b"portal audit chain v1"


class Actor(Protocol):
    """Who did it: an account (any object with these), or None for the system itself."""

    id: int
    name: str
    email: str


class AuditEvent(Base):
    """Append-only and hash-chained: each entry holds the hash of the one before, so an edit or a gap shows."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: No foreign key: the log must outlive the accounts it names, unchanged.
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(100), index=True)
    subject: Mapped[str] = mapped_column(String(300), default="")
    details: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


def chain_key(secret: bytes) -> bytes:
    """The audit chain's own HMAC key, derived from the portal's secret key (no other use shares it)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(secret)


def _session_key(session: Session) -> bytes:
    key = session.info.get("audit_key")
    if not isinstance(key, bytes) or not key:
        raise RuntimeError(
            "This database session has no audit key: build the Database with "
            "audit_key=audit.chain_key(settings.key_bytes())."
        )
    return key


def _body(
    prev_hash: str, *, at: datetime, actor_id: int | None, actor: str, action: str, subject: str, details: str
) -> bytes:
    return json.dumps(
        [prev_hash, at.isoformat(timespec="microseconds"), actor_id, actor, action, subject, details],
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def _entry_hash(
    key: bytes,
    prev_hash: str,
    *,
    at: datetime,
    actor_id: int | None,
    actor: str,
    action: str,
    subject: str,
    details: str,
) -> str:
    body = _body(
        prev_hash, at=at, actor_id=actor_id, actor=actor, action=action, subject=subject, details=details
    )
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def actor_label(account: Actor | None) -> str:
    return f"{account.name} <{account.email}>" if account else "system"


def record(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    subject: str = "",
    details: dict[str, Any] | None = None,
    now: datetime,
) -> AuditEvent:
    """Append one entry in the caller's transaction. Appends are serialised (a PostgreSQL advisory lock;
    SQLite's single writer), so two workers cannot both chain onto the same predecessor."""
    key = _session_key(session)
    if is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(7262001)"))
    prev = session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar()
    prev_hash = prev or GENESIS
    details_json = json.dumps(
        details or {}, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False
    )
    label = actor_label(actor)
    event = AuditEvent(
        at=now,
        actor_id=actor.id if actor else None,
        actor=label,
        action=action,
        subject=subject,
        details=details_json,
        prev_hash=prev_hash,
        hash=_entry_hash(
            key,
            prev_hash,
            at=now,
            actor_id=actor.id if actor else None,
            actor=label,
            action=action,
            subject=subject,
            details=details_json,
        ),
    )
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class AuditProblem:
    entry_id: int
    problem: str


def chain_head(session: Session) -> str | None:
    """The hash of the latest entry (None while the log is empty): published to someone outside the portal,
    it pins the whole history up to that point."""
    return session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar()


def verify(session: Session, *, key: bytes) -> list[AuditProblem]:
    """Walk the chain in order; report every entry whose hash or link does not hold. `key` is the portal's
    secret key (the chain's own key is derived from it)."""
    entry_key = chain_key(key)
    problems: list[AuditProblem] = []
    prev_hash = GENESIS
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(500):
        if event.prev_hash != prev_hash:
            problems.append(
                AuditProblem(
                    event.id, "does not follow the entry before it (an entry was removed or inserted)"
                )
            )
        expected = _entry_hash(
            entry_key,
            event.prev_hash,
            at=event.at,
            actor_id=event.actor_id,
            actor=event.actor,
            action=event.action,
            subject=event.subject,
            details=event.details,
        )
        if not hmac.compare_digest(expected, event.hash):
            problems.append(AuditProblem(event.id, "its contents were changed after it was written"))
        prev_hash = event.hash
    return problems


def _fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "at": event.at,
        "actor_id": event.actor_id,
        "actor": event.actor,
        "action": event.action,
        "subject": event.subject,
        "details": event.details,
    }


def rekey(session: Session, *, key: bytes) -> int:
    """Once, after the upgrade that keyed the chain: re-hash a log written under the old plain SHA-256 chain
    with the keyed one. The old chain must hold in full first (an entry edited before the upgrade stays
    found); a log already keyed is left alone. Returns the number of entries re-hashed."""
    if is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(7262001)"))
    events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    if not verify(session, key=key):
        return 0
    prev_hash = GENESIS
    for event in events:
        plain = hashlib.sha256(_body(event.prev_hash, **_fields(event))).hexdigest()
        if event.prev_hash != prev_hash or not hmac.compare_digest(plain, event.hash):
            raise ValueError(
                f"entry {event.id} does not hold under the old chain either; nothing was changed"
            )
        prev_hash = event.hash
    entry_key = chain_key(key)
    prev_hash = GENESIS
    for event in events:
        event.prev_hash = prev_hash
        event.hash = _entry_hash(entry_key, prev_hash, **_fields(event))
        prev_hash = event.hash
    session.flush()
    return len(events)
