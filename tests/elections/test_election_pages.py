"""The election pages through the app: set-up by the returning officer, nominations, the ballot by login and
by link, the receipt, a second attempt, trackers, turnout, and "My elections"."""

from __future__ import annotations

import io
import re
import sqlite3
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select, text
from support import as_sent, held_connections, login, make_account, post

from portal.accounts.uploads import UploadAttempt
from portal.elections.models import Ballot, Election, Nomination, RollEntry
from portal.mail.models import OutboxEmail
from portal.members.models import Member

TRACKER = re.compile(r'class="tracker".*?<strong>([A-Z2-7]{5}-[A-Z2-7]{5})</strong>', re.S)


def as_member(client, database, passwords, member_id) -> Member:
    with database.session() as s:
        member = s.get(Member, member_id)
    make_account(database, passwords, email=member.email, name=member.full_name, member_id=member.id)
    login(client, member.email)
    return member


def test_the_returning_officer_sets_up_an_election_and_a_post(client, admin, officer, database, clock):
    login(client, "ro@example.org")
    assert "Run elections" in client.get("/").text
    form = {
        "title": "EC election 2027",
        "nominations_open_at": "2026-12-01T09:00",
        "nominations_close_at": "2027-01-10T17:00",
        "withdrawal_deadline_at": "2027-01-12T17:00",
        "voting_open_at": "2027-02-01T09:00",
        "voting_close_at": "2027-02-15T12:00",
        "statuses": "active",
        "ballot_order": "shuffled",
        "statement_word_limit": "300",
        "reminder_days": "3,1",
    }
    created = post(client, "/elections/manage/new", form)
    assert created.status_code == 303
    with database.session() as s:
        election = s.scalars(select(Election)).one()
        # Times are read as UK time: 09:00 in February is 09:00 UTC; 09:00 on 1 December likewise.
        assert election.voting_open_at.hour == 9 and election.ballot_order == "shuffled"
    page = client.get(created.headers["location"])
    assert page.status_code == 200 and "EC election 2027" in page.text
    added = post(
        client,
        f"/elections/manage/{election.id}/posts/new",
        {"title": "Chair", "seats": "1", "method": "plurality", "officer": "on"},
    )
    assert added.status_code == 303
    assert "Chair" in client.get(f"/elections/manage/{election.id}").text


def test_a_bad_timetable_is_shown_beside_its_field(client, admin, officer):
    login(client, "ro@example.org")
    response = post(
        client,
        "/elections/manage/new",
        {
            "title": "X",
            "nominations_open_at": "2027-01-10T09:00",
            "nominations_close_at": "2027-01-01T09:00",
            "withdrawal_deadline_at": "2027-01-12T17:00",
            "voting_open_at": "2027-02-01T09:00",
            "voting_close_at": "2027-02-15T12:00",
            "statuses": "active",
            "ballot_order": "alphabetical",
            "statement_word_limit": "300",
        },
    )
    assert response.status_code == 422
    assert "Nominations must close after they open." in response.text
    assert 'id="f-nominations_close_at-error"' in response.text


def test_an_administrator_cannot_run_an_election(client, admin):
    login(client, "admin@example.org")
    assert client.get("/elections/manage").status_code == 403
    assert "Run elections" not in client.get("/").text


