"""Election e-mails carry single-use links (a ballot link, a reminder's fresh ballot link, a proposer's,
seconder's or nominee's confirmation link): stored nowhere readable, hidden from office staff, delivered
working, scrubbed once sent."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient
from support import as_sent, check_sealed_link_mail, login, make_account, stored_anywhere

from portal.accounts.models import Account
from portal.elections import reminders, service
from portal.elections.models import Election
from portal.mail.models import OutboxEmail


@pytest.fixture
def office(app, database, passwords, admin):
    make_account(database, passwords, email="office@example.org", roles="office", name="Olive Office")
    with TestClient(app, follow_redirects=False) as other:
        login(other, "office@example.org")
        yield other


def test_ballot_and_reminder_links_are_stored_nowhere_readable_and_work_as_delivered(
    client, office, database, officer, settings, clock, links, key, kit
):
    world = kit.build_world(database, officer, now=clock(), voters=2)
    kit.open_world(database, world, now=clock(), links=links, key=key)
    ballot = check_sealed_link_mail(
        database, settings, clock, office, kind="elections/ballot_link", to="v00000@example.org"
    )
    assert client.get(ballot).status_code == 200
    with database.session() as s:
        close = s.get(Election, world.election_id).voting_close_at
        clock.now = close - timedelta(days=2)
        assert reminders.send_due_reminders(s, now=clock(), key=key, links=links) > 0
    login(office, "office@example.org")  # the clock moved days on: the office login has lapsed
    reminder = check_sealed_link_mail(
        database, settings, clock, office, kind="elections/reminder", to="v00000@example.org"
    )
    assert reminder != ballot and client.get(reminder).status_code == 200


def test_nomination_confirmation_links_are_stored_nowhere_readable_and_work_as_delivered(
    client, office, database, officer, settings, clock, links, key, kit
):
    with database.session() as s:
        actor = s.get(Account, officer.id)
        election = service.create_election(
            s, actor=actor, setup=kit.make_setup(clock(), "nominations"), now=clock()
        )
        chair = service.add_contest(
            s, actor=actor, election_id=election.id, setup=service.ContestSetup(title="Chair"), now=clock()
        )
        ann, bob, cat, dan = (kit.add_member(s, n.upper(), first=n).id for n in ("Ann", "Bob", "Cat", "Dan"))
        service.nominate(
            s,
            election_id=election.id,
            nominator_id=ann,
            form=service.NominationForm(
                contest_id=chair.id,
                nominee_id=bob,
                proposer_id=cat,
                seconder_id=dan,
                statement="I will serve.",
            ),
            now=clock(),
            key=key,
            links=links,
        )
    # Three e-mails from one action: the proposer's and seconder's links read as sent, before the one check
    # below sends them all.
    with database.session(write=False) as s:
        others = [
            as_sent(e).text
            for e in s.scalars(
                select(OutboxEmail).where(OutboxEmail.to_addr.in_(["cat@example.org", "dan@example.org"]))
            )
        ]
    other_links = [
        re.search(r"http://testserver/elections/nominations/\S+", text).group(0) for text in others
    ]
    assert len(other_links) == 2 and all(stored_anywhere(database, link) == [] for link in other_links)
    consent = check_sealed_link_mail(
        database, settings, clock, office, kind="elections/nomination_confirm", to="bob@example.org"
    )
    for path in [consent, *(link.removeprefix("http://testserver") for link in other_links)]:
        assert client.get(path).status_code == 200
    assert all(stored_anywhere(database, link) == [] for link in other_links)
