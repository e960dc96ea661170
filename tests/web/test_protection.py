"""CSRF on every unsafe route, and who may use which route: the full role-by-route matrix."""

from __future__ import annotations

from datetime import timedelta

import pytest
from starlette.testclient import TestClient
from support import all_routes, csrf_token, fill_path, make_account

from portal.accounts import service
from portal.accounts.access import SESSION_COOKIE
from portal.accounts.models import Account
from portal.members.models import Member
from portal.web.boundary import CSRF_COOKIE

PERSONAS = [
    "anonymous",
    "member",
    "door",
    "office",
    "returning_officer",
    "scrutineer",
    "complaints",
    "editor",
    "accreditation",
    "admin",
]
ALL = set(PERSONAS)
LOGGED_IN = ALL - {"anonymous"}
STAFF_ADMIN = {"admin"}

#: Who may use each route. A new route must be added here, with a decision about who may use it.
MATRIX: dict[str, set[str]] = {
    "home": ALL,
    "healthz": ALL,
    "metrics": ALL,  # gated by its own bearer token, not by login
    "accounts:setup": ALL,
    "accounts:login": ALL,
    "accounts:second_factor": ALL,
    "accounts:logout": LOGGED_IN,
    "accounts:logout_everywhere": LOGGED_IN,
    "accounts:set_password": ALL,
    "accounts:security": LOGGED_IN,
    "accounts:totp_disable": LOGGED_IN,
    "accounts:staff": STAFF_ADMIN,
    "accounts:staff_edit": STAFF_ADMIN,
    "accounts:audit": STAFF_ADMIN,
    "me:activate": ALL,
    "me:forgot_password": ALL,
    "me:account": {"member"},
    "me:change_email": {"member"},
    "me:confirm_email": ALL,  # the token in the link decides
    "mail:outbox": {"office", "admin"},
    "mail:email": {"office", "admin"},
    "mail:attachment": {"office", "admin"},
    "mail:retry": {"office", "admin"},
    "members:list": {"office", "admin"},
    "members:export": {"office", "admin"},
    "members:import": {"office", "admin"},
    "members:import_preview": {"office", "admin"},
    "members:import_apply": {"office", "admin"},
    "members:options": {"office", "admin"},
    "members:option_edit": {"office", "admin"},
    "members:detail": {"office", "admin"},
    "members:export_json": {"office", "admin"},
    "members:erase": {"office", "admin"},
    "members:category": {"office", "admin"},
    # Joining: the public pages and the applicant's private link (the token decides); the office's queue.
    "membership:options": ALL,
    "membership:apply": ALL,
    "membership:apply_form": ALL,
    "membership:applied": ALL,
    "membership:answer": ALL,
    "membership:answered": ALL,
    "membership:applications": {"office", "admin"},
    "membership:application": {"office", "admin"},
    "membership:ask": {"office", "admin"},
    "membership:approve": {"office", "admin"},
    "membership:reject": {"office", "admin"},
    "membership:fee_paid": {"office", "admin"},
    "membership:file": {"office", "admin"},
    "membership:settings": {"office", "admin"},
    "membership:pay": ALL,  # the applicant's private pay link decides (404 without card payment)
    # Card payments: the booking's link decides; Stripe's return page and webhook (verified by its
    # signature, the one route exempt from CSRF: see SIGNED) are public; the office refunds.
    "payments:pay_booking": ALL,
    "payments:returned": ALL,
    "payments:webhook": ALL,
    "payments:refund": {"office", "admin"},
    # Renewing: the member's own renewal, invoices and certificate; the office's page for one member.
    "membership:renew": {"member"},
    "membership:renew_card": {"member"},  # 404 without card payment, for a member too
    "membership:my_invoice": {"member"},  # the member's own invoices only (another's is not found)
    "membership:certificate": {"member"},
    "membership:member_renewals": {"office", "admin"},
    "membership:record_renewal": {"office", "admin"},
    "membership:renewal_paid": {"office", "admin"},
    "membership:change_category": {"office", "admin"},
    "membership:reports": {"office", "admin"},
    "membership:owed_csv": {"office", "admin"},
    "membership:resign_member": {"office", "admin"},
    "membership:resign": {"member"},
    "membership:consent": {"member"},
    # Check-in: the scanner API also takes a scanner device's bearer token (tested in tests/checkin).
    "checkin:api_checkin": {"door", "admin"},
    "checkin:api_sync": {"door", "admin"},
    "checkin:api_undo": {"door", "admin"},
    "checkin:api_attendees": {"door", "admin"},
    "checkin:api_search": {"door", "admin"},
    "checkin:public_key": ALL,  # a public key
    "checkin:door": {"door", "admin"},
    "checkin:index": {"door", "office", "admin"},
    "checkin:attendance": {"door", "office", "admin"},
    "checkin:conflicts": {"door", "office", "admin"},
    "checkin:devices": {"office", "admin"},
    "checkin:device_revoke": {"office", "admin"},
    "checkin:badges": {"office", "admin"},
    "checkin:badges_pdf": {"office", "admin"},
    "checkin:cpd": {"office", "admin"},
    "checkin:badge_pdf": {"office", "admin"},
    "checkin:reissue": {"office", "admin"},
    "checkin:ribbon": {"office", "admin"},
    "checkin:mine": LOGGED_IN,  # their own bookings only (others' give 404)
    "checkin:my_png": LOGGED_IN,
    "checkin:my_svg": LOGGED_IN,
    "checkin:my_certificate": LOGGED_IN,
    "checkin:manage": ALL,  # the manage link's token decides
    "checkin:manage_png": ALL,
    "checkin:manage_svg": ALL,
    "checkin:manage_certificate": ALL,
    # Elections: members nominate and vote; a personal link's token decides on its own; the returning
    # officer runs an election (an administrator does not pass that role), scrutineers watch it.
    "elections:index": {"member"},
    "elections:detail": {"member"},
    "elections:candidates": ALL,  # the list of valid nominations is public
    "elections:photo": ALL,
    "elections:nominate": {"member"},
    "elections:nomination_link": ALL,  # the token in the link decides
    "elections:withdraw": {"member"},  # the candidate only (others get not_yours)
    "elections:ballot": {"member"},
    "elections:review": {"member"},
    "elections:cast": {"member"},
    "elections:link_ballot": ALL,  # the personal ballot link's token decides
    "elections:link_review": ALL,
    "elections:link_cast": ALL,
    "elections:trackers": ALL,  # after the close: officers at once, everyone once published
    "elections:manage": {"returning_officer", "scrutineer"},
    "elections:admin": {"returning_officer", "scrutineer"},
    "elections:nomination": {"returning_officer", "scrutineer"},
    "elections:roll": {"returning_officer", "scrutineer"},
    "elections:create": {"returning_officer"},
    "elections:edit": {"returning_officer"},
    "elections:contest_new": {"returning_officer"},
    "elections:contest_edit": {"returning_officer"},
    "elections:decide": {"returning_officer"},
    "elections:open_voting": {"returning_officer"},
    "elections:roll_correct": {"returning_officer"},
    "elections:remind": {"returning_officer"},
    "elections:turnout": {"returning_officer", "scrutineer", "office", "admin"},
    # Results: the handler decides who sees them (officers and scrutineers once counted, members once
    # published, everyone when the election's results are public); only the returning officer acts.
    "elections:results": ALL,
    "elections:results_csv": ALL,
    "elections:results_pdf": ALL,
    "elections:results_blt": ALL,
    "elections:archive": ALL,
    "elections:results_count": {"returning_officer"},
    "elections:results_publish": {"returning_officer"},
    "elections:trustees": {"returning_officer"},
    "elections:make_key": {"returning_officer"},
    "elections:close": {"returning_officer"},
    # Trustee pages: staff who may be trustees; then only that election's trustees (403 for any other).
    "elections:trustee": {"returning_officer", "scrutineer"},
    "elections:trustee_download": {"returning_officer", "scrutineer"},
    "elections:trustee_check": {"returning_officer", "scrutineer"},
    # Events: the calendar, event pages and the booking journey are public (guests book too); a booking's
    # private link decides on its own; "My registrations" needs a login; the office runs the events.
    "events:calendar": ALL,
    "events:feed": ALL,
    "events:event": ALL,
    "events:book": ALL,
    "events:event_ics": ALL,
    "events:booking": ALL,
    "events:booking_cancel": ALL,
    "events:booking_accept": ALL,
    "events:booking_workshops": ALL,
    "events:booking_invoice": ALL,
    "events:resend_link": ALL,  # the same answer for every address; throttled per address and client
    "events:regional": ALL,
    "events:archive": ALL,
    "events:archive_year": ALL,
    "events:mine": LOGGED_IN,
    "events:manage": {"office", "admin"},
    "events:create": {"office", "admin"},
    "society:details": {"office", "admin"},
    # Meet the Team: anyone may read; the office (and administrators) edit it.
    "team:index": ALL,
    "team:committee": ALL,
    "team:photo": ALL,
    "team:manage": {"office", "admin"},
    "team:edit": {"office", "admin"},
    "team:add_person": {"office", "admin"},
    "team:from_election": {"office", "admin"},
    "team:person": {"office", "admin"},
    "team:remove": {"office", "admin"},
    "team:move": {"office", "admin"},
    # Contact us: anyone may write; the office (and administrators) work the enquiries.
    "contact:form": ALL,
    "contact:sent": ALL,
    "contact:enquiries": {"office", "admin"},
    "contact:inboxes": {"office", "admin"},
    "contact:enquiry": {"office", "admin"},
    "contact:update": {"office", "admin"},
    "contact:note": {"office", "admin"},
    "contact:reply": {"office", "admin"},
    "events:payments_import": {"office", "admin"},
    "events:dashboard": {"office", "admin"},
    "events:edit": {"office", "admin"},
    "events:items": {"office", "admin"},
    "events:item": {"office", "admin"},
    "events:bookings": {"office", "admin"},
    "events:workshop": {"office", "admin"},
    "events:export": {"office", "admin"},
    "events:registration": {"office", "admin"},
    "events:unpaid": {"office", "admin"},
    "events:unpaid_confirm": {"office", "admin"},
    "events:registration_confirm": {"office", "admin"},
    "events:item_remove": {"office", "admin"},
    "events:email": {"office", "admin"},
    # The website: editors, office staff and administrators edit pages; published pages and their files are
    # public (a draft's page and files answer 404 to anyone else, which the handler decides).
    "site:pages": {"editor", "office", "admin"},
    "site:page_new": {"editor", "office", "admin"},
    "site:page_edit": {"editor", "office", "admin"},
    "site:page_delete": {"editor", "office", "admin"},
    "site:history": {"editor", "office", "admin"},
    "site:revision": {"editor", "office", "admin"},
    "site:restore": {"editor", "office", "admin"},
    "site:attachment_add": {"editor", "office", "admin"},
    "site:attachment_remove": {"editor", "office", "admin"},
    "site:file": ALL,
    # News: the same editors write, publish and delete posts; the list, each post and the feed are public.
    "site:news": ALL,
    "site:news_feed": ALL,
    "site:news_post": ALL,
    "site:news_manage": {"editor", "office", "admin"},
    "site:news_new": {"editor", "office", "admin"},
    "site:news_edit": {"editor", "office", "admin"},
    "site:news_publish": {"editor", "office", "admin"},
    "site:news_delete": {"editor", "office", "admin"},
    # The old site's addresses and where they lead: the site's editors keep the list.
    "site:redirects": {"editor", "office", "admin"},
    "site:redirect_delete": {"editor", "office", "admin"},
    # Search and the files robots read are for everyone.
    "search:results": ALL,
    "search:sitemap": ALL,
    "search:robots": ALL,
    "site:page": ALL,
    # Training: the courses, their dates and the external CPD list are public (a draft course answers 404 to
    # anyone but its editors, which the handler decides); editors, office staff and administrators edit them.
    "training:index": ALL,
    "training:course": ALL,
    "training:cpd": ALL,
    "training:manage": {"editor", "office", "admin"},
    "training:course_new": {"editor", "office", "admin"},
    "training:course_edit": {"editor", "office", "admin"},
    "training:cpd_new": {"editor", "office", "admin"},
    "training:cpd_edit": {"editor", "office", "admin"},
    "training:cpd_remove": {"editor", "office", "admin"},
    # Accreditation: the public standards page; the accreditation role edits the levels.
    "accreditation:standards": ALL,
    "accreditation:manage": {"accreditation", "admin"},
    "accreditation:level_new": {"accreditation", "admin"},
    "accreditation:level_edit": {"accreditation", "admin"},
    "accreditation:member": {"accreditation", "admin"},
    "accreditation:audits": {"accreditation", "admin"},
    "accreditation:audit": {"accreditation", "admin"},
    "accreditation:cpd": {"member"},  # the member's own log
    "accreditation:cpd_evidence": {"member"},  # evidence of the member's own entry (another's: not found)
    "accreditation:member_cpd_evidence": {"accreditation", "admin"},
    # Applying: the member's own pages; the supervisor's private link (the token decides); the reviewer's queue.
    "accreditation:mine": {"member"},
    "accreditation:apply": {"member"},
    "accreditation:my_application": {"member"},
    "accreditation:my_file": {"member"},
    "accreditation:supervise": ALL,
    "accreditation:applications": {"accreditation", "admin"},
    "accreditation:application": {"accreditation", "admin"},
    "accreditation:approve": {"accreditation", "admin"},
    "accreditation:ask": {"accreditation", "admin"},
    "accreditation:refuse": {"accreditation", "admin"},
    "accreditation:resend": {"accreditation", "admin"},
    "accreditation:application_file": {"accreditation", "admin"},
    # The public register and Find a Therapist are public; the roles that act after a complaint (complaints,
    # accreditation) set statuses, read the accreditations ending and export the CSV; a member edits their own
    # practice profile.
    "register:index": ALL,
    "register:removals": ALL,
    "register:entry": ALL,
    "register:verify": ALL,
    "register:badge": ALL,
    "register:manage": {"complaints", "accreditation", "admin"},
    "register:status": {"complaints", "accreditation", "admin"},
    "register:export": {"complaints", "accreditation", "admin"},
    "register:expiring": {"complaints", "accreditation", "admin"},
    "register:directory": ALL,
    "register:sent": ALL,
    "register:profile": ALL,
    "register:photo": ALL,
    "register:contact": ALL,
    "register:my_profile": {"member"},
    # Complaints: the page and its form are public; only the complaints role and administrators see the cases,
    # act on them and edit the procedure.
    "complaints:page": ALL,
    "complaints:thanks": ALL,
    "complaints:procedure": {"complaints", "admin"},
    "complaints:cases": {"complaints", "admin"},
    "complaints:case": {"complaints", "admin"},
    "complaints:entry": {"complaints", "admin"},
    "complaints:stage": {"complaints", "admin"},
    "complaints:letter": {"complaints", "admin"},
    "complaints:member": {"complaints", "admin"},
    "complaints:document": {"complaints", "admin"},
}


