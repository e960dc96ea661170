"""Search and the web's conventions over HTTP: the results page and its paging, hostile queries, the 404 page
that offers search, the sitemap and robots.txt, canonical and Open Graph tags, the old site's addresses (and
the editors' list of them), and anonymous pages revalidated by ETag."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import pytest
from support import login, make_account, post

from portal.site import seed
from portal.site import service as site
from portal.site.models import Page, Redirect


@pytest.fixture
def site_pages(database, admin, clock):
    """The fresh install's site (the captured menu), as `portal db upgrade` places it."""
    with database.session() as s:
        seed.seed_site(s, now=clock())
        mission = s.query(Page).filter_by(path="about-ipt/mission-vision").one()
        site.update_page(
            s,
            page_id=mission.id,
            values=site.PageValues(
                title=mission.title,
                slug=mission.slug,
                parent_id=mission.parent_id,
                position=mission.position,
                summary="What the society is for, & where it is going.",
                body="Our **mission**: interpersonal psychotherapy for everyone who needs it.",
                status="published",
            ),
            base_revision=None,
            actor=None,
            now=clock(),
            reserved=(),
        )


@pytest.fixture
def editor(database, passwords, admin):
    return make_account(database, passwords, email="editor@example.org", roles="editor", name="Eddie Editor")


def test_the_results_page_lists_marked_hits_with_a_search_form_labelled(client, site_pages):
    response = client.get("/search", params={"q": "interpersonal psychotherapy"})
    assert response.status_code == 200
    assert 'role="search"' in response.text
    assert '<label for="search-page-q">' in response.text
    assert 'value="interpersonal psychotherapy"' in response.text
    assert 'href="/about-ipt/mission-vision"' in response.text
    assert re.search(r"<mark>interpersonal</mark>", response.text, re.IGNORECASE)
    assert '<meta name="robots" content="noindex">' in response.text


def test_every_page_has_the_search_box_in_its_header(client, site_pages):
    response = client.get("/about-ipt")
    assert 'role="search"' in response.text and 'for="site-search-q"' in response.text
    assert 'action="http://testserver/search"' in response.text


def test_nothing_found_says_what_to_try(client, site_pages):
    response = client.get("/search", params={"q": "zeppelin"})
    assert response.status_code == 200
    assert "Nothing found for" in response.text and "Check the spelling" in response.text


def test_an_empty_search_asks_for_words(client, site_pages):
    assert "Type what you are looking for" in client.get("/search").text
    assert "no words to search for" in client.get("/search", params={"q": "***"}).text


@pytest.mark.parametrize("query", ['"', "*", "NEAR(", "a OR", "-", "x" * 3000, "\x00", "<b>", "%", "page=2"])
def test_hostile_queries_never_fail(client, site_pages, query):
    response = client.get("/search", params={"q": query, "page": "oops"})
    assert response.status_code == 200
    assert "<b>" not in response.text  # what was typed comes back escaped


def test_the_results_page_pages_through_many_hits(client, site_pages):
    first = client.get("/search", params={"q": "page"})  # every placeholder says "This page is waiting…"
    assert "Page 1 of" in first.text and 'rel="next"' in first.text
    second = client.get("/search", params={"q": "page", "page": "2"})
    assert second.status_code == 200 and 'rel="prev"' in second.text
    beyond = client.get("/search", params={"q": "page", "page": "50"})
    assert "Nothing found" in beyond.text


def test_a_missing_page_offers_search_with_its_words(client, site_pages):
    response = client.get("/about-ipt/stages-of-therapy.html")
    assert response.status_code == 404
    assert 'role="search"' in response.text
    assert 'value="about ipt stages of therapy"' in response.text


def test_an_old_address_leads_to_its_page_for_good(client, site_pages):
    response = client.get("/find-a-therapist.html")
    assert response.status_code == 301
    assert response.headers["location"] == "/about-ipt/find-a-therapist"
    assert client.get("/Membership-Options.html").headers["location"] == (
        "/accreditation-membership/membership-options"
    )
    assert client.get("/events-calendar.html").headers["location"] == "/events"


def test_editors_add_change_and_remove_an_old_address(client, database, site_pages, editor):
    login(client, "editor@example.org")
    page = client.get("/site/redirects")
    assert page.status_code == 200 and "/find-a-therapist.html" in page.text
    assert (
        post(
            client, "/site/redirects", {"old_path": "/Old-News.html?x=1", "target": "/about-ipt"}
        ).status_code
        == 303
    )
    bad = post(client, "/site/redirects", {"old_path": "no slash", "target": "javascript:alert(1)"})
    assert bad.status_code == 422 and "starting with /" in bad.text
    with database.session(write=False) as s:
        made = s.query(Redirect).filter_by(old_path="/old-news.html").one()
        assert made.target == "/about-ipt" and made.updated_by == "Eddie Editor"
    client.cookies.clear()
    assert client.get("/old-news.html").headers["location"] == "/about-ipt"
    login(client, "editor@example.org")
    assert post(client, f"/site/redirects/{made.id}/delete").status_code == 303
    client.cookies.clear()
    assert client.get("/old-news.html").status_code == 404


