"""Contact us: enquiries, their notes and replies, and each topic's inbox.

Revision ID: contact_0001
Revises: 0104
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "contact_0001"
down_revision = "0104"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_topics",
        sa.Column("key", sa.String(length=20), nullable=False),
        sa.Column("inbox", sa.String(length=254), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_contact_topics")),
    )
    op.create_table(
        "enquiries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("topic", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("client_digest", sa.String(length=64), nullable=False),
        sa.Column("acknowledged", sa.Boolean(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("closed_at", portal.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["accounts.id"],
            name=op.f("fk_enquiries_assignee_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enquiries")),
        sa.UniqueConstraint("reference", name=op.f("uq_enquiries_reference")),
    )
    with op.batch_alter_table("enquiries", schema=None) as batch_op:
        batch_op.create_index("ix_enquiries_status_created", ["status", "created_at"], unique=False)
        batch_op.create_index("ix_enquiries_client_created", ["client_digest", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_enquiries_email"), ["email"], unique=False)
    op.create_table(
        "enquiry_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enquiry_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["accounts.id"],
            name=op.f("fk_enquiry_entries_author_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["enquiry_id"],
            ["enquiries.id"],
            name=op.f("fk_enquiry_entries_enquiry_id_enquiries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enquiry_entries")),
    )
    with op.batch_alter_table("enquiry_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enquiry_entries_enquiry_id"), ["enquiry_id"], unique=False)


def downgrade() -> None:
    op.drop_table("enquiry_entries")
    op.drop_table("enquiries")
    op.drop_table("contact_topics")
