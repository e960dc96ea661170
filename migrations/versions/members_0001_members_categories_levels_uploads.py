"""members: categories and accreditation levels (seeded), roll uploads awaiting apply

Revision ID: members_0001
Revises: 0002
Create Date: 2026-11-25 23:32:06.435960
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "members_0001"
down_revision = "0002"
branch_labels = None
depends_on = None

CATEGORIES = [
    ("trainee", "Trainee"),
    ("basic", "Basic"),
    ("member_plus", "Member plus"),
    ("organisation", "Organisation"),
    ("honorary", "Honorary"),
]
LEVELS = [
    ("none", "None"),
    ("accredited_practitioner", "Accredited practitioner"),
    ("supervisor", "Supervisor"),
    ("trainer", "Trainer"),
]


def upgrade() -> None:
    levels = op.create_table(
        "accreditation_levels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accreditation_levels")),
        sa.UniqueConstraint("code", name=op.f("uq_accreditation_levels_code")),
    )
    categories = op.create_table(
        "member_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_categories")),
        sa.UniqueConstraint("code", name=op.f("uq_member_categories_code")),
    )
    op.create_table(
        "member_roll_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_roll_uploads")),
        sa.UniqueConstraint("sha256", name=op.f("uq_member_roll_uploads_sha256")),
    )
    with op.batch_alter_table("member_roll_uploads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_roll_uploads_uploaded_at"), ["uploaded_at"], unique=False)

    op.bulk_insert(
        categories,
        [{"code": c, "label": label, "position": i} for i, (c, label) in enumerate(CATEGORIES, start=1)],
    )
    op.bulk_insert(
        levels, [{"code": c, "label": label, "position": i} for i, (c, label) in enumerate(LEVELS, start=1)]
    )


def downgrade() -> None:
    with op.batch_alter_table("member_roll_uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_roll_uploads_uploaded_at"))
    op.drop_table("member_roll_uploads")
    op.drop_table("member_categories")
    op.drop_table("accreditation_levels")
