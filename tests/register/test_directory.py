"""Find a Therapist: the profile a registrant publishes (checked field by field), who is shown (from the
clock and the register's status), the filters and the daily shuffle, the photo, and the messages visitors send
(relayed by real SMTP; the therapist's address never in a page; limits a stranger cannot turn against them)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select
from support import csrf_token, login, post

from portal.audit import AuditEvent
from portal.contact.service import form_token
from portal.errors import Invalid, NotFound, Throttled
from portal.register import directory, service
from portal.register.directory_routes import parse_profile
from tests.register.conftest import TODAY

FULL = {
    "published": "on",
    "practice_name": "Hughes IPT Practice",
    "towns": "Manchester, Salford",
    "region": "north-west",
    "outward_code": "m1",
    "delivery": "both",
    "modalities": ["ipt", "ipt-a"],
    "client_groups": ["adults", "perinatal"],
    "languages": "English, Welsh",
    "fee_from": "50",
    "fee_to": "£80",
    "description": "Brief, focused therapy for depression.",
    "website": "https://hughes-ipt.example/about",
    "phone": "0161 496 0000",
}


class Form(dict):
    """A form whose list fields read like Starlette's FormData."""

    def getlist(self, name):
        value = self.get(name)
        return value if isinstance(value, list) else [] if value is None else [value]


def _publish(database, clock, member_id, **fields):
    data, errors, _values = parse_profile(Form({**FULL, **fields}))
    assert not errors, errors
    with database.session() as s:
        return directory.save_profile(
            s, member_id=member_id, data=data, photo=None, remove_photo=False, actor=None, now=clock()
        )


def _shown(database, clock, key, **filters):
    with database.session(write=False) as s:
        listing = directory.directory(s, directory.Filters(**filters), now=clock(), key=key)
    return sorted(m.membership_number for _p, m in listing.profiles)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 20, 20)).save(out, format="PNG")
    return out.getvalue()


# --- the profile's fields ----------------------------------------------------------------------------------------


def test_a_full_profile_parses_into_its_fields():
    data, errors, _ = parse_profile(Form(FULL))
    assert not errors and data is not None
    assert data.outward_code == "M1" and data.towns == ("Manchester", "Salford") and data.fee_to == 80
    assert data.modalities == ("ipt", "ipt-a") and data.website == "https://hughes-ipt.example/about"


@pytest.mark.parametrize(
    "website",
    ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "ftp://files.example/x",
     "hughes-ipt.example", "https://", "https://a b.example", 'https://x.example/"onmouseover="alert(1)'],
)  # fmt: skip
def test_a_website_that_is_not_http_or_https_is_refused_beside_the_field(website):
    _data, errors, _ = parse_profile(Form({**FULL, "website": website}))
    assert "https://" in errors["website"]


@pytest.mark.parametrize("code", ["M1 1AE", "1M", "MMM1", "M", "SW1A1AA", "<b>"])
def test_only_the_first_half_of_a_postcode_is_taken(code):
    _data, errors, _ = parse_profile(Form({**FULL, "outward_code": code}))
    assert "first half" in errors["outward_code"]


@pytest.mark.parametrize("code,stored", [("sw1a", "SW1A"), ("B33", "B33"), ("ec1a", "EC1A"), ("M 1", "M1")])
def test_outward_codes_of_every_shape_are_kept_upper_case(code, stored):
    data, errors, _ = parse_profile(Form({**FULL, "outward_code": code}))
    assert not errors and data is not None and data.outward_code == stored


def test_other_bad_fields_are_each_named():
    _data, errors, _ = parse_profile(
        Form({**FULL, "phone": "call me", "fee_from": "90", "fee_to": "40", "modalities": ["reiki"],
              "towns": "a, b, c, d, e, f", "description": "x" * 1001})
    )  # fmt: skip
    assert set(errors) == {"phone", "fee_to", "modalities", "towns", "description"}


def test_publishing_needs_a_place_on_the_register(database, clock, registrant):
    nobody = registrant(hold=False)
    data, _errors, _ = parse_profile(Form(FULL))
    assert data is not None
    with database.session() as s, pytest.raises(Invalid) as caught:
        directory.save_profile(
            s, member_id=nobody.member_id, data=data, photo=None, remove_photo=False, actor=None, now=clock()
        )
    assert caught.value.code == "not_on_register"


