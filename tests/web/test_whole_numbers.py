"""Whole numbers from user input: ASCII digits only and within what a database column holds, so '²' (which
`str.isdigit()` accepts and `int()` refuses) and full-width or Arabic-Indic digits (which `int()` reads) are
refused, never a 500."""

from __future__ import annotations

import pytest

from portal.web.forms import MAX_INT, FormReader, whole_number


@pytest.mark.parametrize("raw", ["0", "7", " 42 ", "2147483647"])
def test_ascii_digits_are_read(raw):
    assert whole_number(raw) == int(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "\u00b2",
        "\uff11",
        "\u0663",
        "\u07c1",
        "1\u00b2",
        "1_000",
        "+1",
        "-1",
        "",
        "2147483648",
        "9" * 5000,
        None,
        3,
    ],
)
def test_anything_else_is_no_number(raw):
    assert whole_number(raw) is None


@pytest.mark.parametrize("raw", ["\u00b2", "\uff11", "9" * 40])
def test_an_integer_field_says_what_to_enter(raw):
    reader = FormReader({"capacity": raw})
    assert reader.integer("capacity", label="the capacity") is None
    assert (
        reader.errors["capacity"]
        == f"Enter the capacity as a whole number, in digits 0 to 9 (at most {MAX_INT})."
    )


def test_an_integer_field_still_takes_a_negative_number_for_its_minimum_to_judge():
    reader = FormReader({"capacity": "-3"})
    assert reader.integer("capacity", label="the capacity", minimum=0) == -3
    assert reader.errors["capacity"] == "The capacity must be at least 0."


@pytest.mark.parametrize("before", ["\u00b2", "\uff11", "9" * 30])
@pytest.mark.parametrize("page", ["/audit", "/outbox"])
def test_a_page_number_in_other_digits_is_ignored_not_a_server_error(client, admin, page, before):
    from support import login

    login(client, "admin@example.org")
    response = client.get(page, params={"before": before})
    assert response.status_code == 200
