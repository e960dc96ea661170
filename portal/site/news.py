"""The website's news: posts staff write (Markdown, rendered like the pages), published with a date, listed
newest first at `/news/`, in an Atom feed, and the latest three on the home page.

A post's slug is its address and unique (the database holds it). `published_at` is set the first time a post is
published and kept afterwards: taking it back to draft and publishing again, or correcting it, does not move it
up the list.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import audit
from portal.errors import Conflict, Invalid, NotFound
from portal.search import service as search
from portal.site.errors import Code
from portal.site.models import STATUSES, NewsPost
from portal.site.service import MAX_SLUG, SLUG_RE

PER_PAGE = 10
#: How many posts the feed carries.
FEED_SIZE = 20


@dataclass(frozen=True)
class PostValues:
    """What an editor sets on a post."""

    title: str
    slug: str
    summary: str = ""
    body: str = ""
    status: str = "draft"


def _check(values: PostValues) -> None:
    if not values.title.strip():
        raise Invalid(Code.NO_TITLE, "Enter the post's title.")
    if values.status not in STATUSES:
        raise Invalid(Code.BAD_STATUS, "Choose draft or published.")
    if not values.slug:
        raise Invalid(
            Code.BAD_SLUG, "Enter the post's address (e.g. national-meeting-2026), or a title to make one."
        )
    if len(values.slug) > MAX_SLUG or not SLUG_RE.match(values.slug):
        raise Invalid(
            Code.BAD_SLUG,
            f"An address is lower-case letters a to z, digits and single hyphens between them (e.g. "
            f"national-meeting-2026), at most {MAX_SLUG} characters.",
        )


def _check_slug_free(session: Session, slug: str, *, post_id: int | None) -> None:
    taken = session.scalar(select(NewsPost.id).where(NewsPost.slug == slug, NewsPost.id != (post_id or 0)))
    if taken is not None:
        raise Conflict(Code.SLUG_TAKEN, f"Another post is already at /news/{slug}: choose another address.")


@contextlib.contextmanager
def _one_address(slug: str) -> Iterator[None]:
    """Two saves racing for one address: the unique slug decides, and the loser hears why."""
    try:
        yield
    except IntegrityError:
        raise Conflict(
            Code.SLUG_TAKEN, f"Another post was just saved at /news/{slug}: choose another address."
        ) from None


# --- reading -----------------------------------------------------------------------------------------------------


def get_post(session: Session, post_id: int) -> NewsPost:
    found = session.get(NewsPost, post_id)
    if found is None:
        raise NotFound("There is no such news post.")
    return found


def post_at(session: Session, slug: str, *, include_drafts: bool) -> NewsPost:
    found = session.scalar(select(NewsPost).where(NewsPost.slug == slug))
    if found is None or (not include_drafts and not found.is_published):
        raise NotFound("There is no such news post.")
    return found


def _published() -> Select[NewsPost]:
    return (
        select(NewsPost)
        .where(NewsPost.status == "published")
        .order_by(NewsPost.published_at.desc(), NewsPost.id.desc())
    )


def latest(session: Session, *, limit: int = 3) -> list[NewsPost]:
    """The newest published posts (the home page's three, the feed's twenty): one statement."""
    return list(session.scalars(_published().limit(limit)))


@dataclass(frozen=True)
class NewsPage:
    posts: list[NewsPost]
    number: int
    pages: int
    total: int


def published_page(session: Session, *, number: int, per_page: int = PER_PAGE) -> NewsPage:
    """One page of the public list, newest first; a number past the end is the last page."""
    total = session.scalar(select(func.count(NewsPost.id)).where(NewsPost.status == "published")) or 0
    pages = max(1, -(-total // per_page))
    number = min(max(number, 1), pages)
    posts = list(session.scalars(_published().offset((number - 1) * per_page).limit(per_page)))
    return NewsPage(posts=posts, number=number, pages=pages, total=total)


def all_posts(session: Session) -> list[NewsPost]:
    """For staff: drafts first (newest made first), then the published, newest first."""
    return list(
        session.scalars(
            select(NewsPost).order_by(
                NewsPost.status == "published",
                func.coalesce(NewsPost.published_at, NewsPost.created_at).desc(),
                NewsPost.id.desc(),
            )
        )
    )


# --- writing -----------------------------------------------------------------------------------------------------


def search_document(post: NewsPost) -> search.Document | None:
    """A published post as search finds it (a draft is not found)."""
    if not post.is_published:
        return None
    words = " ".join(part for part in (post.summary, search.plain_text(post.body)) if part)
    return search.Document(
        kind="news",
        key=str(post.id),
        title=post.title,
        body=words,
        url=f"/news/{post.slug}",
        date=post.published_at,
        updated_at=post.updated_at,
    )


def search_documents(session: Session) -> Iterator[search.Document]:
    """Every published post: the news' search source."""
    for post in session.scalars(_published()):
        document = search_document(post)
        if document is not None:
            yield document


