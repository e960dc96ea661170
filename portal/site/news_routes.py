"""The website's news: the public list (`/news/`, paged), each post (`/news/<slug>`) and the Atom feed
(`/news/feed.atom`); staff's list, editor, publish and delete (`/site/news/...`), for the editors of the pages.
Named `site:news*` (flattened into the root with the site's other routes)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from starlette.responses import Response
from starlette.routing import Route

from portal.accounts.access import page
from portal.accounts.acting import actor
from portal.errors import PortalError
from portal.site import news, service
from portal.site.models import STATUSES, NewsPost
from portal.site.routes import EDITORS, is_editor
from portal.web.caching import revalidated
from portal.web.context import Ctx, society_name
from portal.web.forms import FormReader, whole_number
from portal.web.meta import share
from portal.web.templating import markdown

ATOM = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml"
Errors = dict[str, str]


# --- the public pages ---------------------------------------------------------------------------------------


@page("public")
def news_list(ctx: Ctx) -> Response:
    number = whole_number(ctx.query.get("page", "1"), maximum=100_000) or 1
    shown = news.published_page(ctx.db, number=number)
    return revalidated(ctx, ctx.render("site/news.html", {"shown": shown, "editor": is_editor(ctx)}))


@page("public")
def news_post(ctx: Ctx) -> Response:
    found = news.post_at(ctx.db, ctx.params["slug"], include_drafts=is_editor(ctx))
    values = {
        "post": found,
        "editor": is_editor(ctx),
        "share": share(ctx, title=found.title, description=found.summary),
    }
    return revalidated(ctx, ctx.render("site/news_post.html", values))


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _entry_id(ctx: Ctx, post: NewsPost) -> str:
    """A tag URI (RFC 4151) from the post's number and first day: it stays the same when the post's title or
    address changes, so a feed reader never shows a corrected post twice."""
    host = urlsplit(ctx.settings.base_url).hostname or "localhost"
    day = (post.published_at or post.created_at).date().isoformat()
    return f"tag:{host},{day}:news/{post.id}"


def atom_feed(ctx: Ctx, posts: list[NewsPost], society: str) -> bytes:
    """An Atom 1.0 feed (RFC 4287) of `posts`: ids, titles, links and summaries; the text itself is the post
    page's, rendered by the site's sanitising Markdown."""
    ET.register_namespace("", ATOM)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    feed = ET.Element(f"{{{ATOM}}}feed")
    sub(feed, "id", ctx.absolute_url("site:news"))
    sub(feed, "title", f"{society}: news")
    sub(feed, "updated", _iso(max((p.updated_at for p in posts), default=ctx.now)))
    sub(feed, "link", rel="self", type=ATOM_TYPE, href=ctx.absolute_url("site:news_feed"))
    sub(feed, "link", rel="alternate", type="text/html", href=ctx.absolute_url("site:news"))
    author = sub(feed, "author")
    sub(author, "name", society)
    for post in posts:
        entry = sub(feed, "entry")
        sub(entry, "id", _entry_id(ctx, post))
        sub(entry, "title", post.title)
        sub(entry, "updated", _iso(post.updated_at))
        if post.published_at is not None:
            sub(entry, "published", _iso(post.published_at))
        sub(
            entry,
            "link",
            rel="alternate",
            type="text/html",
            href=ctx.absolute_url("site:news_post", slug=post.slug),
        )
        if post.author:
            sub(sub(entry, "author"), "name", post.author)
        sub(entry, "summary", post.summary or post.title)
        sub(entry, "content", str(markdown(post.body)), type="html")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(
        feed, encoding="utf-8", xml_declaration=False
    )


@page("public")
def news_feed(ctx: Ctx) -> Response:
    posts = news.latest(ctx.db, limit=news.FEED_SIZE)
    body = atom_feed(ctx, posts, society_name(ctx.request))
    return Response(body, media_type=f"{ATOM_TYPE}; charset=utf-8")


# --- staff --------------------------------------------------------------------------------------------------


def _read_post_form(raw: Mapping[str, Any] | None) -> tuple[dict[str, Any], Errors]:
    form = FormReader(raw)
    values: dict[str, Any] = {
        "title": form.text("title", label="the post's title", max_length=200),
        "slug": form.text("slug", label="the address", required=False, max_length=service.MAX_SLUG).lower(),
        "summary": form.text("summary", label="the summary", required=False, max_length=500),
        "body": form.text("body", label="the text", required=False, max_length=100_000),
        "status": form.choice("status", list(STATUSES), label="draft or published"),
    }
    if not values["slug"] and values["title"]:
        values["slug"] = service.slugify(values["title"])
    return values, form.errors


def _post_values(values: Mapping[str, Any]) -> news.PostValues:
    return news.PostValues(
        title=values["title"],
        slug=values["slug"],
        summary=values["summary"],
        body=values["body"],
        status=values["status"],
    )


_FIELD = {"bad_slug": "slug", "slug_taken": "slug", "bad_status": "status", "no_title": "title"}


@page(*EDITORS)
def news_manage(ctx: Ctx) -> Response:
    return ctx.render("site/news_manage.html", {"posts": news.all_posts(ctx.db)})


def _save(ctx: Ctx, found: NewsPost | None) -> Response:
    values, errors = _read_post_form(ctx.form)
    preview = ctx.form is not None and ctx.form.get("action") == "preview"
    if not errors and not preview:
        try:
            with ctx.attempt():
                if found is None:
                    made = news.create_post(
                        ctx.db, values=_post_values(values), actor=actor(ctx), now=ctx.now
                    )
                    ctx.flash(f"The post \u201c{made.title}\u201d is saved.")
                    return ctx.redirect("site:news_edit", post_id=made.id)
                changed = news.update_post(
                    ctx.db, post_id=found.id, values=_post_values(values), actor=actor(ctx), now=ctx.now
                )
        except PortalError as exc:
            errors = {_FIELD.get(exc.code, "title"): exc.message}
        else:
            ctx.flash("The post is saved." if changed else "Nothing had changed: nothing was saved.")
            return ctx.redirect("site:news_edit", post_id=found.id)
    return ctx.render(
        "site/news_edit.html",
        {
            "post": found,
            "values": values,
            "errors": errors,
            "statuses": STATUSES,
            "preview": preview and not errors,
        },
        status_code=422 if errors else 200,
    )


@page(*EDITORS)
def news_new(ctx: Ctx) -> Response:
    if ctx.request.method == "POST":
        return _save(ctx, None)
    return ctx.render(
        "site/news_edit.html",
        {"post": None, "values": {"status": "draft"}, "errors": {}, "statuses": STATUSES},
    )


@page(*EDITORS)
def news_edit(ctx: Ctx) -> Response:
    found = news.get_post(ctx.db, ctx.params["post_id"])
    if ctx.request.method == "POST":
        return _save(ctx, found)
    values = {name: getattr(found, name) for name in ("title", "slug", "summary", "body", "status")}
    return ctx.render(
        "site/news_edit.html", {"post": found, "values": values, "errors": {}, "statuses": STATUSES}
    )


@page(*EDITORS)
def news_publish(ctx: Ctx) -> Response:
    found = news.get_post(ctx.db, ctx.params["post_id"])
    if news.publish_post(ctx.db, post_id=found.id, actor=actor(ctx), now=ctx.now):
        ctx.flash(f"\u201c{found.title}\u201d is published.")
    else:
        ctx.flash(f"\u201c{found.title}\u201d was already published.")
    return ctx.redirect("site:news_manage")


@page(*EDITORS)
def news_delete(ctx: Ctx) -> Response:
    title = news.delete_post(ctx.db, post_id=ctx.params["post_id"], actor=actor(ctx), now=ctx.now)
    ctx.flash(f"The post \u201c{title}\u201d is deleted.")
    return ctx.redirect("site:news_manage")


routes = [
    Route("/news/", news_list, name="news"),
    Route("/news/feed.atom", news_feed, name="news_feed"),
    Route("/news/{slug}", news_post, name="news_post"),
    Route("/site/news", news_manage, name="news_manage"),
    Route("/site/news/new", news_new, methods=["GET", "POST"], name="news_new"),
    Route("/site/news/{post_id:int}", news_edit, methods=["GET", "POST"], name="news_edit"),
    Route("/site/news/{post_id:int}/publish", news_publish, methods=["POST"], name="news_publish"),
    Route("/site/news/{post_id:int}/delete", news_delete, methods=["POST"], name="news_delete"),
]
