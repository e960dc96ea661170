"""The returning officer's election page: a stepper (Set-up → Nominations → Voting → Count → Review → Publish)
with the one next action as its button (a closed election's "Count the votes" among them); settings in words
(category names, "3 days and 1 day", the ballot order); badges apart from the post's name; and in the count,
"Not elected" for who was simply left when every place was filled, "Excluded" for who an exclusion removed."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
import results_kit as rk
from starlette.testclient import TestClient
from support import login, make_account, post

from portal.elections import results
from portal.elections.models import Contest, Election
from portal.elections.progress import progress
from tests.elections.conftest import timetable

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)

POSTS = [
    ("Chair", 1, "plurality", True, ["Adams", "Brown"]),
    ("Committee", 1, "stv", False, ["Clark", "Davis", "Evans"]),
]
# Committee: Clark 2, Davis 2, Evans 1 at the first count (quota 2.51 of 5 for one seat): Evans is excluded, his
# paper goes to Davis, who is elected; Clark is then simply not elected.
BALLOTS = [
    {"Chair": ["Adams"], "Committee": ["Clark"]},
    {"Chair": ["Adams"], "Committee": ["Clark"]},
    {"Chair": ["Brown"], "Committee": ["Davis"]},
    {"Chair": ["Adams"], "Committee": ["Davis"]},
    {"Chair": ["Brown"], "Committee": ["Evans", "Davis"]},
]


def election(phase: str, **marks) -> Election:
    return Election(
        title="EC", contests=marks.pop("contests", [Contest(title="Chair")]), **timetable(NOW, phase), **marks
    )


def steps(p) -> dict[str, str]:
    return {key: mark for key, _, mark in p.steps}


@pytest.mark.parametrize(
    ("phase", "marks", "ready", "waiting", "current", "action", "posts"),
    [
        ("draft", {"contests": []}, "no trustees", None, "setup", "Add a post", False),
        ("draft", {}, "no trustees", None, "setup", "Name the trustees and make the election key", False),
        ("draft", {"public_key": "ab" * 32}, None, None, "setup", None, False),
        ("nominations", {"public_key": "ab" * 32}, None, 7, "nominations", "Decide the nominations", False),
        ("nominations", {"public_key": "ab" * 32}, None, None, "nominations", None, False),
        ("between", {}, "the key is not made", None, "voting", "Get the trustees ready", False),
        ("between", {"public_key": "ab" * 32}, None, None, "voting", "Open voting now", True),
        ("voting", {"public_key": "ab" * 32}, None, None, "voting", "See the turnout", False),
        ("closed", {}, None, None, "count", "Give the trustees' shares to open the ballot box", False),
        ("closed", {"ballots_hash": "0" * 64}, None, None, "count", "Count the votes", True),
        (
            "closed",
            {"ballots_hash": "0" * 64, "counted_at": NOW},
            None,
            None,
            "review",
            "Review the count",
            False,
        ),
    ],
)
def test_each_stage_has_its_step_and_one_next_action(phase, marks, ready, waiting, current, action, posts):
    p = progress(election(phase, **marks), NOW, not_ready=ready, waiting_nomination=waiting)
    assert p.current == current
    marks_by_step = steps(p)
    assert marks_by_step[current] == "current" and list(marks_by_step.values()).count("current") == 1
    keys = list(marks_by_step)
    assert all(marks_by_step[k] == "done" for k in keys[: keys.index(current)])
    assert all(marks_by_step[k] == "todo" for k in keys[keys.index(current) + 1 :])
    if action is None:
        assert p.action is None
    else:
        assert p.action is not None and p.action.label.startswith(action) and p.action.post is posts


def test_a_published_election_has_every_step_done():
    done = election("closed", ballots_hash="0" * 64, counted_at=NOW, published_at=NOW)
    p = progress(done, NOW, not_ready=None, waiting_nomination=None)
    assert set(steps(p).values()) == {"done"} and p.action.label == "See the published results"


@pytest.fixture
def people(database, passwords, admin, officer):
    make_account(
        database, passwords, email="scrutineer@example.org", name="Sam Scrutineer", roles="scrutineer"
    )
    return {"officer": "ro@example.org", "scrutineer": "scrutineer@example.org"}


@pytest.fixture
def world(database, officer, kit, clock, key, links, people):
    return rk.closed_election(
        database,
        officer,
        kit,
        clock=clock,
        key=key,
        links=links,
        posts=POSTS,
        ballots=BALLOTS,
        officer_posts=("Chair",),
        categories=("member_plus", "basic"),
    )


@pytest.fixture
def as_who(app, people) -> Iterator:
    @contextmanager
    def make(who: str) -> Iterator[TestClient]:
        with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
            login(client, people[who])
            yield client

    return make


def current_step(page: str) -> str:
    return re.search(
        r'aria-current="step"><span[^>]*>[^<]*</span> <span class="step-label">([^<]+)<', page
    ).group(1)


def test_a_closed_election_shows_its_count_button_then_review_then_published(world, as_who):
    admin_url = f"/elections/manage/{world.election_id}"
    with as_who("scrutineer") as client:
        page = client.get(admin_url).text
        assert current_step(page) == "Count" and "Count the votes" not in page  # the officer's button
    with as_who("officer") as client:
        page = client.get(admin_url).text
        assert current_step(page) == "Count"
        form = re.search(
            r'<form method="post" action="([^"]+)" class="progress-action">.*?</form>', page, re.S
        )
        assert form and form.group(1).endswith(f"/elections/manage/{world.election_id}/count")
        assert '<button type="submit" class="button">Count the votes</button>' in form.group(0)
        assert post(client, form.group(1)).status_code == 303
        page = client.get(admin_url).text
        assert current_step(page) == "Review" and "Review the count and publish" in page
        published = post(client, f"/elections/manage/{world.election_id}/publish", {"confirm": "on"})
        assert published.status_code == 303
        page = client.get(admin_url).text
        assert (
            'aria-current="step"' not in page
            and page.count('<span class="visually-hidden"> (done)</span>') == 6
        )
        assert "See the published results" in page
        shown = client.get(f"/elections/{world.election_id}/results").text
    # The published results say how to recount each ranked post, with any STV program and no command line.
    recount = shown[shown.index('<section class="panel recount" id="recount"') :]
    assert "Recount the votes yourself" in recount and "or a command line" in recount
    with_blt = re.findall(r'href="([^"]+\.blt)" download>Ballots for (\w+) \(BLT file\)', recount)
    assert [title for _, title in with_blt] == ["Committee"]
    assert 'href="#recount">how to recount</a>' in shown


def test_the_election_page_says_its_settings_in_words_and_keeps_badges_apart(world, as_who):
    with as_who("officer") as client:
        page = client.get(f"/elections/manage/{world.election_id}").text
        roll = client.get(f"/elections/manage/{world.election_id}/roll").text
    assert "3 days and 1 day before the close" in page and "3,1" not in page
    assert "Members who are active, in Basic or Member plus" in page and "member_plus" not in page
    assert "Alphabetical by surname" in page
    assert re.search(r"Chair(</a>)? <span class=\"badges\"><span class=\"badge\">Officer</span>", page)
    assert "member_plus" not in roll and '<td data-label="Category">Basic</td>' in roll


def test_who_was_left_when_every_place_was_filled_is_not_elected_not_excluded(world, as_who, database):
    with as_who("officer") as client:
        assert post(client, f"/elections/manage/{world.election_id}/count").status_code == 303
        page = client.get(f"/elections/{world.election_id}/results").text
    with database.session() as s:
        committee = next(p for p in results.post_results(s, world.election_id) if p.title == "Committee")
    last = committee.stages[-1]
    status = {row.name: (row.excluded_here, row.not_elected_here) for row in last.rows}
    assert committee.winners == ["Cand Davis"]
    assert status["Cand Evans"] == (True, False)  # removed by the exclusion
    assert status["Cand Clark"] == (True, True)  # left once the seat was filled
    section = page[page.index('id="post-' + str(committee.contest_id)) :]
    final = section[section.index(f"Stage {last.number}:") :]
    assert re.search(r"Cand Clark</th>.*?Not elected", final, re.S)
    assert re.search(r"Cand Evans</th>.*?Excluded<", final, re.S)


def test_chart_labels_are_never_cut_short(world, as_who, database):
    from portal.elections.results_export import LABEL_FITS, chart

    with as_who("officer") as client:
        assert post(client, f"/elections/manage/{world.election_id}/count").status_code == 303
    with database.session() as s:
        committee = next(p for p in results.post_results(s, world.election_id) if p.title == "Committee")
    long_name = "Professor Dame Philippa Wolstenholme-Featherstonehaugh"
    renamed = dataclasses.replace(
        committee,
        elected=[dataclasses.replace(d, name=long_name) for d in committee.elected],
        stages=[
            dataclasses.replace(
                stage,
                rows=[
                    dataclasses.replace(row, name=long_name if row.name == "Cand Davis" else row.name)
                    for row in stage.rows
                ],
            )
            for stage in committee.stages
        ],
    )
    drawn = chart(renamed)
    labels = [row.label for row in drawn.rows]
    assert f"{long_name} (elected)" in labels and not any("…" in label for label in labels)
    # Names sit above the bars: a long one goes onto more lines, each short enough to fit beside the votes,
    # and the bars keep their length.
    row = next(r for r in drawn.rows if r.name == long_name)
    assert len(row.label_lines) >= 2 and " ".join(row.label_lines) == row.label
    assert all(len(line) <= LABEL_FITS for line in row.label_lines)
    assert drawn.width == chart(committee).width
