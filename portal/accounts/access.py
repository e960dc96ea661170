"""Who may use each route: the access words of `@page(...)` and `@api(...)`, and the login behind a request.

Every handler declares who may use it; the request boundary (`portal/web/boundary.py`) enforces it. Access
words: `public` (anyone), `anonymous` (only when not logged in), `authenticated` (any login), `member` (a login
linked to the membership roll), or role names. An administrator also passes `office` and `door` checks, never
`returning_officer` or `scrutineer` (elections stay with their officers; see `Principal.has`).

`wiring(...)` gives the boundary what it needs of this domain: the login loader (a session cookie, or a
scanner device's bearer token through the loader check-in passes in), the society check, the activity stamp and
the upload allowance.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from portal.accounts import service
from portal.accounts.models import ROLES
from portal.accounts.service import Principal
from portal.accounts.uploads import claim_upload
from portal.society import service as society_service
from portal.web.boundary import CatchUp, Prepare, Wiring, Writes, cookie_name, endpoint
from portal.web.context import Ctx
from portal.web.context import Principal as WebPrincipal
from portal.web.uploads import UploadRefused, UploadRule

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

ACCESS_WORDS = frozenset({"public", "anonymous", "authenticated", "member"})
SESSION_COOKIE = "portal_session"

Handler = Callable[[Ctx], "Response"]
Endpoint = Callable[["Request"], Any]


class AccessSpec:
    def __init__(
        self,
        words: tuple[str, ...],
        *,
        kind: str,
        devices: bool = False,
        before_setup: bool = False,
        before_totp: bool = False,
        signed: bool = False,
    ) -> None:
        unknown = set(words) - ACCESS_WORDS - set(ROLES)
        if unknown or not words:
            raise ValueError(f"unknown access words {unknown or '(none)'}")
        self.words = frozenset(words)
        self.kind = kind  # "page" or "api"
        self.devices = devices
        #: Reachable before first-run setup (the setup page itself).
        self.before_setup = before_setup
        #: Reachable by a staff login that must still set up two-step verification (its setup, logging out).
        self.before_totp = before_totp
        self.anonymous_only = "anonymous" in self.words
        #: Verified by the handler's own signature check instead of Origin and CSRF (a provider's webhook).
        self.signed = signed

    def allows(self, principal: WebPrincipal | None) -> bool:
        if "public" in self.words:
            return True
        if "anonymous" in self.words:
            return principal is None
        if principal is None:
            return False
        if "authenticated" in self.words:
            return True
        if "member" in self.words and principal.member_id is not None:
            return True
        return bool(principal.has(*(self.words & set(ROLES))))

    def __repr__(self) -> str:
        return f"AccessSpec({sorted(self.words)}, kind={self.kind})"


def page(
    *allow: str,
    write: Writes = None,
    before_setup: bool = False,
    before_totp: bool = False,
    uploads: tuple[UploadRule, ...] = (),
    catch_up: tuple[CatchUp, ...] = (),
    prepare: Prepare | None = None,
) -> Callable[[Handler], Endpoint]:
    """An HTML page. `uploads` names the route's file fields: the boundary checks and processes them before the
    transaction opens, and the handler reads the outcome from `ctx.uploads` (see portal/web/uploads.py).
    `catch_up` names work the page owes the clock, done before its transaction (see `CatchUp`); `prepare`
    names CPU work done before it (argon2: see `Prepare`), whose result the handler reads from `ctx.prepared`.
    `write` may be a function of the form, for a form whose steps before the last only read (`Writes`)."""
    spec = AccessSpec(allow, kind="page", before_setup=before_setup, before_totp=before_totp)

    def decorate(handler: Handler) -> Endpoint:
        return endpoint(
            handler, access=spec, write=write, uploads=uploads, catch_up=catch_up, prepare=prepare
        )

    return decorate


def api(
    *allow: str,
    devices: bool = False,
    write: bool | None = None,
    inline: bool = False,
    signed: bool = False,
) -> Callable[[Handler], Endpoint]:
    """A JSON endpoint. `devices=True` also accepts a scanner device's bearer token; `inline=True` runs the
    handler on the event loop (see `web.boundary.endpoint`); `signed=True` (a provider's webhook, public)
    skips the Origin and CSRF checks and hands the handler the raw body as `ctx.json`: the handler must verify
    the request's signature before it trusts a byte of it."""
    if signed and allow != ("public",):
        raise ValueError("a signed route is public: its signature is its authorisation")
    spec = AccessSpec(allow, kind="api", devices=devices, signed=signed)

    def decorate(handler: Handler) -> Endpoint:
        return endpoint(handler, access=spec, write=write, inline=inline)

    return decorate


# --- the login behind a request ---------------------------------------------------------------------------------


def load_principal(
    ctx: Ctx, bearer: str | None, *, devices: Callable[[Ctx, str], WebPrincipal | None] | None = None
) -> WebPrincipal | None:
    """The login behind this request: a scanner device's (through `devices`) or the session cookie's."""
    if bearer is not None:
        return devices(ctx, bearer) if devices else None
    token = ctx.request.cookies.get(cookie_name(ctx.request, SESSION_COOKIE))
    if not token:
        return None
    found = service.load_session(
        ctx.db,
        token=token,
        now=ctx.now,
        idle=timedelta(minutes=ctx.settings.session_idle_minutes),
        key=ctx.key,
    )
    if found is None:
        ctx.set_cookies.append((SESSION_COOKIE, "", {}))
        return None
    login, account = found
    if login.mfa_pending:
        ctx.pending_mfa = login
        return None
    return Principal(
        account_id=account.id,
        name=account.name,
        email=account.email,
        roles=account.role_set,
        session_id=login.id,
        member_id=getattr(account, "member_id", None),
        must_set_up_totp=ctx.settings.staff_2fa_required and account.is_staff and not account.totp_enabled,
    )


def _claim(session: Session, principal: WebPrincipal | None, rule: UploadRule, now: datetime) -> None:
    account_id = principal.account_id if principal is not None else None
    if account_id is None:
        raise UploadRefused("too_many_uploads", "Log in with your own account to upload this.")
    assert rule.per_hour is not None
    claim_upload(
        session, account_id=account_id, kind=rule.kind, per_hour=rule.per_hour, noun=rule.noun, now=now
    )


def _society_name(session: Session) -> str | None:
    society = society_service.society(session)
    return society.name if society is not None else None


def wiring(
    *, key: bytes, idle_minutes: int, devices: Callable[[Ctx, str], WebPrincipal | None] | None = None
) -> Wiring:
    idle = timedelta(minutes=idle_minutes)

    def touch(session: Session, token: str, now: datetime) -> None:
        service.touch_session_token(session, token=token, now=now, idle=idle, key=key)

    def principal(ctx: Ctx, bearer: str | None) -> WebPrincipal | None:
        return load_principal(ctx, bearer, devices=devices)

    return Wiring(
        load_principal=principal,
        society_name=_society_name,
        touch=touch,
        claim_upload=_claim,
        session_cookie=SESSION_COOKIE,
        login_route="accounts:login",
        setup_route="accounts:setup",
        two_step_route="accounts:security",
    )


def system_clock() -> datetime:
    return datetime.now(UTC)
