"""Where a member stands, computed from the clock: nothing flips a flag when a renewal date passes.

A member whose renewal date has passed is *in grace* for the society's grace period (they still count as a
member) and *lapsed* after it. A lapsed member keeps their login and may renew; they cannot vote and do not
get member prices. The `status` column is what staff set and search (resigned, awaiting the first fee, lapsed
by hand); the decision is always this function's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, literal

from portal.members.models import Member

LONDON = ZoneInfo("Europe/London")
DEFAULT_GRACE_DAYS = 30

STANDINGS: dict[str, str] = {
    "active": "Active",
    "grace": "Renewal due",
    "lapsed": "Lapsed",
    "pending": "Awaiting first fee",
    "resigned": "Resigned",
}


def london_day(now: datetime) -> date:
    return now.astimezone(LONDON).date()


#: Stored statuses that decide on their own, whatever the renewal date says.
DECIDED = ("resigned", "pending", "lapsed")


@dataclass(frozen=True)
class Cutoffs:
    """The one definition of where the clock puts a renewal date on the UK day of `now`: a member whose
    renewal date is on or after `paid_from` is active, on or after `grace_from` in grace, before it lapsed.
    Both `standing` (Python) and `standing_sql` (the list, its filters, counts and export) compare with
    these two dates only, so the two cannot disagree."""

    paid_from: date
    grace_from: date


def cutoffs(now: datetime, *, grace_days: int = DEFAULT_GRACE_DAYS) -> Cutoffs:
    today = london_day(now)
    return Cutoffs(paid_from=today, grace_from=today - timedelta(days=grace_days))


def lapses_on(member: Member, *, grace_days: int = DEFAULT_GRACE_DAYS) -> date | None:
    """The first day the member counts as lapsed if they do not renew (None: no renewal date kept)."""
    if member.renewal_on is None:
        return None
    return member.renewal_on + timedelta(days=grace_days + 1)


def grace_ends(member: Member, *, grace_days: int = DEFAULT_GRACE_DAYS) -> date | None:
    """The last day of the grace period (None: no renewal date kept)."""
    if member.renewal_on is None:
        return None
    return member.renewal_on + timedelta(days=grace_days)


def standing(member: Member, now: datetime, *, grace_days: int = DEFAULT_GRACE_DAYS) -> str:
    """active, grace, lapsed, pending or resigned, on the UK day of `now`. The renewal date is the last day
    paid for; the grace period's days follow it."""
    if member.erased_at is not None:
        return "resigned"
    if member.status in DECIDED:
        return member.status
    if member.renewal_on is None:
        return "active"
    limits = cutoffs(now, grace_days=grace_days)
    if member.renewal_on >= limits.paid_from:
        return "active"
    if member.renewal_on >= limits.grace_from:
        return "grace"
    return "lapsed"


def standing_sql(now: datetime, *, grace_days: int = DEFAULT_GRACE_DAYS) -> Any:
    """`standing` as one SQL expression over `members`, for filtering, sorting, counting and exporting in the
    same query: the same branches in the same order, against the same cut-off dates (bound as parameters,
    so the database's own clock and time zone play no part)."""
    limits = cutoffs(now, grace_days=grace_days)
    return case(
        (Member.erased_at.is_not(None), literal("resigned")),
        (Member.status.in_(DECIDED), Member.status),
        (Member.renewal_on.is_(None), literal("active")),
        (Member.renewal_on >= limits.paid_from, literal("active")),
        (Member.renewal_on >= limits.grace_from, literal("grace")),
        else_=literal("lapsed"),
    )


def counts_as_member(member: Member, now: datetime, *, grace_days: int = DEFAULT_GRACE_DAYS) -> bool:
    """Member prices and member-only tickets: active, or within the grace period."""
    return standing(member, now, grace_days=grace_days) in ("active", "grace")
