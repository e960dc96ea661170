"""Payments: the provider interface (bank transfer now, room for cards later), payment references, recording
payments and refunds, and matching a bank statement's lines to bookings by reference.

A booking's `amount_paid` moves only by `UPDATE ... SET amount_paid = amount_paid + :amount`, so two staff
recording at once (or an import beside a hand entry) both count.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from sqlalchemy import case, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from portal import audit
from portal.accounts.models import Account
from portal.errors import Kind, PortalError
from portal.events import invoices
from portal.events.errors import Code
from portal.events.models import PAYMENT_METHODS, Event, Invoice, Payment, Registration
from portal.society.service import payment_settings

REFERENCE_PREFIX = "IPT"
REFERENCE_RE = re.compile(rf"{REFERENCE_PREFIX}(\d{{7}})")


class PaymentError(PortalError):
    """`code`: bad_amount, not_found, not_payable, bad_signature, bad_notification, nothing_to_refund."""


# --- references -------------------------------------------------------------------------------------------------


def _check_digit(digits: str) -> str:
    """Luhn's check digit: a mistyped digit or two swapped neighbours no longer match any booking."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def reference_for(registration_id: int, *, prefix: str = REFERENCE_PREFIX) -> str:
    """A payment reference: the prefix, six digits and a check digit (`IPT0000127`). Another kind of payment
    (a membership fee) has a prefix of its own, so a bank line names which it pays."""
    digits = f"{registration_id:06d}"
    return f"{prefix}{digits}{_check_digit(digits)}"


def find_references(text: str, *, prefix: str = REFERENCE_PREFIX) -> list[str]:
    """Valid references in free text, however the bank spaced or punctuated them."""
    squashed = re.sub(r"[^A-Z0-9]", "", text.upper())
    pattern = REFERENCE_RE if prefix == REFERENCE_PREFIX else re.compile(rf"{prefix}(\d{{7}})")
    found = []
    for match in pattern.finditer(squashed):
        digits = match.group(1)
        if _check_digit(digits[:6]) == digits[6]:
            found.append(f"{prefix}{digits}")
    return found


# --- what else a reference may pay --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Owed:
    """What a reference of another kind pays (a membership's first fee `MEM…`, a renewal `REN…`), as the kind
    registered for its prefix found it: shown in the statement's preview, and recorded by the kind."""

    #: The kind's prefix (`MEM`, `REN`).
    kind: str
    reference: str
    target_id: int
    #: Who and what, for the preview's column.
    label: str
    #: Still owed, in minor units: 0 when it has been paid.
    remaining: int


class ReferenceKind(Protocol):
    """A room above events whose payments are matched on their own reference prefix (see `register_kind`).
    A kind takes the sum owed whole: a line for less is shown, and left for the office to record by hand."""

    prefix: str

    def find(self, session: Session, reference: str) -> Owed | None: ...

    def imported(self, session: Session, fingerprints: list[str]) -> set[str]: ...

    def record(
        self, session: Session, owed: Owed, line: BankLine, *, actor: Account | None, now: datetime, app: Any
    ) -> object: ...


_KINDS: dict[str, ReferenceKind] = {}


def register_kind(kind: ReferenceKind) -> None:
    """Match a statement's lines on `kind.prefix` too, and record them through `kind` (membership does)."""
    _KINDS[kind.prefix] = kind


def _other_kind(session: Session, line: BankLine) -> tuple[ReferenceKind, list[str], Owed | None] | None:
    for kind in _KINDS.values():
        references = find_references(line.description, prefix=kind.prefix)
        if references:
            for reference in references:
                owed = kind.find(session, reference)
                if owed is not None:
                    return kind, references, owed
            return kind, references, None
    return None


# --- the provider interface ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentRequest:
    """What the delegate is asked to do: shown on the booking page and in the confirmation e-mail."""

    method: str
    amount: int
    currency: str
    reference: str
    instructions: str
    #: Numbered and stored; its PDF is drawn when the e-mail is sent (`invoices.draw_pdf`), or downloaded.
    invoice: Invoice | None


