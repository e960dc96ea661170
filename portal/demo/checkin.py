"""Check-in: a skills day on today with its door open, where door staff have already scanned some of the
delegates' badges (one twice, and one who has not paid)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from portal.checkin import badging
from portal.checkin import scans as checkin
from portal.demo.events import EventSteps, dietary
from portal.demo.timeline import LONDON, london, spread
from portal.events import catalogue
from portal.events.models import Registration
from portal.web.tokens import new_token


class CheckinSteps(EventSteps):
    def plan_skills_day(self) -> None:
        """A training day on today, its door open: check-in has something to admit."""
        rng, now = self.rng, self.now
        name = "skills_day"
        local_now = now.astimezone(LONDON)
        starts = london(self.today, 9, 30)
        if not starts - timedelta(hours=2) <= now <= starts + timedelta(hours=8):
            starts = (
                (local_now - timedelta(hours=1)).replace(minute=0, second=0, microsecond=0).astimezone(UTC)
            )
        opens = london(self.today - timedelta(days=45), 9)
        self.set_up_event(
            name,
            london(self.today - timedelta(days=60), 15),
            catalogue.EventData(
                title="IPT skills day: grief and role transitions",
                slug=f"skills-day-{self.today.isoformat()}",
                kind="training",
                starts_at=starts,
                ends_at=starts + timedelta(hours=7),
                registration_opens_at=opens,
                registration_closes_at=starts - timedelta(days=1),
                venue="Friends Meeting House",
                address="6 Mount Street, Manchester M2 5NS",
                description=(
                    "A practical day on the two problem areas most often met in practice, with role-plays "
                    "and supervision in small groups. Six hours of CPD."
                ),
                capacity=40,
                contact_email="training@example.org",
                status="published",
                payment_due_days=7,
            ),
            tickets=[
                catalogue.TicketData("Member", price=4500, member_only=True),
                catalogue.TicketData("Non-member", price=7500, position=1),
            ],
            questions=[
                dietary("Dietary requirements", required=True),
                ("badge", catalogue.QuestionData("Organisation for your badge", purpose="badge", position=1)),
            ],
        )
        assert self.demo_member is not None
        members = rng.sample([m for m in self.in_standing() if m is not self.demo_member], 22)
        times = spread(rng, opens + timedelta(hours=1), now - timedelta(days=2), 34, skew=1.3)
        bookers = [
            self.member_booker(
                m, t, "Member", affiliation=self.people.affiliation(), **self.payer(chance=0.94, mean_days=2)
            )
            for m, t in zip(members, times[:22], strict=True)
        ]
        bookers += [
            self.guest_booker(
                t, "Non-member", affiliation=self.people.affiliation(), **self.payer(chance=0.94, mean_days=2)
            )
            for t in times[22:]
        ]
        bookers.sort(key=lambda b: b.at)
        self.bookers[name] = bookers
        for booker in bookers:
            self.at(booker.at, self.book, name, booker)
        for booker in rng.sample(bookers[:20], 2):
            when = booker.at + timedelta(days=rng.uniform(3, 10))
            if when < now - timedelta(days=1):
                self.at(when, self.cancel, name, booker)
        # The door: from 45 minutes before the start (or as soon as the door opened) until a moment ago.
        window_opens = starts - timedelta(hours=3)
        first = max(starts - timedelta(minutes=45), window_opens)
        if first >= now - timedelta(minutes=3):
            first = window_opens
        if first < now - timedelta(minutes=3):
            self.at(first, self.plan_door, name, first)

    def plan_door(self, name: str, first: datetime, t: datetime) -> None:
        """Door staff scan arriving delegates' badges: most of those with a place, one twice, and one who
        has not paid (sent to the desk)."""
        event_id = self.events[name].event.id
        rows = self.s.execute(
            select(Registration.id, Registration.payment_status)
            .where(Registration.event_id == event_id, Registration.status == "confirmed")
            .order_by(Registration.id)
        ).all()
        paid = [r.id for r in rows if r.payment_status in ("paid", "waived")]
        unpaid = [r.id for r in rows if r.payment_status == "unpaid"]
        arriving = self.rng.sample(paid, len(paid) * 2 // 5)
        if not arriving:
            return
        times = spread(self.rng, first, self.now - timedelta(minutes=2), len(arriving) + 2)
        for registration_id, when in zip(arriving, times, strict=False):
            self.at(when, self.scan, event_id, registration_id)
        self.at(times[-2], self.scan, event_id, arriving[0])
        if unpaid:
            self.at(times[-1], self.scan, event_id, unpaid[0])

    def scan(self, event_id: int, registration_id: int, t: datetime) -> None:
        registration = self.s.get(Registration, registration_id)
        assert registration is not None
        checkin.check_in(
            self.s,
            key=self.key,
            place=checkin.place_for(self.s, event_id=event_id),
            scanner=checkin.Scanner(door="Main entrance", account_id=self.staff["door"].id),
            scan=checkin.Scan(nonce=new_token(16), code=badging.code_for(self.key, registration)),
            now=t,
        )
