"""The search index: one row per public document a room gives it (a published page, an event).

The full-text side is not a model: on SQLite an FTS5 table `search_fts` over this one (external content), on
PostgreSQL a table `search_fts` holding each row's weighted `tsvector` under a GIN index. Triggers the
migration made keep it in step with every insert, update and delete here, in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime


class SearchDocument(Base):
    """A document as a visitor may find it: its room's kind and key, its plain text, and its address."""

    __tablename__ = "search_documents"
    __table_args__ = (UniqueConstraint("kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The room's kind of document: "page", "event" (and "news", "course" as those rooms add theirs).
    kind: Mapped[str] = mapped_column(String(20))
    #: The document's id in its room (a page's id, an event's id), as text.
    key: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    #: Plain text (Markdown already turned into words): what a search matches and a snippet quotes.
    body: Mapped[str] = mapped_column(Text, default="")
    #: The address on this site (`/about-ipt/mission-vision`, `/events/isipt-2026`).
    url: Mapped[str] = mapped_column(String(400))
    #: What the hit shows beside its title (an event's start, a post's date); None for a page.
    date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the document last changed (the sitemap's lastmod).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
