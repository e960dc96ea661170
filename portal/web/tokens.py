"""Bearer tokens: 128+ random bits, stored only as a keyed SHA-256 digest.

An unguessable token needs no slow hash: an HMAC with the secret key means a copy of the database alone
cannot be used to forge or look up a token, and the hot paths (ballot links, scanner devices) stay fast.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token(nbytes: int = 24) -> str:
    """A URL-safe token of `nbytes` random bytes (24 bytes = 192 bits)."""
    return secrets.token_urlsafe(nbytes)


def token_digest(key: bytes, token: str, *, purpose: str) -> str:
    """The keyed digest stored in place of a token; `purpose` keeps one kind of token from passing as another."""
    return hmac.new(key, f"{purpose}:{token}".encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
