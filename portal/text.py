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


#: The first bytes of files people send instead of a CSV, and what to call them.
_NOT_CSV_SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook (or another zipped document)"),
    (b"\xd0\xcf\x11\xe0", "an old-style Excel or Word file"),
    (b"%PDF", "a PDF"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"{\\rtf", "a Rich Text document"),
)


def not_csv(content: bytes) -> str | None:
    """Why these bytes are not a CSV file a person exported, as a sentence to show beside the file field; None
    when they may be one. Looks at the first bytes only (the parser judges the rest)."""
    head = content[:4096]
    found = next((name for signature, name in _NOT_CSV_SIGNATURES if head.startswith(signature)), None)
    if found is None and b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "This file is not text, so it is not a CSV file. Export the data again, as CSV."
    if found is None:
        return None
    return f"This is {found}, not a CSV file. Save or export it as CSV (in Excel: Save As → “CSV UTF-8”)."
