"""UK working days (England and Wales): weekends and bank holidays are not working days.

The bank holidays are a table (gov.uk's list for 2026 to 2028, substitute days included); a year past the table
counts weekends only, so keep the table ahead of the calendar.
"""

from __future__ import annotations

from datetime import date, timedelta

BANK_HOLIDAYS: frozenset[date] = frozenset(
    date.fromisoformat(day)
    for day in (
        # 2026
        "2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31",
        "2026-12-25", "2026-12-28",
        # 2027
        "2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03", "2027-05-31", "2027-08-30",
        "2027-12-27", "2027-12-28",
        # 2028
        "2028-01-03", "2028-04-14", "2028-04-17", "2028-05-01", "2028-05-29", "2028-08-28",
        "2028-12-25", "2028-12-26",
    )
)  # fmt: skip


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in BANK_HOLIDAYS


def add_working_days(start: date, days: int) -> date:
    """The `days`-th working day after `start` (a complaint received on a Friday, 5 days: the next Friday;
    received on a Saturday, day 1 is the Monday, unless that is a bank holiday)."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when `end` is not after `start`)."""
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count
