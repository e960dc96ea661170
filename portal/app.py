"""`create_app(settings)`: the one place where middleware, routes and resources are put together."""

from __future__ import annotations

import contextlib
import functools
import gc
import hmac
import logging
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

import portal.models  # noqa: F401 - registers every table, so foreign keys across domains resolve
from portal import audit, ops, privacy
from portal.accounts import access
from portal.accounts import routes as accounts_routes
from portal.accounts.access import AccessSpec, system_clock
from portal.accounts.passwords import Passwords
from portal.accounts.service import Principal
from portal.accreditation import application_routes as accreditation_application_routes
from portal.accreditation import audit_routes as accreditation_audit_routes
from portal.accreditation import cpd_routes as accreditation_cpd_routes
from portal.accreditation import reaccreditation
from portal.accreditation import review_routes as accreditation_review_routes
from portal.accreditation import routes as accreditation_routes
from portal.checkin import badging as checkin_badging
from portal.checkin import routes as checkin_routes
from portal.checkin.caches import DoorState
from portal.checkin.devices import device_loader
from portal.complaints import routes as complaints_routes
from portal.contact import routes as contact_routes
from portal.db import BACKGROUND_THREADS, Database
from portal.elections import routes as elections_routes
from portal.elections import tasks as election_tasks
from portal.elections import voting_routes
from portal.events import card_routes, cards, invoices, notify
from portal.events import catalogue as events_catalogue
from portal.events import routes as events_routes
from portal.events import tasks as events_tasks
from portal.events.links import Links as EventLinks
from portal.home import routes as home_routes
from portal.mail import routes as mail_routes
from portal.mail import sender as mail_sender
from portal.members import routes as members_routes
from portal.members import selfservice_routes
from portal.membership import leaving_routes, renewal_routes, renewals, report_routes
from portal.membership import routes as membership_routes
from portal.register import directory_routes as register_directory_routes
from portal.register import routes as register_routes
from portal.search import routes as search_routes
from portal.search import service as search_service
from portal.settings import Settings
from portal.site import news, news_routes
from portal.site import routes as site_routes
from portal.site import service as site_service
from portal.society import routes as society_routes
from portal.team import routes as team_routes
from portal.training import routes as training_routes
from portal.training import service as training_service
from portal.web import boundary, periodic
from portal.web.errors import (
    PortalError,
    database_unavailable_handler,
    http_exception_handler,
    portal_error_handler,
    server_error_handler,
)
from portal.web.hooks import AttachmentSource, Hooks
from portal.web.middleware import BodySizeLimit, RequestLog, SecurityHeaders
from portal.web.routing import RouteIndex, namespaced
from portal.web.templating import make_templates

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"

log = logging.getLogger("portal")
#: The largest request accepted: a roll CSV or a candidate's photo fits well inside it.
MAX_BODY_BYTES = 12 * 1024 * 1024
#: Deleting what has passed its retention is due by the day; once an hour is plenty.
PURGE_INTERVAL_SECONDS = 3600.0


def search_sources() -> dict[str, search_service.Source]:
    """Every room's public documents, by kind: what `portal search rebuild` makes the index from. A room that
    adds documents to the index (news posts, courses) adds its source here."""
    return {
        "page": site_service.search_documents,
        "event": events_catalogue.search_documents,
        "news": news.search_documents,
        "course": training_service.search_documents,
    }


async def healthz(request: Request) -> Response:
    """For load balancers: 200 when the database answers, 503 when it does not. Public and cheap.

    Answered on the event loop, never behind the request threads: in a rush all of them may be busy, and a
    check that queues for one says the process is down when it is only full. Its `SELECT 1` is a read (it
    never waits for SQLite's writer) over the connection the pool keeps for the loop's own work
    (`db.EXTRA_CONNECTIONS`, shared with the door's inline scan: the loop runs one of them at a time)."""
    try:
        request.app.state.db.ping()
    except Exception:
        log.warning("health check failed", exc_info=True)
        return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "up"})


healthz.access = AccessSpec(("public",), kind="api", before_setup=True)  # type: ignore[attr-defined]


