"""Ranking candidates on the ballot of the demo's open election. With JavaScript: "Your ranking" and "Not
ranked" lists with Add / Remove / Move up / Move down buttons, used here by keyboard alone, each change said in
a live region and the focus kept where the next key press wants it; the hidden numbered selects follow, and
the review page shows the order. Without JavaScript the numbered selects are the ballot. The lists are checked
with axe on a laptop and at 390 px (axe needs JavaScript, so the selects' page is not). No vote is cast (the demo journeys cast the demo member's)."""

from __future__ import annotations

from typing import Any

import pytest
from browser_kit import LiveServer

from portal import demo

pytestmark = pytest.mark.xdist_group("demo-browser")

COMMITTEE = "Ordinary committee member"


def log_in(page: Any, url: str) -> None:
    page.goto(url + "/login")
    page.get_by_label("E-mail address").fill(demo.MEMBER.email)
    page.get_by_label("Password").fill(demo.MEMBER.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/")


def focused(page: Any) -> str:
    """The accessible name the focused element was given (aria-label, else its text)."""
    return page.evaluate(
        "() => { const e = document.activeElement;"
        " return e ? (e.getAttribute('aria-label') || e.textContent.trim()) : ''; }"
    )


def tab_to(page: Any, name: str, *, back: bool = False, limit: int = 120) -> None:
    """Press Tab (or Shift+Tab) until the focus is on `name`: it must be reachable by keyboard."""
    for _ in range(limit):
        if focused(page) == name:
            return
        page.keyboard.press("Shift+Tab" if back else "Tab")
    raise AssertionError(f"{name!r} cannot be reached with the Tab key")


def ranking(post: Any) -> list[str]:
    return [t.strip() for t in post.locator("ol.ranked .rank-name").all_inner_texts()]


def positions(post: Any) -> list[str]:
    return [t.strip() for t in post.locator("ol.ranked .rank-position").all_inner_texts()]


def preferences(post: Any) -> dict[str, str]:
    """What the form will send: each candidate's numbered select (hidden with JavaScript)."""
    return post.evaluate(
        "f => Object.fromEntries([...f.querySelectorAll('.rank-row')].map("
        "r => [r.querySelector('label').textContent.trim(), r.querySelector('select').value]))"
    )


def check(page: Any, assert_accessible: Any) -> None:
    assert_accessible(page)
    page.set_viewport_size({"width": 390, "height": 844})
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_member_ranks_candidates_by_keyboard_alone(demo_server: LiveServer, page, assert_accessible):
    url = demo_server.url
    log_in(page, url)
    page.goto(url + "/elections/2/ballot")
    post = page.locator("fieldset.contest").filter(has_text=COMMITTEE)
    names = [t.strip() for t in post.locator("ul.unranked .rank-name").all_inner_texts()]
    assert len(names) >= 4 and ranking(post) == []
    assert post.locator(".ranking").is_hidden()  # the numbered selects are hidden, still in the form
    assert "Nobody is ranked yet" in post.inner_text()
    status = post.get_by_role("status")
    check(page, assert_accessible)

    # Add the first three, one key press each: the focus moves on to the next candidate's Add button.
    page.locator("h1").focus()
    tab_to(page, f"Add: {names[0]}")
    page.keyboard.press("Enter")
    assert status.inner_text() == f"{names[0]} is now 1st."
    assert focused(page) == f"Add: {names[1]}"
    page.keyboard.press("Enter")
    page.keyboard.press("Space")
    assert status.inner_text() == f"{names[2]} is now 3rd."
    assert focused(page) == f"Add: {names[3]}"
    assert ranking(post) == names[:3] and positions(post) == ["1st", "2nd", "3rd"]
    assert names[0] not in post.locator("ul.unranked").inner_text()

    # Move the 3rd up twice: the focus stays on it; at the top "Move up" is off and the focus is on "Move down".
    tab_to(page, f"Move up: {names[2]}", back=True)
    page.keyboard.press("Enter")
    assert status.inner_text() == f"{names[2]} is now 2nd."
    assert ranking(post) == [names[0], names[2], names[1]]
    assert focused(page) == f"Move up: {names[2]}"
    page.keyboard.press("Enter")
    assert status.inner_text() == f"{names[2]} is now 1st."
    assert ranking(post) == [names[2], names[0], names[1]]
    assert post.get_by_role("button", name=f"Move up: {names[2]}").is_disabled()
    assert focused(page) == f"Move down: {names[2]}"
    page.keyboard.press("Enter")
    assert ranking(post) == [names[0], names[2], names[1]]
    assert focused(page) == f"Move down: {names[2]}"

    # Remove the 1st: the others close up, and the focus goes to the next one's Remove button.
    tab_to(page, f"Remove: {names[0]}", back=True)
    page.keyboard.press("Enter")
    assert status.inner_text() == f"{names[0]} is no longer ranked. {names[2]} is now 1st."
    assert ranking(post) == [names[2], names[1]]
    assert focused(page) == f"Remove: {names[2]}"
    assert names[0] in post.locator("ul.unranked").inner_text()
    expected = {name: "" for name in names}
    expected.update({names[2]: "1", names[1]: "2"})
    assert preferences(post) == expected
    check(page, assert_accessible)

    # Sent by keyboard too; the review lists them in order, and going back keeps the ranking.
    tab_to(page, "Check my choices")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Check your choices").wait_for()
    row = page.locator(".review div").filter(has_text=COMMITTEE)
    assert [t.strip() for t in row.locator("li").all_inner_texts()] == [names[2], names[1]]
    page.get_by_role("button", name="Change my choices").click()
    page.get_by_role("heading", name="Your ballot").wait_for()
    post = page.locator("fieldset.contest").filter(has_text=COMMITTEE)
    assert ranking(post) == [names[2], names[1]]
    assert not page.js_errors


def test_without_javascript_the_numbered_selects_are_the_ballot(demo_server: LiveServer, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    try:
        url = demo_server.url
        log_in(page, url)
        page.goto(url + "/elections/2/ballot")
        post = page.locator("fieldset.contest").filter(has_text=COMMITTEE)
        assert post.locator("ol.ranked").count() == 0 and post.locator(".ranking").is_visible()
        labels = [t.strip() for t in post.locator(".rank-row label").all_inner_texts()]
        post.get_by_label(labels[1], exact=True).select_option(label="1st preference")
        post.get_by_label(labels[0], exact=True).select_option(label="2nd preference")
        page.get_by_role("button", name="Check my choices").click()
        page.get_by_role("heading", name="Check your choices").wait_for()
        row = page.locator(".review div").filter(has_text=COMMITTEE)
        assert [t.strip() for t in row.locator("li").all_inner_texts()] == [labels[1], labels[0]]
    finally:
        context.close()
