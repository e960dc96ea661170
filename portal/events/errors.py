"""The error of the events domain's rules and its codes (events, bookings, workshops, waitlists and payments)."""

from __future__ import annotations

from enum import StrEnum

from portal.errors import PortalError


class Code(StrEnum):
    """Every code the events domain raises: tests and API clients match on these."""

    ALREADY_BOOKED = "already_booked"
    ALREADY_CANCELLED = "already_cancelled"
    BAD_AMOUNT = "bad_amount"
    BAD_COURSE = "bad_course"
    BAD_INPUT = "bad_input"
    BAD_NOTIFICATION = "bad_notification"
    BAD_REGION = "bad_region"
    BAD_SIGNATURE = "bad_signature"
    BAD_SLUG = "bad_slug"
    BAD_WORKSHOP = "bad_workshop"
    CLOSED = "closed"
    CONFLICT = "conflict"
    FULL = "full"
    IN_USE = "in_use"
    INVALID_ANSWERS = "invalid_answers"
    MEMBER_ONLY_TICKET = "member_only_ticket"
    MEMBERS_ONLY = "members_only"
    NO_PLACE = "no_place"
    NOT_FOUND = "not_found"
    NOT_OFFERED = "not_offered"
    NOT_ON_SALE = "not_on_sale"
    NOT_OPEN = "not_open"
    NOT_PAYABLE = "not_payable"
    NOT_WAITING = "not_waiting"
    NOTHING_TO_REFUND = "nothing_to_refund"
    OFFER_EXPIRED = "offer_expired"
    PAST_CUTOFF = "past_cutoff"
    SLUG_TAKEN = "slug_taken"
    STUDENT_DECLARATION = "student_declaration"
    WORKSHOP_CLASH = "workshop_clash"
    WORKSHOP_FULL = "workshop_full"


class EventError(PortalError):
    """`code`: bad_slug, slug_taken, not_found, not_open, closed, full, members_only, member_only_ticket,
    not_on_sale, student_declaration, bad_workshop, workshop_clash, workshop_full, invalid_answers,
    already_booked, past_cutoff, not_offered, offer_expired, already_cancelled, in_use, bad_input."""
