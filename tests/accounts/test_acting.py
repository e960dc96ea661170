"""Who a handler acts for: `acting.login` hands over a login's own ids as ints, and refuses what is not a login
(nobody, or a scanner device's token) instead of acting for nobody."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.accounts import acting
from portal.accounts.service import Principal
from portal.checkin.devices import DevicePrincipal
from portal.errors import Kind, PortalError
from portal.web.context import Ctx

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def _ctx(principal: object) -> Ctx:
    return Ctx(request=None, db=None, settings=None, now=NOW, principal=principal)  # type: ignore[arg-type]


LOGIN = Principal(
    account_id=7, name="Ann", email="ann@example.org", roles=frozenset(), session_id=3, member_id=11
)
STAFF = Principal(
    account_id=8, name="Ola", email="ola@example.org", roles=frozenset({"office"}), session_id=4
)
DEVICE = DevicePrincipal(device_id=1, event_id=2, name="Door A")


def test_a_login_is_handed_over_with_its_ids():
    assert acting.login(_ctx(LOGIN)).account_id == 7
    assert acting.member_id(_ctx(LOGIN)) == 11
    assert acting.login_or_none(_ctx(LOGIN)) is LOGIN


@pytest.mark.parametrize("principal", [None, DEVICE], ids=["nobody", "device"])
def test_nobody_and_a_scanner_device_are_not_a_login(principal):
    assert acting.login_or_none(_ctx(principal)) is None
    with pytest.raises(PortalError) as refused:
        acting.login(_ctx(principal))
    assert refused.value.kind is Kind.UNAUTHENTICATED


def test_a_staff_login_that_is_no_member_is_refused_a_members_page():
    with pytest.raises(PortalError) as refused:
        acting.member_id(_ctx(STAFF))
    assert refused.value.kind is Kind.FORBIDDEN
    assert "members" in str(refused.value.message)
