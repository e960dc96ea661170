"""Counting by method name, and counting several contests in order.

Societies often elect officers one post after another from the same candidates (president, then
vice-president, then council); someone elected to an earlier post is withdrawn from the later ones
before those are counted, so their ballots simply pass to the next preference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ._engine import resolve_seed
from .ers97 import count_ers97_stv
from .model import METHODS, CandidateId, Contest, Method
from .plurality import count_approval, count_plurality
from .record import CountResult
from .scottish import count_scottish_stv

COUNTERS: dict[str, Callable[..., CountResult]] = {
    "plurality": count_plurality,
    "approval": count_approval,
    "scottish-stv": count_scottish_stv,
    "ers97-stv": count_ers97_stv,
}


def count(contest: Contest, method: Method, *, seed: int | None = None) -> CountResult:
    """Count ``contest`` with the named method (one of :data:`METHODS`)."""
    try:
        counter = COUNTERS[method]
    except KeyError:
        raise ValueError(
            f"unknown counting method {method!r}; expected one of {', '.join(METHODS)}"
        ) from None
    return counter(contest, seed=seed)


def count_in_order(
    contests: Sequence[tuple[Contest, Method]], *, seed: int | None = None
) -> list[CountResult]:
    """Count contests one after another, withdrawing from each the candidates elected earlier.

    ``contests`` pairs each contest with its method.  Candidates are matched by ``Candidate.id``, so the
    same person must carry the same id in every contest.  Every contest is counted with ``seed`` (a
    fresh one is drawn if it is omitted, shared by all and recorded in each result).
    """
    seed = resolve_seed(seed)
    elected: set[CandidateId] = set()
    results: list[CountResult] = []
    for contest, method in contests:
        result = count(contest.with_withdrawn(elected), method, seed=seed)
        elected.update(c.id for c in result.winners)
        results.append(result)
    return results
