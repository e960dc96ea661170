"""The door scanner in a real Chromium: a badge shown to a (fake) camera, a keyboard-wedge scan, a name search,
undo, and offline scanning at two doors reconciled when the network comes back."""

from __future__ import annotations

import base64
import io
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect
from support import AUDIT_KEY, PASSWORD, make_account

from bench import checkin_kit
from portal.accounts import service as accounts
from portal.accounts.passwords import Passwords
from portal.checkin import badges, qr
from portal.checkin.scans import ANSWERS
from portal.db import Database

pytestmark = pytest.mark.browser


def write_y4m(
    path: Path, image: Image.Image, *, width: int = 640, height: int = 480, frames: int = 6
) -> None:
    """A YUV4MPEG2 (4:2:0) video of `image` centred on white, for Chromium's file-backed fake camera."""
    canvas = Image.new("L", (width, height), 255)
    picture = image.convert("L")
    side = min(width, height) - 40
    picture = picture.resize((side, side), Image.Resampling.NEAREST)
    canvas.paste(picture, ((width - side) // 2, (height - side) // 2))
    luma = canvas.tobytes()
    chroma = bytes([128]) * ((width // 2) * (height // 2))
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + luma + chroma + chroma)


class Seeded:
    def __init__(self, event_id: int, codes: dict[str, str], ids: dict[str, int]) -> None:
        self.event_id = event_id
        self.codes = codes
        self.ids = ids


@pytest.fixture
def seeded(live_server: Any) -> Seeded:
    """A set-up portal with a door account and an event starting in an hour, with three bookings."""
    key = live_server.env["PORTAL_SECRET_KEY"].encode()
    database = Database(live_server.database_url, audit_key=AUDIT_KEY)
    passwords = Passwords(fast=True)
    now = datetime.now(UTC)
    with database.session() as s:
        accounts.setup_first_admin(
            s,
            society_name="IPT UK",
            name="Ada Admin",
            email="admin@example.org",
            password=PASSWORD,
            passwords=passwords,
            now=now,
        )
    make_account(database, passwords, email="door@example.org", roles="door", name="Dora Door")
    with database.session() as s:
        made = checkin_kit.make_event(s, now=now, title="Annual Conference")
        full, speaker = made.tickets
        people = {
            "bob": checkin_kit.add_registration(
                s, key=key, event=made.event, ticket=speaker, first_name="Bob", last_name="Baker", now=now
            ),
            "alice": checkin_kit.add_registration(
                s, key=key, event=made.event, ticket=full, first_name="Alice", last_name="Archer", now=now
            ),
            "carol": checkin_kit.add_registration(
                s,
                key=key,
                event=made.event,
                ticket=full,
                first_name="Carol",
                last_name="Cole",
                now=now,
                status="cancelled",
            ),
        }
        codes = {
            name: badges.issue(key, registration_id=r.id, event_id=made.event.id, serial=r.badge_serial)
            for name, r in people.items()
        }
        seeded = Seeded(made.event.id, codes, {name: r.id for name, r in people.items()})
    database.dispose()
    return seeded


def forge(code: str) -> str:
    """The same code with one bit of its signature flipped: well-formed, but not signed by the event."""
    body = code[3:]
    raw = bytearray(base64.b32decode(body + "=" * (-len(body) % 8)))
    raw[-5] ^= 0x10
    return "B1:" + base64.b32encode(bytes(raw)).decode().rstrip("=")


def log_in(page: Any, url: str, email: str = "door@example.org") -> None:
    page.goto(url + "/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/")


def open_scanner(page: Any, url: str, event_id: int, door: str = "Main entrance") -> None:
    page.goto(f"{url}/door/{event_id}?door={door.replace(' ', '+')}")
    page.wait_for_selector("#scanner[data-ready=yes]")
    # The attendee list has arrived (the script fills the expected count from it).
    page.wait_for_function("document.getElementById('count-expected').textContent === '2'")


def answer(page: Any, status: str) -> Any:
    box = page.locator(f"#answer[data-status={status}]")
    box.wait_for()
    return box


@pytest.fixture
def camera_browser(browser: Any, tmp_path: Path, seeded: Seeded) -> Iterator[Any]:
    """A second Chromium whose camera shows Bob's badge (the QR PNG as a Y4M video)."""
    video = tmp_path / "badge.y4m"
    write_y4m(video, Image.open(io.BytesIO(qr.png(seeded.codes["bob"]))))
    other = browser.browser_type.launch(
        executable_path=shutil.which("chromium") or "/usr/bin/chromium",
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    yield other
    other.close()


def test_a_badge_shown_to_the_camera_is_admitted_in_green(
    camera_browser, live_server, seeded, assert_accessible
):
    context = camera_browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, live_server.url)
    open_scanner(page, live_server.url, seeded.event_id)
    assert_accessible(page)
    sent: list[str] = []
    page.on(
        "request",
        lambda r: sent.append(r.url) if r.method == "POST" and r.url.endswith("/api/checkin") else None,
    )
    page.get_by_role("button", name="Start camera").click()
    box = answer(page, "ok")
    assert "Bob Baker" in box.inner_text()
    assert box.locator("#answer-title").inner_text() == ANSWERS["ok"].message
    assert ANSWERS["ok"].colour in (box.get_attribute("class") or "").split()
    assert page.locator("#scanner").get_attribute("data-last-sound") == "ok"
    assert page.locator("#count-admitted").inner_text() == "1"
    # The badge stays in front of the camera: the camera keeps reading it, and it is not sent again.
    # (A locator assertion, not wait_for_function: this page's CSP forbids the eval that one would use.)
    expect(page.locator("#scanner")).to_have_attribute("data-held-back", re.compile(r"^([3-9]|[1-9][0-9]+)$"))
    assert page.locator("#answer").get_attribute("data-status") == "ok"
    assert len(sent) == 1
    assert not errors
    context.close()


def test_a_keyboard_wedge_scan_and_a_name_search_admit(page, live_server, seeded, assert_accessible):
    log_in(page, live_server.url)
    open_scanner(page, live_server.url, seeded.event_id)
    # The code field has the focus by itself: a USB scanner just types and presses Enter.
    page.keyboard.type(seeded.codes["alice"])
    page.keyboard.press("Enter")
    box = answer(page, "ok")
    assert "Alice Archer" in box.inner_text()
    assert page.evaluate("document.activeElement.id") == "code"

    page.keyboard.type(seeded.codes["alice"])
    page.keyboard.press("Enter")
    again = answer(page, "already_checked_in")
    assert "First checked in at" in again.inner_text()
    assert page.locator("#scanner").get_attribute("data-last-sound") == "warn"

    page.keyboard.type(seeded.codes["carol"])
    page.keyboard.press("Enter")
    answer(page, "cancelled")
    assert page.locator("#scanner").get_attribute("data-last-sound") == "bad"

    page.get_by_role("searchbox", name="Name to search for").fill("bak")
    page.get_by_role("button", name="Admit Bob Baker").click()
    assert "Bob Baker" in answer(page, "ok").inner_text()
    assert page.locator("#count-admitted").inner_text() == "2"

    page.get_by_role("button", name="Undo this admission").click()
    answer(page, "undone")
    assert page.locator("#count-admitted").inner_text() == "1"
    assert_accessible(page)
    page.set_viewport_size({"width": 390, "height": 844})
    assert_accessible(page)
    assert not page.js_errors


def test_offline_scans_at_two_doors_are_reconciled_into_a_conflict(
    browser, live_server, seeded, assert_accessible
):
    doors = []
    for name in ("North door", "South door"):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        context.set_default_timeout(15_000)
        page = context.new_page()
        log_in(page, live_server.url)
        open_scanner(page, live_server.url, seeded.event_id, door=name)
        doors.append((context, page))

    for context, page in doors:
        context.set_offline(True)
        page.locator("#code").fill(seeded.codes["bob"])
        page.locator("#code").press("Enter")
        box = answer(page, "ok")
        assert "Bob Baker" in box.inner_text()
        assert "offline" in box.inner_text()
        assert page.locator("#scanner").get_attribute("data-queued") == "1"
        assert "Offline" in page.locator("#connection").inner_text()

    # Offline, a forged badge is still refused: the page checks the signature itself.
    north = doors[0][1]
    forged = forge(seeded.codes["alice"])
    north.locator("#code").fill(forged)
    north.locator("#code").press("Enter")
    answer(north, "invalid")
    # ...and a cancelled booking is refused from the cached attendee list. Decided on the device, the answer
    # is shown in the colour and words the server gave the page (scans.ANSWERS, said once).
    north.locator("#code").fill(seeded.codes["carol"])
    north.locator("#code").press("Enter")
    refused = answer(north, "cancelled")
    assert refused.locator("#answer-title").inner_text() == ANSWERS["cancelled"].message
    assert ANSWERS["cancelled"].colour in (refused.get_attribute("class") or "").split()

    for context, page in doors:
        context.set_offline(False)
        page.wait_for_selector("#scanner[data-queued='0']", timeout=20_000)
        assert page.locator("#scanner").get_attribute("data-online") == "yes"

    conflicts = doors[0][1]
    conflicts.goto(f"{live_server.url}/checkin/{seeded.event_id}/conflicts")
    text = conflicts.locator("main").inner_text()
    assert "Bob Baker" in text
    assert re.search(r"North door|South door", text)
    assert_accessible(conflicts)

    attendance = doors[1][1]
    attendance.goto(f"{live_server.url}/checkin/{seeded.event_id}/attendance")
    assert attendance.locator("#admitted-total").inner_text() == "1"
    assert attendance.locator("svg.arrivals rect").count() >= 1
    assert_accessible(attendance)
    attendance.set_viewport_size({"width": 390, "height": 844})
    assert_accessible(attendance)
    for context, _ in doors:
        context.close()
