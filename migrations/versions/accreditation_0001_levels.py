"""Accreditation: the levels and their standards, the levels members hold, members' CPD logs.

Revision ID: accreditation_0001
Revises: renewals_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "accreditation_0001"
down_revision = "renewals_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accreditation_standards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("supervised_cases", sa.Integer(), nullable=False),
        sa.Column("supervision_hours", sa.Integer(), nullable=False),
        sa.Column("sign_off_required", sa.Boolean(), nullable=False),
        sa.Column("cpd_hours", sa.Integer(), nullable=False),
        sa.Column("duration_months", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["training_courses.id"],
            name=op.f("fk_accreditation_standards_course_id_training_courses"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accreditation_standards")),
        sa.UniqueConstraint("slug", name=op.f("uq_accreditation_standards_slug")),
    )
    with op.batch_alter_table("accreditation_standards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accreditation_standards_course_id"), ["course_id"], unique=False)
    op.create_table(
        "accreditation_holdings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("level_id", sa.Integer(), nullable=False),
        sa.Column("from_on", sa.Date(), nullable=False),
        sa.Column("until_on", sa.Date(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["level_id"],
            ["accreditation_standards.id"],
            name=op.f("fk_accreditation_holdings_level_id_accreditation_standards"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_accreditation_holdings_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accreditation_holdings")),
    )
    with op.batch_alter_table("accreditation_holdings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accreditation_holdings_level_id"), ["level_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_accreditation_holdings_member_id"), ["member_id"], unique=False)
    op.create_table(
        "cpd_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("activity", sa.String(length=300), nullable=False),
        sa.Column("hours", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("reflection", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_cpd_entries_event_id_events"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_cpd_entries_member_id_members"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cpd_entries")),
        sa.UniqueConstraint("member_id", "event_id", name="uq_cpd_entries_member_id_event_id"),
    )
    with op.batch_alter_table("cpd_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cpd_entries_member_id"), ["member_id"], unique=False)
    op.create_table(
        "cpd_audits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("pool", sa.Text(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("drawn_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("drawn_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cpd_audits")),
    )
    op.create_table(
        "cpd_audit_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("decided_at", portal.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["audit_id"],
            ["cpd_audits.id"],
            name=op.f("fk_cpd_audit_members_audit_id_cpd_audits"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_cpd_audit_members_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cpd_audit_members")),
        sa.UniqueConstraint("audit_id", "member_id", name="uq_cpd_audit_members_audit_id_member_id"),
    )
    with op.batch_alter_table("cpd_audit_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cpd_audit_members_audit_id"), ["audit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cpd_audit_members_member_id"), ["member_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cpd_audit_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cpd_audit_members_member_id"))
        batch_op.drop_index(batch_op.f("ix_cpd_audit_members_audit_id"))
    op.drop_table("cpd_audit_members")
    op.drop_table("cpd_audits")
    with op.batch_alter_table("cpd_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cpd_entries_member_id"))
    op.drop_table("cpd_entries")
    with op.batch_alter_table("accreditation_holdings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accreditation_holdings_member_id"))
        batch_op.drop_index(batch_op.f("ix_accreditation_holdings_level_id"))
    op.drop_table("accreditation_holdings")
    with op.batch_alter_table("accreditation_standards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accreditation_standards_course_id"))
    op.drop_table("accreditation_standards")
