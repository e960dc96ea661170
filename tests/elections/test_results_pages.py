"""The results pages through the app: the returning officer counts and publishes; scrutineers review and
download the ballots in BLT; members see the results only once published (everyone, when the election's
results are public); CSV and PDF downloads; the archive; the set-up choices."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import results_kit as rk
from sqlalchemy import select
from starlette.testclient import TestClient
from support import login, make_account, post

from portal.audit import AuditEvent
from portal.elections import results, trustees
from portal.elections.models import Election
from portal.members.models import Member

POSTS = [
    ("Chair", 1, "plurality", False, ["Adams", "Brown"]),
    ("Committee", 2, "stv", True, ["Clark", "Davis", "Evans"]),
]
BALLOTS = [
    {"Chair": ["Adams"], "Committee": ["Clark", "Davis"]},
    {"Chair": ["Adams"], "Committee": ["Clark", "Evans"]},
    {"Chair": ["Brown"], "Committee": ["Davis", "Evans", "RON"]},
    {"Chair": ["Adams"], "Committee": ["Evans", "Clark"]},
    {"Chair": ["Brown"], "Committee": ["Clark"]},
]


@pytest.fixture
def people(database, passwords, admin, officer):
    make_account(
        database, passwords, email="scrutineer@example.org", name="Sam Scrutineer", roles="scrutineer"
    )
    return {"officer": "ro@example.org", "scrutineer": "scrutineer@example.org"}


@pytest.fixture
def world(database, officer, kit, clock, key, links, passwords, people):
    world = rk.closed_election(
        database, officer, kit, clock=clock, key=key, links=links, posts=POSTS, ballots=BALLOTS
    )
    with database.session() as s:
        voter = s.get(Member, world.voters[0])
    make_account(database, passwords, email=voter.email, name=voter.full_name, member_id=voter.id)
    people["member"] = voter.email
    return world


@pytest.fixture
def as_who(app, people) -> Iterator:
    clients: list[TestClient] = []

    @contextmanager
    def make(who: str | None) -> Iterator[TestClient]:
        client = TestClient(app, base_url="http://testserver", follow_redirects=False)
        clients.append(client)
        if who is not None:
            login(client, people[who])
        yield client

    yield make
    for client in clients:
        client.close()


def url(world, suffix: str = "") -> str:
    return f"/elections/{world.election_id}/results{suffix}"


def count(client, world):
    response = post(client, f"/elections/manage/{world.election_id}/count")
    assert response.status_code == 303, response.text
    return response


def publish(client, world):
    response = post(client, f"/elections/manage/{world.election_id}/publish", {"confirm": "on"})
    assert response.status_code == 303, response.text
    return response


def test_after_the_close_the_returning_officer_sees_the_sealed_ballot_box_and_counts(world, as_who, database):
    with as_who("officer") as client:
        page = client.get(url(world))
        assert page.status_code == 200
        with database.session() as s:
            fingerprint = s.get(Election, world.election_id).ballots_hash
        assert fingerprint in page.text and "5 ballots" in page.text
        assert "Count the votes" in page.text and "Publish the results" not in page.text
        counted = count(client, world)
        assert counted.headers["location"] == url(world)
        page = client.get(url(world))
    assert "The votes are counted" in page.text
    assert "Cand Adams" in page.text and "Publish the results" in page.text
    assert "Count the votes again" in page.text
    # One grid per post (candidates down, stages across), the chart with its title and description, the
    # plain-language explanation.
    assert page.text.count('<table class="table stage-grid" aria-labelledby=') >= 1
    grids = [
        part.split("</table>")[0]
        for part in page.text.split('<table class="table stage-grid" aria-labelledby=')[1:]
    ]
    ranked = next(g for g in grids if '<th scope="col" class="num">Stage 1</th>' in g)
    assert '<th scope="col" class="num">First count</th><th scope="col" class="num">Stage 1</th>' in ranked
    names = re.findall(r'<th scope="row" class="stage-name">([^<]+)</th>', ranked)
    assert len(names) == len(set(names)) >= 3  # each candidate once, across every stage
    assert '<svg class="chart"' in page.text and "<desc id=" in page.text
    assert "This count used STV under the Electoral Reform Society" in page.text
    assert 'style="' not in page.text and "<script>" not in page.text


def test_the_first_page_after_the_close_closes_voting_and_the_close_page_opens_the_box_with_two_shares(
    database, officer, kit, clock, key, links, people, as_who
):
    world = kit.build_world(database, officer, now=clock(), posts=POSTS[:1], voters=2)
    kit.open_world(database, world, now=clock(), links=links, key=key)
    rk.cast_all(database, world, [{"Chair": ["Adams"]}] * 2, key=key, now=clock())
    with database.session() as s:
        clock.now = s.get(Election, world.election_id).voting_close_at
    with as_who("officer") as client:
        page = client.get(url(world))
        assert "Give the trustees' shares to open the ballot box" in page.text
        refused = post(client, f"/elections/manage/{world.election_id}/count")
        assert refused.status_code == 409 and "still sealed" in refused.text
        with database.session() as s:
            election = s.get(Election, world.election_id)
            assert election.pool_closed and election.ballots_hash is None
            trustee_ids = [t.id for t in trustees.trustees(s, world.election_id)]
        one = post(
            client,
            f"/elections/manage/{world.election_id}/close",
            {f"share-{trustee_ids[0]}": world.share_texts(1)[0]},
        )
        assert one.status_code == 422 and "shares are needed to open the ballot box; 1 was given" in one.text
        opened = post(
            client,
            f"/elections/manage/{world.election_id}/close",
            {f"share-{t}": text for t, text in zip(trustee_ids, world.share_texts(), strict=False)},
        )
        assert opened.status_code == 303
    with as_who("scrutineer") as client:
        assert "Waiting for the count" in client.get(url(world)).text
    with database.session() as s:
        election = s.get(Election, world.election_id)
        assert (
            election.ballots_total == 2
            and election.ballots_hash == results.ballots_hash(s, election.id, key=key)[1]
        )
        assert s.scalars(select(AuditEvent.action).where(AuditEvent.action == "election.closed")).all()


def test_before_publication_only_the_returning_officer_and_scrutineers_see_the_count(world, as_who):
    with as_who("officer") as client:
        count(client, world)
    with as_who("scrutineer") as client:
        page = client.get(url(world))
        assert page.status_code == 200 and "Review before publication" in page.text
        assert "Cand Adams" in page.text and "Publish the results" not in page.text
        assert client.get(url(world, ".csv")).status_code == 200
    with as_who("member") as client:
        refused = client.get(url(world))
        assert refused.status_code == 403 and "Cand Adams" not in refused.text
        assert client.get(url(world, ".csv")).status_code == 403
        assert client.get(url(world, ".pdf")).status_code == 403
    with as_who(None) as client:
        anonymous = client.get(url(world))
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login?next=")


def test_only_the_returning_officer_counts_and_publishes(world, as_who):
    with as_who("scrutineer") as client:
        assert post(client, f"/elections/manage/{world.election_id}/count").status_code == 403
    with as_who("officer") as client:
        count(client, world)
    with as_who("scrutineer") as client:
        response = post(client, f"/elections/manage/{world.election_id}/publish", {"confirm": "on"})
        assert response.status_code == 403


def test_a_scrutineer_downloads_the_ballots_of_a_ranked_post_in_blt(world, as_who):
    with as_who("officer") as client:
        count(client, world)
    blt = f"/elections/{world.election_id}/results/posts/{world.contests['Committee']}.blt"
    with as_who("scrutineer") as client:
        response = client.get(blt)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
        assert "attachment" in response.headers["content-disposition"]
        assert response.text.startswith("4 2\n") and '"Re-open nominations (RON)"' in response.text
        not_ranked = client.get(f"/elections/{world.election_id}/results/posts/{world.contests['Chair']}.blt")
        assert not_ranked.status_code == 404
    with as_who("member") as client:
        assert client.get(blt).status_code == 403


def test_publishing_asks_for_confirmation(world, as_who, database):
    with as_who("officer") as client:
        count(client, world)
        unconfirmed = post(client, f"/elections/manage/{world.election_id}/publish")
        assert unconfirmed.status_code == 422
        assert "Tick the box to confirm" in unconfirmed.text
    with database.session() as s:
        assert s.get(Election, world.election_id).published_at is None


def test_once_published_members_see_the_results_and_the_trackers_are_public(world, as_who, database):
    with as_who("officer") as client:
        count(client, world)
        published = publish(client, world)
        assert "The results are published to members" in client.get(published.headers["location"]).text
    with as_who("member") as client:
        page = client.get(url(world))
        assert page.status_code == 200
        assert "Review before publication" not in page.text and "Count the votes" not in page.text
        assert "Cand Adams" in page.text and "Turnout" in page.text
        # Turnout: everyone eligible is on the roll; five voted.
        with database.session() as s:
            turnout = results.turnout(s, s.get(Election, world.election_id))
        assert f"{turnout.percent}%" in page.text and turnout.ballots == 5
        detail = client.get(f"/elections/{world.election_id}")
        assert f'{url(world)}"' in detail.text
    with as_who(None) as client:
        assert client.get(url(world)).status_code == 303  # members only: log in
        trackers = client.get(f"/elections/{world.election_id}/trackers")
        assert trackers.status_code == 200 and "5 ballots" in trackers.text


def test_results_an_election_made_public_are_for_everyone(
    database, officer, kit, clock, key, links, people, as_who
):
    world = rk.closed_election(
        database,
        officer,
        kit,
        clock=clock,
        key=key,
        links=links,
        posts=POSTS,
        ballots=BALLOTS,
        results_public=True,
    )
    with as_who("officer") as client:
        count(client, world)
    with as_who(None) as client:
        assert client.get(url(world)).status_code == 303  # not before publication
    with as_who("officer") as client:
        publish(client, world)
    with as_who(None) as client:
        page = client.get(url(world))
        assert page.status_code == 200 and "Cand Adams" in page.text
        assert client.get(url(world, ".pdf")).status_code == 200
        archive = client.get("/elections/archive")
        assert f'{url(world)}"' in archive.text


def test_the_results_csv_has_a_row_per_candidate_per_stage(world, as_who):
    with as_who("officer") as client:
        count(client, world)
        publish(client, world)
    with as_who("member") as client:
        response = client.get(url(world, ".csv"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert f'filename="election-{world.election_id}-results.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    chair = [r for r in rows if r["Post"] == "Chair"]
    assert {(r["Candidate"], r["Votes"], r["Status"]) for r in chair} == {
        ("Cand Adams", "3", "elected"),
        ("Cand Brown", "2", "excluded"),
    }
    committee = [r for r in rows if r["Post"] == "Committee"]
    assert {r["Rule"] for r in committee} == {"ers97-stv"}
    assert {"Non-transferable", "Loss by fractions", "Re-open nominations (RON)"} <= {
        r["Candidate"] for r in committee
    }


def test_the_results_pdf_names_the_winners(world, as_who, tmp_path):
    with as_who("officer") as client:
        count(client, world)
        draft = client.get(url(world, ".pdf"))
        assert draft.status_code == 200 and "results-draft.pdf" in draft.headers["content-disposition"]
        publish(client, world)
    with as_who("member") as client:
        response = client.get(url(world, ".pdf"))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    file = tmp_path / "results.pdf"
    file.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(file), "-"], capture_output=True, text=True, check=True
    ).stdout
    with as_who("member") as client:
        page = client.get(url(world))
    winners = [
        w
        for w in ("Cand Adams", "Cand Clark", "Cand Davis", "Cand Evans")
        if f"<strong>{w}</strong>" in page.text
    ]
    assert "Cand Adams" in winners and len(winners) == 3
    assert "Executive Committee 2027: results" in text
    for winner in winners:
        assert winner in text
    assert "Elected, in order: Cand Adams" in text and "turnout of" in text


def test_the_archive_keeps_published_elections_for_members(world, as_who):
    with as_who("member") as client:
        assert f'{url(world)}"' not in client.get("/elections/archive").text
    with as_who("officer") as client:
        count(client, world)
        publish(client, world)
    with as_who("member") as client:
        archive = client.get("/elections/archive")
        assert archive.status_code == 200 and f'{url(world)}"' in archive.text
        assert f'/elections/{world.election_id}/candidates"' in archive.text
        assert '/elections/archive"' in client.get("/elections/").text
    with as_who(None) as client:
        assert f'{url(world)}"' not in client.get("/elections/archive").text


def test_the_returning_officer_chooses_the_stv_rule_and_public_results_at_set_up(
    client, admin, officer, database
):
    login(client, "ro@example.org")
    form_page = client.get("/elections/manage/new")
    assert 'name="stv_rule" value="ers97" checked' in form_page.text
    created = post(
        client,
        "/elections/manage/new",
        {
            "title": "EC election 2027",
            "nominations_open_at": "2026-12-01T09:00",
            "nominations_close_at": "2027-01-10T17:00",
            "withdrawal_deadline_at": "2027-01-12T17:00",
            "voting_open_at": "2027-02-01T09:00",
            "voting_close_at": "2027-02-15T12:00",
            "statuses": "active",
            "ballot_order": "alphabetical",
            "statement_word_limit": "300",
            "stv_rule": "scottish",
            "results_public": "on",
        },
    )
    assert created.status_code == 303
    with database.session() as s:
        election = s.scalars(select(Election)).one()
        assert (election.stv_rule, election.results_public) == ("scottish", True)
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "election.create")).one()
    assert json.loads(event.details)["stv_rule"] == "scottish"
    bad = post(client, f"/elections/manage/{election.id}/edit", {"title": "x", "stv_rule": "meek"})
    assert bad.status_code == 422 and "Choose how ranked posts are counted" in bad.text
