"""The error codes of Contact Us."""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Every code the contact domain raises: tests and API clients match on these."""

    LOOKS_AUTOMATED = "looks_automated"
    TOO_QUICK = "too_quick"
    FORM_EXPIRED = "form_expired"
    THROTTLED = "throttled"
    NOT_FOUND = "not_found"
    BAD_STATUS = "bad_status"
    BAD_ASSIGNEE = "bad_assignee"
    CLOSED = "closed"
    NO_ADDRESS = "no_address"
