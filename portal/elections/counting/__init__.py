"""Vote counting for the election portal: pure Python, standard library only, no database.

Public API:

* Inputs (:mod:`.model`): :class:`Candidate`, :class:`Ballot`, :class:`Contest`, the :data:`Method` names
  and :data:`METHODS`.
* Counting: :func:`count_plurality`, :func:`count_approval`, :func:`count_scottish_stv`,
  :func:`count_ers97_stv`, :func:`count` (by method name) and :func:`count_in_order` (several contests,
  withdrawing candidates elected earlier).  Every count takes ``seed`` for any lot and records it.
* Records (:mod:`.record`): :class:`CountResult`, :class:`Stage`, :class:`Tally`, :class:`Decision`,
  with ``CountResult.to_json()`` / ``as_dict()`` and :func:`explain` (plain sentences for the results page).
* BLT files (:mod:`.blt`): :func:`read_blt`, :func:`load_blt`, :func:`write_blt` and :class:`BltError`.

Nothing here imports the rest of ``portal``; all arithmetic is exact (integer fixed point).
"""

from .blt import BltError, load_blt, read_blt, write_blt
from .ers97 import count_ers97_stv
from .model import METHODS, Ballot, Candidate, CandidateId, Contest, Method
from .order import count, count_in_order
from .plurality import count_approval, count_plurality
from .record import CountResult, Decision, Stage, Tally, explain
from .scottish import count_scottish_stv

__all__ = [
    "METHODS",
    "Ballot",
    "BltError",
    "Candidate",
    "CandidateId",
    "Contest",
    "CountResult",
    "Decision",
    "Method",
    "Stage",
    "Tally",
    "count",
    "count_approval",
    "count_ers97_stv",
    "count_in_order",
    "count_plurality",
    "count_scottish_stv",
    "explain",
    "load_blt",
    "read_blt",
    "write_blt",
]
