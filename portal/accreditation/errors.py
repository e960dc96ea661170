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
