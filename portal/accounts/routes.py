"""Account pages: first-run setup, login and logout, second factor, set-password links, staff, audit log."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import qrcode
import qrcode.image.svg
from sqlalchemy import select
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal import audit
from portal.accounts import acting, service
from portal.accounts.access import SESSION_COOKIE, page
from portal.accounts.models import ROLES, Account, LoginSession
from portal.audit import AuditEvent
from portal.errors import NotFound
from portal.society.service import is_set_up
from portal.text import DEFAULT_SOCIETY_NAME
from portal.web.boundary import Prepare
from portal.web.context import Ctx
from portal.web.errors import status_for
from portal.web.forms import FormReader, whole_number
from portal.web.templating import money

AUDIT_PAGE = 50
#: Details that are money (minor units in the log), shown as money: "amount: £245.00", never "24500".
MONEY_DETAILS = frozenset(
    {"amount", "amount_due", "amount_paid", "price", "refund", "refunded", "total", "balance"}
)


def audit_details(details: dict[str, Any]) -> list[tuple[str, str]]:
    """An entry's details as (label, text) to show: money as money, words for codes ("bank transfer"),
    yes/no for flags; the log itself keeps the raw values its chain was hashed over."""
    shown = []
    for key, value in details.items():
        if key in MONEY_DETAILS and isinstance(value, int) and not isinstance(value, bool):
            text = money(value) if value else "£0.00"
        elif isinstance(value, bool):
            text = "yes" if value else "no"
        elif value is None:
            text = "none"
        elif isinstance(value, str):
            text = value.replace("_", " ") if key in ("method", "source", "status", "kind") else value
        elif isinstance(value, (list, dict)):
            text = json.dumps(value, ensure_ascii=False)
        else:
            text = str(value)
        shown.append((key.replace("_", " "), text))
    return shown


def _safe_next(target: str | None) -> str | None:
    """Only a local path may follow a login (never //evil.example or https://...)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _login_response(ctx: Ctx, account: Account, *, mfa_pending: bool) -> Response:
    # A new session token at every login: a cookie planted before login is worthless after it.
    token = service.start_session(
        ctx.db,
        account=account,
        now=ctx.now,
        max_age=timedelta(hours=ctx.settings.session_max_hours),
        key=ctx.key,
        ip=ctx.client_ip,
        user_agent=ctx.request.headers.get("user-agent", ""),
        mfa_pending=mfa_pending,
    )
    ctx.set_cookies.append((SESSION_COOKIE, token, {}))
    sent = ctx.query.get("next") or (ctx.form.get("next") if ctx.form else None)
    nxt = _safe_next(sent if isinstance(sent, str) else None)
    if mfa_pending:
        return ctx.redirect("accounts:second_factor", query=f"next={nxt}" if nxt else "")
    if ctx.settings.staff_2fa_required and account.is_staff and not account.totp_enabled:
        ctx.flash("The society requires two-step verification for staff: set it up now to continue.")
        return ctx.redirect("accounts:security")
    if nxt:
        return RedirectResponse(nxt, status_code=303)
    return ctx.redirect("home")


# --- argon2 before the transaction ---------------------------------------------------------------------------
# Hashing and verifying passwords is the costliest CPU work of a request (tens of milliseconds): each of these
# routes declares it as `Prepare` work, done by the boundary before the request's write transaction opens, so
# the database writer is never held while argon2 runs. The handler reads the result from `ctx.prepared`.


def _hash_new_password(ctx: Ctx, wanted: bool) -> str | None:
    """The new password of a valid form, hashed (None when the form will be refused, or nothing is wanted)."""
    form = FormReader(ctx.form)
    password = form.password(new=True, confirm="password_confirm")
    if not wanted or not form.ok:
        return None
    return str(ctx.request.app.state.passwords.hash(password))


def _not_set_up(ctx: Ctx) -> bool:
    return not service.is_set_up(ctx.db)


def _live_link(ctx: Ctx) -> bool:
    try:
        service.peek_token(
            ctx.db, token=ctx.params["token"], purposes=SET_PASSWORD_PURPOSES, now=ctx.now, key=ctx.key
        )
    except service.AccountError:
        return False
    return True


def _login_look(ctx: Ctx) -> service.LoginLook | None:
    form = FormReader(ctx.form)
    email = form.email()
    form.password()
    return service.login_look(ctx.db, email=email, ip=ctx.client_ip, now=ctx.now) if form.ok else None


def _check_password(ctx: Ctx, look: service.LoginLook | None) -> service.CheckedPassword | None:
    if look is None:
        return None
    password = FormReader(ctx.form).password()
    return service.check_password(look, password, ctx.request.app.state.passwords)


SET_PASSWORD_PURPOSES = ("set_password", "reset_password", "activate")


# --- first run ----------------------------------------------------------------------------------------------


@page("public", before_setup=True, prepare=Prepare(look=_not_set_up, work=_hash_new_password))
def setup(ctx: Ctx) -> Response:
    if is_set_up(ctx.db):
        raise NotFound("The portal is already set up.")
    form = FormReader(ctx.form)
    if ctx.request.method == "POST":
        setup_code = form.text("setup_code", label="the setup code", max_length=40)
        society_name = form.text("society_name", label="the society's name")
        name = form.text("name", label="your name")
        email = form.email()
        password = form.password(new=True, confirm="password_confirm")
        if form.ok:
            try:
                with ctx.attempt():
                    service.redeem_setup_code(ctx.db, code=setup_code, now=ctx.now, key=ctx.key)
            except service.AccountError as exc:
                form.error("setup_code", exc.message)
        if form.ok:
            account = service.setup_first_admin(
                ctx.db,
                society_name=society_name,
                name=name,
                email=email,
                password=password,
                passwords=ctx.request.app.state.passwords,
                now=ctx.now,
                password_hash=ctx.prepared,
            )
            ctx.request.app.state.society_name = society_name
            ctx.request.app.state.setup_done.set()
            ctx.flash(f"Welcome. {society_name} is set up and you are its first administrator.")
            return _login_response(ctx, account, mfa_pending=False)
    values = {
        k: v for k, v in (form.data or {"society_name": DEFAULT_SOCIETY_NAME}).items() if k != "setup_code"
    }
    return ctx.render(
        "accounts/setup.html",
        {"errors": form.errors, "values": values},
        status_code=422 if form.errors else 200,
    )


# --- login ----------------------------------------------------------------------------------------------------


@page("public", prepare=Prepare(look=_login_look, work=_check_password))
def login(ctx: Ctx) -> Response:
    if ctx.principal is not None:
        return ctx.redirect("home")
    form = FormReader(ctx.form)
    error = None
    status = 200
    if ctx.request.method == "POST":
        email = form.email()
        password = form.password()
        if form.ok:
            try:
                account = service.authenticate(
                    ctx.db,
                    email=email,
                    password=password,
                    ip=ctx.client_ip,
                    now=ctx.now,
                    passwords=ctx.request.app.state.passwords,
                    checked=ctx.prepared,
                )
            except service.AccountError as exc:
                # No attempt(): the failed attempt is stored although the answer is an error.
                error, status = exc.message, status_for(exc) if exc.code == "throttled" else 422
            else:
                return _login_response(ctx, account, mfa_pending=account.totp_enabled)
        else:
            status = 422
    return ctx.render(
        "accounts/login.html",
        {
            "errors": form.errors,
            "values": form.data,
            "error": error,
            "next": _safe_next(ctx.query.get("next")),
        },
        status_code=status,
    )


@page("public")
def second_factor(ctx: Ctx) -> Response:
    pending = ctx.pending_mfa
    if pending is None:
        return ctx.redirect("accounts:login")
    form = FormReader(ctx.form)
    status = 422
    if ctx.request.method == "POST":
        code = form.text("code", label="the code from your authenticator app", max_length=40)
        if form.ok:
            try:
                service.check_second_factor(
                    ctx.db, account=pending.account, code=code, now=ctx.now, key=ctx.key, login=pending
                )
            except service.AccountError as exc:
                # No attempt(): the wrong code is counted although the answer is an error.
                if exc.code == "mfa_restart":
                    ctx.set_cookies.append((SESSION_COOKIE, "", {}))
                    ctx.flash(exc.message)
                    return ctx.redirect("accounts:login")
                form.error("code", exc.message)
                status = status_for(exc) if exc.code == "mfa_locked" else 422
            else:
                service.complete_second_factor(ctx.db, session_id=pending.id)
                nxt = _safe_next(ctx.query.get("next"))
                if nxt:
                    return RedirectResponse(nxt, status_code=303)
                return ctx.redirect("home")
    return ctx.render(
        "accounts/second_factor.html",
        {"errors": form.errors},
        status_code=status if form.errors else 200,
    )


@page("authenticated", before_totp=True)
def logout(ctx: Ctx) -> Response:
    service.end_session(ctx.db, session_id=acting.login(ctx).session_id)
    ctx.set_cookies.append((SESSION_COOKIE, "", {}))
    ctx.flash("You have logged out.")
    return ctx.redirect("accounts:login")


@page("authenticated", before_totp=True)
def logout_everywhere(ctx: Ctx) -> Response:
    count = service.end_all_sessions(ctx.db, account_id=acting.login(ctx).account_id)
    ctx.set_cookies.append((SESSION_COOKIE, "", {}))
    ctx.flash(f"You have been logged out on every device ({count} session{'s' if count != 1 else ''}).")
    return ctx.redirect("accounts:login")


@page("public", prepare=Prepare(look=_live_link, work=_hash_new_password))
def set_password(ctx: Ctx) -> Response:
    token = ctx.params["token"]
    row = service.peek_token(ctx.db, token=token, purposes=SET_PASSWORD_PURPOSES, now=ctx.now, key=ctx.key)
    account = ctx.db.get(Account, row.account_id)
    form = FormReader(ctx.form)
    if ctx.request.method == "POST":
        password = form.password(new=True, confirm="password_confirm")
        if form.ok:
            account = service.set_password_with_token(
                ctx.db,
                token=token,
                password=password,
                passwords=ctx.request.app.state.passwords,
                now=ctx.now,
                key=ctx.key,
                password_hash=ctx.prepared,
            )
            ctx.flash("Your password is set. You are logged in.")
            return _login_response(ctx, account, mfa_pending=account.totp_enabled)
    return ctx.render(
        "accounts/set_password.html",
        {"errors": form.errors, "account": account, "purpose": row.purpose},
        status_code=422 if form.errors else 200,
    )


# --- own account: sessions and second factor ------------------------------------------------------------------


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


@page("authenticated", before_totp=True)
def security(ctx: Ctx) -> Response:
    account = acting.actor(ctx)
    sessions = ctx.db.scalars(
        select(LoginSession)
        .where(LoginSession.account_id == account.id)
        .order_by(LoginSession.last_seen_at.desc())
    ).all()
    context: dict[str, Any] = {"account": account, "sessions": sessions, "errors": {}, "recovery_codes": None}
    if ctx.request.method == "POST":
        form = FormReader(ctx.form)
        secret = form.text("secret", label="the setup key", max_length=64)
        code = form.text("code", label="the 6-digit code", max_length=10)
        if form.ok:
            try:
                with ctx.attempt():
                    context["recovery_codes"] = service.enable_totp(
                        ctx.db, account=account, secret=secret, code=code, now=ctx.now, key=ctx.key
                    )
            except service.AccountError as exc:
                form.error("code", exc.message)
        context["errors"] = form.errors
        if form.errors:
            context.update(_totp_setup(ctx, account, secret or None))
            return ctx.render("accounts/security.html", context, status_code=422)
        return ctx.render("accounts/security.html", context)
    if not account.totp_enabled and account.is_staff:
        context.update(_totp_setup(ctx, account, None))
    return ctx.render("accounts/security.html", context)


def _totp_setup(ctx: Ctx, account: Account, secret: str | None) -> dict[str, str]:
    secret = secret or service.new_totp_secret()
    society = ctx.request.app.state.society_name or "Portal"
    uri = service.totp_uri(secret, email=account.email, issuer=society)
    return {"totp_secret": secret, "totp_qr": _qr_svg(uri)}


@page("authenticated")
def totp_disable(ctx: Ctx) -> Response:
    account = acting.actor(ctx)
    form = FormReader(ctx.form)
    code = form.text("code", label="a current code", max_length=40)
    if ctx.settings.staff_2fa_required and account.is_staff:
        ctx.flash("The society requires two-step verification for staff: it stays on.")
        return ctx.redirect("accounts:security")
    if form.ok:
        try:
            with ctx.attempt():
                service.check_second_factor(ctx.db, account=account, code=code, now=ctx.now, key=ctx.key)
        except service.AccountError as exc:
            # A redirect commits: the wrong code stays counted.
            ctx.flash(exc.message)
            return ctx.redirect("accounts:security")
        service.disable_totp(ctx.db, account=account, now=ctx.now)
        ctx.flash("Two-step verification is off.")
        return ctx.redirect("accounts:security")
    ctx.flash(form.errors["code"])
    return ctx.redirect("accounts:security")


# --- staff ----------------------------------------------------------------------------------------------------


@page("admin")
def staff_list(ctx: Ctx) -> Response:
    form = FormReader(ctx.form)
    new_link = None
    if ctx.request.method == "POST":
        name = form.text("name", label="their name")
        email = form.email()
        roles = form.choices("roles", list(ROLES))
        if not roles:
            form.error("roles", "Choose at least one role.")
        if form.ok:
            actor = acting.actor(ctx)
            try:
                with ctx.attempt():
                    account, _token = service.create_staff(
                        ctx.db,
                        actor=actor,
                        name=name,
                        email=email,
                        roles=roles,
                        now=ctx.now,
                        key=ctx.key,
                        link_for=lambda t: ctx.absolute_url("accounts:set_password", token=t),
                    )
            except service.AccountError as exc:
                form.error("roles" if exc.code == "self_grant" else "email", exc.message)
            else:
                # The link goes only to the new address: whoever adds an account never holds its password.
                new_link = {"account": account}
                form = FormReader(None)
    accounts = ctx.db.scalars(select(Account).where(Account.roles != "").order_by(Account.name)).all()
    return ctx.render(
        "accounts/staff.html",
        {
            "accounts": accounts,
            "roles": ROLES,
            "errors": form.errors,
            "values": form.data,
            "new_link": new_link,
        },
        status_code=422 if form.errors else 200,
    )


@page("admin")
def staff_edit(ctx: Ctx) -> Response:
    account = ctx.db.get(Account, int(ctx.params["account_id"]))
    if account is None:
        raise NotFound("No such account.")
    form = FormReader(ctx.form)
    new_link = None
    if ctx.request.method == "POST":
        actor = acting.actor(ctx)
        if form.raw("action") == "reset_link":
            service.send_password_link(
                ctx.db,
                actor=actor,
                account_id=account.id,
                now=ctx.now,
                key=ctx.key,
                link_for=lambda t: ctx.absolute_url("accounts:set_password", token=t),
            )
            new_link = account.email
        else:
            roles = form.choices("roles", list(ROLES))
            active = form.checkbox("active")
            try:
                with ctx.attempt():
                    service.update_staff(
                        ctx.db, actor=actor, account_id=account.id, roles=roles, active=active, now=ctx.now
                    )
            except service.AccountError as exc:
                form.error("roles", exc.message)
                account = ctx.db.get(Account, account.id)
            else:
                ctx.flash(f"Saved {account.name}.")
                return ctx.redirect("accounts:staff_edit", account_id=account.id)
    return ctx.render(
        "accounts/staff_edit.html",
        {"account": account, "roles": ROLES, "errors": form.errors, "new_link": new_link},
        status_code=422 if form.errors else 200,
    )


@page("admin")
def audit_log(ctx: Ctx) -> Response:
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    action = ctx.query.get("action", "").strip()
    actor = ctx.query.get("actor", "").strip()
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    if actor:
        query = query.where(AuditEvent.actor.contains(actor))
    before = whole_number(ctx.query.get("before", ""))
    if before is not None:
        query = query.where(AuditEvent.id < before)
    events = ctx.db.scalars(query.limit(AUDIT_PAGE + 1)).all()
    more = len(events) > AUDIT_PAGE
    events = events[:AUDIT_PAGE]
    rows = [(e, audit_details(json.loads(e.details or "{}"))) for e in events]
    problems = audit.verify(ctx.db, key=ctx.key) if ctx.query.get("verify") else None
    return ctx.render(
        "accounts/audit.html",
        {"rows": rows, "more": more, "action": action, "actor": actor, "problems": problems},
        partial="accounts/_audit_rows.html",
    )


routes = [
    Route("/setup", setup, methods=["GET", "POST"], name="setup"),
    Route("/login", login, methods=["GET", "POST"], name="login"),
    Route("/login/verify", second_factor, methods=["GET", "POST"], name="second_factor"),
    Route("/logout", logout, methods=["POST"], name="logout"),
    Route("/logout/everywhere", logout_everywhere, methods=["POST"], name="logout_everywhere"),
    Route("/password/{token}", set_password, methods=["GET", "POST"], name="set_password"),
    Route("/account/security", security, methods=["GET", "POST"], name="security"),
    Route("/account/security/totp-off", totp_disable, methods=["POST"], name="totp_disable"),
    Route("/staff", staff_list, methods=["GET", "POST"], name="staff"),
    Route("/staff/{account_id:int}", staff_edit, methods=["GET", "POST"], name="staff_edit"),
    Route("/audit", audit_log, methods=["GET"], name="audit"),
]
