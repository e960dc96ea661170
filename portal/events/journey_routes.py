"""The booking journey's steps — choose a ticket, give details and answers, review, confirm — as one form
that carries its state in hidden fields, so it works without JavaScript, and htmx swaps only the step.

The form carries a random key made when the journey starts: confirming twice (a double click, a reload, the
back button) finds the booking the first confirmation made.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from portal.events import catalogue, forms, sales
from portal.events.errors import EventError
from portal.events.links import Links
from portal.events.models import Event, TicketType
from portal.members.models import Member
from portal.web.context import Ctx
from portal.web.forms import FormReader, whole_number
from portal.web.tokens import new_token

TICKET_FIELDS = {"member_only_ticket", "not_on_sale", "bad_input"}
DETAIL_FIELDS = {
    "student_declaration": "student",
    "workshop_clash": "workshops",
    "bad_workshop": "workshops",
    "workshop_full": "workshops",
}
REASONS = {
    "not_on_sale": "Not on sale yet",
    "sale_ended": "Sale ended",
    "member_only": "For members: log in to book",
}


def _prefill(member: Member | None) -> dict[str, Any]:
    if member is None:
        return {}
    return {"first_name": member.first_name, "last_name": member.last_name, "email": member.email or ""}


class Journey:
    def __init__(self, ctx: Ctx, event: Event, member: Member | None) -> None:
        self.ctx = ctx
        self.event = event
        self.member = member
        self.form = FormReader(ctx.form)
        self.hidden_ticket = whole_number(ctx.query.get("ticket", ""))
        if ctx.form is not None and whole_number(self.form.raw("ticket")) is not None:
            self.hidden_ticket = self.hidden_ticket or whole_number(self.form.raw("ticket"))
        self.choices = catalogue.ticket_choices(
            event, now=ctx.now, member_active=member is not None, hidden_ticket_id=self.hidden_ticket
        )
        self.form_key = self.form.raw("form_key")[:100] or new_token()

    # --- rendering ---------------------------------------------------------------------------------------------

    def render(
        self,
        step: str,
        *,
        values: dict[str, Any] | None = None,
        answers: dict[int, Any] | None = None,
        errors: dict[str, str] | None = None,
        problem: str = "",
        checked: sales.Checked | None = None,
        status: int = 200,
        already_booked: str = "",
    ) -> Response:
        values = values or {}
        ticket = self._ticket(values.get("ticket"))
        chosen_workshops = [w for w in self.event.workshops if w.id in (values.get("workshops") or [])]
        return self.ctx.render(
            "events/book.html",
            {
                "event": self.event,
                "state": catalogue.event_state(self.event, self.ctx.now),
                "step": step,
                "choices": self.choices,
                "reasons": REASONS,
                "values": values,
                "answers": answers or {},
                "errors": errors or {},
                "problem": problem,
                "outcome": checked.outcome if checked else "",
                "position": checked.position if checked else None,
                "workshop_outcomes": checked.workshop_outcomes if checked else (),
                "ticket": ticket,
                "chosen_workshops": chosen_workshops,
                "form_key": self.form_key,
                "member": self.member,
                "hidden_ticket": self.hidden_ticket,
                "already_booked": already_booked,
            },
            status_code=status,
            partial="events/_booking_step.html",
        )

    def _ticket(self, ticket_id: Any) -> TicketType | None:
        for choice in self.choices:
            if str(choice.ticket.id) == str(ticket_id):
                return choice.ticket
        return None

    # --- steps -------------------------------------------------------------------------------------------------

    def start(self) -> Response:
        if self.hidden_ticket and self._ticket(self.hidden_ticket):
            return self.render("details", values={"ticket": self.hidden_ticket, **_prefill(self.member)})
        return self.render("ticket", values={"ticket": self._only_ticket()})

    def _only_ticket(self) -> int | None:
        available = [c for c in self.choices if c.available]
        return available[0].ticket.id if len(available) == 1 else None

    def handle(self, links: Links) -> Response:
        action = self.form.raw("action")
        ticket_id = self.form.raw("ticket")
        if action == "back_ticket":
            return self.render("ticket", values={"ticket": ticket_id})
        choice = next((c for c in self.choices if str(c.ticket.id) == ticket_id), None)
        if choice is None or not choice.available:
            message = (
                "Choose a ticket." if choice is None else "That ticket cannot be booked now: choose another."
            )
            return self.render("ticket", values={"ticket": ticket_id}, errors={"ticket": message}, status=422)
        if action == "details":
            return self.render("details", values={"ticket": choice.ticket.id, **_prefill(self.member)})
        if action == "quick":
            # "Sign up" on the event page: a member's details come from the roll, so unless there is something
            # to ask (questions, workshops, a student declaration) the next click confirms.
            values: dict[str, Any] = {"ticket": choice.ticket.id, "workshops": [], **_prefill(self.member)}
            answers: dict[int, Any] = {}
            if self.member is None or self.event.questions or self.event.workshops or choice.ticket.student:
                return self.render("details", values=values)
        else:
            values, answers, errors = forms.details_form(self.ctx.form, questions=self.event.questions)
            values["ticket"] = choice.ticket.id
            clash = sales.workshop_clash([w for w in self.event.workshops if w.id in values["workshops"]])
            if clash:
                errors["workshops"] = (
                    f"'{clash[0].title}' and '{clash[1].title}' are at the same time: choose one."
                )
            if action == "back_details":
                return self.render("details", values=values, answers=answers)
            if errors:
                return self.render("details", values=values, answers=answers, errors=errors, status=422)
        booking = sales.Booking(
            ticket_type_id=choice.ticket.id,
            first_name=values["first_name"],
            last_name=values["last_name"],
            email=values["email"],
            workshop_ids=tuple(values["workshops"]),
            answers=answers,
            student_declared=bool(values.get("student")),
        )
        try:
            if action == "confirm":
                return self._confirm(booking, links)
            checked = sales.check_booking(
                self.ctx.db,
                event=self.event,
                booking=booking,
                member_id=self.member.id if self.member else None,
                now=self.ctx.now,
            )
        except EventError as exc:
            return self._refused(exc, values, answers)
        return self.render("review", values=values, answers=answers, checked=checked)

    def _confirm(self, booking: sales.Booking, links: Links) -> Response:
        principal = self.ctx.principal
        result = sales.book(
            self.ctx.db,
            event_id=self.event.id,
            booking=booking,
            form_key=self.form_key,
            member_id=self.member.id if self.member else None,
            account_id=principal.account_id if principal else None,
            now=self.ctx.now,
            links=links,
        )
        status = result.registration.status
        waiting = [p.workshop.title for p in result.registration.workshop_places if p.status == "waitlisted"]
        if not result.created:
            self.ctx.flash("You had already made this booking: here it is.")
        elif status == "confirmed" and waiting:
            self.ctx.flash(
                "You are booked: your conference place is confirmed, and you are on the waiting list for "
                + ", ".join(f"'{t}'" for t in waiting)
                + ". We have e-mailed you a confirmation."
            )
        elif status == "confirmed":
            self.ctx.flash("You are booked. We have e-mailed you a confirmation.")
        else:
            self.ctx.flash("The event is full, so you are on the waitlist. We have e-mailed you.")
        return self.ctx.redirect("events:booking", token=result.manage_token)

    def _refused(self, exc: EventError, values: dict[str, Any], answers: dict[int, Any]) -> Response:
        if exc.code == "already_booked":
            # No second booking (nor invoice): the notice offers the first booking's link again by e-mail.
            errors = {"email": "There is already a booking for this event with this e-mail address."}
            return self.render(
                "details",
                values=values,
                answers=answers,
                errors=errors,
                status=422,
                already_booked=values.get("email", ""),
            )
        if exc.code == "invalid_answers":
            return self.render(
                "details", values=values, answers=answers, errors=exc.details["errors"], status=422
            )
        if exc.code in DETAIL_FIELDS:
            errors = {DETAIL_FIELDS[exc.code]: exc.message}
            return self.render("details", values=values, answers=answers, errors=errors, status=422)
        if exc.code in TICKET_FIELDS:
            return self.render("ticket", values=values, errors={"ticket": exc.message}, status=422)
        return self.render("ticket", values=values, problem=exc.message, status=422)