class PaymentProvider(Protocol):
    """A way to take payment. Bank transfer today; a card provider would return a checkout link from
    `create_payment` and confirm the payment from its webhook."""

    name: str

    def create_payment(
        self, session: Session, *, registration: Registration, event: Event, now: datetime
    ) -> PaymentRequest: ...

    def handle_webhook(
        self, session: Session, *, payload: bytes, headers: Mapping[str, str], now: datetime
    ) -> list[object]: ...


class BankTransferProvider:
    """Invoice and bank transfer: the booking gets a reference and a numbered invoice; the money arrives
    later and is matched on the reference (a statement import, or a bank's signed credit notification)."""

    name = "bank_transfer"

    def __init__(self, *, key: bytes) -> None:
        self._key = key

    def create_payment(
        self, session: Session, *, registration: Registration, event: Event, now: datetime
    ) -> PaymentRequest:
        if registration.payment_reference is None:
            registration.payment_reference = reference_for(registration.id)
        registration.payment_method = self.name
        details = payment_settings(session).as_text()
        invoice = invoices.issue_invoice(
            session, registration=registration, event=event, now=now, payment_details=details
        )
        instructions = "\n".join(
            line
            for line in (
                f"Please pay {invoices.amount_text(registration.amount_due, registration.currency)} by bank "
                f"transfer by {invoice.due_on.strftime('%-d %B %Y')}, quoting the reference "
                f"{registration.payment_reference}.",
                details,
            )
            if line
        )
        return PaymentRequest(
            method=self.name,
            amount=registration.amount_due,
            currency=registration.currency,
            reference=registration.payment_reference,
            instructions=instructions,
            invoice=invoice,
        )

    def signature(self, payload: bytes) -> str:
        return hmac.new(self._key, b"bank-notification:" + payload, hashlib.sha256).hexdigest()

    def handle_webhook(
        self, session: Session, *, payload: bytes, headers: Mapping[str, str], now: datetime
    ) -> list[object]:
        """A bank's notification of an incoming credit, JSON `{"id", "date", "amount", "description"}`
        (amount in minor units), signed with HMAC-SHA256 in `X-Signature`. Recorded once per `id`."""
        sent = headers.get("x-signature", "")
        if not hmac.compare_digest(sent, self.signature(payload)):
            raise PaymentError(
                Code.BAD_SIGNATURE, "The notification's signature does not match.", kind=Kind.FORBIDDEN
            )
        try:
            body = json.loads(payload)
            line = BankLine(
                line_no=1,
                on=date.fromisoformat(str(body["date"])),
                description=str(body["description"]),
                amount=int(body["amount"]),
                fingerprint=f"bank:{body['id']}",
            )
        except (ValueError, KeyError, TypeError):
            raise PaymentError(Code.BAD_NOTIFICATION, "The notification could not be read.") from None
        match = match_lines(session, [line])[0]
        if not match.recordable or match.owed is not None:  # a membership's: the statement import records it
            return []
        return apply_matches(session, [match], actor=None, now=now, source="provider")


# --- recording --------------------------------------------------------------------------------------------------


def _status_after(registration: Registration) -> str:
    if registration.payment_status == "waived":
        return "waived"
    if registration.amount_paid <= 0 and any(p.kind == "refund" for p in registration.payments):
        return "refunded"
    if registration.amount_due <= 0 or registration.amount_paid >= registration.amount_due:
        return "paid"
    return "unpaid"


def _move_paid(session: Session, registration: Registration, delta: int) -> None:
    session.execute(
        update(Registration)
        .where(Registration.id == registration.id)
        .values(amount_paid=Registration.amount_paid + delta)
        .execution_options(synchronize_session=False)
    )
    session.expire(registration, ["amount_paid", "payments"])