@pytest.fixture
def nominations(database, officer, clock, kit):
    with database.session() as s:
        election = Election(created_at=clock(), pool_closed=False, manual_reminders=0, tracker_public=False)
        from portal.elections import service

        service._apply(election, kit.make_setup(clock(), "nominations"))
        s.add(election)
        s.flush()
        from portal.elections.models import Contest

        chair = Contest(
            election_id=election.id,
            title="Chair",
            seats=1,
            method="plurality",
            ron=False,
            officer=True,
            position=1,
        )
        s.add(chair)
        s.flush()
        people = {n: kit.add_member(s, n.upper(), first=n, last="Smith").id for n in ("Ann", "Bob", "Cat")}
    return {"election": election.id, "chair": chair.id, **people}


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 300), (10, 90, 100)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_member_nominates_themselves_with_a_photo_and_the_proposer_confirms_by_link(
    client, admin, database, passwords, nominations
):
    e = nominations
    as_member(client, database, passwords, e["Ann"])
    page = client.get(f"/elections/{e['election']}/nominate")
    assert page.status_code == 200 and 'data-word-limit="300"' in page.text and 'value="ANN"' in page.text
    response = post(
        client,
        f"/elections/{e['election']}/nominate",
        {
            "contest": str(e["chair"]),
            "candidate": "ANN",
            "proposer": "bob@example.org",
            "seconder": "CAT",
            "statement": "Ten years on the committee.",
        },
        files={"photo": ("me.png", _png(), "image/png")},
    )
    assert response.status_code == 303, response.text
    detail = client.get(response.headers["location"]).text
    assert "Waiting for confirmations" in detail and "Withdraw my nomination" in detail
    with database.session() as s:
        mail = s.scalar(select(OutboxEmail).where(OutboxEmail.to_addr == "bob@example.org"))
        nomination = s.scalars(select(Nomination)).one()
        assert nomination.photo and Image.open(io.BytesIO(nomination.photo)).format == "JPEG"
    link = re.search(r"http://testserver(/elections/nominations/\S+)", as_sent(mail).text).group(1)
    client.cookies.clear()
    confirm_page = client.get(link)
    assert confirm_page.status_code == 200 and "Do you propose this nomination?" in confirm_page.text
    assert post(client, link, {"answer": "confirm"}).status_code == 303
    assert "You have already answered" in client.get(link).text


def test_the_nomination_form_explains_what_is_wrong(client, admin, database, passwords, nominations):
    e = nominations
    as_member(client, database, passwords, e["Ann"])
    url = f"/elections/{e['election']}/nominate"
    too_long = post(
        client,
        url,
        {
            "contest": str(e["chair"]),
            "candidate": "ANN",
            "proposer": "BOB",
            "seconder": "CAT",
            "statement": "word " * 301,
        },
    )
    assert too_long.status_code == 422 and "301 words" in too_long.text
    same = post(
        client,
        url,
        {
            "contest": str(e["chair"]),
            "candidate": "ANN",
            "proposer": "BOB",
            "seconder": "BOB",
            "statement": "Hi",
        },
    )
    assert same.status_code == 422 and "three different members" in same.text
    unknown = post(
        client,
        url,
        {
            "contest": str(e["chair"]),
            "candidate": "ANN",
            "proposer": "NOBODY",
            "seconder": "CAT",
            "statement": "Hi",
        },
    )
    assert unknown.status_code == 422 and "No member has that membership number" in unknown.text


def _nomination(e) -> dict[str, str]:
    return {
        "contest": str(e["chair"]),
        "candidate": "ANN",
        "proposer": "BOB",
        "seconder": "CAT",
        "statement": "Ten years on the committee.",
    }


def _image_file(size: tuple[int, int], fmt: str, mode: str = "RGB", **options) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _no_write_transaction_open(database) -> bool:
    """Whether another connection could begin writing right now (a door scan would not wait)."""
    if database.is_sqlite:
        probe = sqlite3.connect(database.url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            probe.close()
    with database.engine.connect() as conn:
        busy = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
            )
        ).scalar()
    return busy == 0


