"""Bearer tokens: 128+ random bits, stored only as a keyed SHA-256 digest.

An unguessable token needs no slow hash: an HMAC with the secret key means a copy of the database alone
cannot be used to forge or look up a token, and the hot paths (ballot links, scanner devices) stay fast.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime


def new_token(nbytes: int = 24) -> str:
    """A URL-safe token of `nbytes` random bytes (24 bytes = 192 bits)."""
    return secrets.token_urlsafe(nbytes)


def token_digest(key: bytes, token: str, *, purpose: str) -> str:
    """The keyed digest stored in place of a token; `purpose` keeps one kind of token from passing as another."""
    return hmac.new(key, f"{purpose}:{token}".encode(), hashlib.sha256).hexdigest()


def signed_moment(key: bytes, now: datetime, *, purpose: str) -> str:
    """A moment (whole seconds) with its keyed signature, for a form to carry and send back: how long the form
    was open can then be told without the sender being able to make it older."""
    stamp = str(int(now.timestamp()))
    return f"{stamp}.{token_digest(key, stamp, purpose=purpose)[:32]}"


def signed_moment_at(key: bytes, signed: str, *, purpose: str) -> datetime | None:
    """The moment `signed_moment` signed, or None when the text is missing, forged or not one."""
    stamp, _, signature = (signed or "").partition(".")
    if not stamp.isdigit() or len(stamp) > 12:
        return None
    if not same(signature, token_digest(key, stamp, purpose=purpose)[:32]):
        return None
    return datetime.fromtimestamp(int(stamp), UTC)


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
