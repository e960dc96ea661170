"""The error codes of badges, scanners and the door."""

from __future__ import annotations

from enum import StrEnum

from portal.errors import PortalError


class Code(StrEnum):
    """Every code the checkin domain raises: tests and API clients match on these."""

    BAD_NAME = "bad_name"
    BAD_RIBBON = "bad_ribbon"
    BAD_SCAN = "bad_scan"
    NO_BADGE = "no_badge"
    NO_SESSIONS = "no_sessions"
    NOT_ADMITTED = "not_admitted"
    NOT_FOUND = "not_found"
    OTHER_SCANNER = "other_scanner"
    TOO_LATE = "too_late"
    UNKNOWN_WORKSHOP = "unknown_workshop"
    WRONG_DEVICE_EVENT = "wrong_device_event"


class CheckInError(PortalError):
    """A check-in rule said no; its `code` is one of `Code` (bad_scan, unknown_workshop, wrong_device_event, …)."""
