"""An e-mail's stored context: plain values, and of a row only what its template reads; rendered later the same."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from portal.accounts.models import Account
from portal.mail import rendering


def _account() -> Account:
    return Account(
        id=7, email="sam@example.org", name="Sam Scrutineer", password_hash="$argon2id$secret-hash"
    )


def test_a_row_is_stored_as_the_attributes_its_template_reads_and_nothing_else():
    context = {
        "society_name": "IPT UK",
        "account": _account(),
        "head": "ab12",
        "ballots": 3,
        "election": None,
    }
    stored = json.loads(rendering.freeze("elections/chain_head", context))
    assert stored["account"] == {"$object": {"id": 7, "name": "Sam Scrutineer"}}
    assert "argon2" not in json.dumps(stored) and "sam@example.org" not in json.dumps(stored)


def test_the_stored_context_renders_as_the_live_one_did():
    when = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    context = {
        "society_name": "IPT UK",
        "account": _account(),
        "head": "ab12",
        "ballots": 3,
        "when": when,
        "lines": [("Formulation", "confirmed")],
    }
    thawed = rendering.thaw(rendering.freeze("elections/chain_head", context))
    assert thawed["when"] == when and thawed["lines"] == [["Formulation", "confirmed"]]
    assert thawed["account"].name == "Sam Scrutineer"


def test_what_cannot_be_stored_plainly_is_refused_when_the_email_is_written():
    with pytest.raises(TypeError, match=r"accounts\[0\] is a Account"):
        rendering.freeze("elections/chain_head", {"accounts": [_account()]})
    with pytest.raises(TypeError, match="function"):
        rendering.freeze("elections/chain_head", {"money": len})
