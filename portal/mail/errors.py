"""The error codes of the outbox."""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Every code the mail domain raises: tests and API clients match on these."""

    NOT_FAILED = "not_failed"
    SECRET_GONE = "secret_gone"
    THROTTLED = "throttled"