def test_every_route_declares_who_may_use_it(app):
    for name, path, _methods, endpoint in all_routes(app):
        assert hasattr(endpoint, "access"), f"{name} ({path}) declares no access"


def test_the_matrix_covers_every_route(app):
    names = {name for name, *_ in all_routes(app)}
    assert names == set(MATRIX), f"missing: {names - set(MATRIX)}; stale: {set(MATRIX) - names}"


@pytest.fixture
def persona_client(app, admin, database, passwords, key, clock):
    """A client logged in as the persona (the session made directly, so no login throttle applies), holding a
    CSRF cookie set directly (no page is rendered to get one). `fresh=True` gives a new client and a new session:
    an unsafe request may end the session it is called with (log out), so each one gets its own."""
    accounts = {"admin": admin}
    for persona in PERSONAS[1:-1]:
        roles = "" if persona == "member" else persona
        accounts[persona] = make_account(database, passwords, email=f"{persona}@example.org", roles=roles)
    # The member persona's login is linked to a member on the roll (what the `member` access word needs).
    with database.session() as s:
        member = Member(
            membership_number="M-0001",
            email="member@example.org",
            first_name="Mem",
            last_name="Ber",
            category="basic",
            status="active",
            created_at=clock(),
            updated_at=clock(),
        )
        s.add(member)
        s.flush()
        s.get(Account, accounts["member"].id).member_id = member.id
    clients: list[TestClient] = []
    kept: dict[str, tuple[TestClient, str | None]] = {}

    def new(persona: str) -> tuple[TestClient, str | None]:
        client = TestClient(app, base_url="http://testserver", follow_redirects=False)
        clients.append(client)
        token = None
        if persona != "anonymous":
            with database.session() as s:
                token = service.start_session(
                    s, account=accounts[persona], now=clock(), max_age=timedelta(hours=1), key=key
                )
        return client, token

    def make(persona: str, *, fresh: bool = False) -> TestClient:
        if fresh or persona not in kept:
            kept[persona] = new(persona)
        client, token = kept[persona]
        # Set before every request, whatever the last response did to the jar.
        client.cookies.clear()
        client.cookies.set(CSRF_COOKIE, f"matrix-{persona}", domain="testserver.local")
        if token is not None:
            client.cookies.set(SESSION_COOKIE, token, domain="testserver.local")
        return client

    yield make
    for client in clients:
        client.close()