def test_a_40_megapixel_png_is_refused_beside_the_field_and_nothing_is_written(
    client, admin, database, passwords, nominations
):
    e = nominations
    as_member(client, database, passwords, e["Ann"])
    bomb = _image_file((8000, 5000), "PNG", "1")
    assert len(bomb) < 200 * 1024
    response = post(
        client,
        f"/elections/{e['election']}/nominate",
        _nomination(e),
        files={"photo": ("me.png", bomb, "image/png")},
    )
    assert response.status_code == 422
    assert "The photo is too large in pixels (more than 12 megapixels)" in response.text
    assert 'id="f-photo-error"' in response.text
    with database.session() as s:
        assert s.scalars(select(Nomination)).all() == []
        assert s.scalars(select(OutboxEmail)).all() == []
        assert s.scalars(select(UploadAttempt)).all() == []


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"GIF89a" + b"\x00" * 100, "The photo is a GIF file. Upload a JPEG or PNG photo."),
        (b"just some text", "The file is not a picture that can be read."),
        (b"\xff\xd8" + b"0" * (2 * 1024 * 1024), "The photo is larger than 2 MB."),
    ],
    ids=["gif", "text", "over-2-MB"],
)
def test_a_photo_that_is_not_a_jpeg_or_png_or_too_large_gets_its_own_message(
    client, admin, database, passwords, nominations, data, words
):
    e = nominations
    as_member(client, database, passwords, e["Ann"])
    response = post(
        client,
        f"/elections/{e['election']}/nominate",
        _nomination(e),
        files={"photo": ("me", data, "image/png")},
    )
    assert response.status_code == 422 and words in response.text
    with database.session() as s:
        assert s.scalars(select(Nomination)).all() == []


def test_a_large_allowed_jpeg_is_decoded_before_the_transaction_and_stored_at_800_pixels(
    client, admin, database, passwords, nominations, monkeypatch
):
    from PIL import ImageOps

    e = nominations
    as_member(client, database, passwords, e["Ann"])
    seen = []
    real = ImageOps.exif_transpose

    def watching(image, **kwargs):
        seen.append((image.size, _no_write_transaction_open(database)))
        return real(image, **kwargs)

    monkeypatch.setattr(ImageOps, "exif_transpose", watching)
    photo = _image_file((4000, 3000), "JPEG", quality=70)
    response = post(
        client,
        f"/elections/{e['election']}/nominate",
        _nomination(e),
        files={"photo": ("big.jpg", photo, "image/jpeg")},
    )
    assert response.status_code == 303, response.text
    # Decoded at a quarter of its size (draft), with no write transaction open anywhere.
    assert seen == [((1000, 750), True)]
    with database.session() as s:
        stored = Image.open(io.BytesIO(s.scalars(select(Nomination)).one().photo))
    assert stored.format == "JPEG" and stored.size == (800, 600)


def test_an_account_may_upload_ten_photos_an_hour_and_is_told_when_to_try_again(
    client, admin, database, passwords, nominations, clock
):
    e = nominations
    as_member(client, database, passwords, e["Ann"])
    url = f"/elections/{e['election']}/nominate"
    small = _image_file((50, 50), "PNG")
    for attempt in range(10):
        response = post(client, url, _nomination(e), files={"photo": ("me.png", small, "image/png")})
        assert response.status_code == (303 if attempt == 0 else 422)
        assert "uploaded" not in response.text
        clock.advance(minutes=1)
    refused = post(client, url, _nomination(e), files={"photo": ("me.png", small, "image/png")})
    assert refused.status_code == 422
    assert "You have uploaded 10 photos in the last hour, the most allowed. Try again after" in refused.text
    assert post(client, url, _nomination(e)).text.count("You have uploaded") == 0  # without a photo: no limit
    clock.advance(minutes=51)
    later = post(client, url, _nomination(e), files={"photo": ("me.png", small, "image/png")})
    assert "You have uploaded" not in later.text and "already" in later.text


@pytest.fixture
def voting_world(database, officer, clock, links, key, kit):
    world = kit.build_world(
        database,
        officer,
        now=clock(),
        voters=3,
        posts=[
            ("Chair", 1, "plurality", False, ["Adams", "Brown"]),
            ("Committee", 2, "approval", False, ["Clark", "Davis", "Evans"]),
            ("Secretary", 1, "stv", True, ["Ford", "Green"]),
        ],
    )
    kit.open_world(database, world, now=clock(), links=links, key=key)
    return world


