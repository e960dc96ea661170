"""The error codes of joining the society."""

from __future__ import annotations

from enum import StrEnum

from portal.errors import PortalError


class Code(StrEnum):
    """Every code the membership domain raises."""

    NOT_FOUND = "application_not_found"
    NOT_OPEN = "category_not_open"
    BAD_VALUE = "bad_application_value"
    WRONG_STATUS = "wrong_application_status"
    LINK_GONE = "answer_link_gone"
    NUMBER_TAKEN = "membership_number_taken"
    NOTHING_OWED = "nothing_owed"


class MembershipError(PortalError):
    """A rule of joining said no; `code` is one of `Code`."""
