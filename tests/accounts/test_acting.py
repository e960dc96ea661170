"""`acting.actor`: the account a handler acts as, read from the request's login (one helper for every room)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from portal.accounts import acting
from portal.accounts.service import Principal
from portal.web.context import Ctx


@dataclass(frozen=True)
class Device:
    """A scanner device's token standing in for a login: it has no account."""

    event_id: int = 1


def _ctx(db, principal) -> Ctx:
    return Ctx(request=None, db=db, settings=None, now=None, principal=principal)  # type: ignore[arg-type]


def test_the_actor_is_the_logged_in_account(db, admin):
    principal = Principal(
        account_id=admin.id, name="Ada", email=admin.email, roles=frozenset({"admin"}), session_id=1
    )
    assert acting.actor(_ctx(db, principal)).email == "admin@example.org"
    assert acting.actor_or_none(_ctx(db, principal)).id == admin.id


@pytest.mark.parametrize("principal", [None, Device()], ids=["nobody", "device"])
def test_no_login_has_no_actor(db, principal):
    assert acting.actor_or_none(_ctx(db, principal)) is None
    with pytest.raises(AssertionError):
        acting.actor(_ctx(db, principal))