def _add_paid(session: Session, registration: Registration, amount: int, now: datetime) -> None:
    """Money in: the amount added and the status moved in one statement, which returns what it wrote (the
    card webhook's hot path; `_status_after` says the same for a payment: waived stays, else paid once the
    amount due is reached)."""
    paid = Registration.amount_paid + amount
    new_paid, status = session.execute(
        update(Registration)
        .where(Registration.id == registration.id)
        .values(
            amount_paid=paid,
            payment_status=case(
                (Registration.payment_status == "waived", "waived"),
                (or_(Registration.amount_due <= 0, paid >= Registration.amount_due), "paid"),
                else_="unpaid",
            ),
            updated_at=now,
        )
        .returning(Registration.amount_paid, Registration.payment_status)
        .execution_options(synchronize_session=False)
    ).one()
    set_committed_value(registration, "amount_paid", new_paid)
    set_committed_value(registration, "payment_status", status)
    set_committed_value(registration, "updated_at", now)
    session.expire(registration, ["payments"])


def record_payment(
    session: Session,
    *,
    registration_id: int,
    amount: int,
    method: str,
    received_on: date,
    note: str = "",
    kind: str = "payment",
    actor: Account | None,
    now: datetime,
    source: str = "manual",
    external_id: str | None = None,
) -> Payment:
    """Record money received (`kind="payment"`) or paid back (`kind="refund"`) for one booking."""
    if amount <= 0:
        raise PaymentError(Code.BAD_AMOUNT, "Enter an amount greater than zero.")
    if method not in PAYMENT_METHODS:
        raise PaymentError(Code.BAD_AMOUNT, "Choose how it was paid.")
    registration = session.get(Registration, registration_id)
    if registration is None:
        raise PaymentError(Code.NOT_FOUND, "No such booking.", kind=Kind.NOT_FOUND)
    if kind == "refund" and amount > registration.amount_paid:
        raise PaymentError(Code.NOTHING_TO_REFUND, "A refund cannot be more than has been paid.")
    payment = Payment(
        registration_id=registration.id,
        kind=kind,
        amount=amount,
        method=method,
        source=source,
        note=note[:300],
        external_id=external_id,
        received_on=received_on,
        recorded_at=now,
        recorded_by_id=actor.id if actor else None,
    )
    session.add(payment)
    session.flush()
    if kind == "payment":
        _add_paid(session, registration, amount, now)
    else:
        _move_paid(session, registration, -amount)
        registration.payment_status = _status_after(registration)
        registration.updated_at = now
        session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"events.{kind}",
        subject=f"registration {registration.id}",
        details={
            "amount": amount,
            "method": method,
            "source": source,
            "reference": registration.payment_reference,
        },
        now=now,
    )
    return payment


def waive_payment(session: Session, *, registration_id: int, actor: Account, now: datetime) -> Registration:
    registration = session.get(Registration, registration_id)
    if registration is None:
        raise PaymentError(Code.NOT_FOUND, "No such booking.", kind=Kind.NOT_FOUND)
    registration.payment_status = "waived"
    registration.updated_at = now
    audit.record(
        session,
        actor=actor,
        action="events.payment_waived",
        subject=f"registration {registration.id}",
        details={"amount_due": registration.amount_due},
        now=now,
    )
    return registration


# --- bank statements --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BankLine:
    line_no: int
    on: date
    description: str
    amount: int
    fingerprint: str


@dataclass(frozen=True)
class LineMatch:
    line: BankLine
    registration: Registration | None
    outcome: str
    message: str
    #: What a line quoting another kind's reference pays (the line then names no booking).
    owed: Owed | None = None

    @property
    def recordable(self) -> bool:
        return self.outcome in ("full", "partial", "overpaid")


OUTCOMES = {
    "full": "Pays the booking in full",
    "partial": "Part payment",
    "overpaid": "More than is owed",
    "already_paid": "Booking already paid",
    "already_imported": "Already imported",
    "no_reference": "No booking or membership reference found",
    "short": "Less than the fee: record it by hand",
    "unknown_reference": "Reference not known",
    "not_a_credit": "Money out, not in",
    "cancelled": "Booking cancelled",
}

_DATE_HEADERS = ("date", "transaction date", "posting date", "value date")
_TEXT_HEADERS = (
    "reference",
    "description",
    "details",
    "memo",
    "narrative",
    "transaction description",
    "payee",
)
_AMOUNT_HEADERS = ("amount", "value")
_CREDIT_HEADERS = ("paid in", "credit", "money in", "credit amount")
_DEBIT_HEADERS = ("paid out", "debit", "money out", "debit amount")


