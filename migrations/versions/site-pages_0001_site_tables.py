"""The website's pages (the menu tree), their revisions and attachments; the society's company number,
registered address and telephone for the site's footer.

The placeholder pages of a fresh install are placed by `portal db upgrade` after the schema (portal/site/seed.py),
not here: the migration only shapes tables.

Revision ID: site_pages_0001
Revises: writer_lean_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "site_pages_0001"
down_revision = "writer_lean_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("in_menu", sa.Boolean(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("path", sa.String(length=400), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["site_pages.id"],
            name=op.f("fk_site_pages_parent_id_site_pages"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_pages")),
        sa.UniqueConstraint("path", name=op.f("uq_site_pages_path")),
    )
    with op.batch_alter_table("site_pages", schema=None) as batch_op:
        batch_op.create_index("ix_site_pages_parent_id_position", ["parent_id", "position"], unique=False)

    op.create_table(
        "site_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["page_id"],
            ["site_pages.id"],
            name=op.f("fk_site_attachments_page_id_site_pages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_attachments")),
    )
    with op.batch_alter_table("site_attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_site_attachments_page_id"), ["page_id"], unique=False)

    op.create_table(
        "site_page_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["page_id"],
            ["site_pages.id"],
            name=op.f("fk_site_page_revisions_page_id_site_pages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_page_revisions")),
        sa.UniqueConstraint("page_id", "number", name=op.f("uq_site_page_revisions_page_id_number")),
    )
    with op.batch_alter_table("society", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("company_number", sa.String(length=50), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("registered_address", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("phone", sa.String(length=50), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("society", schema=None) as batch_op:
        batch_op.drop_column("phone")
        batch_op.drop_column("registered_address")
        batch_op.drop_column("company_number")

    op.drop_table("site_page_revisions")
    with op.batch_alter_table("site_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_attachments_page_id"))

    op.drop_table("site_attachments")
    with op.batch_alter_table("site_pages", schema=None) as batch_op:
        batch_op.drop_index("ix_site_pages_parent_id_position")

    op.drop_table("site_pages")
