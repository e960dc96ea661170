"""Shamir's secret sharing over GF(256), byte by byte: any `threshold` of the shares rebuild the secret, and
fewer say nothing about it (for every possible secret there is exactly one polynomial through them).

Pure functions, no I/O. The field is GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1; each byte of
the secret is the constant term of its own random polynomial of degree `threshold - 1`, evaluated at the
share's position x = 1 … n (never 0, which is the secret itself). Randomness comes from `secrets`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_EXP = [0] * 510
_LOG = [0] * 256


def _tables() -> None:
    value = 1
    for power in range(255):
        _EXP[power] = value
        _LOG[value] = power
        # Multiply by the generator 3 (x + 1): value * 2 xor value, reduced by the AES polynomial.
        doubled = value << 1
        if doubled & 0x100:
            doubled ^= 0x11B
        value = doubled ^ value
    for power in range(255, 510):
        _EXP[power] = _EXP[power - 255]


_tables()


def _mul(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    return _EXP[_LOG[a] + _LOG[b]]


def _div(a: int, b: int) -> int:
    if b == 0:
        raise ZeroDivisionError("division by zero in GF(256)")
    if a == 0:
        return 0
    return _EXP[_LOG[a] - _LOG[b] + 255]


@dataclass(frozen=True)
class Share:
    """One trustee's share: its position x (1 … 255) and one byte of y per byte of the secret."""

    x: int
    y: bytes


def split(
    secret: bytes, *, threshold: int, shares: int, randbytes: Callable[[int], bytes] = secrets.token_bytes
) -> list[Share]:
    """`shares` shares of `secret`, any `threshold` of which rebuild it."""
    if not 2 <= threshold <= shares <= 255:
        raise ValueError("need 2 <= threshold <= shares <= 255")
    # coefficients[i] is the polynomial of byte i: [secret byte, random, random, ...].
    coefficients = [[byte, *randbytes(threshold - 1)] for byte in secret]
    result = []
    for x in range(1, shares + 1):
        y = bytearray()
        for poly in coefficients:
            acc = 0
            for coefficient in reversed(poly):  # Horner's rule
                acc = _mul(acc, x) ^ coefficient
            y.append(acc)
        result.append(Share(x=x, y=bytes(y)))
    return result


def combine(shares: Sequence[Share]) -> bytes:
    """The secret the shares' polynomials pass through at x = 0 (Lagrange interpolation). Given fewer than
    the threshold, or shares of different splits, the result is some other value: callers check it."""
    if not shares:
        raise ValueError("no shares")
    xs = [s.x for s in shares]
    if len(set(xs)) != len(xs) or 0 in xs:
        raise ValueError("shares must have distinct positions, none zero")
    if len({len(s.y) for s in shares}) != 1:
        raise ValueError("shares have different lengths")
    secret = bytearray(len(shares[0].y))
    for i, share in enumerate(shares):
        # The Lagrange basis polynomial of share i at 0: product over j != i of x_j / (x_j - x_i).
        basis = 1
        for j, other in enumerate(shares):
            if i != j:
                basis = _mul(basis, _div(other.x, other.x ^ share.x))
        for index, byte in enumerate(share.y):
            secret[index] ^= _mul(byte, basis)
    return bytes(secret)
