"""What every response carries: security headers, error pages that leak nothing, JSON errors under /api."""

from __future__ import annotations

from starlette.routing import Route
from support import login


def test_pages_carry_the_security_headers(client, admin):
    response = client.get("/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in response.headers
    assert response.headers["x-request-id"]


def test_hsts_is_sent_when_the_base_url_is_https(settings, clock, database):
    from dataclasses import replace

    from starlette.testclient import TestClient

    from portal.app import create_app

    app = create_app(replace(settings, base_url="https://portal.example"), clock=clock, database=database)
    with TestClient(app, base_url="https://portal.example") as client:
        assert "max-age" in client.get("/healthz").headers["strict-transport-security"]


def test_cookies_are_secure_and_host_prefixed_over_https(settings, clock, database, admin):
    from dataclasses import replace

    from starlette.testclient import TestClient

    from portal.app import create_app

    app = create_app(replace(settings, base_url="https://portal.example"), clock=clock, database=database)
    with TestClient(app, base_url="https://portal.example") as client:
        cookie = client.get("/login").headers["set-cookie"]
    assert cookie.startswith("__Host-portal_csrf=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_unknown_page_gets_a_helpful_404(client, admin):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "There is nothing at this address" in response.text
    assert "Traceback" not in response.text


def test_api_errors_are_json_with_a_stable_code(client, admin):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": response.json()["error"]["message"]}}


def test_a_crash_shows_a_plain_500_and_leaks_nothing(app, admin):
    from starlette.testclient import TestClient

    def explode(request):
        raise RuntimeError("secret internals: password=hunter2")

    app.router.routes.insert(0, Route("/explode", explode))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/explode")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "hunter2" not in response.text and "RuntimeError" not in response.text


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up"}


def test_healthz_says_503_when_the_database_is_gone(app, client, database):
    database.engine.dispose()
    database.engine.url  # noqa: B018 - keep the object; point it at nowhere below
    from portal.db import Database

    app.state.db = Database("postgresql://nobody@127.0.0.1:1/none")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "down"


def test_healthz_answers_while_every_request_thread_is_busy(app, database):
    """In a rush every request thread may be taken: the health check answers on the loop, without one."""
    import asyncio

    import anyio
    import httpx2 as httpx
    from support import run_on_own_loop

    async def scenario():
        limiter = anyio.to_thread.current_default_thread_limiter()
        holders = [object() for _ in range(int(limiter.total_tokens))]
        for holder in holders:
            await limiter.acquire_on_behalf_of(holder)
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                page = asyncio.create_task(client.get("/login"))
                health = await asyncio.wait_for(client.get("/healthz"), timeout=5)
                queued = not page.done()
        finally:
            for holder in holders:
                limiter.release_on_behalf_of(holder)
        return health, queued, await page

    health, queued, page = run_on_own_loop(scenario)
    assert health.status_code == 200 and health.json()["database"] == "up"
    assert queued, "the page should still be waiting for a thread when /healthz answered"
    assert page.status_code < 400  # answered once the threads were free (a redirect to set-up here)


def test_request_log_names_the_route_not_the_path(client, admin, caplog):
    caplog.set_level("INFO", logger="portal.access")
    client.get("/password/SECRET-TOKEN-VALUE-123")
    lines = [r.getMessage() for r in caplog.records if r.name == "portal.access"]
    assert any('"route": "/password/{token}"' in line for line in lines)
    assert not any("SECRET-TOKEN-VALUE" in line for line in lines)


def test_home_shows_staff_links_by_role(client, admin):
    login(client, "admin@example.org")
    page = client.get("/").text
    assert "Staff accounts" in page and "Audit log" in page


def test_a_database_outage_gets_a_clear_503_with_retry_after(app, client, admin):
    from portal.db import Database

    login(client, "admin@example.org")
    app.state.db = Database("postgresql://nobody@127.0.0.1:1/none")
    response = client.get("/audit")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert "cannot reach its database" in response.text


def test_a_missing_table_is_a_500_with_its_traceback_logged_not_a_503(app, admin, database, caplog):
    """Only an unreachable database is "briefly unavailable": a table that is not there is a fault of ours
    (a migration not run), and saying "try again in a moment" would hide it."""
    import sqlalchemy as sa
    from starlette.testclient import TestClient

    caplog.set_level("ERROR", logger="portal.errors")
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        login(client, "admin@example.org")
        with database.engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE audit_events RENAME TO audit_events_gone"))
        try:
            response = client.get("/audit")
        finally:
            with database.engine.begin() as conn:
                conn.execute(sa.text("ALTER TABLE audit_events_gone RENAME TO audit_events"))
    assert response.status_code == 500
    assert "Something went wrong" in response.text and "cannot reach its database" not in response.text
    assert "retry-after" not in response.headers
    assert any(r.exc_info and "audit_events" in str(r.exc_info[1]) for r in caplog.records)