def test_the_sitemap_lists_published_pages_events_and_public_routes(client, site_pages, database, clock):
    with database.session() as s:
        draft = s.query(Page).filter_by(path="cookies").one()
        site.update_page(
            s,
            page_id=draft.id,
            values=site.PageValues(title=draft.title, slug=draft.slug, in_menu=False, status="draft",
                                   body=draft.body, position=draft.position),
            base_revision=None, actor=None, now=clock(), reserved=(),
        )  # fmt: skip
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    tree = ElementTree.fromstring(response.content)  # noqa: S314 - our own sitemap
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [loc.text for loc in tree.findall("s:url/s:loc", ns)]
    assert "http://testserver/about-ipt/mission-vision" in locs
    assert "http://testserver/events" in locs and "http://testserver/" in locs
    assert "http://testserver/register" in locs and "http://testserver/find-a-therapist" in locs
    assert "http://testserver/cookies" not in locs
    assert tree.find("s:url/s:lastmod", ns) is not None


def test_robots_keeps_staff_areas_out_and_names_the_sitemap(client):
    text = client.get("/robots.txt").text
    assert "Disallow: /site/pages" in text and "Disallow: /members/" in text
    assert "Disallow: /events/manage" in text
    assert "Disallow: /register/manage" in text and "Disallow: /register/export" in text
    assert "Sitemap: http://testserver/sitemap.xml" in text


def test_a_public_page_has_canonical_and_open_graph_tags(client, site_pages):
    html = client.get("/about-ipt/mission-vision?utm=x").text
    assert '<link rel="canonical" href="http://testserver/about-ipt/mission-vision">' in html
    assert '<meta property="og:title" content="Mission &amp; Vision">' in html
    assert (
        '<meta property="og:description" content="What the society is for, &amp; where it is going.">' in html
    )
    assert '<meta property="og:type" content="article">' in html
    assert '<meta property="og:site_name" content="IPT UK">' in html


def test_an_anonymous_page_is_revalidated_by_its_etag(client, site_pages):
    client.get("/")  # the CSRF cookie, so the page's bytes are the same next time
    first = client.get("/about-ipt/mission-vision")
    tag = first.headers["etag"]
    assert tag.startswith('W/"')
    assert first.headers["cache-control"] == "private, no-cache"
    assert "Cookie" in first.headers["vary"]
    again = client.get("/about-ipt/mission-vision", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag
    assert client.get("/about-ipt/mission-vision", headers={"If-None-Match": 'W/"other"'}).status_code == 200


def test_an_edit_changes_the_etag(client, site_pages, database, clock):
    client.get("/")
    tag = client.get("/about-ipt").headers["etag"]
    with database.session() as s:
        found = s.query(Page).filter_by(path="about-ipt").one()
        found.summary = "Changed."
    assert client.get("/about-ipt", headers={"If-None-Match": tag}).status_code == 200


def test_a_logged_in_page_is_never_stored(client, site_pages, editor):
    login(client, "editor@example.org")
    response = client.get("/about-ipt/mission-vision")
    assert response.headers["cache-control"] == "no-store"
    assert "etag" not in response.headers


def test_a_moved_page_leaves_its_old_address_behind_and_the_old_site_s_follows(
    client, site_pages, database, clock
):
    with database.session() as s:
        found = s.query(Page).filter_by(path="about-ipt/find-a-therapist").one()
        site.update_page(
            s,
            page_id=found.id,
            values=site.PageValues(title=found.title, slug="find-a-practitioner", parent_id=found.parent_id,
                                   position=found.position, body=found.body, status="published"),
            base_revision=None, actor=None, now=clock(), reserved=(),
        )  # fmt: skip
    assert client.get("/find-a-therapist.html").headers["location"] == "/about-ipt/find-a-practitioner"
    assert client.get("/about-ipt/find-a-therapist").headers["location"] == "/about-ipt/find-a-practitioner"
    with database.session() as s:
        found = s.query(Page).filter_by(path="about-ipt/find-a-practitioner").one()
        site.update_page(
            s,
            page_id=found.id,
            values=site.PageValues(title=found.title, slug="find-a-therapist", parent_id=found.parent_id,
                                   position=found.position, body=found.body, status="published"),
            base_revision=None, actor=None, now=clock(), reserved=(),
        )  # fmt: skip
        assert s.query(Redirect).filter_by(old_path="/about-ipt/find-a-therapist").count() == 0
    assert client.get("/about-ipt/find-a-therapist").status_code == 200
    assert client.get("/find-a-therapist.html").headers["location"] == "/about-ipt/find-a-therapist"


def test_a_long_query_is_searched_in_part_and_says_so(client, site_pages):
    response = client.get("/search", params={"q": "mission " * 30})
    assert response.status_code == 200
    assert "Only the first 10 words (or 200 characters) were searched for." in response.text
