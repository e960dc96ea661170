"""Reading and writing BLT files: the real files, round trips, and every kind of bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.elections.counting import (
    Ballot,
    BltError,
    Candidate,
    Contest,
    count_scottish_stv,
    load_blt,
    read_blt,
    write_blt,
)

DATA = Path(__file__).parent / "data" / "glasgow-2007"

GOOD = """\
4 2
-3
3 1 2 0

2 4 1 3 0
1 2 0
3 1 2 0
0
"Ann  Able "
"Bob Brown"
"Cy Cole"
"RON"
"Test  election"
"""


def test_blt_reader_reads_candidates_seats_ballots_withdrawals_names_and_title() -> None:
    contest = read_blt(GOOD)
    assert contest.seats == 2
    assert contest.candidates == (
        Candidate(1, "Ann  Able "),
        Candidate(2, "Bob Brown"),
        Candidate(3, "Cy Cole"),
        Candidate(4, "RON"),
    )
    assert contest.withdrawn == frozenset({3})
    assert contest.title == "Test  election"
    # Identical rankings are merged, in order of first appearance.
    assert contest.ballots == (Ballot((1, 2), 6), Ballot((4, 1, 3), 2), Ballot((2,), 1))


def test_blt_reader_keeps_repeated_and_trailing_spaces_in_glasgow_names() -> None:
    names = [c.name for c in load_blt(DATA / "Canal-2007.blt").candidates]
    assert "Ellen   Hurcombe" in names
    assert "Kieran  Wild " in names


def test_blt_writer_uses_negative_numbers_weights_terminators_and_quotes() -> None:
    assert write_blt(read_blt(GOOD)) == (
        '4 2\n-3\n6 1 2 0\n2 4 1 3 0\n1 2 0\n0\n"Ann  Able "\n"Bob Brown"\n"Cy Cole"\n"RON"\n"Test  election"\n'
    )


def test_blt_writer_groups_identical_ballots_and_numbers_candidates_by_position() -> None:
    contest = Contest(
        1,
        (Candidate("x", "X"), Candidate("y", "Y")),
        (Ballot(("y", "x")), Ballot(("x",)), Ballot(("y", "x"), 2)),
        title="Posts",
    )
    assert write_blt(contest) == '2 1\n3 2 1 0\n1 1 0\n0\n"X"\n"Y"\n"Posts"\n'


@pytest.mark.parametrize("path", sorted(DATA.glob("*.blt")), ids=lambda p: p.stem)
def test_blt_round_trip_of_reference_file_gives_the_same_election(path: Path) -> None:
    contest = load_blt(path)
    assert read_blt(write_blt(contest)) == contest


def test_blt_withdrawn_candidate_is_skipped_on_every_ballot() -> None:
    # Withdrawing C by the BLT line gives the same count as ballots that never mentioned C.
    with_line = read_blt('3 1\n-3\n4 3 1 0\n3 2 0\n2 1 0\n0\n"A"\n"B"\n"C"\n"T"\n')
    without = read_blt('3 1\n-3\n4 1 0\n3 2 0\n2 1 0\n0\n"A"\n"B"\n"C"\n"T"\n')
    result = count_scottish_stv(with_line, seed=1)
    assert [c.name for c in result.winners] == ["A"]
    assert result.as_dict()["rounds"] == count_scottish_stv(without, seed=1).as_dict()["rounds"]
    assert [c.name for c in result.withdrawn] == ["C"]


def test_blt_reader_tolerates_windows_line_endings_blank_lines_and_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "crlf.blt"
    path.write_bytes(b'\xef\xbb\xbf2 1\r\n\r\n1 1 2 0\r\n1 2 0\r\n0\r\n"A"\r\n\r\n"B"\r\n"T"\r\n\r\n')
    contest = load_blt(path)
    assert [c.name for c in contest.candidates] == ["A", "B"]
    assert contest.title == "T"


BAD = {
    "bad-header": ('2\n1 1 0\n0\n"A"\n"B"\n"T"\n', 1),
    "bad-header-words": ('two one\n1 1 0\n0\n"A"\n"B"\n"T"\n', 1),
    "bad-header-zero-seats": ('2 0\n1 1 0\n0\n"A"\n"B"\n"T"\n', 1),
    "bad-withdrawn": ('2 1\n-5\n1 1 0\n0\n"A"\n"B"\n"T"\n', 2),
    "bad-weight": ('2 1\nx 1 0\n0\n"A"\n"B"\n"T"\n', 2),
    "bad-token": ('2 1\n1 1 b 0\n0\n"A"\n"B"\n"T"\n', 2),
    "missing-terminator": ('2 1\n1 1 2\n0\n"A"\n"B"\n"T"\n', 2),
    "tokens-after-terminator": ('2 1\n1 1 0 2\n0\n"A"\n"B"\n"T"\n', 2),
    "preference-out-of-range": ('2 1\n1 1 3 0\n0\n"A"\n"B"\n"T"\n', 2),
    "preference-negative": ('2 1\n1 1 -2 0\n0\n"A"\n"B"\n"T"\n', 2),
    "duplicate-preference": ('2 1\n3 1 2 1 0\n0\n"A"\n"B"\n"T"\n', 2),
    "equal-ranking": ('2 1\n1 1=2 0\n0\n"A"\n"B"\n"T"\n', 2),
    "comment": ('2 1\n# a comment\n1 1 0\n0\n"A"\n"B"\n"T"\n', 2),
    "missing-end-of-ballots": ('2 1\n1 1 0\n"A"\n"B"\n"T"\n', 3),
    "missing-end-of-ballots-at-eof": ("2 1\n1 1 0\n", None),
    "missing-names": ('3 1\n1 1 0\n0\n"A"\n', 4),
    "bad-name": ('2 1\n1 1 0\n0\nA\n"B"\n"T"\n', 4),
    "duplicate-name": ('2 1\n1 1 0\n0\n"A"\n"A"\n"T"\n', 5),
    "missing-title": ('2 1\n1 1 0\n0\n"A"\n"B"\n', 5),
    "trailing-content": ('2 1\n1 1 0\n0\n"A"\n"B"\n"T"\n"extra"\n', 7),
    "empty": ("\n\n", None),
}
EXPECTED_CODE = {
    "bad-header-words": "bad-header",
    "bad-header-zero-seats": "bad-header",
    "preference-negative": "preference-out-of-range",
    "comment": "bad-weight",
    "missing-end-of-ballots-at-eof": "missing-end-of-ballots",
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_blt_reader_rejects_bad_input_with_a_stable_code_and_line_number(case: str) -> None:
    text, line = BAD[case]
    with pytest.raises(BltError) as caught:
        read_blt(text)
    assert caught.value.code == EXPECTED_CODE.get(case, case)
    assert caught.value.line == line
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("name", ['Say "hi"', "two\nlines", "para\u2029graph"])
def test_blt_writer_refuses_names_it_could_not_read_back(name: str) -> None:
    contest = Contest(1, (Candidate(1, name), Candidate(2, "B")), ())
    with pytest.raises(BltError) as caught:
        write_blt(contest)
    assert caught.value.code == "unwritable-name"
    with pytest.raises(BltError) as caught:
        write_blt(Contest(1, (Candidate(1, "A"),), (), title=name))
    assert caught.value.code == "unwritable-title"
