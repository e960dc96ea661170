"""Accreditation: members' applications for a level (their files, their conversation, the supervisor's
private link as a keyed digest), the re-accreditation reminders sent, and optional evidence on a CPD entry.

Revision ID: accapply_0001
Revises: dataprot_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "accapply_0001"
down_revision = "dataprot_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accreditation_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("holding_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("sent_at", portal.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["holding_id"],
            ["accreditation_holdings.id"],
            name=op.f("fk_accreditation_reminders_holding_id_accreditation_holdings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accreditation_reminders")),
        sa.UniqueConstraint("holding_id", "kind", name="uq_accreditation_reminders_once"),
    )
    op.create_table(
        "accreditation_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("level_id", sa.Integer(), nullable=False),
        sa.Column("renews_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("training_done", sa.Boolean(), nullable=False),
        sa.Column("training_registration_id", sa.Integer(), nullable=True),
        sa.Column("training_note", sa.Text(), nullable=False),
        sa.Column("supervised_cases", sa.Integer(), nullable=False),
        sa.Column("supervision_hours", sa.Integer(), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("supervisor_name", sa.String(length=200), nullable=False),
        sa.Column("supervisor_email", sa.String(length=254), nullable=False),
        sa.Column("supervisor_digest", sa.String(length=64), nullable=True),
        sa.Column("supervisor_expires_at", portal.db.UTCDateTime(), nullable=True),
        sa.Column("supervisor_answer", sa.String(length=20), nullable=False),
        sa.Column("supervisor_comment", sa.Text(), nullable=False),
        sa.Column("supervisor_answered_at", portal.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("decided_at", portal.db.UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=300), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("holding_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["holding_id"],
            ["accreditation_holdings.id"],
            name=op.f("fk_accreditation_applications_holding_id_accreditation_holdings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["level_id"],
            ["accreditation_standards.id"],
            name=op.f("fk_accreditation_applications_level_id_accreditation_standards"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_accreditation_applications_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["renews_id"],
            ["accreditation_holdings.id"],
            name=op.f("fk_accreditation_applications_renews_id_accreditation_holdings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["training_registration_id"],
            ["registrations.id"],
            name=op.f("fk_accreditation_applications_training_registration_id_registrations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accreditation_applications")),
        sa.UniqueConstraint(
            "supervisor_digest", name=op.f("uq_accreditation_applications_supervisor_digest")
        ),
    )
    with op.batch_alter_table("accreditation_applications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_accreditation_applications_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index("ix_accreditation_applications_status_id", ["status", "id"], unique=False)
        batch_op.create_index(
            "uq_accreditation_applications_open",
            ["member_id", "level_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('supervisor', 'new', 'more')"),
            postgresql_where=sa.text("status IN ('supervisor', 'new', 'more')"),
        )

    op.create_table(
        "accreditation_application_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", portal.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["accreditation_applications.id"],
            name=op.f("fk_accreditation_application_files_application_id_accreditation_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accreditation_application_files")),
    )
    with op.batch_alter_table("accreditation_application_files", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_accreditation_application_files_application_id"), ["application_id"], unique=False
        )

    op.create_table(
        "accreditation_application_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("author", sa.String(length=20), nullable=False),
        sa.Column("author_name", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["accreditation_applications.id"],
            name=op.f("fk_accreditation_application_messages_application_id_accreditation_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accreditation_application_messages")),
    )
    with op.batch_alter_table("accreditation_application_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_accreditation_application_messages_application_id"),
            ["application_id"],
            unique=False,
        )

    with op.batch_alter_table("cpd_entries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("evidence_name", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("evidence_type", sa.String(length=100), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("evidence", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cpd_entries", schema=None) as batch_op:
        batch_op.drop_column("evidence")
        batch_op.drop_column("evidence_type")
        batch_op.drop_column("evidence_name")

    with op.batch_alter_table("accreditation_application_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accreditation_application_messages_application_id"))

    op.drop_table("accreditation_application_messages")
    with op.batch_alter_table("accreditation_application_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accreditation_application_files_application_id"))

    op.drop_table("accreditation_application_files")
    with op.batch_alter_table("accreditation_applications", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_accreditation_applications_open",
            sqlite_where=sa.text("status IN ('supervisor', 'new', 'more')"),
            postgresql_where=sa.text("status IN ('supervisor', 'new', 'more')"),
        )
        batch_op.drop_index("ix_accreditation_applications_status_id")
        batch_op.drop_index(batch_op.f("ix_accreditation_applications_member_id"))

    op.drop_table("accreditation_applications")
    op.drop_table("accreditation_reminders")
