"""The home page: its introduction (the site's home page), the next three events with places left, the election
under way, the latest three news posts and the society's standing; and what it no longer shows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from support import login

from portal.accounts.models import Account
from portal.elections import service as elections
from portal.events import catalogue
from portal.home import service as home
from portal.site import news, seed
from portal.site.models import Page
from portal.society.models import Society


def _event(s, clock, title, *, days, capacity=20, taken=0, status="published", closes_days=None):
    starts = clock() + timedelta(days=days)
    event = catalogue.create_event(
        s,
        data=catalogue.EventData(
            title=title,
            slug=service_slug(title),
            kind="training",
            starts_at=starts,
            ends_at=starts + timedelta(hours=6),
            registration_opens_at=clock() - timedelta(days=30),
            registration_closes_at=starts - timedelta(days=closes_days if closes_days is not None else 1),
            venue="Friends House",
            capacity=capacity,
            status=status,
        ),
        actor=None,
        now=clock(),
    )
    event.places_taken = taken
    return event


def service_slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _election(s, admin, clock, *, stage):
    now = clock()
    if stage == "nominations":
        times = (now - timedelta(days=1), now + timedelta(days=6), now + timedelta(days=7),
                 now + timedelta(days=8), now + timedelta(days=20))  # fmt: skip
    else:
        times = (now - timedelta(days=20), now - timedelta(days=10), now - timedelta(days=9),
                 now - timedelta(days=1), now + timedelta(days=5))  # fmt: skip
    setup = elections.ElectionSetup("Executive Committee election 2027", *times)
    return elections.create_election(
        s, actor=s.get(Account, admin.id), setup=setup, now=now - timedelta(days=30)
    )


@pytest.fixture
def site(database, admin, clock):
    with database.session() as s:
        seed.seed_site(s, now=clock())
        intro = s.query(Page).filter_by(path="").one()
        intro.summary = "The UK society for Interpersonal Psychotherapy."
        intro.body = "## A Brief Introduction to IPT\n\nIPT is a time-limited therapy."
        society = s.get(Society, 1)
        society.charity_number, society.company_number = "1190000", "09723196"


def test_the_home_page_shows_each_block(client, database, admin, clock, site):
    with database.session() as s:
        _event(s, clock, "Too late to book", days=2, closes_days=3)
        _event(s, clock, "Full day", days=3, capacity=10, taken=10)
        _event(s, clock, "Draft day", days=4, status="draft")
        _event(s, clock, "First open", days=5, capacity=10, taken=7)
        _event(s, clock, "Second open", days=6, capacity=None)
        _event(s, clock, "Third open", days=8)
        _event(s, clock, "Fourth open", days=9)
        _election(s, admin, clock, stage="voting")
        for n, title in enumerate(["Oldest news", "Old news", "Recent news", "Newest news"]):
            news.create_post(
                s,
                values=news.PostValues(
                    title=title, slug=f"news-{n}", summary=f"About {title.lower()}.", status="published"
                ),
                actor=None,
                now=clock() - timedelta(days=10 - n),
            )
            s.flush()
        news.create_post(s, values=news.PostValues(title="A draft", slug="draft"), actor=None, now=clock())
    html = client.get("/").text
    main = html.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    # No old welcome and its buttons: the login is in the header.
    assert "Welcome" not in main and "Log in" not in main
    assert (
        '<h1 id="home-title">IPT UK</h1>' in main
        and "The UK society for Interpersonal Psychotherapy." in main
    )
    events = main.split('id="events-title"', 1)[1].split("</section>", 1)[0]
    assert re.findall(r'class="home-item-title" href="[^"]*/events/([a-z-]+)"', events) == [
        "first-open",
        "second-open",
        "third-open",
    ]
    assert "3 places left" in events and "Places available" in events and "20 places left" in events
    notice = main.split('class="notice info election-notice"', 1)[1].split("</section>", 1)[0]
    assert "Executive Committee election 2027" in notice
    assert "Voting is open until 30 November 2026 at 09:00." in notice
    latest = main.split('id="news-title"', 1)[1].split("</section>", 1)[0]
    assert re.findall(r"/news/(news-\d)\"", latest) == ["news-3", "news-2", "news-1"]
    assert "About newest news." in latest and "A draft" not in latest
    assert "A Brief Introduction to IPT" in main
    standing = main.split('class="home-standing"', 1)[1].split("</aside>", 1)[0]
    assert "1190000" in standing and "09723196" in standing
    assert '<link rel="alternate" type="application/atom+xml"' in html.split("</head>", 1)[0]


def test_the_notice_follows_the_timetable(client, database, admin, clock, site):
    with database.session() as s:
        _election(s, admin, clock, stage="nominations")
    notice = client.get("/").text.split("election-notice", 1)[1].split("</section>", 1)[0]
    assert "Nominations are open until 1 December 2026 at 09:00." in notice
    clock.advance(days=6, hours=12)
    notice = client.get("/").text.split("election-notice", 1)[1].split("</section>", 1)[0]
    assert "Nominations have closed. Voting opens on 3 December 2026 at 09:00." in notice
    clock.advance(days=20)
    assert "election-notice" not in client.get("/").text


def test_a_quiet_home_page_says_so_and_has_no_notice(client, site):
    main = client.get("/").text.split('<main id="main"', 1)[1]
    assert "election-notice" not in main
    assert "No event is taking bookings just now." in main and "No news yet." in main


def test_the_blocks_without_http(database, admin, clock, site):
    with database.session() as s:
        _event(s, clock, "Only one", days=3, capacity=5, taken=1)
        front = home.front_page(s, now=clock(), include_drafts=False)
    assert [(e.event.title, e.places_left) for e in front.events] == [("Only one", 4)]
    assert front.election is None and front.news == []
    assert front.standing is not None and front.standing.company_number == "09723196"
    assert front.introduction is not None and front.introduction.is_home


def test_members_keep_their_shortcuts(client, admin, site):
    login(client, "admin@example.org")
    main = client.get("/").text.split('<main id="main"', 1)[1]
    assert "Your shortcuts" in main and "Staff accounts" in main and "Edit the home page" in main
