"""Payments: the membership ledger (one row per sum paid for a first fee or a renewal), filled from what the
applications and renewals already record as paid.

Revision ID: payments_0001
Revises: accapply_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "payments_0001"
down_revision = "accapply_0001"
branch_labels = None
depends_on = None

#: First fees paid before the ledger: by card when a complete Checkout Session paid it, else by bank transfer
#: (the office's "Mark the first fee paid" was for a transfer seen on the statement).
FIRST_FEES = """
INSERT INTO membership_payments (purpose, kind, member_id, category, application_id, renewal_id, invoice_id,
    amount, currency, method, source, provider_ref, reference, received_on, recorded_at, recorded_by_id,
    recorded_by)
SELECT 'first_fee', 'payment', a.member_id, a.category, a.id, NULL, a.invoice_id, a.fee_amount, 'GBP',
    CASE WHEN c.session_id IS NULL THEN 'bank_transfer' ELSE 'card' END,
    CASE WHEN c.session_id IS NULL THEN 'staff' ELSE 'stripe' END,
    CASE WHEN c.session_id IS NULL THEN NULL ELSE 'stripe:' || c.session_id END,
    a.fee_reference, a.fee_paid_on, a.updated_at, NULL,
    CASE WHEN c.session_id IS NULL THEN '' ELSE 'Payment provider' END
FROM membership_applications a
LEFT JOIN card_checkouts c ON c.purpose = 'membership_fee' AND c.target_id = a.id AND c.status = 'complete'
WHERE a.fee_paid_on IS NOT NULL AND a.fee_amount > 0
"""
RENEWALS = """
INSERT INTO membership_payments (purpose, kind, member_id, category, application_id, renewal_id, invoice_id,
    amount, currency, method, source, provider_ref, reference, received_on, recorded_at, recorded_by_id,
    recorded_by)
SELECT 'renewal', 'payment', r.member_id, r.category, NULL, r.id, r.invoice_id, r.amount, 'GBP', r.method,
    'staff', NULL, r.reference, r.paid_on, r.created_at, NULL, r.recorded_by
FROM membership_renewals r
WHERE r.paid_on IS NOT NULL AND r.amount > 0
"""


def upgrade() -> None:
    op.create_table(
        "membership_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=50), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("renewal_id", sa.Integer(), nullable=True),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("provider_ref", sa.String(length=255), nullable=True),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["membership_applications.id"],
            name=op.f("fk_membership_payments_application_id_membership_applications"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_membership_payments_invoice_id_invoices"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_membership_payments_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["accounts.id"],
            name=op.f("fk_membership_payments_recorded_by_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["renewal_id"],
            ["membership_renewals.id"],
            name=op.f("fk_membership_payments_renewal_id_membership_renewals"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_payments")),
        sa.UniqueConstraint("provider_ref", name=op.f("uq_membership_payments_provider_ref")),
    )
    op.create_index("ix_membership_payments_member_id", "membership_payments", ["member_id", "id"])
    op.create_index("ix_membership_payments_received_on", "membership_payments", ["received_on"])
    op.execute(FIRST_FEES)
    op.execute(RENEWALS)


def downgrade() -> None:
    op.drop_index("ix_membership_payments_received_on", table_name="membership_payments")
    op.drop_index("ix_membership_payments_member_id", table_name="membership_payments")
    op.drop_table("membership_payments")
