"""The error codes of the complaints domain."""

from __future__ import annotations

from enum import StrEnum

from portal.errors import PortalError


class Code(StrEnum):
    """Every code the complaints domain raises."""

    NOT_FOUND = "complaint_not_found"
    INVALID = "invalid_complaint"
    BAD_STAGE = "bad_stage"
    STAGE_CHANGED = "stage_changed"
    NO_DECISION = "no_decision"
    NO_REFERRAL = "no_referral"
    CLOSED = "closed"
    TOO_SOON = "too_soon"
    FORM_EXPIRED = "form_expired"
    THROTTLED = "throttled"
    NO_MEMBER = "no_member"
    BAD_DAYS = "bad_days"


class ComplaintError(PortalError):
    """A complaint rule said no; `code` is one of `Code`."""