def _denied(response) -> bool:
    if response.status_code in (401, 403):
        return True
    return response.status_code == 303 and response.headers["location"].startswith("/login?next=")


def test_role_by_route_matrix(app, persona_client):
    failures = []
    for persona in PERSONAS:
        for name, path, methods, _endpoint in all_routes(app):
            url = fill_path(path)
            for method in sorted(methods):
                # Reads share the persona's session; every unsafe request gets a fresh one (some end theirs).
                client = persona_client(persona, fresh=method not in ("GET", "HEAD"))
                headers = {"X-CSRF-Token": csrf_token(client)}
                response = client.request(
                    method, url, headers=headers, data={"x": "1"} if method != "GET" else None
                )
                allowed = persona in MATRIX[name]
                if allowed == _denied(response):
                    expected = "allowed" if allowed else "denied"
                    failures.append(
                        f"{method} {url} as {persona}: got {response.status_code}, expected {expected}"
                    )
    assert not failures, "\n".join(failures)


def test_a_shared_read_session_is_still_the_persona_after_every_read(app, persona_client):
    """The matrix reuses one session per persona for reads: no read may end it (or the matrix would see
    "denied" for the wrong reason)."""
    client = persona_client("office")
    for _name, path, methods, _endpoint in all_routes(app):
        if "GET" in methods:
            persona_client("office").get(fill_path(path))
    assert persona_client("office").get("/members/").status_code == 200
    assert client is persona_client("office")


