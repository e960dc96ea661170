"""The errors the portal's rules raise: they know nothing of HTTP.

A `PortalError` carries a **kind** (what sort of failure: the web layer maps each kind to one status, in
`portal/web/errors.py`), a **code** (stable: tests and API clients match on it; always a member of a domain's
`Code` enum, so the codes a domain can raise are listed in one place and a typo is a type error) and a
**message** for people. Domains raise the kind's class (`Conflict(Code.SOLD_OUT, "…")`) or their own subclass
with `kind=` (`ElectionError(Code.CLOSED, "…", kind=Kind.CONFLICT)`).

This module is the bottom layer: it imports nothing of the portal, and no web framework.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    #: What was sent breaks a rule (a field, a choice, a form): the page shows it beside what was entered.
    INVALID = "invalid"
    #: What was sent cannot be read at all (not JSON, not a form, a value of the wrong type).
    MALFORMED = "malformed"
    #: Nothing is there, or the asker may not know that it is.
    NOT_FOUND = "not_found"
    #: It was there and is no more (a used or expired link).
    GONE = "gone"
    #: The request is sound, but the state of things forbids it now (sold out, already voted, closed).
    CONFLICT = "conflict"
    #: The asker is known and may not do this.
    FORBIDDEN = "forbidden"
    #: The asker must prove who they are first.
    UNAUTHENTICATED = "unauthenticated"
    #: Too many attempts: wait and try again.
    THROTTLED = "throttled"
    #: What was sent is larger than allowed.
    TOO_LARGE = "too_large"
    #: Something the portal depends on does not answer (the database, briefly).
    UNAVAILABLE = "unavailable"


class Code(StrEnum):
    """Codes any layer may raise; each domain adds its own enum (`portal/<domain>/errors.py`)."""

    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    NOT_AUTHENTICATED = "not_authenticated"
    THROTTLED = "throttled"
    TOO_LARGE = "too_large"
    BAD_JSON = "bad_json"
    BAD_FORM = "bad_form"
    BAD_VALUE = "bad_value"
    INVALID = "invalid"
    UNAVAILABLE = "unavailable"


class PortalError(Exception):
    """A rule said no. `details` carries anything a caller may want to show (the field, the limit)."""

    kind: Kind = Kind.MALFORMED

    def __init__(self, code: StrEnum, message: str, *, kind: Kind | None = None, **details: Any) -> None:
        if not isinstance(code, StrEnum):
            raise TypeError(f"an error code is a member of a Code enum, not {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
        if kind is not None:
            self.kind = kind

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code.value!r}, {self.message!r}, kind={self.kind.value})"


class Invalid(PortalError):
    kind = Kind.INVALID


class Malformed(PortalError):
    kind = Kind.MALFORMED


class NotFound(PortalError):
    kind = Kind.NOT_FOUND

    def __init__(
        self,
        message: str = "There is nothing at this address.",
        code: StrEnum = Code.NOT_FOUND,
        **details: Any,
    ) -> None:
        super().__init__(code, message, **details)


class Gone(PortalError):
    kind = Kind.GONE


class Conflict(PortalError):
    kind = Kind.CONFLICT


class Forbidden(PortalError):
    kind = Kind.FORBIDDEN


class Throttled(PortalError):
    kind = Kind.THROTTLED


class TooLarge(PortalError):
    kind = Kind.TOO_LARGE
