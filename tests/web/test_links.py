"""E-mail links: one mechanism (`web/links.py`) that each room's links build on, from the configured base URL
and the named routes, the same in a request, a periodic job, the CLI and the demo."""

from __future__ import annotations

from types import SimpleNamespace

from starlette.routing import Router

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
