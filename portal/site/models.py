"""The website's tables: pages (a tree: the menu), every saved version of a page, and its attachments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime

STATUSES = {"draft": "Draft (staff only)", "published": "Published"}
#: What a page's text is: ordinary Markdown, or questions and answers (each question a `##` heading line).
KINDS = {"page": "An ordinary page", "faq": "Questions and answers (each question a line starting with ##)"}


class Page(Base):
    """One page of the site, at `/<path>`. `path` is the slugs from the top of the tree down, joined by `/`
    (the home page's children sit at the top: the home page itself is `/`). A page with a `link` is a menu
    entry that leads elsewhere (one of the portal's own pages, or another address) and has no body."""

    __tablename__ = "site_pages"
    __table_args__ = (Index("ix_site_pages_parent_id_position", "parent_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("site_pages.id", ondelete="RESTRICT"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: Shown in the header menu (the footer's pages, Cookies and the like, are not).
    in_menu: Mapped[bool] = mapped_column(Boolean, default=True)
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80))
    #: Derived from the slugs of the page and its ancestors; unique, so two pages never share an address.
    path: Mapped[str] = mapped_column(String(400), unique=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(300), default="")
    #: One of KINDS: how the body is shown (a FAQ page gets an anchor per question).
    kind: Mapped[str] = mapped_column(String(20), default="page", server_default="page")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    #: The number of the latest revision: a save names the one it was based on, and loses if another came first.
    revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: No foreign key: who changed it stays readable when the account goes (the audit log holds the rest).
    updated_by_id: Mapped[int | None] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(200), default="")

    @property
    def is_home(self) -> bool:
        return self.path == ""

    @property
    def is_published(self) -> bool:
        return self.status == "published"


class PageRevision(Base):
    """A page as one save left it: kept for ever, so its history reads back and any version can be restored."""

    __tablename__ = "site_page_revisions"
    __table_args__ = (UniqueConstraint("page_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("site_pages.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80))
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(20))
    #: What this save was ("Created", "Edited", "Restored version 3", "Published").
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    author_id: Mapped[int | None] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(200), default="")


class Attachment(Base):
    """An image or PDF a page links to, served at `/site/files/<id>/<filename>`."""

    __tablename__ = "site_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("site_pages.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded_by_id: Mapped[int | None] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(String(200), default="")


class NewsPost(Base):
    """A news item, at `/news/<slug>`: listed newest first, in the Atom feed and on the home page once
    published. `published_at` is set the first time it is published and kept (a correction does not move it)."""

    __tablename__ = "site_news"
    __table_args__ = (Index("ix_site_news_status_published_at", "status", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: No foreign keys: the names stay readable when an account goes (the audit log holds the rest).
    author_id: Mapped[int | None] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(200), default="")
    updated_by_id: Mapped[int | None] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(200), default="")

    @property
    def is_published(self) -> bool:
        return self.status == "published"


class Redirect(Base):
    """An address of the old site (`/find-a-therapist.html`) and where it leads now: a visitor who follows an
    old link or bookmark gets a permanent redirect instead of a 404. Editors keep the list."""

    __tablename__ = "site_redirects"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The old address as a path, lower-case, starting with `/`.
    old_path: Mapped[str] = mapped_column(String(400), unique=True)
    #: Where it leads: an address on this site (`/about-ipt/find-a-therapist`) or a full https:// one.
    target: Mapped[str] = mapped_column(String(400))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(200), default="")
