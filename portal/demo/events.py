"""Events and bookings: the office sets up the ISIPT conference and the National Meeting (tickets,
workshops, questions), and people book them through the booking rules, pay, cancel, wait and take up offers."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.demo.base import DemoBase
from portal.demo.people import DIETS, INTERNATIONAL, DemoMember, Person
from portal.demo.society import SOCIETY
from portal.demo.timeline import london, london_date, next_weekday, spread
from portal.events import bulk, catalogue, changes, payments, sales, waitlist
from portal.events.models import Event, Registration, TicketType, Workshop
from portal.web.tokens import new_token


@dataclass
class Booker:
    """Someone who will try to book: who, when, what they want, and whether (and when) they pay."""

    person: Person
    email: str
    at: datetime
    ticket: str
    member: DemoMember | None = None
    #: Per time slot: the workshops in order of preference (the second is the fallback when the first is full).
    slots: list[tuple[str, ...]] = field(default_factory=list)
    #: Joins the waitlist rather than change their choice when something they want is full.
    stays_if_full: bool = False
    affiliation: str = ""
    pays_after: timedelta | None = None
    method: str = "bank_transfer"
    registration_id: int | None = None


@dataclass
class DemoEvent:
    event: Event
    tickets: dict[str, int]
    workshops: dict[str, int]
    questions: dict[str, int]


CONFERENCE_WORKSHOPS = (
    # (day, start, end, title, capacity)
    (0, (14, 0), (15, 30), "IPT for adolescents (IPT-A)", 30),
    (0, (14, 0), (15, 30), "Interpersonal counselling (IPC) in primary care", 40),
    (1, (9, 30), (11, 0), "Group IPT", 24),
    (1, (9, 30), (11, 0), "Supervision in IPT: skills and dilemmas", 20),
    (1, (13, 30), (15, 0), "IPT for perinatal depression", 60),
)
CONFERENCE_SLOTS = (
    ("IPT for adolescents (IPT-A)", "Interpersonal counselling (IPC) in primary care"),
    ("Supervision in IPT: skills and dilemmas", "Group IPT"),
    ("IPT for perinatal depression",),
)


def dietary(label: str, *, required: bool = False, position: int = 0) -> tuple[str, catalogue.QuestionData]:
    """Every demo event asks about diets, from the same list."""
    question = catalogue.QuestionData(
        label,
        kind="single_choice",
        options="\n".join(DIETS),
        required=required,
        purpose="dietary",
        position=position,
    )
    return ("dietary", question)


class EventSteps(DemoBase):
    def __init__(self, session: Session, **options: Any) -> None:
        super().__init__(session, **options)
        self.events: dict[str, DemoEvent] = {}
        #: Each event's would-be bookers, in the order they try.
        self.bookers: dict[str, list[Booker]] = {}

    # --- steps: the office sets an event up ---

    def create_event(self, name: str, data: catalogue.EventData, t: datetime) -> None:
        event = catalogue.create_event(self.s, data=data, actor=self.staff["office"], now=t)
        self.events[name] = DemoEvent(event, {}, {}, {})

    def add_ticket(self, name: str, data: catalogue.TicketData, t: datetime) -> None:
        self.events[name].tickets[data.name] = self.save_item(catalogue.save_ticket, name, data, t)

    def add_workshop(self, name: str, data: catalogue.WorkshopData, t: datetime) -> None:
        self.events[name].workshops[data.title] = self.save_item(catalogue.save_workshop, name, data, t)

    def save_item(self, save: Callable[..., Any], name: str, data: Any, t: datetime) -> int:
        """The office adds a ticket type or a workshop to the event (the services' save_ticket, save_workshop)."""
        item = save(
            self.s,
            event_id=self.events[name].event.id,
            data=data,
            actor=self.staff["office"],
            now=t,
            links=self.event_links,
        )
        return int(item.id)

    def add_question(self, name: str, purpose: str, data: catalogue.QuestionData, t: datetime) -> None:
        demo_event = self.events[name]
        question = catalogue.save_question(
            self.s, event_id=demo_event.event.id, data=data, actor=self.staff["office"], now=t
        )
        demo_event.questions[purpose] = question.id

    def set_up_event(
        self,
        name: str,
        t: datetime,
        data: catalogue.EventData,
        tickets: Sequence[catalogue.TicketData],
        questions: Sequence[tuple[str, catalogue.QuestionData]],
        workshops: Sequence[catalogue.WorkshopData] = (),
    ) -> None:
        self.at(t, self.create_event, name, data)
        step = itertools.count(1)
        for ticket in tickets:
            self.at(t + timedelta(minutes=5 * next(step)), self.add_ticket, name, ticket)
        for workshop in workshops:
            self.at(t + timedelta(minutes=5 * next(step)), self.add_workshop, name, workshop)
        for purpose, question in questions:
            self.at(t + timedelta(minutes=5 * next(step)), self.add_question, name, purpose, question)

    # --- steps: booking, paying, cancelling, waiting ---

    def answers(self, name: str, booker: Booker) -> dict[int, str]:
        questions = self.events[name].questions
        values = {
            "dietary": self.people.diet(),
            "access": self.people.access(),
            "badge": booker.affiliation,
            "pronouns": self.people.pronouns(booker.person),
        }
        return {questions[k]: v for k, v in values.items() if k in questions and v}

    def book(self, name: str, booker: Booker, t: datetime) -> None:
        demo_event = self.events[name]
        ticket_id = demo_event.tickets[booker.ticket]
        ticket = self.s.execute(
            select(TicketType.quota, TicketType.taken).where(TicketType.id == ticket_id)
        ).one()
        if ticket.quota is not None and ticket.taken >= ticket.quota and not booker.stays_if_full:
            return  # sold out: they do not book after all
        chosen = []
        for preferences in booker.slots:
            free = [w for w in preferences if self.workshop_free(demo_event.workshops[w])]
            if booker.stays_if_full or preferences[0] in free:
                chosen.append(preferences[0])
            elif free:
                chosen.append(free[0])
        booking = sales.Booking(
            ticket_type_id=ticket_id,
            first_name=booker.person.first_name,
            last_name=booker.person.last_name,
            email=booker.email,
            workshop_ids=tuple(demo_event.workshops[w] for w in chosen),
            answers=self.answers(name, booker),
            student_declared=booker.ticket == "Student",
        )
        result = sales.book(
            self.s,
            event_id=demo_event.event.id,
            booking=booking,
            form_key=new_token(),
            member_id=booker.member.id if booker.member else None,
            account_id=booker.member.account_id if booker.member else None,
            now=t,
            links=self.event_links,
        )
        booker.registration_id = result.registration.id
        self.after_confirmation(booker, result.registration, t)

    def workshop_free(self, workshop_id: int) -> bool:
        row = self.s.execute(
            select(Workshop.capacity, Workshop.taken).where(Workshop.id == workshop_id)
        ).one()
        return row.capacity is None or row.taken < row.capacity

    def after_confirmation(self, booker: Booker, registration: Registration, t: datetime) -> None:
        """A confirmed booking with money owed is paid later, by those who pay (and not after now)."""
        if registration.status != "confirmed" or registration.amount_due <= 0 or booker.pays_after is None:
            return
        paid_at = t + booker.pays_after
        if paid_at < self.now - timedelta(hours=1):
            self.at(paid_at, self.pay, booker)

    def registration(self, booker: Booker) -> Registration | None:
        if booker.registration_id is None:
            return None
        registration = self.s.get(Registration, booker.registration_id)
        assert registration is not None
        self.s.refresh(registration)
        return registration

    def pay(self, booker: Booker, t: datetime) -> None:
        registration = self.registration(booker)
        if (
            registration is None
            or registration.status != "confirmed"
            or registration.payment_status != "unpaid"
        ):
            return
        payments.record_payment(
            self.s,
            registration_id=registration.id,
            amount=registration.amount_due - registration.amount_paid,
            method=booker.method,
            received_on=london_date(t),
            actor=self.staff["office"],
            now=t,
        )

    def cancel(self, name: str, booker: Booker, t: datetime) -> None:
        """The delegate gives their place back (or leaves the waitlist); a paid place is refunded."""
        registration = self.registration(booker)
        if registration is None or registration.status == "cancelled":
            return
        was_paid = registration.amount_paid > 0
        changes.cancel_by_delegate(self.s, registration=registration, now=t, links=self.event_links)
        if was_paid and t + timedelta(days=2) < self.now:
            self.at(t + timedelta(days=2), self.refund, booker)
        self.follow_offers(name, t)

    def refund(self, booker: Booker, t: datetime) -> None:
        registration = self.registration(booker)
        assert registration is not None
        payments.record_payment(
            self.s,
            registration_id=registration.id,
            amount=registration.amount_paid,
            method="bank_transfer",
            received_on=london_date(t),
            kind="refund",
            note="Cancelled before the cut-off: refunded in full.",
            actor=self.staff["office"],
            now=t,
        )

    def follow_offers(self, name: str, t: datetime) -> None:
        """People just offered a place: most take it up within a day or so (if that is already past)."""
        for booker in self.offered_at(name, t):
            accept_at = t + timedelta(hours=self.rng.uniform(3, 40))
            recent = t > self.now - timedelta(hours=48)
            if accept_at < self.now - timedelta(hours=1) and self.rng.random() < (0.25 if recent else 0.75):
                self.at(accept_at, self.accept, name, booker)

    def offered_at(self, name: str, t: datetime) -> list[Booker]:
        """Those offered a place at `t` (by a cancellation then), in the order the offers were made."""
        by_id = {b.registration_id: b for b in self.bookers[name]}
        offered = self.s.scalars(
            select(Registration.id).where(
                Registration.event_id == self.events[name].event.id,
                Registration.status == "offered",
                Registration.offered_at == t,
            )
        )
        return [by_id[registration_id] for registration_id in offered]

    def accept(self, name: str, booker: Booker, t: datetime) -> None:
        registration = self.registration(booker)
        if registration is None or not waitlist.offer_is_live(registration, t):
            return
        changes.accept_offer(self.s, registration=registration, now=t, links=self.event_links)
        self.after_confirmation(booker, registration, t)

    def cancel_holder(self, name: str, t: datetime) -> None:
        """Someone holding a student place, which others wait for, gives it back: the next student waiting
        is offered it."""
        demo_event = self.events[name]
        ids = set(
            self.s.scalars(
                select(Registration.id).where(
                    Registration.event_id == demo_event.event.id,
                    Registration.status == "confirmed",
                    Registration.ticket_type_id == demo_event.tickets["Student"],
                )
            )
        )
        holders = [b for b in self.bookers[name] if b.registration_id in ids]
        if holders:
            self.cancel(name, self.rng.choice(holders), t)

    def chase_unpaid(self, name: str, t: datetime) -> None:
        """The office cancels some of the bookings unpaid past their invoice's due date."""
        event_id = self.events[name].event.id
        overdue = bulk.overdue_unpaid(self.s, event_id=event_id, now=t)
        if overdue:
            chosen = [r.id for r in overdue[: max(1, len(overdue) // 2)]]
            bulk.cancel_unpaid(
                self.s,
                event_id=event_id,
                registration_ids=chosen,
                actor=self.staff["office"],
                now=t,
                links=self.event_links,
            )
            self.follow_offers(name, t)

    def waive_one(self, name: str, t: datetime) -> None:
        """A bursary: the office waives one unpaid student place."""
        by_id = {b.registration_id: b for b in self.bookers[name] if b.ticket == "Student"}
        unpaid = self.s.scalars(
            select(Registration.id)
            .where(
                Registration.id.in_([i for i in by_id if i is not None]),
                Registration.status == "confirmed",
                Registration.payment_status == "unpaid",
            )
            .order_by(Registration.id)
        ).first()
        if unpaid is not None:
            payments.waive_payment(self.s, registration_id=unpaid, actor=self.staff["office"], now=t)

    # --- the plans: who books what, and when ---

    def member_booker(self, member: DemoMember, at: datetime, ticket: str, **extra: Any) -> Booker:
        return Booker(person=member.person, email=member.email, at=at, ticket=ticket, member=member, **extra)

    def guest_booker(self, at: datetime, ticket: str, **extra: Any) -> Booker:
        person = self.people.person()
        return Booker(person=person, email=self.people.email(person), at=at, ticket=ticket, **extra)

    def payer(self, *, chance: float, mean_days: float) -> dict[str, Any]:
        if self.rng.random() >= chance:
            return {"pays_after": None}
        delay = timedelta(hours=2) + timedelta(days=self.rng.expovariate(1 / mean_days))
        method = self.rng.choices(["bank_transfer", "card", "cheque"], weights=[80, 15, 5])[0]
        return {"pays_after": delay, "method": method}

    def plan_conference(self) -> None:
        rng, now = self.rng, self.now
        name = "conference"
        first_day = next_weekday(self.today + timedelta(days=66), 3)  # a Thursday, about ten weeks away
        starts, ends = london(first_day, 9), london(first_day + timedelta(days=1), 17)
        opens = london(self.today - timedelta(days=75), 9)
        early_bird_ends = london(self.today + timedelta(days=10), 0)
        self.set_up_event(
            name,
            london(self.today - timedelta(days=100), 11),
            catalogue.EventData(
                title=f"ISIPT Conference {first_day.year}: Interpersonal Psychotherapy across the lifespan",
                slug=f"isipt-{first_day.year}",
                kind="conference",
                starts_at=starts,
                ends_at=ends,
                registration_opens_at=opens,
                registration_closes_at=starts - timedelta(days=7),
                venue="Edinburgh International Conference Centre",
                address="The Exchange, 150 Morrison Street, Edinburgh EH3 8EE",
                description=(
                    "The International Society for Interpersonal Psychotherapy meets in Edinburgh, hosted by "
                    f"{SOCIETY}: two days of **keynotes, papers and workshops** on IPT for adolescents, adults "
                    "and older people, in the NHS and beyond.\n\nChoose up to three workshops when you book; "
                    "lunch and refreshments are included."
                ),
                capacity=220,
                contact_email="conference@example.org",
                status="published",
                tax_label="VAT",
                tax_rate_bp=0,
                cancellation_cutoff=starts - timedelta(days=21),
                cancellation_policy=(
                    "Cancel up to three weeks before the conference for a full refund. After that we cannot "
                    "refund, but you may pass your place to a colleague: write to conference@example.org."
                ),
                payment_due_days=14,
            ),
            tickets=[
                catalogue.TicketData(
                    "Member early-bird",
                    price=24500,
                    member_only=True,
                    sale_ends_at=early_bird_ends,
                    description=f"For members of {SOCIETY} booking before the early-bird date.",
                ),
                catalogue.TicketData(
                    "Member", price=29500, member_only=True, sale_starts_at=early_bird_ends, position=1
                ),
                catalogue.TicketData("Non-member", price=39500, position=2),
                catalogue.TicketData(
                    "Student",
                    price=12000,
                    student=True,
                    quota=20,
                    position=3,
                    description="Full-time students: you will be asked to confirm that you are a student.",
                ),
                catalogue.TicketData("Speaker", price=0, hidden=True, position=4),
            ],
            workshops=[
                catalogue.WorkshopData(
                    title,
                    london(first_day + timedelta(days=day), *start),
                    london(first_day + timedelta(days=day), *end),
                    capacity=capacity,
                )
                for day, start, end, title, capacity in CONFERENCE_WORKSHOPS
            ],
            questions=[
                dietary("Dietary requirements", required=True, position=1),
                (
                    "access",
                    catalogue.QuestionData(
                        "Access needs",
                        kind="long_text",
                        hint="Anything that would make the conference easier for you to attend.",
                        purpose="access",
                        position=2,
                    ),
                ),
                (
                    "badge",
                    catalogue.QuestionData(
                        "Organisation or affiliation for your badge", purpose="badge", position=3
                    ),
                ),
                (
                    "pronouns",
                    catalogue.QuestionData(
                        "Pronouns for your badge", hint="Optional, for example she/her.", position=4
                    ),
                ),
            ],
        )
        assert self.demo_member is not None
        members = [m for m in self.in_standing() if m is not self.demo_member]
        speakers = rng.sample([m for m in members if m.accreditation in ("trainer", "supervisor")], 2)
        attending = rng.sample([m for m in members if m not in speakers], 88)
        start, end = opens + timedelta(minutes=30), now - timedelta(hours=3)
        bookers: list[Booker] = []
        for member, when in zip(speakers, spread(rng, opens, opens + timedelta(days=5), 2), strict=True):
            bookers.append(self.member_booker(member, when, "Speaker", affiliation=self.people.affiliation()))
        for first, last, affiliation in rng.sample(INTERNATIONAL, 2):
            bookers.append(
                Booker(
                    person=Person(first, last, "they"),
                    email=self.people.email(Person(first, last, "they")),
                    at=opens + timedelta(days=rng.uniform(0, 5)),
                    ticket="Speaker",
                    affiliation=affiliation,
                )
            )
        for member, when in zip(attending, spread(rng, start, end, len(attending), skew=1.6), strict=True):
            bookers.append(
                self.member_booker(
                    member,
                    when,
                    "Member early-bird",
                    affiliation=self.people.affiliation(),
                    **self.payer(chance=0.9, mean_days=6),
                )
            )
        guests = [
            (first, last, affiliation)
            for first, last, affiliation in INTERNATIONAL
            if all(b.person.last_name != last for b in bookers)
        ]
        for (first, last, affiliation), when in zip(
            guests, spread(rng, start, end, len(guests)), strict=True
        ):
            person = Person(first, last, "they")
            bookers.append(
                Booker(
                    person=person,
                    email=self.people.email(person),
                    at=when,
                    ticket="Non-member",
                    affiliation=affiliation,
                    **self.payer(chance=0.92, mean_days=3),
                )
            )
        for when in spread(rng, start, end, 20, skew=1.3):
            bookers.append(
                self.guest_booker(
                    when,
                    "Non-member",
                    affiliation=self.people.affiliation(),
                    **self.payer(chance=0.85, mean_days=8),
                )
            )
        # More students than student places: the quota is what puts conference bookings on the waitlist (a
        # full workshop waitlists only that workshop).
        for when in spread(rng, start, end, 36, skew=1.2):
            bookers.append(
                self.guest_booker(
                    when,
                    "Student",
                    affiliation=rng.choice(
                        ("University of Exeter", "King's College London", "University of Glasgow")
                    ),
                    stays_if_full=rng.random() < 0.7,
                    **self.payer(chance=0.85, mean_days=10),
                )
            )
        for booker in bookers:
            if booker.ticket != "Speaker" or booker.member is not None:
                booker.slots = self.workshop_choices()
            if booker.ticket != "Student":
                booker.stays_if_full = rng.random() < 0.2
        bookers.sort(key=lambda b: b.at)
        self.bookers[name] = bookers
        for booker in bookers:
            self.at(booker.at, self.book, name, booker)
        # Second thoughts: some give their place back (or leave the waitlist) a while after booking.
        for booker in rng.sample([b for b in bookers if b.ticket != "Speaker"], 9):
            when = booker.at + timedelta(days=rng.uniform(2, 25))
            if when < now - timedelta(days=3):
                self.at(when, self.cancel, name, booker)
        self.at(now - timedelta(days=12), self.waive_one, name)
        self.at(now - timedelta(days=4, hours=2), self.chase_unpaid, name)
        # Recent cancellations of places others are waiting for: the offers are still open now.
        for hours in (40, 26, 14):
            self.at(now - timedelta(hours=hours), self.cancel_holder, name)

    def workshop_choices(self) -> list[tuple[str, ...]]:
        chosen: list[tuple[str, ...]] = []
        for preferences, chance in zip(CONFERENCE_SLOTS, (0.75, 0.75, 0.4), strict=True):
            if self.rng.random() < chance:
                order = list(preferences)
                if len(order) == 2 and self.rng.random() < 0.45:
                    order.reverse()
                chosen.append(tuple(order))
        return chosen

    def plan_national_meeting(self) -> None:
        rng, now = self.rng, self.now
        name = "meeting"
        day = next_weekday(self.today + timedelta(days=24), 5)  # a Saturday, three or four weeks away
        starts = london(day, 10)
        opens = london(self.today - timedelta(days=40), 9)
        self.set_up_event(
            name,
            london(self.today - timedelta(days=50), 14),
            catalogue.EventData(
                title=f"{SOCIETY} National Meeting {day.year}",
                slug=f"national-meeting-{day.year}",
                kind="meeting",
                starts_at=starts,
                ends_at=london(day, 16, 30),
                registration_opens_at=opens,
                registration_closes_at=starts - timedelta(days=2),
                venue="Friends House",
                address="173 Euston Road, London NW1 2BJ",
                description=(
                    "The society's yearly gathering for members: the annual report, the new Executive "
                    "Committee, and an afternoon of case discussion groups. Free for members; lunch is "
                    "provided.\n\nPlaces are limited: if you cannot come, please give your place back so "
                    "someone on the waitlist can have it."
                ),
                capacity=80,
                members_only=True,
                contact_email="office@example.org",
                status="published",
                offer_hours=48,
            ),
            tickets=[catalogue.TicketData("Member place", price=0, member_only=True)],
            questions=[dietary("Dietary requirements (lunch is provided)")],
        )
        assert self.demo_member is not None
        members = rng.sample([m for m in self.in_standing() if m is not self.demo_member], 86)
        times = spread(rng, opens + timedelta(minutes=20), now - timedelta(days=12), 80, skew=1.8)
        # The first 80 fill the meeting (the demo member among the early ones); the 81st takes the place one
        # of them gives back; the last six wait.
        first = list(members[:79])
        first.insert(12, self.demo_member)
        later = [now - timedelta(days=10), *spread(rng, now - timedelta(days=9), now - timedelta(days=4), 6)]
        bookers = [
            self.member_booker(m, t, "Member place")
            for m, t in zip(first + members[79:], times + later, strict=True)
        ]
        self.bookers[name] = bookers
        for booker in bookers:
            self.at(booker.at, self.book, name, booker)
        # One gives a place back before anyone waits; later three do while people wait (the first offer is
        # taken up; the last two are still open).
        keepers = [b for b in bookers[:80] if b.member is not self.demo_member]
        leaving = rng.sample(keepers, 4)
        self.at(now - timedelta(days=11), self.cancel, name, leaving[0])
        self.at(now - timedelta(hours=60), self.cancel_first_offer_taken, name, leaving[1])
        self.at(now - timedelta(hours=30), self.cancel_and_leave_offer, name, leaving[2])
        self.at(now - timedelta(hours=18), self.cancel_and_leave_offer, name, leaving[3])

    def cancel_first_offer_taken(self, name: str, booker: Booker, t: datetime) -> None:
        self.cancel_and_leave_offer(name, booker, t)
        for offered in self.offered_at(name, t):
            self.at(t + timedelta(hours=10), self.accept, name, offered)

    def cancel_and_leave_offer(self, name: str, booker: Booker, t: datetime) -> None:
        registration = self.registration(booker)
        assert registration is not None and registration.status == "confirmed"
        changes.cancel_by_delegate(self.s, registration=registration, now=t, links=self.event_links)
