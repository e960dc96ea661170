"""Every page, as everyone: a crawler logs in as each demo login (and as a visitor), follows the links it is
shown, and runs axe-core on each kind of page it reaches. No serious or critical violation anywhere."""

from __future__ import annotations

import re
from collections import deque
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from browser_kit import axe_violations
from playwright.sync_api import Error as PlaywrightError

from portal import demo

pytestmark = pytest.mark.xdist_group("demo-browser")

#: Links not to follow: leaving the session, files rather than pages, and actions behind GET-free forms.
SKIP = re.compile(
    r"(logout|\.(pdf|csv|ics|png|svg|blt|json)$|/api/|/static/|/metrics|/healthz|/photo|/badge)"
)
PAGES_PER_LOGIN = 30


def page_kind(path: str) -> str:
    """One visit per kind of page: /members/17 and /members/18 are the same page."""
    path = re.sub(r"/\d+", "/{n}", path)
    return re.sub(r"/[A-Za-z0-9_-]{20,}", "/{token}", path)


def crawl(page: Any, base: str, seen_kinds: set[str]) -> tuple[int, dict[str, list[str]]]:
    """Breadth-first over the links shown; returns the pages checked and {url: [violations]} for those with any."""
    problems: dict[str, list[str]] = {}
    queue = deque([base + "/"])
    visited = 0
    while queue and visited < PAGES_PER_LOGIN:
        url = queue.popleft()
        kind = page_kind(urlsplit(url).path)
        if kind in seen_kinds:
            continue
        seen_kinds.add(kind)
        try:
            response = page.goto(url)
        except PlaywrightError as exc:  # a link to a file: the browser downloads it instead of showing a page
            if "Download is starting" in str(exc):
                continue
            raise
        if (
            response is None
            or response.status >= 400
            or "text/html" not in response.headers.get("content-type", "")
        ):
            continue
        visited += 1
        found = axe_violations(page)
        if found:
            problems[url] = [
                f"{v['id']} ({v['impact']}): {v['help']} {[n['target'] for n in v['nodes']][:2]}"
                for v in found
            ]
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
            target = urljoin(url, href).split("#")[0]
            if target.startswith(base) and not SKIP.search(urlsplit(target).path):
                queue.append(target)
    return visited, problems


@pytest.mark.parametrize("who", ["visitor", *(login.email for login in demo.LOGINS)])
def test_no_page_has_a_serious_accessibility_violation(demo_server, browser, who):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    try:
        if who != "visitor":
            login = next(login for login in demo.LOGINS if login.email == who)
            page.goto(demo_server.url + "/login")
            page.get_by_label("E-mail address").fill(login.email)
            page.get_by_label("Password").fill(login.password)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(demo_server.url + "/")
        visited, problems = crawl(page, demo_server.url, set())
    finally:
        context.close()
    print(f"{who}: {visited} kinds of page checked")
    # The crawl must have reached the pages this login's navigation offers, not stopped at the door.
    assert visited >= (3 if who == "visitor" else 6), f"only {visited} pages reached as {who}"
    report = "\n".join(f"{url}\n  " + "\n  ".join(found) for url, found in problems.items())
    assert not problems, f"axe found serious or critical violations as {who}:\n{report}"


@pytest.mark.parametrize("width,height", [(390, 844), (1280, 900)])
def test_the_register_and_the_directory_have_no_serious_violation_at_phone_and_laptop_width(
    demo_server, browser, width, height
):
    """The public register (search, an entry with conditions, a suspended one, removals, verify) and Find a
    Therapist (filtered, a profile, its contact form), as a visitor on a phone and on a laptop."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
    page = context.new_page()
    problems: dict[str, list[str]] = {}
    try:
        page.goto(demo_server.url + "/register")
        entries = page.eval_on_selector_all(
            ".register-item h2 a", "els => els.map(e => e.getAttribute('href'))"
        )
        assert len(entries) >= 8, "the demo's register has its practitioners"
        page.goto(demo_server.url + "/find-a-therapist")
        profiles = page.eval_on_selector_all(
            ".directory-item h2 a", "els => els.map(e => e.getAttribute('href'))"
        )
        assert profiles, "the demo's directory has profiles"
        paths = [
            "/register",
            "/register?q=a&region=north-west",
            *entries[:3],
            "/register/removals",
            entries[0].replace("/register/", "/register/verify/"),
            "/find-a-therapist",
            "/find-a-therapist?region=london&modality=ipt-a",
            "/find-a-therapist?postcode=ZZ9",
            profiles[0],
            profiles[0] + "/contact",
        ]
        for path in paths:
            response = page.goto(urljoin(demo_server.url, path))
            assert response is not None and response.status == 200, path
            found = axe_violations(page)
            if found:
                problems[path] = [f"{v['id']} ({v['impact']}): {v['help']}" for v in found]
    finally:
        context.close()
    report = "\n".join(f"{path}\n  " + "\n  ".join(found) for path, found in problems.items())
    assert not problems, f"axe found serious or critical violations at {width} px:\n{report}"