def _minor(raw: str) -> int | None:
    cleaned = raw.strip().replace("£", "").replace(",", "").replace(" ", "")
    if not cleaned:
        return None
    negative = cleaned.startswith("(") and cleaned.endswith(")")
    cleaned = cleaned.strip("()")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(raw) from None
    minor = int((value * 100).to_integral_value())
    return -minor if negative else minor


def _date(raw: str) -> date:
    raw = raw.strip()
    for parse in (
        date.fromisoformat,
        lambda s: datetime.strptime(s, "%d/%m/%Y").date(),
        lambda s: datetime.strptime(s, "%d/%m/%y").date(),
        lambda s: datetime.strptime(s, "%d-%m-%Y").date(),
        lambda s: datetime.strptime(s, "%d %b %Y").date(),
    ):
        try:
            return parse(raw)
        except ValueError:
            continue
    raise ValueError(raw)


def _either(names: Sequence[str]) -> str:
    """("date", "value date") → "Date or Value date": the headings a column may have, as a person reads them."""
    shown = [name.capitalize() for name in names]
    return ", ".join(shown[:-1]) + " or " + shown[-1] if len(shown) > 1 else shown[0]


def parse_statement(text: str) -> tuple[list[BankLine], list[str]]:
    """Lines of a bank's CSV export: a date column, a reference/description column (all text columns are
    searched) and either one signed amount column or paid-in/paid-out columns. Returns lines and problems."""
    problems: list[str] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows = [row for row in reader if any(cell.strip() for cell in row)]
    if not rows:
        return [], ["The file is empty."]
    header = [cell.strip().lower() for cell in rows[0]]

    def find(names: Sequence[str]) -> int | None:
        for name in names:
            if name in header:
                return header.index(name)
        return None

    date_col = find(_DATE_HEADERS)
    text_cols = [i for i, name in enumerate(header) if name in _TEXT_HEADERS]
    amount_col, credit_col, debit_col = find(_AMOUNT_HEADERS), find(_CREDIT_HEADERS), find(_DEBIT_HEADERS)
    if date_col is None or not text_cols or (amount_col is None and credit_col is None):
        missing = [
            words
            for lacking, words in (
                (date_col is None, f"a date ({_either(_DATE_HEADERS)})"),
                (not text_cols, f"a description or reference ({_either(_TEXT_HEADERS)})"),
                (
                    amount_col is None and credit_col is None,
                    f"an amount ({_either(_AMOUNT_HEADERS)}, or money in: {_either(_CREDIT_HEADERS)})",
                ),
            )
            if lacking
        ]
        found = ", ".join(f"“{cell.strip()}”" for cell in rows[0] if cell.strip()) or "nothing"
        return [], [
            f"The first line must name the columns, and it names {found}. It has no column for "
            + "; no column for ".join(missing)
            + ". Rename the headings in the file, or export the statement again as CSV."
        ]
    seen: dict[tuple[str, str, int], int] = {}
    lines: list[BankLine] = []
    for number, row in enumerate(rows[1:], start=2):
        cells = row + [""] * (len(header) - len(row))
        try:
            on = _date(cells[date_col])
            if amount_col is not None:
                amount = _minor(cells[amount_col]) or 0
            else:
                credit = _minor(cells[credit_col]) or 0 if credit_col is not None else 0
                debit = _minor(cells[debit_col]) or 0 if debit_col is not None else 0
                amount = credit - abs(debit)
        except ValueError as exc:
            problems.append(f"Line {number}: could not read {exc}.")
            continue
        description = " ".join(cells[i].strip() for i in text_cols if cells[i].strip())
        # Identical lines in one statement are different payments: the occurrence count keeps them apart,
        # while importing the same statement again gives the same fingerprints.
        identity = (on.isoformat(), description, amount)
        seen[identity] = seen.get(identity, 0) + 1
        digest = hashlib.sha256(json.dumps([*identity, seen[identity]]).encode()).hexdigest()[:40]
        lines.append(BankLine(number, on, description, amount, f"csv:{digest}"))
    return lines, problems


