"""Invoices: gap-free sequential numbers, tax worked out from a price that includes it, and the PDF.

The number comes from a counter row updated in the booking's own transaction: concurrent bookings queue on
that row, and a booking that rolls back takes its number back with it, so the sequence never has a gap.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fpdf import FPDF
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.events.models import Event, Invoice, NumberSequence, Registration
from portal.mail.service import Attachment
from portal.society import service as society_service
from portal.web.fonts import add_unicode_font, latin1
from portal.web.templating import money

INVOICE_SEQUENCE = "invoice"


def next_number(session: Session, name: str = INVOICE_SEQUENCE, *, start: int = 0) -> int:
    """The next number of a sequence, taken in the caller's transaction (the row stays locked until it ends).
    A sequence used for the first time counts on from `start` (its first number is `start + 1`)."""
    stmt = (
        update(NumberSequence)
        .where(NumberSequence.name == name)
        .values(last_value=NumberSequence.last_value + 1)
        .returning(NumberSequence.last_value)
        .execution_options(synchronize_session=False)
    )
    value = session.execute(stmt).scalar()
    if value is None:
        # First use: create the row; if another transaction created it meanwhile, ours waits, then bumps it.
        try:
            with session.begin_nested():
                session.execute(insert(NumberSequence).values(name=name, last_value=start))
        except IntegrityError:
            pass
        value = session.execute(stmt).scalar_one()
    return int(value)


def split_tax(gross: int, rate_bp: int) -> tuple[int, int]:
    """(net, tax) of a price that includes tax at `rate_bp` basis points, rounded half up to a penny."""
    if rate_bp <= 0:
        return gross, 0
    divisor = 10_000 + rate_bp
    net = (gross * 10_000 * 2 + divisor) // (2 * divisor)
    return net, gross - net


def society_snapshot(session: Session) -> dict[str, str]:
    society = society_service.society(session)
    if society is None:
        return {"name": "", "address": "", "charity_number": "", "contact_email": ""}
    return {
        "name": society.name,
        "address": society.address,
        "charity_number": society.charity_number,
        "contact_email": society.contact_email,
    }


def issue_invoice(
    session: Session, *, registration: Registration, event: Event, now: datetime, payment_details: str
) -> Invoice:
    """Number and freeze the invoice for a confirmed booking (once; a second call returns the same one)."""
    existing = session.scalar(select(Invoice).where(Invoice.registration_id == registration.id))
    if existing is not None:
        return existing
    today = now.astimezone(ZoneInfo(event.timezone)).date()
    ticket = registration.ticket_type
    invoice = issue_numbered(
        session,
        lines=[{"description": f"{event.title}: {ticket.name}", "amount": registration.amount_due}],
        currency=registration.currency,
        tax_label=event.tax_label,
        tax_rate_bp=event.tax_rate_bp,
        due_on=today + timedelta(days=event.payment_due_days),
        buyer={"name": registration.full_name, "email": registration.email},
        reference=registration.payment_reference or "",
        payment_details=payment_details,
        now=now,
        registration_id=registration.id,
    )
    return invoice


def issue_numbered(
    session: Session,
    *,
    lines: list[dict[str, Any]],
    currency: str,
    tax_label: str,
    tax_rate_bp: int,
    due_on: date,
    buyer: dict[str, str],
    reference: str,
    payment_details: str,
    now: datetime,
    registration_id: int | None = None,
) -> Invoice:
    """Number and freeze an invoice in the one series (a booking's, or a membership fee's): the number is
    taken in the caller's transaction, so a rolled-back action gives it back and the series has no gap."""
    gross = sum(int(line["amount"]) for line in lines)
    net, tax = split_tax(gross, tax_rate_bp)
    invoice = Invoice(
        number=next_number(session),
        registration_id=registration_id,
        issued_at=now,
        due_on=due_on,
        currency=currency,
        lines=json.dumps(lines),
        net=net,
        tax=tax,
        total=gross,
        tax_label=tax_label,
        tax_rate_bp=tax_rate_bp,
        seller=json.dumps({**society_snapshot(session), "payment_details": payment_details}),
        buyer=json.dumps(buyer),
        reference=reference,
    )
    session.add(invoice)
    session.flush()
    return invoice


def amount_text(minor: int, currency: str) -> str:
    """Money for documents: `£0.00` rather than the pages' friendlier `Free`."""
    return money(minor, currency) if minor else money(1, currency).replace("0.01", "0.00")


def _rate(rate_bp: int) -> str:
    whole, frac = divmod(rate_bp, 100)
    return f"{whole}%" if frac == 0 else f"{whole}.{frac:02d}".rstrip("0") + "%"