def _index(session: Session, post: NewsPost) -> None:
    search.keep(session, kind="news", key=str(post.id), document=search_document(post))


def _stamp(post: NewsPost, *, actor: audit.Actor | None, now: datetime) -> None:
    post.updated_at = now
    post.updated_by_id = actor.id if actor else None
    post.updated_by = actor.name if actor else ""
    if post.is_published and post.published_at is None:
        post.published_at = now


def create_post(
    session: Session, *, values: PostValues, actor: audit.Actor | None, now: datetime
) -> NewsPost:
    _check(values)
    _check_slug_free(session, values.slug, post_id=None)
    post = NewsPost(
        title=values.title,
        slug=values.slug,
        summary=values.summary,
        body=values.body,
        status=values.status,
        created_at=now,
        author_id=actor.id if actor else None,
        author=actor.name if actor else "",
    )
    _stamp(post, actor=actor, now=now)
    with _one_address(values.slug):
        session.flush()
        with session.begin_nested():
            session.add(post)
            session.flush()
    _index(session, post)
    audit.record(
        session,
        actor=actor,
        action="site.news_create",
        subject=f"news {post.id}",
        details={"title": post.title, "slug": post.slug, "status": post.status},
        now=now,
    )
    return post


def update_post(
    session: Session, *, post_id: int, values: PostValues, actor: audit.Actor | None, now: datetime
) -> bool:
    """Save an editor's changes; False when nothing changed (nothing is written)."""
    _check(values)
    post = get_post(session, post_id)
    changed = {
        name: getattr(values, name)
        for name in ("title", "slug", "summary", "body", "status")
        if getattr(post, name) != getattr(values, name)
    }
    if not changed:
        return False
    if "slug" in changed:
        _check_slug_free(session, values.slug, post_id=post.id)
    with _one_address(values.slug):
        session.flush()
        with session.begin_nested():
            for name, value in changed.items():
                setattr(post, name, value)
            _stamp(post, actor=actor, now=now)
            session.flush()
    _index(session, post)
    audit.record(
        session,
        actor=actor,
        action="site.news_edit",
        subject=f"news {post.id}",
        details={
            k: (v if k not in ("body", "summary") else f"{len(v)} characters") for k, v in changed.items()
        },
        now=now,
    )
    return True


def publish_post(session: Session, *, post_id: int, actor: audit.Actor | None, now: datetime) -> bool:
    """Publish a draft (False when it already was)."""
    post = get_post(session, post_id)
    if post.is_published:
        return False
    post.status = "published"
    _stamp(post, actor=actor, now=now)
    session.flush()
    _index(session, post)
    audit.record(
        session,
        actor=actor,
        action="site.news_publish",
        subject=f"news {post.id}",
        details={"title": post.title, "slug": post.slug},
        now=now,
    )
    return True


def delete_post(session: Session, *, post_id: int, actor: audit.Actor | None, now: datetime) -> str:
    """Remove a post; its title."""
    post = get_post(session, post_id)
    title, slug = post.title, post.slug
    session.delete(post)
    session.flush()
    search.remove(session, kind="news", key=str(post_id))
    audit.record(
        session,
        actor=actor,
        action="site.news_delete",
        subject=f"news {post_id}",
        details={"title": title, "slug": slug},
        now=now,
    )
    return title
