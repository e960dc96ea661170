"""The society's own details: one row each (id 1)."""

from __future__ import annotations

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base


class Society(Base):
    """The one society this portal serves (row id 1), named at first-run setup."""

    __tablename__ = "society"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    charity_number: Mapped[str] = mapped_column(String(50), default="")
    #: Companies House: the number and the registered office, printed in the site's footer.
    company_number: Mapped[str] = mapped_column(String(50), default="", server_default="")
    registered_address: Mapped[str] = mapped_column(Text, default="", server_default="")
    phone: Mapped[str] = mapped_column(String(50), default="", server_default="")


#: How bookings and membership fees may be paid: always by invoice, and by card too where chosen.
PAYMENT_PROVIDERS: dict[str, str] = {
    "bank_transfer": "Invoice and bank transfer",
    "card": "Card (Stripe Checkout), or invoice and bank transfer",
}


class PaymentSettings(Base):
    """How delegates pay by bank transfer (one row, id 1): printed on invoices and confirmation e-mails."""

    __tablename__ = "payment_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_name: Mapped[str] = mapped_column(String(200), default="")
    sort_code: Mapped[str] = mapped_column(String(20), default="")
    account_number: Mapped[str] = mapped_column(String(30), default="")
    iban: Mapped[str] = mapped_column(String(40), default="")
    bic: Mapped[str] = mapped_column(String(20), default="")
    #: Anything else to print under "How to pay" (e.g. "Cheques payable to ...").
    notes: Mapped[str] = mapped_column(Text, default="")
    #: How bookings and membership fees are paid unless an event says otherwise: "bank_transfer" or "card"
    #: (card is offered only while the Stripe settings are set; the invoice is always issued).
    provider: Mapped[str] = mapped_column(String(20), default="card", server_default="card")

    def as_text(self) -> str:
        lines = []
        if self.account_name:
            lines.append(f"Account name: {self.account_name}")
        if self.sort_code:
            lines.append(f"Sort code: {self.sort_code}")
        if self.account_number:
            lines.append(f"Account number: {self.account_number}")
        if self.iban:
            lines.append(f"IBAN: {self.iban}")
        if self.bic:
            lines.append(f"BIC: {self.bic}")
        if self.notes:
            lines.append(self.notes)
        return "\n".join(lines)


#: How a membership year runs: a year from the day each member joins, or the society's fixed year.
YEAR_KINDS: dict[str, str] = {"rolling": "A year from the day the member joins", "fixed": "A fixed year"}
#: In a fixed year, what someone joining part-way through pays first.
FIRST_FEES: dict[str, str] = {"full": "The full annual fee", "pro_rata": "A share for the months left"}


class MembershipSettings(Base):
    """The membership year and the versions of the documents applicants accept (one row, id 1)."""

    __tablename__ = "membership_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    year_kind: Mapped[str] = mapped_column(String(20), default="rolling")
    #: The first day of a fixed year (1 April: month 4, day 1).
    year_start_month: Mapped[int] = mapped_column(Integer, default=4)
    year_start_day: Mapped[int] = mapped_column(Integer, default=1)
    first_fee: Mapped[str] = mapped_column(String(20), default="full")
    #: The versions an applicant accepts (recorded with the application): changing one asks new applicants
    #: to accept the new text.
    conduct_version: Mapped[str] = mapped_column(String(40), default="1")
    privacy_version: Mapped[str] = mapped_column(String(40), default="1")
    #: Days after the renewal date during which an unpaid member still counts as a member; lapsed after.
    grace_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    #: Whole years after a member left (resigned, or lapsed by the clock) when their personal data is erased.
    erase_after_years: Mapped[int] = mapped_column(Integer, default=6, server_default="6")
