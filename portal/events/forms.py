"""Form parsing for event pages: plain functions returning `(data, errors)` that never raise on user input."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from portal.events import catalogue, sales
from portal.events.models import (
    EVENT_STATUSES,
    KINDS,
    PAYMENT_METHODS,
    PROVIDERS,
    QUESTION_KINDS,
    QUESTION_PURPOSES,
    REGIONS,
    Question,
)
from portal.web.forms import Errors, FormReader, whole_number


def money_field(form: FormReader, name: str, *, label: str, required: bool = True) -> int | None:
    """Pounds and pence as typed (`45`, `45.50`, `£1,200`) into minor units."""
    raw = form.raw(name).replace("£", "").replace(",", "").strip()
    form.data[name] = form.raw(name)
    if not raw:
        if required:
            form.error(name, f"Enter {label}.")
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        form.error(name, f"Enter {label} in pounds, like 45 or 45.50.")
        return None
    if value < 0 or value != value.quantize(Decimal("0.01")):
        form.error(name, f"Enter {label} in pounds and pence, like 45.50.")
        return None
    return int(value * 100)


def _zone(form: FormReader) -> str:
    zone = form.raw("timezone") or "Europe/London"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        form.error("timezone", "Enter a time zone like Europe/London.")
        return "Europe/London"
    form.data["timezone"] = zone
    return zone


def event_form(
    raw: Mapping[str, Any] | None, *, courses: Mapping[str, str] | None = None
) -> tuple[catalogue.EventData | None, Errors, dict[str, Any]]:
    """`courses`: the courses a training event may be a date of, by id (as text), with their titles."""
    form = FormReader(raw)
    title = form.text("title", label="a title")
    slug = form.text("slug", label="a web address", max_length=80).lower()
    kind = form.choice("kind", KINDS, label="the kind of event")
    region = form.choice("region", REGIONS, label="a region from the list", required=False)
    course = form.choice("course_id", courses or {}, label="a course from the list", required=False)
    if kind == "regional" and not region and "region" not in form.errors:
        form.error("region", "Choose the region this regional event is for.")
    elif region and kind != "regional":
        form.error(
            "region", "Only a regional event has a region: choose Regional event as the kind, or no region."
        )
    if course and kind != "training":
        form.error(
            "course_id",
            "Only a training event is a date of a course: choose Training as the kind, or no course.",
        )
    status = form.choice("status", EVENT_STATUSES, label="a status")
    # Read in the order the form shows the fields, so its error summary follows them.
    venue = form.text("venue", label="the venue", required=False)
    address = form.text("address", label="the address", required=False, max_length=500)
    zone = _zone(form)
    starts = form.local_datetime("starts_at", label="when it starts", tz=zone)
    ends = form.local_datetime("ends_at", label="when it ends", tz=zone)
    opens = form.local_datetime("registration_opens_at", label="when registration opens", tz=zone)
    closes = form.local_datetime("registration_closes_at", label="when registration closes", tz=zone)
    description = form.text("description", label="a description", required=False, max_length=20000)
    capacity = form.integer("capacity", label="the number of places", minimum=0, required=False)
    members_only = form.checkbox("members_only")
    waitlist_enabled = form.checkbox("waitlist_enabled")
    offer_hours = form.integer("offer_hours", label="the hours to accept an offer", minimum=1)
    contact = form.email("contact_email", label="a contact e-mail address", required=False)
    cutoff = form.local_datetime(
        "cancellation_cutoff", label="the cancellation deadline", tz=zone, required=False
    )
    policy = form.text(
        "cancellation_policy", label="the cancellation policy", required=False, max_length=2000
    )
    due_days = form.integer("payment_due_days", label="the days to pay an invoice", minimum=0)
    provider = form.choice("payment_provider", PROVIDERS, label="how delegates pay", required=False)
    tax_label = form.text("tax_label", label="the tax name", max_length=40)
    tax_rate = form.raw("tax_rate")
    form.data["tax_rate"] = tax_rate
    tax_bp = 0
    try:
        rate = Decimal(tax_rate or "0")
        if rate < 0 or rate > 100:
            raise InvalidOperation
        tax_bp = int(rate * 100)
    except InvalidOperation:
        form.error("tax_rate", "Enter the tax rate as a percentage between 0 and 100, like 20 or 0.")
    if starts and ends and ends <= starts:
        form.error("ends_at", "The event must end after it starts.")
    if opens and closes and closes <= opens:
        form.error("registration_closes_at", "Registration must close after it opens.")
    if slug and (set(slug) - catalogue.SLUG_CHARS or slug in catalogue.RESERVED_SLUGS or slug.isdigit()):
        form.error("slug", "Use lower-case letters, digits and hyphens, like national-meeting-2027.")
    if not form.ok:
        return None, form.errors, form.data
    assert starts and ends and opens and closes and offer_hours is not None and due_days is not None
    data = catalogue.EventData(
        title=title,
        slug=slug,
        kind=kind,
        status=status,
        timezone=zone,
        starts_at=starts,
        ends_at=ends,
        registration_opens_at=opens,
        registration_closes_at=closes,
        cancellation_cutoff=cutoff,
        venue=venue,
        address=address,
        description=description,
        capacity=capacity,
        contact_email=contact,
        members_only=members_only,
        waitlist_enabled=waitlist_enabled,
        offer_hours=offer_hours,
        payment_due_days=due_days,
        payment_provider=provider,
        tax_label=tax_label,
        tax_rate_bp=tax_bp,
        cancellation_policy=policy,
        region=region,
        course_id=int(course) if course else None,
    )
    return data, {}, form.data


def ticket_form(
    raw: Mapping[str, Any] | None, *, tz: str
) -> tuple[catalogue.TicketData | None, Errors, dict[str, Any]]:
    form = FormReader(raw)
    name = form.text("name", label="the ticket's name", max_length=120)
    description = form.text("description", label="a description", required=False, max_length=500)
    price = money_field(form, "price", label="the price")
    quota = form.integer("quota", label="the quota", minimum=0, required=False)
    starts = form.local_datetime("sale_starts_at", label="when the sale starts", tz=tz, required=False)
    ends = form.local_datetime("sale_ends_at", label="when the sale ends", tz=tz, required=False)
    position = form.integer("position", label="the order", required=False) or 0
    if starts and ends and ends <= starts:
        form.error("sale_ends_at", "The sale must end after it starts.")
    data = catalogue.TicketData(
        name=name,
        description=description,
        price=price or 0,
        quota=quota,
        member_only=form.checkbox("member_only"),
        student=form.checkbox("student"),
        hidden=form.checkbox("hidden"),
        sale_starts_at=starts,
        sale_ends_at=ends,
        position=position,
    )
    return (data if form.ok else None), form.errors, form.data


def workshop_form(
    raw: Mapping[str, Any] | None, *, tz: str
) -> tuple[catalogue.WorkshopData | None, Errors, dict[str, Any]]:
    form = FormReader(raw)
    title = form.text("title", label="the workshop's title")
    description = form.text("description", label="a description", required=False, max_length=1000)
    starts = form.local_datetime("starts_at", label="when it starts", tz=tz)
    ends = form.local_datetime("ends_at", label="when it ends", tz=tz)
    capacity = form.integer("capacity", label="the number of places", minimum=0, required=False)
    if starts and ends and ends <= starts:
        form.error("ends_at", "The workshop must end after it starts.")
    if not form.ok:
        return None, form.errors, form.data
    assert starts and ends
    return catalogue.WorkshopData(title, starts, ends, description, capacity), {}, form.data


def question_form(
    raw: Mapping[str, Any] | None,
) -> tuple[catalogue.QuestionData | None, Errors, dict[str, Any]]:
    form = FormReader(raw)
    label = form.text("label", label="the question", max_length=300)
    kind = form.choice("kind", QUESTION_KINDS, label="the kind of answer")
    purpose = form.choice("purpose", QUESTION_PURPOSES, label="what it is for")
    options = form.text("options", label="the options", required=False, max_length=4000)
    hint = form.text("hint", label="a hint", required=False, max_length=300)
    position = form.integer("position", label="the order", required=False) or 0
    if kind in ("single_choice", "multiple_choice") and not options.strip():
        form.error("options", "Give the options, one a line.")
    data = catalogue.QuestionData(label, kind, form.checkbox("required"), options, hint, purpose, position)
    return (data if form.ok else None), form.errors, form.data


def answers_from(raw: Mapping[str, Any] | None, questions: Sequence[Question]) -> dict[int, str | list[str]]:
    """The answers in a submitted form (fields `q<id>`), without judging them: see `sales.answer_errors`."""
    answers: dict[int, str | list[str]] = {}
    getlist = getattr(raw, "getlist", None)
    for question in questions:
        name = f"q{question.id}"
        if question.kind == "multiple_choice":
            values = getlist(name) if getlist else ([raw.get(name)] if raw and raw.get(name) else [])
            answers[question.id] = [v.strip() for v in values if isinstance(v, str) and v.strip()]
        else:
            value = raw.get(name) if raw else None
            answers[question.id] = value.strip() if isinstance(value, str) else ""
    return answers


def details_form(
    raw: Mapping[str, Any] | None, *, questions: Sequence[Question]
) -> tuple[dict[str, Any], dict[int, str | list[str]], Errors]:
    """The delegate's details and answers, with a message beside each field that needs one."""
    form = FormReader(raw)
    form.text("first_name", label="your first name", max_length=100)
    form.text("last_name", label="your last name", max_length=100)
    form.email("email", label="your e-mail address")
    form.checkbox("student")
    getlist = getattr(raw, "getlist", None)
    workshop_ids = []
    for value in getlist("workshops") if getlist else []:
        number = whole_number(value)
        if number is not None:
            workshop_ids.append(number)
    form.data["workshops"] = workshop_ids
    answers = answers_from(raw, questions)
    errors = dict(form.errors)
    errors.update(sales.answer_errors(questions, answers))
    return form.data, answers, errors


