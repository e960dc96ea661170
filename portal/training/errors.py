"""The error codes of the training room."""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Every code the training room raises."""

    NOT_FOUND = "not_found"
    BAD_SLUG = "bad_slug"
    SLUG_TAKEN = "slug_taken"
    BAD_STATUS = "bad_status"
    BAD_LINK = "bad_link"
    BAD_DATES = "bad_dates"
