"""Applications to join: what the applicant sent, the files of evidence, the conversation with the office,
and, once approved, the member it made and the invoice for the first fee."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime

#: Where an application stands, in the order the queue shows them.
APPLICATION_STATUSES: dict[str, str] = {
    "new": "New",
    "waiting": "Waiting for the applicant",
    "approved": "Approved",
    "rejected": "Rejected",
}
#: The bodies a practitioner may be registered with (the form also takes "other", named in the number field).
REGISTRATION_BODIES: dict[str, str] = {
    "HCPC": "HCPC (Health and Care Professions Council)",
    "NMC": "NMC (Nursing and Midwifery Council)",
    "GMC": "GMC (General Medical Council)",
    "BACP": "BACP (British Association for Counselling and Psychotherapy)",
    "UKCP": "UKCP (UK Council for Psychotherapy)",
    "BPS": "BPS (British Psychological Society)",
    "other": "Another body",
    "none": "Not registered",
}
#: The IPT training an applicant has completed.
TRAINING: dict[str, str] = {
    "none": "None yet",
    "introductory": "An introductory course (2 days)",
    "foundation": "Foundation training (5 days)",
    "practitioner": "Practitioner training, with supervised cases",
    "supervisor": "Supervisor or trainer training",
}


class Application(Base):
    """One application to join. Its personal data goes with it: a rejected application is purged with the
    retention of the roll (see the README's Privacy section)."""

    __tablename__ = "membership_applications"
    __table_args__ = (Index("ix_membership_applications_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="new")
    category: Mapped[str] = mapped_column(String(50))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    #: Lower-case, as the roll stores it.
    email: Mapped[str] = mapped_column(String(254), index=True)
    address: Mapped[str] = mapped_column(Text)
    profession: Mapped[str] = mapped_column(String(200))
    registration_body: Mapped[str] = mapped_column(String(20))
    registration_number: Mapped[str] = mapped_column(String(60))
    training: Mapped[str] = mapped_column(String(30))
    #: The versions of the code of conduct and privacy notice the applicant accepted, and when.
    conduct_version: Mapped[str] = mapped_column(String(40))
    privacy_version: Mapped[str] = mapped_column(String(40))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The keyed digest of the private link that answers the office's question (None when none is open).
    answer_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str] = mapped_column(String(300), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    #: Made on approval: the member on the roll, the first fee asked and its invoice (None for a free one).
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    fee_amount: Mapped[int] = mapped_column(Integer, default=0)
    fee_reference: Mapped[str] = mapped_column(String(20), default="")
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="SET NULL"))
    fee_paid_on: Mapped[date | None] = mapped_column(Date)

    files: Mapped[list[ApplicationFile]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="ApplicationFile.id"
    )
    messages: Mapped[list[ApplicationMessage]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="ApplicationMessage.id"
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def reference(self) -> str:
        return f"APP-{self.id:05d}"


class ApplicationFile(Base):
    """A file of evidence (a certificate, a registration), checked and cleaned before it was stored."""

    __tablename__ = "membership_application_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("membership_applications.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    application: Mapped[Application] = relationship(back_populates="files")


class ApplicationMessage(Base):
    """One turn of the conversation: the office asking for more, the applicant answering, a decision."""

    __tablename__ = "membership_application_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("membership_applications.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: "office" or "applicant".
    author: Mapped[str] = mapped_column(String(20))
    author_name: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)

    application: Mapped[Application] = relationship(back_populates="messages")


#: The renewal reminders, by days before the renewal date (0: on the day).
REMINDER_KINDS: dict[str, int] = {"days_30": 30, "days_7": 7, "on_the_day": 0}


class RenewalReminder(Base):
    """A renewal reminder sent: one row per member, renewal date and kind, so each goes once whichever worker
    gets there first (the insert does nothing when the row is there)."""

    __tablename__ = "membership_renewal_reminders"
    __table_args__ = (
        UniqueConstraint("member_id", "renewal_on", "kind", name="uq_membership_renewal_reminders_once"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    renewal_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


#: How a renewal was paid.
RENEWAL_METHODS: dict[str, str] = {
    "bank_transfer": "Bank transfer",
    "cheque": "Cheque",
    "card": "Card",
    "cash": "Cash",
    "other": "Other",
}


class Renewal(Base):
    """One year renewed, or asked for: the member asked to renew (an invoice to pay, `paid_on` None until it
    is paid), or staff recorded a payment by hand. Paying moves the member's renewal date from `renewal_from`
    to `renewal_to`."""

    __tablename__ = "membership_renewals"
    __table_args__ = (Index("ix_membership_renewals_member_id", "member_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(50))
    amount: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(20), default="")
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="SET NULL"))
    #: The renewal date the renewal was asked against (None: the member had none), and the one it gives.
    renewal_from: Mapped[date | None] = mapped_column(Date)
    renewal_to: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_on: Mapped[date | None] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(300), default="")
    note: Mapped[str] = mapped_column(Text, default="")


#: How money for a membership was paid (the ledger's `method`).
PAYMENT_METHODS: dict[str, str] = {
    "card": "Card",
    "bank_transfer": "Bank transfer",
    "cheque": "Cheque",
    "cash": "Cash",
    "other": "Other",
}
#: Which path recorded it (the ledger's `source`).
PAYMENT_SOURCES: dict[str, str] = {
    "stripe": "Stripe (webhook, return page or reconciliation)",
    "staff": "Recorded by hand by the office",
    "bank_statement": "A bank statement import",
    "bank_notification": "The bank's notification",
    "free": "A free category",
}


class MembershipPayment(Base):
    """The membership ledger: one row for each sum paid for a membership (a first fee or a renewal), or paid
    back (`kind` "refund"), written in the same transaction as whatever the payment changed (the member made
    active, the renewal date moved on). Rows are never updated; what a report counts is here (see
    docs/payments.md). It holds no personal data (no names, no free text: the office's note stays on the
    renewal, which erasure blanks, and a bank line's words are not kept), so a member erased later keeps their payments
    as counts (`member_id` stays, the member row being anonymised; `category` is the category paid for)."""

    __tablename__ = "membership_payments"
    __table_args__ = (
        Index("ix_membership_payments_member_id", "member_id", "id"),
        Index("ix_membership_payments_received_on", "received_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "first_fee" or "renewal".
    purpose: Mapped[str] = mapped_column(String(20))
    #: "payment" or "refund"; `amount` is always positive.
    kind: Mapped[str] = mapped_column(String(20), default="payment")
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    category: Mapped[str] = mapped_column(String(50))
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("membership_applications.id", ondelete="SET NULL")
    )
    renewal_id: Mapped[int | None] = mapped_column(ForeignKey("membership_renewals.id", ondelete="SET NULL"))
    #: The invoice it settles (one series with the events' invoices).
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="SET NULL"))
    #: Minor units (pence), and the ISO currency.
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    #: One of PAYMENT_METHODS, and the path that recorded it (PAYMENT_SOURCES).
    method: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))
    #: The provider's reference, unique when given: `stripe:<Checkout Session id>`, a bank line's fingerprint
    #: (`csv:…`, so importing a statement twice records nothing twice); None for a payment recorded by hand.
    provider_ref: Mapped[str | None] = mapped_column(String(255), unique=True)
    #: The payment reference the payer quoted (`MEM…`, `REN…`).
    reference: Mapped[str] = mapped_column(String(20), default="")
    received_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    #: Who recorded it, as the audit log names them ("Payment provider", a member of staff).
    recorded_by: Mapped[str] = mapped_column(String(300), default="")
