"""Register: the status staff set on a registrant after a complaint case, the practice profiles of Find a
Therapist, and the count of visitors' messages relayed to therapists.

Revision ID: register_0001
Revises: payments_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "register_0001"
down_revision = "payments_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "register_statuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("wording", sa.Text(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_register_statuses_complaint_id_complaints"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_register_statuses_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_statuses")),
        sa.UniqueConstraint("member_id", name=op.f("uq_register_statuses_member_id")),
    )
    with op.batch_alter_table("register_statuses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_register_statuses_status"), ["status"], unique=False)
    op.create_table(
        "practice_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("practice_name", sa.String(length=200), nullable=False),
        sa.Column("towns", sa.String(length=400), nullable=False),
        sa.Column("towns_key", sa.String(length=400), nullable=False),
        sa.Column("region", sa.String(length=40), nullable=False),
        sa.Column("outward_code", sa.String(length=4), nullable=False),
        sa.Column("postcode_area", sa.String(length=2), nullable=False),
        sa.Column("delivery", sa.String(length=20), nullable=False),
        sa.Column("modalities", sa.String(length=200), nullable=False),
        sa.Column("client_groups", sa.String(length=200), nullable=False),
        sa.Column("languages", sa.String(length=300), nullable=False),
        sa.Column("languages_key", sa.String(length=300), nullable=False),
        sa.Column("fee_from", sa.Integer(), nullable=True),
        sa.Column("fee_to", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("photo", sa.LargeBinary(), nullable=True),
        sa.Column("website", sa.String(length=300), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_practice_profiles_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practice_profiles")),
        sa.UniqueConstraint("member_id", name=op.f("uq_practice_profiles_member_id")),
    )
    with op.batch_alter_table("practice_profiles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_practice_profiles_postcode_area"), ["postcode_area"], unique=False
        )
        batch_op.create_index("ix_practice_profiles_published_region", ["published", "region"], unique=False)
    op.create_table(
        "register_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("client_digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_register_messages_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_messages")),
    )
    with op.batch_alter_table("register_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_register_messages_member_id"), ["member_id"], unique=False)
        batch_op.create_index(
            "ix_register_messages_client_created", ["client_digest", "created_at"], unique=False
        )
    # The menu's Find a Therapist entry leads to the directory: a fresh install's seed makes it so, and an
    # installed site's entry that is still the untouched placeholder becomes the link here (a page an editor
    # wrote is left as it is: they may point it at the directory from the Website pages).
    pages = sa.table("site_pages", sa.column("path", sa.String), sa.column("link", sa.String),
                     sa.column("body", sa.Text))  # fmt: skip
    op.execute(
        pages.update()
        .where(
            pages.c.path == "about-ipt/find-a-therapist",
            pages.c.link == "",
            pages.c.body.like("*This page is waiting for its text.*%"),
        )
        .values(link="register:directory")
    )


def downgrade() -> None:
    pages = sa.table("site_pages", sa.column("path", sa.String), sa.column("link", sa.String))
    op.execute(
        pages.update()
        .where(pages.c.path == "about-ipt/find-a-therapist", pages.c.link == "register:directory")
        .values(link="")
    )
    with op.batch_alter_table("register_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_register_messages_client_created")
        batch_op.drop_index(batch_op.f("ix_register_messages_member_id"))
    op.drop_table("register_messages")
    with op.batch_alter_table("practice_profiles", schema=None) as batch_op:
        batch_op.drop_index("ix_practice_profiles_published_region")
        batch_op.drop_index(batch_op.f("ix_practice_profiles_postcode_area"))
    op.drop_table("practice_profiles")
    with op.batch_alter_table("register_statuses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_register_statuses_status"))
    op.drop_table("register_statuses")
