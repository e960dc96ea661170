"""The website: staff's page editor (`/site/pages/...`, named `site:*`), attachments, and the published pages
at their own addresses (`/<path>`, `site:page`, mounted after every other route so it never shadows one).

`chrome(ctx, request)` is what `base.html` puts around every page: the header menu from the page tree and the
footer (its pages and the society's details). Staff who edit pages are `editor`s, office staff and
administrators.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route

from portal.accounts.access import page
from portal.accounts.acting import actor
from portal.errors import NotFound, PortalError
from portal.site import faq, files, seed, service
from portal.site.models import KINDS, STATUSES, Page
from portal.society import service as society_service
from portal.web.caching import revalidated
from portal.web.context import Ctx, path_for
from portal.web.forms import FormReader, whole_number
from portal.web.meta import share

EDITORS = ("editor", "office")
Errors = dict[str, str]


def is_editor(ctx: Ctx) -> bool:
    return ctx.principal is not None and ctx.principal.has(*EDITORS)


# --- what the portal's own routes hold (a page may not hide them) -------------------------------------------


def reserved_segments(routes: list[BaseRoute]) -> frozenset[str]:
    """The first segment of every address the app serves (`events` for /events and /events.ics), through
    mounts; the site's own catch-all has none."""
    found: set[str] = set()
    for route in routes:
        first = getattr(route, "path", "").strip("/").split("/", 1)[0]
        if "{" in first:
            continue
        if first:
            found |= {first, first.split(".", 1)[0]}
        elif isinstance(route, Mount):
            found |= reserved_segments(list(route.routes))
    return frozenset(found)


def _reserved(ctx: Ctx) -> frozenset[str]:
    state = ctx.request.app.state
    cached = getattr(state, "site_reserved", None)
    if cached is None:
        cached = reserved_segments(list(ctx.request.app.routes))
        state.site_reserved = cached
    return frozenset(cached)


# --- the menu and the footer around every page --------------------------------------------------------------


@dataclass
class MenuItem:
    id: int
    title: str
    url: str
    current: bool = False
    in_path: bool = False
    children: list[MenuItem] = field(default_factory=list)


@dataclass
class Chrome:
    menu: list[MenuItem]
    footer: list[dict[str, str]]
    #: The society's details (SOCIETY_FIELDS), None before first-run setup.
    society: dict[str, str] | None
    #: The header menu already rendered (`site/_menu.html`), when it came from the cache.
    menu_html: Markup | None = None


def link_url(request: Request, link: str) -> str:
    target = service.link_route(link)
    if target is None:
        return link
    name, query = target
    return path_for(request, name) + (f"?{query}" if query else "")


class MenuCache:
    """The header menu rendered once per tree version and page: it is the same HTML for every visitor of one
    address until the tree changes (drafts are never in it), and building and rendering it was most of a
    page's time. Bounded, oldest out first: a 404 page's address is a key too."""

    SIZE = 512

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._html: OrderedDict[Hashable, Markup] = OrderedDict()

    def get(self, key: Hashable) -> Markup | None:
        with self._lock:
            found = self._html.get(key)
            if found is not None:
                self._html.move_to_end(key)
            return found

    def put(self, key: Hashable, html: Markup) -> None:
        with self._lock:
            self._html[key] = html
            self._html.move_to_end(key)
            while len(self._html) > self.SIZE:
                self._html.popitem(last=False)


def page_url(path: str) -> str:
    return "/" + path


def _items(request: Request, nodes: list[service.Node], here: str) -> list[MenuItem]:
    items = []
    for node in nodes:
        url = link_url(request, node.link) if node.link else page_url(node.path)
        item = MenuItem(node.id, node.title, url, current=(url.rstrip("/") or "/") == here)
        item.children = _items(request, node.children, here)
        item.in_path = item.current or any(c.in_path for c in item.children)
        items.append(item)
    return items


@dataclass(frozen=True)
class _Known:
    """What the last page read of the tree and the society: error pages show it without the database."""

    nodes: list[service.Node]
    society: dict[str, str] | None


def _here(request: Request) -> str:
    return request.url.path.rstrip("/") or "/"


