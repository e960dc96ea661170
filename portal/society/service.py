"""Reading and changing the society's details (what invoices, e-mails and the site print)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from portal import audit
from portal.errors import Conflict, Invalid
from portal.society.errors import Code
from portal.society.models import FIRST_FEES, YEAR_KINDS, MembershipSettings, PaymentSettings, Society
from portal.text import DEFAULT_SOCIETY_NAME

SOCIETY_FIELDS = (
    "name",
    "address",
    "charity_number",
    "contact_email",
    "phone",
    "company_number",
    "registered_address",
)
BANK_FIELDS = ("account_name", "sort_code", "account_number", "iban", "bic", "notes", "provider")


#: Where a session holds the society's rows once read: the identity map keeps an unchanged row only while
#: something refers to it, so one booking's invoice, then its e-mail, then its page would each read it again.
_HELD = "portal_society_rows"


def _held(session: Session, model: type[Society] | type[PaymentSettings]) -> Any:
    """The one row of `model` (id 1), read once per session and held; a missing row is looked for again (the
    first-run setup or the office may add it later in the same session)."""
    held: dict[type, Any] = session.info.setdefault(_HELD, {})
    row = held.get(model)
    if row is None:
        row = held[model] = session.get(model, 1)
    return row


def society(session: Session) -> Society | None:
    """The society's details: None until first-run setup has made them."""
    found: Society | None = _held(session, Society)
    return found


def is_set_up(session: Session) -> bool:
    return society(session) is not None


def society_name(session: Session) -> str:
    """The society's name, as its e-mails and documents print it."""
    found = society(session)
    return found.name if found else DEFAULT_SOCIETY_NAME


def payment_settings(session: Session) -> PaymentSettings:
    """The bank details (an empty, unsaved row until the office fills them in)."""
    found: PaymentSettings | None = _held(session, PaymentSettings)
    return found or PaymentSettings(id=1)


def save_details(
    session: Session, *, values: Mapping[str, str], actor: audit.Actor | None, now: datetime
) -> None:
    """The society's name, address, charity number and contact, and the bank details invoices print. A field
    `values` does not name is kept as it is."""
    found = society(session)
    if found is None:
        raise Conflict(Code.NOT_SET_UP, "The portal is not set up yet.")
    settings = _held(session, PaymentSettings)
    if settings is None:
        settings = session.info[_HELD][PaymentSettings] = PaymentSettings(id=1)
        session.add(settings)
    changed = {}
    for name in SOCIETY_FIELDS:
        if name in values and getattr(found, name) != values[name]:
            changed[name] = values[name]
            setattr(found, name, values[name])
    for name in BANK_FIELDS:
        if name in values and getattr(settings, name, "") != values[name]:
            changed[name] = values[name]
            setattr(settings, name, values[name])
    session.flush()
    if changed:
        audit.record(
            session, actor=actor, action="society.details", subject="society", details=changed, now=now
        )


# --- the membership year ------------------------------------------------------------------------------------

MEMBERSHIP_FIELDS = (
    "year_kind",
    "year_start_month",
    "year_start_day",
    "first_fee",
    "conduct_version",
    "privacy_version",
    "grace_days",
    "erase_after_years",
)
#: The longest grace period after a renewal date, in days.
MAX_GRACE_DAYS = 365
#: The years after leaving within which a former member's personal data is erased (at least 1, at most 50).
MIN_ERASE_YEARS, MAX_ERASE_YEARS = 1, 50


def membership_settings(session: Session) -> MembershipSettings:
    """How the membership year runs (the defaults, unsaved, until the office saves them)."""
    found = session.get(MembershipSettings, 1)
    return found or MembershipSettings(
        id=1,
        year_kind="rolling",
        year_start_month=4,
        year_start_day=1,
        first_fee="full",
        conduct_version="1",
        privacy_version="1",
        grace_days=30,
        erase_after_years=6,
    )


def save_membership_settings(
    session: Session, *, values: Mapping[str, Any], actor: audit.Actor | None, now: datetime
) -> MembershipSettings:
    """Save the membership year (checked again here: a fixed year starts on a day every year has)."""
    if values.get("year_kind") not in YEAR_KINDS or values.get("first_fee") not in FIRST_FEES:
        raise Invalid(Code.BAD_VALUE, "Choose how the membership year runs.", field="year_kind")
    month, day = values.get("year_start_month"), values.get("year_start_day")
    if not isinstance(month, int) or not 1 <= month <= 12:
        raise Invalid(Code.BAD_VALUE, "Choose the month the year starts.", field="year_start_month")
    if not isinstance(day, int) or not 1 <= day <= DAYS_IN_MONTH[month - 1]:
        raise Invalid(
            Code.BAD_VALUE,
            f"Enter a day from 1 to {DAYS_IN_MONTH[month - 1]} (a day every year has).",
            field="year_start_day",
        )
    grace = values.get("grace_days", 0)
    if not isinstance(grace, int) or not 0 <= grace <= MAX_GRACE_DAYS:
        raise Invalid(
            Code.BAD_VALUE, f"Enter the grace period as 0 to {MAX_GRACE_DAYS} days.", field="grace_days"
        )
    years = values.get("erase_after_years", 6)
    if not isinstance(years, int) or not MIN_ERASE_YEARS <= years <= MAX_ERASE_YEARS:
        raise Invalid(
            Code.BAD_VALUE,
            f"Enter the years after leaving as {MIN_ERASE_YEARS} to {MAX_ERASE_YEARS}.",
            field="erase_after_years",
        )
    found = session.get(MembershipSettings, 1)
    if found is None:
        found = membership_settings(session)
        session.add(found)
    changed = {}
    for name in MEMBERSHIP_FIELDS:
        if name in values and getattr(found, name) != values[name]:
            changed[name] = values[name]
            setattr(found, name, values[name])
    session.flush()
    if changed:
        audit.record(
            session,
            actor=actor,
            action="society.membership_year",
            subject="society",
            details=changed,
            now=now,
        )
    return found


#: The days of each month in every year (February's 29th is not in every year, so a year cannot start on it).
DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
