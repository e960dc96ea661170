"""Nominations: a candidate, a proposer and a seconder (eligible, three different people), confirmation by
single-use e-mailed links, the candidate's consent, the returning officer's decision, and withdrawal."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import select
from support import as_sent

from portal.accounts.models import Account
from portal.audit import AuditEvent
from portal.elections import photos, service
from portal.elections.errors import ElectionError
from portal.elections.models import Election, Nomination, NominationToken
from portal.mail.models import OutboxEmail
from portal.web.tokens import token_digest
from portal.web.uploads import UploadRefused

LINK = re.compile(r"http://testserver/elections/nominations/(\S+)")


@pytest.fixture
def open_election(database, officer, clock, kit):
    """An election taking nominations, with a Chair post and four members."""
    with database.session() as s:
        actor = s.get(Account, officer.id)
        election = service.create_election(
            s, actor=actor, setup=kit.make_setup(clock(), "nominations"), now=clock()
        )
        chair = service.add_contest(
            s, actor=actor, election_id=election.id, setup=service.ContestSetup(title="Chair"), now=clock()
        )
        people = {
            name: kit.add_member(s, name.upper(), first=name).id for name in ("Ann", "Bob", "Cat", "Dan")
        }
    return {"election": election.id, "chair": chair.id, **people}


def nominate(
    database, e, *, by, nominee, proposer, seconder, clock, key, links, statement="I will serve.", photo=None
):
    with database.session() as s:
        return service.nominate(
            s,
            election_id=e["election"],
            nominator_id=e[by],
            form=service.NominationForm(
                contest_id=e["chair"],
                nominee_id=e[nominee],
                proposer_id=e[proposer],
                seconder_id=e[seconder],
                statement=statement,
                photo=photos.clean_photo(photo) if photo is not None else None,
            ),
            now=clock(),
            key=key,
            links=links,
        )


def links_sent(database) -> dict[str, str]:
    """Recipient → the nomination link e-mailed to them."""
    with database.session() as s:
        emails = s.scalars(
            select(OutboxEmail).where(OutboxEmail.kind == "elections/nomination_confirm")
        ).all()
        return {e.to_addr: LINK.search(as_sent(e).text).group(1) for e in emails}


def answer(database, token, clock, key, confirm=True):
    with database.session() as s:
        return service.answer_nomination(s, token=token, confirm=confirm, now=clock(), key=key)


def status(database, nomination_id) -> str:
    with database.session() as s:
        return s.get(Nomination, nomination_id).status


def test_standing_yourself_asks_the_proposer_and_seconder_to_confirm(
    database, open_election, clock, key, links
):
    e = open_election
    nomination = nominate(
        database,
        e,
        by="Ann",
        nominee="Ann",
        proposer="Bob",
        seconder="Cat",
        clock=clock,
        key=key,
        links=links,
    )
    assert nomination.status == "pending" and nomination.consent_at == clock()
    sent = links_sent(database)
    assert set(sent) == {"bob@example.org", "cat@example.org"}
    answer(database, sent["bob@example.org"], clock, key)
    assert status(database, nomination.id) == "pending"
    answer(database, sent["cat@example.org"], clock, key)
    assert status(database, nomination.id) == "submitted"


def test_nominating_someone_else_asks_for_their_consent_and_the_nominator_may_be_the_proposer(
    database, open_election, clock, key, links
):
    e = open_election
    nomination = nominate(
        database,
        e,
        by="Bob",
        nominee="Ann",
        proposer="Bob",
        seconder="Cat",
        clock=clock,
        key=key,
        links=links,
    )
    assert nomination.proposer_confirmed_at == clock() and nomination.consent_at is None
    sent = links_sent(database)
    assert set(sent) == {"ann@example.org", "cat@example.org"}
    with database.session() as s:
        consent_mail = s.scalar(select(OutboxEmail).where(OutboxEmail.to_addr == "ann@example.org"))
        assert consent_mail.subject.startswith("You have been nominated")
    answer(database, sent["ann@example.org"], clock, key)
    answer(database, sent["cat@example.org"], clock, key)
    assert status(database, nomination.id) == "submitted"


def test_nomination_links_are_stored_hashed_and_work_once(database, open_election, clock, key, links):
    e = open_election
    nominate(
        database,
        e,
        by="Ann",
        nominee="Ann",
        proposer="Bob",
        seconder="Cat",
        clock=clock,
        key=key,
        links=links,
    )
    token = links_sent(database)["bob@example.org"]
    with database.session() as s:
        digests = s.scalars(select(NominationToken.token_digest)).all()
    assert token_digest(key, token, purpose="nomination") in digests and token not in digests
    answer(database, token, clock, key)
    with pytest.raises(ElectionError) as again:
        answer(database, token, clock, key)
    assert again.value.code == "bad_link"
    with pytest.raises(ElectionError) as unknown:
        answer(database, "not-a-token", clock, key)
    assert unknown.value.code == "bad_link"


def test_a_seconder_who_declines_ends_the_nomination(database, open_election, clock, key, links):
    e = open_election
    nomination = nominate(
        database,
        e,
        by="Ann",
        nominee="Ann",
        proposer="Bob",
        seconder="Cat",
        clock=clock,
        key=key,
        links=links,
    )
    answer(database, links_sent(database)["cat@example.org"], clock, key, confirm=False)
    assert status(database, nomination.id) == "declined"
    # The candidate may be nominated again, with someone else seconding.
    again = nominate(
        database,
        e,
        by="Ann",
        nominee="Ann",
        proposer="Bob",
        seconder="Dan",
        clock=clock,
        key=key,
        links=links,
    )
    assert again.status == "pending"


@pytest.mark.parametrize(
    ("nominee", "proposer", "seconder"),
    [("Ann", "Ann", "Bob"), ("Ann", "Bob", "Ann"), ("Ann", "Bob", "Bob")],
)
def test_candidate_proposer_and_seconder_must_be_three_different_members(
    database, open_election, clock, key, links, nominee, proposer, seconder
):
    with pytest.raises(ElectionError) as refused:
        nominate(
            database,
            open_election,
            by="Ann",
            nominee=nominee,
            proposer=proposer,
            seconder=seconder,
            clock=clock,
            key=key,
            links=links,
        )
    assert refused.value.code == "same_person"


def test_an_ineligible_proposer_is_refused(database, open_election, clock, key, links):
    with database.session() as s:
        s.get(service.Member, open_election["Bob"]).status = "lapsed"
    with pytest.raises(ElectionError) as refused:
        nominate(
            database,
            open_election,
            by="Ann",
            nominee="Ann",
            proposer="Bob",
            seconder="Cat",
            clock=clock,
            key=key,
            links=links,
        )
    assert refused.value.code == "not_eligible"
    assert refused.value.details["role"] == "proposer"


def test_a_statement_over_the_word_limit_is_refused(database, open_election, clock, key, links):
    long = " ".join(["word"] * 301)
    with pytest.raises(ElectionError) as refused:
        nominate(
            database,
            open_election,
            by="Ann",
            nominee="Ann",
            proposer="Bob",
            seconder="Cat",
            clock=clock,
            key=key,
            links=links,
            statement=long,
        )
    assert refused.value.code == "too_long"
    assert service.count_words(" ".join(["word"] * 300) + "\n\n") == 300


def _jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (1600, 1200), (200, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"  # Make
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPS latitude
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def test_a_photo_is_re_encoded_smaller_and_without_its_metadata(database, open_election, clock, key, links):
    original = _jpeg_with_exif()
    assert b"SecretCameraMaker" in original
    nomination = nominate(
        database,
        open_election,
        by="Ann",
        nominee="Ann",
        proposer="Bob",
        seconder="Cat",
        clock=clock,
        key=key,
        links=links,
        photo=original,
    )
    with database.session() as s:
        stored = s.get(Nomination, nomination.id).photo
    assert b"SecretCameraMaker" not in stored and b"Exif" not in stored
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG" and max(image.size) == 800 and not image.getexif()


def _image(size: tuple[int, int], fmt: str, mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("too_big", "too_large"),
        ("gif", "unsupported_format"),
        ("pdf", "unsupported_format"),
        ("not_an_image", "not_an_image"),
        ("truncated", "not_an_image"),
        ("40_megapixels", "too_many_pixels"),
        ("13_megapixels", "too_many_pixels"),
    ],
)
def test_a_photo_that_is_too_big_or_not_a_jpeg_or_png_is_refused_with_its_own_code(kind, code):
    data = {
        "too_big": lambda: b"\xff\xd8" + b"0" * (2 * 1024 * 1024),
        "gif": lambda: _image((10, 10), "GIF"),
        "pdf": lambda: b"%PDF-1.4 not a picture",
        "not_an_image": lambda: b"hello, I am text",
        "truncated": lambda: _image((400, 400), "PNG")[:200],
        "40_megapixels": lambda: _image((8000, 5000), "PNG", "1"),
        "13_megapixels": lambda: _image((3700, 3600), "PNG", "1"),
    }[kind]()
    with pytest.raises(UploadRefused) as refused:
        photos.clean_photo(data)
    assert refused.value.code == code


def test_a_large_allowed_jpeg_is_decoded_small_and_re_encoded_to_800_pixels():
    buffer = io.BytesIO()
    Image.new("RGB", (4000, 3000), (200, 30, 30)).save(buffer, format="JPEG", quality=60)
    clean = photos.clean_photo(buffer.getvalue())
    image = Image.open(io.BytesIO(clean.jpeg))
    assert image.format == "JPEG" and image.size == (800, 600) == (clean.width, clean.height)


def test_a_png_with_transparency_becomes_a_jpeg(database, open_election, clock, key, links):
    buffer = io.BytesIO()
    Image.new("RGBA", (100, 80), (0, 0, 255, 100)).save(buffer, format="PNG")
    nomination = nominate(
        database,
        open_election,
        by="Ann",
        nominee="Ann",
        proposer="Bob",
        seconder="Cat",
        clock=clock,
        key=key,
        links=links,
        photo=buffer.getvalue(),
    )
    with database.session() as s:
        assert Image.open(io.BytesIO(s.get(Nomination, nomination.id).photo)).format == "JPEG"


def test_a_member_has_one_live_nomination_per_post(database, open_election, clock, key, links):
    nominate(
        database,
        open_election,
        by="Ann",
        nominee="Ann",
        proposer="Bob",
        seconder="Cat",
        clock=clock,
        key=key,
        links=links,
    )
    with pytest.raises(ElectionError) as refused:
        nominate(
            database,
            open_election,
            by="Dan",
            nominee="Ann",
            proposer="Dan",
            seconder="Bob",
            clock=clock,
            key=key,
            links=links,
        )
    assert refused.value.code == "already_nominated"


def test_nominations_and_confirmations_are_refused_once_nominations_close(
    database, open_election, clock, key, links
):
    nominate(
        database,
        open_election,
        by="Ann",
        nominee="Ann",
        proposer="Bob",
        seconder="Cat",
        clock=clock,
        key=key,
        links=links,
    )
    with database.session() as s:
        closes = s.get(Election, open_election["election"]).nominations_close_at
    clock.now = closes
    with pytest.raises(ElectionError) as late_confirm:
        answer(database, links_sent(database)["bob@example.org"], clock, key)
    assert late_confirm.value.code == "nominations_closed"
    with pytest.raises(ElectionError) as late_nomination:
        nominate(
            database,
            open_election,
            by="Dan",
            nominee="Dan",
            proposer="Bob",
            seconder="Cat",
            clock=clock,
            key=key,
            links=links,
        )
    assert late_nomination.value.code == "nominations_closed"


def _complete(database, open_election, clock, key, links):
    nomination = nominate(
        database,
        open_election,
        by="Ann",
        nominee="Ann",
        proposer="Bob",
        seconder="Cat",
        clock=clock,
        key=key,
        links=links,
    )
    for token in links_sent(database).values():
        answer(database, token, clock, key)
    return nomination.id


def decide(database, officer, e, nomination_id, clock, *, accept, reason=""):
    with database.session() as s:
        return service.decide_nomination(
            s,
            actor=s.get(Account, officer.id),
            election_id=e["election"],
            nomination_id=nomination_id,
            accept=accept,
            reason=reason,
            now=clock(),
        )


def test_the_returning_officer_accepts_only_a_complete_nomination(
    database, officer, open_election, clock, key, links
):
    pending = nominate(
        database,
        open_election,
        by="Ann",
        nominee="Ann",
        proposer="Bob",
        seconder="Cat",
        clock=clock,
        key=key,
        links=links,
    )
    with pytest.raises(ElectionError) as refused:
        decide(database, officer, open_election, pending.id, clock, accept=True)
    assert refused.value.code == "incomplete"
    for token in links_sent(database).values():
        answer(database, token, clock, key)
    decide(database, officer, open_election, pending.id, clock, accept=True)
    assert status(database, pending.id) == "accepted"
    with database.session() as s:
        assert (
            s.scalar(select(AuditEvent).where(AuditEvent.action == "election.nomination_accept")) is not None
        )
        told = s.scalar(select(OutboxEmail).where(OutboxEmail.kind == "elections/nomination_decided"))
        assert told.to_addr == "ann@example.org" and "accepted" in told.subject


def test_rejecting_needs_a_reason_which_is_audited_and_told_to_the_candidate(
    database, officer, open_election, clock, key, links
):
    nomination_id = _complete(database, open_election, clock, key, links)
    with pytest.raises(ElectionError) as refused:
        decide(database, officer, open_election, nomination_id, clock, accept=False, reason=" ")
    assert refused.value.code == "reason_required"
    decide(
        database,
        officer,
        open_election,
        nomination_id,
        clock,
        accept=False,
        reason="Proposer is not a member",
    )
    with database.session() as s:
        nomination = s.get(Nomination, nomination_id)
        assert (nomination.status, nomination.live) == ("rejected", None)
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "election.nomination_reject"))
        assert "Proposer is not a member" in event.details
        told = s.scalar(select(OutboxEmail).where(OutboxEmail.kind == "elections/nomination_decided"))
        assert "Proposer is not a member" in told.text_body


def test_a_candidate_can_withdraw_until_the_deadline_and_no_one_else_can(
    database, officer, open_election, clock, key, links
):
    nomination_id = _complete(database, open_election, clock, key, links)
    decide(database, officer, open_election, nomination_id, clock, accept=True)

    def withdraw(member):
        with database.session() as s:
            return service.withdraw_nomination(
                s,
                election_id=open_election["election"],
                nomination_id=nomination_id,
                member_id=open_election[member],
                now=clock(),
            )

    with pytest.raises(ElectionError) as not_theirs:
        withdraw("Bob")
    assert not_theirs.value.code == "not_yours"
    with database.session() as s:
        deadline = s.get(Election, open_election["election"]).withdrawal_deadline_at
    clock.now = deadline
    with pytest.raises(ElectionError) as late:
        withdraw("Ann")
    assert late.value.code == "too_late"
    clock.now = deadline - timedelta(minutes=1)
    assert withdraw("Ann").status == "withdrawn"


def test_decisions_are_locked_once_voting_opens(database, officer, open_election, clock, key, links):
    nomination_id = _complete(database, open_election, clock, key, links)
    with database.session() as s:
        clock.now = s.get(Election, open_election["election"]).voting_open_at
    with pytest.raises(ElectionError) as refused:
        decide(database, officer, open_election, nomination_id, clock, accept=True)
    assert refused.value.code == "locked"


@settings(max_examples=150, deadline=None)
@given(
    base=st.sampled_from(["PNG", "JPEG"]),
    edits=st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), max_size=8),
    cut=st.integers(0, 3000),
)
def test_a_damaged_photo_is_refused_with_a_message_never_an_error(base, edits, cut):
    data = bytearray(_image((60, 40), base))
    for position, value in edits:
        if position < len(data):
            data[position] = value
    try:
        clean = photos.clean_photo(bytes(data[: max(cut, 8)]))
    except UploadRefused as refused:
        assert refused.code in {"not_an_image", "unsupported_format", "too_many_pixels"} and refused.message
    else:
        assert Image.open(io.BytesIO(clean.jpeg)).format == "JPEG"
