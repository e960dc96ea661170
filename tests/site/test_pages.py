"""The rules of the website's pages, without HTTP: addresses from the tree, revisions, restoring, drafts, slugs,
and what Markdown may put on a page."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from portal.audit import AuditEvent
from portal.errors import Conflict, Invalid, NotFound
from portal.site import seed, service
from portal.site.models import Page, PageRevision
from portal.web.templating import markdown

RESERVED = frozenset({"events", "login", "members", "site"})


def _new(db, admin, clock, title, *, parent=None, status="published", slug="", body="", link=""):
    return service.create_page(
        db,
        values=service.PageValues(
            title=title,
            slug=slug or service.slugify(title),
            parent_id=parent.id if parent else None,
            body=body,
            link=link,
            status=status,
        ),
        actor=admin,
        now=clock(),
        reserved=RESERVED,
    )


def _edit(db, admin, clock, page, **changes):
    values = {
        "title": page.title,
        "slug": page.slug,
        "parent_id": page.parent_id,
        "position": page.position,
        "summary": page.summary,
        "body": page.body,
        "link": page.link,
        "status": page.status,
        "in_menu": page.in_menu,
    }
    base = changes.pop("base_revision", page.revision)
    values.update(changes)
    return service.update_page(
        db,
        page_id=page.id,
        values=service.PageValues(**values),
        base_revision=base,
        actor=admin,
        now=clock(),
        reserved=RESERVED,
    )


def test_a_page_s_address_is_the_slugs_of_its_branch_and_the_home_page_is_the_root(db, admin, clock):
    home = _new(db, admin, clock, "Home")
    contact = _new(db, admin, clock, "Contact Us", parent=home)
    about = _new(db, admin, clock, "About IPT")
    mission = _new(db, admin, clock, "Mission & Vision", parent=about)
    assert (home.path, contact.path, about.path, mission.path) == (
        "",
        "contact-us",
        "about-ipt",
        "about-ipt/mission-vision",
    )
    assert service.page_at(db, "/about-ipt/mission-vision", include_drafts=False).id == mission.id
    assert [c.id for c in service.ancestors(db, mission)] == [about.id]


def test_every_save_keeps_a_revision_and_an_unchanged_save_keeps_none(db, admin, clock):
    page = _new(db, admin, clock, "Stages of IPT", body="First text")
    clock.advance(minutes=5)
    assert _edit(db, admin, clock, page, body="Second text") is True
    assert _edit(db, admin, clock, page) is False
    revisions = service.revisions(db, page.id)
    assert [(r.number, r.body, r.note) for r in revisions] == [
        (2, "Second text", "Edited"),
        (1, "First text", "Created"),
    ]
    assert page.revision == 2 and page.updated_by == admin.name
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.subject == f"page {page.id}")).all()
    assert actions == ["site.page_create", "site.page_edit"]


def test_a_save_based_on_an_old_version_is_refused(db, admin, clock):
    page = _new(db, admin, clock, "IPT Research", body="v1")
    _edit(db, admin, clock, page, body="v2 by someone else")
    with pytest.raises(Conflict) as refused:
        _edit(db, admin, clock, page, body="v2 by me", base_revision=1)
    assert refused.value.code == "stale"
    assert db.get(Page, page.id).body == "v2 by someone else"


def test_restoring_a_version_is_itself_a_new_version(db, admin, clock):
    page = _new(db, admin, clock, "Mission", body="Our mission, as agreed.", status="draft")
    _edit(db, admin, clock, page, body="A vandalised mission.", status="published")
    restored = service.restore_revision(
        db, page_id=page.id, number=1, actor=admin, now=clock(), reserved=RESERVED
    )
    assert (restored.body, restored.status, restored.revision) == ("Our mission, as agreed.", "draft", 3)
    numbers = [(r.number, r.note) for r in service.revisions(db, page.id)]
    assert numbers == [(3, "Restored version 1"), (2, "Edited"), (1, "Created")]
    with pytest.raises(Conflict) as again:
        service.restore_revision(db, page_id=page.id, number=3, actor=admin, now=clock(), reserved=RESERVED)
    assert again.value.code == "unchanged"
    with pytest.raises(NotFound):
        service.restore_revision(db, page_id=page.id, number=9, actor=admin, now=clock(), reserved=RESERVED)
    entry = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "site.page_edit").order_by(AuditEvent.id.desc())
    ).first()
    assert json.loads(entry.details)["revision"] == 3


def test_the_diff_shows_removed_and_added_lines_with_unchanged_ones_around(db, admin, clock):
    body = "\n".join(f"Line {n}" for n in range(1, 21))
    page = _new(db, admin, clock, "Long page", body=body)
    _edit(db, admin, clock, page, body=body.replace("Line 10", "Line ten"), title="Long page, edited")
    old, new = service.get_revision(db, page.id, 1), service.get_revision(db, page.id, 2)
    changes = {c.name: c for c in service.diff(old, new)}
    assert set(changes) == {"title", "body"}
    kinds = [(line.kind, line.text) for line in changes["body"].lines]
    assert ("removed", "Line 10") in kinds and ("added", "Line ten") in kinds
    assert kinds[0] == ("skipped", "7 unchanged lines")
    assert ("same", "Line 9") in kinds and ("same", "Line 11") in kinds
    assert kinds[-1] == ("skipped", "8 unchanged lines")


@pytest.mark.parametrize("slug", ["Mission", "mission vision", "-mission", "mission--vision", "é", "a" * 81])
def test_a_bad_slug_is_refused_with_what_an_address_may_be(db, admin, clock, slug):
    with pytest.raises(Invalid) as refused:
        _new(db, admin, clock, "Mission", slug=slug)
    assert refused.value.code == "bad_slug"
    assert "lower-case letters" in refused.value.message


def test_an_address_the_portal_uses_is_refused_at_any_depth_of_the_home_branch(db, admin, clock):
    home = _new(db, admin, clock, "Home")
    with pytest.raises(Invalid) as top:
        _new(db, admin, clock, "Events", slug="events")
    assert top.value.code == "reserved_slug" and "/events" in top.value.message
    with pytest.raises(Invalid) as under_home:
        _new(db, admin, clock, "Login", parent=home, slug="login")
    assert under_home.value.code == "reserved_slug"
    about = _new(db, admin, clock, "About")
    assert _new(db, admin, clock, "Events", parent=about).path == "about/events"


def test_two_pages_never_share_an_address(db, admin, clock):
    about = _new(db, admin, clock, "About IPT")
    _new(db, admin, clock, "Policies", parent=about)
    with pytest.raises(Conflict) as taken:
        _new(db, admin, clock, "Policies", parent=about)
    assert taken.value.code == "path_taken" and "/about-ipt/policies" in taken.value.message


def test_moving_or_renaming_a_page_moves_its_whole_branch(db, admin, clock):
    about = _new(db, admin, clock, "About IPT")
    team = _new(db, admin, clock, "Meet the Team", parent=about)
    exec_ = _new(db, admin, clock, "Executive Committee", parent=team)
    _edit(db, admin, clock, about, slug="about")
    assert db.get(Page, exec_.id).path == "about/meet-the-team/executive-committee"
    _edit(db, admin, clock, db.get(Page, team.id), parent_id=None)
    assert db.get(Page, exec_.id).path == "meet-the-team/executive-committee"
    with pytest.raises(Invalid) as cycle:
        _edit(db, admin, clock, db.get(Page, team.id), parent_id=exec_.id)
    assert cycle.value.code == "bad_parent"


def test_drafts_are_invisible_to_the_public_with_their_branch(db, admin, clock):
    about = _new(db, admin, clock, "About IPT")
    draft = _new(db, admin, clock, "Policies", parent=about, status="draft")
    _new(db, admin, clock, "Safeguarding", parent=draft)
    with pytest.raises(NotFound):
        service.page_at(db, "about-ipt/policies", include_drafts=False)
    assert service.page_at(db, "about-ipt/policies", include_drafts=True).id == draft.id
    public = service.flatten(service.tree(db, include_drafts=False))
    assert [n.title for n in public] == ["About IPT"]
    assert len(service.flatten(service.tree(db, include_drafts=True))) == 3
    assert service.children(db, about, include_drafts=False) == []


def test_a_menu_link_leads_to_the_portal_s_page_and_has_no_page_of_its_own(db, admin, clock):
    link = _new(db, admin, clock, "Events Calendar", slug="events-calendar", link="events:calendar")
    assert service.link_route(link.link) == ("events:calendar", "")
    assert service.link_route("events:calendar?kind=meeting") == ("events:calendar", "kind=meeting")
    with pytest.raises(NotFound):
        service.page_at(db, "events-calendar", include_drafts=True)
    for bad in ("javascript:alert(1)", "//evil.example/x", "http://plain.example", "events:manage"):
        with pytest.raises(Invalid) as refused:
            _new(db, admin, clock, "Bad", slug="bad", link=bad)
        assert refused.value.code == "bad_link"


def test_a_page_with_pages_under_it_cannot_be_deleted(db, admin, clock):
    about = _new(db, admin, clock, "About IPT")
    child = _new(db, admin, clock, "Policies", parent=about)
    with pytest.raises(Conflict) as refused:
        service.delete_page(db, page_id=about.id, actor=admin, now=clock())
    assert refused.value.code == "has_children"
    service.delete_page(db, page_id=child.id, actor=admin, now=clock())
    service.delete_page(db, page_id=about.id, actor=admin, now=clock())
    assert db.scalar(select(PageRevision.id).limit(1)) is None


def test_markdown_cannot_put_a_script_on_the_page():
    from html.parser import HTMLParser

    class Tags(HTMLParser):
        found: list[tuple[str, dict[str, str | None]]] = []

        def handle_starttag(self, tag, attrs):
            self.found.append((tag, dict(attrs)))

    html = str(
        markdown(
            "<script>alert(1)</script>\n\n[click](javascript:alert(2))\n\n"
            '<img src=x onerror="alert(3)">\n\n![ok](/site/files/1/a.png)\n\n[fine](https://example.org)'
        )
    )
    parser = Tags()
    parser.feed(html)
    tags = {tag for tag, _ in parser.found}
    assert "script" not in tags
    assert all(not name.startswith("on") for _, attrs in parser.found for name in attrs)
    assert all(not (attrs.get("href") or "").startswith("javascript") for _, attrs in parser.found)
    assert ("img", {"src": "/site/files/1/a.png", "alt": "ok"}) in parser.found
    assert any(t == "a" and a.get("href") == "https://example.org" for t, a in parser.found)


def test_the_fresh_install_s_tree_is_placed_once(db, clock):
    placed = seed.seed_site(db, now=clock())
    assert placed == len(seed.walk()) > 40
    assert seed.seed_site(db, now=clock()) == 0
    paths = set(db.scalars(select(Page.path)))
    assert {
        "",
        "contact-us",
        "about-ipt/meet-the-team/executive-committee/exec-2025-elections",
        "cookies",
    } <= paths
    assert (
        db.scalar(select(Page.link).where(Page.path == "training-events/events-calendar"))
        == "events:calendar"
    )
    first = db.scalar(select(Page).where(Page.path == "about-ipt/mission-vision"))
    assert first.is_published and "waiting for its text" in first.body and first.revision == 1


def test_two_saves_racing_for_one_address_lose_with_a_reason_not_an_error(db, admin, clock, monkeypatch):
    about = _new(db, admin, clock, "About IPT")
    _new(db, admin, clock, "Policies", parent=about)
    # As if the other save committed between this one's check and its write.
    monkeypatch.setattr(service, "_check_path", lambda *args, **kwargs: None)
    with pytest.raises(Conflict) as lost:
        _new(db, admin, clock, "Policies", parent=about)
    assert lost.value.code == "path_taken" and "just saved at /about-ipt/policies" in lost.value.message
    other = _new(db, admin, clock, "Complaints", parent=about)
    with pytest.raises(Conflict):
        _edit(db, admin, clock, other, slug="policies")
    assert db.get(Page, other.id).path == "about-ipt/complaints"
    assert len(service.flatten(service.tree(db, include_drafts=True))) == 3