def _build(request: Request, known: _Known, *, with_menu: bool = True) -> Chrome:
    here = _here(request)
    menu = _items(request, [n for n in known.nodes if n.in_menu], here) if with_menu else []
    by_path = {n.path: n for n in service.flatten(known.nodes)}
    footer = [
        {"title": node.title, "url": link_url(request, node.link) if node.link else page_url(node.path)}
        for node in (by_path.get(p) for p in seed.FOOTER_PATHS)
        if node is not None
    ]
    return Chrome(menu=menu, footer=footer, society=known.society)


def chrome(ctx: Ctx | None, request: Request) -> Chrome:
    """The menu and footer for this page (what visitors see: drafts are left out for everyone). The tree is read
    again only when its version (`service.freshness`, with the footer's society row) says it changed (by any
    worker), so a page costs one small query. An error page has no request transaction and may be showing that
    the database failed: it shows what the last page read, without asking the database again."""
    state = request.app.state
    if ctx is None:
        known = getattr(state, "site_known", None)
        return _build(request, known) if known is not None else Chrome(menu=[], footer=[], society=None)
    version, society = service.freshness(ctx.db, society_service.SOCIETY_FIELDS)
    cached = getattr(state, "site_tree", None)
    if cached is None or cached[0] != version:
        cached = (version, service.tree(ctx.db, include_drafts=False))
        state.site_tree = cached
    known = _Known(nodes=cached[1], society=society)
    state.site_known = known
    menus: MenuCache | None = getattr(state, "site_menus", None)
    if menus is None:
        menus = state.site_menus = MenuCache()
    # The address (its current entry) and the base URL (the script tag is absolute) are in the key.
    key = (version, _here(request), str(request.base_url))
    html = menus.get(key)
    if html is not None:
        return Chrome(**{**vars(_build(request, known, with_menu=False)), "menu_html": html})
    built = _build(request, known)
    template = state.templates.env.get_template("site/_menu.html")
    built.menu_html = Markup(template.render(chrome=built, request=request))  # noqa: S704 - autoescaped template
    menus.put(key, built.menu_html)
    return built


# --- the published pages ------------------------------------------------------------------------------------


def _crumbs(ctx: Ctx, found: Page) -> list[dict[str, str]]:
    trail = [{"title": "Home", "url": "/"}]
    for above in service.ancestors(ctx.db, found):
        if above.is_home:
            continue
        trail.append(
            {
                "title": above.title,
                "url": link_url(ctx.request, above.link) if above.link else page_url(above.path),
            }
        )
    return trail


def _served_with_a_slash(ctx: Ctx, path: str) -> bool:
    """Whether one of the portal's own routes serves `/<path>/` (a mounted room's index, like /elections/).
    Starlette would redirect there itself, but the site's catch-all is reached first."""
    if path.split("/", 1)[0] not in _reserved(ctx):
        return False
    scope = {**ctx.request.scope, "path": f"/{path}/"}
    return any(
        route.matches(scope)[0] != Match.NONE
        for route in ctx.request.app.router.routes
        if getattr(route, "name", None) != "site:page"
    )


@page("public")
def public_page(ctx: Ctx) -> Response:
    path = ctx.params["path"]
    if path.endswith("/") and path.strip("/"):
        return RedirectResponse("/" + path.strip("/"), status_code=301)
    if _served_with_a_slash(ctx, path):
        query = ctx.request.url.query
        return RedirectResponse(f"/{path}/" + (f"?{query}" if query else ""), status_code=307)
    try:
        found = service.page_at(ctx.db, path, include_drafts=is_editor(ctx))
    except NotFound:
        # A menu entry that leads elsewhere has an address in the tree too: it sends the visitor on (not
        # permanently: editors may change where it leads).
        link = service.link_at(ctx.db, path)
        if link is not None:
            return RedirectResponse(link_url(ctx.request, link), status_code=302)
        # An address of the old site (its list is kept by editors) leads to where the page is now.
        target = service.redirect_for(ctx.db, "/" + path)
        if target is None:
            raise
        return RedirectResponse(target, status_code=301)
    if found.is_home:
        return RedirectResponse("/", status_code=301)
    below = service.children(ctx.db, found, include_drafts=is_editor(ctx))
    response = ctx.render(
        "site/page.html",
        {
            "share": share(ctx, title=found.title, description=found.summary),
            "page": found,
            "faq": faq.parse(found.body) if found.kind == "faq" else None,
            "crumbs": _crumbs(ctx, found),
            "below": [
                {
                    "title": c.title,
                    "summary": c.summary,
                    "url": link_url(ctx.request, c.link) if c.link else page_url(c.path),
                }
                for c in below
            ],
            "editor": is_editor(ctx),
        },
    )
    return revalidated(ctx, response)


