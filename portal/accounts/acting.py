"""The account a request acts as, for every room's handlers: a staff action records it as its actor (the
audit log names it), and the pages about one's own login read it.

It reads `ctx.principal`, which the request boundary loads; it lives here rather than in `web/` because `web/` knows
no domain, and every room's routes already sit above `accounts/`."""

from __future__ import annotations

from portal.accounts.models import Account
from portal.web.context import Ctx


def actor_or_none(ctx: Ctx) -> Account | None:
    """The logged-in account, or None when nobody is logged in or a scanner device's token stands in for a
    login (a door device has no account)."""
    account_id = getattr(ctx.principal, "account_id", None)
    return ctx.db.get(Account, account_id) if account_id is not None else None


def actor(ctx: Ctx) -> Account:
    """The logged-in account, for a handler whose guard lets only a login in."""
    account = actor_or_none(ctx)
    assert account is not None, "actor() behind a guard that admits no login"
    return account
