"""What the office sees of an event: the bookings list with its filters, counts, the sign-ups chart (SVG
drawn here, no JavaScript library), the catering and access summary, and the CSV export."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from portal.events.models import (
    PAYMENT_STATUSES,
    REGISTRATION_STATUSES,
    Answer,
    Event,
    Question,
    Registration,
    RegistrationWorkshop,
    TicketType,
    Workshop,
)
from portal.text import csv_safe
from portal.web.forms import whole_number


@dataclass(frozen=True)
class Filters:
    q: str = ""
    ticket: int | None = None
    status: str = ""
    payment: str = ""
    workshop: int | None = None
    #: "<question id>:<answer>" — bookings that gave this answer.
    answer: str = ""

    @classmethod
    def from_query(cls, query: object) -> Filters:
        get = getattr(query, "get", lambda _k, _d=None: _d)

        def number(name: str) -> int | None:
            raw = str(get(name, "") or "")
            return whole_number(raw)

        status = str(get("status", "") or "")
        payment = str(get("payment", "") or "")
        return cls(
            q=str(get("q", "") or "").strip()[:100],
            ticket=number("ticket"),
            status=status if status in REGISTRATION_STATUSES else "",
            payment=payment if payment in PAYMENT_STATUSES else "",
            workshop=number("workshop"),
            answer=str(get("answer", "") or "")[:300],
        )


def _filtered(event_id: int, filters: Filters) -> Select[Registration]:
    query = select(Registration).where(Registration.event_id == event_id)
    if filters.q:
        like = f"%{filters.q.lower()}%"
        query = query.where(
            or_(
                func.lower(Registration.first_name + " " + Registration.last_name).like(like),
                func.lower(Registration.email).like(like),
                func.lower(func.coalesce(Registration.payment_reference, "")).like(like),
            )
        )
    if filters.ticket:
        query = query.where(Registration.ticket_type_id == filters.ticket)
    if filters.status:
        query = query.where(Registration.status == filters.status)
    if filters.payment:
        query = query.where(
            Registration.payment_status == filters.payment, Registration.status == "confirmed"
        )
    if filters.workshop:
        query = query.where(
            Registration.id.in_(
                select(RegistrationWorkshop.registration_id).where(
                    RegistrationWorkshop.workshop_id == filters.workshop
                )
            )
        )
    question_id, _, value = filters.answer.partition(":")
    if whole_number(question_id) is not None and value:
        answered = select(Answer.registration_id).where(Answer.question_id == whole_number(question_id))
        # Multiple-choice answers hold one option a line: match a whole line.
        answered = answered.where(
            or_(
                Answer.value == value,
                Answer.value.startswith(f"{value}\n", autoescape=True),
                Answer.value.endswith(f"\n{value}", autoescape=True),
                Answer.value.contains(f"\n{value}\n", autoescape=True),
            )
        )
        query = query.where(Registration.id.in_(answered))
    return query


def search(session: Session, event_id: int, filters: Filters) -> list[Registration]:
    return list(
        session.scalars(
            _filtered(event_id, filters)
            .options(
                selectinload(Registration.ticket_type),
                selectinload(Registration.answers),
                selectinload(Registration.workshop_places).selectinload(RegistrationWorkshop.workshop),
            )
            .order_by(Registration.id)
        )
    )


def counts(session: Session, event_id: int) -> dict[str, int]:
    rows = session.execute(
        select(Registration.status, func.count())
        .where(Registration.event_id == event_id)
        .group_by(Registration.status)
    ).all()
    out = dict.fromkeys(REGISTRATION_STATUSES, 0)
    out.update({status: int(n) for status, n in rows})
    unpaid = session.scalar(
        select(func.count()).where(
            Registration.event_id == event_id,
            Registration.status == "confirmed",
            Registration.payment_status == "unpaid",
            Registration.amount_due > 0,
        )
    )
    out["unpaid"] = int(unpaid or 0)
    return out


@dataclass(frozen=True)
class Gauge:
    label: str
    taken: int
    limit: int | None

    @property
    def percent(self) -> int:
        if not self.limit:
            return 0 if self.limit is None else 100
        return min(100, round(100 * self.taken / self.limit))

    @property
    def text(self) -> str:
        if self.limit is None:
            return f"{self.taken} booked (no limit)"
        return f"{self.taken} of {self.limit} places taken"


def gauges(event: Event) -> list[Gauge]:
    out = [Gauge("Event", event.places_taken, event.capacity)]
    out += [Gauge(f"Ticket: {t.name}", t.taken, t.quota) for t in event.ticket_types]
    out += [Gauge(f"Workshop: {w.title}", w.taken, w.capacity) for w in event.workshops]
    return out


def gauge_svg(gauge: Gauge) -> Markup:
    """A bar drawn with SVG attributes (the Content-Security-Policy forbids inline styles)."""
    return Markup(
        '<svg class="bar" viewBox="0 0 100 8" preserveAspectRatio="none" role="img" aria-label="{label}">'
        '<rect width="100" height="8" rx="4" class="bar-track"></rect>'
        '<rect width="{p}" height="8" rx="4" class="bar-fill{full}"></rect></svg>'
    ).format(label=gauge.text, p=gauge.percent, full=" full" if gauge.percent >= 100 else "")


def signups_by_day(session: Session, event: Event, *, now: datetime) -> list[tuple[date, int]]:
    """Cumulative bookings (every registration ever made, whatever became of it) per day, up to today."""
    zone = ZoneInfo(event.timezone)
    made = session.scalars(
        select(Registration.created_at)
        .where(Registration.event_id == event.id)
        .order_by(Registration.created_at)
    ).all()
    if not made:
        return []
    per_day = Counter(m.astimezone(zone).date() for m in made)
    first = min(per_day)
    last = max(max(per_day), min(now.astimezone(zone).date(), event.starts_at.astimezone(zone).date()))
    out, total, day = [], 0, first
    while day <= last:
        total += per_day.get(day, 0)
        out.append((day, total))
        day += timedelta(days=1)
    return out


def signups_chart(series: list[tuple[date, int]]) -> Markup:
    """A line chart of cumulative sign-ups, with a title and a description for screen readers."""
    if not series:
        return Markup('<p class="hint">No bookings yet.</p>')
    width, height, pad_left, pad_bottom, pad_top = 600, 220, 44, 28, 12
    top = max(n for _, n in series) or 1
    span = max(len(series) - 1, 1)

    def x(i: int) -> float:
        return pad_left + (width - pad_left - 10) * i / span

    def y(n: int) -> float:
        return pad_top + (height - pad_top - pad_bottom) * (1 - n / top)

    points = " ".join(f"{x(i):.1f},{y(n):.1f}" for i, (_, n) in enumerate(series))
    first, last = series[0], series[-1]
    desc = f"From {first[0]:%-d %b %Y} to {last[0]:%-d %b %Y}, bookings rose to {last[1]}."
    area = f"{x(0):.1f},{y(0):.1f} {points} {x(len(series) - 1):.1f},{y(0):.1f}"
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="chart-title chart-desc">',
        '<title id="chart-title">Sign-ups over time</title>',
        f'<desc id="chart-desc">{escape(desc)}</desc>',
        f'<line x1="{pad_left}" y1="{y(0):.1f}" x2="{width - 10}" y2="{y(0):.1f}" class="axis"></line>',
        f'<line x1="{pad_left}" y1="{pad_top}" x2="{pad_left}" y2="{y(0):.1f}" class="axis"></line>',
        f'<text x="{pad_left - 6}" y="{y(top) + 4:.1f}" text-anchor="end" class="tick">{top}</text>',
        f'<text x="{pad_left - 6}" y="{y(0) + 4:.1f}" text-anchor="end" class="tick">0</text>',
        f'<text x="{pad_left}" y="{height - 8}" class="tick">{first[0]:%-d %b}</text>',
        f'<text x="{width - 10}" y="{height - 8}" text-anchor="end" class="tick">{last[0]:%-d %b}</text>',
        f'<polygon points="{area}" class="chart-area"></polygon>',
        f'<polyline points="{points}" class="chart-line"></polyline>',
        "</svg>",
    ]
    return Markup("".join(parts))  # noqa: S704 - built from numbers, dates and an escaped description


@dataclass(frozen=True)
class QuestionSummary:
    question: Question
    counts: list[tuple[str, int]]
    #: Free-text answers, with who gave them (the caterer needs names for allergies).
    texts: list[tuple[str, str]]


def needs_summary(session: Session, event: Event) -> list[QuestionSummary]:
    """Answers to the dietary and access questions from everyone holding a place."""
    out = []
    for question in event.questions:
        if question.purpose not in ("dietary", "access"):
            continue
        rows = session.execute(
            select(Answer.value, Registration.first_name, Registration.last_name)
            .join(Registration, Registration.id == Answer.registration_id)
            .where(Answer.question_id == question.id, Registration.status.in_(("confirmed", "offered")))
            .order_by(Registration.last_name, Registration.first_name)
        ).all()
        if question.kind in ("single_choice", "multiple_choice", "yes_no"):
            tally: Counter[str] = Counter()
            for value, _first, _last in rows:
                tally.update(v for v in value.splitlines() if v)
            counts = [(option, tally.get(option, 0)) for option in question.option_list]
            out.append(QuestionSummary(question, counts, []))
        else:
            texts = [(f"{first} {last}", value) for value, first, last in rows if value.strip()]
            out.append(QuestionSummary(question, [], texts))
    return out


def export_csv(session: Session, event: Event) -> str:
    registrations = search(session, event.id, Filters())
    questions = list(event.questions)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "Booking",
            "Status",
            "First name",
            "Last name",
            "E-mail",
            "Member",
            "Ticket",
            "Workshops",
            "Amount due",
            "Amount paid",
            "Payment",
            "Reference",
            "Booked at",
            *[q.label for q in questions],
        ]
    )
    for r in registrations:
        answers = {a.question_id: a.value.replace("\n", "; ") for a in r.answers}
        writer.writerow(
            [
                csv_safe(x)
                for x in [
                    r.id,
                    r.status,
                    r.first_name,
                    r.last_name,
                    r.email,
                    "yes" if r.member_id else "no",
                    r.ticket_type.name,
                    "; ".join(
                        p.workshop.title
                        + ("" if p.status in ("confirmed", "cancelled") else f" ({p.status})")
                        for p in r.workshop_places
                        if p.status != "cancelled" or r.status == "cancelled"
                    ),
                    f"{r.amount_due / 100:.2f}",
                    f"{r.amount_paid / 100:.2f}",
                    r.payment_status,
                    r.payment_reference or "",
                    r.created_at.isoformat(timespec="seconds"),
                    *[answers.get(q.id, "") for q in questions],
                ]
            ]
        )
    return buffer.getvalue()


def answer_options(event: Event) -> list[tuple[Question, list[str]]]:
    """The filterable answers: every option of each choice question."""
    return [
        (q, q.option_list)
        for q in event.questions
        if q.kind in ("single_choice", "multiple_choice", "yes_no")
    ]


def tickets_of(session: Session, event_id: int) -> list[TicketType]:
    return list(
        session.scalars(
            select(TicketType).where(TicketType.event_id == event_id).order_by(TicketType.position)
        )
    )


def workshops_of(session: Session, event_id: int) -> list[Workshop]:
    return list(
        session.scalars(select(Workshop).where(Workshop.event_id == event_id).order_by(Workshop.starts_at))
    )
