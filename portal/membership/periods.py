"""The membership year: when a new member's first year ends, and what they pay for it.

A rolling year runs from the day a member joins to the same day a year later. A fixed year starts on the
same day every year (1 April); someone joining part-way through pays the full fee or, as the society sets,
the share of it for the days left (rounded half up to a penny), and renews at the next start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from portal.society.models import MembershipSettings


@dataclass(frozen=True)
class FirstYear:
    joined_on: date
    renewal_on: date
    fee: int


def _anniversary(day: date) -> date:
    """The same day a year later; 29 February's is 28 February."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def next_start(settings: MembershipSettings, after: date) -> date:
    """The first start of a fixed year after the day `after`."""
    start = date(after.year, settings.year_start_month, settings.year_start_day)
    return start if start > after else start.replace(year=after.year + 1)


def first_year(settings: MembershipSettings, *, annual_fee: int, joined_on: date) -> FirstYear:
    if settings.year_kind != "fixed":
        return FirstYear(joined_on, _anniversary(joined_on), annual_fee)
    renewal_on = next_start(settings, joined_on)
    if settings.first_fee != "pro_rata":
        return FirstYear(joined_on, renewal_on, annual_fee)
    year_days = (renewal_on - renewal_on.replace(year=renewal_on.year - 1)).days
    left = (renewal_on - joined_on).days
    return FirstYear(joined_on, renewal_on, (annual_fee * left * 2 + year_days) // (2 * year_days))
