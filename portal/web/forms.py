"""Form parsing as plain functions that return `(data, errors)` and never raise on user input."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

Errors = dict[str, str]
# C0 control characters other than tab, newline and carriage return: never meaningful in a form, and PostgreSQL
# refuses NUL in text.
_CONTROL = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))


#: The largest whole number taken from user input: fits every integer column on both engines.
MAX_INT = 2**31 - 1
_ASCII_DIGITS = re.compile(r"[0-9]{1,10}")


def clean_text(value: str) -> str:
    return value.translate(_CONTROL)


def whole_number(raw: object, *, maximum: int = MAX_INT) -> int | None:
    """A non-negative whole number written in ASCII digits, at most `maximum`; otherwise None.

    User input goes through here rather than `str.isdigit()` and `int()`: `isdigit` accepts '²', which `int`
    then refuses; `int` accepts full-width and Arabic-Indic digits, '1_000' and numbers too large for a
    database column."""
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if not _ASCII_DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if value <= maximum else None


class FieldErrors(dict[str, str]):
    """One message per field, kept in the order the fields were read (a form reads its fields in the order the
    page shows them), so the error summary lists them as they appear, even when a check across fields (ends
    before it starts) finds a problem after the rest were read."""

    def __init__(self, order: dict[str, int]) -> None:
        super().__init__()
        self._order = order

    def __setitem__(self, name: str, message: str) -> None:
        super().__setitem__(name, message)
        ranked = sorted(self.items(), key=lambda item: self._order.get(item[0], len(self._order)))
        super().clear()
        super().update(ranked)

    def setdefault(self, name: str, default: str) -> str:
        if name not in self:
            self[name] = default
        return self[name]


#: An amount of money as typed, once the pound sign, commas and spaces are gone: pounds, and 1 or 2 pence digits.
MONEY_RE = re.compile(r"(\d{1,9})(?:\.(\d{1,2}))?")


class FormReader:
    """Reads fields from a submitted form, collecting one message per bad field (in the order they were read)."""

    def __init__(self, form: Mapping[str, Any] | None) -> None:
        self.form = form or {}
        self._read: dict[str, int] = {}
        self.errors: Errors = FieldErrors(self._read)
        self.data: dict[str, Any] = {}

    def _reading(self, name: str) -> None:
        self._read.setdefault(name, len(self._read))

    def raw(self, name: str) -> str:
        self._reading(name)
        value = self.form.get(name)
        return clean_text(value).strip() if isinstance(value, str) else ""

    def text(self, name: str, *, label: str, required: bool = True, max_length: int = 200) -> str:
        value = self.raw(name)
        if required and not value:
            self.errors[name] = f"Enter {label}."
        elif len(value) > max_length:
            self.errors[name] = f"{label[0].upper() + label[1:]} must be at most {max_length} characters."
        self.data[name] = value
        return value

    def email(self, name: str = "email", *, label: str = "an e-mail address", required: bool = True) -> str:
        value = self.raw(name).lower()
        if not value:
            if required:
                self.errors[name] = f"Enter {label}."
        elif len(value) > 254 or not EMAIL_RE.match(value):
            self.errors[name] = "Enter an e-mail address like name@example.org."
        self.data[name] = value
        return value

    def password(self, name: str = "password", *, new: bool = False, confirm: str | None = None) -> str:
        self._reading(name)
        if confirm is not None:
            self._reading(confirm)
        value = self.form.get(name)
        value = value if isinstance(value, str) else ""
        if not value:
            self.errors[name] = "Enter a password."
        elif new and len(value) < 10:
            self.errors[name] = "Choose a password of at least 10 characters."
        elif len(value) > 1024:
            self.errors[name] = "That password is too long."
        elif confirm is not None and value != self.form.get(confirm):
            self.errors[confirm] = "The two passwords are not the same."
        return value

    def integer(
        self, name: str, *, label: str, minimum: int | None = None, required: bool = True
    ) -> int | None:
        raw = self.raw(name)
        if not raw:
            if required:
                self.errors[name] = f"Enter {label}."
            self.data[name] = None
            return None
        text = raw.strip()
        negative = text.startswith("-")
        number = whole_number(text[1:] if negative else text)
        if number is None:
            self.errors[name] = f"Enter {label} as a whole number, in digits 0 to 9 (at most {MAX_INT})."
            self.data[name] = raw
            return None
        value = -number if negative else number
        if minimum is not None and value < minimum:
            self.errors[name] = f"{label[0].upper() + label[1:]} must be at least {minimum}."
        self.data[name] = value
        return value

    def money(self, name: str, *, label: str, required: bool = True, maximum: int = MAX_INT) -> int | None:
        """Pounds and pence as typed (`45`, `45.50`, `£1,200`) into pence; None with a message otherwise."""
        raw = self.raw(name)
        self.data[name] = raw
        typed = raw.replace("£", "").replace(",", "").replace(" ", "")
        if not typed:
            if required:
                self.errors[name] = f"Enter {label}."
            return None
        if typed.startswith("-") and MONEY_RE.fullmatch(typed[1:]):
            self.errors[name] = f"{label[0].upper() + label[1:]} cannot be less than £0."
            return None
        match = MONEY_RE.fullmatch(typed)
        if match is None:
            self.errors[name] = f"Enter {label} in pounds and whole pence, in digits, like 45 or 45.50."
            return None
        pounds, pence = match.group(1), (match.group(2) or "").ljust(2, "0")
        value = int(pounds) * 100 + int(pence)
        if value > maximum:
            self.errors[name] = f"{label[0].upper() + label[1:]} must be at most £{maximum // 100:,}."
            return None
        return value

    def choice(
        self, name: str, choices: Mapping[str, str] | list[str], *, label: str, required: bool = True
    ) -> str:
        value = self.raw(name)
        if not value and not required:
            self.data[name] = ""
            return ""
        if value not in choices:
            self.errors[name] = f"Choose {label}."
        self.data[name] = value
        return value

    def choices(self, name: str, choices: Mapping[str, str] | list[str]) -> list[str]:
        self._reading(name)
        getlist = getattr(self.form, "getlist", None)
        values = [v for v in (getlist(name) if getlist else [self.form.get(name)]) if isinstance(v, str)]
        bad = [v for v in values if v not in choices]
        if bad:
            self.errors[name] = "Choose only from the options shown."
        self.data[name] = values
        return [v for v in values if v in choices]

    def checkbox(self, name: str) -> bool:
        value = self.raw(name) in ("on", "yes", "true", "1")
        self.data[name] = value
        return value

    def date(self, name: str, *, label: str, required: bool = True) -> date | None:
        raw = self.raw(name)
        if not raw:
            if required:
                self.errors[name] = f"Enter {label}."
            return None
        try:
            value = date.fromisoformat(raw)
        except ValueError:
            self.errors[name] = f"Enter {label} as a date (YYYY-MM-DD)."
            return None
        self.data[name] = value
        return value

    def local_datetime(
        self, name: str, *, label: str, tz: str = "Europe/London", required: bool = True
    ) -> datetime | None:
        """A `datetime-local` field read in the given zone and returned as an aware datetime."""
        raw = self.raw(name)
        self.data[name] = raw
        if not raw:
            if required:
                self.errors[name] = f"Enter {label}."
            return None
        try:
            naive = datetime.fromisoformat(raw)
        except ValueError:
            self.errors[name] = f"Enter {label} as a date and time."
            return None
        if naive.tzinfo is not None:
            return naive
        return naive.replace(tzinfo=ZoneInfo(tz))

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    @property
    def ok(self) -> bool:
        return not self.errors
