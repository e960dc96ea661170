"""The request context a handler receives, and the small helpers every handler uses.

Handlers are plain (synchronous) functions `handler(ctx) -> Response`, run in a worker thread with the
request's database session open, so database waits never stall the event loop. The body is parsed before
the handler runs (it needs the event loop), and the transaction is owned by the boundary that calls it
(`portal/web/boundary.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from portal.settings import Settings
from portal.text import DEFAULT_SOCIETY_NAME
from portal.web.uploads import Upload


class Principal(Protocol):
    """Who is behind a request, as the boundary and every handler see it: a login (`accounts.service.Principal`)
    or a scanner device (`checkin.devices.DevicePrincipal`). A device has no account, member or session, so
    those are None for it; a handler that needs a login's own ids asks `accounts.acting.login(ctx)`."""

    @property
    def account_id(self) -> int | None: ...
    @property
    def member_id(self) -> int | None: ...
    @property
    def session_id(self) -> int | None: ...
    @property
    def name(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def roles(self) -> frozenset[str]: ...
    @property
    def must_set_up_totp(self) -> bool: ...
    @property
    def is_staff(self) -> bool: ...

    def has(self, *roles: str) -> bool: ...


@dataclass
class Ctx:
    request: Request
    db: Session
    settings: Settings
    now: datetime
    form: FormData | None = None
    json: Any = None
    principal: Principal | None = None
    csrf_token: str = ""
    client_ip: str = ""
    #: A login whose password was accepted but whose second factor is still owed.
    pending_mfa: Any = None
    set_cookies: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    #: Uploaded files the route declared, already checked and processed by the guard (see web/uploads.py).
    uploads: dict[str, Upload] = field(default_factory=dict)
    flash_messages: list[str] = field(default_factory=list)
    #: What the route's declared CPU work (`boundary.Prepare`) returned, done before the transaction opened.
    prepared: Any = None
    #: The app's hooks (see `portal/hooks.py`), built once by `create_app`.
    hooks: Any = None

    @contextmanager
    def attempt(self) -> Iterator[None]:
        """Run a service call whose error the handler shows itself: when it raises, what it wrote is undone
        (a savepoint) and the error goes on to the handler, while the rest of the request is kept."""
        with self.db.begin_nested():
            yield

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.request.path_params)

    @property
    def query(self) -> Any:
        return self.request.query_params

    @property
    def is_htmx(self) -> bool:
        return self.request.headers.get("HX-Request") == "true"

    @property
    def key(self) -> bytes:
        return self.settings.key_bytes()

    def url_for(self, name: str, **params: Any) -> str:
        return path_for(self.request, name, **params)

    def absolute_url(self, name: str, **params: Any) -> str:
        """A link for an e-mail: the configured base URL, never the Host header of this request."""
        return self.settings.base_url + self.url_for(name, **params)

    def redirect(self, name: str, *, query: str = "", **params: Any) -> Response:
        url = self.url_for(name, **params) + (f"?{query}" if query else "")
        if self.is_htmx:
            # htmx follows a 303 itself and would swap the whole page into the target; ask it to navigate.
            return Response(status_code=204, headers={"HX-Redirect": url})
        return RedirectResponse(url, status_code=303)

    def flash(self, message: str) -> None:
        self.flash_messages.append(message)

    def render(
        self,
        template: str,
        context: dict[str, Any] | None = None,
        *,
        status_code: int = 200,
        partial: str | None = None,
    ) -> Response:
        """Render a page, or only `partial` when htmx asked (the page includes the same partial)."""
        templates = self.request.app.state.templates
        name = partial if (partial and self.is_htmx) else template
        data = {**page_context(self.request, self), **(context or {})}
        response: HTMLResponse = templates.TemplateResponse(self.request, name, data, status_code=status_code)
        if partial:
            response.headers["Vary"] = "HX-Request"
        return response


def path_for(request: Request, name: str, /, **params: Any) -> str:
    """A named route's path (behind the app's root path), through the app's route index when it has one."""
    index = getattr(request.app.state, "route_index", None)
    if index is None:
        return str(request.url_for(name, **params).path)
    # Inside a Mount the scope's root_path has the mount's path added; the app's own is kept apart.
    root = request.scope.get("app_root_path", request.scope.get("root_path", ""))
    return root.rstrip("/") + str(index.url_path_for(name, **params))


def society_name(request: Request) -> str:
    """The society's name as the pages show it (read from the database once it is set up)."""
    return getattr(request.app.state, "society_name", None) or DEFAULT_SOCIETY_NAME


def page_context(request: Request, ctx: Ctx | None = None) -> dict[str, Any]:
    """What every page template may use (`base.html` reads it): the request, the login, the CSRF token,
    the time, the society's name and the flashed messages. Without a `ctx` (an error page) there is no
    login to show, so the page renders even when loading the login is what failed."""
    return {
        "request": request,
        "ctx": ctx,
        "principal": ctx.principal if ctx else None,
        "csrf_token": ctx.csrf_token if ctx else "",
        "now": ctx.now if ctx else None,
        "society_name": society_name(request),
        "flashes": ctx.flash_messages if ctx else [],
    }
