"""Renewals: the grace period after a renewal date, and the reminders sent (one row each); renewal dates for
members who joined before the portal kept them.

Revision ID: renewals_0001
Revises: card_payments_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "renewals_0001"
down_revision = "card_payments_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("membership_settings") as batch:
        batch.add_column(sa.Column("grace_days", sa.Integer(), server_default="30", nullable=False))
    op.create_table(
        "membership_renewal_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("renewal_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("sent_at", portal.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_membership_renewal_reminders_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_renewal_reminders")),
        sa.UniqueConstraint("member_id", "renewal_on", "kind", name="uq_membership_renewal_reminders_once"),
    )
    op.create_table(
        "membership_renewals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=50), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("renewal_from", sa.Date(), nullable=True),
        sa.Column("renewal_to", sa.Date(), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.String(length=300), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_membership_renewals_invoice_id_invoices"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_membership_renewals_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_renewals")),
    )
    op.create_index("ix_membership_renewals_member_id", "membership_renewals", ["member_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_membership_renewals_member_id", table_name="membership_renewals")
    op.drop_table("membership_renewals")
    op.drop_table("membership_renewal_reminders")
    with op.batch_alter_table("membership_settings") as batch:
        batch.drop_column("grace_days")