# --- staff: the editor --------------------------------------------------------------------------------------


def _parent_options(ctx: Ctx, exclude: int | None) -> list[tuple[str, str]]:
    options = []
    for node in service.flatten(service.tree(ctx.db, include_drafts=True)):
        options.append((str(node.id), "\u2014 " * node.depth + node.title))
    if exclude is not None:
        branch = _branch(ctx, exclude)
        options = [(k, v) for k, v in options if int(k) not in branch]
    return options


def _branch(ctx: Ctx, page_id: int) -> set[int]:
    for node in service.flatten(service.tree(ctx.db, include_drafts=True)):
        if node.id == page_id:
            return {n.id for n in service.flatten([node])}
    return {page_id}


def _read_page_form(
    raw: Mapping[str, Any] | None, parents: list[tuple[str, str]]
) -> tuple[dict[str, Any], Errors]:
    form = FormReader(raw)
    values: dict[str, Any] = {
        "title": form.text("title", label="the page's title", max_length=200),
        "slug": form.text("slug", label="the address", required=False, max_length=service.MAX_SLUG).lower(),
        "parent_id": form.choice(
            "parent_id", [k for k, _ in parents], label="the page above", required=False
        ),
        "position": form.raw("position"),
        "summary": form.text("summary", label="the summary", required=False, max_length=500),
        "body": form.text("body", label="the text", required=False, max_length=100_000),
        "link": form.text("link", label="the link", required=False, max_length=300),
        "status": form.choice("status", list(STATUSES), label="draft or published"),
        "in_menu": form.checkbox("in_menu"),
        "kind": form.choice("kind", list(KINDS), label="what kind of page", required=False) or "page",
        "base_revision": form.raw("base_revision"),
    }
    if not values["slug"] and values["title"]:
        values["slug"] = service.slugify(values["title"])
    if values["position"] and whole_number(values["position"], maximum=10_000) is None:
        form.error("position", "Enter the position as a whole number from 0 to 10000, or leave it empty.")
    return values, form.errors


def _page_values(values: Mapping[str, Any]) -> service.PageValues:
    return service.PageValues(
        title=values["title"],
        slug=values["slug"],
        parent_id=int(values["parent_id"]) if values["parent_id"] else None,
        position=whole_number(values["position"]) if values["position"] else None,
        summary=values["summary"],
        body=values["body"],
        link=values["link"],
        status=values["status"],
        in_menu=bool(values["in_menu"]),
        kind=values["kind"],
    )


#: Which field a refusal belongs beside.
_FIELD = {
    "bad_slug": "slug",
    "reserved_slug": "slug",
    "path_taken": "slug",
    "bad_parent": "parent_id",
    "bad_link": "link",
    "bad_status": "status",
    "bad_kind": "kind",
}


def _editor_context(ctx: Ctx, found: Page | None) -> dict[str, Any]:
    return {
        "page": found,
        "parents": _parent_options(ctx, found.id if found else None),
        "statuses": STATUSES,
        "kinds": KINDS,
        "link_routes": service.LINK_ROUTES,
        "attachments": service.attachments(ctx.db, found.id) if found else [],
        "accept": files.ACCEPT,
        "max_mb": files.MAX_BYTES // (1024 * 1024),
        "view_url": (page_url(found.path) if found and not found.link else None),
    }


@page(*EDITORS)
def pages(ctx: Ctx) -> Response:
    nodes = service.flatten(service.tree(ctx.db, include_drafts=True))
    return ctx.render(
        "site/pages.html",
        {
            "nodes": nodes,
            "urls": {n.id: link_url(ctx.request, n.link) if n.link else page_url(n.path) for n in nodes},
        },
    )


