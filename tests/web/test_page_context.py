"""`page_context`: what every page template may use, built in one place for pages, My account's sections and
pages with no login to show."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from starlette.requests import Request

from portal.text import DEFAULT_SOCIETY_NAME
from portal.web.context import Ctx, page_context


def _request(society_name: str | None) -> Request:
    app = SimpleNamespace(state=SimpleNamespace(society_name=society_name))
    return Request({"type": "http", "method": "GET", "path": "/", "headers": [], "app": app})


def test_a_page_gets_the_login_its_csrf_token_the_time_and_its_flashes():
    request = _request("Example Society")
    now = datetime(2030, 5, 1, 9, 0, tzinfo=UTC)
    principal = SimpleNamespace(name="Ada")
    ctx = Ctx(request=request, db=None, settings=None, now=now, principal=principal, csrf_token="t0k")  # type: ignore[arg-type]
    ctx.flash("Saved.")
    found = page_context(request, ctx)
    assert found == {
        "request": request,
        "ctx": ctx,
        "principal": principal,
        "csrf_token": "t0k",
        "now": now,
        "society_name": "Example Society",
        "flashes": ["Saved."],
    }


def test_a_page_with_no_login_to_show_before_setup_still_names_the_society():
    found = page_context(_request(None))
    assert found["principal"] is None and found["csrf_token"] == "" and found["flashes"] == []
    assert found["society_name"] == DEFAULT_SOCIETY_NAME
