"""News posts: the rules without HTTP (addresses, publishing keeps its date, drafts, paging), then the pages over
HTTP (the public list and post, the staff's editor with its CSRF and refusals) and the Atom feed, parsed."""

from __future__ import annotations

import json
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import select
from support import login, make_account, post

from portal.audit import AuditEvent
from portal.errors import Conflict, Invalid, NotFound
from portal.site import news, seed, service
from portal.site.models import NewsPost

ATOM = "{http://www.w3.org/2005/Atom}"


def _feed(data: bytes) -> ET.Element:
    return ET.fromstring(data)  # noqa: S314 - the portal's own feed, made by the test


def _post(db, actor, clock, title, *, status="published", slug="", summary="", body="Text."):
    return news.create_post(
        db,
        values=news.PostValues(
            title=title, slug=slug or service.slugify(title), summary=summary, body=body, status=status
        ),
        actor=actor,
        now=clock(),
    )


@pytest.fixture
def editor(database, passwords, admin):
    return make_account(database, passwords, email="editor@example.org", roles="editor", name="Eddie Editor")


# --- the rules ---------------------------------------------------------------------------------------------------


def test_a_published_post_is_dated_and_listed_newest_first(db, admin, clock):
    first = _post(db, admin, clock, "First news")
    clock.advance(days=1)
    second = _post(db, admin, clock, "Second news")
    _post(db, admin, clock, "Not yet", status="draft")
    assert first.published_at is not None and second.published_at == clock()
    assert [p.title for p in news.latest(db, limit=3)] == ["Second news", "First news"]
    assert first.author == "Ada Admin"


def test_publishing_again_keeps_the_first_date(db, admin, clock):
    made = _post(db, admin, clock, "A post")
    first = made.published_at
    clock.advance(days=3)
    values = news.PostValues(title="A post", slug="a-post", body="Text.", status="draft")
    assert news.update_post(db, post_id=made.id, values=values, actor=admin, now=clock())
    clock.advance(days=3)
    assert news.publish_post(db, post_id=made.id, actor=admin, now=clock())
    assert made.published_at == first and made.updated_at == clock()
    assert not news.publish_post(db, post_id=made.id, actor=admin, now=clock())


def test_a_draft_gets_its_date_when_first_published(db, admin, clock):
    made = _post(db, admin, clock, "Later", status="draft")
    assert made.published_at is None
    clock.advance(hours=5)
    news.publish_post(db, post_id=made.id, actor=admin, now=clock())
    assert made.published_at == clock()


def test_two_posts_never_share_an_address(db, admin, clock):
    _post(db, admin, clock, "Same", slug="same")
    with pytest.raises(Conflict) as refused:
        _post(db, admin, clock, "Other", slug="same")
    assert refused.value.code == "slug_taken"


@pytest.mark.parametrize("slug", ["Bad Slug", "trailing-", "a--b", "x" * 81])
def test_a_bad_address_is_refused(db, admin, clock, slug):
    with pytest.raises(Invalid) as refused:
        _post(db, admin, clock, "Post", slug=slug)
    assert refused.value.code == "bad_slug"


def test_an_unchanged_save_writes_nothing(db, admin, clock):
    made = _post(db, admin, clock, "Post", body="Same")
    values = news.PostValues(title="Post", slug="post", body="Same", status="published")
    assert not news.update_post(db, post_id=made.id, values=values, actor=admin, now=clock())


def test_visitors_never_see_a_draft(db, admin, clock):
    _post(db, admin, clock, "Hidden", status="draft")
    with pytest.raises(NotFound):
        news.post_at(db, "hidden", include_drafts=False)
    assert news.post_at(db, "hidden", include_drafts=True).title == "Hidden"


def test_the_list_is_paged_and_a_page_past_the_end_is_the_last(db, admin, clock):
    for n in range(12):
        _post(db, admin, clock, f"Post {n}")
        clock.advance(hours=1)
    first = news.published_page(db, number=1, per_page=5)
    assert (first.pages, first.total, [p.title for p in first.posts][:2]) == (3, 12, ["Post 11", "Post 10"])
    last = news.published_page(db, number=99, per_page=5)
    assert last.number == 3 and [p.title for p in last.posts] == ["Post 1", "Post 0"]


def test_every_change_is_in_the_audit_log(db, admin, clock):
    made = _post(db, admin, clock, "Audited", status="draft")
    news.publish_post(db, post_id=made.id, actor=admin, now=clock())
    news.delete_post(db, post_id=made.id, actor=admin, now=clock())
    actions = list(
        db.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("site.news%")).order_by(AuditEvent.id)
        )
    )
    assert actions == ["site.news_create", "site.news_publish", "site.news_delete"]
    assert db.get(NewsPost, made.id) is None
    details = json.loads(db.scalars(select(AuditEvent.details).order_by(AuditEvent.id)).all()[-1])
    assert details["title"] == "Audited"


# --- the pages ---------------------------------------------------------------------------------------------------


def _form(**values):
    base = {"title": "", "slug": "", "summary": "", "body": "", "status": "published", "action": "save"}
    base.update(values)
    return base