def test_a_profile_is_off_until_published_and_each_save_is_audited(database, clock, registrant, key):
    r = registrant()
    _publish(database, clock, r.member_id, published="")
    assert _shown(database, clock, key) == []
    _publish(database, clock, r.member_id)
    assert _shown(database, clock, key) == [r.number]
    with database.session(write=False) as s:
        saves = s.scalars(select(AuditEvent).where(AuditEvent.action == "register.profile_save")).all()
    assert len(saves) == 2 and '"published":true' in saves[1].details.replace(" ", "")


# --- who is shown ------------------------------------------------------------------------------------------------


def test_a_profile_disappears_when_its_holder_is_suspended_removed_lapsed_or_expired(
    database, clock, registrant, key, admin
):
    kept = registrant("Kim", "Kept")
    suspended = registrant("Sue", "Suspended")
    removed = registrant("Rob", "Removed")
    lapsing = registrant("Lou", "Lapsing", renewal_on=TODAY + timedelta(days=1))
    expiring = registrant("Eve", "Expiring", until_on=TODAY + timedelta(days=1))
    conditioned = registrant("Cat", "Conditions")
    for r in (kept, suspended, removed, lapsing, expiring, conditioned):
        _publish(database, clock, r.member_id)
    with database.session() as s:
        for r, status in ((suspended, "suspended"), (removed, "removed"), (conditioned, "conditions")):
            service.set_status(
                s, member_id=r.member_id, status=status, wording="Decided after a complaint.",
                complaint_id=None, actor=admin, now=clock(),
            )  # fmt: skip
    assert _shown(database, clock, key) == sorted([kept.number, lapsing.number, expiring.number,
                                                   conditioned.number])  # fmt: skip
    # Two days on the level has ended; past the grace period the membership has lapsed.
    clock.advance(days=2)
    assert expiring.number not in _shown(database, clock, key)
    clock.advance(days=31)
    assert _shown(database, clock, key) == sorted([kept.number, conditioned.number])
    with database.session(write=False) as s:
        for gone in (suspended, removed, lapsing, expiring):
            with pytest.raises(NotFound):
                directory.shown_profile(s, number=gone.number, now=clock())


def test_the_filters_narrow_by_region_town_postcode_online_modality_client_group_and_language(
    database, clock, registrant, key
):
    a = registrant("Ann", "North")
    b = registrant("Ben", "London")
    c = registrant("Cy", "Online")
    _publish(database, clock, a.member_id)
    _publish(
        database,
        clock,
        b.member_id,
        towns="Camden",
        region="london",
        outward_code="NW1",
        delivery="in_person",
        modalities=["ipc"],
        client_groups=["older-adults"],
        languages="Polish",
    )
    _publish(
        database,
        clock,
        c.member_id,
        towns="",
        region="",
        outward_code="",
        delivery="online",
        modalities=["group", "ipt-bipolar"],
        client_groups=["adolescents"],
        languages="English",
    )
    assert _shown(database, clock, key, region="north-west") == [a.number]
    assert _shown(database, clock, key, town="salford") == [a.number]
    assert _shown(database, clock, key, postcode="NW") == [b.number]
    assert _shown(database, clock, key, postcode="m1") == [a.number]
    assert _shown(database, clock, key, online=True) == sorted([a.number, c.number])
    assert _shown(database, clock, key, modality="ipt-a") == [a.number]
    assert _shown(database, clock, key, modality="ipt-bipolar") == [c.number]
    assert _shown(database, clock, key, client_group="older-adults") == [b.number]
    assert _shown(database, clock, key, language="pol") == [b.number]
    assert _shown(database, clock, key, region="north-west", modality="ipc") == []
    assert _shown(database, clock, key, town="%") == []


def test_the_order_is_a_daily_shuffle_the_same_all_day_and_fair_over_days(database, clock, registrant, key):
    people = [registrant("Pat", f"P{n:02d}") for n in range(12)]
    for r in people:
        _publish(database, clock, r.member_id)

    def order():
        with database.session(write=False) as s:
            listing = directory.directory(s, directory.Filters(), now=clock(), key=key)
        return [m.membership_number for _p, m in listing.profiles]

    first = order()
    clock.advance(hours=3)
    assert order() == first  # the same all day, so paging is stable
    alphabetical = sorted(first)
    firsts = set()
    for _day in range(12):
        clock.advance(days=1)
        today = order()
        assert sorted(today) == alphabetical
        firsts.add(today[0])
    assert len(firsts) >= 4, "the same few people came first day after day"
    assert first != alphabetical