def render_pdf(invoice: Invoice) -> bytes:
    """The invoice as an A4 PDF. It embeds DejaVu Sans where the system has it, so every name prints as
    written ("Zoë Müller-Łukasz"); long lines wrap rather than run off the page."""
    seller: dict[str, Any] = json.loads(invoice.seller)
    buyer: dict[str, Any] = json.loads(invoice.buyer)
    lines: list[dict[str, Any]] = json.loads(invoice.lines)
    pdf = FPDF(format="A4")
    unicode = add_unicode_font(pdf, "Body")
    family = "Body" if unicode else "Helvetica"

    def ok(value: str) -> str:
        return value if unicode else latin1(value)

    pdf.set_title(ok(f"Invoice {invoice.label}"))
    pdf.set_author(ok(seller.get("name", "")))
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    width = pdf.epw

    def text(value: str, *, size: int = 10, style: str = "", height: float = 5.5) -> None:
        # One cell a line (multi_cell's line breaking is slow), wrapped only when a line is too long.
        pdf.set_font(family, style=style, size=size)
        for line in ok(value).splitlines() or [""]:
            if pdf.get_string_width(line) <= width:
                pdf.cell(width, height, line, new_x="LMARGIN", new_y="NEXT")
            else:
                pdf.multi_cell(width, height, line, new_x="LMARGIN", new_y="NEXT")

    def row(label: str, amount: int, *, style: str = "", height: float = 7, align: str = "L") -> None:
        """A description (wrapped when long) with its amount on its first line."""
        pdf.set_font(family, style=style, size=10)
        top = pdf.get_y()
        pdf.multi_cell(width * 0.75, height, ok(label), align=align, new_x="LMARGIN", new_y="NEXT")
        bottom = pdf.get_y()
        pdf.set_xy(pdf.l_margin + width * 0.75, top)
        pdf.cell(width * 0.25, height, ok(amount_text(amount, invoice.currency)), align="R")
        pdf.set_xy(pdf.l_margin, bottom)

    text(seller.get("name", ""), size=16, style="B", height=8)
    if seller.get("address"):
        text(seller["address"])
    if seller.get("charity_number"):
        text(f"Registered charity number {seller['charity_number']}")
    if seller.get("contact_email"):
        text(seller["contact_email"])
    pdf.ln(6)
    text(f"Invoice {invoice.label}", size=14, style="B", height=7)
    issued = invoice.issued_at.astimezone(ZoneInfo("Europe/London")).strftime("%-d %B %Y")
    text(f"Date of issue: {issued}")
    text(f"Payment due by: {invoice.due_on.strftime('%-d %B %Y')}")
    text(f"Payment reference: {invoice.reference}", style="B")
    pdf.ln(4)
    text("Billed to", style="B")
    text(buyer.get("name", ""))
    text(buyer.get("email", ""))
    pdf.ln(6)

    pdf.set_font(family, style="B", size=10)
    pdf.set_fill_color(230, 236, 238)
    pdf.cell(width * 0.75, 8, "Description", border="B", fill=True)
    pdf.cell(width * 0.25, 8, "Amount", border="B", fill=True, align="R", new_x="LMARGIN", new_y="NEXT")
    for line in lines:
        row(str(line["description"]), int(line["amount"]))
    pdf.ln(2)
    totals = [
        ("Net", invoice.net),
        (f"{invoice.tax_label} at {_rate(invoice.tax_rate_bp)}", invoice.tax),
        ("Total", invoice.total),
    ]
    for label, amount in totals:
        row(label, amount, style="B" if label == "Total" else "", height=7, align="R")
    pdf.ln(8)
    if seller.get("payment_details"):
        text("How to pay", style="B")
        text(seller["payment_details"])
        text(f"Please quote the reference {invoice.reference} so we can match your payment.")
    return bytes(pdf.output())


def draw_pdf(session: Session, invoice_id: int, now: datetime) -> bytes | None:
    """The invoice's PDF for the outbox sender, drawn at send time from the frozen invoice row (None when it is
    gone with its booking): the booking's transaction only numbers and stores the invoice."""
    invoice = session.get(Invoice, invoice_id)
    return render_pdf(invoice) if invoice is not None else None


def invoice_filename(invoice: Invoice) -> str:
    return f"invoice-{invoice.label}.pdf"


def invoice_attachments(invoice: Invoice | None) -> list[Attachment]:
    """The invoice as an e-mail's attachment (none without one), drawn as a PDF by the outbox sender."""
    if invoice is None:
        return []
    return [
        Attachment.drawn(invoice_filename(invoice), "application/pdf", source="invoice", source_id=invoice.id)
    ]


def today_in(event: Event, now: datetime) -> date:
    return now.astimezone(ZoneInfo(event.timezone)).date()
