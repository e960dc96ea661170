"""Search without HTTP, on both engines: ranking, marked snippets that stay escaped, drafts never found, the
index kept in step with every save and delete, rebuilding it, and queries that try to break the engine."""

from __future__ import annotations

from datetime import timedelta

import pytest
from events.conftest import event_data
from sqlalchemy import func, select, text

from portal.app import search_sources
from portal.events import catalogue
from portal.search import service as search
from portal.search.models import SearchDocument
from portal.site import service as site

RESERVED = frozenset({"events", "login", "site", "search"})


def _page(db, admin, clock, title, *, body="", summary="", status="published", parent=None, link=""):
    return site.create_page(
        db,
        values=site.PageValues(
            title=title,
            slug=site.slugify(title),
            parent_id=parent.id if parent else None,
            summary=summary,
            body=body,
            link=link,
            status=status,
        ),
        actor=admin,
        now=clock(),
        reserved=RESERVED,
    )


def _edit(db, admin, clock, page, **changes):
    values = {name: getattr(page, name) for name in ("title", "slug", "parent_id", "position", "summary", "body",
                                                       "link", "status", "in_menu")}  # fmt: skip
    values.update(changes)
    return site.update_page(
        db,
        page_id=page.id,
        values=site.PageValues(**values),
        base_revision=None,
        actor=admin,
        now=clock(),
        reserved=RESERVED,
    )


def _urls(results):
    return [hit.url for hit in results.hits]


def test_a_word_in_the_title_ranks_above_the_same_word_in_the_text(db, admin, clock):
    _page(db, admin, clock, "Membership options", body="Supervisors pay the full fee.")
    _page(db, admin, clock, "Supervisor training", body="The course for those who supervise IPT.")
    _page(db, admin, clock, "Cookies", body="Only the cookies the site needs.")
    found = search.search(db, "supervisor", limit=10)
    assert _urls(found) == ["/supervisor-training", "/membership-options"]
    assert found.total == 2


def test_every_word_must_be_found_and_a_phrase_keeps_its_order(db, admin, clock):
    _page(db, admin, clock, "Regional meetings", body="Meetings in the north west of England.")
    _page(db, admin, clock, "National meeting", body="The west wing of the hotel, north entrance.")
    assert set(_urls(search.search(db, "north west"))) == {"/regional-meetings", "/national-meeting"}
    assert _urls(search.search(db, '"north west"')) == ["/regional-meetings"]
    assert _urls(search.search(db, "north -hotel")) == ["/regional-meetings"]
    assert _urls(search.search(db, "north wales")) == []


def test_words_are_found_in_their_other_forms(db, admin, clock):
    _page(db, admin, clock, "Training", body="Practitioners are trained over five days.")
    assert _urls(search.search(db, "practitioner")) == ["/training"]
    assert _urls(search.search(db, "TRAINS")) == ["/training"]


def test_the_snippet_marks_the_words_found_and_escapes_the_text_around_them(db, admin, clock):
    _page(db, admin, clock, "Scripts", body="Never <script>alert(1)</script> run depression & anxiety code.")
    hit = search.search(db, "depression").hits[0]
    assert "<mark>depression</mark>" in str(hit.snippet).lower()
    assert "<script>" not in str(hit.snippet)
    assert "&amp;" in str(hit.snippet)
    assert "<mark>" not in str(hit.title)


def test_stored_markup_is_never_a_mark(db, admin, clock):
    """Raw HTML in a page's Markdown is text to the index; a title holding `<mark>` or the engine's own marker
    characters comes back escaped, with only the engine's marks as tags."""
    _page(db, admin, clock, "The <mark>odd</mark> \x01title\x02", body="Therapy <b>bold</b> text.")
    hit = search.search(db, "therapy").hits[0]
    assert "&lt;mark&gt;odd&lt;/mark&gt;" in str(hit.title)
    assert str(hit.title).count("<mark>") == 0
    assert "<b>" not in str(hit.snippet)
    assert str(hit.snippet).count("<mark>") == str(hit.snippet).count("</mark>") == 1


