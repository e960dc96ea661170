"""Complaints: the procedure (one row), cases with their references' yearly counter, documents and record.

Revision ID: complaints_0001
Revises: team_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "complaints_0001"
down_revision = "team_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "complaint_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_complaint_counters")),
    )
    op.create_table(
        "complaint_procedure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("acknowledge_days", sa.Integer(), nullable=False),
        sa.Column("outcome_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(), nullable=True),
        sa.Column("updated_by", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_procedure")),
    )
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("about", sa.String(length=20), nullable=False),
        sa.Column("subject_name", sa.String(length=200), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("complainant_name", sa.String(length=200), nullable=False),
        sa.Column("complainant_email", sa.String(length=254), nullable=False),
        sa.Column("complainant_phone", sa.String(length=40), nullable=False),
        sa.Column("what_happened", sa.Text(), nullable=False),
        sa.Column("happened_when", sa.String(length=200), nullable=False),
        sa.Column("outcome_sought", sa.Text(), nullable=False),
        sa.Column("stage", sa.String(length=30), nullable=False),
        sa.Column("received_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("acknowledge_by", sa.Date(), nullable=False),
        sa.Column("outcome_by", sa.Date(), nullable=False),
        sa.Column("acknowledged_at", portal.db.UTCDateTime(), nullable=True),
        sa.Column("outcome_at", portal.db.UTCDateTime(), nullable=True),
        sa.Column("closed_at", portal.db.UTCDateTime(), nullable=True),
        sa.Column("referred_to", sa.String(length=200), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_complaints_member_id_members"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.UniqueConstraint("reference", name=op.f("uq_complaints_reference")),
        sa.UniqueConstraint("year", "number", name="uq_complaints_year_number"),
    )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaints_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_received_at"), ["received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_stage"), ["stage"], unique=False)

    op.create_table(
        "complaint_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=50), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_complaint_documents_complaint_id_complaints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_documents")),
    )
    with op.batch_alter_table("complaint_documents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_complaint_documents_complaint_id"), ["complaint_id"], unique=False
        )

    op.create_table(
        "complaint_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=300), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("email_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_complaint_entries_complaint_id_complaints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_entries")),
    )
    with op.batch_alter_table("complaint_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaint_entries_complaint_id"), ["complaint_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("complaint_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_entries_complaint_id"))

    op.drop_table("complaint_entries")
    with op.batch_alter_table("complaint_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_documents_complaint_id"))

    op.drop_table("complaint_documents")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaints_stage"))
        batch_op.drop_index(batch_op.f("ix_complaints_received_at"))
        batch_op.drop_index(batch_op.f("ix_complaints_member_id"))

    op.drop_table("complaints")
    op.drop_table("complaint_procedure")
    op.drop_table("complaint_counters")
