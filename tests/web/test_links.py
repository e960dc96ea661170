"""E-mail links: one mechanism (`web/links.py`) that each room's links build on, from the configured base URL
and the named routes, the same in a request, a periodic job, the CLI and the demo."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from starlette.routing import Router
from support import all_routes

from portal.app import build_routes
from portal.elections.links import Links as ElectionLinks
from portal.events.links import Links as EventLinks
from portal.events.links import manage_token
from portal.members import selfservice
from portal.web.links import Links

ROUTER = Router(routes=build_routes())


def test_a_link_is_the_base_url_and_the_named_routes_path_with_no_doubled_slash():
    links = Links("https://portal.example/", ROUTER.url_path_for)
    assert links.path("accounts:login") == "/login"
    assert links.url("accounts:login") == "https://portal.example/login"


def test_an_apps_links_use_its_configured_base_url_and_its_routes():
    app = SimpleNamespace(
        state=SimpleNamespace(settings=SimpleNamespace(base_url="https://portal.example")),
        url_path_for=ROUTER.url_path_for,
    )
    assert ElectionLinks.for_app(app).ballot("tok") == "https://portal.example/elections/vote/tok"
    events = EventLinks.for_app(app, key=b"k" * 32)
    registration = SimpleNamespace(manage_seed="seed")
    assert events.manage(registration) == (
        f"https://portal.example/events/booking/{manage_token(b'k' * 32, 'seed')}"
    )


def test_an_activation_link_leads_to_my_account_after_the_password_is_chosen():
    links = selfservice.Links("https://portal.example", ROUTER.url_path_for)
    assert links.activate("tok") == "https://portal.example/password/tok?next=/me"
    assert links.login() == "https://portal.example/login"


def test_the_route_index_makes_every_named_routes_path_as_starlette_does(app):
    """The index that links are made through gives, for every route the app has, the very path Starlette's
    own walk gives (parameters filled in), and refuses an unknown name the same way."""
    import re

    from starlette.routing import NoMatchFound

    from portal.web.routing import RouteIndex

    index = RouteIndex(app.routes)
    checked = 0
    for name, path, _, _ in all_routes(app):
        params = {
            p: (1 if kind == "int" else "x" * 20)
            for p, kind in re.findall(r"\{([^}:]+)(?::([^}]+))?\}", path)
        }
        assert str(index.url_path_for(name, **params)) == str(app.url_path_for(name, **params)), name
        checked += 1
    assert checked == len(index.routes) - 1 > 100  # every route but the static files, checked below
    assert index.url_path_for("static", path="app.css") == app.url_path_for("static", path="app.css")
    with pytest.raises(NoMatchFound):
        index.url_path_for("no:such_route")
    with pytest.raises(NoMatchFound):
        index.url_path_for("elections:results")  # a parameter missing


def test_a_path_made_inside_a_mount_or_behind_a_root_path_is_the_one_starlette_makes(app):
    """Inside a Mount the scope's root_path carries the mount's path; behind a proxy's root path the app's own
    root comes first. path_for gives what `request.url_for(...).path` gives in both."""
    from starlette.requests import Request

    from portal.web.context import path_for

    for scope_extra in (
        {"root_path": "/members", "app_root_path": ""},
        {"root_path": "/portal/members", "app_root_path": "/portal"},
        {"root_path": ""},
    ):
        scope = {"type": "http", "app": app, "router": app.router, "path": "/", "headers": [], **scope_extra}
        request = Request(scope)
        for name, params in (("accounts:login", {}), ("elections:results", {"election_id": 4})):
            assert path_for(request, name, **params) == request.url_for(name, **params).path
