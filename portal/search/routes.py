"""Search's pages (`/search`, named `search:results`) and the web's conventions for robots: `/sitemap.xml`
(every document of the index, so published pages and events past and to come, with the portal's own public
pages) and `/robots.txt` (staff and account areas kept out, the sitemap named)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from starlette.responses import PlainTextResponse, Response
from starlette.routing import NoMatchFound, Route

from portal.accounts.access import page
from portal.search import service
from portal.web.caching import revalidated
from portal.web.context import Ctx
from portal.web.forms import whole_number

PAGE_SIZE = 10
#: The most pages of hits one may walk (10 a page): a query with more is asked to be narrowed.
MAX_PAGES = 50
#: The portal's own public pages that belong in the sitemap beside the index's documents.
PUBLIC_ROUTES = (
    "home",
    "events:calendar",
    "team:index",
    "contact:form",
    "complaints:page",
    "elections:archive",
    "register:index",
    "register:removals",
    "register:directory",
)
#: What robots are asked to leave alone: staff pages, accounts, private links, APIs.
PRIVATE_PREFIXES = (
    "/account/",
    "/activate",
    "/api/",
    "/audit",
    "/badge/",
    "/checkin",
    "/complaints/cases",
    "/contact/enquiries",
    "/door/",
    "/elections/manage",
    "/elections/vote/",
    "/elections/nominations/",
    "/events/booking/",
    "/events/manage",
    "/events/mine",
    "/forgot-password",
    "/login",
    "/me$",
    "/me/",
    "/members/",
    "/metrics",
    "/my/",
    "/outbox",
    "/password/",
    "/register/expiring",
    "/register/export",
    "/register/manage",
    "/search",
    "/setup",
    "/site/pages",
    "/site/redirects",
    "/society",
    "/staff",
    "/team/manage",
)


@page("public")
def results(ctx: Ctx) -> Response:
    raw = ctx.query.get("q", "")
    number = whole_number(ctx.query.get("page", "1"), maximum=MAX_PAGES) or 1
    found = service.search(ctx.db, raw, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    last = min(MAX_PAGES, max(1, -(-found.total // PAGE_SIZE)))
    return revalidated(
        ctx,
        ctx.render(
            "search/results.html",
            {
                "search_page": True,
                "max_words": service.MAX_WORDS,
                "max_query": service.MAX_QUERY,
                "q": raw[: service.MAX_QUERY],
                "found": found,
                "number": number,
                "last": last,
                "kinds": service.KINDS,
                "first_shown": found.offset + 1,
                "last_shown": found.offset + len(found.hits),
            },
        ),
    )


def _route_paths(ctx: Ctx) -> list[str]:
    paths = []
    for name in PUBLIC_ROUTES:
        try:
            paths.append(ctx.url_for(name))
        except NoMatchFound:
            continue
    return paths


@page("public")
def sitemap(ctx: Ctx) -> Response:
    base = ctx.settings.base_url.rstrip("/")
    entries = dict.fromkeys(_route_paths(ctx), "")
    for url, changed in service.listed(ctx.db):
        entries[url] = changed.date().isoformat()
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    for url, lastmod in entries.items():
        lines.append(
            f"  <url><loc>{escape(base + url)}</loc>"
            + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "")
            + "</url>"
        )
    lines.append("</urlset>")
    return Response("\n".join(lines) + "\n", media_type="application/xml")


@page("public", before_setup=True)
def robots(ctx: Ctx) -> Response:
    lines = ["User-agent: *", *(f"Disallow: {prefix}" for prefix in PRIVATE_PREFIXES)]
    lines += ["", f"Sitemap: {ctx.settings.base_url.rstrip('/')}{ctx.url_for('search:sitemap')}"]
    return PlainTextResponse("\n".join(lines) + "\n")


routes = [
    Route("/search", results, name="results"),
    Route("/sitemap.xml", sitemap, name="sitemap"),
    Route("/robots.txt", robots, name="robots"),
]
