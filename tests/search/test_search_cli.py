"""`portal search rebuild` makes the index afresh, and `portal db upgrade` makes it when it is empty (a database
from before search), on both engines."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import text
from support import SECRET

from portal.cli import main
from portal.search import service as search
from portal.site import service as site


def _page(database, clock, title, body, status="published"):
    with database.session() as s:
        site.create_page(
            s,
            values=site.PageValues(title=title, slug=site.slugify(title), body=body, status=status),
            actor=None,
            now=clock(),
            reserved=(),
        )


def test_rebuild_and_upgrade_make_the_index_from_the_pages(db_url, database, clock):
    env = {"PORTAL_DATABASE_URL": db_url, "PORTAL_SECRET_KEY": SECRET, "PORTAL_ENV": "test"}
    _page(database, clock, "Supervision", "Becoming an IPT supervisor.")
    _page(database, clock, "Unfinished", "Supervisor notes.", status="draft")
    with database.session() as s:
        s.execute(text("DELETE FROM search_documents"))
    upgraded = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert upgraded.exit_code == 0, upgraded.output
    # The upgrade also places the six courses (one of them the supervisor course), indexed as they are placed.
    with database.session(write=False) as s:
        assert [h.url for h in search.search(s, "supervisor").hits if h.kind == "page"] == ["/supervision"]
        assert "/training/ipt-supervisor" in [h.url for h in search.search(s, "supervisor").hits]
    rebuilt = CliRunner().invoke(main, ["search", "rebuild"], env=env)
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "1 page, 0 events, 0 news posts, 6 courses" in rebuilt.output
    with database.session(write=False) as s:
        assert [h.url for h in search.search(s, "supervisor").hits if h.kind == "page"] == ["/supervision"]
