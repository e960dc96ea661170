"""card payments: Stripe Checkout Sessions for bookings and membership fees, the webhook events handled, and
the payment provider chosen by the society and per event.

Revision ID: card_payments_0001
Revises: search_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "card_payments_0001"
down_revision = "search_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "card_checkouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=255), nullable=False),
        sa.Column("purpose", sa.String(length=30), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("payment_intent", sa.String(length=255), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("completed_at", portal.db.UTCDateTime(), nullable=True),
        sa.Column("refunded", sa.Integer(), nullable=False),
        sa.Column("refund_id", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id"),
    )
    op.create_index("ix_card_checkouts_status_expires_at", "card_checkouts", ["status", "expires_at"])
    op.create_table(
        "card_events",
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=80), nullable=False),
        sa.Column("received_at", portal.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("payment_provider", sa.String(length=20), server_default="", nullable=False)
        )
    with op.batch_alter_table("payment_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("provider", sa.String(length=20), server_default="card", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("payment_settings", schema=None) as batch_op:
        batch_op.drop_column("provider")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("payment_provider")
    op.drop_table("card_events")
    op.drop_index("ix_card_checkouts_status_expires_at", table_name="card_checkouts")
    op.drop_table("card_checkouts")
