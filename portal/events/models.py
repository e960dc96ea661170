"""Events, their ticket types, workshops and questions; registrations with their answers, workshop places,
invoices and payments.

Capacity is held by counters on the rows that have a limit (`Event.places_taken`, `TicketType.taken`,
`Workshop.taken`), moved only by conditional updates in the booking's own transaction, so the last place goes
to exactly one person on every engine. A registration holds places while it is `confirmed` or `offered`;
each of its workshops has a state of its own (`RegistrationWorkshop.status`), so a full workshop puts the
delegate in that workshop's line and leaves the conference place alone.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime
from portal.society.models import PAYMENT_PROVIDERS

KINDS: dict[str, str] = {
    "conference": "Conference",
    "meeting": "Meeting",
    "training": "Training",
    "regional": "Regional event",
}
EVENT_STATUSES: dict[str, str] = {"draft": "Draft", "published": "Published", "archived": "Archived"}
#: The regions a regional meeting is listed under: the nations and the regions of England, in the order the
#: regional meetings page shows them.
REGIONS: dict[str, str] = {
    "scotland": "Scotland",
    "northern-ireland": "Northern Ireland",
    "wales": "Wales",
    "north-east": "North East",
    "north-west": "North West",
    "yorkshire": "Yorkshire and the Humber",
    "east-midlands": "East Midlands",
    "west-midlands": "West Midlands",
    "east-of-england": "East of England",
    "london": "London",
    "south-east": "South East",
    "south-west": "South West",
}

#: confirmed: holds a place. offered: a place is held for them until `offer_expires_at`.
#: waitlisted: waiting in line (order of arrival). cancelled: gave the place back, was cancelled, or let an
#: offer lapse (`cancel_reason` says which).
REGISTRATION_STATUSES: dict[str, str] = {
    "confirmed": "Confirmed",
    "offered": "Place offered",
    "waitlisted": "On the waitlist",
    "cancelled": "Cancelled",
}
HOLDS_PLACE = ("confirmed", "offered")
#: The condition of the partial unique index on (event, e-mail): every booking that is not cancelled.
LIVE_BOOKING = "status <> 'cancelled'"
#: A registration's place in one workshop, apart from its conference place. pending: chosen while the
#: registration waits for its conference place (nothing held, not in the workshop's line yet). confirmed: holds
#: a seat. offered: a freed seat is held for them until `offer_expires_at`. waitlisted: in the workshop's line
#: (`queue_number`, unique per workshop). cancelled: the registration was cancelled or the offer lapsed.
WORKSHOP_STATUSES: dict[str, str] = {
    "pending": "Waiting for a conference place",
    "confirmed": "Confirmed",
    "offered": "Seat offered",
    "waitlisted": "Waiting list",
    "cancelled": "Cancelled",
}
WORKSHOP_HOLDS_SEAT = ("confirmed", "offered")
PAYMENT_STATUSES: dict[str, str] = {
    "unpaid": "Unpaid",
    "paid": "Paid",
    "waived": "Waived",
    "refunded": "Refunded",
}
QUESTION_KINDS: dict[str, str] = {
    "short_text": "Short text",
    "long_text": "Long text",
    "single_choice": "Single choice",
    "multiple_choice": "Multiple choice",
    "yes_no": "Yes or no",
}
#: What a question is for: dietary and access answers are counted in the catering/access summary.
QUESTION_PURPOSES: dict[str, str] = {
    "general": "General",
    "dietary": "Dietary needs",
    "access": "Access needs",
    "badge": "Printed on the badge",
}
PAYMENT_METHODS: dict[str, str] = {
    "bank_transfer": "Bank transfer",
    "card": "Card",
    "cheque": "Cheque",
    "cash": "Cash",
    "other": "Other",
}


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("places_taken >= 0", name="places_taken_not_negative"),
        Index("ix_events_status_starts_at", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="conference")
    #: A regional meeting's region (a key of REGIONS); "" for every other kind.
    region: Mapped[str] = mapped_column(String(40), default="", server_default="")
    #: The course a training event is a date of (training's `Course`); None for every other kind.
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_courses.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default="draft")
    venue: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(60), default="Europe/London")
    #: Markdown, rendered through the sanitising `markdown` filter.
    description: Mapped[str] = mapped_column(Text, default="")
    registration_opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    registration_closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Places overall; None means no limit beyond the tickets' quotas.
    capacity: Mapped[int | None] = mapped_column(Integer)
    #: Registrations holding a place (confirmed or offered). Moved only by conditional updates.
    places_taken: Mapped[int] = mapped_column(Integer, default=0)
    members_only: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    #: The tax line on invoices: label and rate in basis points (2000 = 20%). Prices include it.
    tax_label: Mapped[str] = mapped_column(String(40), default="VAT")
    tax_rate_bp: Mapped[int] = mapped_column(Integer, default=0)
    waitlist_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    #: How long a waitlisted person has to accept an offered place.
    offer_hours: Mapped[int] = mapped_column(Integer, default=48)
    #: Delegates may cancel their own booking until this moment; None: until registration closes.
    cancellation_cutoff: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancellation_policy: Mapped[str] = mapped_column(Text, default="")
    #: An invoice is due this many days after it is issued; unpaid bookings past it may be cancelled.
    payment_due_days: Mapped[int] = mapped_column(Integer, default=14)
    #: How delegates pay: "" follows the society's choice (`PaymentSettings.provider`), else one of
    #: `PROVIDERS`. Card is offered only while the Stripe settings are set; the invoice is always there.
    payment_provider: Mapped[str] = mapped_column(String(20), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    ticket_types: Mapped[list[TicketType]] = relationship(
        back_populates="event",
        cascade="all, delete-orphan",
        order_by=lambda: (TicketType.position, TicketType.id),
    )
    workshops: Mapped[list[Workshop]] = relationship(
        back_populates="event",
        cascade="all, delete-orphan",
        order_by=lambda: (Workshop.starts_at, Workshop.id),
    )
    questions: Mapped[list[Question]] = relationship(
        back_populates="event",
        cascade="all, delete-orphan",
        order_by=lambda: (Question.position, Question.id),
    )


class TicketType(Base):
    __tablename__ = "ticket_types"
    __table_args__ = (CheckConstraint("taken >= 0", name="taken_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(500), default="")
    #: In minor units (pence) of the event's currency; 0 is free.
    price: Mapped[int] = mapped_column(Integer, default=0)
    member_only: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Needs the delegate's declaration that they are a student.
    student: Mapped[bool] = mapped_column(Boolean, default=False)
    quota: Mapped[int | None] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)
    sale_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The end of the sale window: an early-bird ticket ends here.
    sale_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)

    event: Mapped[Event] = relationship(back_populates="ticket_types")


class Workshop(Base):
    __tablename__ = "workshops"
    __table_args__ = (CheckConstraint("taken >= 0", name="taken_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(1000), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int | None] = mapped_column(Integer)
    #: Seats held (confirmed or offered). Moved only by conditional updates.
    taken: Mapped[int] = mapped_column(Integer, default=0)
    #: The last waiting-list number handed out: bumped by an UPDATE under the event's lock, so each person
    #: joining the line gets the next number (and the unique constraint on the numbers holds it).
    waitlist_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    event: Mapped[Event] = relationship(back_populates="workshops")


class Question(Base):
    __tablename__ = "event_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(300))
    hint: Mapped[str] = mapped_column(String(300), default="")
    kind: Mapped[str] = mapped_column(String(20), default="short_text")
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    #: One option a line, for the choice kinds.
    options: Mapped[str] = mapped_column(Text, default="")
    purpose: Mapped[str] = mapped_column(String(20), default="general")
    position: Mapped[int] = mapped_column(Integer, default=0)

    event: Mapped[Event] = relationship(back_populates="questions")

    @property
    def answer_limit(self) -> int | None:
        """How many characters a written answer may have (the form says so and the rules hold it)."""
        return {"short_text": 200, "long_text": 2000}.get(self.kind)

    @property
    def option_list(self) -> list[str]:
        if self.kind == "yes_no":
            return ["Yes", "No"]
        return [line.strip() for line in self.options.splitlines() if line.strip()]


class Registration(Base):
    __tablename__ = "registrations"
    __table_args__ = (
        # One live place per member per event: `member_place` is the member's id while the registration is
        # live and NULL once cancelled (NULLs never clash), so a member may sign up again after giving back.
        UniqueConstraint("event_id", "member_place"),
        Index("ix_registrations_event_status", "event_id", "status"),
        # One live booking per e-mail address per event (addresses are stored lower-cased): a second booking
        # from the same address, even from two tabs at once, fails here and is told it already has one.
        Index(
            "uq_registrations_event_id_live_email",
            "event_id",
            "email",
            unique=True,
            sqlite_where=text(LIVE_BOOKING),
            postgresql_where=text(LIVE_BOOKING),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    ticket_type_id: Mapped[int] = mapped_column(ForeignKey("ticket_types.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), index=True)
    member_place: Mapped[int | None] = mapped_column(Integer)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254), index=True)
    status: Mapped[str] = mapped_column(String(20))
    #: Keyed digest of the key generated with the booking form: a resubmitted form finds this booking.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    #: Random; the private manage link's token is derived from it with the secret key (so it can be e-mailed
    #: again) and looked up through `manage_token_digest`. Neither alone opens the booking.
    manage_seed: Mapped[str] = mapped_column(String(32))
    manage_token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    student_declared: Mapped[bool] = mapped_column(Boolean, default=False)
    amount_due: Mapped[int] = mapped_column(Integer, default=0)
    amount_paid: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    payment_status: Mapped[str] = mapped_column(String(20), default="unpaid", index=True)
    payment_method: Mapped[str] = mapped_column(String(30), default="bank_transfer")
    payment_reference: Mapped[str | None] = mapped_column(String(20), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    waitlisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str] = mapped_column(String(40), default="")
    #: The badge's serial: starts at 1, raised when a badge is reissued so older badges stop scanning.
    badge_serial: Mapped[int] = mapped_column(Integer, default=1)

    event: Mapped[Event] = relationship()
    ticket_type: Mapped[TicketType] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="registration", cascade="all, delete-orphan", order_by="Answer.question_id"
    )
    workshop_places: Mapped[list[RegistrationWorkshop]] = relationship(
        back_populates="registration", cascade="all, delete-orphan"
    )
    invoice: Mapped[Invoice | None] = relationship(back_populates="registration", uselist=False)
    payments: Mapped[list[Payment]] = relationship(back_populates="registration", order_by="Payment.id")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def holds_place(self) -> bool:
        return self.status in HOLDS_PLACE

    @property
    def balance(self) -> int:
        """What is still owed (negative when overpaid); nothing is owed on a waived booking."""
        if self.payment_status == "waived" or self.status != "confirmed":
            return 0
        return self.amount_due - self.amount_paid


class Answer(Base):
    __tablename__ = "registration_answers"
    __table_args__ = (UniqueConstraint("registration_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("event_questions.id", ondelete="CASCADE"), index=True)
    #: The text, or for a multiple-choice question the chosen options one a line.
    value: Mapped[str] = mapped_column(Text, default="")

    registration: Mapped[Registration] = relationship(back_populates="answers")
    question: Mapped[Question] = relationship()

    @property
    def values(self) -> list[str]:
        return [v for v in self.value.splitlines() if v]


class RegistrationWorkshop(Base):
    """One registration's place in one workshop, with its own state, line number and offer (see
    `WORKSHOP_STATUSES`): a full workshop puts the delegate in that workshop's line, not the booking."""

    __tablename__ = "registration_workshops"
    __table_args__ = (
        UniqueConstraint("workshop_id", "queue_number"),
        Index("ix_registration_workshops_workshop_status", "workshop_id", "status"),
    )

    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), primary_key=True
    )
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="confirmed", server_default="confirmed")
    #: The place in the workshop's line (from `Workshop.waitlist_seq`); kept once offered, for the record.
    queue_number: Mapped[int | None] = mapped_column(Integer)
    waitlisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    registration: Mapped[Registration] = relationship(back_populates="workshop_places")
    workshop: Mapped[Workshop] = relationship()

    @property
    def holds_seat(self) -> bool:
        return self.status in WORKSHOP_HOLDS_SEAT


