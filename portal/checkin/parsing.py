"""Reading what a scanner sends: ids, door names and times from JSON or a form, and a whole scan request.
Nothing here touches the database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from portal.checkin import badges
from portal.checkin.errors import CheckInError, Code
from portal.checkin.models import RESULTS
from portal.checkin.scans import MAX_ID, Scan
from portal.errors import Kind, NotFound
from portal.web.forms import clean_text, whole_number
from portal.web.tokens import new_token

NONCE_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def read_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    number = whole_number(value) if isinstance(value, str) else None
    return number if number is not None and 0 < number <= MAX_ID else None


def read_text(value: Any, limit: int) -> str:
    return " ".join(clean_text(value).split())[:limit] if isinstance(value, str) else ""


def _when(value: Any, now: datetime) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    # A scanner's clock may run ahead; a scan is never later than its arrival.
    return min(parsed, now)


@dataclass(frozen=True)
class ScanRequest:
    event_id: int | None
    workshop_id: int | None
    door: str
    scan: Scan


def read_scan(body: Any, *, now: datetime, offline: bool = False) -> ScanRequest:
    """A scan from JSON: `{"code" | "registration", "door", "nonce", "event"?, "workshop"?}` (plus
    `scanned_at` and `client_result` for an offline scan). Raises `CheckInError("bad_scan")`."""
    if not isinstance(body, dict):
        raise CheckInError(Code.BAD_SCAN, "Send a JSON object with a code (or a registration) and a door.")
    code = body.get("code")
    code = clean_text(code)[: badges.MAX_CODE_CHARS * 2] if isinstance(code, str) else None
    registration_id = read_id(body.get("registration"))
    if not code and registration_id is None:
        raise CheckInError(Code.BAD_SCAN, "Send the badge's code, or the registration to admit.")
    nonce = body.get("nonce")
    if nonce is None and not offline:
        nonce = new_token(16)
    if not isinstance(nonce, str) or not NONCE_RE.match(nonce):
        raise CheckInError(Code.BAD_SCAN, "The nonce must be 1 to 64 letters, digits or - _ . :")
    workshop = body.get("workshop")
    workshop_id = read_id(workshop)
    if workshop not in (None, "") and workshop_id is None:
        raise CheckInError(
            Code.UNKNOWN_WORKSHOP, "There is no such session at this event.", kind=Kind.NOT_FOUND
        )
    event = body.get("event")
    event_id = read_id(event)
    if event not in (None, "") and event_id is None:
        raise NotFound("There is no such event.")
    client_result = body.get("client_result") if offline else None
    return ScanRequest(
        event_id=event_id,
        workshop_id=workshop_id,
        door=read_text(body.get("door"), 80),
        scan=Scan(
            nonce=nonce,
            code=code or None,
            registration_id=None if code else registration_id,
            scanned_at=(_when(body.get("scanned_at"), now) or now) if offline else None,
            client_result=client_result if client_result in RESULTS else None,
        ),
    )
