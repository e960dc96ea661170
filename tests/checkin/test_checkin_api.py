"""The check-in API through the app: staff sessions with CSRF, scanner devices with bearer tokens, a real QR
image read back by a real decoder, offline batches, undo, the attendee list and the public key."""

from __future__ import annotations

import base64
import io
import re

import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import func, select
from support import as_sent, csrf_token, post, run_on_own_loop

from portal.checkin import badges, badging
from portal.checkin.models import CheckInScan
from portal.events.links import manage_token


def checkin(client, body, **headers):
    return client.post("/api/checkin", json=body, headers={"X-CSRF-Token": csrf_token(client), **headers})


def body(conference, code, nonce, door="Front door", **extra):
    return {"code": code, "door": door, "nonce": nonce, "event": conference.event.id, **extra}


def test_the_badge_png_read_by_a_real_qr_decoder_checks_in(door_client, conference, key):
    bob = conference.people["bob"]
    png = door_client.get(f"/badge/{manage_token(key, bob.manage_seed)}/qr.png")
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert len(found) == 1
    assert found[0].text == conference.code("bob")
    response = checkin(door_client, body(conference, found[0].text, "n1"))
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["name"] == "Bob Baker"


def test_the_badge_svg_is_a_real_qr_code_too(door_client, conference, key):
    alice = conference.people["alice"]
    svg = door_client.get(f"/badge/{manage_token(key, alice.manage_seed)}/qr.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content


def _edited(code: str) -> str:
    raw = bytearray(base64.b32decode(code[3:] + "=" * (-len(code[3:]) % 8)))
    raw[1] ^= 0x01
    return "B1:" + base64.b32encode(bytes(raw)).decode().rstrip("=")


def _forged(code: str) -> str:
    raw = bytearray(base64.b32decode(code[3:] + "=" * (-len(code[3:]) % 8)))
    raw[-10] ^= 0x40
    return "B1:" + base64.b32encode(bytes(raw)).decode().rstrip("=")


@pytest.mark.parametrize(
    ("make", "status"),
    [
        (lambda c: _forged(c.code("bob")), "invalid"),
        (lambda c: _edited(c.code("bob")), "invalid"),
        (lambda c: "B1:NOT-BASE-32", "invalid"),
        (lambda c: c.code("bob", serial=0), "revoked"),
        (lambda c: c.code("carol"), "cancelled"),
        (lambda c: c.code("dan"), "unpaid"),
        (lambda c: c.code("olga"), "wrong_event"),
    ],
    ids=["forged", "edited", "bad-base32", "revoked", "cancelled", "unpaid", "wrong-event"],
)
def test_codes_that_may_not_enter_get_their_status(door_client, conference, make, status):
    response = checkin(door_client, body(conference, make(conference), "n1"))
    assert response.status_code == 200
    assert response.json()["status"] == status


def test_a_repeated_nonce_returns_the_first_answer_and_records_one_scan(door_client, conference, database):
    first = checkin(door_client, body(conference, conference.code("bob"), "retry-1")).json()
    again = checkin(door_client, body(conference, conference.code("bob"), "retry-1")).json()
    assert again == first
    assert first["status"] == "ok"
    with database.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(CheckInScan)) == 1


def test_the_second_scan_answers_when_and_where_the_first_was(door_client, conference):
    checkin(door_client, body(conference, conference.code("bob"), "a", door="North"))
    answer = checkin(door_client, body(conference, conference.code("bob"), "b", door="South")).json()
    assert answer["status"] == "already_checked_in"
    assert answer["first"]["door"] == "North"


def test_staff_scans_need_the_csrf_header(door_client, conference):
    response = door_client.post("/api/checkin", json=body(conference, conference.code("bob"), "n1"))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"


def test_a_staff_scan_must_say_its_event_and_door(door_client, conference):
    no_event = checkin(door_client, {"code": conference.code("bob"), "door": "Front", "nonce": "a"})
    assert no_event.json()["error"]["code"] == "bad_scan"
    no_door = checkin(
        door_client, {"code": conference.code("bob"), "event": conference.event.id, "nonce": "b"}
    )
    assert no_door.json()["error"]["code"] == "bad_scan"


def test_a_login_without_the_door_role_cannot_scan(client, conference, database, passwords):
    from support import login, make_account

    make_account(database, passwords, email="member@example.org")
    login(client, "member@example.org")
    assert checkin(client, body(conference, conference.code("bob"), "n1")).status_code == 403


