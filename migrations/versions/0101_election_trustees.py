"""Election trustees: the election's public key, the threshold of shares that opens the ballot box, and one
row per trustee (their share's digest, and the share itself, encrypted, only until they download it).

Revision ID: 0101
Revises: 0103
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0101"
down_revision = "0103"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "election_trustees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("share_digest", sa.String(length=64), nullable=True),
        sa.Column("share_enc", sa.LargeBinary(), nullable=True),
        sa.Column("downloaded_at", portal.db.UTCDateTime(), nullable=True),
        sa.Column("checked_at", portal.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_election_trustees_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["elections.id"],
            name=op.f("fk_election_trustees_election_id_elections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_election_trustees")),
        sa.UniqueConstraint(
            "election_id", "account_id", name=op.f("uq_election_trustees_election_id_account_id")
        ),
        sa.UniqueConstraint(
            "election_id", "position", name=op.f("uq_election_trustees_election_id_position")
        ),
    )
    with op.batch_alter_table("election_trustees", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_election_trustees_election_id"), ["election_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_election_trustees_account_id"), ["account_id"], unique=False)

    with op.batch_alter_table("elections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trustee_threshold", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("public_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("key_made_at", portal.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("trustees_ready_at", portal.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("elections", schema=None) as batch_op:
        batch_op.drop_column("trustees_ready_at")
        batch_op.drop_column("key_made_at")
        batch_op.drop_column("public_key")
        batch_op.drop_column("trustee_threshold")
    with op.batch_alter_table("election_trustees", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_election_trustees_account_id"))
        batch_op.drop_index(batch_op.f("ix_election_trustees_election_id"))
    op.drop_table("election_trustees")
