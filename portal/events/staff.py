"""What the office sees of an event: the bookings list with its filters, counts, the numbers of the sign-ups
chart and the capacity gauges (templates/_charts.html draws them, no JavaScript library), the catering and access
summary, and the CSV export."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

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
    #: The list's order (a key of SORTS) and direction; newest bookings first unless told.
    sort: str = "booked"
    direction: str = "desc"
    page: int = 1

    @classmethod
    def from_query(cls, query: object) -> Filters:
        get = getattr(query, "get", lambda _k, _d=None: _d)

        def number(name: str) -> int | None:
            raw = str(get(name, "") or "")
            return whole_number(raw)

        status = str(get("status", "") or "")
        payment = str(get("payment", "") or "")
        sort = str(get("sort", "") or "")
        sort = sort if sort in SORTS else "booked"
        direction = str(get("dir", "") or "")
        default_direction = "desc" if sort == "booked" else "asc"
        return cls(
            sort=sort,
            direction=direction if direction in ("asc", "desc") else default_direction,
            page=max(1, min(number("page") or 1, 100_000)),
            q=str(get("q", "") or "").strip()[:100],
            ticket=number("ticket"),
            status=status if status in REGISTRATION_STATUSES else "",
            payment=payment if payment in PAYMENT_STATUSES else "",
            workshop=number("workshop"),
            answer=str(get("answer", "") or "")[:300],
        )

    def params(self, **changes: object) -> str:
        """The query string of this list with some values changed (defaults left out)."""
        query = replace(self, **changes)  # type: ignore[arg-type]
        default_direction = "desc" if query.sort == "booked" else "asc"
        pairs = {
            "q": query.q,
            "ticket": str(query.ticket or ""),
            "status": query.status,
            "payment": query.payment,
            "workshop": str(query.workshop or ""),
            "answer": query.answer,
            "sort": "" if query.sort == "booked" else query.sort,
            "dir": "" if query.direction == default_direction else query.direction,
            "page": "" if query.page == 1 else str(query.page),
        }
        return urlencode({k: v for k, v in pairs.items() if v})

    def sorted_by(self, column: str) -> str:
        """The query string a column heading links to: sort by it (newest first for "Booked"), or flip the
        direction when the list is already sorted by it."""
        if self.sort == column:
            direction = "asc" if self.direction == "desc" else "desc"
        else:
            direction = "desc" if column == "booked" else "asc"
        return self.params(sort=column, direction=direction, page=1)


#: The bookings list's orders: the column, then what breaks ties.
SORTS: dict[str, tuple[Any, ...]] = {
    "booked": (Registration.created_at, Registration.id),
    "id": (Registration.id,),
    "name": (func.lower(Registration.last_name), func.lower(Registration.first_name), Registration.id),
    "status": (Registration.status, Registration.created_at, Registration.id),
    "payment": (Registration.payment_status, Registration.created_at, Registration.id),
}
PER_PAGE = 50


@dataclass(frozen=True)
class BookingPage:
    rows: list[Registration]
    total: int
    page: int
    pages: int
    filters: Filters


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


def search_page(
    session: Session, event_id: int, filters: Filters, *, per_page: int = PER_PAGE
) -> BookingPage:
    """One page of the bookings the filters match, in the filters' order (newest first by default)."""
    statement = _filtered(event_id, filters)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(filters.page, pages)
    columns = SORTS[filters.sort]
    order = [c.desc() if filters.direction == "desc" else c.asc() for c in columns]
    rows = session.scalars(
        statement.options(
            selectinload(Registration.ticket_type),
            selectinload(Registration.workshop_places).selectinload(RegistrationWorkshop.workshop),
        )
        .order_by(*order)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return BookingPage(list(rows), total, page, pages, replace(filters, page=page))


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