def test_an_editor_writes_previews_publishes_and_deletes_a_post(client, database, editor):
    login(client, "editor@example.org")
    assert client.get("/site/news").status_code == 200
    preview = post(
        client, "/site/news/new", _form(title="Hello", body="**Bold** <script>x()</script>", action="preview")
    )
    assert (
        preview.status_code == 200
        and "<strong>Bold</strong>" in preview.text
        and "<script>x()" not in preview.text
    )
    made = post(
        client, "/site/news/new", _form(title="Hello members", summary="A short summary.", status="draft")
    )
    assert made.status_code == 303
    with database.session(write=False) as s:
        found = s.scalars(select(NewsPost)).one()
        post_id, slug, author = found.id, found.slug, found.author
    assert (slug, author) == ("hello-members", "Eddie Editor")
    # A draft is the editor's alone.
    assert client.get(f"/news/{slug}").status_code == 200
    listed = client.get("/site/news")
    assert "Draft" in listed.text and f"/site/news/{post_id}/publish" in listed.text
    assert post(client, f"/site/news/{post_id}/publish").status_code == 303
    with database.session(write=False) as s:
        assert s.get(NewsPost, post_id).published_at is not None
    assert post(client, f"/site/news/{post_id}/delete").status_code == 303
    with database.session(write=False) as s:
        assert s.get(NewsPost, post_id) is None


def test_the_editor_says_what_is_wrong_beside_the_field(client, database, editor, admin, clock):
    with database.session() as s:
        _post(s, None, clock, "Taken", slug="taken")
    login(client, "editor@example.org")
    refused = post(client, "/site/news/new", _form(title="Another", slug="taken"))
    assert refused.status_code == 422 and "Another post is already at /news/taken" in refused.text
    assert 'id="f-slug-error"' in refused.text or "f-slug" in refused.text
    bad = post(client, "/site/news/new", _form(title="Another", slug="Not A Slug"))
    assert bad.status_code == 422 and "lower-case letters" in bad.text
    empty = post(client, "/site/news/new", _form(title=""))
    assert empty.status_code == 422


def test_a_post_without_its_csrf_token_is_refused(client, editor):
    login(client, "editor@example.org")
    response = client.post("/site/news/new", data=_form(title="No token"))
    assert response.status_code == 403


def test_visitors_read_the_list_and_a_post(client, database, admin, clock):
    with database.session() as s:
        seed.seed_site(s, now=clock())
        for n in range(12):
            _post(s, admin, clock, f"News {n}", summary=f"Summary {n}.", body=f"Body **{n}**.")
            clock.advance(hours=1)
        _post(s, admin, clock, "Secret draft", status="draft")
    page = client.get("/news/")
    assert page.status_code == 200
    assert page.text.index("News 11") < page.text.index("News 10") and "Secret draft" not in page.text
    assert '<link rel="alternate" type="application/atom+xml"' in page.text
    # The menu's News entry (under Home) is marked as the page a visitor is on.
    assert 'href="/news/" aria-current="page">News</a>' in page.text
    assert "?page=2" in page.text and "News 1<" not in page.text
    second = client.get("/news/?page=2")
    assert "News 1<" in second.text and "News 0<" in second.text
    one = client.get("/news/news-3")
    assert one.status_code == 200 and "Body <strong>3</strong>." in one.text and "Ada Admin" in one.text
    assert client.get("/news/secret-draft").status_code == 404
    assert client.get("/news").status_code == 307


def test_the_atom_feed_is_valid_atom(client, database, admin, clock):
    with database.session() as s:
        first = _post(s, admin, clock, "Older", summary="The older one.", body="<b>raw</b> *old*")
        clock.advance(days=1, hours=2)
        _post(s, admin, clock, "Newer & better", summary="The newer one.")
        _post(s, admin, clock, "Draft", status="draft")
        first_id = first.id
    response = client.get("/news/feed.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = _feed(response.content)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}id") == "http://testserver/news/"
    assert feed.findtext(f"{ATOM}title") == "IPT UK: news"
    assert feed.findtext(f"{ATOM}updated") == clock().isoformat(timespec="seconds").replace("+00:00", "Z")
    assert feed.find(f"{ATOM}author/{ATOM}name") is not None
    self_link = feed.find(f"{ATOM}link[@rel='self']")
    assert self_link is not None and self_link.get("href") == "http://testserver/news/feed.atom"
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["Newer & better", "Older"]
    older = entries[1]
    assert (
        older.findtext(f"{ATOM}id")
        == f"tag:testserver,{(clock() - timedelta(days=1, hours=2)).date()}:news/{first_id}"
    )
    assert older.find(f"{ATOM}link").get("href") == "http://testserver/news/older"
    assert older.findtext(f"{ATOM}summary") == "The older one."
    assert older.findtext(f"{ATOM}updated").endswith("Z")
    content = older.find(f"{ATOM}content")
    assert content.get("type") == "html" and "<em>old</em>" in content.text and "<b>" not in content.text
    # Each entry has what RFC 4287 requires.
    for entry in entries:
        assert all(entry.find(f"{ATOM}{tag}") is not None for tag in ("id", "title", "updated", "link"))
    assert len({e.findtext(f"{ATOM}id") for e in entries}) == 2


def test_the_feed_of_a_site_without_news_is_still_a_feed(client, admin, clock):
    feed = _feed(client.get("/news/feed.atom").content)
    assert feed.findall(f"{ATOM}entry") == [] and feed.findtext(f"{ATOM}updated")
