"""membership: categories' terms (fee, eligibility, evidence, approval, vote), the membership year, applications
with their files and messages; an invoice may be for something other than a booking (a membership fee).

Revision ID: membership_0001
Revises: site_pages_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "membership_0001"
down_revision = "site_pages_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("member_categories", schema=None) as batch_op:
        batch_op.add_column(sa.Column("annual_fee", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("eligibility", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("evidence", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("evidence_upload", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("needs_approval", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column("can_vote", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(
            sa.Column("open_to_applicants", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    # An honorary membership is given by the society, not applied for.
    op.execute("UPDATE member_categories SET open_to_applicants = false WHERE code = 'honorary'")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.alter_column("registration_id", existing_type=sa.Integer(), nullable=True)
    op.create_table(
        "membership_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year_kind", sa.String(length=20), nullable=False),
        sa.Column("year_start_month", sa.Integer(), nullable=False),
        sa.Column("year_start_day", sa.Integer(), nullable=False),
        sa.Column("first_fee", sa.String(length=20), nullable=False),
        sa.Column("conduct_version", sa.String(length=40), nullable=False),
        sa.Column("privacy_version", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_settings")),
    )
    op.create_table(
        "membership_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("category", sa.String(length=50), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("profession", sa.String(length=200), nullable=False),
        sa.Column("registration_body", sa.String(length=20), nullable=False),
        sa.Column("registration_number", sa.String(length=60), nullable=False),
        sa.Column("training", sa.String(length=30), nullable=False),
        sa.Column("conduct_version", sa.String(length=40), nullable=False),
        sa.Column("privacy_version", sa.String(length=40), nullable=False),
        sa.Column("declared_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("answer_digest", sa.String(length=64), nullable=True),
        sa.Column("decided_at", portal.db.UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=300), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("fee_amount", sa.Integer(), nullable=False),
        sa.Column("fee_reference", sa.String(length=20), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("fee_paid_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_membership_applications_invoice_id_invoices"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_membership_applications_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_applications")),
        sa.UniqueConstraint("answer_digest", name=op.f("uq_membership_applications_answer_digest")),
    )
    with op.batch_alter_table("membership_applications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_membership_applications_email"), ["email"], unique=False)
        batch_op.create_index("ix_membership_applications_status_id", ["status", "id"], unique=False)
    op.create_table(
        "membership_application_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", portal.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["membership_applications.id"],
            name=op.f("fk_membership_application_files_application_id_membership_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_application_files")),
    )
    with op.batch_alter_table("membership_application_files", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_membership_application_files_application_id"), ["application_id"], unique=False
        )
    op.create_table(
        "membership_application_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("author", sa.String(length=20), nullable=False),
        sa.Column("author_name", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["membership_applications.id"],
            name=op.f("fk_membership_application_messages_application_id_membership_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_application_messages")),
    )
    with op.batch_alter_table("membership_application_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_membership_application_messages_application_id"), ["application_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("membership_application_messages")
    op.drop_table("membership_application_files")
    op.drop_table("membership_applications")
    op.drop_table("membership_settings")
    op.execute("DELETE FROM invoices WHERE registration_id IS NULL")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.alter_column("registration_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("member_categories", schema=None) as batch_op:
        for column in (
            "open_to_applicants",
            "can_vote",
            "needs_approval",
            "evidence_upload",
            "evidence",
            "eligibility",
            "annual_fee",
        ):
            batch_op.drop_column(column)