def _choices(world) -> dict[str, str | list[str]]:
    sec = world.contests["Secretary"]
    return {
        f"c{world.contests['Chair']}": str(world.choice("Chair", "Brown")),
        f"c{world.contests['Committee']}": [
            str(world.choice("Committee", "Clark")),
            str(world.choice("Committee", "Evans")),
        ],
        f"c{sec}-{world.choice('Secretary', 'Green')}": "1",
        f"c{sec}-RON": "2",
    }


def test_a_member_votes_by_login_sees_a_receipt_once_and_cannot_vote_again(
    client, admin, database, passwords, voting_world
):
    world = voting_world
    as_member(client, database, passwords, world.voters[0])
    base = f"/elections/{world.election_id}"
    detail = client.get(base)
    assert "Go to my ballot" in detail.text
    ballot = client.get(f"{base}/ballot")
    assert ballot.status_code == 200
    assert (
        'type="radio"' in ballot.text and 'type="checkbox"' in ballot.text and "1st preference" in ballot.text
    )
    review = post(client, f"{base}/ballot/review", _choices(world))
    assert review.status_code == 200
    assert "has <strong>not</strong> been cast" in review.text and "Cand Brown" in review.text
    receipt = post(client, f"{base}/ballot/cast", _choices(world))
    assert receipt.status_code == 200
    tracker = TRACKER.search(receipt.text).group(1)
    assert "data-print" in receipt.text
    again = post(client, f"{base}/ballot/cast", _choices(world))
    assert again.status_code == 409 and 'data-code="voted"' in again.text
    assert 'data-code="voted"' in client.get(f"{base}/ballot").text
    assert tracker not in client.get(base).text
    with database.session() as s:
        assert s.scalar(select(RollEntry.has_voted).where(RollEntry.member_id == world.voters[0])) is True


def test_change_my_choices_brings_the_ballot_back_filled_in(client, admin, database, passwords, voting_world):
    world = voting_world
    as_member(client, database, passwords, world.voters[0])
    back = post(client, f"/elections/{world.election_id}/ballot", _choices(world))
    assert back.status_code == 200
    brown = world.choice("Chair", "Brown")
    assert re.search(rf'value="{brown}"\s+checked', back.text)
    assert re.search(r'<option value="1" selected>1st preference', back.text)


def test_a_ranking_with_the_same_preference_twice_comes_back_with_a_message(
    client, admin, database, passwords, voting_world
):
    world = voting_world
    as_member(client, database, passwords, world.voters[0])
    sec = world.contests["Secretary"]
    response = post(
        client,
        f"/elections/{world.election_id}/ballot/review",
        {
            f"c{sec}-{world.choice('Secretary', 'Ford')}": "1",
            f"c{sec}-{world.choice('Secretary', 'Green')}": "1",
        },
    )
    assert response.status_code == 422
    assert "1st preference to more than one candidate" in response.text
    assert f'href="#f-c{sec}"' in response.text


@pytest.mark.parametrize(
    "rank",
    ["\u00b2", "\uff11", "\u0663", "\u07c1", "1\u00b2", "9" * 5000],
    ids=["superscript-2", "full-width-1", "arabic-indic-3", "nko-1", "1-superscript-2", "5000-digits"],
)
def test_a_rank_in_digits_other_than_0_to_9_comes_back_with_a_message_not_a_server_error(
    client, admin, database, passwords, voting_world, rank
):
    world = voting_world
    as_member(client, database, passwords, world.voters[0])
    sec = world.contests["Secretary"]
    for step in ("ballot/review", "ballot/cast"):
        response = post(
            client,
            f"/elections/{world.election_id}/{step}",
            {**_choices(world), f"c{sec}-{world.choice('Secretary', 'Green')}": rank},
        )
        assert response.status_code == 422, step
        assert "choose a preference from the list for each candidate" in response.text
    with database.session() as s:
        assert s.scalar(select(RollEntry.has_voted).where(RollEntry.member_id == world.voters[0])) is False


