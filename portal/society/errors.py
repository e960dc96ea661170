"""The error codes of the society's details."""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Every code the society domain raises."""

    BAD_VALUE = "bad_value"
    NOT_SET_UP = "not_set_up"
