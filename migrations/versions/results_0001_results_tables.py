"""Results: the STV rule and public-results flag per election, the ballots' fingerprint at the close, the
count's seed and times, and the stored record of each post's count.

Revision ID: results_0001
Revises: elections_0001
Create Date: 2026-11-26 00:07:20.932134
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "results_0001"
down_revision = "elections_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "election_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["election_contests.id"],
            name=op.f("fk_election_counts_contest_id_election_contests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["elections.id"],
            name=op.f("fk_election_counts_election_id_elections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_election_counts")),
        sa.UniqueConstraint(
            "election_id", "contest_id", name=op.f("uq_election_counts_election_id_contest_id")
        ),
    )
    with op.batch_alter_table("election_counts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_election_counts_election_id"), ["election_id"], unique=False)

    with op.batch_alter_table("elections", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stv_rule", sa.String(length=20), server_default="ers97", nullable=False)
        )
        batch_op.add_column(
            sa.Column("results_public", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("ballots_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("ballots_total", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("ballots_sealed_at", portal.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("count_seed", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("counted_at", portal.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("published_at", portal.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("elections", schema=None) as batch_op:
        batch_op.drop_column("published_at")
        batch_op.drop_column("counted_at")
        batch_op.drop_column("count_seed")
        batch_op.drop_column("ballots_sealed_at")
        batch_op.drop_column("ballots_total")
        batch_op.drop_column("ballots_hash")
        batch_op.drop_column("results_public")
        batch_op.drop_column("stv_rule")

    with op.batch_alter_table("election_counts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_election_counts_election_id"))

    op.drop_table("election_counts")
