"""The error codes of logins, sessions, roles and the second factor."""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Every code the accounts domain raises: tests and API clients match on these."""

    ALREADY_SET_UP = "already_set_up"
    BAD_CODE = "bad_code"
    BAD_FORM = "bad_form"
    BAD_JSON = "bad_json"
    BAD_ROLE = "bad_role"
    BAD_SETUP_CODE = "bad_setup_code"
    BAD_TOKEN = "bad_token"
    CODE_USED = "code_used"
    DISABLED = "disabled"
    EMAIL_TAKEN = "email_taken"
    INVALID_LOGIN = "invalid_login"
    LAST_ADMIN = "last_admin"
    MFA_LOCKED = "mfa_locked"
    MFA_RESTART = "mfa_restart"
    NOT_FOUND = "not_found"
    SELF_GRANT = "self_grant"
    THROTTLED = "throttled"
    TOO_LARGE = "too_large"
