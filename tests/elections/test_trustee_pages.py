"""The trustee pages through HTTP: the returning officer names trustees and makes the key; each trustee
downloads their share once and checks it on their own page; nobody else can reach another's share."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from starlette.testclient import TestClient
from support import login, make_account, post

from portal.elections.models import Election, Trustee


@pytest.fixture
def people(database, passwords, admin, officer):
    for email, name in (("sam.patel@example.org", "Sam Patel"), ("sue.okafor@example.org", "Sue Okafor")):
        make_account(database, passwords, email=email, name=name, roles="scrutineer")
    make_account(database, passwords, email="other@example.org", name="Olly Other", roles="scrutineer")
    return {
        "officer": "ro@example.org",
        "sam": "sam.patel@example.org",
        "sue": "sue.okafor@example.org",
        "other": "other@example.org",
    }


@pytest.fixture
def as_who(app, people):
    clients = []

    @contextmanager
    def make(who):
        client = TestClient(app, base_url="http://testserver", follow_redirects=False)
        clients.append(client)
        login(client, people[who])
        yield client

    yield make
    for client in clients:
        client.close()


def _ids(database, emails):
    from sqlalchemy import select

    from portal.accounts.models import Account

    with database.session() as s:
        return [s.scalar(select(Account.id).where(Account.email == e)) for e in emails]


def test_the_officer_names_trustees_and_each_trustee_downloads_once_and_checks_their_share(
    database, officer, clock, kit, people, as_who
):
    world = kit.build_world(database, officer, now=clock(), trustees=False)
    base = f"/elections/manage/{world.election_id}"
    ids = _ids(database, [people["officer"], people["sam"], people["sue"]])
    with as_who("officer") as client:
        one = post(client, f"{base}/trustees", {"trustee": [str(ids[0])], "threshold": "2"})
        assert one.status_code == 422 and "Name at least 2 trustees" in one.text
        named = post(client, f"{base}/trustees", {"trustee": [str(i) for i in ids], "threshold": "2"})
        assert named.status_code == 303
        page = client.get(f"{base}/trustees")
        assert "Scrutineer Sam Patel" in page.text and "Make the election key" in page.text
        assert post(client, f"{base}/key").status_code == 303
        admin_page = client.get(base)
        assert (
            "Voting cannot open until every trustee has downloaded and checked their share" in admin_page.text
        )
        refused = post(client, f"{base}/open")
        assert refused.status_code == 409
    with as_who("other") as client:
        # A scrutineer who is not a trustee of this election reaches no share.
        assert client.get(f"/elections/{world.election_id}/trustee").status_code == 403
        assert post(client, f"/elections/{world.election_id}/trustee/share").status_code == 403
    with as_who("sam") as client:
        page = client.get(f"/elections/{world.election_id}/trustee")
        assert page.status_code == 200 and "Download my share" in page.text
        share = post(client, f"/elections/{world.election_id}/trustee/share")
        assert share.status_code == 200 and "attachment" in share.headers["content-disposition"]
        assert "portal-share:" in share.text and share.headers["cache-control"] == "no-store"
        again = post(client, f"/elections/{world.election_id}/trustee/share")
        assert again.status_code == 409
        wrong = post(
            client,
            f"/elections/{world.election_id}/trustee/check",
            {"share": share.text.strip()[:-2] + ("00" if not share.text.strip().endswith("00") else "11")},
        )
        assert wrong.status_code == 422 and "does not match the one made for them" in wrong.text
        checked = post(
            client,
            f"/elections/{world.election_id}/trustee/check",
            {},
            files={"share_file": ("mine.share", share.text.encode(), "text/plain")},
        )
        assert checked.status_code == 303
    with database.session() as s:
        sam = s.query(Trustee).filter(Trustee.account_id == ids[1]).one()
        assert sam.checked_at is not None and sam.share_enc is None
        assert s.get(Election, world.election_id).trustees_ready_at is None


def test_the_close_page_names_a_wrong_share_and_opens_nothing(
    database, officer, clock, kit, links, key, people, as_who
):
    world = kit.build_world(database, officer, now=clock(), voters=1)
    kit.open_world(database, world, now=clock(), links=links, key=key)
    clock.advance(days=8)
    with database.session() as s:
        trustees = (
            s.query(Trustee).filter(Trustee.election_id == world.election_id).order_by(Trustee.position).all()
        )
        ids = [t.id for t in trustees]
    officer_share, _sam_share, sue_share = (world.shares[a] for a in world.trustee_ids)
    with as_who("officer") as client:
        response = post(
            client,
            f"/elections/manage/{world.election_id}/close",
            {f"share-{ids[0]}": officer_share, f"share-{ids[1]}": sue_share},
        )
        assert response.status_code == 422
        assert (
            "The share given as Scrutineer Sam Patel&#39;s does not match the one made for them."
            in response.text
        )
    with database.session() as s:
        assert s.get(Election, world.election_id).ballots_hash is None


def test_the_close_page_opens_the_box_with_two_share_files_chosen_together(
    database, officer, clock, kit, links, key, people, as_who
):
    """Each trustee chooses their own file on one form: every file is read (none closed before its turn)."""
    world = kit.build_world(database, officer, now=clock(), voters=1)
    kit.open_world(database, world, now=clock(), links=links, key=key)
    clock.advance(days=8)
    with database.session() as s:
        ids = [
            t.id
            for t in s.query(Trustee)
            .filter(Trustee.election_id == world.election_id)
            .order_by(Trustee.position)
        ]
    officer_share, sam_share, _sue_share = (world.shares[a] for a in world.trustee_ids)
    with as_who("officer") as client:
        response = post(
            client,
            f"/elections/manage/{world.election_id}/close",
            {},
            files=[
                (f"file-{ids[0]}", ("rita.share", officer_share.encode(), "text/plain")),
                (f"file-{ids[1]}", ("sam.share", sam_share.encode(), "text/plain")),
            ],
        )
        assert response.status_code == 303, response.text
    with database.session() as s:
        assert s.get(Election, world.election_id).ballots_hash is not None


def test_a_trustee_page_is_for_that_elections_trustees_only(database, officer, clock, kit, people, as_who):
    world = kit.build_world(database, officer, now=clock())
    with as_who("other") as client:
        assert client.get(f"/elections/{world.election_id}/trustee").status_code == 403
        assert (
            post(client, f"/elections/{world.election_id}/trustee/check", {"share": "x"}).status_code == 403
        )
    with as_who("sam") as client:
        assert client.get(f"/elections/manage/{world.election_id}/close").status_code == 403
