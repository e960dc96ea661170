"""Hostile input to every route: malformed, oversized and strange bodies, headers, query strings and uploads.

Never a 500, always a clear answer; oversized bodies get 413. The walk covers every route the app has, so a new
route is fuzzed the day it is added.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import SECRET, all_routes, csrf_token, fill_path, login

from portal import audit

FIELDS = [
    "name",
    "email",
    "password",
    "password_confirm",
    "title",
    "code",
    "roles",
    "action",
    "q",
    "slug",
    "capacity",
    "price",
    "ticket",
    "answer",
    "statement",
    "reason",
    "door",
    "nonce",
    "society_name",
    "active",
    "status",
    "page",
    "before",
    "ticket",
    "registration",
    "workshops",
    "reminder_days",
    "contest",
    "seats",
    "method",
    "received_on",
    "invoice_method",
    "left_on",
    "erase_after_years",
    "confirm",
]
#: Digits that `str.isdigit()` accepts but `int()` refuses (superscript two) or reads as a number (full-width,
#: Arabic-Indic, N'Ko).
NON_ASCII_DIGITS = [
    "\u00b2",
    "\uff11",
    "\u0663",
    "\u07c1",
    "1\u00b2",
    "\uff11\uff12",
    "\u0663\u0664",
    "\u00b9\u2070",
]
HOSTILE_TEXT = st.one_of(
    st.text(max_size=50),
    st.sampled_from(
        [
            "",
            "\x00",
            "' OR 1=1 --",
            "<script>alert(1)</script>",
            "{{ 7*7 }}",
            "\u202eevil",
            "😀" * 50,
            "-1",
            "99999999999999999999999",
            "1e309",
            "NaN",
            "../../etc/passwd",
            "=cmd|' /C calc'!A0",
            "a" * 5000,
            "9" * 5000,
            *NON_ASCII_DIGITS,
        ]
    ),
    st.lists(st.sampled_from([*"0123456789", *NON_ASCII_DIGITS]), min_size=1, max_size=4).map("".join),
)
FORM = st.dictionaries(
    st.sampled_from(FIELDS), st.one_of(HOSTILE_TEXT, st.lists(HOSTILE_TEXT, max_size=3)), max_size=8
)
JSON_BODY = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | HOSTILE_TEXT,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(FIELDS), children, max_size=5)
    ),
    max_leaves=12,
)


def _unsafe_routes(app):
    return [
        (name, fill_path(path), m)
        for name, path, methods, _ in all_routes(app)
        for m in methods
        if m != "GET"
    ]


def _get_routes(app):
    return [(name, fill_path(path)) for name, path, methods, _ in all_routes(app) if "GET" in methods]


@pytest.fixture
def admin_client(client, admin):
    login(client, "admin@example.org")
    return client


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_hostile_forms_never_cause_a_server_error(app, admin_client, data):
    name, url, method = data.draw(st.sampled_from(_unsafe_routes(app)))
    form = data.draw(FORM)
    form["csrf_token"] = csrf_token(admin_client)
    headers = {"HX-Request": "true"} if data.draw(st.booleans()) else {}
    response = admin_client.request(method, url, data=form, headers=headers)
    assert response.status_code < 500, f"{method} {url} ({name}) answered {response.status_code} to {form!r}"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_hostile_json_never_causes_a_server_error(app, admin_client, data):
    name, url, method = data.draw(st.sampled_from(_unsafe_routes(app)))
    body = data.draw(JSON_BODY)
    response = admin_client.request(
        method, url, json=body, headers={"X-CSRF-Token": csrf_token(admin_client)}
    )
    assert response.status_code < 500, f"{method} {url} ({name}) answered {response.status_code} to {body!r}"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_hostile_query_strings_never_cause_a_server_error(app, admin_client, data):
    name, url = data.draw(st.sampled_from(_get_routes(app)))
    params = data.draw(
        st.dictionaries(
            st.sampled_from([*FIELDS, "sort", "before", "verify", "next"]), HOSTILE_TEXT, max_size=5
        )
    )
    response = admin_client.get(url, params=params)
    assert response.status_code < 500, f"GET {url} ({name}) answered {response.status_code} to {params!r}"


def test_malformed_bodies_get_clear_answers(app, admin_client):
    token = csrf_token(admin_client)
    for name, url, method in _unsafe_routes(app):
        broken_json = admin_client.request(
            method,
            url,
            content=b"{not json",
            headers={"Content-Type": "application/json", "X-CSRF-Token": token},
        )
        assert broken_json.status_code < 500, f"{method} {url} ({name}): {broken_json.status_code}"
        broken_multipart = admin_client.request(
            method,
            url,
            content=b'--XX\r\nContent-Disposition: form-data; name="a"\r\n\r\nunterminated',
            headers={"Content-Type": "multipart/form-data; boundary=XX", "X-CSRF-Token": token},
        )
        assert broken_multipart.status_code < 500, f"{method} {url} ({name}): {broken_multipart.status_code}"
        odd_type = admin_client.request(
            method,
            url,
            content=b"\x00\xff" * 100,
            headers={"Content-Type": "application/octet-stream", "X-CSRF-Token": token},
        )
        assert odd_type.status_code < 500, f"{method} {url} ({name}): {odd_type.status_code}"


def test_oversized_bodies_and_uploads_are_refused_with_413(app, admin_client):
    token = csrf_token(admin_client)
    _name, url, method = _unsafe_routes(app)[0]
    huge = admin_client.request(
        method,
        url,
        content=b"x" * (13 * 1024 * 1024),
        headers={"X-CSRF-Token": token, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert huge.status_code == 413
    assert huge.json()["error"]["code"] == "too_large"
    upload = admin_client.request(
        method,
        url,
        data={"csrf_token": token},
        files={"file": ("big.csv", b"a," * (6 * 1024 * 1024), "text/csv")},
    )
    assert upload.status_code == 413


def test_hostile_input_leaves_the_audit_chain_intact(app, admin_client, db):
    token = csrf_token(admin_client)
    for _name, url, method in _unsafe_routes(app):
        admin_client.request(method, url, data={"csrf_token": token, "name": "\x00" * 10, "email": "<x>@y"})
    assert audit.verify(db, key=SECRET.encode()) == []


@pytest.mark.parametrize("number", ["99999999999999999999", "2147483648"])
def test_a_path_id_too_large_for_a_column_is_not_found_never_a_server_error(app, admin_client, number):
    token = csrf_token(admin_client)
    checked = 0
    for name, path, methods, _ in all_routes(app):
        if ":int}" not in path:
            continue
        url = fill_path(re.sub(r"\{[^}:]+:int\}", number, path))
        for method in methods:
            response = admin_client.request(
                method, url, data={"csrf_token": token} if method != "GET" else None
            )
            assert response.status_code == 404, f"{method} {url} ({name}) answered {response.status_code}"
            checked += 1
    assert checked > 20