def _new_device(office_client, conference, name="Tablet 1"):
    """Add a device on the office page; the token is shown once, in a read-only field."""
    page = post(office_client, f"/checkin/{conference.event.id}/devices", {"name": name})
    assert page.status_code == 200
    return re.search(r'value="([^"]+)" aria-label="Device token"', page.text).group(1)


def test_a_scanner_device_is_created_used_and_revoked(office_client, conference, client, database):
    token = _new_device(office_client, conference)
    device = client.__class__(client.app, base_url="http://testserver")
    bearer = {"Authorization": f"Bearer {token}"}
    answer = device.post("/api/checkin", json={"code": conference.code("bob"), "nonce": "d1"}, headers=bearer)
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"
    with database.session(write=False) as s:
        row = s.scalars(select(CheckInScan)).one()
        assert (row.door, row.account_id) == ("Tablet 1", None)
        assert row.device_id is not None
        device_id = row.device_id
    revoked = post(office_client, f"/checkin/{conference.event.id}/devices/{device_id}/revoke")
    assert revoked.status_code == 303
    refused = device.post(
        "/api/checkin", json={"code": conference.code("alice"), "nonce": "d2"}, headers=bearer
    )
    assert refused.status_code == 401
    device.close()


def test_a_device_token_is_stored_only_as_a_digest(office_client, conference, database):
    from portal.checkin.models import ScannerDevice

    token = _new_device(office_client, conference)
    with database.session(write=False) as s:
        stored = s.scalars(select(ScannerDevice.token_digest)).one()
    assert len(stored) == 64
    assert token not in stored


def test_a_device_cannot_scan_for_another_event(office_client, conference, client):
    token = _new_device(office_client, conference)
    bearer = {"Authorization": f"Bearer {token}"}
    wrong = client.post(
        "/api/checkin",
        json={"code": conference.code("bob"), "nonce": "d1", "event": conference.other_event.id},
        headers=bearer,
    )
    assert wrong.status_code == 403
    assert wrong.json()["error"]["code"] == "wrong_device_event"
    listing = client.get(f"/api/checkin/events/{conference.other_event.id}/attendees", headers=bearer)
    assert listing.status_code == 403


def test_an_unknown_bearer_token_is_refused(client, conference, admin):
    response = client.post(
        "/api/checkin",
        json={"code": conference.code("bob"), "nonce": "x"},
        headers={"Authorization": "Bearer nope"},
    )
    assert response.status_code == 401


def test_the_public_key_verifies_a_badge_signature(client, conference, admin):
    answer = client.get(f"/api/events/{conference.event.id}/public-key").json()
    assert answer["algorithm"] == "Ed25519"
    key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(answer["key"] + "=="))
    _claim, message, signature = badges.parse(conference.code("bob"))
    key.verify(signature, message)  # raises if it does not hold
    assert client.get("/api/events/999999/public-key").status_code == 404


def test_the_attendee_list_and_search_serve_the_scanner(door_client, conference):
    listing = door_client.get(f"/api/checkin/events/{conference.event.id}/attendees").json()
    assert {p["name"] for p in listing["attendees"]} >= {"Alice Archer", "Carol Cole"}
    assert listing["window"]["opens"] < listing["window"]["closes"]
    found = door_client.get(f"/api/checkin/events/{conference.event.id}/search", params={"q": "bak"}).json()
    assert [p["name"] for p in found["results"]] == ["Bob Baker"]


def test_offline_scans_are_synced_once_and_conflicts_reported(door_client, conference, database, clock):
    at = clock().isoformat()
    scans = [
        {
            **body(conference, conference.code("bob"), "off-1", door="North"),
            "scanned_at": at,
            "client_result": "ok",
        },
        {
            **body(conference, conference.code("bob"), "off-2", door="South"),
            "scanned_at": at,
            "client_result": "ok",
        },
        {
            **body(conference, conference.code("carol"), "off-3", door="South"),
            "scanned_at": at,
            "client_result": "cancelled",
        },
    ]
    token = {"X-CSRF-Token": csrf_token(door_client)}
    first = door_client.post("/api/checkin/sync", json={"scans": scans}, headers=token).json()["results"]
    assert [(r["status"], r["conflict"]) for r in first] == [
        ("ok", False),
        ("already_checked_in", True),
        ("cancelled", False),
    ]
    again = door_client.post("/api/checkin/sync", json={"scans": scans}, headers=token).json()["results"]
    assert again == first
    with database.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(CheckInScan)) == 3
    page = door_client.get(f"/checkin/{conference.event.id}/conflicts")
    assert "Bob Baker" in page.text and "North" in page.text


