"""The membership certificate: an A4 page in the invoices' look (the same embedded DejaVu Sans, so every name
prints as written), saying who is a member, in which category, with which number, until when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fpdf import FPDF

from portal.web.fonts import add_unicode_font, latin1


@dataclass(frozen=True)
class Certificate:
    society: str
    charity_number: str
    name: str
    membership_number: str
    category: str
    joined_on: date | None
    valid_to: date | None
    issued_on: date


def render_pdf(certificate: Certificate) -> bytes:
    pdf = FPDF(format="A4")
    unicode = add_unicode_font(pdf, "Body")
    family = "Body" if unicode else "Helvetica"

    def ok(value: str) -> str:
        return value if unicode else latin1(value)

    pdf.set_title(ok(f"Membership certificate {certificate.membership_number}"))
    pdf.set_author(ok(certificate.society))
    pdf.add_page()
    width = pdf.epw

    def line(value: str, *, size: int = 12, style: str = "", height: float = 8) -> None:
        pdf.set_font(family, style=style, size=size)
        pdf.multi_cell(width, height, ok(value), align="C", new_x="LMARGIN", new_y="NEXT")

    pdf.set_draw_color(30, 90, 110)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    pdf.set_y(45)
    line(certificate.society, size=22, style="B", height=12)
    if certificate.charity_number:
        line(f"Registered charity number {certificate.charity_number}", size=10, height=6)
    pdf.ln(18)
    line("Certificate of membership", size=18, style="B", height=10)
    pdf.ln(12)
    line("This is to certify that", size=12)
    pdf.ln(4)
    line(certificate.name, size=20, style="B", height=12)
    pdf.ln(4)
    line(f"is a member of {certificate.society}", size=12)
    line(f"in the category {certificate.category}", size=12)
    pdf.ln(10)
    line(f"Membership number {certificate.membership_number}", size=12, style="B")
    if certificate.joined_on:
        line(f"Member since {certificate.joined_on.strftime('%-d %B %Y')}", size=11)
    if certificate.valid_to:
        line(f"Valid until {certificate.valid_to.strftime('%-d %B %Y')}", size=11)
    pdf.set_y(-45)
    line(f"Issued {certificate.issued_on.strftime('%-d %B %Y')}", size=9, height=5)
    return bytes(pdf.output())
