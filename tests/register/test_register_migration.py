"""The register's migration turns an installed site's untouched Find a Therapist placeholder into the menu entry
that leads to the directory, and leaves a page an editor wrote alone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from portal import migrate
from portal.db import make_engine


@pytest.mark.parametrize("body,link", [
    ("*This page is waiting for its text.* Staff who edit the website: write here how the public finds ...", "register:directory"),
    ("Ask your GP about NHS Talking Therapies, or e-mail the office.", ""),
])  # fmt: skip
def test_the_placeholder_find_a_therapist_page_becomes_the_link_to_the_directory(tmp_path, body, link):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(url, "payments_0001")
    engine = make_engine(url, null_pool=True)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO site_pages (parent_id, title, slug, path, position, summary, body, link, status, "
                "in_menu, kind, revision, created_at, updated_at, updated_by) VALUES (NULL, 'Find a Therapist', "
                "'find-a-therapist', 'about-ipt/find-a-therapist', 0, '', :body, '', 'published', 1, 'page', 1, "
                ":now, :now, '')"
            ),
            {"body": body, "now": now.isoformat()},
        )
    migrate.upgrade(url)
    with engine.connect() as conn:
        found = conn.execute(sa.text("SELECT link FROM site_pages WHERE path = 'about-ipt/find-a-therapist'"))
        assert found.scalar_one() == link
    engine.dispose()