def test_a_member_votes_by_the_emailed_link_without_logging_in_and_then_cannot_vote_by_login(
    client, admin, database, passwords, voting_world
):
    world = voting_world
    with database.session() as s:
        member = s.get(Member, world.voters[1])
        body = as_sent(s.scalar(select(OutboxEmail).where(OutboxEmail.to_addr == member.email))).text
    link = re.search(r"http://testserver(/elections/vote/\S+)", body).group(1)
    ballot = client.get(link)
    assert ballot.status_code == 200 and "Your ballot" in ballot.text
    assert post(client, f"{link}/review", _choices(world)).status_code == 200
    receipt = post(client, f"{link}/cast", _choices(world))
    assert TRACKER.search(receipt.text)
    assert 'data-code="voted"' in client.get(link).text
    as_member(client, database, passwords, world.voters[1])
    refused = post(client, f"/elections/{world.election_id}/ballot/cast", _choices(world))
    assert refused.status_code == 409 and 'data-code="voted"' in refused.text


def test_an_unknown_ballot_link_is_not_found(client, admin):
    response = client.get("/elections/vote/made-up-token")
    assert response.status_code == 404


def test_the_first_page_after_voting_opens_freezes_the_roll_and_sends_links(
    client, admin, database, passwords, officer, clock, kit
):
    world = kit.build_world(database, officer, now=clock(), voters=2)
    with database.session() as s:
        clock.now = s.get(Election, world.election_id).voting_open_at + timedelta(minutes=5)
    as_member(client, database, passwords, world.voters[0])
    with held_connections(database) as pool:
        page = client.get(f"/elections/{world.election_id}")
    # The freeze is the page's catch-up, in a transaction of its own before the page's: never beside it.
    assert pool.peak == 1 and pool.checkouts >= 3
    assert "Go to my ballot" in page.text and "were on the roll when voting opened" in page.text
    with database.session() as s:
        assert s.get(Election, world.election_id).roll_frozen_at == clock()
        assert s.scalar(select(OutboxEmail).where(OutboxEmail.kind == "elections/ballot_link")) is not None


@pytest.mark.parametrize("page", ["results", "trackers", ""])
def test_the_first_page_after_the_close_closes_voting_with_one_connection_at_a_time(
    client, admin, database, voting_world, clock, page
):
    world = voting_world
    with database.session() as s:
        clock.now = s.get(Election, world.election_id).voting_close_at + timedelta(seconds=1)
        assert not s.get(Election, world.election_id).pool_closed
    with held_connections(database) as pool:
        shown = client.get(f"/elections/{world.election_id}/{page}".rstrip("/"))
    assert shown.status_code in (200, 303, 403)
    assert pool.peak == 1
    with database.session() as s:
        assert s.get(Election, world.election_id).pool_closed


def test_trackers_are_shown_after_the_close_to_officers_then_to_everyone_once_published(
    client, admin, database, passwords, officer, voting_world, clock, key, kit
):
    world = voting_world
    as_member(client, database, passwords, world.voters[0])
    receipt = post(client, f"/elections/{world.election_id}/ballot/cast", _choices(world))
    tracker = TRACKER.search(receipt.text).group(1)
    url = f"/elections/{world.election_id}/trackers"
    waiting = client.get(url)  # voting still open: the page says when trackers will appear
    assert waiting.status_code == 200 and "will appear here after voting closes" in waiting.text
    clock.advance(days=8)
    assert "once the trustees have opened the ballot box" in client.get(url).text
    kit.close_world(database, world, now=clock(), key=key)
    assert client.get(url).status_code == 403  # not yet published
    client.cookies.clear()
    login(client, "ro@example.org")
    listing = client.get(url)
    assert 'method="post"' in listing.text and 'name="csrf_token"' in listing.text
    page = post(client, url, {"tracker": tracker.lower().replace("-", " ")})
    assert page.status_code == 200 and tracker in page.text and "Found: ballot" in page.text
    assert "Cand Brown" in page.text
    # A tracker in the query string is not looked up (it would sit in the server's access log).
    assert "Found: ballot" not in client.get(url, params={"tracker": tracker}).text
    with database.session() as s:
        assert s.scalar(select(Ballot.tracker)) == tracker.replace("-", "")
        s.get(Election, world.election_id).tracker_public = True
    client.cookies.clear()
    public = client.get(url)
    assert public.status_code == 200 and tracker in public.text