def test_undo_through_the_api_by_the_same_scanner_within_15_minutes(door_client, conference, clock):
    checkin(door_client, body(conference, conference.code("bob"), "u1", door="North"))
    token = {"X-CSRF-Token": csrf_token(door_client)}
    clock.advance(minutes=16)
    late = door_client.post("/api/checkin/undo", json={"nonce": "u1", "door": "North"}, headers=token)
    assert late.json()["error"]["code"] == "too_late"
    checkin(door_client, body(conference, conference.code("alice"), "u2", door="North"))
    clock.advance(minutes=10)
    done = door_client.post("/api/checkin/undo", json={"nonce": "u2", "door": "South"}, headers=token)
    assert done.status_code == 200
    assert done.json()["status"] == "undone"
    assert checkin(door_client, body(conference, conference.code("alice"), "u3")).json()["status"] == "ok"


def test_other_door_staff_or_a_device_naming_the_same_door_cannot_undo_an_admission(
    door_client, conference, database, passwords
):
    from support import login, make_account

    app = door_client.app
    checkin(door_client, body(conference, conference.code("bob"), "u1", door="North"))
    make_account(database, passwords, email="door2@example.org", roles="door", name="Bea Door")
    make_account(database, passwords, email="office2@example.org", roles="office", name="Olly Office")
    with door_client.__class__(app, base_url="http://testserver", follow_redirects=False) as staff_b:
        login(staff_b, "door2@example.org")
        refused = staff_b.post(
            "/api/checkin/undo",
            json={"nonce": "u1", "door": "North"},
            headers={"X-CSRF-Token": csrf_token(staff_b)},
        )
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "other_scanner"
    with door_client.__class__(app, base_url="http://testserver", follow_redirects=False) as office:
        login(office, "office2@example.org")
        token = _new_device(office, conference, name="North")
    with door_client.__class__(app, base_url="http://testserver", follow_redirects=False) as device:
        refused = device.post(
            "/api/checkin/undo",
            json={"nonce": "u1", "door": "North"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "other_scanner"
        admitted = device.post(
            "/api/checkin",
            json={"code": conference.code("alice"), "nonce": "d1"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert admitted.json()["status"] == "ok"
    # The device's admission is the device's: staff A at the same door cannot take it back.
    other = door_client.post(
        "/api/checkin/undo",
        json={"nonce": "d1", "door": "North"},
        headers={"X-CSRF-Token": csrf_token(door_client)},
    )
    assert other.json()["error"]["code"] == "other_scanner"
    mine = door_client.post(
        "/api/checkin/undo",
        json={"nonce": "u1", "door": "North"},
        headers={"X-CSRF-Token": csrf_token(door_client)},
    )
    assert mine.status_code == 200
    assert mine.json()["status"] == "undone"


def test_the_confirmation_hook_puts_the_badge_inline_and_attached(app, database, conference, key):
    from portal.events.models import Registration

    hooks = app.state.hooks.confirmation
    assert len(hooks) == 1
    with database.session(write=False) as s:
        bob = s.get(Registration, conference.people["bob"].id)
        context, attachments = hooks[0](s, bob)
        carol = s.get(Registration, conference.people["carol"].id)
        assert hooks[0](s, carol) == ({}, [])
        inline, attached = attachments
        assert inline.content_id and context["inline_images"][0]["cid"] == inline.content_id
        assert attached.content_id is None and attached.filename == "badge.png"
        # Held by reference: the booking's transaction draws no image; the sender draws it with the app's key.
        assert attached.content == b"" and (attached.source, attached.source_id) == ("badge", bob.id)
        drawn = app.state.hooks.attachments["badge"](s, bob.id, None)
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(drawn)))
    assert decoded[0].text == badging.code_for(key, bob)


HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(
        ["\x00", "99999999999999999999999", "-1", "B1:" + "A" * 150, "2026-13-45T99:00:00Z", "a" * 5000]
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_hostile_scans_never_cause_a_server_error(door_client, conference, data):
    fields = {
        "code": st.one_of(HOSTILE, st.just(conference.code("bob"))),
        "registration": st.one_of(HOSTILE, st.just(conference.people["alice"].id)),
        "door": HOSTILE,
        "nonce": HOSTILE,
        "event": st.one_of(HOSTILE, st.just(conference.event.id)),
        "workshop": st.one_of(HOSTILE, st.just(conference.workshop.id)),
        "scanned_at": HOSTILE,
        "client_result": st.one_of(HOSTILE, st.just("ok")),
    }
    scan = data.draw(st.fixed_dictionaries({}, optional=fields))
    url, body = data.draw(
        st.sampled_from(
            [
                ("/api/checkin", scan),
                ("/api/checkin/sync", {"scans": [scan, scan]}),
                ("/api/checkin/sync", scan),
                ("/api/checkin/undo", scan),
            ]
        )
    )
    response = door_client.post(url, json=body, headers={"X-CSRF-Token": csrf_token(door_client)})
    assert response.status_code < 500, (url, body, response.text)
    params = {k: str(v) for k, v in scan.items() if k in ("workshop", "door") and v is not None}
    for page in (f"/door/{conference.event.id}", f"/api/checkin/events/{conference.event.id}/attendees"):
        assert door_client.get(page, params=params).status_code < 500


def test_the_confirmation_email_shows_the_badge_inline_and_attaches_it(app, database, conference, key, clock):
    from portal.events import sales
    from portal.events.links import Links
    from portal.events.models import Event, Registration
    from portal.mail.models import OutboxEmail

    with database.session() as s:
        erin = s.get(Registration, conference.people["erin"].id)
        event = s.get(Event, erin.event_id)
        sales.confirm(s, erin, event=event, now=clock(), links=Links.for_app(app, key=key))
    with database.session(write=False) as s:
        email = s.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc())).first()
        files = {a.filename: i for i, a in enumerate(email.attachments)}
        inline = email.attachments[files["badge-qr.png"]]
        assert inline.content_id and f"cid:{inline.content_id}" in email.html_body
        assert email.attachments[files["badge.png"]].content_id is None
        drawn = as_sent(email, session=s, sources=app.state.hooks.attachments).attachments
        decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(drawn[files["badge.png"]])))
        assert decoded[0].text == conference.code("erin")
        assert "Your badge is the QR code" in email.text_body


