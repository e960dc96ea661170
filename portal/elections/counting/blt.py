"""Read and write the BLT ballot format used by most STV counting programs.

The format, line by line::

    4 2                 number of candidates, number of seats
    -3                  optional: withdrawn candidates as negative numbers
    12 1 2 0            ballots: weight, preferences by candidate number (1-based), 0
    3 4 0
    0                   end of ballots
    "Candidate One"     one quoted name per candidate, in candidate-number order
    ...
    "Title"             quoted title

Blank lines are tolerated anywhere.  Names are kept exactly as quoted (repeated or trailing spaces
included) because results are matched by name.  Equal rankings (``=``) and ``#`` comments are not part
of the standard and are rejected with a :class:`BltError`, as is anything else malformed, so a bad file
fails loudly with its line number instead of producing a wrong count.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

from .model import Ballot, Candidate, Contest


class BltError(ValueError):
    """Malformed BLT input.  ``code`` is stable (tests and callers match on it); the text may change.

    Codes: ``bad-header``, ``bad-withdrawn``, ``bad-weight``, ``bad-token``, ``equal-ranking``,
    ``missing-terminator``, ``tokens-after-terminator``, ``preference-out-of-range``,
    ``duplicate-preference``, ``missing-end-of-ballots``, ``bad-name``, ``missing-names``,
    ``duplicate-name``, ``missing-title``, ``trailing-content``, ``empty``; when writing,
    ``unwritable-name`` and ``unwritable-title``.
    """

    def __init__(self, code: str, message: str, line: int | None = None) -> None:
        self.code = code
        self.message = message
        self.line = line
        super().__init__(f"line {line}: {message}" if line is not None else message)


def _int(token: str) -> int | None:
    """Parse a plain decimal integer (optional leading minus); ``None`` if it is anything else."""
    body = token[1:] if token.startswith("-") else token
    return int(token) if body.isdigit() and body.isascii() else None


def _quoted(line: str) -> str | None:
    """The text between the quotes of a line holding exactly one quoted string, else ``None``."""
    text = line.strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"' and '"' not in text[1:-1]:
        return text[1:-1]
    return None


def read_blt(text: str) -> Contest:
    """Parse BLT text into a :class:`Contest` whose candidate ids are the numbers 1..n.

    Identical rankings are merged into one weighted ballot (in order of first appearance), so that
    reading, writing and reading again gives an identical contest.
    """
    lines = [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise BltError("empty", "the file is empty")
    at = 0

    number, line = lines[at]
    header = line.split()
    n_candidates = _int(header[0]) if len(header) == 2 else None
    seats = _int(header[1]) if len(header) == 2 else None
    if n_candidates is None or seats is None:
        raise BltError("bad-header", f"expected 'candidates seats', found {line.strip()!r}", number)
    if n_candidates < 1 or seats < 1:
        raise BltError("bad-header", "the numbers of candidates and seats must both be at least 1", number)
    at += 1

    withdrawn: set[int] = set()
    while at < len(lines) and lines[at][1].split()[0].startswith("-"):
        number, line = lines[at]
        for token in line.split():
            value = _int(token)
            if value is None or value >= 0 or -value > n_candidates:
                raise BltError(
                    "bad-withdrawn", f"{token!r} is not a withdrawn candidate -1..-{n_candidates}", number
                )
            withdrawn.add(-value)
        at += 1

    weights: dict[tuple[int, ...], int] = {}
    while True:
        if at >= len(lines):
            raise BltError(
                "missing-end-of-ballots", "the file ended before the '0' line that ends the ballots"
            )
        number, line = lines[at]
        at += 1
        tokens = line.split()
        if tokens == ["0"]:
            break
        if line.lstrip().startswith('"'):
            raise BltError(
                "missing-end-of-ballots", "names start before the '0' line that ends the ballots", number
            )
        if "=" in line:
            raise BltError("equal-ranking", "equal rankings ('=') are not supported", number)
        weight = _int(tokens[0])
        if weight is None or weight < 1:
            raise BltError(
                "bad-weight", f"a ballot line must start with a positive weight, not {tokens[0]!r}", number
            )
        ranking: list[int] = []
        terminated = False
        for token in tokens[1:]:
            if terminated:
                raise BltError(
                    "tokens-after-terminator", f"{token!r} follows the 0 that ends the ballot", number
                )
            value = _int(token)
            if value is None:
                raise BltError("bad-token", f"{token!r} is not a candidate number", number)
            if value == 0:
                terminated = True
                continue
            if not 1 <= value <= n_candidates:
                raise BltError(
                    "preference-out-of-range",
                    f"preference {value} is not a candidate 1..{n_candidates}",
                    number,
                )
            if value in ranking:
                raise BltError("duplicate-preference", f"candidate {value} is ranked twice", number)
            ranking.append(value)
        if not terminated:
            raise BltError("missing-terminator", "a ballot line must end with 0", number)
        key = tuple(ranking)
        weights[key] = weights.get(key, 0) + weight

    names: list[str] = []
    while len(names) < n_candidates:
        if at >= len(lines):
            raise BltError(
                "missing-names", f"expected {n_candidates} candidate names, found {len(names)}", lines[-1][0]
            )
        number, line = lines[at]
        at += 1
        name = _quoted(line)
        if name is None:
            raise BltError(
                "bad-name", f"a candidate name must be one quoted string, found {line.strip()!r}", number
            )
        if name in names:
            raise BltError("duplicate-name", f"the name {name!r} is used twice", number)
        names.append(name)

    if at >= len(lines):
        raise BltError("missing-title", "the quoted title is missing", lines[-1][0])
    number, line = lines[at]
    at += 1
    title = _quoted(line)
    if title is None:
        raise BltError("missing-title", f"expected a quoted title, found {line.strip()!r}", number)
    if at < len(lines):
        raise BltError(
            "trailing-content", f"unexpected text after the title: {lines[at][1].strip()!r}", lines[at][0]
        )

    candidates = tuple(Candidate(i, name) for i, name in enumerate(names, start=1))
    ballots = tuple(Ballot(r, w) for r, w in weights.items())
    return Contest(seats, candidates, ballots, frozenset(withdrawn), title)


# Characters that str.splitlines() treats as line ends; a quoted name or title cannot contain them.
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def _writable(text: str) -> bool:
    """Whether ``text`` can be written between quotes on one BLT line and read back unchanged."""
    return '"' not in text and not _LINE_BREAKS.intersection(text)


def load_blt(path: str | PathLike[str]) -> Contest:
    """Read a BLT file (UTF-8; a byte-order mark is ignored)."""
    return read_blt(Path(path).read_text(encoding="utf-8-sig"))


def write_blt(contest: Contest) -> str:
    """Write ``contest`` as BLT text; candidates are numbered by their position in ``contest.candidates``.

    Identical rankings are grouped into one line with their total weight, withdrawn candidates are
    written as negative numbers, and names and title are quoted exactly as they are.
    """
    number = {c.id: i for i, c in enumerate(contest.candidates, start=1)}
    for c in contest.candidates:
        if not _writable(c.name):
            raise BltError("unwritable-name", f"BLT cannot hold the name {c.name!r}")
    if not _writable(contest.title):
        raise BltError("unwritable-title", f"BLT cannot hold the title {contest.title!r}")
    out = [f"{len(contest.candidates)} {contest.seats}"]
    if contest.withdrawn:
        out.append(" ".join(f"-{number[c]}" for c in sorted(contest.withdrawn, key=number.__getitem__)))
    for ballot in contest.grouped().ballots:
        out.append(" ".join([str(ballot.weight), *(str(number[c]) for c in ballot.ranking), "0"]))
    out.append("0")
    out.extend(f'"{c.name}"' for c in contest.candidates)
    out.append(f'"{contest.title}"')
    return "\n".join(out) + "\n"