def test_turnout_updates_by_htmx_for_staff(client, admin, database, passwords, voting_world, key, clock):
    world = voting_world
    make_account(database, passwords, email="office@example.org", roles="office")
    login(client, "office@example.org")
    url = f"/elections/manage/{world.election_id}/turnout"
    page = client.get(url)
    assert page.status_code == 200 and "<meter" in page.text and 'hx-trigger="every 15s"' in page.text
    partial = client.get(url, headers={"HX-Request": "true"})
    assert "<html" not in partial.text and 'id="turnout"' in partial.text
    assert partial.headers["Vary"] == "HX-Request"


def test_staff_correct_the_roll_and_remind_from_the_pages(
    client, admin, database, officer, voting_world, kit
):
    world = voting_world
    with database.session() as s:
        late = kit.add_member(s, "LATE9", first="Lara")
    login(client, "ro@example.org")
    base = f"/elections/manage/{world.election_id}"
    no_reason = post(client, f"{base}/roll/correct", {"action": "add", "member": "LATE9", "reason": ""})
    assert no_reason.status_code == 422 and "Enter the reason" in no_reason.text
    done = post(
        client, f"{base}/roll/correct", {"action": "add", "member": "LATE9", "reason": "Paid on time"}
    )
    assert done.status_code == 303
    roll_page = client.get(f"{base}/roll").text
    assert "Added late" in roll_page and "Paid on time" in roll_page
    assert post(client, f"{base}/remind").status_code == 303
    with database.session() as s:
        assert s.scalar(
            select(OutboxEmail).where(
                OutboxEmail.kind == "elections/reminder", OutboxEmail.to_addr == late.email
            )
        )


def test_my_account_lists_my_elections(client, admin, database, passwords, voting_world):
    world = voting_world
    as_member(client, database, passwords, world.voters[2])
    page = client.get("/me")
    assert page.status_code == 200
    assert "My elections" in page.text and "Vote now" in page.text


def test_things_to_do_asks_a_voter_to_vote_with_the_close_and_no_one_else(
    client, admin, database, passwords, voting_world, kit
):
    world = voting_world
    with database.session() as s:
        late = kit.add_member(s, "LATE9", first="Lara")
        title = s.get(Election, world.election_id).title
    as_member(client, database, passwords, world.voters[2])
    page = client.get("/me").text
    todo = page[page.index("Things to do") : page.index("My elections")]
    assert f"Vote in the {title}" in todo
    assert re.search(r"Voting closes \d+ \w+ \d{4}, \d\d:\d\d", todo)
    assert f'href="/elections/{world.election_id}/ballot"' in todo
    client.cookies.clear()
    as_member(client, database, passwords, late.id)
    assert "Vote in the" not in client.get("/me").text


def test_the_candidates_page_is_public_and_marks_uncontested_posts(
    client, admin, database, officer, clock, kit
):
    world = kit.build_world(
        database,
        officer,
        now=clock(),
        posts=[("Chair", 1, "plurality", False, ["Solo"]), ("Treasurer", 1, "plurality", True, ["Only"])],
    )
    page = client.get(f"/elections/{world.election_id}/candidates")
    assert page.status_code == 200
    assert "I am Solo. Vote for me." in page.text
    assert "elected unopposed" in page.text
    assert "re-open nominations (RON)" in page.text
