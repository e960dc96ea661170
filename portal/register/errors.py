"""The error codes of the register room."""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Every code the register room raises."""

    NOT_FOUND = "not_found"
    BAD_STATUS = "bad_status"
    NO_WORDING = "no_wording"
    BAD_CASE = "bad_case"
    NOT_ON_REGISTER = "not_on_register"
    BAD_PROFILE = "bad_profile"
    THROTTLED = "throttled"