def _save(ctx: Ctx, found: Page | None) -> Response:
    parents = _parent_options(ctx, found.id if found else None)
    values, errors = _read_page_form(ctx.form, parents)
    preview = ctx.form is not None and ctx.form.get("action") == "preview"
    context = _editor_context(ctx, found)
    if not errors and not preview:
        try:
            with ctx.attempt():
                if found is None:
                    made = service.create_page(
                        ctx.db,
                        values=_page_values(values),
                        actor=actor(ctx),
                        now=ctx.now,
                        reserved=_reserved(ctx),
                    )
                    ctx.flash(f"The page \u201c{made.title}\u201d is saved.")
                    return ctx.redirect("site:page_edit", page_id=made.id)
                changed = service.update_page(
                    ctx.db,
                    page_id=found.id,
                    values=_page_values(values),
                    base_revision=whole_number(values["base_revision"]),
                    actor=actor(ctx),
                    now=ctx.now,
                    reserved=_reserved(ctx),
                )
        except PortalError as exc:
            errors = {_FIELD.get(exc.code, "title"): exc.message}
        else:
            ctx.flash(
                "The page is saved as a new version."
                if changed
                else "Nothing had changed: nothing was saved."
            )
            return ctx.redirect("site:page_edit", page_id=found.id)
    return ctx.render(
        "site/edit.html",
        {
            **context,
            "values": values,
            "errors": errors,
            "preview": preview and not errors,
            "preview_faq": faq.parse(values["body"]) if preview and values["kind"] == "faq" else None,
        },
        status_code=422 if errors else 200,
    )


@page(*EDITORS)
def page_new(ctx: Ctx) -> Response:
    if ctx.request.method == "POST":
        return _save(ctx, None)
    parent = ctx.query.get("parent", "")
    values = {"status": "draft", "in_menu": True, "parent_id": parent if whole_number(parent) else ""}
    return ctx.render("site/edit.html", {**_editor_context(ctx, None), "values": values, "errors": {}})


@page(*EDITORS)
def page_edit(ctx: Ctx) -> Response:
    found = service.get_page(ctx.db, ctx.params["page_id"])
    if ctx.request.method == "POST":
        return _save(ctx, found)
    values = {
        name: getattr(found, name)
        for name in ("title", "slug", "summary", "body", "link", "status", "in_menu", "position", "kind")
    }
    values["parent_id"] = str(found.parent_id or "")
    values["base_revision"] = found.revision
    return ctx.render("site/edit.html", {**_editor_context(ctx, found), "values": values, "errors": {}})


@page(*EDITORS)
def page_delete(ctx: Ctx) -> Response:
    found = service.get_page(ctx.db, ctx.params["page_id"])
    title = found.title
    service.delete_page(ctx.db, page_id=found.id, actor=actor(ctx), now=ctx.now)
    ctx.flash(f"The page \u201c{title}\u201d is deleted.")
    return ctx.redirect("site:pages")


@page(*EDITORS)
def history(ctx: Ctx) -> Response:
    found = service.get_page(ctx.db, ctx.params["page_id"])
    return ctx.render("site/history.html", {"page": found, "revisions": service.revisions(ctx.db, found.id)})


@page(*EDITORS)
def revision(ctx: Ctx) -> Response:
    found = service.get_page(ctx.db, ctx.params["page_id"])
    number = ctx.params["number"]
    shown = service.get_revision(ctx.db, found.id, number)
    before = service.get_revision(ctx.db, found.id, number - 1) if number > 1 else None
    return ctx.render(
        "site/revision.html",
        {"page": found, "shown": shown, "before": before, "changes": service.diff(before, shown)},
    )


@page(*EDITORS)
def restore(ctx: Ctx) -> Response:
    page_id, number = ctx.params["page_id"], ctx.params["number"]
    service.restore_revision(
        ctx.db, page_id=page_id, number=number, actor=actor(ctx), now=ctx.now, reserved=_reserved(ctx)
    )
    ctx.flash(f"Version {number} is restored, as a new version of the page.")
    return ctx.redirect("site:history", page_id=page_id)


@page(*EDITORS, uploads=(files.ATTACHMENT,))
def attachment_add(ctx: Ctx) -> Response:
    found = service.get_page(ctx.db, ctx.params["page_id"])
    upload = ctx.uploads.get("file")
    if upload is None or upload.error is not None:
        message = upload.error.message if upload and upload.error else "Choose a file to upload."
        context = _editor_context(ctx, found)
        values = {
            name: getattr(found, name)
            for name in ("title", "slug", "summary", "body", "link", "status", "in_menu", "position", "kind")
        }
        values["parent_id"] = str(found.parent_id or "")
        values["base_revision"] = found.revision
        return ctx.render(
            "site/edit.html",
            {**context, "values": values, "errors": {}, "file_error": message},
            status_code=422,
        )
    clean: files.CleanFile = upload.value
    made = service.add_attachment(
        ctx.db,
        page_id=found.id,
        filename=files.safe_filename(upload.filename, clean.extension),
        content_type=clean.content_type,
        data=clean.data,
        actor=actor(ctx),
        now=ctx.now,
    )
    ctx.flash(f"The file {made.filename} is uploaded. Link to it from the text with the address shown.")
    return ctx.redirect("site:page_edit", page_id=found.id)