def payment_form(raw: Mapping[str, Any] | None, *, today: Any) -> tuple[dict[str, Any], Errors]:
    form = FormReader(raw)
    amount = money_field(form, "amount", label="the amount")
    if amount == 0:
        form.error("amount", "Enter an amount greater than zero.")
    method = form.choice("method", PAYMENT_METHODS, label="how it was paid")
    on = form.date("received_on", label="the date", required=False) or today
    note = form.text("note", label="a note", required=False, max_length=300)
    return {"amount": amount, "method": method, "received_on": on, "note": note}, form.errors


def workshops_form(form: Any, *, current: Sequence[int]) -> tuple[str, list[int], int | None]:
    """The booking page's workshop forms: (action, the workshops wanted, the one workshop acted on).

    "change" sends the ticked boxes; "accept" and "decline" name one workshop whose seat was offered
    (declining is dropping it). Never raises: ids that are not numbers are left out, and the service
    refuses workshops of another event."""
    raw_action = str(form.get("action", "")) if form is not None else ""
    action = raw_action if raw_action in ("change", "accept", "decline") else "change"
    raw = str(form.get("workshop", "")) if form is not None else ""
    chosen = int(raw) if raw.isdigit() else None
    if action == "decline":
        return action, [w for w in current if w != chosen], chosen
    if action == "accept":
        return action, list(current), chosen
    getlist = getattr(form, "getlist", None)
    ticked = [int(v) for v in (getlist("workshops") if getlist else []) if str(v).isdigit()]
    return action, sorted(set(ticked)), chosen
