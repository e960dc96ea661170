"""`portal db upgrade` on an empty database makes the schema and places the captured site's menu of placeholder
pages, once: a second upgrade places nothing. On both engines, each in a database of this test's own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy import func, select
from support import AUDIT_KEY, SECRET

from portal.cli import main
from portal.db import Database
from portal.site import seed
from portal.site.models import Page, PageRevision
from portal.training.models import Course

POSTGRES_URL = os.environ.get("PORTAL_TEST_POSTGRES_URL", "").strip()
ENGINES = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]


@pytest.fixture(params=ENGINES)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"portal_test_fresh_site_{os.getpid()}"
    admin = sa.create_engine(
        POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_the_upgrade_places_the_captured_menu_once(empty_url: str) -> None:
    env = {"PORTAL_DATABASE_URL": empty_url, "PORTAL_SECRET_KEY": SECRET, "PORTAL_ENV": "test"}
    first = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert first.exit_code == 0, first.output
    expected = seed.walk()
    assert f"The website's menu is placed: {len(expected)} pages" in first.output
    second = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert second.exit_code == 0 and "menu is placed" not in second.output
    database = Database(empty_url, audit_key=AUDIT_KEY)
    try:
        with database.session(write=False) as s:
            pages = {p.path: p for p in s.scalars(select(Page))}
            assert list(pages) and set(pages) == {path for path, _ in expected}
            assert s.scalar(select(func.count()).select_from(PageRevision)) == len(expected)
            top = [
                p.title
                for p in sorted(
                    (p for p in pages.values() if p.parent_id is None and p.in_menu), key=lambda p: p.position
                )
            ]
            assert top == ["Home", "PSA & Website Projects", "About IPT", "Accreditation & Membership",
                           "Training & Events", "Members' Area", "ISIPT Con 2024"]  # fmt: skip
            executive = pages["about-ipt/meet-the-team/executive-committee"]
            assert executive.link == "/team/executive-committee"
            assert pages["about-ipt/meet-the-team"].link == "team:index"
            under = sorted(
                (p for p in pages.values() if p.parent_id == executive.id), key=lambda p: p.position
            )
            assert [(p.title, p.link) for p in under] == [
                ("Exec 2025 Elections", "elections:index"),
                ("Exec Elections May 2023", "elections:archive"),
            ]
            assert pages["members-area/members-login"].link == "accounts:login"
            assert pages["training-events/ipt-uk-national-meeting"].link == "events:calendar?kind=meeting"
            assert pages["about-ipt/complaints"].link == "complaints:page"
            # The training entries lead to the six courses the upgrade places, the rest to the portal's pages.
            slugs = set(s.scalars(select(Course.slug).where(Course.status == "published")))
            course_links = {
                p.link.removeprefix("/training/") for p in pages.values() if p.link.startswith("/training/")
            }
            assert course_links == slugs and len(slugs) == 6
            assert pages["training-events/regional-meetings-events"].link == "events:regional"
            assert pages["training-events/other-courses/external-cpd-courses"].link == "training:cpd"
            assert pages["training-events/past-events"].link == "events:archive"
            mission = pages["about-ipt/mission-vision"].body
            assert "Staff who edit the website: write here the society's mission and vision" in mission
            assert all(p.is_published for p in pages.values())
    finally:
        database.dispose()


def test_every_old_address_of_a_fresh_install_arrives_at_a_page(empty_url: str) -> None:
    """The old site's addresses the migration lists lead somewhere real on a fresh install, including those whose
    menu entry became a link to a portal page (the courses, Membership Options): no chain ends in a 404."""
    from starlette.testclient import TestClient

    from portal.app import create_app
    from portal.settings import Settings
    from portal.site.models import Redirect
    from portal.society.models import Society

    env = {"PORTAL_DATABASE_URL": empty_url, "PORTAL_SECRET_KEY": SECRET, "PORTAL_ENV": "test"}
    assert CliRunner().invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    database = Database(empty_url, audit_key=AUDIT_KEY)
    try:
        with database.session(write=False) as s:
            old = list(s.scalars(select(Redirect.old_path)))
        # Set up (until then every page leads to the first-run setup).
        with database.session() as s:
            s.add(Society(id=1, name="IPT UK"))
        assert len(old) >= 40 and "/find-a-therapist.html" in old
        settings = Settings.from_env({**env, "PORTAL_BASE_URL": "http://testserver"})
        with TestClient(create_app(settings, database=database), base_url="http://testserver") as client:
            lost = {}
            for path in old:
                response = client.get(path)
                if response.status_code != 200 or response.url.path == "/setup" or len(response.history) > 3:
                    lost[path] = (response.status_code, [r.headers.get("location") for r in response.history])
            assert not lost, lost
    finally:
        database.dispose()