def test_the_directory_is_paged(database, clock, registrant, key):
    for n in range(directory.PAGE_SIZE + 3):
        _publish(database, clock, registrant("Pat", f"P{n:02d}").member_id)
    with database.session(write=False) as s:
        one = directory.directory(s, directory.Filters(page=1), now=clock(), key=key)
        two = directory.directory(s, directory.Filters(page=2), now=clock(), key=key)
    assert one.total == directory.PAGE_SIZE + 3 and one.pages == 2 and len(two.profiles) == 3
    assert not {m.id for _p, m in one.profiles} & {m.id for _p, m in two.profiles}


# --- the pages ----------------------------------------------------------------------------------------------------


def test_the_member_publishes_from_my_account_and_the_visitor_finds_the_profile(
    client, database, clock, registrant
):
    r = registrant(login=True)
    login(client, r.email)
    account = client.get("/me")
    assert "Find a Therapist" in account.text and "/me/practice-profile" in account.text
    page = client.get("/me/practice-profile")
    assert page.status_code == 200 and "Publish my profile" in page.text
    response = post(client, "/me/practice-profile", FULL)
    assert response.status_code == 303, response.text
    client.cookies.clear()
    listing = client.get("/find-a-therapist", params={"region": "north-west", "modality": "ipt"})
    assert "Megan Hughes" in listing.text and "Hughes IPT Practice" in listing.text
    profile = client.get(f"/find-a-therapist/{r.number}")
    assert profile.status_code == 200
    assert "Brief, focused therapy" in profile.text and "£50 to £80" in profile.text
    assert 'href="https://hughes-ipt.example/about"' in profile.text


def test_the_profile_form_shows_each_problem_beside_its_field_and_saves_nothing(client, database, registrant):
    r = registrant(login=True)
    login(client, r.email)
    response = post(
        client, "/me/practice-profile", {**FULL, "website": "javascript:alert(1)", "outward_code": "M1 1AE"}
    )
    assert response.status_code == 422
    assert 'id="f-website-error"' in response.text and 'id="f-outward_code-error"' in response.text
    with database.session(write=False) as s:
        assert directory.profile_of(s, r.member_id) is None


def test_html_and_script_in_profile_fields_are_shown_as_text(client, database, clock, registrant):
    r = registrant("<script>alert(1)</script>", "O'Neil", login=True)
    _publish(
        database,
        clock,
        r.member_id,
        practice_name="<img src=x onerror=alert(1)>",
        description="<script>alert('d')</script>",
        towns="<b>Bolton</b>",
        languages="<i>Urdu</i>",
    )
    for url in ("/find-a-therapist", f"/find-a-therapist/{r.number}", f"/register/{r.number}", "/register"):
        text = client.get(url).text
        assert "<script>alert" not in text and "<img src=x" not in text and "<b>Bolton" not in text, url
    assert "&lt;img src=x onerror=alert(1)&gt;" in client.get(f"/find-a-therapist/{r.number}").text
    badge = client.get(f"/register/verify/{r.number}/badge.svg").text
    assert "<script>" not in badge and "&lt;script&gt;" in badge


def test_a_photo_is_re_encoded_as_jpeg_and_served_with_safe_headers(client, database, registrant):
    r = registrant(login=True)
    login(client, r.email)
    response = client.post(
        "/me/practice-profile",
        data={**FULL, "csrf_token": csrf_token(client)},
        files={"photo": ("me.png", _png(), "image/png")},
    )
    assert response.status_code == 303, response.text
    client.cookies.clear()
    photo = client.get(f"/find-a-therapist/{r.number}/photo")
    assert photo.status_code == 200 and photo.content[:3] == b"\xff\xd8\xff"
    assert photo.headers["content-type"] == "image/jpeg"
    assert photo.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in photo.headers["content-security-policy"]


