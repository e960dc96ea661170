"""The request boundary: everything between Starlette and a handler, and the one owner of the transaction.

A handler is a plain function `handler(ctx) -> Response`. `endpoint(handler, access=…)` (used through the
`@page` / `@api` decorators of `portal/accounts/access.py`, which say who may call it) makes it a Starlette
endpoint that, in this order:

1. refuses a path number no column could hold;
2. reads the body (a form, multipart or JSON; bounded);
3. for an unsafe method, checks the Origin and the CSRF token — except on a route declared `signed` (a
   provider's webhook: no browser sends it, and the handler verifies its signature over the raw body, which
   it gets as `ctx.json`, bytes unparsed); these routes are the one exemption, listed in the CSRF walk;
4. checks and processes the route's declared uploads (see `web/uploads.py`), before any transaction;
5. does the route's declared CPU work (`Prepare`: argon2 at login) before the request's transaction, so the
   database writer is held for the writes alone; its result reaches the handler as `ctx.prepared`;
6. runs the route's declared catch-up steps, and records the login's activity when it is due, each in a short
   transaction of its own, *before* the request's (never beside it: no request holds two connections);
7. opens the request's one transaction (a write transaction for an unsafe method; on SQLite, writers queue
   for their turn on the event loop, not on a thread lock), leads to first-run setup while the portal has
   none, loads the login through the injected loader, sends a login that still owes a second factor to set it
   up, checks the declared access, and calls the handler;
8. commits when the handler returns, and rolls back when it raises (a `PortalError` becomes its page or JSON).
   A handler that shows an error itself runs the service call in `ctx.attempt()` (a savepoint), so what the
   call wrote before it failed is undone while the rest of the request (a failed login counted) is kept.

It knows no domain: what it needs of one (the login loader, the society check, the upload allowance, the
route names of the login and setup pages) comes in a `Wiring` that `create_app` puts on `app.state`.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.errors import Code, Malformed, PortalError, TooLarge
from portal.web.context import Ctx, Principal, path_for
from portal.web.errors import error_response, json_error, status_for
from portal.web.forms import MAX_INT
from portal.web.middleware import BodyTooLarge
from portal.web.tokens import new_token
from portal.web.uploads import Upload, UploadRefused, UploadRule

log = logging.getLogger("portal.boundary")

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_COOKIE = "portal_csrf"
FLASH_COOKIE = "portal_flash"
MAX_JSON_BYTES = 64 * 1024
#: A login's last activity is recorded at most this often (the idle timeout is counted from it).
TOUCH_EVERY = timedelta(minutes=1)

Handler = Callable[[Ctx], Response]


class Access(Protocol):
    """Who may use a route (`portal/accounts/access.py` says how)."""

    kind: str  # "page" (HTML: redirects to log in) or "api" (JSON: 401 / 403)
    devices: bool  # a bearer token (a scanner device) is accepted instead of a login
    before_setup: bool  # reachable before first-run setup (the setup page itself)
    before_totp: bool  # reachable by a login that still owes its second factor
    anonymous_only: bool  # only when not logged in (the login page)
    signed: bool  # verified by the handler's signature check instead of Origin and CSRF (a webhook)

    def allows(self, principal: Principal | None) -> bool: ...


@dataclass(frozen=True)
class CatchUp:
    """Work a page owes the clock before it can be shown (voting that should have closed; offers that lapsed).
    `due` looks, in a read-only transaction of its own; when it says so, `run` does the work in a short write
    transaction of its own; then the request's transaction opens and sees the result.

    `ask` (optional) is slow work the step needs and no transaction may wait on (a call to Stripe): when `due`
    says so, it runs in a worker thread with no session at all, before the write turn; what it returns
    reaches `run` as `ctx.prepared` (`due` is looked at again under the writer's turn, so `run` checks what
    `ask` said against the database as it is then)."""

    due: Callable[[Ctx], bool]
    run: Callable[[Ctx], None]
    ask: Callable[[Ctx], Any] | None = None


@dataclass(frozen=True)
class Prepare:
    """CPU work a writing route does before its transaction opens, so the database writer (SQLite's turn and
    lock; a PostgreSQL transaction and its row locks) is held for the writes alone: argon2 at login, or for a
    new password.

    `look` (optional) reads what the work needs in a read-only transaction of its own, closed before the work
    starts; `work(ctx, looked)` then runs in a worker thread with no session at all (its `ctx.db` is bound to
    nothing, so a query fails loudly). What it returns reaches the handler as `ctx.prepared`. It runs only for
    a request that writes and carries a form, and only for a principal the route admits once setup is done
    (or for a route reachable before setup); otherwise `ctx.prepared` is None. A route for logins only gets
    the principal in the look's `ctx.principal` (a member's renewal is read for them). What it looked at may change
    before the request's transaction opens, so the handler treats the result as a claim to check against what
    it reads there (login: the stored hash it was verified against must still be the stored one)."""

    work: Callable[[Ctx, Any], Any]
    look: Callable[[Ctx], Any] | None = None


#: Whether a route's request writes: None (unsafe methods do), a fixed answer, or a function of the form.
Writes = bool | Callable[[FormData | None], bool] | None


@dataclass(frozen=True)
class Wiring:
    """What the boundary needs from the domains, given by `create_app` (never imported)."""

    #: The principal behind a request: `(ctx, bearer token or None) -> principal or None`.
    load_principal: Callable[[Ctx, str | None], Principal | None]
    #: The society's name once first-run setup is done, else None.
    society_name: Callable[[Session], str | None]
    #: Record the login's activity: `(session, cookie token, now) -> None`; it must not revive a login that
    #: has already timed out.
    touch: Callable[[Session, str, datetime], None]
    #: Count one costly upload against the principal's allowance, or raise UploadRefused.
    claim_upload: Callable[[Session, Principal | None, UploadRule, datetime], None]
    session_cookie: str
    login_route: str
    setup_route: str
    two_step_route: str
    home_route: str = "home"


class Touches:
    """When each login (by its cookie's digest) last had its activity recorded by this process: the write is
    done at most once a `TOUCH_EVERY` per login, and a page that reads needs no write transaction otherwise."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self.seen: OrderedDict[str, datetime] = OrderedDict()

    def due(self, token: str, now: datetime) -> bool:
        key = hashlib.sha256(token.encode()).hexdigest()[:32]
        last = self.seen.get(key)
        if last is not None and last <= now < last + TOUCH_EVERY:
            return False
        self.seen[key] = now
        self.seen.move_to_end(key)
        while len(self.seen) > self.size:
            self.seen.popitem(last=False)
        return True


def cookie_name(request: Request, base: str) -> str:
    """`__Host-` prefixed when cookies are Secure: the browser then refuses it from any other origin or path."""
    return f"__Host-{base}" if request.app.state.settings.secure_cookies else base


def csrf_for(key: bytes, cookie_value: str) -> str:
    return hmac.new(key, f"csrf:{cookie_value}".encode(), hashlib.sha256).hexdigest()


def client_ip(request: Request) -> str:
    """The client address; X-Forwarded-For is believed only from a configured proxy."""
    peer = request.client.host if request.client else ""
    settings = request.app.state.settings
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and peer in settings.trusted_proxies:
        return str(forwarded.split(",")[-1].strip()[:64])
    return peer[:64]


def _origin_ok(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if not referer:
            return True  # not a browser form (or a privacy-stripped one); the token still decides
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}"
    settings = request.app.state.settings
    base = urlsplit(settings.base_url)
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    return origin in (f"{base.scheme}://{base.netloc}", own)


async def _read_body(request: Request, *, raw: bool = False) -> tuple[FormData | None, Any]:
    ctype = request.headers.get("content-type", "")
    if request.method not in UNSAFE:
        return None, None
    if raw:
        body = await request.body()
        if len(body) > MAX_JSON_BYTES:
            raise TooLarge(Code.TOO_LARGE, "The request body is too large.")
        return None, body
    if ctype.startswith("application/json"):
        body = await request.body()
        if len(body) > MAX_JSON_BYTES:
            raise TooLarge(Code.TOO_LARGE, "The request body is too large.")
        if b"\\u0000" in body:
            raise Malformed(Code.BAD_JSON, "The request body must not contain NUL characters.")
        try:
            return None, json.loads(body or b"null")
        except ValueError:
            raise Malformed(Code.BAD_JSON, "The request body is not valid JSON.") from None
    if ctype.startswith("application/x-www-form-urlencoded") or ctype.startswith("multipart/form-data"):
        try:
            form = await request.form(max_files=5, max_fields=2000, max_part_size=10 * 1024 * 1024)
        except BodyTooLarge:
            raise
        except Exception:  # malformed multipart: the parser's own errors vary by version
            raise Malformed(Code.BAD_FORM, "The form could not be read. Please try again.") from None
        return form, None
    return None, None


def _csrf_ok(request: Request, form: FormData | None, key: bytes) -> bool:
    cookie = request.cookies.get(cookie_name(request, CSRF_COOKIE))
    if not cookie:
        return False
    sent = request.headers.get("x-csrf-token") or (form.get("csrf_token") if form is not None else None)
    return isinstance(sent, str) and hmac.compare_digest(sent, csrf_for(key, cookie))


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else None


def _denied(request: Request, wiring: Wiring, access: Access, principal: Principal | None) -> Response:
    if access.kind == "api":
        if principal is None:
            return json_error("not_authenticated", "Log in, or send a valid device token.", 401)
        return json_error("forbidden", "You do not have permission to do that.", 403)
    if access.anonymous_only:
        return RedirectResponse(path_for(request, wiring.home_route), status_code=303)
    if principal is None:
        login = path_for(request, wiring.login_route)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{login}?next={target}", status_code=303)
    return error_response(request, 403, "forbidden")


def endpoint(
    handler: Handler,
    *,
    access: Access,
    write: Writes = None,
    inline: bool = False,
    uploads: tuple[UploadRule, ...] = (),
    catch_up: tuple[CatchUp, ...] = (),
    prepare: Prepare | None = None,
) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint for `handler` (see the module's docstring for what it does, in order).

    `write` overrides the method's default (unsafe methods write); a function of the form decides per request
    (a multi-step form whose steps before the last only check and show: they read, and leave SQLite's writer
    and PostgreSQL's write path to the step that writes). `inline=True` runs the handler on the event
    loop, without the hop to a worker thread: for a hot path whose work is a millisecond of CPU and one short
    transaction (the door scanner); it still never waits on the loop for SQLite's writer (when another writer
    holds it, the handler goes to a thread after all)."""

    @functools.wraps(handler)
    async def run(request: Request) -> Response:
        state = request.app.state
        settings = state.settings
        wiring: Wiring = state.wiring
        key = settings.key_bytes()
        unsafe = request.method in UNSAFE
        bearer = _bearer(request) if access.devices else None
        if any(isinstance(v, int) and not 0 <= v <= MAX_INT for v in request.path_params.values()):
            # `{id:int}` takes any run of digits; past what a column holds SQLite's driver would raise.
            return error_response(request, 404, "not_found")
        try:
            form, body = await _read_body(request, raw=access.signed)
        except PortalError as exc:
            return error_response(request, status_for(exc), exc.code, exc.message)
        writes = unsafe if write is None else write(form) if callable(write) else write
        if unsafe and bearer is None and not access.signed:
            if not _origin_ok(request):
                return error_response(request, 403, "bad_origin", "This request came from another site.")
            if not _csrf_ok(request, form, key):
                return error_response(
                    request,
                    403,
                    "csrf_failed",
                    "This form has expired. Go back, reload the page and try again.",
                )
        csrf_cookie = request.cookies.get(cookie_name(request, CSRF_COOKIE))
        new_csrf = None
        if not csrf_cookie and bearer is None and not access.signed:
            # A browser gets its CSRF secret on its first page; a scanner device with a token needs none.
            csrf_cookie = new_csrf = new_token(24)
        now = state.clock()
        session_token = (
            request.cookies.get(cookie_name(request, wiring.session_cookie)) if not bearer else None
        )
        touch = session_token is not None and state.touches.due(session_token, now)
        db = state.db
        try:
            prepared: dict[str, Upload] = {}
            if uploads and unsafe and form is not None:
                prepared = await run_in_threadpool(
                    _prepare_uploads, request, access, form, bearer, uploads, now
                )
            for step in catch_up:
                if await run_in_threadpool(_step_due, request, step, now):
                    asked = await run_in_threadpool(_step_ask, request, step, now) if step.ask else None
                    async with db.write_turn():
                        await run_in_threadpool(_step_run, request, step, now, asked)
            if touch and not writes:
                assert session_token is not None
                async with db.write_turn():
                    await run_in_threadpool(_touch, request, session_token, now)
            ready: Any = None
            if prepare is not None and writes and form is not None:
                ready = await run_in_threadpool(_prepare, request, access, prepare, form, bearer, now)
            call = _Call(
                request=request,
                handler=handler,
                access=access,
                form=form,
                body=body,
                bearer=bearer,
                csrf_cookie=csrf_cookie,
                new_csrf=new_csrf,
                write=writes,
                uploads=prepared,
                prepared=ready,
                now=now,
                touch=session_token if (touch and writes) else None,
            )
            if not writes:
                return await (_run_inline(call) if inline else run_in_threadpool(call))
            async with db.write_turn():
                if inline and not db.writer_busy():
                    return call()
                return await run_in_threadpool(call)
        finally:
            if form is not None:
                # Uploaded files are spooled to temporary files: close them once the handler is done.
                await form.close()

    run.access = access  # type: ignore[attr-defined]
    run.handler = handler  # type: ignore[attr-defined]
    return run


async def _run_inline(call: Callable[[], Response]) -> Response:
    return call()


def _short_ctx(request: Request, db: Session, now: datetime, form: Any = None, prepared: Any = None) -> Ctx:
    state = request.app.state
    return Ctx(
        request=request,
        db=db,
        settings=state.settings,
        now=now,
        form=form,
        client_ip=client_ip(request),
        hooks=state.hooks,
        prepared=prepared,
    )


def _step_due(request: Request, step: CatchUp, now: datetime) -> bool:
    with request.app.state.db.session(write=False) as db:
        return step.due(_short_ctx(request, db, now))


def _step_ask(request: Request, step: CatchUp, now: datetime) -> Any:
    assert step.ask is not None
    with Session() as unbound:  # bound to nothing: a query in the work fails loudly instead of opening one
        return step.ask(_short_ctx(request, unbound, now))


def _step_run(request: Request, step: CatchUp, now: datetime, asked: Any = None) -> None:
    with request.app.state.db.session(write=True) as db:
        ctx = _short_ctx(request, db, now, prepared=asked)
        if step.due(ctx):  # looked again under the writer's turn: another request may have done it
            step.run(ctx)


def _prepare(
    request: Request, access: Access, prepare: Prepare, form: FormData, bearer: str | None, now: datetime
) -> Any:
    """The route's CPU work before its transaction (see `Prepare`): the look in a short read-only transaction,
    then the work with no session open."""
    state = request.app.state
    wiring: Wiring = state.wiring
    with state.db.session(write=False) as db:
        ctx = _short_ctx(request, db, now, form)
        if not state.setup_done.is_set() and not access.before_setup and wiring.society_name(db) is None:
            return None
        # A route anyone may use (the login page) needs no look-up of who is asking.
        anyone = access.allows(None) and not access.anonymous_only
        if not anyone:
            ctx.principal = wiring.load_principal(ctx, bearer)
            if not access.allows(ctx.principal):
                return None
        looked = prepare.look(ctx) if prepare.look is not None else None
    with Session() as unbound:  # bound to nothing: a query in the work fails loudly instead of opening one
        return prepare.work(_short_ctx(request, unbound, now, form), looked)


def _touch(request: Request, token: str, now: datetime) -> None:
    try:
        with request.app.state.db.session(write=True) as db:
            request.app.state.wiring.touch(db, token, now)
    except PortalError:
        raise
    except Exception:  # losing one activity stamp must never fail the page
        log.warning("could not record the login's activity", exc_info=True)


def _prepare_uploads(
    request: Request,
    access: Access,
    form: FormData,
    bearer: str | None,
    rules: tuple[UploadRule, ...],
    now: datetime,
) -> dict[str, Upload]:
    """Check and process the route's uploaded files before the request's transaction opens (so no decode
    holds SQLite's write lock): the bytes bounded, the cheap check, the allowance counted in a short
    transaction of its own, then the costly work with no session at all. Only for a login the route admits:
    anyone else gets nothing done, and the request proper refuses them."""
    state = request.app.state
    wiring: Wiring = state.wiring
    files: list[tuple[UploadRule, str, bytes]] = []
    for rule in rules:
        value = form.get(rule.field)
        text = form.get(rule.text_field) if rule.text_field else None
        if isinstance(value, UploadFile) and value.filename:
            value.file.seek(0)
            files.append((rule, str(value.filename), value.file.read(rule.max_bytes + 1)))
        elif isinstance(text, str) and text:
            files.append((rule, "", text.encode()[: rule.max_bytes + 1]))
    if not files or not state.setup_done.is_set():
        return {}
    results: dict[str, Upload] = {}
    checked: list[tuple[UploadRule, Upload, bytes]] = []
    for rule, filename, data in files:
        done = Upload(filename=filename, size=len(data))
        try:
            if len(data) > rule.max_bytes:
                raise UploadRefused("too_large", rule.too_large)
            if rule.check is not None:
                rule.check(data)
        except UploadRefused as exc:
            results[rule.field] = Upload(filename=done.filename, size=done.size, error=exc)
        else:
            checked.append((rule, done, data))
    if not checked:
        return results
    pending: list[tuple[UploadRule, Upload, bytes]] = []
    with state.db.session(write=any(rule.per_hour for rule, _, _ in checked)) as db:
        ctx = _short_ctx(request, db, now, form)
        principal = wiring.load_principal(ctx, bearer)
        if not access.allows(principal):
            return {}
        for rule, done, data in checked:
            try:
                if rule.per_hour:
                    wiring.claim_upload(db, principal, rule, now)
            except UploadRefused as exc:
                results[rule.field] = Upload(filename=done.filename, size=done.size, error=exc)
            else:
                pending.append((rule, done, data))
    for rule, done, data in pending:
        try:
            results[rule.field] = Upload(filename=done.filename, size=done.size, value=rule.process(data))
        except UploadRefused as exc:
            results[rule.field] = Upload(filename=done.filename, size=done.size, error=exc)
    return results


def flash_decode(value: str | None, key: bytes) -> list[str]:
    if not value or "." not in value:
        return []
    payload, sig = value.rsplit(".", 1)
    good = hmac.new(key, f"flash:{payload}".encode(), hashlib.sha256).hexdigest()[:32]
    if not hmac.compare_digest(sig, good):
        return []
    try:
        return [str(m) for m in json.loads(bytes.fromhex(payload).decode())][:5]
    except ValueError:
        return []


def flash_encode(messages: list[str], key: bytes) -> str:
    payload = json.dumps(messages).encode().hex()
    sig = hmac.new(key, f"flash:{payload}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{payload}.{sig}"


@dataclass
class _Call:
    """The request proper: one transaction around the handler."""

    request: Request
    handler: Handler
    access: Access
    form: FormData | None
    body: Any
    bearer: str | None
    csrf_cookie: str | None
    new_csrf: str | None
    write: bool
    uploads: dict[str, Upload]
    prepared: Any
    now: datetime
    touch: str | None

    def __call__(self) -> Response:
        request = self.request
        state = request.app.state
        key = state.settings.key_bytes()
        incoming_flash = flash_decode(request.cookies.get(cookie_name(request, FLASH_COOKIE)), key)
        ctx = Ctx(
            request=request,
            db=state.db.new_session(write=self.write),
            settings=state.settings,
            now=self.now,
            form=self.form,
            json=self.body,
            csrf_token=csrf_for(key, self.csrf_cookie) if self.csrf_cookie else "",
            client_ip=client_ip(request),
            flash_messages=list(incoming_flash),
            uploads=self.uploads,
            prepared=self.prepared,
            hooks=state.hooks,
        )
        try:
            try:
                response = self._handle(ctx)
            except PortalError as exc:
                ctx.db.rollback()
                response = error_response(request, status_for(exc), exc.code, exc.message)
            else:
                ctx.db.commit()
        except BaseException:
            ctx.db.rollback()
            raise
        finally:
            ctx.db.close()
        _set_cookies(ctx, response, self.new_csrf, incoming_flash)
        return response

    def _handle(self, ctx: Ctx) -> Response:
        request = self.request
        state = request.app.state
        wiring: Wiring = state.wiring
        if not state.setup_done.is_set() and not self.access.before_setup:
            name = wiring.society_name(ctx.db)
            if name is None:
                return RedirectResponse(path_for(request, wiring.setup_route), status_code=303)
            state.society_name = name
            state.setup_done.set()
        principal = wiring.load_principal(ctx, self.bearer)
        ctx.principal = principal
        if principal is not None and principal.must_set_up_totp and not self.access.before_totp:
            if self.access.kind == "api":
                return json_error("two_step_required", "Set up two-step verification first.", 403)
            return RedirectResponse(path_for(request, wiring.two_step_route), status_code=303)
        if not self.access.allows(principal):
            return _denied(request, wiring, self.access, principal)
        if self.touch is not None:
            wiring.touch(ctx.db, self.touch, ctx.now)
        return self.handler(ctx)


def _set_cookies(ctx: Ctx, response: Response, new_csrf: str | None, incoming_flash: list[str]) -> None:
    """The CSRF secret, the flash carried to the next page, and whatever the handler set."""
    request = ctx.request
    secure = ctx.settings.secure_cookies
    options: dict[str, Any] = {"httponly": True, "samesite": "lax", "secure": secure, "path": "/"}
    if new_csrf:
        response.set_cookie(cookie_name(request, CSRF_COOKIE), new_csrf, **options)
    pending = [m for m in ctx.flash_messages if m not in incoming_flash]
    if pending and response.status_code in (303, 204):
        response.set_cookie(
            cookie_name(request, FLASH_COOKIE), flash_encode(pending, ctx.key), max_age=120, **options
        )
    elif incoming_flash and response.status_code < 300:
        response.delete_cookie(cookie_name(request, FLASH_COOKIE), **options)
    for name, value, extra in ctx.set_cookies:
        if value == "":
            response.delete_cookie(cookie_name(request, name), **options)
        else:
            response.set_cookie(cookie_name(request, name), value, **options, **extra)