async def metrics(request: Request) -> Response:
    """Prometheus text format, for a monitoring system holding PORTAL_METRICS_TOKEN; absent otherwise."""
    from starlette.concurrency import run_in_threadpool

    token = request.app.state.settings.metrics_token
    if token is None:
        return JSONResponse(
            {"error": {"code": "not_found", "message": "Metrics are not enabled."}}, status_code=404
        )
    sent = request.headers.get("authorization", "")
    if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return JSONResponse(
            {"error": {"code": "not_authenticated", "message": "Send the metrics token as a Bearer token."}},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    def gather() -> str:
        state = request.app.state
        with state.db.session(write=False) as session:
            gauges = ops.collect_gauges(session, state.clock(), state.hooks.gauges)
        return state.metrics.render(gauges)

    body = await run_in_threadpool(gather)
    return PlainTextResponse(body, media_type="text/plain; version=0.0.4")


metrics.access = AccessSpec(("public",), kind="api", before_setup=True)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class NavItem:
    label: str
    route: str
    allow: tuple[str, ...]
    description: str = ""


#: The main navigation; each entry shows only to those its access words admit.
NAV: list[NavItem] = [
    NavItem("Staff accounts", "accounts:staff", ("admin",), "Add staff, set their roles, disable accounts."),
    NavItem("Audit log", "accounts:audit", ("admin",), "Every staff action, hash-chained."),
    NavItem("My account", "me:account", ("member",), "Your details from the roll, your e-mail address."),
    NavItem("Members", "members:list", ("office",), "The membership roll: search, import, export, history."),
    NavItem(
        "Applications",
        "membership:applications",
        ("office",),
        "People applying to join: ask for more, approve, reject; first fees.",
    ),
    NavItem("Outbox", "mail:outbox", ("office",), "Every e-mail the portal sends, and its delivery."),
    NavItem("Committees", "team:manage", ("office",), "Meet the Team: committees, people, posts, photos."),
    NavItem(
        "Enquiries", "contact:enquiries", ("office",), "Messages sent through Contact us: reply, note, close."
    ),
    NavItem(
        "Complaints",
        "complaints:cases",
        ("complaints", "admin"),
        "Complaints cases: stages, targets, letters.",
    ),
    NavItem("Elections", "elections:index", ("member",), "Nominate candidates, vote, and see the results."),
    NavItem("Events", "events:calendar", ("authenticated",), "Conferences, meetings, training: book."),
    NavItem("Manage events", "events:manage", ("office",), "Set up events; bookings, payments, waitlists."),
    NavItem(
        "Website", "site:pages", ("editor", "office"), "The site's pages and menu: edit, publish, restore."
    ),
    NavItem(
        "Training courses",
        "training:manage",
        ("editor", "office"),
        "The courses' pages and the list of external CPD courses.",
    ),
    NavItem(
        "Accreditation",
        "accreditation:manage",
        ("accreditation", "admin"),
        "The levels of accreditation and their standards.",
    ),
    NavItem(
        "Register",
        "register:manage",
        ("complaints", "accreditation", "admin"),
        "The public register: statuses after complaints, accreditations ending, the regulator's export.",
    ),
    NavItem(
        "Check-in", "checkin:index", ("door", "office"), "Door scanner, live attendance, badges to print."
    ),
    NavItem(
        "Run elections",
        "elections:manage",
        ("returning_officer", "scrutineer"),
        "Set up elections, check nominations, watch turnout.",
    ),
]


def _nav_function(app: Starlette) -> Callable[..., list[dict[str, Any]]]:
    specs = [(item, AccessSpec(item.allow, kind="page")) for item in NAV]

    def nav(principal: Principal | None, path: str = "") -> list[dict[str, Any]]:
        """The entries this person may use; the one whose address is the longest start of `path` is current
        (on /events/manage, "Manage events" and not "Events")."""
        items: list[dict[str, Any]] = [
            {"label": item.label, "url": app.url_path_for(item.route), "description": item.description}
            for item, spec in specs
            if principal is not None and spec.allows(principal)
        ]
        matching = [i for i in items if path == i["url"] or path.startswith(i["url"].rstrip("/") + "/")]
        current = max(matching, key=lambda i: len(i["url"]), default=None)
        for item in items:
            item["current"] = item is current
        return items

    return nav


def build_routes() -> list[BaseRoute]:
    return [
        *home_routes.routes,
        Route("/healthz", healthz, name="healthz"),
        Route("/metrics", metrics, name="metrics"),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        *namespaced("accounts", accounts_routes.routes),
        *namespaced("me", selfservice_routes.routes),
        *namespaced("mail", mail_routes.routes),
        Mount("/members", routes=members_routes.routes, name="members"),
        Mount(
            "/membership",
            routes=[
                *membership_routes.routes,
                *renewal_routes.routes,
                *report_routes.routes,
                *leaving_routes.routes,
            ],
            name="membership",
        ),
        Mount("/elections", routes=elections_routes.routes, name="elections"),
        *namespaced("events", events_routes.routes),
        *namespaced("payments", card_routes.routes),
        *namespaced("checkin", checkin_routes.routes),
        *namespaced("society", society_routes.routes),
        *namespaced("contact", contact_routes.routes),
        *namespaced("complaints", complaints_routes.routes),
        *namespaced("team", team_routes.routes),
        *namespaced("training", training_routes.routes),
        *namespaced("accreditation", accreditation_routes.routes),
        *namespaced("accreditation", accreditation_cpd_routes.routes),
        *namespaced("accreditation", accreditation_audit_routes.routes),
        *namespaced("accreditation", accreditation_application_routes.routes),
        *namespaced("accreditation", accreditation_review_routes.routes),
        *namespaced("register", register_routes.routes),
        *namespaced("register", register_directory_routes.routes),
        *namespaced("site", site_routes.routes),
        *namespaced("site", news_routes.routes),
        *namespaced("search", search_routes.routes),
        # Last: a published page's address (/about-ipt/mission-vision) never hides one of the routes above.
        *namespaced("site", site_routes.page_routes),
    ]


def size_threads(settings: Settings) -> anyio.CapacityLimiter:
    """Size the running loop's thread limiter, which every request handler's hop to a thread goes through, to
    PORTAL_THREADS, and give back the background work's own limiter (the outbox sender and the periodic jobs):
    together they never want more connections than the pool holds (`db.connections_for`)."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
    return anyio.CapacityLimiter(BACKGROUND_THREADS)


def periodic_jobs(app: Starlette) -> list[periodic.Job]:
    """What runs beside the app, and how often (every job is idempotent and safe across workers)."""
    return [
        periodic.Job(
            "elections",
            election_tasks.INTERVAL_SECONDS,
            functools.partial(election_tasks.run_once, app),
            error_pause=election_tasks.ERROR_PAUSE_SECONDS,
        ),
        periodic.Job("events", events_tasks.INTERVAL_SECONDS, functools.partial(events_tasks.run_once, app)),
        periodic.Job("renewals", renewals.INTERVAL_SECONDS, functools.partial(renewals.run_once, app)),
        periodic.Job(
            "reaccreditation",
            reaccreditation.INTERVAL_SECONDS,
            functools.partial(reaccreditation.run_once, app),
        ),
        periodic.Job("cards", cards.RECONCILE_SECONDS, functools.partial(cards.run_once, app)),
        periodic.Job("erasure", privacy.INTERVAL_SECONDS, functools.partial(privacy.run_once, app)),
        periodic.Job("purge", PURGE_INTERVAL_SECONDS, functools.partial(_purge_once, app)),
    ]


def _purge_once(app: Starlette) -> dict[str, int]:
    removed = ops.purge(app.state.db, app.state.settings, now=app.state.clock())
    if any(removed.values()):
        log.info("purge: %s", ", ".join(f"{n} from {table}" for table, n in removed.items() if n))
    return removed


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = system_clock,
    database: Database | None = None,
) -> Starlette:
    """Build the portal. `clock` lets tests move time; `database` lets them share an engine."""
    logging.getLogger("portal").setLevel(settings.log_level)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The outbox sender runs with the app (when settings.run_mail_worker) and stops before the engine.
        # What is loaded at start lives as long as the process: keep the collector from walking it again and
        # again (full collections were the long pauses in the door benchmark's tail).
        gc.collect()
        gc.freeze()
        background = size_threads(settings)
        async with (
            mail_sender.running(
                app.state.db,
                settings,
                clock=clock,
                limiter=background,
                sources=app.state.hooks.attachments,
            ),
            periodic.running(periodic_jobs(app) if settings.run_mail_worker else (), limiter=background),
        ):
            yield
        app.state.db.dispose()

    app = Starlette(
        debug=False,
        routes=build_routes(),
        middleware=[
            Middleware(RequestLog),
            Middleware(SecurityHeaders, hsts=settings.base_url.startswith("https://")),
            Middleware(BodySizeLimit, limit=MAX_BODY_BYTES),
        ],
        exception_handlers={
            HTTPException: http_exception_handler,
            PortalError: portal_error_handler,
            OperationalError: database_unavailable_handler,
            Exception: server_error_handler,
        },
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.db = database or Database(
        settings.database_url, audit_key=audit.chain_key(settings.key_bytes()), threads=settings.threads
    )
    if app.state.db.threads < settings.threads:
        raise ValueError(
            f"The database's pool is sized for {app.state.db.threads} threads, the app runs {settings.threads}: "
            "build it with Database(..., threads=settings.threads)."
        )
    # Links are made by name through one index of the routes (built once: they do not change after this).
    app.state.route_index = RouteIndex(app.routes)
    app.state.templates = make_templates(TEMPLATES)
    app.state.templates.env.globals["nav"] = _nav_function(app)
    app.state.templates.env.globals["site_chrome"] = site_routes.chrome
    app.state.passwords = Passwords(fast=settings.env == "test")
    app.state.metrics = ops.Metrics()
    app.state.setup_done = threading.Event()
    app.state.society_name = None
    app.state.checkin = DoorState()
    # What the request boundary needs of the domains: the login loader (scanner devices authenticate with a
    # bearer token), the society check, the activity stamp, the upload allowance.
    app.state.wiring = access.wiring(
        key=settings.key_bytes(),
        idle_minutes=settings.session_idle_minutes,
        devices=device_loader,
    )
    app.state.touches = boundary.Touches()
    app.state.hooks = build_hooks(settings, app.state.route_index.url_path_for)
    return app


def build_hooks(settings: Settings, path_for: Callable[..., Any]) -> Hooks:
    """What each domain adds to another's pages and e-mails, in the order shown, and what draws the attachments
    the outbox holds by reference (`path_for` makes the links a calendar file carries)."""
    key = settings.key_bytes()
    return Hooks(
        my_account=(
            renewal_routes.my_membership,
            events_routes.my_registrations_section,
            checkin_routes.my_badges_section,
            voting_routes.my_elections,
            accreditation_application_routes.accreditation_section,
            accreditation_cpd_routes.cpd_section,
            register_directory_routes.my_profile_section,
        ),
        things_to_do=(
            voting_routes.votes_to_cast,
            events_routes.bookings_to_act_on,
            renewal_routes.renewal_to_do,
            accreditation_application_routes.reaccreditation_to_do,
        ),
        confirmation=(checkin_badging.confirmation_extra(key),),
        gauges=ops.GAUGES,
        member_staff=(
            renewal_routes.member_renewals_section,
            complaints_routes.member_cases_section,
            accreditation_cpd_routes.member_levels_section,
            register_routes.member_register_section,
        ),
        course_page=(events_routes.course_dates_section,),
        member_exporters=privacy.EXPORTERS,
        member_erasers=privacy.ERASERS,
        attachments={
            "invoice": invoices.draw_pdf,
            "calendar": notify.calendar_source(EventLinks(settings.base_url, path_for, key=key)),
            "badge": checkin_badging.badge_source(key),
        },
    )


def attachment_sources(settings: Settings) -> Mapping[str, AttachmentSource]:
    """What draws the outbox's referenced attachments, for a sender outside the app (`portal mail
    send-pending`): the links from the app's routes, without an app."""
    return build_hooks(settings, RouteIndex(build_routes()).url_path_for).attachments


def app_from_env() -> Starlette:
    """The uvicorn factory used by `portal serve` (each worker process builds its own app)."""
    return create_app(Settings.from_env())