def test_drafts_and_menu_links_are_never_found(db, admin, clock):
    _page(db, admin, clock, "Secret plans", body="Depression research draft.", status="draft")
    _page(db, admin, clock, "Depression calendar", link="events:calendar")
    assert search.search(db, "depression").total == 0


def test_publishing_adds_a_page_and_making_it_a_draft_takes_it_out(db, admin, clock):
    page = _page(db, admin, clock, "Bipolar course", body="IPSRT.", status="draft")
    assert search.search(db, "ipsrt").total == 0
    _edit(db, admin, clock, page, status="published")
    assert _urls(search.search(db, "ipsrt")) == ["/bipolar-course"]
    _edit(db, admin, clock, page, status="draft")
    assert search.search(db, "ipsrt").total == 0


def test_an_edit_replaces_the_old_words_and_a_move_follows_the_branch(db, admin, clock):
    parent = _page(db, admin, clock, "Courses")
    child = _page(db, admin, clock, "Refresher", body="A refresher day.", parent=parent)
    _edit(db, admin, clock, child, body="A day to return to IPT.")
    assert search.search(db, '"refresher day"').total == 0
    assert _urls(search.search(db, "return")) == ["/courses/refresher"]
    _edit(db, admin, clock, parent, slug="training")
    assert _urls(search.search(db, "return")) == ["/training/refresher"]


def test_a_deleted_page_is_no_longer_found(db, admin, clock):
    page = _page(db, admin, clock, "Old policy", body="Withdrawn safeguarding text.")
    assert search.search(db, "safeguarding").total == 1
    site.delete_page(db, page_id=page.id, actor=admin, now=clock())
    assert search.search(db, "safeguarding").total == 0
    assert db.scalar(select(func.count()).select_from(SearchDocument)) == 0


def test_events_are_found_with_their_date_drafts_never_and_past_ones_still(db, admin, clock):
    now = clock()
    past = catalogue.create_event(
        db, data=event_data(slug="isipt-2024", title="ISIPT Conference 2024", status="published",
                            starts_at=now - timedelta(days=400), ends_at=now - timedelta(days=399),
                            registration_opens_at=now - timedelta(days=500),
                            registration_closes_at=now - timedelta(days=401)),
        actor=None, now=now,
    )  # fmt: skip
    draft = catalogue.create_event(
        db, data=event_data(slug="isipt-2027", title="ISIPT Conference 2027", status="draft"), actor=None, now=now
    )  # fmt: skip
    found = search.search(db, "isipt conference")
    assert _urls(found) == ["/events/isipt-2024"]
    assert found.hits[0].date == past.starts_at
    assert found.hits[0].kind == "event"
    assert draft.id


def test_an_event_made_public_by_an_edit_is_found(db, admin, clock, app):
    from portal.events.links import Links

    now = clock()
    data = event_data(slug="skills-day", title="Skills day", status="draft")
    event = catalogue.create_event(db, data=data, actor=None, now=now)
    assert search.search(db, "skills").total == 0
    links = Links.for_app(app, key=b"k" * 32)
    catalogue.update_event(
        db, event_id=event.id, data=data.__class__(**{**vars(data), "status": "published"}), actor=None, now=now,
        links=links,
    )  # fmt: skip
    assert _urls(search.search(db, "skills")) == ["/events/skills-day"]


def test_paging_walks_every_hit_once(db, admin, clock):
    for n in range(13):
        _page(db, admin, clock, f"Page {n}", body="Interpersonal psychotherapy.")
    first = search.search(db, "interpersonal", limit=5, offset=0)
    second = search.search(db, "interpersonal", limit=5, offset=5)
    third = search.search(db, "interpersonal", limit=5, offset=10)
    assert first.total == 13 and first.has_more and not third.has_more
    urls = _urls(first) + _urls(second) + _urls(third)
    assert len(urls) == len(set(urls)) == 13


def test_rebuild_makes_the_same_index_from_the_sources(db, admin, clock):
    _page(db, admin, clock, "Mission", body="The society's mission.")
    _page(db, admin, clock, "Hidden", body="Mission draft.", status="draft")
    db.execute(text("DELETE FROM search_documents"))
    assert search.search(db, "mission").total == 0
    counts = search.rebuild(db, search_sources())
    assert counts == {"page": 1, "event": 0, "news": 0, "course": 0}
    assert _urls(search.search(db, "mission")) == ["/mission"]


