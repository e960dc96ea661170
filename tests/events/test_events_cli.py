"""`portal events expire-offers` and the app's periodic sweep pass lapsed offers on without anyone visiting."""

from __future__ import annotations

from click.testing import CliRunner
from support import SECRET

from portal.cli import main
from portal.events import changes, tasks
from portal.events.models import Registration


def lapsed_offer(make_event, book, database, clock, links):
    event = make_event(capacity=1)
    first = book(event, 1).registration
    second = book(event, 2).registration
    third = book(event, 3).registration
    with database.session() as s:
        changes.cancel_by_delegate(s, registration=s.get(Registration, first.id), now=clock(), links=links)
    return second, third


def test_the_command_passes_lapsed_offers_on(
    make_event, book, database, clock, links, db_url, monkeypatch, status_of
):
    second, third = lapsed_offer(make_event, book, database, clock, links)
    # The command reads the real clock: put the deadline in the past, as time passing would.
    with database.session() as s:
        s.get(Registration, second.id).offer_expires_at = clock().replace(year=2000)
    monkeypatch.setenv("PORTAL_DATABASE_URL", db_url)
    monkeypatch.setenv("PORTAL_SECRET_KEY", SECRET)
    monkeypatch.setenv("PORTAL_ENV", "test")
    result = CliRunner().invoke(main, ["events", "expire-offers"])
    assert result.exit_code == 0, result.output
    assert "Lapsed offers passed on: 1." in result.output
    assert status_of(second) == "cancelled" and status_of(third) == "offered"


def test_the_periodic_sweep_passes_lapsed_offers_on(app, make_event, book, database, clock, links, status_of):
    second, third = lapsed_offer(make_event, book, database, clock, links)
    clock.advance(hours=49)
    assert tasks.run_once(app) == 1
    assert status_of(second) == "cancelled" and status_of(third) == "offered"
