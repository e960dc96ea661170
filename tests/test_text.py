"""The small text rules every export shares (`portal/text.py`)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portal.text import csv_safe


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=SUM(A1:A2)", "'=SUM(A1:A2)"),
        ("+44 20", "'+44 20"),
        ("-1", "'-1"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ann", "Ann"),
        ("a=b", "a=b"),
        (None, ""),
        (12, "12"),
        (-3, "'-3"),
        (date(2027, 1, 2), "2027-01-02"),
        (datetime(2027, 1, 2, 9, 30, tzinfo=UTC), "2027-01-02T09:30:00+00:00"),
    ],
)
def test_csv_cells_that_a_spreadsheet_would_run_get_a_leading_quote(value, expected):
    assert csv_safe(value) == expected
