"""The outbox: every e-mail is a row, written in the same transaction as the action that causes it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime
from portal.mail import rendering

#: pending → sending (claimed by one sender) → sent; or back to pending with a later attempt; or failed.
#: `logged`: no SMTP server is configured, so the e-mail was written to the log (and the outbox page) instead.
MAIL_STATUSES = ("pending", "sending", "sent", "logged", "failed")


class OutboxEmail(Base):
    __tablename__ = "outbox_emails"
    __table_args__ = (Index("ix_outbox_emails_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: What caused it (the template name): "accounts/reset_password", "events/confirmation" ...
    kind: Mapped[str] = mapped_column(String(100), index=True)
    to_addr: Mapped[str] = mapped_column(String(254))
    #: The template's context as JSON of plain values (`rendering.freeze`), with a placeholder for each
    #: single-use link: the subject and bodies are rendered from it outside the action's transaction (by the
    #: sender, and by the outbox page). NULL for an e-mail written before, whose rendered parts are stored.
    context: Mapped[str | None] = mapped_column(Text)
    #: The parts as rendered when the e-mail was written, for e-mails written before `context` (see the
    #: `subject`, `text_body` and `html_body` properties, which render the others on first use).
    stored_subject: Mapped[str | None] = mapped_column("subject", String(300))
    stored_text: Mapped[str | None] = mapped_column("text_body", Text)
    stored_html: Mapped[str | None] = mapped_column("html_body", Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    #: Message-ID header, set when the message is built, so a retry after an unclear failure keeps it.
    message_id: Mapped[str | None] = mapped_column(String(200))
    #: It carries a single-use link (reset, activation, ballot ...) meant for its recipient alone: the plain
    #: columns hold the body with a placeholder where each link is, and the body as sent is in `sealed`.
    secret: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: The body as sent (and any attachment holding a link), AES-GCM encrypted (see `portal.mail.sealing`);
    #: set NULL in the statement that records the e-mail sent, logged or failed.
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)

    attachments: Mapped[list[OutboxAttachment]] = relationship(
        back_populates="email", cascade="all, delete-orphan", order_by="OutboxAttachment.id"
    )

    def shown(self) -> rendering.Rendered:
        """The e-mail as staff see it (a placeholder where each single-use link is): rendered from its
        stored context once per loaded row, or its stored parts when it was written rendered."""
        if self.context is None:
            return rendering.Rendered(self.stored_subject or "", self.stored_text or "", self.stored_html)
        cached: tuple[str, rendering.Rendered] | None = self.__dict__.get("_shown")
        if cached is None or cached[0] != self.context:
            cached = (self.context, rendering.render(self.kind, rendering.thaw(self.context)))
            self.__dict__["_shown"] = cached
        return cached[1]

    @property
    def subject(self) -> str:
        return self.shown().subject

    @subject.setter
    def subject(self, value: str) -> None:
        self.stored_subject = value

    @property
    def text_body(self) -> str:
        return self.shown().text

    @text_body.setter
    def text_body(self, value: str) -> None:
        self.stored_text = value

    @property
    def html_body(self) -> str | None:
        return self.shown().html

    @html_body.setter
    def html_body(self, value: str | None) -> None:
        self.stored_html = value


class OutboxAttachment(Base):
    __tablename__ = "outbox_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_id: Mapped[int] = mapped_column(ForeignKey("outbox_emails.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    #: Set for inline images referenced from the HTML part as cid:<content_id>.
    content_id: Mapped[str | None] = mapped_column(String(100))
    #: An attachment drawn by the sender at send time (an invoice PDF, a badge's QR code, a calendar file),
    #: from the row `source_id` of what `source` names ("invoice", "badge", "calendar"), so no request renders
    #: it while it holds the database writer. `content` is then empty, or the note of an attachment that
    #: carries a single-use link (`sealing.ATTACHMENT_PLACEHOLDER`): such a one is drawn only to be sent.
    source: Mapped[str | None] = mapped_column(String(40))
    source_id: Mapped[int | None] = mapped_column(Integer)

    email: Mapped[OutboxEmail] = relationship(back_populates="attachments")


class MailRequest(Base):
    """One request, by someone who need not be logged in, that makes the portal e-mail an address (an
    activation or password-reset link, a change-of-address confirmation). Counted per address and per client
    address, in the database so every worker sees them, to stop anyone using the portal to flood a mailbox."""

    __tablename__ = "mail_requests"
    __table_args__ = (
        Index("ix_mail_requests_email_at", "email", "at"),
        Index("ix_mail_requests_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(30))
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