class NumberSequence(Base):
    """A gap-free counter (invoice numbers): bumped by an UPDATE in the transaction that uses the number, so
    a rolled-back booking gives its number back and concurrent bookings queue on the row."""

    __tablename__ = "number_sequences"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class Invoice(Base):
    """What was invoiced, frozen at issue: the PDF is rebuilt from this row and always reads the same."""

    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    #: The booking invoiced; None for an invoice of something else in the one series (a membership fee,
    #: portal/membership, which points at its invoice).
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), unique=True
    )
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_on: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    #: JSON: [{"description": ..., "amount": gross minor units}, ...]
    lines: Mapped[str] = mapped_column(Text)
    net: Mapped[int] = mapped_column(Integer)
    tax: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    tax_label: Mapped[str] = mapped_column(String(40))
    tax_rate_bp: Mapped[int] = mapped_column(Integer)
    #: JSON snapshots of the society (name, address, charity number, contact) and the delegate.
    seller: Mapped[str] = mapped_column(Text)
    buyer: Mapped[str] = mapped_column(Text)
    reference: Mapped[str] = mapped_column(String(20))

    registration: Mapped[Registration | None] = relationship(back_populates="invoice")

    @property
    def label(self) -> str:
        return f"INV-{self.number:06d}"


class Payment(Base):
    """Money in (a payment) or out (a refund) for one booking; bank lines carry their fingerprint in
    `external_id`, so importing the same statement twice records nothing twice."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20), default="payment")
    #: Always positive, in minor units; `kind` says which way it went.
    amount: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(30), default="bank_transfer")
    source: Mapped[str] = mapped_column(String(20), default="manual")
    note: Mapped[str] = mapped_column(String(300), default="")
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    received_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))

    registration: Mapped[Registration] = relationship(back_populates="payments")


#: How a booking or a membership fee may be paid: always by invoice, and by card too where chosen.
PROVIDERS: dict[str, str] = PAYMENT_PROVIDERS
#: A Checkout Session's state as Stripe reports it.
CHECKOUT_STATUSES = ("open", "complete", "expired")


class CardCheckout(Base):
    """One Stripe Checkout Session: for a booking (`registration_id`) or a membership fee (`subject` names
    it, e.g. `membership_fee:12`). Its status moves only from "open", by a conditional update, so the browser's
    return, the webhook and the reconciliation confirm it once between them; a late "expired" after
    "complete" finds nothing to move."""

    __tablename__ = "card_checkouts"
    __table_args__ = (Index("ix_card_checkouts_status_expires_at", "status", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(String(255), unique=True)
    #: "booking" or "membership_fee".
    purpose: Mapped[str] = mapped_column(String(30))
    #: The booking's id, or the application's id for a membership fee.
    target_id: Mapped[int] = mapped_column(Integer)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="SET NULL"))
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    url: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="open")
    payment_intent: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Paid back through Stripe (minor units), and the refund's id.
    refunded: Mapped[int] = mapped_column(Integer, default=0)
    refund_id: Mapped[str] = mapped_column(String(255), default="")


class CardEvent(Base):
    """A Stripe webhook event already handled: the same event delivered again changes nothing."""

    __tablename__ = "card_events"

    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    kind: Mapped[str] = mapped_column(String(80))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
