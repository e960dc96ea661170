"""The one error type of the elections domain."""

from __future__ import annotations

from portal.web.errors import PortalError


class ElectionError(PortalError):
    """`code` is one of: not_found, bad_timetable, locked, not_eligible, same_person, too_long, bad_photo,
    already_nominated, nominations_closed, bad_link, incomplete, reason_required, too_late, not_yours,
    not_open, closed, not_on_roll, already_voted, invalid_ballot, already_on_roll, too_early, bad_value."""
