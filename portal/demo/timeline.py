"""The demo's clock: each step runs at its own moment, placed in UK time relative to the demo's present."""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def london(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON).astimezone(UTC)


def london_date(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def next_weekday(day: date, weekday: int) -> date:
    """The first `weekday` (Monday 0) on or after `day`, outside the Christmas and New Year break."""
    day += timedelta(days=(weekday - day.weekday()) % 7)
    while (day.month, day.day) >= (12, 20) or (day.month, day.day) <= (1, 4):
        day += timedelta(days=7)
    return day


class Timeline:
    """Steps that each run at their own moment, earliest first (ties in the order they were added). A step
    may add later steps; nothing is placed after `now`, the demo's present (`portal demo --now`, or the wall
    clock)."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._steps: list[tuple[datetime, int, Callable[[datetime], None]]] = []
        self._order = itertools.count()
        self._clock: datetime | None = None

    def at(self, when: datetime, step: Callable[[datetime], None]) -> None:
        if when > self.now:
            raise ValueError(f"a demo step cannot happen after now ({when.isoformat()})")
        if self._clock is not None and when < self._clock:
            raise ValueError("a step cannot add a step before itself")
        heapq.heappush(self._steps, (when, next(self._order), step))

    def run(self) -> None:
        while self._steps:
            when, _, step = heapq.heappop(self._steps)
            self._clock = when
            step(when)


def spread(
    rng: random.Random, start: datetime, end: datetime, count: int, *, skew: float = 1.0
) -> list[datetime]:
    """`count` moments between `start` and `end`, sorted; skew > 1 crowds them towards the start."""
    span = (end - start).total_seconds()
    return sorted(start + timedelta(seconds=span * rng.random() ** skew) for _ in range(count))