#: The routes exempt from CSRF, each because it is verified another way: Stripe's webhook by its signature
#: (tests/events/test_card_payments.py proves a wrong, tampered or replayed one refused).
SIGNED = {"payments:webhook"}


def test_the_signed_routes_are_exactly_the_documented_exemptions(app):
    signed = {name for name, _p, _m, endpoint in all_routes(app) if getattr(endpoint.access, "signed", False)}
    assert signed == SIGNED


def test_every_unsafe_route_refuses_a_request_without_a_valid_csrf_token(app, client, admin):
    from support import login

    login(client, "admin@example.org")
    unsafe = [
        (n, p, m)
        for n, p, ms, _ in all_routes(app)
        for m in ms
        if m not in ("GET", "HEAD") and n not in SIGNED
    ]
    assert unsafe, "no unsafe routes found"
    for name, path, method in unsafe:
        url = fill_path(path)
        missing = client.request(method, url, data={"x": "1"})
        wrong = client.request(method, url, data={"csrf_token": "0" * 64})
        for response in (missing, wrong):
            assert response.status_code == 403, (
                f"{method} {url} ({name}) accepted a request without a valid token"
            )
            assert "expired" in response.text


def test_a_valid_token_from_another_origin_is_refused(client, admin):
    response = client.post(
        "/login",
        data={"csrf_token": csrf_token(client), "email": "admin@example.org", "password": "x"},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert "another site" in response.text


def test_htmx_requests_carry_the_token_in_a_header(client, admin):
    response = client.post(
        "/login",
        data={"email": "admin@example.org", "password": "wrong password"},
        headers={"X-CSRF-Token": csrf_token(client), "HX-Request": "true"},
    )
    assert response.status_code == 422
