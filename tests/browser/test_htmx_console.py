"""htmx swaps on the demo leave the console clean: no Content-Security-Policy violation (htmx injects a <style>
for its indicators unless the htmx-config meta turns that off; the portal's stylesheet has those rules), and no
error of any kind, on the office's live member search and on the booking steps."""

from __future__ import annotations

import re
from typing import Any

import pytest
from browser_kit import LiveServer

from portal import demo

pytestmark = pytest.mark.xdist_group("demo-browser")

#: Recorded by the page itself (an init script runs before the page's own, outside its CSP).
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
"""


def log_in(page: Any, url: str, login: demo.DemoLogin) -> None:
    page.goto(url + "/login")
    page.get_by_label("E-mail address").fill(login.email)
    page.get_by_label("Password").fill(login.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/")


def clean(page: Any) -> None:
    assert page.evaluate("window.__csp") == []
    assert page.evaluate("document.querySelectorAll('style').length") == 0  # htmx injected no <style>
    assert not page.js_errors


def test_htmx_swaps_break_no_content_security_policy(demo_server: LiveServer, page: Any) -> None:
    page.add_init_script(WATCH_CSP)
    url = demo_server.url
    office = next(login for login in demo.LOGINS if login.role == "Office staff")
    log_in(page, url, office)

    # The live search swaps the rows in.
    page.goto(url + "/members/")
    rows = page.locator("#member-rows")
    before = rows.inner_html()
    with page.expect_response(
        lambda r: "/members/" in r.url and r.request.headers.get("hx-request") == "true"
    ):
        page.get_by_role("searchbox", name="Search", exact=True).fill("Hughes")
    page.wait_for_function(
        "(before) => document.querySelector('#member-rows').innerHTML !== before", arg=before
    )
    assert "Hughes" in rows.inner_text()
    clean(page)

    # The booking steps are htmx swaps of one fragment.
    page.goto(url + "/events/isipt-2027/book")
    page.get_by_role("radio", name=re.compile("Non-member")).first.check()
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        page.get_by_role("button", name="Continue").click()
    page.get_by_label("First name").wait_for()
    page.get_by_role("button", name="Continue").click()  # nothing filled in: the errors come back by htmx
    page.locator(".error-summary").wait_for()
    # A 422 is logged by Chromium as a failed resource, which is the answer itself, not a fault.
    page.js_errors[:] = [e for e in page.js_errors if "422" not in e]
    clean(page)
    # The indicator styles htmx would have injected are the portal's own.
    css = page.evaluate(
        "[...document.styleSheets].flatMap(s => [...s.cssRules].map(r => r.selectorText || ''))"
    )
    assert ".htmx-indicator" in css and any(".htmx-request .htmx-indicator" in rule for rule in css)
