"""The error codes of the membership roll and its import."""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Every code the members domain raises: tests and API clients match on these."""

    BAD_ROWS = "bad_rows"
    BAD_VALUE = "bad_value"
    CONFLICT = "conflict"
    EMAIL_TAKEN = "email_taken"
    EMPTY_FILE = "empty_file"
    IN_USE = "in_use"
    MEMBER_ACTIVE = "member_active"
    MEMBER_ERASED = "member_erased"
    NOT_FOUND = "not_found"
    OPTION_EXISTS = "option_exists"
    PROTECTED = "protected"
    SAME_EMAIL = "same_email"
    STALE_PREVIEW = "stale_preview"
    TOO_LARGE = "too_large"
    UPLOAD_NOT_FOUND = "upload_not_found"
