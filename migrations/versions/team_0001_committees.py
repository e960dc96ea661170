"""Meet the Team: committees and the people on them (the society's three are made by `portal db upgrade`).

Revision ID: team_0001
Revises: contact_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "team_0001"
down_revision = "contact_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "committees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_committees")),
        sa.UniqueConstraint("slug", name=op.f("uq_committees_slug")),
    )
    op.create_table(
        "team_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("committee_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("post", sa.String(length=200), nullable=False),
        sa.Column("bio", sa.Text(), nullable=False),
        sa.Column("photo", sa.LargeBinary(), nullable=True),
        sa.Column("has_photo", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("elected_in_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", portal.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["committee_id"],
            ["committees.id"],
            name=op.f("fk_team_members_committee_id_committees"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["elected_in_id"],
            ["elections.id"],
            name=op.f("fk_team_members_elected_in_id_elections"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_members")),
    )
    with op.batch_alter_table("team_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_team_members_committee_id"), ["committee_id"], unique=False)


def downgrade() -> None:
    op.drop_table("team_members")
    op.drop_table("committees")