@pytest.mark.parametrize(
    "name,content",
    [("me.jpg", b"<html><script>alert(1)</script></html>"), ("me.svg", b"<svg onload='alert(1)'></svg>"),
     ("me.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)],
)  # fmt: skip
def test_a_photo_that_is_not_an_image_is_refused_beside_the_field(
    client, database, registrant, name, content
):
    r = registrant(login=True)
    login(client, r.email)
    response = client.post(
        "/me/practice-profile",
        data={**FULL, "csrf_token": csrf_token(client)},
        files={"photo": (name, content, "image/jpeg")},
    )
    assert response.status_code == 422 and 'id="f-photo-error"' in response.text
    with database.session(write=False) as s:
        assert directory.profile_of(s, r.member_id) is None


def test_a_hidden_profile_its_photo_and_its_form_answer_not_found(client, database, clock, registrant, admin):
    r = registrant()
    _publish(database, clock, r.member_id)
    with database.session() as s:
        service.set_status(
            s, member_id=r.member_id, status="suspended", wording="Suspended.", complaint_id=None, actor=admin,
            now=clock(),
        )  # fmt: skip
    for url in (f"/find-a-therapist/{r.number}", f"/find-a-therapist/{r.number}/photo",
                f"/find-a-therapist/{r.number}/contact"):  # fmt: skip
        assert client.get(url).status_code == 404, url
    assert "Megan Hughes" not in client.get("/find-a-therapist").text


# --- writing to a therapist ------------------------------------------------------------------------------------------


def test_a_visitor_s_message_reaches_the_therapist_by_smtp_and_no_page_shows_the_address(
    client, database, clock, registrant, write_to, sender, smtp
):
    r = registrant(login=True)
    _publish(database, clock, r.member_id)
    bodies = [client.get(url).text for url in ("/find-a-therapist", f"/find-a-therapist/{r.number}",
              f"/register/{r.number}", "/register", f"/register/verify/{r.number}",
              f"/register/verify/{r.number}/badge.svg", f"/register?q={r.number}")]  # fmt: skip
    response = write_to(r.number)
    assert response.status_code == 303, response.text
    sent = client.get(response.headers["location"])
    bodies += [response.text, sent.text, client.get(f"/find-a-therapist/{r.number}/contact").text]
    for body in bodies:
        assert r.email not in body and "therapists.example" not in body
    sender.run_once()
    (message,) = smtp.wait_for(1)
    assert message["To"] == r.email
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Do you have space in January?" in text and "vic@visitor.example" in text


def test_contact_us_s_spam_defences_hold_for_the_relay(client, database, clock, registrant, write_to):
    r = registrant()
    _publish(database, clock, r.member_id)
    honeypot = write_to(r.number, website="http://spam.example")
    assert honeypot.status_code == 422 and "leave this empty" in honeypot.text
    quick = write_to(r.number, wait=1)
    assert quick.status_code == 422 and "within seconds" in quick.text
    forged = write_to(r.number, started="123.abc")
    assert forged.status_code == 422 and "too long ago" in forged.text
    missing = write_to(r.number, email="not an address", message="")
    assert missing.status_code == 422 and 'id="f-email-error"' in missing.text
    from portal.mail.models import OutboxEmail

    with database.session(write=False) as s:
        assert s.scalar(select(OutboxEmail.id)) is None


def test_one_network_is_limited_but_cannot_stop_others_writing_to_the_therapist(
    database, clock, registrant, key
):
    r = registrant()
    others = [registrant("Oli", f"Other{n}") for n in range(3)]
    for person in (r, *others):
        _publish(database, clock, person.member_id)

    def send(number, ip):
        with database.session() as s:
            directory.relay(
                s, number=number, ip=ip, now=clock(), key=key, honeypot="",
                token=form_token(key=key, now=clock() - timedelta(seconds=10)),
                message=directory.Message("Sly Stranger", "sly@example.org", "Hello"),
            )  # fmt: skip

    send(r.number, "203.0.113.9")
    send(r.number, "203.0.113.9")
    with pytest.raises(Throttled):  # the stranger's third to the same therapist today
        send(r.number, "203.0.113.9")
    send(others[0].number, "203.0.113.9")
    send(others[0].number, "203.0.113.9")
    send(others[1].number, "203.0.113.9")
    with pytest.raises(Throttled):  # five an hour from one network, whoever they are to
        send(others[2].number, "203.0.113.9")
    # The therapist's other visitors are not affected: the limits count the sender's network only.
    for n in range(1, 8):
        send(r.number, f"198.51.100.{n}")


def test_the_relay_refuses_over_the_limit_with_429_and_says_why(
    client, database, clock, registrant, write_to
):
    r = registrant()
    _publish(database, clock, r.member_id)
    assert write_to(r.number).status_code == 303
    assert write_to(r.number).status_code == 303
    third = write_to(r.number)
    assert third.status_code == 429 and "twice today" in third.text


def test_the_relay_counts_are_forgotten_after_two_days(database, clock, registrant, key):
    from portal.register.models import RelayedMessage

    r = registrant()
    with database.session() as s:
        s.add(RelayedMessage(member_id=r.member_id, client_digest="x" * 64, created_at=clock()))
    clock.advance(days=3)
    with database.session() as s:
        assert directory.purge(s, now=clock()) == {"register_messages": 1}