def test_two_apps_in_one_process_each_sign_badges_with_their_own_key(
    app, settings, clock, database, conference
):
    """The hooks are built by each `create_app`, never registered globally: a second app with another secret
    key must neither change the first app's badges nor borrow its key."""
    import dataclasses

    from portal.app import create_app
    from portal.events.models import Registration
    from portal.settings import Secret

    other_key = "another-secret-key-for-a-second-app-0123456789abcdef"
    other = create_app(
        dataclasses.replace(settings, secret_key=Secret(other_key)), clock=clock, database=database
    )
    with database.session(write=False) as s:
        bob = s.get(Registration, conference.people["bob"].id)
        first = app.state.hooks.attachments["badge"](s, bob.id, clock())
        second = other.state.hooks.attachments["badge"](s, bob.id, clock())
        # The first app's hook still signs with the first key after the second app was built.
        assert zxingcpp.read_barcodes(Image.open(io.BytesIO(first)))[0].text == badging.code_for(
            settings.key_bytes(), bob
        )
        assert zxingcpp.read_barcodes(Image.open(io.BytesIO(second)))[0].text == badging.code_for(
            other_key.encode(), bob
        )
    assert app.state.hooks is not other.state.hooks


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
def test_a_scan_waiting_for_the_writer_holds_up_no_other_request(office_client, conference, app, database):
    """The door's scan runs on the event loop, but when another writer (a background job, a CLI command)
    holds SQLite, it waits in a worker thread, not on the loop: /healthz answers meanwhile."""
    import asyncio
    import threading

    import httpx2 as httpx

    token = _new_device(office_client, conference)
    holding, release = threading.Event(), threading.Event()

    def hold_the_writer():
        with database.session(write=True) as s:
            s.execute(select(func.count()).select_from(CheckInScan))  # BEGIN IMMEDIATE: the writer is ours
            holding.set()
            release.wait(timeout=20)

    holder = threading.Thread(target=hold_the_writer)
    holder.start()
    assert holding.wait(timeout=10)

    async def scenario():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            scan = asyncio.create_task(
                client.post(
                    "/api/checkin",
                    json={"code": conference.code("bob"), "nonce": "held-1"},
                    headers={"Authorization": f"Bearer {token}"},
                )
            )
            await asyncio.sleep(0.05)
            health = await client.get("/healthz")
            waiting = not scan.done()
            release.set()
            return health, waiting, await scan

    try:
        health, waiting, scan = run_on_own_loop(scenario)
    finally:
        release.set()
        holder.join()
    assert health.status_code == 200
    assert waiting, "the scan should still be waiting for the writer when /healthz answered"
    assert scan.status_code == 200 and scan.json()["status"] == "ok"
