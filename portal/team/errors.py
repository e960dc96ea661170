"""The error codes of Meet the Team."""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Every code the team domain raises."""

    NOT_FOUND = "not_found"
    SLUG_TAKEN = "slug_taken"
    BAD_SLUG = "bad_slug"
    NOT_PUBLISHED = "not_published"
    NOTHING_ELECTED = "nothing_elected"
