"""The website in a real browser, on the demo's site: the menu's sub-menus open by keyboard alone and by touch on
a phone-sized window, an inner page is reached with its breadcrumbs, the links work without JavaScript, and axe
finds no serious or critical violation. With PORTAL_TEST_SCREENSHOTS=<dir> it saves the home page and an inner
page at 1280 and 390 pixels wide."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("demo-browser")

INNER = "/about-ipt/mission-vision"


def _tab_to(page, predicate: str, limit: int = 80) -> None:
    """Press Tab until the focused element satisfies `predicate` (a JS expression over `el`)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return !!el && ({predicate}); }})()"):
            return
    raise AssertionError(f"Tab never reached an element where {predicate}")


def _shoot(page, name: str) -> None:
    target = os.environ.get("PORTAL_TEST_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(target) / f"{name}.png"), full_page=True)


def test_the_menu_opens_by_keyboard_alone_and_leads_to_an_inner_page(demo_server, page, assert_accessible):
    page.goto(demo_server.url + "/")
    assert page.get_by_role("heading", name="What is Interpersonal Psychotherapy?").is_visible()
    assert_accessible(page)
    _shoot(page, "home-1280")
    toggle = page.get_by_role("button", name="About IPT: show the pages under it")
    sub = page.locator("#" + toggle.get_attribute("aria-controls"))
    assert toggle.get_attribute("aria-expanded") == "false" and not sub.is_visible()

    _tab_to(page, "el.getAttribute('aria-controls') === " + repr(toggle.get_attribute("aria-controls")))
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true" and sub.is_visible()
    assert_accessible(page)
    _shoot(page, "menu-open-1280")
    # Escape closes it and leaves focus on its button; Space opens it again.
    page.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false" and not sub.is_visible()
    assert page.evaluate("document.activeElement.getAttribute('aria-expanded')") == "false"
    page.keyboard.press(" ")
    assert sub.is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Mission & Vision"
    page.keyboard.press("Enter")
    page.wait_for_url(demo_server.url + INNER)

    assert page.get_by_role("heading", level=1).inner_text() == "Mission & Vision"
    # The whole top level fits one line on a laptop.
    tops = page.locator(".site-menu-top > li").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().top)"
    )
    assert max(tops) - min(tops) < 5, tops
    crumbs = page.get_by_role("navigation", name="Breadcrumb")
    assert crumbs.get_by_role("link", name="About IPT").get_attribute("href") == "/about-ipt"
    current = page.locator('nav[aria-label="Site"] a[aria-current="page"]')
    assert current.get_attribute("href") == INNER
    assert "Our mission" in page.content()
    assert_accessible(page)
    _shoot(page, "inner-1280")
    assert page.js_errors == []


def test_on_a_phone_the_site_menu_opens_by_touch(demo_server, browser, assert_accessible):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, locale="en-GB"
    )
    try:
        phone = context.new_page()
        phone.goto(demo_server.url + "/")
        menu = phone.get_by_role("button", name="Site menu")
        top = phone.locator("#site-menu-list")
        assert menu.is_visible() and not top.is_visible()
        _shoot(phone, "home-390")
        menu.tap()
        assert menu.get_attribute("aria-expanded") == "true" and top.is_visible()
        assert_accessible(phone)
        toggle = phone.get_by_role("button", name="Training & Events: show the pages under it")
        toggle.tap()
        calendar = phone.get_by_role("link", name="Events Calendar")
        assert calendar.is_visible() and calendar.get_attribute("href") == "/events"
        _shoot(phone, "menu-open-390")
        phone.goto(demo_server.url + INNER)
        assert phone.get_by_role("navigation", name="Breadcrumb").is_visible()
        _shoot(phone, "inner-390")
        assert_accessible(phone)
    finally:
        context.close()


def test_without_javascript_the_links_still_work_and_focus_shows_a_sub_menu(demo_server, browser):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    try:
        plain = context.new_page()
        plain.goto(demo_server.url + "/")
        assert plain.locator("button.sub-toggle").first.is_hidden()
        plain.locator('nav[aria-label="Site"] a[href="/about-ipt"]').focus()
        assert plain.locator('nav[aria-label="Site"] a[href="/about-ipt/mission-vision"]').is_visible()
        plain.locator('nav[aria-label="Site"] a[href="/about-ipt"]').click()
        plain.wait_for_url(demo_server.url + "/about-ipt")
        section = plain.get_by_role("region", name="In this section")
        assert section.get_by_role("link", name="Meet the Team").is_visible()
    finally:
        context.close()


