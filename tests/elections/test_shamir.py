"""Shamir's secret sharing over GF(256): any k shares rebuild the secret, k-1 shares are consistent with
every secret (so they reveal nothing), and shares of another split do not rebuild it."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.elections import shamir

DETERMINISTIC = settings(derandomize=True, max_examples=60, deadline=None)


@st.composite
def splits(draw):
    shares = draw(st.integers(min_value=2, max_value=6))
    threshold = draw(st.integers(min_value=2, max_value=shares))
    secret = draw(st.binary(min_size=1, max_size=32))
    seed = draw(st.binary(min_size=64, max_size=64))
    return secret, threshold, shares, seed


def _randbytes(seed: bytes):
    """Hypothesis-drawn coefficients, so every example is reproducible (the portal uses `secrets`)."""
    stream = itertools.cycle(seed)

    def randbytes(n: int) -> bytes:
        return bytes(next(stream) for _ in range(n))

    return randbytes


@DETERMINISTIC
@given(splits(), st.data())
def test_any_threshold_of_the_shares_rebuild_the_secret(split, data):
    secret, threshold, count, seed = split
    shares = shamir.split(secret, threshold=threshold, shares=count, randbytes=_randbytes(seed))
    chosen = data.draw(st.permutations(shares))[: data.draw(st.integers(threshold, count))]
    assert shamir.combine(chosen) == secret


@DETERMINISTIC
@given(splits(), st.binary(min_size=1, max_size=32))
def test_fewer_than_threshold_shares_are_consistent_with_every_secret(split, other):
    """For k-1 shares and ANY candidate secret there is a polynomial through both: adding the point
    (0, candidate) interpolates to exactly that candidate, whatever it is."""
    secret, threshold, count, seed = split
    shares = shamir.split(secret, threshold=threshold, shares=count, randbytes=_randbytes(seed))[
        : threshold - 1
    ]
    candidate = (other * 32)[: len(secret)]
    # The polynomial through the k-1 shares and (0, candidate) has degree k-1: build its value at a fresh x
    # and check the k points together rebuild the candidate, i.e. the k-1 shares never rule it out.
    points = [*shares]
    rebuilt_from_candidate = _through(points, candidate)
    assert shamir.combine([*points, rebuilt_from_candidate]) == candidate


def _through(points: list[shamir.Share], candidate: bytes) -> shamir.Share:
    """The share at the first unused x of the polynomial through `points` and (0, candidate)."""
    x = max(p.x for p in points) + 1
    zero = shamir.Share(x=0, y=candidate)
    # Lagrange evaluation at x over the points plus (0, candidate).
    all_points = [zero, *points]
    y = bytearray(len(candidate))
    for i, p in enumerate(all_points):
        basis = 1
        for j, q in enumerate(all_points):
            if i != j:
                basis = shamir._mul(basis, shamir._div(x ^ q.x, p.x ^ q.x))
        for index, byte in enumerate(p.y):
            y[index] ^= shamir._mul(byte, basis)
    return shamir.Share(x=x, y=bytes(y))


@DETERMINISTIC
@given(splits(), st.binary(min_size=64, max_size=64))
def test_shares_from_another_split_do_not_rebuild_the_secret(split, other_seed):
    secret, threshold, count, seed = split
    ours = shamir.split(secret, threshold=threshold, shares=count, randbytes=_randbytes(seed))
    theirs = shamir.split(secret, threshold=threshold, shares=count, randbytes=_randbytes(other_seed))
    mixed = [*ours[: threshold - 1], theirs[threshold - 1]]
    if ours[threshold - 1] != theirs[threshold - 1]:
        assert shamir.combine(mixed) != secret


def test_a_split_uses_fresh_randomness_each_time():
    secret = bytes(range(32))
    first = shamir.split(secret, threshold=2, shares=3)
    second = shamir.split(secret, threshold=2, shares=3)
    assert first != second
    assert shamir.combine(first[1:]) == shamir.combine(second[:2]) == secret


def test_field_multiplication_has_inverses():
    for a in range(1, 256):
        assert shamir._mul(a, shamir._div(1, a)) == 1
