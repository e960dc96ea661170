"""Where a member stands, computed from the clock: nothing flips a flag when a renewal date passes.

A member whose renewal date has passed is *in grace* for the society's grace period (they still count as a
member) and *lapsed* after it. A lapsed member keeps their login and may renew; they cannot vote and do not
get member prices. The `status` column is what staff set and search (resigned, awaiting the first fee, lapsed
by hand); the decision is always this function's.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

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


def lapses_on(member: Member, *, grace_days: int = DEFAULT_GRACE_DAYS) -> date | None:
    """The first day the member counts as lapsed if they do not renew (None: no renewal date kept)."""
    if member.renewal_on is None:
        return None
    return member.renewal_on + timedelta(days=grace_days + 1)


def standing(member: Member, now: datetime, *, grace_days: int = DEFAULT_GRACE_DAYS) -> str:
    """active, grace, lapsed, pending or resigned, on the UK day of `now`. The renewal date is the last day
    paid for; the grace period's days follow it."""
    if member.status in ("resigned", "pending", "lapsed") or member.erased_at is not None:
        return "resigned" if member.erased_at is not None else member.status
    if member.renewal_on is None:
        return "active"
    today = london_day(now)
    if today <= member.renewal_on:
        return "active"
    if today < member.renewal_on + timedelta(days=grace_days + 1):
        return "grace"
    return "lapsed"


def counts_as_member(member: Member, now: datetime, *, grace_days: int = DEFAULT_GRACE_DAYS) -> bool:
    """Member prices and member-only tickets: active, or within the grace period."""
    return standing(member, now, grace_days=grace_days) in ("active", "grace")
