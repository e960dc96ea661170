"""Live attendance for staff: admitted against expected, by ticket type and by session, arrivals per ten
minutes (drawn as a server-side SVG bar chart), and the latest scans. What counts as admitted, expected,
seated and a conflict is said once, in `rosters.py`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.checkin.models import CheckInScan
from portal.checkin.rosters import admitted, admitted_to_sessions, conflicted, expected, seated
from portal.events.models import Event, Registration, RegistrationWorkshop, TicketType, Workshop

BUCKET = timedelta(minutes=10)
#: The chart shows at most this many ten-minute bars (the latest 12 hours of arrivals).
MAX_BARS = 72


@dataclass(frozen=True)
class Line:
    label: str
    expected: int
    admitted: int

    @property
    def percent(self) -> int:
        return round(100 * self.admitted / self.expected) if self.expected else 0


@dataclass(frozen=True)
class RecentScan:
    at: datetime
    door: str
    result: str
    name: str
    offline: bool


@dataclass(frozen=True)
class Attendance:
    total: Line
    by_ticket: list[Line]
    by_session: list[Line]
    arrivals: list[tuple[datetime, int]]
    results: dict[str, int]
    recent: list[RecentScan]
    conflicts: int


def _bucket(at: datetime) -> datetime:
    return at.replace(minute=at.minute - at.minute % 10, second=0, microsecond=0)


def arrivals_per_bucket(times: list[datetime]) -> list[tuple[datetime, int]]:
    """Admissions counted per ten minutes, with empty intervals kept (a gap in arrivals is information)."""
    if not times:
        return []
    counts = Counter(_bucket(t) for t in times)
    last = max(counts)
    first = max(min(counts), last - BUCKET * (MAX_BARS - 1))
    out = []
    slot = first
    while slot <= last:
        out.append((slot, counts.get(slot, 0)))
        slot += BUCKET
    return out


def attendance(session: Session, *, event: Event, now: datetime) -> Attendance:
    expected_by_ticket = dict(
        session.execute(
            select(TicketType.id, func.count(Registration.id))
            .join(Registration, Registration.ticket_type_id == TicketType.id)
            .where(expected(event.id))
            .group_by(TicketType.id)
        ).all()
    )
    admitted_by_ticket = dict(
        session.execute(
            select(Registration.ticket_type_id, func.count(CheckInScan.id))
            .join(Registration, Registration.id == CheckInScan.registration_id)
            .where(admitted(event.id))
            .group_by(Registration.ticket_type_id)
        ).all()
    )
    tickets = session.execute(
        select(TicketType.id, TicketType.name)
        .where(TicketType.event_id == event.id)
        .order_by(TicketType.position)
    ).all()
    by_ticket = [
        Line(name, expected_by_ticket.get(tid, 0), admitted_by_ticket.get(tid, 0))
        for tid, name in tickets
        if expected_by_ticket.get(tid) or admitted_by_ticket.get(tid)
    ]
    total = Line("Everyone", sum(expected_by_ticket.values()), sum(admitted_by_ticket.values()))

    booked = dict(
        session.execute(
            select(RegistrationWorkshop.workshop_id, func.count())
            .join(Registration, Registration.id == RegistrationWorkshop.registration_id)
            .where(seated(event.id))
            .group_by(RegistrationWorkshop.workshop_id)
        ).all()
    )
    in_session = dict(
        session.execute(
            select(CheckInScan.workshop_id, func.count())
            .where(admitted_to_sessions(event.id))
            .group_by(CheckInScan.workshop_id)
        ).all()
    )
    workshops = session.execute(
        select(Workshop.id, Workshop.title).where(Workshop.event_id == event.id).order_by(Workshop.starts_at)
    ).all()
    by_session = [Line(title, booked.get(wid, 0), in_session.get(wid, 0)) for wid, title in workshops]

    times = list(session.scalars(select(CheckInScan.at).where(admitted(event.id))))
    results = dict(
        session.execute(
            select(CheckInScan.result, func.count())
            .where(CheckInScan.event_id == event.id)
            .group_by(CheckInScan.result)
        ).all()
    )
    recent_rows = session.execute(
        select(
            CheckInScan.at,
            CheckInScan.door,
            CheckInScan.result,
            CheckInScan.offline,
            Registration.first_name,
            Registration.last_name,
        )
        .outerjoin(Registration, Registration.id == CheckInScan.registration_id)
        .where(CheckInScan.event_id == event.id)
        .order_by(CheckInScan.id.desc())
        .limit(10)
    ).all()
    recent = [
        RecentScan(r.at, r.door, r.result, f"{r.first_name or ''} {r.last_name or ''}".strip(), r.offline)
        for r in recent_rows
    ]
    conflicts = session.execute(select(func.count()).where(conflicted(event.id))).scalar_one()
    return Attendance(
        total=total,
        by_ticket=by_ticket,
        by_session=by_session,
        arrivals=arrivals_per_bucket(times),
        results=results,
        recent=recent,
        conflicts=conflicts,
    )


def arrivals_svg(arrivals: list[tuple[datetime, int]], *, tz: str = "Europe/London") -> Markup:
    """A bar per ten minutes, labelled on the hour; a title and description for screen readers, and each
    bar's own count in a <title>. Presentation attributes only (the CSP allows no inline styles)."""
    zone = ZoneInfo(tz)
    width, height, left, bottom, top = 720, 220, 36, 28, 12
    if not arrivals:
        return Markup(
            '<svg class="arrivals" role="img" aria-labelledby="arrivals-title" viewBox="0 0 720 60" '
            'xmlns="http://www.w3.org/2000/svg"><title id="arrivals-title">No arrivals yet</title>'
            '<text x="360" y="35" text-anchor="middle" fill="#56616d" font-size="16">No arrivals yet</text></svg>'
        )
    peak = max(count for _, count in arrivals) or 1
    plot_w, plot_h = width - left - 8, height - top - bottom
    # At least two hours wide, so one busy interval is a bar, not a wall.
    slot = plot_w / max(len(arrivals), 12)
    bar = max(1.0, min(slot * 0.8, 28.0))
    first, last = arrivals[0][0].astimezone(zone), (arrivals[-1][0] + BUCKET).astimezone(zone)
    total = sum(c for _, c in arrivals)
    parts = [
        f'<svg class="arrivals" role="img" aria-labelledby="arrivals-title arrivals-desc" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        '<title id="arrivals-title">Arrivals per 10 minutes</title>',
        f'<desc id="arrivals-desc">{total} arrivals from {first:%H:%M} to {last:%H:%M}; '
        f"the busiest ten minutes had {peak}.</desc>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 8}" y2="{top + plot_h}" stroke="#56616d" />',
    ]
    for tick in sorted({0, peak // 2, peak}):
        y = top + plot_h - plot_h * tick / peak
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#56616d">{tick}</text>'
        )
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}" stroke="#d5dbe1" stroke-width="0.5" />'
        )
    for i, (start, count) in enumerate(arrivals):
        local = start.astimezone(zone)
        x = left + i * slot + (slot - bar) / 2
        h = plot_h * count / peak
        label = escape(f"{local:%H:%M}: {count} arrival{'s' if count != 1 else ''}")
        parts.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="#0b5c6b">'
            f"<title>{label}</title></rect>"
        )
        if local.minute == 0 or i == 0:
            parts.append(
                f'<text x="{left + i * slot:.1f}" y="{height - 8}" font-size="11" fill="#56616d">{local:%H:%M}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - built from numbers and escaped labels above
