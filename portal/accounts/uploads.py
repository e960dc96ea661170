"""The per-account allowance of costly uploads (candidate photos), counted in the database so that every
worker shares it. An attempt is counted when its file is about to be decoded, whether or not the action then
succeeds: a nomination refused for another reason must not let the same account decode again for free."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Index, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.accounts.models import Account
from portal.db import Base, UTCDateTime, is_postgres
from portal.web.templating import local_time
from portal.web.uploads import UploadRefused

WINDOW = timedelta(hours=1)


class UploadAttempt(Base):
    """One costly upload by an account, kept for an hour to count against its allowance."""

    __tablename__ = "upload_attempts"
    __table_args__ = (Index("ix_upload_attempts_account_id_kind_at", "account_id", "kind", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


def claim_upload(
    session: Session, *, account_id: int, kind: str, per_hour: int, noun: str = "files", now: datetime
) -> None:
    """Count one upload of `kind` by the account, or UploadRefused('too_many_uploads') saying when to try
    again. Claims of one account are serialised (its row locked on PostgreSQL; SQLite has one writer), so
    parallel requests cannot all slip under the limit."""
    if is_postgres(session):
        session.execute(select(Account.id).where(Account.id == account_id).with_for_update())
    since = now - WINDOW
    session.execute(
        delete(UploadAttempt).where(UploadAttempt.account_id == account_id, UploadAttempt.at <= since)
    )
    recent = select(UploadAttempt.at).where(
        UploadAttempt.account_id == account_id, UploadAttempt.kind == kind, UploadAttempt.at > since
    )
    count = session.scalar(select(func.count()).select_from(recent.subquery())) or 0
    if count >= per_hour:
        oldest = session.scalar(recent.order_by(UploadAttempt.at).limit(1)) or now
        raise UploadRefused(
            "too_many_uploads",
            f"You have uploaded {count} {noun} in the last hour, the most allowed. "
            f"Try again after {local_time(oldest + WINDOW, '%H:%M')} (UK time).",
        )
    session.add(UploadAttempt(account_id=account_id, kind=kind, at=now))
    session.flush()
