"""Accreditation: the levels and their standards.

Revision ID: accreditation_0001
Revises: search_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "accreditation_0001"
down_revision = "search_0001"
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


def downgrade() -> None:
    with op.batch_alter_table("accreditation_standards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accreditation_standards_course_id"))
    op.drop_table("accreditation_standards")
