"""The website's news posts, and a kind for each page (an ordinary page, or questions and answers); the captured
menu's two FAQ pages, where a fresh install placed them, become question-and-answer pages.

Revision ID: news_0001
Revises: membership_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "news_0001"
down_revision = "membership_0001"
branch_labels = None
depends_on = None

FAQ_PATHS = ("members-area/membership-faqs", "members-area/training-faqs")


def upgrade() -> None:
    op.create_table(
        "site_news",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("published_at", portal.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_news")),
        sa.UniqueConstraint("slug", name=op.f("uq_site_news_slug")),
    )
    with op.batch_alter_table("site_news", schema=None) as batch_op:
        batch_op.create_index("ix_site_news_status_published_at", ["status", "published_at"], unique=False)
    with op.batch_alter_table("site_pages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=20), server_default="page", nullable=False))
    pages = sa.table("site_pages", sa.column("path", sa.String), sa.column("kind", sa.String))
    op.execute(pages.update().where(pages.c.path.in_(FAQ_PATHS)).values(kind="faq"))


def downgrade() -> None:
    with op.batch_alter_table("site_pages", schema=None) as batch_op:
        batch_op.drop_column("kind")
    with op.batch_alter_table("site_news", schema=None) as batch_op:
        batch_op.drop_index("ix_site_news_status_published_at")
    op.drop_table("site_news")
