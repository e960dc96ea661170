"""The audit log: every staff action appended with actor, action, subject, details and time, each entry
chained to the one before by a SHA-256 hash, so an edited, inserted or deleted entry is found by `verify`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from portal.accounts.models import Account, AuditEvent
from portal.db import is_postgres

GENESIS = "0" * 64


def _entry_hash(
    prev_hash: str, *, at: datetime, actor_id: int | None, actor: str, action: str, subject: str, details: str
) -> str:
    body = json.dumps(
        [prev_hash, at.isoformat(timespec="microseconds"), actor_id, actor, action, subject, details],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def actor_label(account: Account | None) -> str:
    return f"{account.name} <{account.email}>" if account else "system"


def record(
    session: Session,
    *,
    actor: Account | None,
    action: str,
    subject: str = "",
    details: dict[str, Any] | None = None,
    now: datetime,
) -> AuditEvent:
    """Append one entry in the caller's transaction. Appends are serialised (a PostgreSQL advisory lock;
    SQLite's single writer), so two workers cannot both chain onto the same predecessor."""
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


def chain_head(session: Session) -> str:
    """The hash of the latest entry (GENESIS for an empty log): whoever keeps a copy of it can later tell
    whether the log up to that entry was rewritten."""
    head = session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar()
    return head or GENESIS


@dataclass(frozen=True)
class AuditProblem:
    entry_id: int
    problem: str


def verify(session: Session) -> list[AuditProblem]:
    """Walk the chain in order; report every entry whose hash or link does not hold."""
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
            event.prev_hash,
            at=event.at,
            actor_id=event.actor_id,
            actor=event.actor,
            action=event.action,
            subject=event.subject,
            details=event.details,
        )
        if expected != event.hash:
            problems.append(AuditProblem(event.id, "its contents were changed after it was written"))
        prev_hash = event.hash
    return problems
