"""The error codes of the accreditation room."""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Every code the accreditation room raises."""

    NOT_FOUND = "not_found"
    BAD_SLUG = "bad_slug"
    SLUG_TAKEN = "slug_taken"
    BAD_NUMBER = "bad_number"
    BAD_COURSE = "bad_course"
    BAD_DATES = "bad_dates"
    BAD_CATEGORY = "bad_category"
    BAD_HOURS = "bad_hours"
    BAD_ACTIVITY = "bad_activity"
    NO_REGISTRANTS = "no_registrants"
    BAD_OUTCOME = "bad_outcome"
    BAD_VALUE = "bad_value"
    ALREADY_APPLIED = "already_applied"
    NOT_YET_OPEN = "not_yet_open"
    BAD_LINK = "bad_link"
    LINK_EXPIRED = "link_expired"
    LINK_USED = "link_used"
    WRONG_STATE = "wrong_state"
    NOT_SIGNED_OFF = "not_signed_off"
    NO_EVIDENCE = "no_evidence"