@page(*EDITORS)
def attachment_remove(ctx: Ctx) -> Response:
    page_id = service.remove_attachment(
        ctx.db, attachment_id=ctx.params["attachment_id"], actor=actor(ctx), now=ctx.now
    )
    ctx.flash("The file is removed.")
    return ctx.redirect("site:page_edit", page_id=page_id)


@page("public")
def file(ctx: Ctx) -> Response:
    staff = is_editor(ctx)
    found = service.get_attachment(ctx.db, ctx.params["attachment_id"], include_drafts=staff)
    if ctx.params["filename"] != found.filename:
        raise NotFound("There is no such file.")
    public = service.get_page(ctx.db, found.page_id).is_published
    return Response(
        found.data,
        media_type=found.content_type,
        headers=files.headers(found.filename, found.content_type, public=public),
    )


# --- staff: the old site's addresses --------------------------------------------------------------------------


@page(*EDITORS)
def redirects(ctx: Ctx) -> Response:
    values = {"old_path": "", "target": ""}
    errors: Errors = {}
    status = 200
    if ctx.request.method == "POST":
        form = FormReader(ctx.form)
        values = {
            "old_path": form.text("old_path", label="the old address", max_length=400),
            "target": form.text("target", label="where it leads", max_length=400),
        }
        errors = form.errors
        if not errors:
            try:
                with ctx.attempt():
                    saved = service.save_redirect(
                        ctx.db,
                        old_path=values["old_path"],
                        target=values["target"],
                        actor=actor(ctx),
                        now=ctx.now,
                    )
            except PortalError as exc:
                errors = {"old_path" if exc.code == "bad_old_path" else "target": exc.message}
            else:
                ctx.flash(f"{saved.old_path} now leads to {saved.target}.")
                return ctx.redirect("site:redirects")
        status = 422
    return ctx.render(
        "site/redirects.html",
        {"redirects": service.redirects(ctx.db), "values": values, "errors": errors},
        status_code=status,
    )


@page(*EDITORS)
def redirect_delete(ctx: Ctx) -> Response:
    old = service.delete_redirect(
        ctx.db, redirect_id=ctx.params["redirect_id"], actor=actor(ctx), now=ctx.now
    )
    ctx.flash(f"{old} is no longer in the list: it answers \u201cnot found\u201d again.")
    return ctx.redirect("site:redirects")


routes = [
    Route("/site/pages", pages, name="pages"),
    Route("/site/redirects", redirects, methods=["GET", "POST"], name="redirects"),
    Route(
        "/site/redirects/{redirect_id:int}/delete", redirect_delete, methods=["POST"], name="redirect_delete"
    ),
    Route("/site/pages/new", page_new, methods=["GET", "POST"], name="page_new"),
    Route("/site/pages/{page_id:int}", page_edit, methods=["GET", "POST"], name="page_edit"),
    Route("/site/pages/{page_id:int}/delete", page_delete, methods=["POST"], name="page_delete"),
    Route("/site/pages/{page_id:int}/history", history, name="history"),
    Route("/site/pages/{page_id:int}/history/{number:int}", revision, name="revision"),
    Route(
        "/site/pages/{page_id:int}/history/{number:int}/restore", restore, methods=["POST"], name="restore"
    ),
    Route("/site/pages/{page_id:int}/files", attachment_add, methods=["POST"], name="attachment_add"),
    Route(
        "/site/files/{attachment_id:int}/remove",
        attachment_remove,
        methods=["POST"],
        name="attachment_remove",
    ),
    Route("/site/files/{attachment_id:int}/{filename}", file, name="file"),
]

#: Mounted after every other route: a page's address never hides one of the portal's own.
page_routes = [Route("/{path:path}", public_page, name="page")]