def match_lines(session: Session, lines: Sequence[BankLine]) -> list[LineMatch]:
    """What each line would do, without recording anything: the preview, and what `apply_matches` records."""
    fingerprints = [line.fingerprint for line in lines]
    imported = set(session.scalars(select(Payment.external_id).where(Payment.external_id.in_(fingerprints))))
    for kind in _KINDS.values():
        imported |= kind.imported(session, fingerprints)
    owed: dict[int, int] = {}
    taken: dict[tuple[str, int], int] = {}
    results: list[LineMatch] = []
    for line in lines:
        if line.fingerprint in imported:
            results.append(LineMatch(line, None, "already_imported", OUTCOMES["already_imported"]))
            continue
        if line.amount <= 0:
            results.append(LineMatch(line, None, "not_a_credit", OUTCOMES["not_a_credit"]))
            continue
        references = find_references(line.description)
        if not references:
            results.append(_match_other(session, line, taken))
            continue
        registration = session.scalar(
            select(Registration).where(Registration.payment_reference.in_(references)).limit(1)
        )
        if registration is None:
            message = f"Reference {' or '.join(references)} not known: no booking has it"
            results.append(LineMatch(line, None, "unknown_reference", message))
            continue
        if registration.status == "cancelled":
            results.append(LineMatch(line, registration, "cancelled", OUTCOMES["cancelled"]))
            continue
        remaining = owed.setdefault(registration.id, registration.amount_due - registration.amount_paid)
        if remaining <= 0 or registration.payment_status == "waived":
            outcome = "already_paid"
        elif line.amount == remaining:
            outcome = "full"
        elif line.amount < remaining:
            outcome = "partial"
        else:
            outcome = "overpaid"
        owed[registration.id] = remaining - line.amount
        results.append(LineMatch(line, registration, outcome, OUTCOMES[outcome]))
    return results


def _match_other(session: Session, line: BankLine, taken: dict[tuple[str, int], int]) -> LineMatch:
    """A line with no booking reference: another kind's (a membership's), or none at all. Each sum owed is
    taken whole, once per statement (`taken`: what earlier lines of the same statement paid)."""
    other = _other_kind(session, line)
    if other is None:
        return LineMatch(line, None, "no_reference", OUTCOMES["no_reference"])
    kind, references, found = other
    if found is None:
        message = f"Reference {' or '.join(references)} not known"
        return LineMatch(line, None, "unknown_reference", message)
    remaining = found.remaining - taken.get((kind.prefix, found.target_id), 0)
    if remaining <= 0:
        outcome = "already_paid"
    elif line.amount < remaining:
        outcome = "short"
    else:
        outcome = "full" if line.amount == remaining else "overpaid"
        taken[(kind.prefix, found.target_id)] = found.remaining
    return LineMatch(line, None, outcome, OUTCOMES[outcome], owed=found)


def apply_matches(
    session: Session,
    matches: Sequence[LineMatch],
    *,
    actor: Account | None,
    now: datetime,
    source: str = "bank_csv",
    app: Any = None,
) -> list[object]:
    """Record every recordable line, in the caller's one transaction: a booking's payment, or (through its
    kind) a membership's; `app` is what a kind needs to e-mail (the first fee's activation link)."""
    recorded: list[object] = []
    for match in matches:
        if not match.recordable:
            continue
        if match.owed is not None:
            kind = _KINDS[match.owed.kind]
            try:
                with session.begin_nested():
                    done = kind.record(session, match.owed, match.line, actor=actor, now=now, app=app)
            except (IntegrityError, PortalError):
                continue  # recorded by someone else a moment ago
            recorded.append(done)
            continue
        if match.registration is None:
            continue
        try:
            with session.begin_nested():
                payment = record_payment(
                    session,
                    registration_id=match.registration.id,
                    amount=match.line.amount,
                    method="bank_transfer",
                    received_on=match.line.on,
                    note=match.line.description[:300],
                    actor=actor,
                    now=now,
                    source=source,
                    external_id=match.line.fingerprint,
                )
        except IntegrityError:
            continue  # imported by someone else a moment ago
        recorded.append(payment)
    return recorded


# --- the society's details on invoices ----------------------------------------------------------------------------