HOSTILE = [
    '"',
    '""',
    "*",
    "NEAR(",
    "NEAR(a b",
    "a OR",
    "OR",
    "AND NOT",
    "-",
    "--",
    "- -x",
    "(",
    ")",
    "a:b",
    "title:mission",
    "^mission",
    "mission*",
    "'; DROP TABLE search_documents; --",
    "\\",
    "%_",
    "\x00",
    "\x01mark\x02",
    "!!!",
    "<script>",
    "a & b | c",
    "the",
    "ünïcödé",
    "x" * 5000,
    "mission " * 200,
    '"unclosed phrase',
]


@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
def test_no_query_breaks_the_search(db, admin, clock, query):
    _page(db, admin, clock, "Mission", body="The society's mission and vision.")
    found = search.search(db, query)
    assert found.total >= 0
    for hit in found.hits:
        assert "<script>" not in str(hit.snippet) + str(hit.title)


def test_a_query_without_words_finds_nothing_and_says_so(db, admin, clock):
    _page(db, admin, clock, "Mission", body="Vision.")
    for query in ("", "   ", "*", '"', "-mission", "()"):
        found = search.search(db, query)
        assert found.query.empty and found.total == 0


def test_a_long_query_is_cut_and_says_so():
    assert search.parse("word " * 50).cut
    assert len(search.parse("word " * 50).phrases) == search.MAX_WORDS
    assert search.parse("x" * 1000).cut
    assert not search.parse("supervisor training").cut


def test_parse_keeps_words_phrases_and_left_out_words():
    parsed = search.parse('IPT "national meeting" -london NEAR(a*')
    # A token with punctuation inside is read as its words in order (as websearch_to_tsquery reads it).
    assert parsed.phrases == (("ipt",), ("national", "meeting"), ("near", "a"))
    assert parsed.left_out == (("london",),)


def test_plain_text_drops_markdown_and_keeps_escaped_html_as_text():
    assert (
        search.plain_text("## Aims\n\n**Bold** [link](/x) <b>raw</b> &amp;") == "Aims Bold link <b>raw</b> &"
    )


def test_news_posts_are_found_once_published_and_gone_once_deleted(db, admin, clock):
    from portal.site import news

    post = news.create_post(
        db,
        values=news.PostValues(title="Conference bursaries", slug="bursaries", body="Apply for a *bursary*."),
        actor=admin,
        now=clock(),
    )
    assert search.search(db, "bursary").total == 0  # a draft
    news.publish_post(db, post_id=post.id, actor=admin, now=clock())
    found = search.search(db, "bursary")
    assert [(hit.kind, hit.url) for hit in found.hits] == [("news", "/news/bursaries")]
    news.delete_post(db, post_id=post.id, actor=admin, now=clock())
    assert search.search(db, "bursary").total == 0


def test_courses_are_found_by_their_text_and_a_draft_course_is_not(db, admin, clock):
    from portal.training import service as training

    training.ensure_courses(db, now=clock())
    assert "/training/ipc" in _urls(search.search(db, "interpersonal counselling"))
    course = training.save_course(
        db,
        course_id=None,
        data=training.CourseData(title="Group IPT", slug="group-ipt", about="Therapy in small groups."),
        actor=admin,
        now=clock(),
    )
    assert search.search(db, "groups").total == 0  # a draft
    training.save_course(
        db,
        course_id=course.id,
        data=training.CourseData(
            title="Group IPT", slug="group-ipt", about="Therapy in small groups.", status="published"
        ),
        actor=admin,
        now=clock(),
    )
    assert _urls(search.search(db, "groups")) == ["/training/group-ipt"]


def test_rebuild_covers_news_and_courses(db, admin, clock):
    from portal.site import news
    from portal.training import service as training

    training.ensure_courses(db, now=clock())
    news.create_post(
        db,
        values=news.PostValues(title="Bursaries", slug="bursaries", body="Apply.", status="published"),
        actor=admin,
        now=clock(),
    )
    counts = search.rebuild(db, search_sources())
    assert counts["course"] == 6 and counts["news"] == 1
