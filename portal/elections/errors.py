"""The one error type of the elections domain."""

from __future__ import annotations

from enum import StrEnum

from portal.errors import PortalError


class Code(StrEnum):
    """Every code the elections domain raises: tests and API clients match on these."""

    ALREADY_NOMINATED = "already_nominated"
    ALREADY_ON_ROLL = "already_on_roll"
    ALREADY_VOTED = "already_voted"
    BAD_KEY = "bad_key"
    BAD_LINK = "bad_link"
    BAD_SHARE = "bad_share"
    BAD_TIMETABLE = "bad_timetable"
    BAD_TRUSTEES = "bad_trustees"
    BAD_VALUE = "bad_value"
    CLOSED = "closed"
    DOWNLOADED = "downloaded"
    INCOMPLETE = "incomplete"
    INVALID_BALLOT = "invalid_ballot"
    KEY_MADE = "key_made"
    LOCKED = "locked"
    NO_KEY = "no_key"
    NO_TRUSTEES = "no_trustees"
    NOMINATIONS_CLOSED = "nominations_closed"
    NOT_CLOSED = "not_closed"
    NOT_COUNTED = "not_counted"
    NOT_DOWNLOADED = "not_downloaded"
    NOT_ELIGIBLE = "not_eligible"
    NOT_FOUND = "not_found"
    NOT_ON_ROLL = "not_on_roll"
    NOT_OPEN = "not_open"
    NOT_OPENED = "not_opened"
    NOT_PUBLISHED = "not_published"
    NOT_RANKED = "not_ranked"
    NOT_TRUSTEE = "not_trustee"
    NOT_YOURS = "not_yours"
    OPENED = "opened"
    OTHER_ELECTION = "other_election"
    PUBLISHED = "published"
    REASON_REQUIRED = "reason_required"
    SAME_PERSON = "same_person"
    SAME_SHARE = "same_share"
    TAMPERED = "tampered"
    TOO_EARLY = "too_early"
    TOO_FEW = "too_few"
    TOO_LATE = "too_late"
    TOO_LONG = "too_long"
    TRUSTEES_NOT_READY = "trustees_not_ready"
    WRONG_SHARE = "wrong_share"


class ElectionError(PortalError):
    """Raised by the elections domain; its `code` is a `Code` member."""