def test_the_editor_s_pages_are_accessible_and_the_diff_reads_as_text(demo_server, page, assert_accessible):
    from portal.demo import LOGINS

    editor = next(login for login in LOGINS if login.email == "editor@example.org")
    page.goto(demo_server.url + "/login")
    page.get_by_label("E-mail address").fill(editor.email)
    page.get_by_label("Password").fill(editor.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(demo_server.url + "/")
    page.get_by_role("link", name="Website").first.click()
    page.wait_for_url(demo_server.url + "/site/pages")
    assert_accessible(page)
    page.get_by_role("link", name="History of About IPT UK").click()
    assert_accessible(page)
    page.get_by_role("link", name="Version 3").click()
    assert_accessible(page)
    line = "the society has {} 300 members: trainee and accredited practitioners, supervisors and trainers,"
    assert page.locator("table.diff del").inner_text() == "Today " + line.format("around")
    assert page.locator("table.diff ins").inner_text() == "Today " + line.format("more than")
    assert page.get_by_role("button", name="Restore this version").count() == 0  # version 3 is the page now
    page.goto(demo_server.url + "/about-ipt/meet-the-team/about-ipt-uk")
    page.get_by_role("link", name="Edit this page").click()
    assert_accessible(page)
    page.get_by_label("Summary").fill("A previewed summary, not saved.")
    page.get_by_role("button", name="Preview").click()
    assert page.get_by_role("heading", name="Preview (not saved yet)").is_visible()
    assert_accessible(page)
    _shoot(page, "editor-preview-1280")

    # The editor changes a page, sees what the save changed, and restores the version before it.
    page.goto(demo_server.url + INNER)
    before = page.locator("main p.lead").first.inner_text()
    page.get_by_role("link", name="Edit this page").click()
    page.get_by_label("Summary").fill("A summary changed in the browser test.")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("The page is saved as a new version.").wait_for()
    page.get_by_role("link", name="History and earlier versions").click()
    current = page.locator("tr.current a").first
    changed_in = int(current.inner_text().split()[-1])
    current.click()
    assert (
        page.locator("table.diff ins").first.inner_text().endswith("A summary changed in the browser test.")
    )
    assert before in page.locator("table.diff del").first.inner_text()
    assert_accessible(page)
    page.go_back()
    page.get_by_role("button", name=f"Restore this version ({changed_in - 1})").click()
    page.get_by_text(f"Version {changed_in - 1} is restored").wait_for()
    page.goto(demo_server.url + INNER)
    assert page.locator("main p.lead").first.inner_text() == before
    assert page.js_errors == []


@pytest.mark.parametrize("width, height", [(1280, 900), (390, 844)], ids=["laptop", "phone"])
def test_a_visitor_walks_the_whole_menu_and_every_page_is_accessible(demo_server, browser, width, height):
    """Every entry of the site menu (top level and sub-menus) as a visitor, at a laptop's and a phone's width:
    each page answers 200 with its own heading, marks itself current in the menu, and axe finds no serious or
    critical violation on it."""
    from browser_kit import axe_violations

    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
    try:
        page = context.new_page()
        page.goto(demo_server.url + "/")
        links = page.eval_on_selector_all(
            "nav.site-nav a[href]", "els => els.map(e => [e.getAttribute('href'), e.textContent.trim()])"
        )
        assert len(links) >= 30, f"the demo's menu has {len(links)} entries"
        problems: dict[str, list[str]] = {}
        seen: set[str] = set()
        unmarked: list[str] = []
        for href, title in links:
            if href in seen or not href.startswith("/"):
                continue
            seen.add(href)
            response = page.goto(demo_server.url + href)
            assert response is not None and response.status == 200, (
                f"{title} ({href}): {response and response.status}"
            )
            assert page.locator("h1").count() >= 1, f"{title} ({href}) has no heading"
            if not page.locator("nav.site-nav a[aria-current=page]").count():
                unmarked.append(href)
            found = axe_violations(page)
            if found:
                problems[href] = [f"{v['id']} ({v['impact']}): {v['help']}" for v in found]
        assert not unmarked, f"not marked current in the menu: {unmarked}"
        assert not problems, f"axe at {width} px:\n" + "\n".join(f"{k}: {v}" for k, v in problems.items())
    finally:
        context.close()


def test_on_a_phone_the_home_page_leads_to_the_news_and_a_faq_answer_has_its_own_link(
    demo_server, browser, assert_accessible
):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, locale="en-GB")
    try:
        phone = context.new_page()
        phone.goto(demo_server.url + "/")
        assert phone.get_by_role("heading", name="Upcoming events").is_visible()
        assert phone.locator(".home-block").first.evaluate("el => el.scrollWidth <= el.clientWidth")
        assert_accessible(phone)
        phone.get_by_role("region", name="Latest news").get_by_role("link").first.click()
        assert "/news/" in phone.url and phone.get_by_role("heading", level=1).is_visible()
        assert_accessible(phone)
        phone.goto(demo_server.url + "/members-area/membership-faqs")
        phone.get_by_role("navigation", name="Questions on this page").get_by_role("link").nth(1).click()
        question = phone.locator(".faq-question:target")
        assert question.count() == 1 and question.is_visible()
        link = question.locator("xpath=..").get_by_role("link", name="Link to this question")
        assert phone.url.endswith(link.get_attribute("href"))
        assert_accessible(phone)
    finally:
        context.close()


def test_a_visitor_finds_a_courses_dates_and_a_past_conference_from_the_menu(
    demo_server, page, assert_accessible
):
    """Training & Events leads to a course with its upcoming dates (each booked on its event page) and to the
    archive, where the 2024 conference's page says it has finished and shows its programme."""
    page.goto(demo_server.url + "/")
    page.get_by_role("button", name="Training & Events: show the pages under it").click()
    page.get_by_role("link", name="IPT Practitioner Training", exact=True).click()
    page.wait_for_url(demo_server.url + "/training/ipt-practitioner")
    dates = page.get_by_role("region", name="Upcoming dates")
    assert dates.get_by_role("link", name="Book").count() >= 1
    assert_accessible(page)
    _shoot(page, "course-1280")
    dates.get_by_role("link", name="Book").first.click()
    assert page.get_by_role("heading", name="Booking").is_visible()

    page.get_by_role("button", name="Training & Events: show the pages under it").click()
    page.get_by_role("link", name="Past Events", exact=True).click()
    page.get_by_role("link", name="2024", exact=True).click()
    page.get_by_role("link", name="ISIPT Conference 2024").click()
    assert page.get_by_role("heading", name="This event has finished").is_visible()
    assert page.get_by_role("heading", name="Programme").is_visible()
    assert page.get_by_role("link", name="Book a place").count() == 0
    assert_accessible(page)
    _shoot(page, "finished-event-1280")
    assert page.js_errors == []
