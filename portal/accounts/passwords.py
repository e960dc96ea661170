"""argon2id password hashing. The parameters come from settings, so tests can use cheap ones and a change
of parameters upgrades each stored hash at its owner's next login."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# Tests use this profile: correct argon2id, a fraction of the cost.
FAST_PARAMS = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


class Passwords:
    def __init__(self, *, fast: bool = False) -> None:
        self.hasher = (
            PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1) if fast else PasswordHasher()
        )
        # Verified against when the e-mail is unknown, so both cases take the same time.
        self._dummy = self.hasher.hash("not a real password; only spends the same time")

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        try:
            return self.hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self.hasher.check_needs_rehash(stored)
