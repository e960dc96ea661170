"""The account a request acts as, for every room's handlers: a staff action records it as its actor (the
audit log names it), and the pages about one's own login read it.

It reads `ctx.principal`, which the request boundary loads; it lives here rather than in `web/` because `web/` knows
no domain, and every room's routes already sit above `accounts/`."""

from __future__ import annotations

from portal.accounts.models import Account
from portal.accounts.service import Principal
from portal.errors import Code, Forbidden, Kind, PortalError
from portal.web.context import Ctx


def login_or_none(ctx: Ctx) -> Principal | None:
    """The login behind a request, or None when nobody is logged in or a scanner device's token stands in."""
    return ctx.principal if isinstance(ctx.principal, Principal) else None


def login(ctx: Ctx) -> Principal:
    """The login behind a request whose guard admits only logins (never a scanner device, never nobody): its
    account, session and member ids are then ints the handler may pass on. Reached otherwise, it refuses the
    request rather than act for nobody."""
    principal = login_or_none(ctx)
    if principal is None:
        raise PortalError(Code.NOT_AUTHENTICATED, "Log in to continue.", kind=Kind.UNAUTHENTICATED)
    return principal


def member_id(ctx: Ctx) -> int:
    """The member the login is, for a handler whose guard admits only members."""
    found = login(ctx).member_id
    if found is None:
        raise Forbidden(Code.FORBIDDEN, "This page is for members of the society.")
    return found


def actor_or_none(ctx: Ctx) -> Account | None:
    """The logged-in account, or None when nobody is logged in or a scanner device's token stands in for a
    login (a door device has no account)."""
    principal = login_or_none(ctx)
    return ctx.db.get(Account, principal.account_id) if principal is not None else None


def actor(ctx: Ctx) -> Account:
    """The logged-in account, for a handler whose guard lets only a login in."""
    account = actor_or_none(ctx)
    assert account is not None, "actor() behind a guard that admits no login"
    return account
