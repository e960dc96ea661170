"""Route guards: every handler declares who may use it, and this is where that is enforced.

`@page(allow=...)` and `@api(allow=...)` turn a plain handler `handler(ctx) -> Response` into a Starlette
endpoint that, in this order: parses the body; checks the Origin and CSRF token of an unsafe request; opens
the request's database session (a write transaction for unsafe methods); leads to first-run setup while the
portal has none; loads the login; checks the declared access; calls the handler; commits when the response
is a success (or the handler asked to keep its writes), rolls back otherwise.

Access words: `public` (anyone), `anonymous` (only when not logged in), `authenticated` (any login),
`member` (a login linked to the membership roll), or role names. An administrator also passes `office` and
`door` checks, never `returning_officer` or `scrutineer` (elections stay with their officers).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.accounts import service
from portal.accounts.errors import Code
from portal.accounts.models import ROLES
from portal.accounts.service import Principal
from portal.accounts.uploads import claim_upload
from portal.errors import Malformed, PortalError, TooLarge
from portal.web.context import Ctx
from portal.web.errors import error_response, json_error, status_for
from portal.web.forms import MAX_INT
from portal.web.middleware import BodyTooLarge
from portal.web.tokens import new_token
from portal.web.uploads import Upload, UploadRefused, UploadRule

log = logging.getLogger("portal.guards")

ACCESS_WORDS = {"public", "anonymous", "authenticated", "member"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
SESSION_COOKIE = "portal_session"
CSRF_COOKIE = "portal_csrf"
FLASH_COOKIE = "portal_flash"
MAX_JSON_BYTES = 64 * 1024

Handler = Callable[[Ctx], Response]


class AccessSpec:
    def __init__(
        self,
        words: tuple[str, ...],
        *,
        kind: str,
        devices: bool = False,
        before_setup: bool = False,
        before_totp: bool = False,
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

    def allows(self, principal: Principal | None) -> bool:
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
        return principal.has(*(self.words & set(ROLES)))

    def __repr__(self) -> str:
        return f"AccessSpec({sorted(self.words)}, kind={self.kind})"


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
        return forwarded.split(",")[-1].strip()[:64]
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


async def _read_body(request: Request, spec: AccessSpec) -> tuple[Any, Any]:
    ctype = request.headers.get("content-type", "")
    if request.method not in UNSAFE:
        return None, None
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


def _csrf_ok(request: Request, form: Any, key: bytes) -> bool:
    cookie = request.cookies.get(cookie_name(request, CSRF_COOKIE))
    if not cookie:
        return False
    sent = request.headers.get("x-csrf-token") or (form.get("csrf_token") if form is not None else None)
    return isinstance(sent, str) and hmac.compare_digest(sent, csrf_for(key, cookie))


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else None


def _denied(request: Request, spec: AccessSpec, principal: Principal | None) -> Response:
    if spec.kind == "api":
        if principal is None:
            return json_error("not_authenticated", "Log in, or send a valid device token.", 401)
        return json_error("forbidden", "You do not have permission to do that.", 403)
    if principal is None and "anonymous" not in spec.words:
        login = request.url_for("accounts:login").path
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{login}?next={target}", status_code=303)
    if "anonymous" in spec.words:
        return RedirectResponse(request.url_for("home").path, status_code=303)
    return error_response(request, 403, "forbidden")


def guard(
    spec: AccessSpec,
    *,
    write: bool | None = None,
    inline: bool = False,
    uploads: tuple[UploadRule, ...] = (),
) -> Callable[[Handler], Callable[[Request], Any]]:
    def decorate(handler: Handler) -> Callable[[Request], Any]:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            state = request.app.state
            settings = state.settings
            key = settings.key_bytes()
            unsafe = request.method in UNSAFE
            bearer = _bearer(request) if spec.devices else None
            if any(isinstance(v, int) and not 0 <= v <= MAX_INT for v in request.path_params.values()):
                # `{id:int}` takes any run of digits; past what a column holds SQLite's driver would raise.
                return error_response(request, 404, "not_found")
            try:
                form, body = await _read_body(request, spec)
            except PortalError as exc:
                return error_response(request, status_for(exc), exc.code, exc.message)
            if unsafe and bearer is None:
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
            if not csrf_cookie and bearer is None:
                # A browser gets its CSRF secret on its first page; a scanner device with a token needs none.
                csrf_cookie = new_csrf = new_token(24)
            flash = request.cookies.get(cookie_name(request, FLASH_COOKIE))
            runner = _run_inline if inline else run_in_threadpool
            try:
                prepared: dict[str, Upload] = {}
                if uploads and unsafe and form is not None:
                    prepared = await run_in_threadpool(_prepare_uploads, request, spec, form, bearer, uploads)
                return await runner(
                    _run,
                    request,
                    handler,
                    spec,
                    form,
                    body,
                    bearer,
                    csrf_cookie,
                    new_csrf,
                    flash,
                    unsafe if write is None else write,
                    prepared,
                )
            finally:
                if form is not None:
                    # Uploaded files are spooled to temporary files: close them once the handler is done.
                    await form.close()

        endpoint.access = spec  # type: ignore[attr-defined]
        endpoint.handler = handler  # type: ignore[attr-defined]
        return endpoint

    return decorate


def _prepare_uploads(
    request: Request, spec: AccessSpec, form: Any, bearer: str | None, rules: tuple[UploadRule, ...]
) -> dict[str, Upload]:
    """Check and process the route's uploaded files before the request's transaction opens (so no decode
    holds SQLite's write lock): the bytes bounded, the cheap check, the account's allowance counted in a short
    transaction of its own, then the costly work with no session at all. Only for a login the route admits:
    anyone else gets nothing done, and the request proper refuses them."""
    state = request.app.state
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
        ctx = Ctx(request=request, db=db, settings=state.settings, now=state.clock(), form=form)
        principal, _ = _load_principal(ctx, bearer)
        if not spec.allows(principal):
            return {}
        for rule, done, data in checked:
            try:
                if rule.per_hour:
                    account_id = getattr(principal, "account_id", None)
                    if account_id is None:
                        raise UploadRefused(
                            "too_many_uploads", "Log in with your own account to upload this."
                        )
                    claim_upload(
                        db,
                        account_id=account_id,
                        kind=rule.kind,
                        per_hour=rule.per_hour,
                        noun=rule.noun,
                        now=ctx.now,
                    )
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


async def _run_inline(fn: Callable[..., Response], *args: Any) -> Response:
    return fn(*args)


def _flash_decode(value: str | None, key: bytes) -> list[str]:
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


def _flash_encode(messages: list[str], key: bytes) -> str:
    payload = json.dumps(messages).encode().hex()
    sig = hmac.new(key, f"flash:{payload}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{payload}.{sig}"


def _run(
    request: Request,
    handler: Handler,
    spec: AccessSpec,
    form: Any,
    body: Any,
    bearer: str | None,
    csrf_cookie: str | None,
    new_csrf: str | None,
    flash: str | None,
    write: bool,
    uploads: dict[str, Upload] | None = None,
) -> Response:
    state = request.app.state
    settings = state.settings
    key = settings.key_bytes()
    now = state.clock()
    incoming_flash = _flash_decode(flash, key)
    ctx = Ctx(
        request=request,
        db=state.db.new_session(write=write),
        settings=settings,
        now=now,
        form=form,
        json=body,
        csrf_token=csrf_for(key, csrf_cookie) if csrf_cookie else "",
        client_ip=client_ip(request),
        flash_messages=list(incoming_flash),
        uploads=uploads or {},
    )
    touch: int | None = None
    try:
        response, touch = _handle(ctx, handler, spec, bearer)
        if response.status_code < 400 or ctx.keep_on_error:
            ctx.db.commit()
        else:
            ctx.db.rollback()
    except BaseException:
        ctx.db.rollback()
        raise
    finally:
        ctx.db.close()
    if touch is not None:
        _touch(state, touch, now)
    _set_cookies(ctx, response, new_csrf, incoming_flash)
    return response


def _handle(ctx: Ctx, handler: Handler, spec: AccessSpec, bearer: str | None) -> tuple[Response, int | None]:
    request = ctx.request
    state = request.app.state
    if not state.setup_done.is_set() and not spec.before_setup:
        society = service.society(ctx.db)
        if society is None:
            return RedirectResponse(request.url_for("accounts:setup").path, status_code=303), None
        state.society_name = society.name
        state.setup_done.set()
    principal, touch = _load_principal(ctx, bearer)
    ctx.principal = principal
    if principal is not None and principal.must_set_up_totp and not spec.before_totp:
        if spec.kind == "api":
            return json_error("two_step_required", "Set up two-step verification first.", 403), None
        return RedirectResponse(request.url_for("accounts:security").path, status_code=303), None
    if not spec.allows(principal):
        return _denied(request, spec, principal), None
    try:
        return handler(ctx), touch
    except PortalError as exc:
        ctx.db.rollback()
        return error_response(request, status_for(exc), exc.code, exc.message), None


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
            cookie_name(request, FLASH_COOKIE), _flash_encode(pending, ctx.key), max_age=120, **options
        )
    elif incoming_flash and response.status_code < 300:
        response.delete_cookie(cookie_name(request, FLASH_COOKIE), **options)
    for name, value, extra in ctx.set_cookies:
        if value == "":
            response.delete_cookie(cookie_name(request, name), **options)
        else:
            response.set_cookie(cookie_name(request, name), value, **options, **extra)


def _load_principal(ctx: Ctx, bearer: str | None) -> tuple[Principal | None, int | None]:
    """The login behind this request, and the session id when its last-seen time is due for an update."""
    state = ctx.request.app.state
    if bearer is not None:
        loader = getattr(state, "device_loader", None)
        return (loader(ctx, bearer) if loader else None), None
    token = ctx.request.cookies.get(cookie_name(ctx.request, SESSION_COOKIE))
    if not token:
        return None, None
    found = service.load_session(
        ctx.db,
        token=token,
        now=ctx.now,
        idle=timedelta(minutes=ctx.settings.session_idle_minutes),
        key=ctx.key,
    )
    if found is None:
        ctx.set_cookies.append((SESSION_COOKIE, "", {}))
        return None, None
    login, account = found
    if login.mfa_pending:
        ctx.pending_mfa = login
        return None, None
    member_id = getattr(account, "member_id", None)
    principal = Principal(
        account_id=account.id,
        name=account.name,
        email=account.email,
        roles=account.role_set,
        session_id=login.id,
        member_id=member_id,
        must_set_up_totp=ctx.settings.staff_2fa_required and account.is_staff and not account.totp_enabled,
    )
    due = login.last_seen_at + timedelta(minutes=1) <= ctx.now
    return principal, (login.id if due else None)


def _touch(state: Any, session_id: int, now: datetime) -> None:
    """Record activity for the idle timeout in its own short write (at most once a minute per session)."""
    try:
        with state.db.session(write=True) as db:
            service.touch_session(db, session_id=session_id, now=now)
    except Exception:  # losing one activity stamp must never fail the page
        log.warning("could not record session activity", exc_info=True)


def page(
    *allow: str,
    write: bool | None = None,
    before_setup: bool = False,
    before_totp: bool = False,
    uploads: tuple[UploadRule, ...] = (),
) -> Callable[[Handler], Callable[[Request], Any]]:
    """`uploads` names the route's file fields: the guard checks and processes them before the transaction
    opens, and the handler reads the outcome from `ctx.uploads` (see portal/web/uploads.py)."""
    return guard(
        AccessSpec(allow, kind="page", before_setup=before_setup, before_totp=before_totp),
        write=write,
        uploads=uploads,
    )


def api(
    *allow: str, devices: bool = False, write: bool | None = None, inline: bool = False
) -> Callable[[Handler], Callable[[Request], Any]]:
    """`inline=True` runs the handler on the event loop itself, without the hop to a worker thread: for a hot
    path whose work is a millisecond of CPU and a short transaction (the door scanner), the hop and the
    threads' contention for the interpreter cost more than they save."""
    return guard(AccessSpec(allow, kind="api", devices=devices), write=write, inline=inline)


def system_clock() -> datetime:
    return datetime.now(UTC)
