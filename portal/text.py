"""Small pieces of text every layer shares (the domains' services, the pages, the CLI), so each is said
once. Nothing here imports the rest of the portal."""

from __future__ import annotations

from datetime import date

#: The society's name until first setup stores one (the setup form suggests it too).
DEFAULT_SOCIETY_NAME = "IPT UK"
#: What a spreadsheet takes as the start of a formula (a tab or carriage return too, which some skip).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula: text starting with = + - @ (or a tab or carriage
    return) gets a leading apostrophe. None is empty; a date or time is written in ISO 8601."""
    text = "" if value is None else (value.isoformat() if isinstance(value, date) else str(value))
    return "'" + text if text.startswith(FORMULA_STARTS) else text
